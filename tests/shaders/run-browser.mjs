#!/usr/bin/env node
// Serves the shader test page from a small HTTP server on localhost (WebGPU
// needs a secure context) and drives Debian's Chromium through
// playwright-core: headless, SwiftShader's WebGPU adapter, a fresh profile.
//
// usage: run-browser.mjs SHADERS.ts [--bench] [--filter a,b] [--verbose]
//                        [--timeout SECONDS] [--sizes 512,1024]
// NODE_PATH (or tests/node/node_modules) must hold playwright-core.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const opts = { mode: 'test', verbose: false };
let shadersPath = null, timeout = 600;
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--bench') opts.mode = 'bench';
  else if (a === '--verbose') opts.verbose = true;
  else if (a === '--filter') opts.filter = args[++i];
  else if (a === '--sizes') opts.sizes = args[++i].split(',').map(Number);
  else if (a === '--timeout') timeout = Number(args[++i]);
  else if (!shadersPath) shadersPath = a;
  else {
    console.error(`run-browser: unexpected argument ${a}`);
    process.exit(2);
  }
}
if (!shadersPath) {
  console.error('usage: run-browser.mjs SHADERS.ts [--bench] [--filter a,b] [--verbose]');
  process.exit(2);
}

const req = createRequire(process.env.NODE_PATH ? path.join(process.env.NODE_PATH, 'x.js')
  : path.join(here, '../node/node_modules/x.js'));
const { chromium } = req('playwright-core');

const files = {
  '/shaders.ts': shadersPath,
  '/main.js': path.join(here, 'main.js'),
  '/harness.js': path.join(here, 'harness.js'),
  '/cases.js': path.join(here, 'cases.js'),
  '/suite-run.js': path.join(here, 'suite-run.js'),
  '/bench.js': path.join(here, 'bench.js'),
};
const server = http.createServer((q, s) => {
  const url = new URL(q.url, 'http://localhost');
  if (url.pathname === '/') {
    s.writeHead(200, { 'content-type': 'text/html' });
    s.end('<!doctype html><meta charset="utf-8"><title>m2w shaders</title>' +
      '<script type="module" src="/main.js"></script>');
    return;
  }
  if (url.pathname === '/favicon.ico') {
    s.writeHead(204);
    s.end();
    return;
  }
  const f = files[url.pathname];
  if (!f || !fs.existsSync(f)) {
    s.writeHead(404);
    s.end();
    return;
  }
  // shaders.ts is plain JavaScript too (m2w-shadergen emits no type syntax)
  s.writeHead(200, { 'content-type': 'text/javascript', 'cache-control': 'no-store' });
  s.end(fs.readFileSync(f));
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const port = server.address().port;

const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'm2w-chromium-'));
let ctx = null, ok = false;
const killer = setTimeout(() => {
  console.error(`run-browser: timed out after ${timeout} s`);
  process.exit(1);
}, timeout * 1000);
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
  await page.goto(`http://localhost:${port}/`);
  await page.waitForFunction(() => typeof window.m2wRun === 'function', null, { timeout: 30000 });
  ok = await page.evaluate((o) => window.m2wRun(o), opts);
} catch (e) {
  console.error('run-browser: ' + (e && e.message ? e.message : e));
} finally {
  clearTimeout(killer);
  if (ctx) await ctx.close();
  server.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
process.exit(ok ? 0 : 1);
