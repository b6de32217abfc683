#!/usr/bin/env node
// Benchmark (not a timed test): ms per detect() of face-detection-webgpu
// against LiteRT.js (@litertjs/core, model run only, + a read of the
// outputs) with its wasm (XNNPack) and WebGPU accelerators, same headless
// Chromium, same photo.  Prints median and p99 over --runs runs after
// warm-up, the ratios, and the package's bundle size (minified, gzip -9)
// against the LiteRT.js runtime the page fetched (JS + wasm, gzip -9; model
// weights excluded on both sides).  Each figure is also printed as a
// `RESULT {json}` line for tests/bench/record.py (median/min/max, ratio
// peer / ours; the ms lines carry "plot" for tests/bench/plot.mjs).
//
//   node bench.mjs --package DIR|PKG.tgz --model MODEL.tflite --image RGBA.npy [--runs N]
//
// bench.sh wraps it for Meson (tests/bench/face-detection/meson.build):
//   meson test -C BUILD --benchmark -v face-detection-vs-litert
import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import {createRequire} from 'node:module';
import {fileURLToPath} from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const o = {runs: 50};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--package') o.pkg = argv[++i];
  else if (argv[i] === '--model') o.model = argv[++i];
  else if (argv[i] === '--image') o.image = argv[++i];
  else if (argv[i] === '--runs') o.runs = Number(argv[++i]);
}
if (!o.pkg || !o.model || !o.image) {
  console.error('usage: node bench.mjs --package DIR|PKG.tgz --model MODEL.tflite --image RGBA.npy [--runs N]');
  process.exit(2);
}
const nm = process.env.NODE_PATH || path.join(here, '..', '..', 'node', 'node_modules');
const {chromium} = createRequire(path.join(nm, 'x.js'))('playwright-core');
let root = path.resolve(o.pkg);
if (fs.statSync(root).isFile()) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'm2w-face-bench-'));
  execFileSync('tar', ['xzf', root, '-C', dir]);
  root = path.join(dir, 'package');
}
const js = fs.readFileSync(path.join(root, 'dist', 'index.js'));
console.log(`bundle: dist/index.js ${js.length} bytes minified, ${zlib.gzipSync(js, {level: 9}).length} bytes gzip -9 (without weights)`);

