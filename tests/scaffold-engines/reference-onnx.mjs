#!/usr/bin/env node
// The ONNX reference generator: onnxruntime-node's intermediate tensors.
//
//   node reference-onnx.mjs --inspect M2W_INSPECT --model MODEL.onnx --cases DIR
//
// `m2w-inspect --expose-intermediates` writes the model with every node
// output of its main graph exposed as an extra graph output (as
// tests/openwakeword/reference.mjs does); onnxruntime-node runs it on each
// DIR/<case>/<input>.npy (input names made safe: [^A-Za-z0-9._-] -> _) and
// writes every float32 tensor to DIR/<case>/ref/<safe name>.npy with
// ref/order.txt (node outputs in graph order, the model's own outputs
// last; run.mjs compares in the engine's CHECKPOINTS order).  Integer tensors are left out (the engines keep
// integers as u32, f32 is what m2w-check compares here).
import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {createRequire} from 'node:module';
import {readNpy, writeNpy} from '../openwakeword/npy.mjs';

const o = {};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--inspect') o.inspect = argv[++i];
  else if (a === '--model') o.model = argv[++i];
  else if (a === '--cases') o.cases = argv[++i];
  else {
    console.error(`reference-onnx.mjs: unexpected argument ${a}`);
    process.exit(2);
  }
}
if (!o.inspect || !o.model || !o.cases) {
  console.error('usage: node reference-onnx.mjs --inspect M2W_INSPECT --model MODEL.onnx --cases DIR');
  process.exit(2);
}
const nm = process.env.NODE_PATH || new URL('../node/node_modules', import.meta.url).pathname;
let ort;
try {
  ort = createRequire(path.join(nm, 'x.js'))('onnxruntime-node');
} catch {
  console.log(`skip: npm onnxruntime-node is not installed in ${nm}`);
  process.exit(77);
}
const safe = (n) => n.replace(/[^A-Za-z0-9._-]/g, '_');

const all = path.join(o.cases, path.basename(o.model, '.onnx') + '.all.onnx');
execFileSync(o.inspect, ['--expose-intermediates', all, o.model], {stdio: ['ignore', 'ignore', 'inherit']});
const session = await ort.InferenceSession.create(all);
// m2w-inspect lists the model's own outputs first, then the other node
// outputs in graph order; the own ones go last here (as reference.mjs does)
const own = (await ort.InferenceSession.create(o.model)).outputNames;
const order = [...session.outputNames.filter((n) => !own.includes(n)), ...own];

const cases = fs.readdirSync(o.cases).filter((c) => fs.statSync(path.join(o.cases, c)).isDirectory() &&
  session.inputNames.every((n) => fs.existsSync(path.join(o.cases, c, safe(n) + '.npy')))).sort();
if (!cases.length) {
  console.error(`reference-onnx.mjs: no case in ${o.cases} has every input (${session.inputNames.join(', ')})`);
  process.exit(1);
}
for (const c of cases) {
  const feeds = {};
  for (const n of session.inputNames) {
    const a = readNpy(fs.readFileSync(path.join(o.cases, c, safe(n) + '.npy')));
    feeds[n] = new ort.Tensor('float32', a.data, a.shape);
  }
  const res = await session.run(feeds);
  const dir = path.join(o.cases, c, 'ref');
  fs.rmSync(dir, {recursive: true, force: true});
  fs.mkdirSync(dir, {recursive: true});
  const written = [];
  for (const n of order) {
    const t = res[n];
    if (!t || t.type !== 'float32' || written.includes(safe(n))) continue;
    fs.writeFileSync(path.join(dir, safe(n) + '.npy'), writeNpy(t.data, t.dims.length ? t.dims : [1]));
    written.push(safe(n));
  }
  fs.writeFileSync(path.join(dir, 'order.txt'), written.join('\n') + '\n');
}
console.log(`reference-onnx.mjs: ${cases.length} cases, ${order.length} tensors each (onnxruntime-node ${ort.env?.versions?.common ?? ''})`);
