// Conformance: `m2w-inspect --expose-intermediates` on TFLite models, judged
// by LiteRT.js and by a flatbuffer reader independent of m2w's.
//
//   node expose_check.mjs M2W_INSPECT OUTDIR MODEL_OR_DIR...
//
// (a directory stands for its *.tflite files)
// For each model:
//  1. the rewritten file's subgraph 0 outputs are the original outputs
//     followed by every operator output in execution order, once each
//     (the expectation is computed here from the original file), and the
//     rest of the model (tensors, operators, inputs, buffers) is unchanged;
//  2. LiteRT.js loads it and returns exactly that many outputs, named after
//     the tensors (or their signature aliases), with the tensors' dtypes;
//  3. run on the same seeded random input, the original outputs are equal
//     to the original model's, every output has its shape's element count, and ops whose result is known from their input
//     (RESHAPE: same values; RELU: max(x, 0); RELU6; LOGISTIC) agree, which
//     proves each returned buffer belongs to the tensor its name says.
// A generated model whose constants are stored after the flatbuffer
// (tflite_fixture.mjs) is always checked first, with its exact results:
// the rewrite shifts those bytes and must patch their absolute offsets.
// Models whose intermediates include dtypes LiteRT.js can't return
// (only f32, i32, u8 are supported) are checked by 1 only, and say so.
import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {compile, liteRtErrors, loadLiteRt, readTflite, rng, LITERT_DTYPE} from './litert_node.mjs';
import {externalFixture} from './tflite_fixture.mjs';

const [inspect, outdir, ...args] = process.argv.slice(2);
if (!inspect || !outdir || !args.length) {
  console.error('usage: node expose_check.mjs M2W_INSPECT OUTDIR MODEL_OR_DIR...');
  process.exit(2);
}
const models = [];
for (const a of args) {
  if (fs.statSync(a).isDirectory())
    models.push(...fs.readdirSync(a).filter((f) => f.endsWith('.tflite')).sort().map((f) => path.join(a, f)));
  else models.push(a);
}
fs.mkdirSync(outdir, {recursive: true});
const fixture = externalFixture();
const fixtureFile = path.join(outdir, 'external_buffers.tflite');
fs.writeFileSync(fixtureFile, fixture.bytes);
models.unshift(fixtureFile);
const SUPPORTED = new Set(Object.values(LITERT_DTYPE));

function expectedAdded(sg) {
  const seen = new Set(sg.outputs), added = [];
  for (const op of sg.operators)
    for (const t of op.outputs)
      if (t >= 0 && !seen.has(t)) {
        seen.add(t);
        added.push(t);
      }
  return added;
}

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

function structural(orig, exp, problems) {
  const a = orig.subgraphs[0], b = exp.subgraphs[0];
  const want = [...a.outputs, ...expectedAdded(a)];
  if (!same(b.outputs, want))
    problems.push(`subgraph 0 outputs: got ${b.outputs.length} [${b.outputs.slice(0, 8)}...], want ${want.length} [${want.slice(0, 8)}...]`);
  if (!same(a.tensors, b.tensors)) problems.push('tensors changed');
  if (!same(a.operators, b.operators)) problems.push('operators changed');
  if (!same(a.inputs, b.inputs)) problems.push('inputs changed');
  if (orig.version !== exp.version || orig.buffers !== exp.buffers) problems.push('version or buffers changed');
  if (!same(orig.subgraphs.slice(1), exp.subgraphs.slice(1))) problems.push('other subgraphs changed');
  if (!same(orig.opcodes, exp.opcodes)) problems.push('operator codes changed');
  if (orig.signatures.length !== exp.signatures.length) problems.push('signature count changed');
  return want;
}

// LiteRT's name for each subgraph-0 output tensor of the rewritten model.
function outputNames(model) {
  const sg = model.subgraphs[0];
  const sig = model.signatures.find((s) => s.subgraph === 0);
  if (!sig) return new Map(sg.outputs.map((t) => [sg.tensors[t].name, t]));
  return new Map(sig.outputs.map((tm) => [tm.name, tm.tensor]));
}

function makeInputs(lt, details, seed, arrays = []) {
  const r = rng(seed);
  return details.map((d) => {
    const shape = Array.from(d.shape).map((x) => (x < 0 ? 1 : x));
    const n = shape.reduce((p, x) => p * x, 1);
    const a = d.dtype === 'float32' ? Float32Array.from({length: n}, () => r() * 2 - 1)
      : d.dtype === 'int32' ? Int32Array.from({length: n}, () => Math.floor(r() * 8))
        : Uint8Array.from({length: n}, () => Math.floor(r() * 256));
    arrays.push(a);
    return new lt.Tensor(a, shape);
  });
}

async function runAll(model, inputs) {
  const outs = await model.run(inputs);
  const details = model.getOutputDetails();
  const res = new Map();
  outs.forEach((t, i) => {
    res.set(details[i].name, {data: t.toTypedArray().slice(), shape: Array.from(details[i].shape)});
    t.delete();
  });
  return res;
}

