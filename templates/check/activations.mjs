#!/usr/bin/env node
// activations.mjs — activation matching of a built m2w package in headless
// Chromium, then m2w-check against a reference run.
//
// usage: activations.mjs --root DIR --module PATH --function NAME
//          --input NAME=FILE.npy [--input ...] --out DIR --ref DIR
//          [--m2w-check PROG] [--check-arg ARG]... [--timeout SECONDS]
//          [--chromium PATH] [--verbose]
//
// It serves DIR over a local HTTP server (node:http; GET with Range
// support, so sharded weights load as in production), opens a page that
// imports DIR/PATH (the built package, e.g. dist/index.js) and calls its
// export NAME(inputs) where inputs = {NAME: {data, shape, descr}} parsed
// from the --input .npy files (data: Float32Array for float dtypes,
// Int32Array for signed, Uint8Array for u1/b1, Uint32Array for u2/u4).
// NAME runs the model with DebugCapture enabled and returns the captures
// as .npy bytes: a Map<string, Uint8Array> (DebugCapture.exportNpy()), a
// plain object of Uint8Arrays, or the DebugCapture itself.  Every capture
// is written to OUT/<name>.npy (characters outside [A-Za-z0-9._-] become
// '_', so capture names should match the reference file names), with
// OUT/manifest.json {"checkpoints": [...]} in capture order, which
// m2w-check uses as the pipeline order when names carry no numeric
// prefix.  Then `m2w-check [ARGS] --json OUT/report.json REF OUT` runs and
// this script exits with its status (0 all checkpoints pass, 1 a failure
// or an error here, 2 usage).
//
// Chromium: /usr/bin/chromium (never a downloaded browser) with
// --enable-unsafe-webgpu and the flags of DESIGN.md, a fresh profile.
// playwright-core is found through NODE_PATH, else beside this script in
// ../toolchain/node_modules (templates/toolchain).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const prog = 'activations.mjs';

function usage(code) {
  (code ? process.stderr : process.stdout).write(
    `usage: ${prog} --root DIR --module PATH --function NAME --input NAME=FILE.npy...\n` +
      `         --out DIR --ref DIR [--m2w-check PROG] [--check-arg ARG]... [--timeout S]\n` +
      `         [--chromium PATH] [--verbose]\n`);
  process.exit(code);
}

const o = { inputs: [], checkArgs: [], timeout: 600, chromium: '/usr/bin/chromium', verbose: false,
  check: process.env.M2W_CHECK || 'm2w-check' };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const val = () => {
    if (i + 1 >= argv.length) { console.error(`${prog}: ${a} needs a value`); usage(2); }
    return argv[++i];
  };
  if (a === '--root') o.root = val();
  else if (a === '--module') o.module = val();
  else if (a === '--function') o.fn = val();
  else if (a === '--input') {
    const v = val(), eq = v.indexOf('=');
    if (eq <= 0) { console.error(`${prog}: --input wants NAME=FILE.npy, got ${v}`); usage(2); }
    o.inputs.push([v.slice(0, eq), v.slice(eq + 1)]);
  } else if (a === '--out') o.out = val();
  else if (a === '--ref') o.ref = val();
  else if (a === '--m2w-check') o.check = val();
  else if (a === '--check-arg') o.checkArgs.push(val());
  else if (a === '--timeout') o.timeout = Number(val());
  else if (a === '--chromium') o.chromium = val();
  else if (a === '--verbose') o.verbose = true;
  else if (a === '-h' || a === '--help') usage(0);
  else { console.error(`${prog}: unexpected argument ${a}`); usage(2); }
}
for (const k of ['root', 'module', 'fn', 'out', 'ref'])
  if (!o[k]) { console.error(`${prog}: --${k === 'fn' ? 'function' : k} is required`); usage(2); }
for (const [, f] of o.inputs)
  if (!fs.existsSync(f)) { console.error(`${prog}: ${f}: no such input file`); process.exit(1); }

const req = createRequire(process.env.NODE_PATH
  ? path.join(process.env.NODE_PATH.split(path.delimiter)[0], 'x.js')
  : path.join(here, '../toolchain/node_modules/x.js'));
const { chromium } = req('playwright-core');

// ---- HTTP: the package directory (GET/HEAD with Range), inputs, outputs ----

