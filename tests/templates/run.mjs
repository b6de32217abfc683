#!/usr/bin/env node
// Suite 'templates': builds a tiny model package from templates/ exactly as
// the package step does (stage, tsup, npm pack), type-checks a consumer of
// the tarball, then drives headless Chromium (SwiftShader WebGPU, f32 only)
// through the runtime:
//   - initDevice reports f16 = false with the reason, and device loss calls
//     onLost + onRestartNeeded once and never the re-init;
//   - weights from m2w-extract (face_detection_short_range.tflite) and from
//     m2w-pack (per-layer shards, --one-file, and a server that ignores
//     Range) load into buffers whose bytes, read back with readBuffer, hash
//     like the files' bytes (every tensor, every chunk); aliases share one
//     buffer; progress ends at the total; the server log shows one Range
//     request per shard with the shard's byte range;
//   - a Batcher with flushEvery 4 submits after dispatches 4 and 8 (queue
//     submits counted), gives exact results, destroys a deferred buffer only
//     after the work completed;
//   - toNpy output loads in numpy equal bit for bit;
//   - the generic demo index.html loads (progress bar full), runs, shows ms;
//   - templates/check/activations.mjs passes against a numpy reference and
//     fails (exit 1) against a perturbed one.
//
// usage: run.mjs WORKDIR --extract M2W-EXTRACT --pack M2W-PACK
//                --shadergen M2W-SHADERGEN --check M2W-CHECK [--toolchain NODE_MODULES]
// Needs the toolchain's node_modules (default templates/toolchain/node_modules,
// `npm ci` there) and playwright-core (NODE_PATH or the toolchain); exits 77
// when either is missing.
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const src = path.resolve(here, '../..');
const templates = path.join(src, 'templates');
const args = process.argv.slice(2);
const tool = {};
let work = null;
for (let i = 0; i < args.length; i++) {
  if (args[i].startsWith('--')) tool[args[i].slice(2)] = args[++i];
  else work = args[i];
}
const toolchain = path.resolve(tool.toolchain || path.join(templates, 'toolchain/node_modules'));
if (!work || !tool.extract || !tool.pack || !tool.shadergen || !tool.check) {
  console.error('usage: run.mjs WORKDIR --extract X --pack P --shadergen S --check C');
  process.exit(2);
}
const py3 = fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

if (!fs.existsSync(path.join(toolchain, 'tsup/package.json'))) {
  console.log(`SKIP: ${toolchain} is missing; run \`npm ci\` in templates/toolchain`);
  process.exit(77);
}
let chromium;
try {
  const req = createRequire(path.join(process.env.NODE_PATH || toolchain, 'x.js'));
  ({ chromium } = req('playwright-core'));
} catch {
  console.log('SKIP: playwright-core not found (NODE_PATH or templates/toolchain)');
  process.exit(77);
}
if (!fs.existsSync('/usr/bin/chromium')) {
  console.log('SKIP: /usr/bin/chromium is missing');
  process.exit(77);
}

let failures = 0;
function check(ok, what) {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures++;
}
function run(cmd, argv, opts = {}) {
  const r = spawnSync(cmd, argv, { encoding: 'utf8', ...opts });
  if (r.status !== 0 && !opts.mayFail) {
    console.error(`run.mjs: ${cmd} ${argv.join(' ')} exited ${r.status}\n${r.stdout}${r.stderr}`);
    process.exit(1);
  }
  return r;
}
const sha = (b) => crypto.createHash('sha256').update(b).digest('hex');
const readJson = (f) => JSON.parse(fs.readFileSync(f, 'utf8'));

fs.rmSync(work, { recursive: true, force: true });
fs.mkdirSync(work, { recursive: true });
work = path.resolve(work);

