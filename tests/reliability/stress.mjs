#!/usr/bin/env node
// The built packages under stress in headless Chromium (SwiftShader WebGPU).
//
//   node stress.mjs --out DIR [--face PKG.tgz] [--oww PKG.tgz] [--image PNG] [--n 100]
//
// Each package tarball is unpacked and served like tests/face-detection/run.mjs
// and tests/openwakeword/run.mjs do (/pkg/dist/index.js, /pkg/weights/); one
// page (playwright-core, /usr/bin/chromium, DESIGN.md's flags, a fresh
// profile) counts live GPU buffers by wrapping GPUDevice.createBuffer and
// GPUBuffer.destroy (per device), and, per model:
//   A. loads it, runs one inference, forces a GC (CDP HeapProfiler
//      .collectGarbage) and records live buffers and the JS heap
//      (CDP Runtime.getHeapUsage); runs N more inferences on the same input,
//      each result equal to the first; GC again and records both: live
//      buffers may not grow at all (+0), the heap by at most 2 MiB;
//   B. destroys the model's raw GPUDevice (not the package's own destroy,
//      which is an intentional loss), expects onRestartNeeded(restart) within
//      5 s, calls restart(), and the new model's next inference must equal
//      the result before the loss;
//   C. out of memory on buffer creation, simulated in the two ways WebGPU
//      reports it: createBuffer(mappedAtCreation) throwing a RangeError (the
//      mapping could not be allocated), and a GPUOutOfMemoryError popped
//      from an 'out-of-memory' error scope; each time loadModel must reject
//      with a message containing "model too large for this device".
// Face detection runs detect() on a photo (--image, default the astronaut
// of Debian's python3-imageio in M2W_CACHE/face-images; a seeded synthetic
// image when absent); openWakeWord runs score() on one 80 ms step (1280
// samples) of seeded audio, from a fresh state each time.
// Prints the figures; exit 0 when all checks pass, 1 otherwise, 77 when no
// package or no playwright-core is there.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const o = { n: 100 };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--face') o.face = argv[++i];
  else if (a === '--oww') o.oww = argv[++i];
  else if (a === '--image') o.image = argv[++i];
  else if (a === '--out') o.out = argv[++i];
  else if (a === '--n') o.n = Number(argv[++i]);
  else { console.error(`stress.mjs: unknown argument ${a}`); process.exit(2); }
}
if (!o.out) { console.error('usage: node stress.mjs --out DIR [--face PKG.tgz] [--oww PKG.tgz] [--image PNG] [--n 100]'); process.exit(2); }
const models = [];
for (const [key, pkg] of [['face', o.face], ['oww', o.oww]]) {
  if (pkg && fs.existsSync(pkg)) models.push(key);
  else if (pkg) console.log(`note: ${pkg} missing: ${key} skipped`);
}
if (!models.length) { console.log('SKIP: no package tarball given or built'); process.exit(77); }
let chromium;
try {
  const nm = process.env.NODE_PATH || path.join(here, '..', 'node', 'node_modules');
  ({ chromium } = createRequire(path.join(nm, 'x.js'))('playwright-core'));
} catch (e) {
  console.log(`SKIP: playwright-core not found (${e.message})`);
  process.exit(77);
}
if (!o.image) {
  const c = path.join(process.env.M2W_CACHE || '', 'face-images/imageio/usr/lib/python3/dist-packages/imageio/resources/images/astronaut.png');
  if (fs.existsSync(c)) o.image = c;
}

fs.mkdirSync(o.out, { recursive: true });
const roots = {};
for (const key of models) {
  const dir = path.join(o.out, key);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  execFileSync('tar', ['xzf', path.resolve(key === 'face' ? o.face : o.oww), '-C', dir]);
  roots[key] = path.join(dir, 'package');
}

let fails = 0;
const check = (ok, what) => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) fails++;
};