const root = path.resolve(o.root);
const outDir = path.resolve(o.out);
fs.mkdirSync(outDir, { recursive: true });
for (const f of fs.readdirSync(outDir)) if (f.endsWith('.npy')) fs.rmSync(path.join(outDir, f));
const types = { '.js': 'text/javascript', '.mjs': 'text/javascript', '.json': 'application/json',
  '.html': 'text/html', '.wasm': 'application/wasm', '.css': 'text/css' };
const captured = [];
const safe = (n) => n.replace(/[^A-Za-z0-9._-]/g, '_');

// Serves FILE honouring a single-range "Range: bytes=a-b" header.
function serveFile(q, s, file) {
  const st = fs.statSync(file);
  const headers = { 'content-type': types[path.extname(file)] || 'application/octet-stream',
    'accept-ranges': 'bytes', 'cache-control': 'no-store' };
  const m = /^bytes=(\d*)-(\d*)$/.exec(q.headers.range || '');
  let start = 0, end = st.size - 1, code = 200;
  if (m && (m[1] !== '' || m[2] !== '')) {
    if (m[1] === '') { start = Math.max(0, st.size - Number(m[2])); }
    else { start = Number(m[1]); if (m[2] !== '') end = Math.min(Number(m[2]), st.size - 1); }
    if (start > end || start >= st.size) {
      s.writeHead(416, { 'content-range': `bytes */${st.size}` });
      s.end();
      return;
    }
    code = 206;
    headers['content-range'] = `bytes ${start}-${end}/${st.size}`;
  }
  headers['content-length'] = String(end - start + 1);
  s.writeHead(code, headers);
  if (q.method === 'HEAD' || st.size === 0) { s.end(); return; }
  fs.createReadStream(file, { start, end }).pipe(s);
}

const page = (moduleUrl, fn, names) => `<!doctype html><meta charset="utf-8"><title>m2w activations</title>
<script type="module">
${parseNpy.toString()}
window.m2wActivations = async () => {
  const mod = await import(${JSON.stringify(moduleUrl)});
  if (typeof mod[${JSON.stringify(fn)}] !== 'function') throw new Error('the module exports no function ' + ${JSON.stringify(fn)});
  const inputs = {};
  for (const name of ${JSON.stringify(names)}) {
    const r = await fetch('/__m2w/in/' + encodeURIComponent(name));
    inputs[name] = parseNpy(new Uint8Array(await r.arrayBuffer()));
  }
  let res = await mod[${JSON.stringify(fn)}](inputs);
  if (res && typeof res.exportNpy === 'function') res = await res.exportNpy();
  const entries = res instanceof Map ? [...res] : Object.entries(res || {});
  for (const [name, bytes] of entries) {
    if (!(bytes instanceof Uint8Array)) throw new Error('capture ' + name + ' is not .npy bytes (Uint8Array)');
    const r = await fetch('/__m2w/out/' + encodeURIComponent(name), { method: 'PUT', body: bytes });
    if (!r.ok) throw new Error('writing capture ' + name + ': HTTP ' + r.status);
  }
  return entries.length;
};
window.m2wReady = true;
</script>`;

