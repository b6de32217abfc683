#!/usr/bin/env node
// Benchmark (not a timed test): ms per 80 ms audio step of
// openwakeword-webgpu against onnxruntime-web (its WebGPU EP and its wasm
// EP), in one headless Chromium run, same audio, same work per step:
// the melspectrogram on the step's window (1280 samples, then 1280 + 480
// of context), openWakeWord's glue (x / 10 + 2, the 76-frame window), the
// embedding model on 76 frames, the hey_jarvis head on the last 16
// embeddings, and the score read back to JavaScript.  For ours that is one
// model.push() of 1280 samples; for onnxruntime-web three session.run()
// calls with the glue in JavaScript (as tests/openwakeword/reference.mjs
// does with onnxruntime-node).
//
//   node bench.mjs --package DIR|PKG.tgz --models DIR --ort DIR --clip CLIP.npy
//                  [--steps N] [--warmup N]
//
// --models holds melspectrogram.onnx, embedding_model.onnx and
// hey_jarvis_v0.1.onnx; --ort is onnxruntime-web's dist/; CLIP.npy holds
// int16 sample values as float32 (tests/openwakeword/speech.py), cycled
// step by step.  A local node:http server serves everything with
// Cross-Origin-Opener-Policy / Cross-Origin-Embedder-Policy headers, so the
// page is cross-origin isolated and onnxruntime-web's wasm EP may use
// threads (SharedArrayBuffer).  Each configuration gets a fresh page (the
// wasm runtime's thread count is fixed at its first session); each runs
// --warmup steps, then --steps timed ones from the same fresh state.
// Printed: median, p99, real-time factor (median / 80 ms), ours / ORT per
// EP, the largest |score difference| to ours over every step (the same
// work, checked), and the sizes: our dist/index.js (minified, gzip -9)
// against the onnxruntime-web files each configuration actually fetched
// (.mjs + .wasm, gzip -9).
//
// bench.sh wraps it for Meson (tests/bench/openwakeword/meson.build):
//   meson test -C BUILD --benchmark -v openwakeword-vs-ort
import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import {createRequire} from 'node:module';
import {fileURLToPath} from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const o = {steps: 30, warmup: 5};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--package') o.pkg = argv[++i];
  else if (argv[i] === '--models') o.models = argv[++i];
  else if (argv[i] === '--ort') o.ort = argv[++i];
  else if (argv[i] === '--clip') o.clip = argv[++i];
  else if (argv[i] === '--steps') o.steps = Number(argv[++i]);
  else if (argv[i] === '--warmup') o.warmup = Number(argv[++i]);
  else if (argv[i] === '--only') o.only = argv[++i].split(',');
}
if (!o.pkg || !o.models || !o.ort || !o.clip || !(o.steps > 0) || !(o.warmup >= 0)) {
  console.error('usage: node bench.mjs --package DIR|PKG.tgz --models DIR --ort DIR --clip CLIP.npy [--steps N] [--warmup N]');
  process.exit(2);
}
const nm = process.env.NODE_PATH || path.join(here, '..', '..', 'node', 'node_modules');
const {chromium} = createRequire(path.join(nm, 'x.js'))('playwright-core');
let root = path.resolve(o.pkg);
let tmp = null;
if (fs.statSync(root).isFile()) {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'm2w-oww-bench-'));
  execFileSync('tar', ['xzf', root, '-C', tmp]);
  root = path.join(tmp, 'package');
}
const gz = (b) => zlib.gzipSync(b, {level: 9}).length;
const js = fs.readFileSync(path.join(root, 'dist', 'index.js'));
const ours = {bytes: js.length, gzip: gz(js)};

// The configurations, each in a fresh page.  `bundle`: the onnxruntime-web
// entry point (ort.webgpu.min.mjs: the WebGPU EP; ort.wasm.min.mjs: wasm only).
const CONFIGS = [
  {id: 'ours', label: 'openwakeword-webgpu push()'},
  {id: 'ort-webgpu', label: 'onnxruntime-web WebGPU EP', bundle: 'ort.webgpu.min.mjs', ep: 'webgpu', threads: 1},
  {id: 'ort-wasm-1', label: 'onnxruntime-web wasm EP, 1 thread', bundle: 'ort.wasm.min.mjs', ep: 'wasm', threads: 1},
  {id: 'ort-wasm-n', label: 'onnxruntime-web wasm EP, threads', bundle: 'ort.wasm.min.mjs', ep: 'wasm', threads: 0},
].filter((c) => !o.only || o.only.includes(c.id));

