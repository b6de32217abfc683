#!/usr/bin/env node
// One m2w-scaffold engine draft, unedited, against the native runtime.
//
//   node run.mjs --name NAME --model MODEL --draft DIR --weights W.json --shaders SHADERS.ts
//                --check M2W_CHECK --work DIR [--atol A] [--rtol R]
//                --inputs-arg ARG... --reference-arg ARG...
//                [--port FILE]... [--port-reports DIR --port-prefix P] [--timeout S]
//
// DIR (--draft) is m2w-scaffold's output (engine.ts, types.ts, report.json),
// made by the build and never edited.  Steps:
//   1. the input generator (--inputs-arg..., completed with `--out WORK/cases`)
//      writes WORK/cases/<case>/<input>.npy; the reference generator
//      (--reference-arg..., completed with `--model MODEL --cases WORK/cases`)
//      writes WORK/cases/<case>/ref/*.npy, every intermediate tensor;
//   2. tsc checks the draft under templates/package/tsconfig.json (strict);
//      esbuild bundles the draft with templates/runtime and SHADERS.ts (the
//      library shaders, m2w-shadergen) as the conformance harness does;
//   3. one headless Chromium page (playwright-core, /usr/bin/chromium,
//      DESIGN.md's flags) loads the weights, runs every case with a
//      DebugCapture and posts every checkpoint back as .npy;
//   4. m2w-check per case in the engine's checkpoint order at --atol/--rtol;
//      every reference tensor must have a checkpoint and every checkpoint a
//      reference.
// Prints checkpoint / max err / pass (the worst case over all inputs), the
// count against the checkpoints the hand-written port passes in its own
// test (its m2w-check reports under --port-reports, names starting with
// --port-prefix; shown when that test has run in this build), and the
// `diff -u` size between the draft's engine.ts + types.ts and --port files.
// Exit 0 when every checkpoint of every case passes, 1 otherwise, 77 when a
// real component is missing.
import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import {createRequire} from 'node:module';
import {fileURLToPath} from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = process.env.M2W_SOURCE_ROOT || path.resolve(here, '../..');
const o = {atol: '0.01', rtol: '0.01', inputs: [], reference: [], port: [], timeout: 600};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i], v = () => argv[++i];
  if (a === '--name') o.name = v();
  else if (a === '--model') o.model = v();
  else if (a === '--draft') o.draft = v();
  else if (a === '--weights') o.weights = v();
  else if (a === '--shaders') o.shaders = v();
  else if (a === '--check') o.check = v();
  else if (a === '--work') o.work = v();
  else if (a === '--atol') o.atol = v();
  else if (a === '--rtol') o.rtol = v();
  else if (a === '--inputs-arg') o.inputs.push(v());
  else if (a === '--reference-arg') o.reference.push(v());
  else if (a === '--port') o.port.push(v());
  else if (a === '--port-reports') o.portReports = v();
  else if (a === '--port-prefix') o.portPrefix = v();
  else if (a === '--timeout') o.timeout = Number(v());
  else {
    console.error(`run.mjs: unexpected argument ${a}`);
    process.exit(2);
  }
}
const missing = ['name', 'model', 'draft', 'weights', 'shaders', 'check', 'work'].filter((k) => !o[k]);
if (missing.length || !o.inputs.length || !o.reference.length) {
  console.error(`run.mjs: missing ${missing.map((k) => '--' + k).join(' ')} (and --inputs-arg, --reference-arg are required)`);
  process.exit(2);
}
if (!fs.existsSync('/usr/bin/chromium')) {
  console.log('skip: /usr/bin/chromium is not installed');
  process.exit(77);
}
const nm = process.env.NODE_PATH || path.join(root, 'tests/node/node_modules');
if (!fs.existsSync(path.join(nm, 'playwright-core'))) {
  console.log(`skip: npm playwright-core is not installed in ${nm}`);
  process.exit(77);
}
const safe = (n) => n.replace(/[^A-Za-z0-9._-]/g, '_');
const secs = (a, b) => ((b - a) / 1000).toFixed(1);
const t0 = Date.now();
const casesDir = path.join(o.work, 'cases');
fs.mkdirSync(casesDir, {recursive: true});