const server = http.createServer((q, s) => {
  const url = new URL(q.url, 'http://localhost');
  const p = decodeURIComponent(url.pathname);
  if (p === '/__m2w/page.html') {
    s.writeHead(200, { 'content-type': 'text/html' });
    s.end(page('/' + o.module.replace(/^\/+/, ''), o.fn, o.inputs.map(([n]) => n)));
    return;
  }
  if (p.startsWith('/__m2w/in/')) {
    const hit = o.inputs.find(([n]) => n === p.slice('/__m2w/in/'.length));
    if (!hit) { s.writeHead(404); s.end(); return; }
    serveFile(q, s, hit[1]);
    return;
  }
  if (p.startsWith('/__m2w/out/') && q.method === 'PUT') {
    const name = safe(p.slice('/__m2w/out/'.length));
    const parts = [];
    q.on('data', (d) => parts.push(d));
    q.on('end', () => {
      fs.writeFileSync(path.join(outDir, name + '.npy'), Buffer.concat(parts));
      if (!captured.includes(name)) captured.push(name);
      s.writeHead(204);
      s.end();
    });
    return;
  }
  if (p === '/favicon.ico') { s.writeHead(204); s.end(); return; }
  const file = path.resolve(root, '.' + p);
  if (!file.startsWith(root + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
    s.writeHead(404);
    s.end();
    return;
  }
  serveFile(q, s, file);
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const port = server.address().port;

// ---- the browser ----

const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'm2w-chromium-'));
let ctx = null, count = -1;
const killer = setTimeout(() => {
  console.error(`${prog}: timed out after ${o.timeout} s`);
  process.exit(1);
}, o.timeout * 1000);
try {
  ctx = await chromium.launchPersistentContext(profile, {
    executablePath: o.chromium,
    headless: true,
    args: ['--enable-unsafe-webgpu', '--no-sandbox', '--headless=new',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--no-first-run', '--disable-quic'],
  });
  const pg = await ctx.newPage();
  pg.on('console', (m) => { if (o.verbose || m.type() === 'error') console.log(`page: ${m.text()}`); });
  pg.on('pageerror', (e) => console.log(`page error: ${e.message}`));
  await pg.goto(`http://localhost:${port}/__m2w/page.html`);
  await pg.waitForFunction(() => window.m2wReady === true, null, { timeout: 30000 });
  count = await pg.evaluate(() => window.m2wActivations());
} catch (e) {
  console.error(`${prog}: ${e && e.message ? e.message : e}`);
} finally {
  clearTimeout(killer);
  if (ctx) await ctx.close();
  server.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
if (count <= 0) {
  if (count === 0) console.error(`${prog}: ${o.fn} captured no activations`);
  process.exit(1);
}
fs.writeFileSync(path.join(outDir, 'manifest.json'), JSON.stringify({ checkpoints: captured }, null, 1) + '\n');
console.log(`${prog}: ${captured.length} activations in ${outDir}`);

const args = [...o.checkArgs, '--json', path.join(outDir, 'report.json'), o.ref, outDir];
const r = spawnSync(o.check, args, { stdio: 'inherit' });
if (r.error) {
  console.error(`${prog}: ${o.check}: ${r.error.message}`);
  process.exit(1);
}
process.exit(r.status ?? 1);

// .npy -> {data, shape, descr}; injected into the page as source text.
function parseNpy(bytes) {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (bytes.length < 10 || magic.some((b, i) => bytes[i] !== b)) throw new Error('not a .npy file');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const v1 = bytes[6] === 1, hstart = v1 ? 10 : 12;
  const hlen = v1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  const header = new TextDecoder().decode(bytes.subarray(hstart, hstart + hlen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)[1];
  if (/'fortran_order':\s*True/.test(header)) throw new Error('Fortran-order .npy is not supported');
  if (descr[0] === '>') throw new Error('big-endian .npy is not supported');
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)[1].split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const n = shape.reduce((a, b) => a * b, 1), kind = descr.replace(/^[<|=]/, ''), size = Number(kind.slice(1));
  const off = hstart + hlen, at = (i) => off + i * size;
  let data;
  const fill = (T, get) => { data = new T(n); for (let i = 0; i < n; i++) data[i] = get(at(i)); };
  const half = (h) => { const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 31, m = h & 1023;
    return e === 0 ? s * m * 2 ** -24 : e === 31 ? (m ? NaN : s * Infinity) : s * (1 + m / 1024) * 2 ** (e - 15); };
  switch (kind) {
    case 'f4': fill(Float32Array, (p) => dv.getFloat32(p, true)); break;
    case 'f8': fill(Float32Array, (p) => dv.getFloat64(p, true)); break;
    case 'f2': fill(Float32Array, (p) => half(dv.getUint16(p, true))); break;
    case 'i1': fill(Int32Array, (p) => dv.getInt8(p)); break;
    case 'i2': fill(Int32Array, (p) => dv.getInt16(p, true)); break;
    case 'i4': fill(Int32Array, (p) => dv.getInt32(p, true)); break;
    case 'i8': fill(Int32Array, (p) => Number(dv.getBigInt64(p, true))); break;
    case 'u1': case 'b1': data = bytes.slice(off, off + n); break;
    case 'u2': fill(Uint32Array, (p) => dv.getUint16(p, true)); break;
    case 'u4': fill(Uint32Array, (p) => dv.getUint32(p, true)); break;
    default: throw new Error('unsupported .npy dtype ' + descr);
  }
  return { data, shape, descr };
}
