#!/usr/bin/env node
// face-detection-webgpu's f16 and f32 paths against LiteRT.js, layer by
// layer, under Node on an adapter that has shader-f16: Dawn for Node (npm
// `webgpu`) on Mesa lavapipe 25, as tests/shaders/fetch-f16.sh installs
// them (headless Chromium's SwiftShader has no shader-f16; run.mjs covers
// the browser and the f32 fallback there).
//
//   node run-node.mjs --package PKG.tgz|DIR --ref REFDIR --out OUTDIR --m2w-check PROG
//                     --webgpu DIR [--bench N] NAME...
//
// DIR holds node_modules/webgpu; VK_ICD_FILENAMES (and LD_LIBRARY_PATH)
// select lavapipe.  The built package is imported as it ships (dist/index.js),
// its weights served over a local HTTP server (the runtime fetches them), and
// loadModel() is given Dawn's GPU object (LoadOptions.gpu).  For precision
// 'f32' and then 'f16' (info.f16 must say which ran): per image NAME, the
// RGBA pixels of REFDIR/NAME/rgba.npy go to detect() as {data, width,
// height}, every activation is written to OUTDIR/<precision>/NAME/ and
// compare.mjs checks them and the faces against the references, f32 at the
// issue's tolerances (F32_TOL), f16 at F16_TOL (compare.mjs says why).
// Then a table of the max abs error per stage, f32 beside f16, and with
// --bench N the median ms per detect() (no capture) of each precision on the
// first image (not asserted: lavapipe runs on the CPU).
// Exits 0 when everything passes, 1 otherwise, 77 (skip) when Dawn, lavapipe
// or shader-f16 is missing.
import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import {pathToFileURL} from 'node:url';
import {F16_TOL, F32_TOL, compareImage} from './compare.mjs';
import {readNpy, writeNpy} from './npy.mjs';

const o = {names: [], bench: 0};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--package') o.pkg = argv[++i];
  else if (a === '--ref') o.ref = argv[++i];
  else if (a === '--out') o.out = argv[++i];
  else if (a === '--m2w-check') o.check = argv[++i];
  else if (a === '--webgpu') o.webgpu = argv[++i];
  else if (a === '--bench') o.bench = Number(argv[++i]);
  else o.names.push(a);
}
if (!o.pkg || !o.ref || !o.out || !o.check || !o.webgpu || !o.names.length) {
  console.error('usage: node run-node.mjs --package PKG.tgz|DIR --ref REFDIR --out OUTDIR --m2w-check PROG --webgpu DIR [--bench N] NAME...');
  process.exit(2);
}
const dawn = path.join(o.webgpu, 'node_modules/webgpu/index.js');
const icd = process.env.VK_ICD_FILENAMES || '';
if (!fs.existsSync(dawn)) { console.log(`SKIP: ${dawn} is missing: run tests/shaders/fetch-f16.sh`); process.exit(77); }
if (!icd || !fs.existsSync(icd)) { console.log(`SKIP: VK_ICD_FILENAMES (lavapipe) '${icd}' is unset or missing: run tests/shaders/fetch-f16.sh`); process.exit(77); }

const {create, globals} = await import(pathToFileURL(dawn).href);
Object.assign(globalThis, globals); // GPUBufferUsage, GPUMapMode, ...
// Held for the whole run: once collected, Dawn tears the adapter down.
const gpu = create([]);
globalThis.m2wGpu = gpu;
const adapter = await gpu.requestAdapter();
if (!adapter || !adapter.features.has('shader-f16')) {
  console.log('SKIP: the adapter has no shader-f16 (is VK_ICD_FILENAMES lavapipe 25?)');
  process.exit(77);
}