// ---- 1. inputs and references ----
const step = (what, cmd, args) => {
  const r = spawnSync(cmd, args, {encoding: 'utf8'});
  if (r.status === 77) {
    console.log(`${what}: ${(r.stdout + r.stderr).trim()}`);
    process.exit(77);
  }
  if (r.status !== 0) {
    console.error(`run.mjs: ${what} failed (${r.status ?? r.signal}):\n${r.stdout}${r.stderr}`);
    process.exit(1);
  }
  if (r.stdout.trim()) console.log(r.stdout.trim());
};
step('inputs', o.inputs[0], [...o.inputs.slice(1), '--out', casesDir]);
step('reference', o.reference[0], [...o.reference.slice(1), '--model', o.model, '--cases', casesDir]);
const report = JSON.parse(fs.readFileSync(path.join(o.draft, 'report.json'), 'utf8'));
const inputNames = report.inputs.map((i) => i.name);
const cases = fs.readdirSync(casesDir).filter((c) => fs.existsSync(path.join(casesDir, c, 'ref', 'order.txt'))).sort();
for (const c of cases) {
  for (const n of inputNames)
    if (!fs.existsSync(path.join(casesDir, c, safe(n) + '.npy'))) {
      console.error(`run.mjs: case ${c} has no ${safe(n)}.npy`);
      process.exit(1);
    }
  fs.rmSync(path.join(casesDir, c, 'webgpu'), {recursive: true, force: true});
  fs.mkdirSync(path.join(casesDir, c, 'webgpu'));
}
if (!cases.length) {
  console.error(`run.mjs: the generators left no case in ${casesDir}`);
  process.exit(1);
}
// every library shader the draft names must be in SHADERS.ts
const shaderSrc = fs.readFileSync(o.shaders, 'utf8');
const camel = (z) => z.replace(/_([a-z0-9])/g, (_, ch) => ch.toUpperCase());
const missingShaders = report.shaders.filter((z) => !new RegExp(`^export const ${camel(z)}Info\\b`, 'm').test(shaderSrc));
if (missingShaders.length) {
  console.error(`run.mjs: ${o.shaders} lacks ${missingShaders.join(', ')}: add shaders/<name>.wgsl to tests/scaffold-engines/meson.build`);
  process.exit(1);
}
const tData = Date.now();

// ---- 2. the bundle: the draft as the build wrote it, the runtime, the shaders ----
const esbuild = createRequire(path.join(root, 'templates/toolchain/node_modules/x.js'))('esbuild');
const entry = path.join(o.work, 'entry.ts');
fs.writeFileSync(entry, "export { initDevice, loadWeights, parseNpy, toNpy, DebugCapture } from 'm2w-runtime';\n" +
  `export * as engine from ${JSON.stringify(path.resolve(o.draft, 'engine.ts'))};\n`);
const shadersTs = path.resolve(o.shaders), runtimeTs = path.join(root, 'templates/runtime/index.ts');
const built = await esbuild.build({
  entryPoints: [entry], bundle: true, format: 'esm', outdir: path.join(o.work, 'dist'),
  platform: 'browser', target: 'es2022', logLevel: 'silent', resolveExtensions: ['.ts', '.js'],
  plugins: [{
    name: 'm2w-shared',
    setup(b) {
      b.onResolve({filter: /^(\.\/shaders\.js|\.\/runtime\/index\.js|m2w-runtime)$/}, (a) => ({
        path: a.path === './shaders.js' ? shadersTs : runtimeTs,
      }));
    },
  }],
}).catch((e) => ({errors: e.errors ?? [{text: String(e)}]}));
if (built.errors && built.errors.length) {
  console.error('esbuild: ' + built.errors.map((e) => `${e.location?.file ?? ''}:${e.location?.line ?? ''} ${e.text}`).join('\n'));
  process.exit(1);
}
// the draft also type-checks, unedited, under the packages' strict tsconfig
// (templates/package/tsconfig.json) beside the runtime and the shaders
const tscBin = path.join(root, 'templates/toolchain/node_modules/.bin/tsc');
let typecheck = 'not run (no tsc in templates/toolchain)';
if (fs.existsSync(tscBin)) {
  const tdir = path.join(o.work, 'tsc');
  fs.rmSync(tdir, {recursive: true, force: true});
  fs.mkdirSync(path.join(tdir, 'src', 'runtime'), {recursive: true});
  for (const f of ['engine.ts', 'types.ts']) fs.copyFileSync(path.join(o.draft, f), path.join(tdir, 'src', f));
  for (const f of fs.readdirSync(path.join(root, 'templates/runtime')).filter((f) => f.endsWith('.ts')))
    fs.copyFileSync(path.join(root, 'templates/runtime', f), path.join(tdir, 'src', 'runtime', f));
  fs.copyFileSync(shadersTs, path.join(tdir, 'src', 'shaders.ts'));
  fs.copyFileSync(path.join(root, 'templates/package/tsconfig.json'), path.join(tdir, 'tsconfig.json'));
  fs.symlinkSync(path.join(root, 'templates/toolchain/node_modules'), path.join(tdir, 'node_modules'));
  const r = spawnSync(tscBin, ['-p', tdir], {encoding: 'utf8'});
  typecheck = r.status === 0 ? 'pass' : 'FAIL';
  if (r.status !== 0) console.log(`tsc: the draft does not type-check:\n${(r.stdout + r.stderr).trim().split('\n').slice(0, 20).join('\n')}`);
}
const tBundle = Date.now();

