#!/usr/bin/env node
// Screenshot of the demo page (subprojects/face-detection/demo/) running
// on a photo in headless Chromium (playwright-core, /usr/bin/chromium,
// DESIGN.md's flags).
//
//   node screenshot.mjs --package PKG.tgz|DIR --demo DEMODIR --image PHOTO.png --out SHOT.png
//
// Serves the package's dist/ and weights/ with the demo as demo/ beside
// them (the layout the demo expects), opens demo/index.html?image=...,
// waits for the faces to be drawn and saves a PNG of the page.  Exits 1 if
// the page reports an error or draws no face.
import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import {createRequire} from 'node:module';
import {fileURLToPath} from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const o = {};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const k = argv[i].replace(/^--/, '');
  if (['package', 'demo', 'image', 'out'].includes(k)) o[k] = argv[++i];
  else { console.error(`screenshot.mjs: unexpected ${argv[i]}`); process.exit(2); }
}
if (!o.package || !o.demo || !o.image || !o.out) {
  console.error('usage: node screenshot.mjs --package PKG.tgz|DIR --demo DEMODIR --image PHOTO.png --out SHOT.png');
  process.exit(2);
}
const nm = process.env.NODE_PATH || path.join(here, '..', 'node', 'node_modules');
const {chromium} = createRequire(path.join(nm, 'x.js'))('playwright-core');
let root = path.resolve(o.package);
let tmp = null;
if (fs.statSync(root).isFile()) {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'm2w-face-shot-'));
  execFileSync('tar', ['xzf', root, '-C', tmp]);
  root = path.join(tmp, 'package');
}
const types = {'.js': 'text/javascript', '.json': 'application/json', '.html': 'text/html', '.png': 'image/png'};
const server = http.createServer((q, s) => {
  const p = decodeURIComponent(new URL(q.url, 'http://x').pathname);
  let file = null;
  if (p === '/image.png') file = path.resolve(o.image);
  else if (p.startsWith('/demo/')) file = path.join(path.resolve(o.demo), p.slice(6) || 'index.html');
  else if (p.startsWith('/dist/') || p.startsWith('/weights/')) file = path.join(root, p.slice(1));
  if (!file || p.includes('..') || !fs.existsSync(file) || !fs.statSync(file).isFile()) { s.writeHead(404); s.end(); return; }
  s.writeHead(200, {'content-type': types[path.extname(file)] || 'application/octet-stream'});
  fs.createReadStream(file).pipe(s);
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'm2w-face-shot-'));
let ok = false;
const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium', headless: true, viewport: {width: 900, height: 760},
  args: ['--enable-unsafe-webgpu', '--no-sandbox', '--headless=new', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
});
try {
  const pg = await ctx.newPage();
  pg.on('pageerror', (e) => console.log(`page error: ${e.message}`));
  await pg.goto(`http://127.0.0.1:${server.address().port}/demo/index.html?image=/image.png`);
  await pg.waitForFunction(() => window.demoReady === true || window.demoError !== undefined, null, {timeout: 120000});
  const r = await pg.evaluate(() => ({error: window.demoError, faces: window.demoFaces, status: document.getElementById('status').textContent}));
  await pg.screenshot({path: o.out, fullPage: true});
  console.log(`demo: ${r.status}`);
  ok = !r.error && Array.isArray(r.faces) && r.faces.length > 0;
  if (!ok) console.log(`screenshot.mjs: ${r.error ? `the page failed: ${r.error}` : 'no face drawn'}`);
  console.log(`screenshot: ${o.out}`);
} finally {
  await ctx.close();
  server.close();
  fs.rmSync(profile, {recursive: true, force: true});
  if (tmp) fs.rmSync(tmp, {recursive: true, force: true});
}
process.exit(ok ? 0 : 1);
