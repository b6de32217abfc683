// One image's activations and faces from the package against the LiteRT.js
// references (reference.mjs), shared by run.mjs (headless Chromium) and
// run-node.mjs (Dawn for Node on lavapipe, f32 and f16).
//
// compareImage() pairs the package's captures with the reference tensors:
// every captured checkpoint must have a reference, every reference tensor
// must be captured unless it is of a kind the package fuses into one
// dispatch (FUSED), and m2w-check compares the captured ones in the
// reference's order at atol/rtol (an element passes when |act − ref| <=
// atol + rtol·|ref|); it is the verdict.  Our own pass over the same files
// gives the per-stage table (checkpoints passed, max abs error) and counts
// NaN/Inf.  The faces must equal REF/NAME/faces.json (LiteRT.js's outputs
// through an independent MediaPipe post-processing): same count, box and
// keypoint coordinates within faceTol of the model's unit square (i.e. of
// max(width, height) pixels), scores within scoreTol.
import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {readNpy} from './npy.mjs';

// The f32 path: the issue's tolerances (atol = rtol = 0.01 per checkpoint,
// 1e-3 of the square and of the score on the faces).
export const F32_TOL = {atol: 0.01, rtol: 0.01, faceTol: 1e-3, scoreTol: 1e-3};
// The f16 path: weights exact in f16 (the .tflite stores f16), activations
// stored as f16 (11 significant bits: each store rounds within 2^-11 ≈
// 4.9e-4 relative), arithmetic in f32.  The network amplifies input error
// about a thousandfold by the heads (the f32 path: ~1e-7 in, 3e-4 out), so
// elementwise f16 errors reach a few 1e-3 of a tensor's range (measured:
// at most 3.9e-3): atol = rtol = 0.05, and atol at least 2^-9 (two f16
// ulps) of the checkpoint's largest |reference value| (rangeAtol): the
// regressors are pixel offsets to ~260 whose f16 spacing there is 0.25,
// and a near-zero offset beside them is off by up to 0.11 (measured; 1e-3
// of the 128-pixel input).  Faces within 2e-3 of the square (a quarter
// pixel of the 128-pixel input) and scores within 5e-3; measured on the
// three photos: 4.8e-5 and 8.5e-5.
export const F16_TOL = {atol: 0.05, rtol: 0.05, rangeAtol: 2 ** -9, faceTol: 2e-3, scoreTol: 5e-3};

export const stageOf = (n) => n === 'input' ? 'preprocess'
  : /^(classificator|regressor|reshape)/.test(n) || n === 'classificators' || n === 'regressors' ? 'heads'
  : n === 'conv2d' || n === 'activation' ? 'stem' : 'blocks';

// Reference tensors a fused dispatch of the package computes without
// storing (src/engine.ts): the stem's conv before its ReLU, each block's
// 1×1 conv, max pool, channel padding and add (block_pw.wgsl stores only
// the block's output, activation_N), and the heads' NCHW convs (head.wgsl
// stores their rows of the outputs, reshape*).
const FUSED = /^(conv2d(_\d+)?|max_pooling2d(_\d+)?|channel_padding(_\d+)?|add(_\d+)?__xeno_compat__1|classificator_(8|16)|regressor_(8|16))$/;

/**
 * Checks image `name`: references in REF/name/ref and REF/name/faces.json,
 * the package's output in ACT (NAME.npy, manifest.json, faces.json).
 * Prints its lines with `label` in front; returns {ok, stages, faces}.
 */
