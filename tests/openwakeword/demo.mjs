#!/usr/bin/env node
// The demo page (subprojects/openwakeword/demo/index.html) in headless
// Chromium: served beside the unpacked package's dist/ and weights/, a WAV
// file given to its file input, the page's score labels polled while the
// clip plays.  Exits 0 when the page loaded the model, showed a score for
// every wake word and a peak ≥ --min (default 0.5, for a clip with the
// wake word) once the clip has played and every step is scored; writes a
// screenshot with --screenshot.
//
//   node demo.mjs --package PKG.tgz|DIR --demo index.html --wav CLIP.wav [--min S] [--screenshot OUT.png]
//
// Autoplay: headless Chromium gets --autoplay-policy=no-user-gesture-required
// (a person's file pick is a user gesture; Playwright's setInputFiles is not).
import {execFileSync} from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import {createRequire} from 'node:module';

const o = {min: 0.5};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--package') o.pkg = argv[++i];
  else if (argv[i] === '--demo') o.demo = argv[++i];
  else if (argv[i] === '--wav') o.wav = argv[++i];
  else if (argv[i] === '--min') o.min = Number(argv[++i]);
  else if (argv[i] === '--screenshot') o.shot = argv[++i];
}
if (!o.pkg || !o.demo || !o.wav) {
  console.error('usage: node demo.mjs --package PKG.tgz|DIR --demo index.html --wav CLIP.wav [--min S] [--screenshot OUT.png]');
  process.exit(2);
}
const nm = process.env.NODE_PATH || path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'node', 'node_modules');
const {chromium} = createRequire(path.join(nm, 'x.js'))('playwright-core');
let root = path.resolve(o.pkg), tmp = null;
if (fs.statSync(root).isFile()) {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'm2w-oww-demo-'));
  execFileSync('tar', ['xzf', root, '-C', tmp]);
  root = path.join(tmp, 'package');
}
const types = {'.js': 'text/javascript', '.json': 'application/json', '.html': 'text/html'};
const server = http.createServer((q, s) => {
  const p = decodeURIComponent(new URL(q.url, 'http://x').pathname);
  const file = p === '/' || p === '/index.html' ? path.resolve(o.demo) : path.join(root, p);
  if (p.includes('..') || !fs.existsSync(file) || !fs.statSync(file).isFile()) { s.writeHead(404); s.end(); return; }
  s.writeHead(200, {'content-type': types[path.extname(file)] || 'application/octet-stream'});
  fs.createReadStream(file).pipe(s);
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'm2w-oww-demo-'));
const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium', headless: true, viewport: {width: 800, height: 520},
  args: ['--enable-unsafe-webgpu', '--no-sandbox', '--headless=new', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic', '--autoplay-policy=no-user-gesture-required'],
});
let ok = false;
try {
  const pg = await ctx.newPage();
  const errors = [];
  pg.on('pageerror', (e) => errors.push(e.message));
  pg.on('console', (m) => { if (m.type() === 'error') errors.push(`${m.text()} (${m.location().url})`); });
  await pg.goto(`http://127.0.0.1:${server.address().port}/index.html`);
  await pg.waitForFunction(() => !document.getElementById('file').disabled || document.getElementById('status').className === 'err', null, {timeout: 120000});
  const status = await pg.textContent('#status');
  console.log(`status: ${status}`);
  if (await pg.getAttribute('#status', 'class') === 'err') throw new Error(`the demo failed to load: ${status}`);
  await pg.setInputFiles('#file', o.wav);
  // the clip plays in real time; the demo says "Played NAME: N steps, peak ..." once every block is scored
  const seconds = fs.statSync(o.wav).size / 32000;
  await pg.waitForFunction(() => /^Played/.test(document.getElementById('status').textContent), null, {timeout: (seconds * 4 + 30) * 1000});
  const labels = await pg.$$eval('#words > div:not(.track)', (ds) => ds.map((d) => d.textContent));
  const peak = {};
  for (const l of labels) {
    const m = /^(\S+): ([0-9.]+) \(peak ([0-9.]+)\)/.exec(l);
    if (m) peak[m[1]] = Number(m[3]);
  }
  const timing = await pg.textContent('#timing');
  if (o.shot) await pg.screenshot({path: o.shot});
  console.log(`labels: ${labels.join(' | ')}; ${timing}; status: ${await pg.textContent('#status')}`);
  if (errors.length) console.log(`page errors: ${errors.join(' | ')}`);
  ok = Object.keys(peak).length > 0 && Object.values(peak).every((p) => p >= o.min) && errors.length === 0 && /ms for the last/.test(timing);
} catch (e) {
  console.error(`demo.mjs: ${e.message || e}`);
} finally {
  await ctx.close();
  server.close();
  fs.rmSync(profile, {recursive: true, force: true});
  if (tmp) fs.rmSync(tmp, {recursive: true, force: true});
}
console.log(ok ? 'demo: pass' : 'demo: FAIL');
process.exit(ok ? 0 : 1);