function maxDiff(a, b) {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

// by builtin code (schema.fbs): RESHAPE, SQUEEZE, EXPAND_DIMS, RELU, RELU6, LOGISTIC
const UNARY = {
  22: (x) => x, 43: (x) => x, 70: (x) => x,
  19: (x) => Math.max(x, 0), 21: (x) => Math.min(Math.max(x, 0), 6),
  14: (x) => 1 / (1 + Math.exp(-x)),
};
const UNARY_NAME = {22: 'RESHAPE', 43: 'SQUEEZE', 70: 'EXPAND_DIMS', 19: 'RELU', 21: 'RELU6', 14: 'LOGISTIC'};

async function check(file) {
  const problems = [];
  const base = path.basename(file, '.tflite');
  const outFile = path.join(outdir, `${base}.all.tflite`);
  fs.rmSync(outFile, {force: true});
  execFileSync(inspect, ['--expose-intermediates', outFile, file], {stdio: ['ignore', 'ignore', 'inherit']});
  const orig = readTflite(fs.readFileSync(file));
  const exp = readTflite(fs.readFileSync(outFile));
  const want = structural(orig, exp, problems);
  const sg = exp.subgraphs[0];
  const names = outputNames(exp);
  const unsupported = want.filter((t) => !SUPPORTED.has(sg.tensors[t].type));
  if (unsupported.length) {
    const types = [...new Set(unsupported.map((t) => sg.tensors[t].type))].join(', ');
    console.log(`  ${base}: ${unsupported.length} outputs of type ${types}, which LiteRT.js can't return: runtime checks skipped`);
    return {problems, outputs: want.length, returned: null, identities: 0};
  }

  const lt = await loadLiteRt();
  const m0 = await compile(file), m1 = await compile(outFile);
  const details = m1.getOutputDetails();
  if (details.length !== want.length) problems.push(`LiteRT returns ${details.length} outputs, want ${want.length}`);
  for (const d of details) {
    const t = names.get(d.name);
    if (t === undefined) {
      problems.push(`LiteRT output '${d.name}' is no tensor of the rewritten model`);
      continue;
    }
    if (LITERT_DTYPE[d.dtype] !== sg.tensors[t].type)
      problems.push(`'${d.name}': LiteRT dtype ${d.dtype}, tensor ${sg.tensors[t].type}`);
  }
  const inputs0 = makeInputs(lt, m0.getInputDetails(), 1234);
  const arrays = [];
  const inputs1 = makeInputs(lt, m1.getInputDetails(), 1234, arrays);
  liteRtErrors.length = 0;
  const r0 = await runAll(m0, inputs0);
  if (liteRtErrors.length) {
    console.log(`  ${base}: LiteRT.js can't run the original model at [${Array.from(m0.getInputDetails()[0].shape)}] (${liteRtErrors.at(-1)}): runtime checks skipped`);
    for (const t of [...inputs0, ...inputs1]) t.delete();
    m0.delete();
    m1.delete();
    return {problems, outputs: want.length, returned: null, identities: 0};
  }
  const r1 = await runAll(m1, inputs1);
  for (const t of [...inputs0, ...inputs1]) t.delete();
  for (const [name, v] of r0) {
    const w = r1.get(name);
    const diff = w ? maxDiff(v.data, w.data) : Infinity;
    if (!(diff <= 1e-5)) problems.push(`original output '${name}' differs by ${diff}`);
  }
  let returned = 0;
  for (const [name, v] of r1) {
    const n = v.shape.reduce((p, x) => p * x, 1);
    if (v.data.length !== n) problems.push(`'${name}': ${v.data.length} values for shape [${v.shape}]`);
    else returned++;
  }
  if (file === fixtureFile) {
    const x = arrays[0], {c1, c2} = fixture;
    const y1 = Array.from(x, (v, i) => Math.fround(v + c1[i]));
    const y2 = y1.map((v, i) => Math.fround(v * c2[i]));
    for (const [name, want] of [['y1', y1], ['y2', y2]]) {
      const got = r1.get(name);
      if (!got || maxDiff(got.data, want) > 1e-6) problems.push(`fixture ${name}: got [${got?.data}], want [${want}]`);
    }
  }
  // per-op identities: the named buffer must hold that op's result
  const byTensor = new Map([...names].map(([n, t]) => [t, r1.get(n)]));
  let identities = 0;
  for (const op of sg.operators) {
    const f = UNARY[op.opcode];
    if (!f || op.outputs.length !== 1) continue;
    const x = byTensor.get(op.inputs[0]), y = byTensor.get(op.outputs[0]);
    if (!x || !y || x.data.length !== y.data.length) continue;
    let bad = 0;
    for (let i = 0; i < x.data.length; i++) {
      const want = f(x.data[i]);
      if (!(Math.abs(want - y.data[i]) <= 1e-5 * Math.max(1, Math.abs(want))) && !(Number.isNaN(want) && Number.isNaN(y.data[i]))) bad++;
    }
    if (bad) problems.push(`${UNARY_NAME[op.opcode]} ${sg.tensors[op.outputs[0]].name}: ${bad} values disagree with its input`);
    identities++;
  }
  m0.delete();
  m1.delete();
  console.log(`  ${base}: ${returned}/${want.length} outputs returned, ${identities} op identities checked`);
  return {problems, outputs: want.length, returned, identities};
}

let passed = 0, identities = 0;
for (const file of models) {
  let res;
  try {
    res = await check(file);
  } catch (e) {
    res = {problems: [`error: ${e.message.split('\n')[0]}`]};
  }
  if (res.problems.length) {
    console.log(`FAIL ${file}`);
    for (const p of res.problems) console.log(`  ${p}`);
  } else {
    passed++;
  }
  identities += res.identities ?? 0;
}
// the identities are what tie names to buffers: a run that checked none proves little
if (passed === models.length && !identities) {
  console.log('FAIL: no op identity was checked in any model');
  passed--;
}
console.log(`${passed} passed, ${models.length - passed} failed`);
process.exit(passed === models.length ? 0 : 1);