// ---- weights: m2w-extract, then m2w-pack with per-layer names ----
const model = path.join(src, 'subprojects/face-detection/face_detection_short_range.tflite');
fs.mkdirSync(path.join(work, 'extract'));
run(tool.extract, [model, '-o', path.join(work, 'extract/weights.bin')]);
const wj = readJson(path.join(work, 'extract/weights.json'));
// names from the 11th tensor on go to layers of 20 tensors: several shards
const names = {};
wj.tensors.forEach((t, i) => { if (i >= 10) names[t.name] = `layers.${Math.floor((i - 10) / 20)}.${t.name}`; });
fs.writeFileSync(path.join(work, 'names.json'), JSON.stringify(names));
fs.mkdirSync(path.join(work, 'named'));
run(tool.extract, [model, '--names', path.join(work, 'names.json'), '-o', path.join(work, 'named/weights.bin')]);
run(tool.pack, ['-q', path.join(work, 'named/weights.json'), '-o', path.join(work, 'sharded'), '--max-binding', '8192']);
run(tool.pack, ['-q', path.join(work, 'named/weights.json'), '-o', path.join(work, 'onefile'), '--max-binding', '8192', '--one-file']);
const sj = readJson(path.join(work, 'sharded/shards.json'));
// a blob and a manifest from different builds (a kill between writing the
// two): the manifest claims 64 more bytes than the blob has
fs.mkdirSync(path.join(work, 'mismatch'));
fs.copyFileSync(path.join(work, 'extract/weights.bin'), path.join(work, 'mismatch/weights.bin'));
{
  const mj = readJson(path.join(work, 'extract/weights.json'));
  mj.bytes += 64;
  fs.writeFileSync(path.join(work, 'mismatch/weights.json'), JSON.stringify(mj));
}
check(sj.shards.length >= 3, `m2w-pack wrote ${sj.shards.length} shards (>= 3)`);
check(sj.tensors.some((t) => t.chunks), `m2w-pack chunked ${sj.tensors.filter((t) => t.chunks).length} tensors`);
check(sj.tensors.some((t) => t.alias), `m2w-pack aliased ${sj.tensors.filter((t) => t.alias).length} tensors`);

// ---- stage the package as the package step does ----
const pkg = path.join(work, 'pkg');
fs.mkdirSync(path.join(pkg, 'src/runtime'), { recursive: true });
const subst = (text) => text.replaceAll('@NAME@', 'm2w-templates-selftest').replaceAll('@VERSION@', '0.0.1')
  .replaceAll('@DESCRIPTION@', 'm2w templates self-test package').replaceAll('@LICENSE@', 'Apache-2.0');
fs.writeFileSync(path.join(pkg, 'package.json'), subst(fs.readFileSync(path.join(templates, 'package/package.json.in'), 'utf8')));
fs.writeFileSync(path.join(pkg, 'README.md'), subst(fs.readFileSync(path.join(templates, 'package/README.md.in'), 'utf8')));
for (const f of ['tsconfig.json', 'tsup.config.ts', 'index.html'])
  fs.copyFileSync(path.join(templates, 'package', f), path.join(pkg, f));
for (const f of fs.readdirSync(path.join(templates, 'runtime')).filter((n) => n.endsWith('.ts')))
  fs.copyFileSync(path.join(templates, 'runtime', f), path.join(pkg, 'src/runtime', f));
fs.copyFileSync(path.join(here, 'pkg/index.ts'), path.join(pkg, 'src/index.ts'));
run(tool.shadergen, ['--f16', path.join(src, 'shaders/relu.wgsl'), path.join(src, 'shaders/add.wgsl'), '-o', path.join(pkg, 'src/shaders.ts')]);
fs.mkdirSync(path.join(pkg, 'weights'));
for (const f of ['weights.json', 'weights.bin'])
  fs.copyFileSync(path.join(work, 'extract', f), path.join(pkg, 'weights', f));
fs.symlinkSync(toolchain, path.join(pkg, 'node_modules'));

let t0 = Date.now();
run(process.execPath, [path.join(toolchain, 'tsup/dist/cli-default.js')], { cwd: pkg });
check(fs.existsSync(path.join(pkg, 'dist/index.js')) && fs.existsSync(path.join(pkg, 'dist/index.d.ts')),
  `tsup built dist/index.js (${fs.statSync(path.join(pkg, 'dist/index.js')).size} bytes) and dist/index.d.ts in ${Date.now() - t0} ms`);