const page = `<!doctype html><meta charset="utf-8">
<script type="importmap">{"imports": {"@litertjs/wasm-utils": "/nm/@litertjs/wasm-utils/dist/index.js"}}</script>
<script type="module">
const stats = (t) => { const s = [...t].sort((a, b) => a - b), h = s.length >> 1; return {median: s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2, p99: s[Math.min(s.length - 1, Math.ceil(s.length * 0.99) - 1)], min: s[0], max: s[s.length - 1], n: s.length}; };
window.bench = async (runs) => {
  const out = {};
  const r = await fetch('/image.npy'); const b = new Uint8Array(await r.arrayBuffer());
  const hl = new DataView(b.buffer).getUint16(8, true);
  const shape = /'shape':\\s*\\(([^)]*)\\)/.exec(new TextDecoder().decode(b.subarray(10, 10 + hl)))[1].split(',').map(Number);
  const img = new ImageData(new Uint8ClampedArray(b.subarray(10 + hl)), shape[1], shape[0]);
  const {loadModel} = await import('/pkg/dist/index.js');
  const model = await loadModel('/pkg/weights/');
  out.adapter = model.info.adapter;
  const ai = (await navigator.gpu.requestAdapter())?.info || {};
  const desc = [ai.vendor, ai.architecture, ai.device, ai.description].filter(Boolean).join(' ');
  if (desc.length > String(out.adapter).length) out.adapter = desc;
  for (let i = 0; i < 5; i++) await model.detect(img);
  const t = [];
  for (let i = 0; i < runs; i++) { const t0 = performance.now(); await model.detect(img); t.push(performance.now() - t0); }
  out.ours = stats(t);
  model.destroy();
  const lt = await import('/nm/@litertjs/core/dist/index.js');
  await lt.loadLiteRt('/nm/@litertjs/core/wasm/');
  const bytes = new Uint8Array(await (await fetch('/model.tflite')).arrayBuffer());
  const input = new Float32Array(128 * 128 * 3).fill(0.1);
  for (const acc of ['wasm', 'webgpu']) {
    try {
      const m = await lt.loadAndCompile(bytes, {accelerator: acc});
      const once = async () => {
        const x = new lt.Tensor(input, [1, 128, 128, 3]);
        const xs = acc === 'webgpu' ? await x.moveTo('webgpu') : x;
        const ys = await m.run([xs]);
        for (const y of ys) { const c = acc === 'webgpu' ? await y.moveTo('wasm') : y; c.toTypedArray(); c.delete(); }
        xs.delete();
      };
      for (let i = 0; i < 5; i++) await once();
      const tt = [];
      for (let i = 0; i < runs; i++) { const t0 = performance.now(); await once(); tt.push(performance.now() - t0); }
      out[acc] = stats(tt);
    } catch (e) { out[acc] = {error: String(e && e.message || e)}; }
  }
  return out;
};
window.ready = true;
</script>`;
const served = new Set(); // files each side fetched: its runtime payload
const server = http.createServer((q, s) => {
  const p = decodeURIComponent(new URL(q.url, 'http://x').pathname);
  let file = null;
  if (p === '/page.html') { s.writeHead(200, {'content-type': 'text/html'}); s.end(page); return; }
  if (p === '/image.npy') file = path.resolve(o.image);
  else if (p === '/model.tflite') file = path.resolve(o.model);
  else if (p.startsWith('/pkg/')) file = path.join(root, p.slice(5));
  else if (p.startsWith('/nm/')) file = path.join(path.resolve(nm), p.slice(4));
  if (!file || p.includes('..') || !fs.existsSync(file) || !fs.statSync(file).isFile()) { s.writeHead(404); s.end(); return; }
  const ext = path.extname(file);
  served.add(p);
  s.writeHead(200, {'content-type': ext === '.js' ? 'text/javascript' : ext === '.wasm' ? 'application/wasm' : 'application/octet-stream'});
  fs.createReadStream(file).pipe(s);
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'm2w-face-bench-'));
const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium', headless: true,
  args: ['--enable-unsafe-webgpu', '--no-sandbox', '--headless=new', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
});
try {
  const pg = await ctx.newPage();
  pg.on('pageerror', (e) => console.log(`page error: ${e.message}`));
  await pg.goto(`http://127.0.0.1:${server.address().port}/page.html`);
  await pg.waitForFunction(() => window.ready === true);
  const r = await pg.evaluate((n) => window.bench(n), o.runs);
  console.log(`adapter: ${r.adapter}; ${o.runs} runs each after 5 warm-up`);
  const f = (s) => s.error ? `error: ${s.error}` : `median ${s.median.toFixed(2)} ms, p99 ${s.p99.toFixed(2)} ms`;
  console.log(`face-detection-webgpu detect():        ${f(r.ours)}`);
  for (const acc of ['wasm', 'webgpu']) {
    console.log(`LiteRT.js ${acc.padEnd(6)} run + read outputs: ${f(r[acc])}` +
      (r[acc].median ? `  (ours / LiteRT.js ${acc} = ${(r.ours.median / r[acc].median).toFixed(2)})` : ''));
  }
  const st = (x) => {
    const q = (v) => Number(v.toPrecision(5));
    return {median: q(x.median), min: q(x.min), max: q(x.max), n: x.n};
  };
  for (const acc of ['webgpu', 'wasm']) {
    const peer = `LiteRT.js ${acc === 'webgpu' ? 'WebGPU' : 'wasm (XNNPack)'}`;
    const res = {what: 'face-detection-webgpu detect() (128×128 BlazeFace, astronaut.png)', unit: 'ms',
      m2w: st(r.ours), plot: 'face-detection (BlazeFace)', adapter: r.adapter};
    if (r[acc].median) Object.assign(res, {peer: {name: peer, ...st(r[acc])}, ratio: Number((r[acc].median / r.ours.median).toFixed(3)),
      note: 'peer: model run + output read only (no preprocessing or decode)'});
    else res.note = `${peer} failed: ${r[acc].error}`;
    console.log('RESULT ' + JSON.stringify(res));
  }
  // what each side fetched, weights excluded: the package's files outside
  // weights/ against the LiteRT.js runtime (JS + the wasm it chose)
  const bytes = (prefix, dir) => {
    let raw = 0, gz = 0;
    const names = [];
    for (const p of [...served].filter((x) => x.startsWith(prefix) && !x.startsWith(prefix + 'weights/'))) {
      const b = fs.readFileSync(path.join(dir, p.slice(prefix.length)));
      raw += b.length;
      gz += zlib.gzipSync(b, {level: 9}).length;
      names.push(p.slice(prefix.length));
    }
    return {raw, gz, names};
  };
  const ours = bytes('/pkg/', root), lite = bytes('/nm/', path.resolve(nm));
  console.log(`payload without weights: ours ${ours.raw} bytes (${ours.gz} gzip -9: ${ours.names.join(', ')}); ` +
    `LiteRT.js ${lite.raw} bytes (${lite.gz} gzip -9: ${lite.names.join(', ')})`);
  if (lite.gz) {
    console.log('RESULT ' + JSON.stringify({what: 'face-detection-webgpu payload fetched, gzip -9, weights excluded',
      unit: 'KiB', m2w: {median: Number((ours.gz / 1024).toFixed(1))},
      peer: {name: 'LiteRT.js runtime (JS + wasm)', median: Number((lite.gz / 1024).toFixed(1))},
      ratio: Number((lite.gz / ours.gz).toFixed(1)),
      note: `minified: ours ${ours.raw} B, LiteRT.js ${lite.raw} B`}));
  }
} finally {
  await ctx.close();
  server.close();
  fs.rmSync(profile, {recursive: true, force: true});
}