// ---- 3. one page runs every case ----
const pageJs = `import * as m from '/dist/entry.js';
window.m2wRun = async (cases, inputs) => {
  const ctx = await m.initDevice({ wantF16: false, timestamps: false });
  const device = ctx.device;
  device.pushErrorScope('validation');
  const weights = await m.loadWeights(device, '/weights.json');
  const engine = new m.engine.Engine(device, weights);
  const info = { adapter: ctx.adapterInfo?.description || ctx.adapterInfo?.vendor || '', dispatches: engine.dispatches, ms: [] };
  for (const c of cases) {
    const feed = {};
    for (const n of inputs)
      feed[n.name] = m.parseNpy(new Uint8Array(await (await fetch('/cases/' + c + '/' + n.file)).arrayBuffer())).data;
    if (c === cases[0]) {
      await engine.run(feed); // warm-up, then one timed run without capture
      const t = performance.now();
      await engine.run(feed);
      info.ms.push(performance.now() - t);
    }
    const capture = new m.DebugCapture(device, { enabled: true });
    await engine.run(feed, { capture });
    const acts = await capture.activations(), shapes = await capture.shapesOf();
    const order = [];
    for (const [n, a] of acts) {
      const f = n.replace(/[^A-Za-z0-9._-]/g, '_');
      await fetch('/out/' + c + '/' + f + '.npy', { method: 'PUT', body: m.toNpy(a, shapes.get(n)) });
      order.push(f);
    }
    await fetch('/out/' + c + '/order.txt', { method: 'PUT', body: order.join('\\n') + '\\n' });
    info.names = [...acts.keys()];
  }
  const err = await device.popErrorScope();
  if (err) throw new Error('WebGPU validation: ' + err.message);
  engine.destroy();
  return info;
};
window.m2wReady = true;
`;
const server = http.createServer((q, s) => {
  const p = decodeURIComponent(new URL(q.url, 'http://x').pathname);
  if (p.includes('..')) { s.writeHead(400); s.end(); return; }
  if (q.method === 'PUT' && p.startsWith('/out/')) {
    const [c, f] = p.slice(5).split('/');
    const parts = [];
    q.on('data', (d) => parts.push(d));
    q.on('end', () => {
      if (cases.includes(c) && /^[A-Za-z0-9._-]+$/.test(f)) fs.writeFileSync(path.join(casesDir, c, 'webgpu', f), Buffer.concat(parts));
      s.writeHead(204);
      s.end();
    });
    return;
  }
  let body = null, type = 'application/octet-stream';
  if (p === '/favicon.ico') { s.writeHead(204); s.end(); return; }
  if (p === '/') [body, type] = ['<!doctype html><meta charset="utf-8"><script type="module" src="/page.js"></script>', 'text/html'];
  else if (p === '/page.js') [body, type] = [pageJs, 'text/javascript'];
  else if (p === '/weights.json') body = fs.readFileSync(o.weights);
  else if (p === '/weights.bin') body = fs.readFileSync(o.weights.replace(/\.json$/, '.bin'));
  else if (p.startsWith('/dist/') && fs.existsSync(path.join(o.work, p))) [body, type] = [fs.readFileSync(path.join(o.work, p)), 'text/javascript'];
  else if (p.startsWith('/cases/') && fs.existsSync(path.join(o.work, p))) body = fs.readFileSync(path.join(o.work, p));
  if (body === null) { s.writeHead(404); s.end(); return; }
  s.writeHead(200, {'content-type': type, 'cache-control': 'no-store'});
  s.end(body);
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const {chromium} = createRequire(path.join(nm, 'x.js'))('playwright-core');
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'm2w-scaffold-engines-'));
const killer = setTimeout(() => { console.error(`run.mjs: timed out after ${o.timeout} s`); process.exit(1); }, o.timeout * 1000);
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
  await pg.goto(`http://127.0.0.1:${server.address().port}/`);
  await pg.waitForFunction(() => window.m2wReady === true, null, {timeout: 60000});
  info = await pg.evaluate(([c, i]) => window.m2wRun(c, i), [cases, inputNames.map((n) => ({name: n, file: safe(n) + '.npy'}))]);
} catch (e) {
  console.error(`run.mjs: ${e.message || e}`);
} finally {
  clearTimeout(killer);
  if (ctx) await ctx.close();
  server.close();
  fs.rmSync(profile, {recursive: true, force: true});
}
if (!info) process.exit(1);
const tPage = Date.now();

