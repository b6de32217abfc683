#!/usr/bin/env node
// openwakeword-webgpu in headless Chromium against onnxruntime-node.
//
//   node run.mjs --package PKG.tgz|DIR --ref REFDIR --clips CLIPDIR --out OUTDIR
//                --m2w-check PROG [--check-arg ARG]... NAME...
//
// REFDIR is reference.mjs's output, CLIPDIR speech.py's.  One page
// (playwright-core, /usr/bin/chromium, DESIGN.md's flags, a fresh profile)
// loads dist/index.js with warmupSteps 0 (raw scores, so every step is
// compared) and a debugCapture predicate for the reference's dump steps,
// then per clip pushes the int16 samples 1280 at a time, sends back every
// captured checkpoint (.npy) of the dump steps and every step's score; the
// first clip is scored again in one score() call.  Then, per clip:
//   - m2w-check REFDIR/NAME/sK OUTDIR/NAME/sK for each dump step (pipeline
//     order: the capture manifest), f32 tolerances (atol = rtol = 0.01, the
//     defaults; --check-arg adds options); every captured checkpoint must
//     have a reference;
//   - every step's score within 1e-3 of onnxruntime's (absolute);
//   - score() equals the step-by-step pushes (same state machine; the
//     pushes ran the captured op-by-op embedding on the dump steps and the
//     fused one elsewhere, score() the fused one throughout);
//   - the "hey jarvis" clip peaks ≥ 0.9, the control clip stays ≤ 0.01.
// Prints per-model checkpoint tables and exits 0 when everything passes.
import {execFileSync, spawnSync} from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import {createRequire} from 'node:module';
import {readNpy} from './npy.mjs';

const o = {names: [], checkArgs: [], positive: 'hey_jarvis', control: 'control'};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--package') o.pkg = argv[++i];
  else if (a === '--ref') o.ref = argv[++i];
  else if (a === '--clips') o.clips = argv[++i];
  else if (a === '--out') o.out = argv[++i];
  else if (a === '--m2w-check') o.check = argv[++i];
  else if (a === '--check-arg') o.checkArgs.push(argv[++i]);
  else o.names.push(a);
}
if (!o.pkg || !o.ref || !o.clips || !o.out || !o.check || !o.names.length) {
  console.error('usage: node run.mjs --package PKG.tgz|DIR --ref REFDIR --clips CLIPDIR --out OUTDIR --m2w-check PROG NAME...');
  process.exit(2);
}
const nm = process.env.NODE_PATH || path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'node', 'node_modules');
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
const refScores = {};
for (const n of o.names) {
  refScores[n] = JSON.parse(fs.readFileSync(path.join(o.ref, n, 'scores.json'), 'utf8'));
  fs.rmSync(path.join(o.out, n), {recursive: true, force: true});
  for (const k of refScores[n].dumpSteps) fs.mkdirSync(path.join(o.out, n, `s${k}`), {recursive: true});
}

