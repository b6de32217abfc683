#!/usr/bin/env node
// face-detection-webgpu in headless Chromium against LiteRT.js, layer by layer.
//
//   node run.mjs --package PKG.tgz|DIR --ref REFDIR --out OUTDIR --m2w-check PROG NAME...
//
// PKG is the built npm tarball (unpacked to OUTDIR/package) or a package
// directory (dist/, weights/).  REFDIR is reference.mjs's output.  One page
// (playwright-core, /usr/bin/chromium, DESIGN.md's flags, a fresh profile)
// loads dist/index.js with debugCapture and precision 'f16' (SwiftShader
// has no shader-f16, so this is the f32 fallback: info.f16 must be false)
// and, per image NAME, builds an ImageData from REFDIR/NAME/rgba.npy, runs
// detect(), and sends back every activation (.npy) and the faces.  Then,
// per image (compare.mjs):
//   - m2w-check REFDIR/NAME/ref OUTDIR/NAME on the checkpoints the package
//     captured, in ref/order.txt's order (the rest must be of the kinds the
//     package fuses into one dispatch, compare.mjs's FUSED), which
//     fails on any checkpoint beyond atol = rtol = 0.01;
//   - no NaN/Inf in any activation;
//   - the faces equal REFDIR/NAME/faces.json (LiteRT.js's outputs through
//     an independent MediaPipe post-processing): same count, box and
//     keypoint coordinates within 1e-3 of the model's unit square (i.e. of
//     max(width, height) pixels), scores within 1e-3.
// Prints a checkpoint table (per stage: checkpoints passed, max abs error)
// and exits 0 when everything passes, 1 otherwise.
import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import {createRequire} from 'node:module';
import {fileURLToPath} from 'node:url';
import {F16_TOL, F32_TOL, compareImage} from './compare.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const o = {names: []};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--package') o.pkg = argv[++i];
  else if (a === '--ref') o.ref = argv[++i];
  else if (a === '--out') o.out = argv[++i];
  else if (a === '--m2w-check') o.check = argv[++i];
  else o.names.push(a);
}
if (!o.pkg || !o.ref || !o.out || !o.check || !o.names.length) {
  console.error('usage: node run.mjs --package PKG.tgz|DIR --ref REFDIR --out OUTDIR --m2w-check PROG NAME...');
  process.exit(2);
}
const nm = process.env.NODE_PATH || path.join(here, '..', 'node', 'node_modules');
const {chromium} = createRequire(path.join(nm, 'x.js'))('playwright-core');

fs.mkdirSync(o.out, {recursive: true});
let root = path.resolve(o.pkg);
if (fs.statSync(root).isFile()) {
  const dir = path.join(o.out, 'unpacked');
  fs.rmSync(dir, {recursive: true, force: true});
  fs.mkdirSync(dir, {recursive: true});
  execFileSync('tar', ['xzf', root, '-C', dir]);
  root = path.join(dir, 'package');
}
for (const n of o.names) {
  const d = path.join(o.out, n);
  fs.rmSync(d, {recursive: true, force: true});
  fs.mkdirSync(d, {recursive: true});
}

const page = `<!doctype html><meta charset="utf-8"><script type="module">
window.m2wRun = async (names) => {
  const {loadModel} = await import('/pkg/dist/index.js');
  const model = await loadModel('/pkg/weights/', {debugCapture: true, precision: 'f16'});
  const adapter = await navigator.gpu.requestAdapter();
  const parse = (buf) => {
    const b = new Uint8Array(buf), dv = new DataView(buf), hl = dv.getUint16(8, true);
    const h = new TextDecoder().decode(b.subarray(10, 10 + hl));
    const shape = /'shape':\\s*\\(([^)]*)\\)/.exec(h)[1].split(',').map((s) => s.trim()).filter(Boolean).map(Number);
    return {data: b.subarray(10 + hl), shape};
  };
  const npy = (data, shape) => {
    let h = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + shape.join(', ') + (shape.length === 1 ? ',' : '') + '), }';
    const total = Math.ceil((11 + h.length) / 64) * 64;
    h = h.padEnd(total - 11, ' ') + '\\n';
    const out = new Uint8Array(total + data.length * 4);
    out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
    new DataView(out.buffer).setUint16(8, h.length, true);
    for (let i = 0; i < h.length; i++) out[10 + i] = h.charCodeAt(i);
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), total);
    return out;
  };
  const put = (p, body) => fetch(p, {method: 'PUT', body});
  const info = {...model.info, adapterF16: adapter.features.has('shader-f16')};
  for (const name of names) {
    const img = parse(await (await fetch('/ref/' + name + '/rgba.npy')).arrayBuffer());
    const [h, w] = img.shape;
    const faces = await model.detect(new ImageData(new Uint8ClampedArray(img.data), w, h));
    const acts = await model.activations();
    const order = [];
    for (const [n, a] of acts) {
      await put('/out/' + name + '/' + n + '.npy', npy(a.data, a.shape));
      order.push(n);
    }
    await put('/out/' + name + '/manifest.json', JSON.stringify({checkpoints: order}));
    await put('/out/' + name + '/faces.json', JSON.stringify({width: w, height: h, faces}, null, 1));
  }
  model.destroy();
  return info;
};
window.m2wReady = true;
</script>`;