const dts = fs.readFileSync(path.join(pkg, 'dist/index.d.ts'), 'utf8');
check(!/\bGPU[A-Z]\w*/.test(dts), 'dist/index.d.ts names no WebGPU type');
run(process.execPath, [path.join(toolchain, 'typescript/bin/tsc'), '-p', pkg, '--noEmit']);
check(true, 'the staged package type-checks with tsc (strict, @webgpu/types from the toolchain)');

const packed = run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: pkg });
const info = JSON.parse(packed.stdout)[0];
const files = info.files.map((f) => f.path).sort();
check(['README.md', 'dist/index.d.ts', 'dist/index.js', 'package.json', 'weights/weights.bin', 'weights/weights.json']
  .every((f) => files.includes(f)) && !files.some((f) => f.startsWith('src/') || f.startsWith('node_modules/')),
  `npm pack: ${info.filename} holds ${files.join(', ')}`);

// a consumer type-checks against the tarball without @webgpu/types
const consumer = path.join(work, 'consumer');
const dep = path.join(consumer, 'node_modules/m2w-templates-selftest');
fs.mkdirSync(dep, { recursive: true });
run('tar', ['-xzf', path.join(work, info.filename), '-C', dep, '--strip-components=1']);
fs.writeFileSync(path.join(consumer, 'tsconfig.json'), JSON.stringify({
  compilerOptions: { target: 'ES2022', module: 'ESNext', moduleResolution: 'bundler', lib: ['ES2022', 'DOM'],
    strict: true, noEmit: true, skipLibCheck: false, types: [] }, include: ['main.ts'] }));
fs.writeFileSync(path.join(consumer, 'main.ts'), `import { loadModel, type Model } from 'm2w-templates-selftest';
const m: Model = await loadModel(undefined, { onProgress: (loaded: number, total: number) => console.log(loaded, total) });
const y: Float32Array = await m.run(m.demoInput());
console.log(y.length, m.f16);
`);
const tsc = path.join(toolchain, 'typescript/bin/tsc');
let r = run(process.execPath, [tsc, '-p', consumer], { mayFail: true });
check(r.status === 0, `consumer tsc --noEmit (strict, skipLibCheck false, no @webgpu/types): exit ${r.status} ${r.stdout.trim()}`);
fs.writeFileSync(path.join(consumer, 'main.ts'), `import { loadModel } from 'm2w-templates-selftest';
const wrong: string = await loadModel();
`);
r = run(process.execPath, [tsc, '-p', consumer], { mayFail: true });
check(r.status !== 0 && /TS2322/.test(r.stdout), 'consumer tsc rejects a mistyped use (TS2322): the types are real');

