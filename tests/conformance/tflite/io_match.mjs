// Conformance: m2w-inspect --json's inputs/outputs of TFLite models against
// LiteRT.js's getInputDetails/getOutputDetails (names, shapes, dtypes).
//
//   node io_match.mjs M2W_INSPECT MODEL_OR_DIR...
//
// A directory stands for its *.tflite files.  LiteRT names a tensor by its
// signature alias when the model has a SignatureDef, else by tensor name;
// m2w reports the tensor name as "name" and the alias as "alias", so the
// LiteRT name must equal alias ?? name.  LiteRT reports the static shape;
// m2w reports shape_signature, where a dynamic dim is "?" and matches any
// size.  Prints each mismatch and "N/N match"; exits 1 on any mismatch.
import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {compile, LITERT_DTYPE} from './litert_node.mjs';

const [inspect, ...args] = process.argv.slice(2);
if (!inspect || !args.length) {
  console.error('usage: node io_match.mjs M2W_INSPECT MODEL_OR_DIR...');
  process.exit(2);
}
const models = [];
for (const a of args) {
  if (fs.statSync(a).isDirectory())
    models.push(...fs.readdirSync(a).filter((f) => f.endsWith('.tflite')).sort().map((f) => path.join(a, f)));
  else models.push(a);
}

function compareSide(side, ours, theirs, out) {
  if (ours.length !== theirs.length) {
    out.push(`${side}: m2w lists ${ours.length}, LiteRT ${theirs.length}`);
    return;
  }
  const aliased = ours.some((o) => o.alias !== undefined);
  theirs.forEach((d, i) => {
    const j = ours.findIndex((o) => (o.alias ?? o.name) === d.name);
    if (j < 0) {
      out.push(`${side} ${i}: LiteRT name '${d.name}' not in m2w's [${ours.map((o) => o.alias ?? o.name).join(', ')}]`);
      return;
    }
    // without a signature LiteRT keeps the subgraph's order; a signature may reorder
    if (!aliased && j !== i) out.push(`${side} '${d.name}': m2w position ${j}, LiteRT ${i}`);
    const o = ours[j];
    const dt = LITERT_DTYPE[d.dtype] ?? d.dtype;
    if (o.dtype !== dt) out.push(`${side} '${d.name}': dtype m2w ${o.dtype}, LiteRT ${dt}`);
    const shape = Array.from(d.shape);
    const ok = o.shape.length === shape.length &&
      o.shape.every((x, k) => (x === '?' ? shape[k] >= -1 : x === shape[k]));
    if (!ok) out.push(`${side} '${d.name}': shape m2w [${o.shape}], LiteRT [${shape}]`);
  });
}

let matched = 0;
for (const file of models) {
  const problems = [];
  try {
    const j = JSON.parse(execFileSync(inspect, ['--json', file], {encoding: 'utf8', maxBuffer: 1 << 28}));
    if (j.format !== 'tflite') problems.push(`format '${j.format}'`);
    const m = await compile(file);
    compareSide('input', j.inputs, m.getInputDetails(), problems);
    compareSide('output', j.outputs, m.getOutputDetails(), problems);
    m.delete();
  } catch (e) {
    problems.push(`error: ${e.message.split('\n')[0]}`);
  }
  if (problems.length) {
    console.log(`MISMATCH ${file}`);
    for (const p of problems) console.log(`  ${p}`);
  } else {
    matched++;
    console.log(`ok ${path.basename(file)}`);
  }
}
console.log(`${matched}/${models.length} match`);
console.log(`${matched} passed, ${models.length - matched} failed`);
process.exit(matched === models.length && models.length ? 0 : 1);