fs.mkdirSync(o.out, {recursive: true});
let root = path.resolve(o.pkg);
if (fs.statSync(root).isFile()) {
  const dir = path.join(o.out, 'unpacked');
  fs.rmSync(dir, {recursive: true, force: true});
  fs.mkdirSync(dir, {recursive: true});
  execFileSync('tar', ['xzf', root, '-C', dir]);
  root = path.join(dir, 'package');
}
const server = http.createServer((q, s) => {
  const p = decodeURIComponent(new URL(q.url, 'http://x').pathname);
  const file = path.join(root, p);
  if (p.includes('..') || !fs.existsSync(file) || !fs.statSync(file).isFile()) { s.writeHead(404); s.end(); return; }
  s.writeHead(200, {'content-type': 'application/octet-stream', 'content-length': fs.statSync(file).size});
  fs.createReadStream(file).pipe(s);
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const weightsUrl = `http://127.0.0.1:${server.address().port}/weights/`;
const {loadModel} = await import(pathToFileURL(path.join(root, 'dist/index.js')).href);

const images = o.names.map((name) => {
  const img = readNpy(fs.readFileSync(path.join(o.ref, name, 'rgba.npy')));
  const [height, width] = img.shape;
  return {name, pixels: {data: img.data, width, height}};
});

let ok = true;
const results = {};
const tols = {f32: F32_TOL, f16: F16_TOL};
for (const precision of ['f32', 'f16']) {
  const model = await loadModel(weightsUrl, {gpu, precision, debugCapture: true});
  const info = model.info;
  const want = precision === 'f16';
  console.log(`precision ${precision}: adapter ${info.adapter}; f16 ${info.f16}${info.f16Reason ? ` (${info.f16Reason})` : ''}; ` +
    `${info.dispatches} dispatches; ${info.tensors} weight tensors, ${info.weightBytes} bytes`);
  if (info.f16 !== want) { ok = false; console.log(`FAIL: precision ${precision} ran with info.f16 ${info.f16}`); }
  results[precision] = [];
  for (const {name, pixels} of images) {
    const act = path.join(o.out, precision, name);
    fs.rmSync(act, {recursive: true, force: true});
    fs.mkdirSync(act, {recursive: true});
    const faces = await model.detect(pixels);
    const acts = await model.activations();
    for (const [n, a] of acts) fs.writeFileSync(path.join(act, n + '.npy'), writeNpy(a.data, a.shape));
    fs.writeFileSync(path.join(act, 'manifest.json'), JSON.stringify({checkpoints: [...acts.keys()]}));
    fs.writeFileSync(path.join(act, 'faces.json'), JSON.stringify({width: pixels.width, height: pixels.height, faces}, null, 1));
    const r = compareImage({name, ref: o.ref, act, check: o.check, ...tols[precision], label: `${precision} ${name}`});
    if (!r.ok) ok = false;
    results[precision].push(r);
  }
  model.destroy();
}

// max abs error per stage over the images, f32 beside f16
console.log(`\n${'stage'.padEnd(11)} ${'checkpoints'.padEnd(12)} ${'f32 max abs'.padEnd(12)} f16 max abs`);
const stageNames = [...results.f32[0].stages.keys()];
for (const s of [...stageNames, 'faces (of the square)', 'scores']) {
  const row = {};
  let n = 0, passed = {f32: 0, f16: 0};
  for (const p of ['f32', 'f16']) {
    row[p] = 0;
    for (const r of results[p]) {
      if (s === 'faces (of the square)') row[p] = Math.max(row[p], r.faces.worst || 0);
      else if (s === 'scores') row[p] = Math.max(row[p], r.faces.worstScore || 0);
      else {
        const t = r.stages.get(s);
        row[p] = Math.max(row[p], t.max);
        if (p === 'f32') n += t.n;
        passed[p] += t.pass;
      }
    }
  }
  const cp = n ? `${passed.f32}|${passed.f16}/${n}` : '';
  console.log(`${s.padEnd(11)} ${cp.padEnd(12)} ${row.f32.toExponential(2).padEnd(12)} ${row.f16.toExponential(2)}`);
}

if (o.bench > 0) {
  const {pixels, name} = images[0];
  for (const precision of ['f32', 'f16']) {
    const model = await loadModel(weightsUrl, {gpu, precision});
    for (let i = 0; i < 3; i++) await model.detect(pixels);
    const ms = [];
    for (let i = 0; i < o.bench; i++) {
      const t = performance.now();
      await model.detect(pixels);
      ms.push(performance.now() - t);
    }
    ms.sort((a, b) => a - b);
    console.log(`bench ${precision} (f16 ${model.info.f16}) ${name}: median ${ms[ms.length >> 1].toFixed(2)} ms, ` +
      `min ${ms[0].toFixed(2)} ms over ${o.bench} detect() calls`);
    model.destroy();
  }
}
server.close();
console.log(ok ? 'all checks passed' : 'FAILED');
process.exit(ok ? 0 : 1);
