#!/usr/bin/env node
// face-detection-webgpu in headless Chromium against LiteRT.js, layer by layer.
//
//   node run.mjs --package PKG.tgz|DIR --ref REFDIR --out OUTDIR --m2w-check PROG NAME...
//
// PKG is the built npm tarball (unpacked to OUTDIR/package) or a package
// directory (dist/, weights/).  REFDIR is reference.mjs's output.  One page
// (playwright-core, /usr/bin/chromium, DESIGN.md's flags, a fresh profile)
// loads dist/index.js with debugCapture and, per image NAME, builds an
// ImageData from REFDIR/NAME/rgba.npy, runs detect(), and sends back every
// activation (.npy) and the faces.  Then, per image:
//   - m2w-check REFDIR/NAME/ref OUTDIR/NAME on the checkpoints the package
//     captured, in ref/order.txt's order (the rest must be of the kinds the
//     package fuses into one dispatch, FUSED below), which
//     fails on any checkpoint beyond atol = rtol = 0.01 (the defaults);
//   - no NaN/Inf in any activation;
//   - the faces equal REFDIR/NAME/faces.json (LiteRT.js's outputs through
//     an independent MediaPipe post-processing): same count, box and
//     keypoint coordinates within 1e-3 of the model's unit square (i.e. of
//     max(width, height) pixels), scores within 1e-3.
// Prints a checkpoint table (per stage: checkpoints passed, max abs error)
// and exits 0 when everything passes, 1 otherwise.
import {execFileSync, spawnSync} from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import {createRequire} from 'node:module';
import {fileURLToPath} from 'node:url';
import {readNpy} from './npy.mjs';

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
  const model = await loadModel('/pkg/weights/', {debugCapture: true});
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
  const info = model.info;
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

const stage = (n) => n === 'input' ? 'preprocess' : /^(classificator|regressor|reshape)/.test(n) || n === 'classificators' || n === 'regressors'
  ? 'heads' : n === 'conv2d' || n === 'activation' ? 'stem' : 'blocks';