const types = {'.js': 'text/javascript', '.json': 'application/json'};
const server = http.createServer((q, s) => {
  const p = decodeURIComponent(new URL(q.url, 'http://x').pathname);
  if (p === '/page.html') { s.writeHead(200, {'content-type': 'text/html'}); s.end(page); return; }
  if (p.startsWith('/out/') && q.method === 'PUT') {
    const rel = p.slice(5);
    if (rel.includes('..')) { s.writeHead(400); s.end(); return; }
    const parts = [];
    q.on('data', (d) => parts.push(d));
    q.on('end', () => { fs.writeFileSync(path.join(o.out, rel), Buffer.concat(parts)); s.writeHead(204); s.end(); });
    return;
  }
  let file = null;
  if (p.startsWith('/pkg/')) file = path.join(root, p.slice(5));
  else if (p.startsWith('/ref/')) file = path.join(path.resolve(o.ref), p.slice(5));
  if (!file || file.includes('..') || !fs.existsSync(file) || !fs.statSync(file).isFile()) { s.writeHead(404); s.end(); return; }
  s.writeHead(200, {'content-type': types[path.extname(file)] || 'application/octet-stream'});
  fs.createReadStream(file).pipe(s);
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'm2w-face-'));
let ctx = null, info = null;
try {
  ctx = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium', headless: true,
    args: ['--enable-unsafe-webgpu', '--no-sandbox', '--headless=new', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
  const pg = await ctx.newPage();
  pg.on('console', (m) => { if (m.type() === 'error') console.log(`page: ${m.text()}`); });
  pg.on('pageerror', (e) => console.log(`page error: ${e.message}`));
  await pg.goto(`http://127.0.0.1:${server.address().port}/page.html`);
  await pg.waitForFunction(() => window.m2wReady === true);
  info = await pg.evaluate((names) => window.m2wRun(names), o.names);
} catch (e) {
  console.error(`run.mjs: ${e.message || e}`);
} finally {
  if (ctx) await ctx.close();
  server.close();
  fs.rmSync(profile, {recursive: true, force: true});
}
if (!info) process.exit(1);
console.log(`adapter: ${info.adapter}; ${info.dispatches} dispatches per detect; ${info.tensors} weight tensors, ${info.weightBytes} bytes`);

// SwiftShader has no shader-f16: precision 'f16' must fall back to f32
// (info.f16 false) and pass the f32 tolerances.  Were the adapter to offer
// it, the f16 path runs and is held to run-node.mjs's f16 tolerances.
let ok = true;
if (!info.adapterF16 && info.f16) { ok = false; console.log(`precision f16 on an adapter without shader-f16: info.f16 is true`); }
console.log(`precision 'f16' requested, adapter shader-f16 ${info.adapterF16}: f16 ${info.f16}${info.f16 ? '' : ` (${info.f16Reason}), the f32 fallback`}`);
const tol = info.f16 ? F16_TOL : F32_TOL;
for (const name of o.names) {
  const r = compareImage({name, ref: o.ref, act: path.join(o.out, name), check: o.check, ...tol});
  if (!r.ok) ok = false;
}
process.exit(ok ? 0 : 1);