// Runs in the page before any module: buffer accounting and the OOM switch.
const instrument = `
(() => {
  const live = new Map(); // device id -> Set of live buffers
  const devId = new WeakMap();
  let nextDev = 0;
  const idOf = (d) => { if (!devId.has(d)) devId.set(d, ++nextDev); return devId.get(d); };
  const oom = { mode: null, minSize: 0, hits: 0 };
  const scopes = new WeakMap(); // device -> stack of {filter, error}
  const create = GPUDevice.prototype.createBuffer;
  const destroy = GPUBuffer.prototype.destroy;
  const push = GPUDevice.prototype.pushErrorScope;
  const pop = GPUDevice.prototype.popErrorScope;
  const requestDevice = GPUAdapter.prototype.requestDevice;
  GPUAdapter.prototype.requestDevice = async function (d) {
    const dev = await requestDevice.call(this, d);
    window.m2wDevices.push(dev);
    return dev;
  };
  GPUDevice.prototype.pushErrorScope = function (filter) {
    if (!scopes.has(this)) scopes.set(this, []);
    scopes.get(this).push({ filter, error: null });
    return push.call(this, filter);
  };
  GPUDevice.prototype.popErrorScope = async function () {
    const s = scopes.get(this)?.pop();
    const real = await pop.call(this);
    return real ?? s?.error ?? null;
  };
  GPUDevice.prototype.createBuffer = function (desc) {
    if (oom.mode && desc.mappedAtCreation && desc.size >= oom.minSize) {
      oom.hits++;
      if (oom.mode === 'range') throw new RangeError('simulated: could not allocate the mapping of a ' + desc.size + '-byte buffer');
      const st = scopes.get(this) || [];
      const top = [...st].reverse().find((s) => s.filter === 'out-of-memory');
      const err = typeof GPUOutOfMemoryError === 'function' ? new GPUOutOfMemoryError('simulated: out of memory creating a ' + desc.size + '-byte buffer') : { message: 'simulated out of memory' };
      if (top) { if (!top.error) top.error = err; }
      else this.dispatchEvent?.(Object.assign(new Event('uncapturederror'), { error: err }));
    }
    const b = create.call(this, desc);
    const id = idOf(this);
    if (!live.has(id)) live.set(id, new Set());
    live.get(id).add(b);
    b.__m2wDev = id;
    return b;
  };
  GPUBuffer.prototype.destroy = function () {
    live.get(this.__m2wDev)?.delete(this);
    return destroy.call(this);
  };
  window.m2wDevices = [];
  window.m2wLive = (dev) => (live.get(idOf(dev))?.size ?? 0);
  window.m2wOom = oom;
})();`;

