#!/usr/bin/env node
// The TFLite reference generator: LiteRT.js's intermediate tensors.
//
//   node face-detection-reference.mjs --inspect M2W_INSPECT --draft DRAFTDIR --model MODEL.tflite --cases DIR
//
// As tests/face-detection/reference.mjs does: `m2w-inspect
// --expose-intermediates` writes the model with every op output exposed,
// LiteRT.js (@litertjs/core, wasm CPU, under Node) runs it on each
// DIR/<case>/input.npy (the engine's NCHW input, transposed back to the
// model's NHWC), and every op output except DEQUANTIZE's (those are
// weights) is written to DIR/<case>/ref/<safe name>.npy, rank-4 tensors
// NCHW (the layout the scaffolded engine computes in), with ref/order.txt
// in graph order.  A tensor the draft computes inside a fused dispatch
// without storing it (the output of a node that DRAFTDIR/report.json lists
// under "fusions", its outputs read from engine.ts's "// node N: ... ->"
// comments) has no GPU counterpart: it is left out, and named on stdout.
import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {readNpy, writeNpy} from '../face-detection/npy.mjs';

const o = {};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--inspect') o.inspect = argv[++i];
  else if (a === '--draft') o.draft = argv[++i];
  else if (a === '--model') o.model = argv[++i];
  else if (a === '--cases') o.cases = argv[++i];
  else {
    console.error(`face-detection-reference.mjs: unexpected argument ${a}`);
    process.exit(2);
  }
}
if (!o.inspect || !o.draft || !o.model || !o.cases) {
  console.error('usage: node face-detection-reference.mjs --inspect M2W_INSPECT --draft DIR ' +
    '--model MODEL.tflite --cases DIR');
  process.exit(2);
}
let lite;
try {
  lite = await import('../conformance/tflite/litert_node.mjs');
  lite.nodeModules();
} catch (e) {
  console.log(`skip: ${e.message || e}`);
  process.exit(77);
}
const safe = (n) => n.replace(/[^A-Za-z0-9._-]/g, '_');
const perm = (data, shape, p) => { // out[i0..i3] = in[...] with out axis k = in axis p[k]
  const os = p.map((k) => shape[k]), st = [shape[1] * shape[2] * shape[3], shape[2] * shape[3], shape[3], 1];
  const out = new Float32Array(data.length);
  let j = 0;
  for (let a = 0; a < os[0]; a++)
    for (let b = 0; b < os[1]; b++)
      for (let c = 0; c < os[2]; c++)
        for (let d = 0; d < os[3]; d++)
          out[j++] = data[a * st[p[0]] + b * st[p[1]] + c * st[p[2]] + d * st[p[3]]];
  return {data: out, shape: os};
};

// the tensors the draft fuses away
const report = JSON.parse(fs.readFileSync(path.join(o.draft, 'report.json'), 'utf8'));
const engineTs = fs.readFileSync(path.join(o.draft, 'engine.ts'), 'utf8');
const outputsOf = new Map();
for (const m of engineTs.matchAll(/^ {4}\/\/ node (\d+): .* -> (.*)$/gm)) outputsOf.set(Number(m[1]), m[2].split(', '));
const fused = new Set();
for (const f of report.fusions ?? []) for (const n of outputsOf.get(f.node) ?? []) fused.add(n);

const all = path.join(o.cases, path.basename(o.model, '.tflite') + '.all.tflite');
execFileSync(o.inspect, ['--expose-intermediates', all, o.model], {stdio: ['ignore', 'ignore', 'inherit']});
const lt = await lite.loadLiteRt();
const model = await lite.compile(all);
const sg = lite.readTflite(fs.readFileSync(all)).subgraphs[0];
const cases = fs.readdirSync(o.cases).filter((c) => fs.existsSync(path.join(o.cases, c, 'input.npy'))).sort();
if (!cases.length) {
  console.error(`face-detection-reference.mjs: no case in ${o.cases} has an input.npy`);
  process.exit(1);
}
let count = 0;
for (const c of cases) {
  const x = readNpy(fs.readFileSync(path.join(o.cases, c, 'input.npy')));
  const nhwc = perm(x.data, x.shape, [0, 2, 3, 1]);
  const tin = new lt.Tensor(nhwc.data, nhwc.shape);
  const outs = await model.run([tin]);
  tin.delete();
  const details = model.getOutputDetails(), byName = new Map();
  outs.forEach((t, i) => {
    byName.set(details[i].name, {data: t.toTypedArray().slice(), shape: Array.from(details[i].shape)});
    t.delete();
  });
  if (lite.liteRtErrors.length) {
    console.error(`face-detection-reference.mjs: LiteRT: ${lite.liteRtErrors.join('; ')}`);
    process.exit(1);
  }
  const dir = path.join(o.cases, c, 'ref');
  fs.rmSync(dir, {recursive: true, force: true});
  fs.mkdirSync(dir, {recursive: true});
  const order = [];
  for (const op of sg.operators) {
    if (op.opcode === 6) continue; // DEQUANTIZE: a weight
    for (const t of op.outputs) {
      const name = sg.tensors[t].name;
      if (fused.has(name)) continue;
      const v = byName.get(name);
      if (!v) throw new Error(`LiteRT returned no ${name}`);
      const a = v.shape.length === 4 ? perm(v.data, v.shape, [0, 3, 1, 2]) : v;
      fs.writeFileSync(path.join(dir, safe(name) + '.npy'), writeNpy(a.data, a.shape));
      order.push(safe(name));
    }
  }
  fs.writeFileSync(path.join(dir, 'order.txt'), order.join('\n') + '\n');
  count = order.length;
}
console.log(`face-detection-reference.mjs: ${cases.length} cases, ${count} tensors each (LiteRT.js); ` +
  `fused away by the draft, no GPU counterpart: ${[...fused].join(' ') || 'none'}`);