const page = `<!doctype html><meta charset="utf-8"><script type="module">
const STEP = 1280, CONTEXT = 480, WINDOW = 76, BINS = 32, FEATURES = 16, EMB = 96;
const stats = (t) => { const s = [...t].sort((a, b) => a - b); return {median: s[s.length >> 1], p99: s[Math.min(s.length - 1, Math.ceil(s.length * 0.99) - 1)], min: s[0], max: s[s.length - 1], n: s.length}; };
async function clip() {
  const buf = await (await fetch('/clip.npy')).arrayBuffer();
  const hl = new DataView(buf).getUint16(8, true);
  const f = new Float32Array(buf.slice(10 + hl));
  return Int16Array.from(f.subarray(0, Math.floor(f.length / STEP) * STEP));
}
// the step k's 1280 samples, cycling through the clip
const chunkOf = (pcm, k) => { const n = pcm.length / STEP; return pcm.subarray((k % n) * STEP, (k % n + 1) * STEP); };

async function ours(pcm, steps, warmup) {
  const {loadModel} = await import('/pkg/dist/index.js');
  const model = await loadModel({url: '/pkg/weights/', warmupSteps: 0});
  const t = [], scores = [];
  for (let k = 0; k < warmup + steps; k++) {
    const t0 = performance.now();
    const s = await model.push(chunkOf(pcm, k));
    const dt = performance.now() - t0;
    if (k >= warmup) t.push(dt);
    scores.push(s[0].hey_jarvis);
  }
  const info = {adapter: model.info.adapter, dispatches: model.info.dispatches};
  model.destroy();
  return {...stats(t), scores, info};
}

async function ort(cfg, pcm, steps, warmup) {
  const ort = await import('/ort/' + cfg.bundle);
  ort.env.wasm.wasmPaths = '/ort/';
  ort.env.wasm.proxy = false;
  ort.env.logLevel = 'error';
  const info = {crossOriginIsolated: self.crossOriginIsolated, hardwareConcurrency: navigator.hardwareConcurrency};
  ort.env.wasm.numThreads = cfg.threads || (self.crossOriginIsolated ? navigator.hardwareConcurrency : 1);
  info.threads = ort.env.wasm.numThreads;
  if (cfg.ep === 'webgpu') {
    const a = navigator.gpu && await navigator.gpu.requestAdapter();
    if (!a) return {error: 'no WebGPU adapter'};
    info.adapter = a.info ? (a.info.description || a.info.device || a.info.vendor) : '?';
  }
  const opts = {executionProviders: [cfg.ep], graphOptimizationLevel: 'all'};
  const load = async (stem) => ort.InferenceSession.create(new Uint8Array(await (await fetch('/models/' + stem + '.onnx')).arrayBuffer()), opts);
  const mel = await load('melspectrogram'), emb = await load('embedding_model'), head = await load('hey_jarvis_v0.1');
  // openWakeWord's glue (tests/openwakeword/reference.mjs): mel buffer of ones, features of zeros
  const win = new Float32Array(WINDOW * BINS).fill(1);
  const feats = new Float32Array(FEATURES * EMB);
  let context = new Float32Array(0);
  const step = async (chunk) => {
    const audio = new Float32Array(context.length + STEP);
    audio.set(context);
    for (let i = 0; i < STEP; i++) audio[context.length + i] = chunk[i];
    context = audio.slice(audio.length - CONTEXT);
    const m = await mel.run({[mel.inputNames[0]]: new ort.Tensor('float32', audio, [1, audio.length])});
    const spec = m[mel.outputNames[0]].data;
    const T = spec.length / BINS;
    win.copyWithin(0, T * BINS);
    for (let i = 0; i < T * BINS; i++) win[(WINDOW - T) * BINS + i] = Math.fround(spec[i] / 10) + 2;
    const e = await emb.run({[emb.inputNames[0]]: new ort.Tensor('float32', win.slice(), [1, WINDOW, BINS, 1])});
    feats.copyWithin(0, EMB);
    feats.set(e[emb.outputNames[0]].data, (FEATURES - 1) * EMB);
    const h = await head.run({[head.inputNames[0]]: new ort.Tensor('float32', feats.slice(), [1, FEATURES, EMB])});
    return h[head.outputNames[0]].data[0];
  };
  const t = [], scores = [];
  for (let k = 0; k < warmup + steps; k++) {
    const t0 = performance.now();
    const s = await step(chunkOf(pcm, k));
    const dt = performance.now() - t0;
    if (k >= warmup) t.push(dt);
    scores.push(s);
  }
  return {...stats(t), scores, info};
}

window.bench = async (cfg, steps, warmup) => {
  try {
    const pcm = await clip();
    return cfg.id === 'ours' ? await ours(pcm, steps, warmup) : await ort(cfg, pcm, steps, warmup);
  } catch (e) {
    return {error: String(e && e.message || e)};
  }
};
window.ready = true;
</script>`;

