#!/usr/bin/env node
// Serves packed tensors and their --unpack floats to a headless Chromium
// page (wgsl-page.js) that reads them with WGSL on SwiftShader's WebGPU
// through tests/shaders/harness.js, and reports per tensor.
//
// usage: run-wgsl.mjs PACK_SHADERS.ts PACKED_DIR...
// Each PACKED_DIR holds an m2w-pack output plus unpack/<tensor>.npy for its
// q8_0 / q4_0 tensors.  NODE_PATH (or tests/node/node_modules) must hold
// playwright-core; exit 77 when it does not.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const [shadersPath, ...dirs] = process.argv.slice(2);
if (!shadersPath || !dirs.length) {
  console.error('usage: run-wgsl.mjs PACK_SHADERS.ts PACKED_DIR...');
  process.exit(2);
}
if (!fs.existsSync(shadersPath)) {
  console.error(`run-wgsl: ${shadersPath}: no such file`);
  process.exit(2);
}
const req = createRequire(process.env.NODE_PATH ? path.join(process.env.NODE_PATH, 'x.js')
  : path.join(here, '../node/node_modules/x.js'));
let chromium;
try {
  ({ chromium } = req('playwright-core'));
} catch {
  console.log('SKIP: playwright-core not installed (tests/node: npm ci)');
  process.exit(77);
}

// .npy (v1-3, little-endian f4, C order) -> its data bytes
function npyData(file) {
  const b = fs.readFileSync(file);
  if (b.toString('latin1', 1, 6) !== 'NUMPY') throw new Error(`${file}: not .npy`);
  const hl = b[6] === 1 ? b.readUInt16LE(8) : b.readUInt32LE(8);
  const ho = b[6] === 1 ? 10 : 12;
  const hdr = b.toString('latin1', ho, ho + hl);
  if (!/'descr': '<f4'/.test(hdr) || /'fortran_order': True/.test(hdr)) throw new Error(`${file}: not C-order <f4`);
  return b.subarray(ho + hl);
}

// cases and the bytes the page fetches
const blobs = new Map();
const cases = [];
for (const dir of dirs) {
  const m = JSON.parse(fs.readFileSync(path.join(dir, 'shards.json'), 'utf8'));
  const shardFiles = m.shards.map((s) => fs.readFileSync(path.join(dir, s.file)));
  const slice = (t, off, n) => {
    const s = m.shards[t.shard];
    return shardFiles[t.shard].subarray(s.offset + off, s.offset + off + n);
  };
  for (const t of m.tensors) {
    if (t.dtype !== 'q8_0' && t.dtype !== 'q4_0') continue;
    if (t.chunks) throw new Error(`${t.name}: chunked tensors are not handled here`);
    const id = `${blobs.size}`;
    blobs.set(`/data/${id}.packed`, slice(t, t.offset, t.bytes));
    blobs.set(`/data/${id}.want`, npyData(path.join(dir, 'unpack', t.name + '.npy')));
    const n = t.shape.reduce((a, b) => a * b, 1);
    const label = `${path.basename(dir)}: ${t.name} (${t.dtype} ${t.shape.join('x')})`;
    cases.push({ kind: t.dtype, id, n, label });
    if (t.name === 'token_embd.weight' && t.dtype === 'q8_0')
      cases.push({ kind: 'embed', id, n, V: t.shape[0], D: t.shape[1],
        label: `${path.basename(dir)}: embeddingLookupQ8 on ${t.name}` });
  }
}

const files = {
  '/harness.js': path.join(here, '../shaders/harness.js'),
  '/wgsl-page.js': path.join(here, 'wgsl-page.js'),
  '/shaders.js': shadersPath,
};
const server = http.createServer((q, s) => {
  const url = new URL(q.url, 'http://localhost');
  if (url.pathname === '/favicon.ico') {
    s.writeHead(204);
    s.end();
  } else if (url.pathname === '/') {
    s.writeHead(200, { 'content-type': 'text/html' });
    s.end('<!doctype html><meta charset="utf-8"><title>m2w pack wgsl</title>' +
      '<script type="module" src="/wgsl-page.js"></script>');
  } else if (url.pathname === '/cases.json') {
    s.writeHead(200, { 'content-type': 'application/json' });
    s.end(JSON.stringify(cases));
  } else if (blobs.has(url.pathname)) {
    s.writeHead(200, { 'content-type': 'application/octet-stream' });
    s.end(blobs.get(url.pathname));
  } else if (files[url.pathname]) {
    s.writeHead(200, { 'content-type': 'text/javascript', 'cache-control': 'no-store' });
    s.end(fs.readFileSync(files[url.pathname]));
  } else {
    s.writeHead(404);
    s.end();
  }
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));

const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'm2w-chromium-'));
let ctx = null, ok = false;
const killer = setTimeout(() => {
  console.error('run-wgsl: timed out');
  process.exit(1);
}, 600 * 1000);
try {
  ctx = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--enable-unsafe-webgpu', '--no-sandbox', '--headless=new',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--no-first-run', '--disable-quic'],
  });
  const page = await ctx.newPage();
  page.on('console', (m) => console.log(m.text()));
  page.on('pageerror', (e) => console.log('page error: ' + e.message));
  await page.goto(`http://localhost:${server.address().port}/`);
  await page.waitForFunction(() => typeof window.m2wPackRun === 'function', null, { timeout: 30000 });
  ok = await page.evaluate(() => window.m2wPackRun());
} catch (e) {
  console.error('run-wgsl: ' + (e && e.message ? e.message : e));
} finally {
  clearTimeout(killer);
  if (ctx) await ctx.close();
  server.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
process.exit(ok ? 0 : 1);