const page = `<!doctype html><meta charset="utf-8"><script>${instrument}</script><script type="module">
const seeded = (seed) => () => { seed = (seed * 1103515245 + 12345) >>> 0; return seed / 2 ** 32; };
window.m2wSetup = async (key) => {
  const mod = await import('/' + key + '/dist/index.js');
  let input;
  if (key === 'face') {
    const r = await fetch('/image');
    if (r.ok) input = await createImageBitmap(await r.blob());
    else {
      const rnd = seeded(7), w = 320, h = 240, px = new Uint8ClampedArray(w * h * 4);
      for (let i = 0; i < px.length; i++) px[i] = (i & 3) === 3 ? 255 : Math.floor(rnd() * 256);
      input = new ImageData(px, w, h);
    }
  } else {
    const rnd = seeded(11), a = new Float32Array(1280);
    for (let i = 0; i < a.length; i++) a[i] = 0.3 * Math.sin(i * (0.05 + i * 2e-6)) + 0.05 * (rnd() - 0.5);
    input = a;
  }
  const state = { restarts: [], key };
  const opts = { onRestartNeeded: (restart) => state.restarts.push(restart) };
  const load = () => key === 'face' ? mod.loadModel('/face/weights/', { ...opts, precision: 'f32' })
                                    : mod.loadModel({ ...opts, url: '/oww/weights/', warmupSteps: 0 });
  const infer = async (m) => key === 'face'
    ? JSON.stringify(await m.detect(input, { minScore: 0.3 }))
    : JSON.stringify((await m.score(input)).map((s) => s.hey_jarvis));
  window.m2wState = state;
  state.load = load;
  state.infer = infer;
  state.model = await load();
  state.device = window.m2wDevices[window.m2wDevices.length - 1];
  state.first = await infer(state.model);
  return { devices: window.m2wDevices.length, first: state.first.slice(0, 160), info: state.model.info };
};
window.m2wLiveNow = () => window.m2wLive(window.m2wState.device);
window.m2wRunN = async (n) => {
  const s = window.m2wState;
  let same = 0, t = performance.now();
  for (let i = 0; i < n; i++) if ((await s.infer(s.model)) === s.first) same++;
  return { same, ms: (performance.now() - t) / n };
};
window.m2wLose = async () => {
  const s = window.m2wState;
  const before = s.restarts.length;
  s.device.destroy(); // the raw device: an unexpected loss for the package
  const t0 = performance.now();
  while (s.restarts.length === before && performance.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 20));
  const notified = s.restarts.length - before;
  // an inference on the lost device: must settle (reject or resolve), not hang
  const during = await Promise.race([
    s.infer(s.model).then(() => 'resolved', (e) => 'rejected: ' + String(e.message || e).slice(0, 120)),
    new Promise((r) => setTimeout(() => r('hung for 5 s'), 5000)),
  ]);
  if (!notified) return { notified, during };
  const t1 = performance.now();
  const fresh = await s.restarts[s.restarts.length - 1]();
  const reinitMs = performance.now() - t1;
  try { s.model.destroy(); } catch (e) { return { notified, during, destroyThrew: String(e) }; }
  s.model = fresh;
  s.device = window.m2wDevices[window.m2wDevices.length - 1];
  const after = await s.infer(fresh);
  return { notified, during, reinitMs, equal: after === s.first, after: after.slice(0, 160), calls: s.restarts.length };
};
window.m2wOomLoad = async (mode, minSize) => {
  const s = window.m2wState;
  Object.assign(window.m2wOom, { mode, minSize, hits: 0 });
  const n0 = window.m2wDevices.length;
  try {
    const m = await s.load();
    m.destroy();
    return { rejected: false, hits: window.m2wOom.hits };
  } catch (e) {
    const dev = window.m2wDevices[window.m2wDevices.length - 1];
    return { rejected: true, message: String(e.message || e), name: e.name, hits: window.m2wOom.hits,
             left: window.m2wDevices.length > n0 ? window.m2wLive(dev) : -1 };
  } finally {
    window.m2wOom.mode = null;
  }
};
window.m2wDone = () => { window.m2wState.model.destroy(); };
window.m2wReady = true;
</script>`;