const page = `<!doctype html><meta charset="utf-8"><script type="module">
window.m2wRun = async (clips) => {
  const {loadModel} = await import('/pkg/dist/index.js');
  let dump = new Set();
  const model = await loadModel({url: '/pkg/weights/', warmupSteps: 0, debugCapture: (k) => dump.has(k)});
  const parse = (buf) => {
    const b = new Uint8Array(buf), dv = new DataView(buf), hl = dv.getUint16(8, true);
    return new Float32Array(buf.slice(10 + hl));
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
  const safe = (n) => n.replace(/[^A-Za-z0-9._-]/g, '_');
  const put = (p, body) => fetch(p, {method: 'PUT', body});
  let ms = 0, timed = 0, first = true;
  for (const {name, dumpSteps} of clips) {
    const samples = Int16Array.from(parse(await (await fetch('/clips/' + name + '.npy')).arrayBuffer()));
    dump = new Set(dumpSteps);
    model.reset();
    const scores = [];
    for (let k = 0; k * 1280 + 1280 <= samples.length; k++) {
      const t0 = performance.now();
      const s = await model.push(samples.subarray(k * 1280, k * 1280 + 1280));
      if (!dump.has(k)) { ms += performance.now() - t0; timed++; }
      scores.push(s[0].hey_jarvis);
      if (dump.has(k)) {
        const acts = await model.activations();
        const order = [];
        for (const [n, a] of acts) {
          await put('/out/' + name + '/s' + k + '/' + safe(n) + '.npy', npy(a.data, a.shape));
          order.push(safe(n));
        }
        await put('/out/' + name + '/s' + k + '/manifest.json', JSON.stringify({checkpoints: order}));
      }
    }
    dump = new Set();
    // score() once (the first clip): the same state machine in one call
    const whole = first ? (await model.score(samples)).map((s) => s.hey_jarvis) : scores;
    first = false;
    await put('/out/' + name + '/scores.json', JSON.stringify({scores, whole}));
  }
  const info = {...model.info, msPerStep: ms / timed};
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
  else if (p.startsWith('/clips/')) file = path.join(path.resolve(o.clips), p.slice(7));
  if (!file || file.includes('..') || !fs.existsSync(file) || !fs.statSync(file).isFile()) { s.writeHead(404); s.end(); return; }
  s.writeHead(200, {'content-type': types[path.extname(file)] || 'application/octet-stream'});
  fs.createReadStream(file).pipe(s);
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'm2w-oww-'));
let ctx = null, info = null;
const t0 = Date.now();
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
  info = await pg.evaluate((clips) => window.m2wRun(clips), o.names.map((name) => ({name, dumpSteps: refScores[name].dumpSteps})));
} catch (e) {
  console.error(`run.mjs: ${e.message || e}`);
} finally {
  if (ctx) await ctx.close();
  server.close();
  fs.rmSync(profile, {recursive: true, force: true});
}
if (!info) process.exit(1);
console.log(`adapter: ${info.adapter}; ${info.dispatches} dispatches per step; ${info.tensors} weight tensors, ${info.weightBytes} bytes; browser run ${((Date.now() - t0) / 1000).toFixed(1)} s, ` +
  `${info.msPerStep.toFixed(1)} ms per 80 ms step (push, no capture; real-time factor ${(info.msPerStep / 80).toFixed(2)})`);

const stage = (n) => n.split('.')[0];
let ok = true;
for (const name of o.names) {
  const ref = refScores[name];
  for (const k of ref.dumpSteps) {
    const refDir = path.join(o.ref, name, `s${k}`), actDir = path.join(o.out, name, `s${k}`);
    const r = spawnSync(o.check, [...o.checkArgs, '--json', path.join(actDir, 'report.json'), refDir, actDir], {encoding: 'utf8'});
    if (r.status !== 0) { ok = false; console.log(r.stdout + r.stderr); }
    const report = JSON.parse(fs.readFileSync(path.join(actDir, 'report.json'), 'utf8'));
    const table = new Map();
    let orphans = 0;
    for (const c of report.checkpoints) {
      if (c.status === 'skipped') {
        if (!fs.existsSync(path.join(refDir, c.name + '.npy'))) { orphans++; console.log(`${name} s${k}: ${c.name} has no reference`); }
        continue;
      }
      const t = table.get(stage(c.name)) || {n: 0, pass: 0, max: 0};
      t.n++; if (c.status === 'pass') t.pass++;
      t.max = Math.max(t.max, Number(c.max_abs) || 0);
      table.set(stage(c.name), t);
    }
    if (orphans) ok = false;
    const refCount = fs.readFileSync(path.join(refDir, 'order.txt'), 'utf8').split('\n').filter(Boolean).length;
    for (const [s, t] of table)
      console.log(`${name.padEnd(10)} s${String(k).padEnd(3)} ${s.padEnd(11)} ${String(t.pass).padStart(3)}/${String(t.n).padEnd(3)} max abs err ${t.max.toExponential(2)}`);
    console.log(`${name.padEnd(10)} s${String(k).padEnd(3)} ${'all'.padEnd(11)} ${String(report.counts.passed).padStart(3)}/${String(report.counts.checkpoints - report.counts.skipped).padEnd(3)} ` +
      `(reference has ${refCount} values, ${report.counts.skipped} not materialised by the engine) m2w-check ${r.status === 0 ? 'pass' : 'FAIL'}`);
  }
  const got = JSON.parse(fs.readFileSync(path.join(o.out, name, 'scores.json'), 'utf8'));
  let worst = 0, worstWhole = 0;
  if (got.scores.length !== ref.steps || got.whole.length !== ref.steps) {
    ok = false;
    console.log(`${name}: ${got.scores.length} pushed steps, ${got.whole.length} score() steps, onnxruntime ${ref.steps}`);
  }
  // dump steps ran the op-by-op (captured) embedding, the others the fused one (convLeaky)
  let worstFused = 0, worstCaptured = 0, fused = 0;
  got.scores.forEach((s, i) => {
    const e = Math.abs(s - ref.hey_jarvis[i]);
    worst = Math.max(worst, e);
    if (ref.dumpSteps.includes(i)) worstCaptured = Math.max(worstCaptured, e);
    else { worstFused = Math.max(worstFused, e); fused++; }
  });
  if (!fused) { ok = false; console.log(`${name}: no step ran the fused path`); }
  console.log(`${name.padEnd(10)} fused path ${fused} steps max err ${worstFused.toExponential(2)}, captured path ${got.scores.length - fused} steps max err ${worstCaptured.toExponential(2)}`);
  got.whole.forEach((s, i) => { worstWhole = Math.max(worstWhole, Math.abs(s - got.scores[i])); });
  const peak = Math.max(...got.scores), refPeak = Math.max(...ref.hey_jarvis);
  let verdict = worst <= 1e-3 && worstWhole === 0;
  let goal = '';
  if (name === o.positive) { goal = ` (goal ≥ 0.9)`; verdict &&= peak >= 0.9; }
  if (name === o.control) { goal = ` (goal ≤ 0.01)`; verdict &&= peak <= 0.01; }
  if (!verdict) ok = false;
  console.log(`${name.padEnd(10)} scores: ${got.scores.length} steps, max |webgpu − onnxruntime| ${worst.toExponential(2)} (limit 1e-3), ` +
    `peak ${peak.toFixed(4)} (onnxruntime ${refPeak.toFixed(4)})${goal}, score() vs push ${worstWhole.toExponential(2)} ${verdict ? 'pass' : 'FAIL'}`);
}
process.exit(ok ? 0 : 1);