// Reference tensors a fused dispatch of the package computes without
// storing (src/engine.ts): the stem's conv before its ReLU, each block's
// 1×1 conv, max pool, channel padding and add (block_pw.wgsl stores only
// the block's output, activation_N), and the heads' NCHW convs (head.wgsl
// stores their rows of the outputs, reshape*).
const FUSED = /^(conv2d(_\d+)?|max_pooling2d(_\d+)?|channel_padding(_\d+)?|add(_\d+)?__xeno_compat__1|classificator_(8|16)|regressor_(8|16))$/;
let ok = true;
for (const name of o.names) {
  const refDir = path.join(o.ref, name, 'ref'), actDir = path.join(o.out, name);
  // The package fuses ops into one dispatch and captures what each dispatch
  // writes: the reference tensors computed inside a dispatch have no GPU
  // counterpart.  Pair them up: every captured checkpoint must have a
  // reference, every reference tensor must be captured unless it is of a
  // kind the package fuses (FUSED), and m2w-check compares the captured
  // ones in the reference's order (ACT/order.txt).
  const refOrder = fs.readFileSync(path.join(refDir, 'order.txt'), 'utf8').split('\n').filter(Boolean);
  const captured = JSON.parse(fs.readFileSync(path.join(actDir, 'manifest.json'), 'utf8')).checkpoints;
  const unknown = captured.filter((n) => !refOrder.includes(n));
  if (unknown.length) { ok = false; console.log(`${name}: captured checkpoints with no reference: ${unknown.join(' ')}`); }
  const order = refOrder.filter((n) => captured.includes(n));
  const fused = refOrder.filter((n) => !captured.includes(n));
  const unfusable = fused.filter((n) => !FUSED.test(n));
  if (unfusable.length) { ok = false; console.log(`${name}: reference checkpoints not captured: ${unfusable.join(' ')}`); }
  console.log(`${name}: ${order.length} of ${refOrder.length} reference tensors captured; fused away (no GPU counterpart): ${fused.length}`);
  fs.writeFileSync(path.join(actDir, 'order.txt'), order.join('\n') + '\n');
  const r = spawnSync(o.check, ['-O', path.join(actDir, 'order.txt'), '--json', path.join(actDir, 'report.json'), refDir, actDir],
    {encoding: 'utf8'});
  if (r.status !== 0) { ok = false; console.log(r.stdout + r.stderr); }
  // per-stage table from our own comparison (m2w-check's report is the verdict)
  const table = new Map();
  let missing = 0, nonfinite = 0;
  for (const n of order) {
    const f = path.join(actDir, n + '.npy');
    if (!fs.existsSync(f)) { missing++; continue; }
    const a = readNpy(fs.readFileSync(f)), b = readNpy(fs.readFileSync(path.join(refDir, n + '.npy')));
    let m = 0, pass = a.data.length === b.data.length;
    for (let i = 0; i < a.data.length; i++) {
      if (!Number.isFinite(a.data[i])) nonfinite++;
      const d = Math.abs(a.data[i] - b.data[i]);
      m = Math.max(m, d);
      if (!(d <= 0.01 + 0.01 * Math.abs(b.data[i]))) pass = false;
    }
    const t = table.get(stage(n)) || {n: 0, pass: 0, max: 0};
    t.n++; if (pass) t.pass++; t.max = Math.max(t.max, m);
    table.set(stage(n), t);
  }
  if (missing) { ok = false; console.log(`${name}: ${missing} reference checkpoints not captured`); }
  if (nonfinite) { ok = false; console.log(`${name}: ${nonfinite} NaN/Inf values`); }
  let total = 0, passed = 0;
  for (const [s, t] of table) {
    console.log(`${name.padEnd(10)} ${s.padEnd(11)} ${String(t.pass).padStart(3)}/${String(t.n).padEnd(3)} max abs err ${t.max.toExponential(2)}`);
    total += t.n; passed += t.pass;
  }
  console.log(`${name.padEnd(10)} ${'all'.padEnd(11)} ${String(passed).padStart(3)}/${String(total).padEnd(3)} m2w-check ${r.status === 0 ? 'pass' : 'FAIL'}`);
  // faces
  const want = JSON.parse(fs.readFileSync(path.join(o.ref, name, 'faces.json'), 'utf8'));
  const got = JSON.parse(fs.readFileSync(path.join(actDir, 'faces.json'), 'utf8'));
  const side = Math.max(want.width, want.height);
  if (got.faces.length !== want.faces.length) {
    ok = false;
    console.log(`${name}: ${got.faces.length} faces, LiteRT.js + MediaPipe post-processing ${want.faces.length}`);
    continue;
  }
  let worst = 0, worstScore = 0;
  got.faces.forEach((f, i) => {
    const w = want.faces[i];
    const pairs = [[f.box.x, w.box.x], [f.box.y, w.box.y], [f.box.width, w.box.width], [f.box.height, w.box.height],
      ...f.keypoints.flatMap((p, k) => [[p.x, w.keypoints[k].x], [p.y, w.keypoints[k].y]])];
    for (const [a, b] of pairs) worst = Math.max(worst, Math.abs(a - b) / side);
    worstScore = Math.max(worstScore, Math.abs(f.score - w.score));
  });
  const faceOk = worst <= 1e-3 && worstScore <= 1e-3;
  if (!faceOk) ok = false;
  console.log(`${name.padEnd(10)} faces       ${got.faces.length} (LiteRT.js ${want.faces.length}), max coord err ${worst.toExponential(2)} of the square, ${(worst * side).toExponential(2)} px, score err ${worstScore.toExponential(2)} ${faceOk ? 'pass' : 'FAIL'}`);
}
process.exit(ok ? 0 : 1);