// ---- 4. m2w-check every case ----
let ok = true;
const table = new Map(); // checkpoint -> {max, pass, n}
for (const c of cases) {
  const dir = path.join(casesDir, c);
  const refs = fs.readFileSync(path.join(dir, 'ref', 'order.txt'), 'utf8').split('\n').filter(Boolean);
  const got = fs.readFileSync(path.join(dir, 'webgpu', 'order.txt'), 'utf8').split('\n').filter(Boolean);
  const noCapture = refs.filter((n) => !got.includes(n)), noRef = got.filter((n) => !refs.includes(n));
  if (noCapture.length || noRef.length || new Set(got).size !== got.length) {
    ok = false;
    console.log(`${c}: reference tensors with no checkpoint: ${noCapture.join(' ') || '-'}; checkpoints with no reference: ${noRef.join(' ') || '-'}` +
      (new Set(got).size !== got.length ? '; two checkpoints share a file name' : ''));
  }
  const r = spawnSync(o.check, ['--order', path.join(dir, 'webgpu', 'order.txt'), '--atol', o.atol, '--rtol', o.rtol,
    '--json', path.join(dir, 'report.json'), path.join(dir, 'ref'), path.join(dir, 'webgpu')], {encoding: 'utf8'});
  if (r.status !== 0) {
    ok = false;
    console.log(`${c}: m2w-check exit ${r.status}\n${(r.stdout + r.stderr).trim().split('\n').slice(-6).join('\n')}`);
  }
  if (!fs.existsSync(path.join(dir, 'report.json'))) continue;
  for (const k of JSON.parse(fs.readFileSync(path.join(dir, 'report.json'), 'utf8')).checkpoints) {
    const e = table.get(k.name) ?? {max: 0, pass: true, n: 0};
    e.n++;
    e.pass &&= k.status === 'pass';
    e.max = Math.max(e.max, Number(k.max_abs) || 0);
    if (k.status !== 'pass' && k.status !== 'skipped') e.why = `${c}: ${k.status}`;
    if (k.status === 'skipped') e.pass = false;
    table.set(k.name, e);
  }
}
const tCheck = Date.now();
const names = info.names.map(safe);
console.log(`${o.name}: ${report.nodes} nodes, ${info.dispatches} dispatches, ${report.work_buffers} work buffers, ` +
  `${report.stubs} stubs; shaders ${report.shaders.join(' ')}; adapter ${info.adapter || '?'}`);
console.log(`${'checkpoint'.padEnd(56)} ${'max abs err'.padStart(11)}  pass (${cases.length} inputs, atol ${o.atol} rtol ${o.rtol})`);
let passed = 0;
for (const n of names) {
  const e = table.get(n);
  const pass = e && e.pass && e.n === cases.length;
  if (pass) passed++;
  console.log(`${n.slice(0, 56).padEnd(56)} ${e ? e.max.toExponential(2).padStart(11) : '-'.padStart(11)}  ${pass ? 'pass' : 'FAIL' + (e?.why ? ' ' + e.why : '')}`);
}
if (passed !== names.length || !names.length || typecheck === 'FAIL') ok = false;
const worst = Math.max(...[...table.values()].map((e) => e.max));