// bytes of onnxruntime-web served to the current configuration's page
let served = new Map();
const types = {'.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json'};
const server = http.createServer((q, s) => {
  const p = decodeURIComponent(new URL(q.url, 'http://x').pathname);
  const isolation = {'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp',
    'cross-origin-resource-policy': 'same-origin'};
  if (p === '/page.html') { s.writeHead(200, {'content-type': 'text/html', ...isolation}); s.end(page); return; }
  let file = null;
  if (p === '/clip.npy') file = path.resolve(o.clip);
  else if (p.startsWith('/pkg/')) file = path.join(root, p.slice(5));
  else if (p.startsWith('/models/')) file = path.join(path.resolve(o.models), p.slice(8));
  else if (p.startsWith('/ort/')) { file = path.join(path.resolve(o.ort), p.slice(5)); }
  if (!file || p.includes('..') || !fs.existsSync(file) || !fs.statSync(file).isFile()) { s.writeHead(404, isolation); s.end(); return; }
  if (p.startsWith('/ort/')) served.set(path.basename(file), file);
  s.writeHead(200, {'content-type': types[path.extname(file)] || 'application/octet-stream', ...isolation});
  fs.createReadStream(file).pipe(s);
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'm2w-oww-bench-'));
const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium', headless: true,
  args: ['--enable-unsafe-webgpu', '--no-sandbox', '--headless=new', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
});
const results = {};
try {
  for (const cfg of CONFIGS) {
    served = new Map();
    const pg = await ctx.newPage();
    pg.on('pageerror', (e) => console.log(`${cfg.id}: page error: ${e.message}`));
    pg.on('console', (m) => { if (m.type() === 'error') console.log(`${cfg.id}: page: ${m.text()}`); });
    await pg.goto(`http://127.0.0.1:${server.address().port}/page.html`);
    await pg.waitForFunction(() => window.ready === true);
    const t0 = Date.now();
    const r = await pg.evaluate(([c, n, w]) => window.bench(c, n, w), [cfg, o.steps, o.warmup]);
    r.wall = (Date.now() - t0) / 1000;
    r.files = [...served.entries()].map(([name, file]) => {
      const b = fs.readFileSync(file);
      return {name, bytes: b.length, gzip: gz(b)};
    });
    results[cfg.id] = r;
    await pg.close();
    console.log(`${cfg.id}: ${r.error ? `error: ${r.error}` : `done in ${r.wall.toFixed(1)} s`}`);
  }
} finally {
  await ctx.close();
  server.close();
  fs.rmSync(profile, {recursive: true, force: true});
  if (tmp) fs.rmSync(tmp, {recursive: true, force: true});
}

const our = results.ours;
console.log('');
if (our && !our.error) console.log(`adapter: ${our.info.adapter}; ours: ${our.info.dispatches} dispatches per step`);
console.log(`${o.warmup} warm-up steps, then ${o.steps} timed steps of 1280 samples (80 ms) each, from a fresh state; ` +
  `${os.cpus().length} CPU cores, load average ${os.loadavg()[0].toFixed(1)}`);
console.log('');
const pad = (s, n) => String(s).padEnd(n);
const num = (x, d = 1) => x.toFixed(d).padStart(8);
console.log(`${pad('', 62)}  median ms   p99 ms   RTF (median/80)  ours/ORT  max|score − ours|`);
for (const cfg of CONFIGS) {
  const r = results[cfg.id];
  if (!r) continue;
  let label = cfg.label;
  if (r.info?.threads && cfg.ep === 'wasm' && !cfg.threads) label += ` (${r.info.threads}, cross-origin isolated: ${r.info.crossOriginIsolated})`;
  if (r.error) { console.log(`${pad(label, 62)}  error: ${r.error}`); continue; }
  let ratio = '', diff = '';
  if (cfg.id !== 'ours' && our && !our.error) {
    ratio = (our.median / r.median).toFixed(2);
    diff = Math.max(...r.scores.map((s, i) => Math.abs(s - our.scores[i]))).toExponential(1);
  }
  console.log(`${pad(label, 62)}  ${num(r.median)}  ${num(r.p99)}  ${num(r.median / 80, 3)}         ${pad(ratio, 8)}  ${diff}`);
  if (cfg.id !== 'ours' && our && !our.error) // for tests/bench/record.py -> RESULTS.md
    console.log('RESULT ' + JSON.stringify({what: 'ms per 80 ms audio step', unit: 'ms',
      m2w: {median: our.median, min: our.min, max: our.max, n: our.n},
      peer: {name: label, median: r.median, min: r.min, max: r.max, n: r.n},
      ratio: r.median / our.median, plot: 'openWakeWord (hey_jarvis)', adapter: our.info?.adapter}));
}
console.log('');
console.log(`size: openwakeword-webgpu dist/index.js ${ours.bytes} bytes minified, ${ours.gzip} bytes gzip -9 (weights excluded)`);
for (const cfg of CONFIGS) {
  const r = results[cfg.id];
  if (cfg.id === 'ours' || !r || !r.files?.length) continue;
  const tot = r.files.reduce((a, f) => ({bytes: a.bytes + f.bytes, gzip: a.gzip + f.gzip}), {bytes: 0, gzip: 0});
  console.log(`size: ${pad(cfg.label, 40)} ${tot.bytes} bytes, ${tot.gzip} bytes gzip -9 (${r.files.map((f) => `${f.name} ${f.gzip}`).join(', ')}); ` +
    `ORT / ours = ${(tot.gzip / ours.gzip).toFixed(0)}×`);
  console.log('RESULT ' + JSON.stringify({what: 'runtime payload, gzip -9 (weights excluded)', unit: 'KiB',
    m2w: {median: ours.gzip / 1024}, peer: {name: cfg.label, median: tot.gzip / 1024}, ratio: tot.gzip / ours.gzip,
    goal: 'ours < 30 KiB'}));
}
process.exit(our && !our.error ? 0 : 1);
