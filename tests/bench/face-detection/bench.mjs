#!/usr/bin/env node
// Benchmark (not a timed test): ms per detect() of face-detection-webgpu
// against LiteRT.js (@litertjs/core, model run only, + a read of the
// outputs) with its wasm (XNNPack) and WebGPU accelerators, same headless
// Chromium, same photo.  Prints median and p99 over --runs runs after
// warm-up, the ratios, and the package's bundle size (minified, gzip -9).
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
const stats = (t) => { const s = [...t].sort((a, b) => a - b); return {median: s[s.length >> 1], p99: s[Math.min(s.length - 1, Math.ceil(s.length * 0.99) - 1)]}; };
window.bench = async (runs) => {
  const out = {};
  const r = await fetch('/image.npy'); const b = new Uint8Array(await r.arrayBuffer());
  const hl = new DataView(b.buffer).getUint16(8, true);
  const shape = /'shape':\\s*\\(([^)]*)\\)/.exec(new TextDecoder().decode(b.subarray(10, 10 + hl)))[1].split(',').map(Number);
  const img = new ImageData(new Uint8ClampedArray(b.subarray(10 + hl)), shape[1], shape[0]);
  const {loadModel} = await import('/pkg/dist/index.js');
  const model = await loadModel('/pkg/weights/');
  out.adapter = model.info.adapter;
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
} finally {
  await ctx.close();
  server.close();
  fs.rmSync(profile, {recursive: true, force: true});
}