// ---- browser: serve WORK with Range; /norange/ ignores Range ----
const requests = [];
const server = http.createServer((q, s) => {
  const url = new URL(q.url, 'http://localhost');
  let p = decodeURIComponent(url.pathname);
  let honour = true;
  if (p.startsWith('/norange/')) { honour = false; p = p.slice('/norange'.length); }
  if (p === '/favicon.ico') { s.writeHead(204); s.end(); return; }
  if (p === '/page.html') {
    s.writeHead(200, { 'content-type': 'text/html' });
    s.end('<!doctype html><meta charset="utf-8"><script type="module">' +
      'window.selfTest = async (m) => (await import("/pkg/dist/index.js")).selfTest(m); window.ready = true;</script>');
    return;
  }
  const file = path.join(work, p);
  if (!file.startsWith(work + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
    s.writeHead(404); s.end(); return;
  }
  const size = fs.statSync(file).size;
  const m = honour ? /^bytes=(\d+)-(\d+)$/.exec(q.headers.range || '') : null;
  requests.push({ path: url.pathname, range: q.headers.range || null, status: m ? 206 : 200 });
  const type = file.endsWith('.js') ? 'text/javascript' : file.endsWith('.json') ? 'application/json'
    : file.endsWith('.html') ? 'text/html' : 'application/octet-stream';
  if (m) {
    const a = Number(m[1]), b = Math.min(Number(m[2]), size - 1);
    s.writeHead(206, { 'content-type': type, 'content-range': `bytes ${a}-${b}/${size}`, 'content-length': b - a + 1 });
    fs.createReadStream(file, { start: a, end: b }).pipe(s);
  } else {
    s.writeHead(200, { 'content-type': type, 'content-length': size });
    fs.createReadStream(file).pipe(s);
  }
});
await new Promise((res) => server.listen(0, '127.0.0.1', res));
let mismatchError = null;
const manifests = ['/pkg/weights/weights.json', '/sharded/shards.json', '/onefile/shards.json', '/norange/onefile/shards.json'];
const profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'm2w-chromium-'));
let report = null, ctx = null, demoState = null;
t0 = Date.now();
try {
  ctx = await chromium.launchPersistentContext(profileDir, {
    executablePath: '/usr/bin/chromium', headless: true,
    args: ['--enable-unsafe-webgpu', '--no-sandbox', '--headless=new', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
  const page = await ctx.newPage();
  page.on('console', (m) => console.log(`page: ${m.text()}`));
  page.on('pageerror', (e) => console.log(`page error: ${e.message}`));
  await page.goto(`http://localhost:${server.address().port}/page.html`);
  await page.waitForFunction(() => window.ready === true, null, { timeout: 30000 });
  report = await page.evaluate((m) => window.selfTest(m), manifests);
  mismatchError = await page.evaluate(async () => {
    try {
      await (await import('/pkg/dist/index.js')).loadOnly('/mismatch/weights.json');
      return '';
    } catch (e) { return String(e && e.message || e); }
  });
  // the generic demo page: progress bar, Run button, timing
  const demo = await ctx.newPage();
  demo.on('pageerror', (e) => console.log(`demo page error: ${e.message}`));
  await demo.goto(`http://localhost:${server.address().port}/pkg/index.html`);
  await demo.waitForFunction(() => !document.getElementById('run').disabled, null, { timeout: 60000 });
  await demo.click('#run');
  await demo.waitForFunction(() => document.getElementById('timing').textContent !== '', null, { timeout: 60000 });
  demoState = await demo.evaluate(() => ({
    status: document.getElementById('status').textContent,
    progress: [document.getElementById('progress').value, document.getElementById('progress').max],
    timing: document.getElementById('timing').textContent,
    output: document.getElementById('output').textContent,
  }));
} catch (e) {
  console.error(`run.mjs: browser: ${e && e.message ? e.message : e}`);
} finally {
  if (ctx) await ctx.close();
  server.close();
  fs.rmSync(profileDir, { recursive: true, force: true });
}
if (!report) process.exit(1);
console.log(`browser self-test took ${Date.now() - t0} ms; adapter ${JSON.stringify(report.adapter)}`);

check(report.f16 === false && report.f16Reason === 'adapter lacks shader-f16',
  `initDevice: f16 = ${report.f16} (${report.f16Reason})`);
check(report.limits.maxStorageBufferBindingSize >= 134217728 && report.limits.maxBufferSize >= 268435456,
  `initDevice: limits requested at the adapter's (maxStorageBufferBindingSize ${report.limits.maxStorageBufferBindingSize}, maxBufferSize ${report.limits.maxBufferSize}, maxComputeWorkgroupStorageSize ${report.limits.maxComputeWorkgroupStorageSize})`);

// expected bytes of every tensor, from the files (never from the runtime)
function expectedExtract(dir) {
  const m = readJson(path.join(dir, 'weights.json'));
  const blob = fs.readFileSync(path.join(dir, 'weights.bin'));
  const out = {};
  for (const t of m.tensors) out[t.name] = { sha: [sha(blob.subarray(t.offset, t.offset + t.bytes))], size: t.bytes, alias: null };
  return { out, total: m.bytes };
}
function expectedPack(dir) {
  const m = readJson(path.join(dir, 'shards.json'));
  const out = {};
  const file = (s) => fs.readFileSync(path.join(dir, s.file));
  for (const t of m.tensors) {
    if (t.alias) continue;
    const s = m.shards[t.shard], f = file(s);
    const parts = t.chunks ? t.chunks : [{ offset: t.offset, bytes: t.bytes }];
    out[t.name] = { sha: parts.map((c) => sha(f.subarray(s.offset + c.offset, s.offset + c.offset + c.bytes))), size: t.bytes, alias: null };
  }
  for (const t of m.tensors) if (t.alias) out[t.name] = { ...out[t.alias], alias: t.alias };
  return { out, total: m.shards.reduce((n, s) => n + s.bytes, 0), shards: m.shards };
}
const usageWanted = report.usageWanted;
for (const [i, load] of report.loads.entries()) {
  const dir = path.join(work, manifests[i].replace(/^\/(norange\/)?/, '').replace(/\/[^/]+$/, ''));
  const exp = manifests[i].endsWith('weights.json') ? expectedExtract(dir) : expectedPack(dir);
  const names = Object.keys(exp.out);
  const bad = names.filter((n) => !load.tensors[n] || load.tensors[n].size !== exp.out[n].size ||
    JSON.stringify(load.tensors[n].sha) !== JSON.stringify(exp.out[n].sha));
  check(bad.length === 0 && Object.keys(load.tensors).length === names.length,
    `${manifests[i]}: ${names.length} tensors read back equal the file bytes (${names.reduce((n, k) => n + exp.out[k].sha.length, 0)} buffers)` +
    (bad.length ? `; differ: ${bad.slice(0, 5).join(', ')}` : ''));
  const aliases = names.filter((n) => exp.out[n].alias);
  if (aliases.length)
    check(aliases.every((n) => load.tensors[n].aliasOf === exp.out[n].alias && load.tensors[n].sharesBuffer === true),
      `${manifests[i]}: ${aliases.length} aliases share their target's GPUBuffer`);
  check(Object.values(load.tensors).every((t) => (t.usage & usageWanted) === usageWanted),
    `${manifests[i]}: every buffer has STORAGE|COPY_SRC|COPY_DST`);
  check(load.monotonic && load.loaded === exp.total && load.total === exp.total && load.progressCalls > 0,
    `${manifests[i]}: progress ${load.progressCalls} calls, monotonic, ended at ${load.loaded}/${load.total} (expected ${exp.total})`);
  if (exp.shards) {
    const prefix = manifests[i].replace(/shards\.json$/, '');
    const got = requests.filter((q) => q.path.startsWith(prefix) && !q.path.endsWith('.json'));
    const want = exp.shards.map((s) => ({ path: prefix + s.file, range: `bytes=${s.offset}-${s.offset + s.bytes - 1}` }));
    const norange = prefix.startsWith('/norange/');
    const same = got.length === want.length && want.every((w) => got.some((g) => g.path === w.path && g.range === w.range &&
      g.status === (norange ? 200 : 206)));
    check(same, `${manifests[i]}: ${got.length} requests, one Range per shard (${want.length}), answered ${norange ? '200 (whole file)' : '206'}`);
  }
}

check(demoState && /^Loaded in \d+ ms on .* \(f32 shaders, \d+ tensors\)$/.test(demoState.status) && demoState.progress[0] === demoState.progress[1] &&
  demoState.progress[1] === 405952 && /^run: [\d.]+ ms$/.test(demoState.timing) && /^Float32Array\(65536\) \[0, 6\.7318, 7\.2744/.test(demoState.output),
  `demo index.html: "${demoState && demoState.status}", progress ${demoState && demoState.progress.join('/')}, "${demoState && demoState.timing}", ${demoState && demoState.output.slice(0, 40)}`);

const b = report.batcher;
check(JSON.stringify(b.submitsSeen) === JSON.stringify([0, 0, 0, 1, 1, 1, 1, 2, 2, 2]) && b.submitsAfterDone === 3 && b.batcherSubmits === 3,
  `Batcher flushEvery 4: queue submits after each of 10 dispatches ${JSON.stringify(b.submitsSeen)}, ${b.submitsAfterDone} after done()`);
check(b.maxErr === 0, `Batcher: 10 chained adds exact across flushes (max error ${b.maxErr})`);
check(b.destroyedBeforeDone === false && b.destroyedAfterDone === true, 'deferDestroy: destroyed only after the submitted work completed');
check(typeof mismatchError === 'string' && /different builds/.test(mismatchError),
  `a weights.bin with a manifest from another build is refused: "${mismatchError}"`);
check((report.profile.enabled ? report.profile.timings === 3 && report.profile.positive : report.profile.timings === 0) &&
  !report.profile.error,
  `Profiler: timestamp-query ${report.profile.enabled ? 'on' : 'absent'}, ${report.profile.timings} timings over 3 submits` +
  (report.profile.error ? `, validation error: ${report.profile.error}` : ''));
const l = report.lost;
check(l.lost === 1 && l.restartCalls === 1 && l.reinitCalls === 0 && l.quietCalls === 0,
  `device loss: onLost ${l.lost}, onRestartNeeded ${l.restartCalls}, reinit ${l.reinitCalls} (never automatic), intentional destroy reported ${l.quietCalls}`);

const bits = (a) => Array.from(new Uint32Array(Float32Array.from(a).buffer));
r = run(py3, [path.join(here, 'check_npy.py'), '--inline', JSON.stringify({
  scalar: [report.npy.scalar, [], bits([3.5])],
  vector: [report.npy.vector, [7], bits([1, -2, 0.1, -0, 1e-30, 3e38, -7])],
  empty: [report.npy.empty, [0, 4], []],
})], { mayFail: true });
process.stdout.write(r.stdout + r.stderr);
check(r.status === 0, 'toNpy: 0-d, 1-d and empty arrays load in numpy bit for bit');

// ---- activations.mjs against a numpy reference ----
const act = path.join(work, 'act');
fs.mkdirSync(act);
r = run(py3, ['-c', `
import numpy as np, os
rng = np.random.default_rng(7)
x = rng.standard_normal((2, 3, 5)).astype(np.float32)
np.save('${act}/x.npy', x)
for d, delta in (('ref', 0), ('bad', 1)):
    os.makedirs('${act}/' + d)
    relu = np.maximum(x, np.float32(0))
    np.save('${act}/' + d + '/00_relu.npy', relu)
    np.save('${act}/' + d + '/01_add.npy', relu + x + np.float32(delta))
`]);
const driver = path.join(templates, 'check/activations.mjs');
const actArgs = (ref, out) => [driver, '--root', pkg, '--module', 'dist/index.js', '--function', 'captureActivations',
  '--input', `x=${act}/x.npy`, '--out', path.join(act, out), '--ref', path.join(act, ref), '--m2w-check', tool.check];
r = run(process.execPath, actArgs('ref', 'out'), { mayFail: true });
process.stdout.write(r.stdout + r.stderr);
check(r.status === 0, `activations.mjs vs the numpy reference: exit ${r.status}`);
r = run(py3, [path.join(here, 'check_npy.py'), path.join(act, 'out'), path.join(act, 'x.npy')], { mayFail: true });
process.stdout.write(r.stdout + r.stderr);
check(r.status === 0, 'captured .npy files (toNpy) equal numpy relu / relu + x bit for bit');
r = run(process.execPath, actArgs('bad', 'out-bad'), { mayFail: true });
const rep = fs.existsSync(path.join(act, 'out-bad/report.json')) ? fs.readFileSync(path.join(act, 'out-bad/report.json'), 'utf8') : '';
check(r.status === 1 && rep.includes('01_add'), `activations.mjs vs a perturbed reference: exit ${r.status}, report names 01_add`);

console.log(failures ? `${failures} checks failed` : 'all checks passed');
process.exit(failures ? 1 : 0);