export function compareImage({name, ref, act, check, atol, rtol, rangeAtol = 0, faceTol, scoreTol, label = name}) {
  let ok = true;
  const say = (s) => console.log(`${label.padEnd(14)} ${s}`);
  const refDir = path.join(ref, name, 'ref');
  const refOrder = fs.readFileSync(path.join(refDir, 'order.txt'), 'utf8').split('\n').filter(Boolean);
  const captured = JSON.parse(fs.readFileSync(path.join(act, 'manifest.json'), 'utf8')).checkpoints;
  const unknown = captured.filter((n) => !refOrder.includes(n));
  if (unknown.length) { ok = false; say(`captured checkpoints with no reference: ${unknown.join(' ')}`); }
  const order = refOrder.filter((n) => captured.includes(n));
  const fused = refOrder.filter((n) => !captured.includes(n));
  const unfusable = fused.filter((n) => !FUSED.test(n));
  if (unfusable.length) { ok = false; say(`reference checkpoints not captured: ${unfusable.join(' ')}`); }
  say(`${order.length} of ${refOrder.length} reference tensors captured; fused away (no GPU counterpart): ${fused.length}`);
  fs.writeFileSync(path.join(act, 'order.txt'), order.join('\n') + '\n');
  // per-checkpoint atol (rangeAtol), from the reference only
  const atolOf = new Map();
  for (const n of order) {
    let m = 0;
    if (rangeAtol) for (const v of readNpy(fs.readFileSync(path.join(refDir, n + '.npy'))).data) m = Math.max(m, Math.abs(v));
    atolOf.set(n, Math.max(atol, rangeAtol * m));
  }
  const tolFile = path.join(act, 'tolerances.json');
  const tolJson = {default: {atol, rtol}};
  for (const [n, a] of atolOf) if (a !== atol) tolJson[n] = {atol: a, rtol};
  fs.writeFileSync(tolFile, JSON.stringify(tolJson, null, 1));
  const r = spawnSync(check, ['-t', tolFile, '-O', path.join(act, 'order.txt'),
    '--json', path.join(act, 'report.json'), refDir, act], {encoding: 'utf8'});
  if (r.status !== 0) { ok = false; console.log(r.stdout + r.stderr); }
  const stages = new Map();
  let missing = 0, nonfinite = 0;
  for (const n of order) {
    const f = path.join(act, n + '.npy');
    if (!fs.existsSync(f)) { missing++; continue; }
    const a = readNpy(fs.readFileSync(f)), b = readNpy(fs.readFileSync(path.join(refDir, n + '.npy')));
    let m = 0, pass = a.data.length === b.data.length;
    for (let i = 0; i < a.data.length; i++) {
      if (!Number.isFinite(a.data[i])) nonfinite++;
      const d = Math.abs(a.data[i] - b.data[i]);
      m = Math.max(m, d);
      if (!(d <= atolOf.get(n) + rtol * Math.abs(b.data[i]))) pass = false;
    }
    const t = stages.get(stageOf(n)) || {n: 0, pass: 0, max: 0};
    t.n++; if (pass) t.pass++; t.max = Math.max(t.max, m);
    stages.set(stageOf(n), t);
  }
  if (missing) { ok = false; say(`${missing} reference checkpoints not captured`); }
  if (nonfinite) { ok = false; say(`${nonfinite} NaN/Inf values`); }
  let total = 0, passed = 0;
  for (const [s, t] of stages) {
    say(`${s.padEnd(11)} ${String(t.pass).padStart(3)}/${String(t.n).padEnd(3)} max abs err ${t.max.toExponential(2)}`);
    total += t.n; passed += t.pass;
  }
  const raised = [...atolOf].filter(([, a]) => a !== atol).length;
  say(`${'all'.padEnd(11)} ${String(passed).padStart(3)}/${String(total).padEnd(3)} m2w-check (atol ${atol}, rtol ${rtol}` +
    `${raised ? `; atol ${rangeAtol} of the largest |value| on ${raised} checkpoints` : ''}) ${r.status === 0 ? 'pass' : 'FAIL'}`);
  const want = JSON.parse(fs.readFileSync(path.join(ref, name, 'faces.json'), 'utf8'));
  const got = JSON.parse(fs.readFileSync(path.join(act, 'faces.json'), 'utf8'));
  const side = Math.max(want.width, want.height);
  const faces = {count: got.faces.length, want: want.faces.length, worst: NaN, worstScore: NaN};
  if (got.faces.length !== want.faces.length) {
    say(`faces       ${got.faces.length}, LiteRT.js + MediaPipe post-processing ${want.faces.length} FAIL`);
    return {ok: false, stages, faces};
  }
  let worst = 0, worstScore = 0;
  got.faces.forEach((f, i) => {
    const w = want.faces[i];
    const pairs = [[f.box.x, w.box.x], [f.box.y, w.box.y], [f.box.width, w.box.width], [f.box.height, w.box.height],
      ...f.keypoints.flatMap((p, k) => [[p.x, w.keypoints[k].x], [p.y, w.keypoints[k].y]])];
    for (const [a, b] of pairs) worst = Math.max(worst, Math.abs(a - b) / side);
    worstScore = Math.max(worstScore, Math.abs(f.score - w.score));
  });
  Object.assign(faces, {worst, worstScore});
  const faceOk = worst <= faceTol && worstScore <= scoreTol;
  if (!faceOk) ok = false;
  say(`faces       ${got.faces.length} (LiteRT.js ${want.faces.length}), max coord err ${worst.toExponential(2)} of the square, ${(worst * side).toExponential(2)} px, score err ${worstScore.toExponential(2)} (tolerances ${faceTol}, ${scoreTol}) ${faceOk ? 'pass' : 'FAIL'}`);
  return {ok, stages, faces};
}