// the port's figure: its own test's m2w-check reports, when that test has run in this build
let portLine = `the port's own test has not run in this build (no m2w-check reports under ${o.portReports ?? '(none given)'}), so its figure is not shown`;
if (o.portReports && o.portPrefix !== undefined && fs.existsSync(o.portReports)) {
  const reports = [];
  const walk = (d) => {
    for (const f of fs.readdirSync(d, {withFileTypes: true}))
      if (f.isDirectory()) walk(path.join(d, f.name));
      else if (f.name === 'report.json') reports.push(path.join(d, f.name));
  };
  walk(o.portReports);
  const port = new Map();
  for (const f of reports)
    for (const k of JSON.parse(fs.readFileSync(f, 'utf8')).checkpoints) {
      if (!k.name.startsWith(o.portPrefix) || k.status === 'skipped') continue;
      const n = k.name.slice(o.portPrefix.length);
      port.set(n, (port.get(n) ?? true) && k.status === 'pass');
    }
  if (port.size) {
    // a port checkpoint named after a graph input of the draft is the port's
    // own preprocessing: the draft is fed that tensor, it computes nothing there
    const fed = new Set(inputNames.map(safe));
    const portPassed = [...port].filter(([n, p]) => p && !fed.has(n)).map(([n]) => n);
    const preprocessing = [...port].filter(([n]) => fed.has(n)).map(([n]) => n);
    const missing = portPassed.filter((n) => !(table.get(n)?.pass));
    portLine = `the hand-written port passes ${portPassed.length} of ${port.size - preprocessing.length} in its test ` +
      `(${reports.length} inputs${preprocessing.length ? `; not counted: ${preprocessing.join(' ')}, its own preprocessing, ` +
      'a graph input the draft is fed' : ''}); ` +
      `the draft passes ${portPassed.length - missing.length} of those${missing.length ? ', not ' + missing.join(' ') : ''}`;
    if (missing.length) ok = false;
  }
}
console.log(`${o.name}: the scaffolded engine, unedited, passes ${passed} of ${names.length} checkpoints on every one of ` +
  `${cases.length} inputs (worst max abs err ${worst.toExponential(2)}); ${portLine}; strict tsc: ${typecheck}`);

// ---- 5. diff size: the draft against the hand-written port ----
const lines = (f) => fs.readFileSync(f, 'utf8').split('\n').length - (fs.readFileSync(f, 'utf8').endsWith('\n') ? 1 : 0);
let diff = null;
if (o.port.length && o.port.every((f) => fs.existsSync(f))) {
  const draft = ['engine.ts', 'types.ts'].map((f) => path.join(o.draft, f));
  const cat = (fs_, to) => fs.writeFileSync(to, fs_.map((f) => fs.readFileSync(f, 'utf8')).join(''));
  cat(draft, path.join(o.work, 'draft.ts'));
  cat(o.port, path.join(o.work, 'port.ts'));
  const d = spawnSync('diff', ['-u', path.join(o.work, 'port.ts'), path.join(o.work, 'draft.ts')], {encoding: 'utf8', maxBuffer: 1 << 26});
  const dl = d.stdout.split('\n');
  diff = {
    added: dl.filter((l) => l.startsWith('+') && !l.startsWith('+++')).length,
    removed: dl.filter((l) => l.startsWith('-') && !l.startsWith('---')).length,
    draft: draft.map((f) => [path.basename(f), lines(f)]),
    port: o.port.map((f) => [path.relative(root, f), lines(f)]),
  };
  const sum = (l) => l.reduce((a, [, n]) => a + n, 0);
  console.log(`diff -u port draft: +${diff.added} -${diff.removed} lines; draft ${diff.draft.map(([f, n]) => `${f} ${n}`).join(' + ')} = ${sum(diff.draft)} lines; ` +
    `port ${diff.port.map(([f, n]) => `${f} ${n}`).join(' + ')} = ${sum(diff.port)} lines`);
  console.log('RESULT ' + JSON.stringify({what: `m2w-scaffold ${o.name}: diff -u hand-written port -> draft (engine.ts + types.ts)`,
    unit: 'lines', m2w: {added: diff.added, removed: diff.removed, draft: sum(diff.draft), port: sum(diff.port)}}));
}
const ms = info.ms[0];
console.log('RESULT ' + JSON.stringify({what: `m2w-scaffold ${o.name}: checkpoints passed, unedited draft`, unit: 'checkpoints',
  m2w: {passed, of: names.length, inputs: cases.length, worst_abs_err: worst, ms_per_run: Number(ms.toFixed(1))}}));
console.log(`time: inputs+reference ${secs(t0, tData)} s, tsc+bundle ${secs(tData, tBundle)} s, browser ${secs(tBundle, tPage)} s ` +
  `(${ms.toFixed(1)} ms a run without capture), check ${secs(tPage, tCheck)} s, total ${secs(t0, Date.now())} s`);
fs.writeFileSync(path.join(o.work, 'summary.json'), JSON.stringify({name: o.name, passed, checkpoints: names.length, inputs: cases.length,
  worst, diff, table: Object.fromEntries(table)}, null, 1) + '\n');
process.exit(ok ? 0 : 1);