const types = { '.js': 'text/javascript', '.json': 'application/json', '.png': 'image/png' };
const server = http.createServer((q, s) => {
  const p = decodeURIComponent(new URL(q.url, 'http://x').pathname);
  if (p === '/page.html') { s.writeHead(200, { 'content-type': 'text/html' }); s.end(page); return; }
  let file = null;
  const key = p.split('/')[1];
  if (roots[key]) file = path.join(roots[key], p.slice(key.length + 2));
  else if (p === '/image' && o.image) file = o.image;
  if (!file || file.includes('..') || !fs.existsSync(file) || !fs.statSync(file).isFile()) { s.writeHead(404); s.end(); return; }
  const size = fs.statSync(file).size;
  const m = /bytes=(\d+)-(\d+)/.exec(q.headers.range || '');
  const ct = types[path.extname(file)] || 'application/octet-stream';
  if (m) {
    const a = Number(m[1]), b = Math.min(Number(m[2]), size - 1);
    s.writeHead(206, { 'content-type': ct, 'content-range': `bytes ${a}-${b}/${size}`, 'content-length': b - a + 1 });
    fs.createReadStream(file, { start: a, end: b }).pipe(s);
    return;
  }
  s.writeHead(200, { 'content-type': ct, 'content-length': size });
  fs.createReadStream(file).pipe(s);
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'm2w-stress-'));
let ctx = null;
const MiB = 1024 * 1024;
try {
  ctx = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium', headless: true,
    args: ['--enable-unsafe-webgpu', '--no-sandbox', '--headless=new', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
  for (const key of models) {
    const name = key === 'face' ? 'face-detection' : 'openwakeword';
    const pg = await ctx.newPage();
    pg.on('pageerror', (e) => console.log(`page error: ${e.message}`));
    pg.on('console', (m) => { if (m.type() === 'error') console.log(`page: ${m.text().slice(0, 200)}`); });
    const cdp = await ctx.newCDPSession(pg);
    const heap = async () => {
      await cdp.send('HeapProfiler.collectGarbage');
      await cdp.send('HeapProfiler.collectGarbage');
      return (await cdp.send('Runtime.getHeapUsage')).usedSize;
    };
    await pg.goto(`http://127.0.0.1:${server.address().port}/page.html`);
    await pg.waitForFunction(() => window.m2wReady === true);
    const setup = await pg.evaluate((k) => window.m2wSetup(k), key);
    console.log(`---- ${name}: ${setup.info.adapter}, ${setup.info.tensors} tensors, ${setup.info.weightBytes} weight bytes; ` +
      `input ${key === 'face' ? (o.image ? path.basename(o.image) : 'synthetic image') : '80 ms of seeded audio'}; ` +
      `first result ${setup.first}`);
    // A. repeated inferences
    const b0 = await pg.evaluate(() => window.m2wLiveNow());
    const h0 = await heap();
    const run = await pg.evaluate((n) => window.m2wRunN(n), o.n);
    const b1 = await pg.evaluate(() => window.m2wLiveNow());
    const h1 = await heap();
    console.log(`     ${o.n} inferences, ${run.ms.toFixed(1)} ms each: live GPU buffers ${b0} -> ${b1}, ` +
      `JS heap ${(h0 / MiB).toFixed(2)} -> ${(h1 / MiB).toFixed(2)} MiB (${((h1 - h0) / 1024).toFixed(0)} KiB)`);
    check(run.same === o.n, `${name}: all ${o.n} results equal the first (${run.same})`);
    check(b1 <= b0, `${name}: live GPU buffers did not grow over ${o.n} inferences (${b0} -> ${b1})`);
    check(h1 - h0 <= 2 * MiB, `${name}: JS heap grew ${((h1 - h0) / 1024).toFixed(0)} KiB (limit 2048 KiB)`);
    // B. device loss
    const lose = await pg.evaluate(() => window.m2wLose());
    console.log(`     device.destroy(): onRestartNeeded x${lose.notified}; an inference on the lost device ${lose.during}; ` +
      (lose.reinitMs !== undefined ? `restart() took ${lose.reinitMs.toFixed(0)} ms` : ''));
    check(lose.notified === 1, `${name}: a forced device.destroy() called onRestartNeeded once`);
    check(!lose.during.startsWith('hung'), `${name}: an inference on the lost device settles (${lose.during})`);
    check(!lose.destroyThrew, `${name}: destroy() of the lost model does not throw${lose.destroyThrew ? ': ' + lose.destroyThrew : ''}`);
    check(lose.equal === true, `${name}: after restart() the next inference equals the one before the loss` +
      (lose.equal ? '' : ` (got ${lose.after})`));
    // C. out of memory
    for (const mode of ['range', 'scope']) {
      const r = await pg.evaluate(([m, s]) => window.m2wOomLoad(m, s), [mode, 4096]);
      console.log(`     OOM (${mode === 'range' ? 'createBuffer RangeError' : 'GPUOutOfMemoryError in an error scope'}, ` +
        `${r.hits} simulated failures): ${r.rejected ? `${r.name}: ${r.message}; ${r.left} buffers left undestroyed` : 'loaded anyway'}`);
      check(r.hits > 0 && r.rejected && r.message.includes('model too large for this device'),
        `${name}: out of memory (${mode}) gives "model too large for this device"`);
      check(r.left === 0, `${name}: the failed load (${mode}) destroyed every buffer it made (${r.left} left)`);
    }
    await pg.evaluate(() => window.m2wDone());
    await pg.close();
  }
} catch (e) {
  console.log(`FAIL stress.mjs: ${e.stack || e}`);
  fails++;
} finally {
  if (ctx) await ctx.close();
  server.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
console.log(fails ? `${fails} failed` : 'all checks passed');
process.exit(fails ? 1 : 0);
