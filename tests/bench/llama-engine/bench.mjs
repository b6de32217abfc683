#!/usr/bin/env node
// Benchmark (not a timed test): prefill and decode tokens/s of llama-webgpu
// in headless Chromium against llama.cpp on the CPU of the same machine
// (tests/bench/llama/llama_cpp_cpu.py, 2 and 1 threads) and against
// @wllama/wllama (llama.cpp compiled to wasm, its CPU backend; 2 threads
// when the page is cross-origin isolated, and 1) in the same Chromium, same
// GGUF, same prompt, greedy.  (wllama's WebGPU backend is left out: on
// SwiftShader it keeps every tensor on the CPU, so it measures the same as
// its wasm build.)  Also the peak JS heap of the page while
// loadModel() streams the biggest model (CDP Runtime.getHeapUsage polled:
// V8 heap + ArrayBuffer backing stores), against the 100 MB goal.
//
//   node bench.mjs --package DIR|PKG.tgz --models DIR [--cache DIR] [--runs N]
//                  [--prompt-tokens N] [--gen N] [--threads 2,1]
//                  [MODEL...]            (default: bench-spm-q8_0 tiny-spm-q8_0)
//
// The prompt is llama_cpp_cpu.py's (tests/llama/prompt.txt repeated until
// it has --prompt-tokens tokens): the page builds the same text, encodes it
// with the package's tokenizer and checks the count against llama.cpp's;
// the ids go to the package, the text to wllama (its completion takes no
// token prompt), and wllama's prompt_n must equal the count too.  Each
// measured run starts from an empty KV cache (the package: a one-token
// prompt that shares no prefix in between; wllama: cache_prompt false),
// after a short warm-up generation (3-token prompt, 2 tokens; wllama: the
// prompt, 2 tokens).  The defaults (31-token prompt, 16 generated, 3 runs)
// keep the whole benchmark under 5 minutes on a 2-core machine, where
// SwiftShader runs the bench model at about 1 token/s.  Decode tokens/s counts the GEN-1 single-token
// steps after the one the prefill's logits give (llama_cpp_cpu.py's
// definition; wllama: (predicted_n - 1) / predicted_ms).
//
// Prints median / min / max of --runs runs, ratios (> 1: llama-webgpu
// faster), and `RESULT {json}` lines for tests/bench/record.py; decode
// ms/token of the first model carries "plot" for tests/bench/plot.mjs.
// bench.sh wraps it for Meson: meson test -C BUILD --benchmark -v llama-vs-llama.cpp
// WL_DEBUG=1 passes the page's console through, wllama's native log included.
import {execFileSync, spawnSync} from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import {createRequire} from 'node:module';
import {fileURLToPath} from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root0 = path.resolve(here, '..', '..', '..');
const o = {runs: 3, promptTokens: 30, gen: 16, threads: [2, 1], names: [],
  cpuScript: path.join(root0, 'tests', 'bench', 'llama', 'llama_cpp_cpu.py'), python: '/usr/bin/python3'};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--package') o.pkg = argv[++i];
  else if (a === '--models') o.models = argv[++i];
  else if (a === '--cache') o.cache = argv[++i];
  else if (a === '--runs') o.runs = Number(argv[++i]);
  else if (a === '--prompt-tokens') o.promptTokens = Number(argv[++i]);
  else if (a === '--gen') o.gen = Number(argv[++i]);
  else if (a === '--threads') o.threads = argv[++i].split(',').map(Number);
  else if (a === '--python') o.python = argv[++i];
  else o.names.push(a);
}
if (!o.names.length) o.names = ['bench-spm-q8_0', 'tiny-spm-q8_0'];
if (!o.pkg || !o.models || !(o.runs >= 1) || !(o.gen >= 2)) {
  console.error('usage: node bench.mjs --package DIR|PKG.tgz --models DIR [--cache DIR] [--runs N] [--prompt-tokens N] [--gen N] [--threads 2,1] [MODEL...]');
  process.exit(2);
}
o.cache ??= path.dirname(path.resolve(o.models));

const nm = process.env.NODE_PATH || path.join(root0, 'tests', 'node', 'node_modules');
const req = createRequire(path.join(nm, 'x.js'));
const {chromium} = req('playwright-core');
const wllamaDir = path.join(nm, '@wllama', 'wllama');
const wllamaVersion = JSON.parse(fs.readFileSync(path.join(wllamaDir, 'package.json'), 'utf8')).version;
const manifest = JSON.parse(fs.readFileSync(path.join(o.models, 'manifest.json'), 'utf8'));
const models = o.names.map((n) => {
  const m = manifest.models.find((x) => x.name === n);
  if (!m) { console.error(`bench.mjs: ${n} is not in ${o.models}/manifest.json`); process.exit(2); }
  return m;
});

const stats = (v) => {
  const s = [...v].sort((a, b) => a - b), h = s.length >> 1;
  return {median: s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2, min: s[0], max: s[s.length - 1], n: s.length};
};
const t00 = performance.now();

// 1. llama.cpp on the CPU (llama_cpp_cpu.py, one process per run)
const cpu = new Map(); // model -> threads -> {prefill: [], decode: [], promptTokens}
for (const m of models) {
  const per = new Map();
  cpu.set(m.name, per);
  for (const th of o.threads) {
    const r = {prefill: [], decode: [], promptTokens: 0};
    per.set(th, r);
    for (let i = 0; i < o.runs; i++) {
      const out = path.join(os.tmpdir(), `m2w-llama-bench-${process.pid}.json`);
      const p = spawnSync(o.python, [o.cpuScript, '--set', m.set, '--types', m.type, '--prompt-tokens', String(o.promptTokens),
        '--gen', String(o.gen), '--threads', String(th), '--json', out], {env: {...process.env, M2W_CACHE: o.cache}, encoding: 'utf8'});
      if (p.status !== 0) {
        console.error(`llama_cpp_cpu.py failed (${p.status}):\n${p.stdout}${p.stderr}`);
        process.exit(1);
      }
      const row = JSON.parse(fs.readFileSync(out, 'utf8')).results.find((x) => x.model === m.name);
      fs.rmSync(out, {force: true});
      r.prefill.push(row.prefill_tok_s);
      r.decode.push(row.decode_tok_s);
      r.promptTokens = row.prompt_tokens;
    }
  }
}
console.log(`llama.cpp CPU runs: ${((performance.now() - t00) / 1e3).toFixed(0)} s`);

// 2. headless Chromium: the package, then wllama, per model
let root = path.resolve(o.pkg);
let unpacked = null;
if (fs.statSync(root).isFile()) {
  unpacked = fs.mkdtempSync(path.join(os.tmpdir(), 'm2w-llama-bench-'));
  execFileSync('tar', ['xzf', root, '-C', unpacked]);
  root = path.join(unpacked, 'package');
}
const promptText = fs.readFileSync(path.join(root0, 'tests', 'llama', 'prompt.txt'), 'utf8');

const page = `<!doctype html><meta charset="utf-8"><script type="module">
window.ours = null;
window.oursLoad = async (url, maxSeqLen) => {
  const {loadModel} = await import('/pkg/dist/index.js');
  const t0 = performance.now();
  window.ours = await loadModel(url, {maxSeqLen});
  return {ms: performance.now() - t0, info: window.ours.info};
};
// llama_cpp_cpu.py's prompt: BASE joined with ' ' until it has TARGET tokens
window.oursPrompt = (base, target) => {
  const enc = (reps) => window.ours.tokenizer.encode(Array(reps).fill(base).join(' '), {addSpecial: true, parseSpecial: false});
  let reps = 1, n1 = null, t;
  for (;;) {
    t = enc(reps);
    if (t.length >= target) return {tokens: t, text: Array(reps).fill(base).join(' ')};
    reps = n1 ? reps + 1 : Math.ceil(target / t.length);
    n1 = t.length;
  }
};
window.oursRun = async (tokens, gen, runs) => {
  const m = window.ours, res = [];
  // warm-up: a short prefill and decode compile what the runs use
  await m.generate({tokens: tokens.slice(0, 3)}, {maxTokens: 2, temperature: 0, ignoreEog: true});
  for (let i = 1; i <= runs; i++) {
    // empty the cache: a one-token prompt that does not start with tokens[0]
    await m.generate({tokens: [tokens[1] !== tokens[0] ? tokens[1] : tokens[0] + 1]}, {maxTokens: 1, temperature: 0});
    const g = await m.generate({tokens}, {maxTokens: gen, temperature: 0, ignoreEog: true});
    res.push({prefillMs: g.prefillMs, decodeMs: g.decodeMs, reused: g.reusedTokens, n: g.tokens.length, text: g.text});
  }
  m.destroy();
  window.ours = null;
  return res;
};
window.wllama = async (url, text, gen, runs, params) => {
  const {Wllama} = await import('/nm/@wllama/wllama/esm/index.js');
  const w = new Wllama({default: '/nm/@wllama/wllama/esm/wasm/wllama.wasm'}, {suppressNativeLog: !self.WL_DEBUG,
    logger: self.WL_DEBUG ? console : {debug() {}, log() {}, warn() {}, error: (...a) => console.error(...a)}});
  const blob = await (await fetch(url)).blob();
  const t0 = performance.now();
  await w.loadModel([blob], {n_ctx: 256, n_batch: 512, n_parallel: 1, ...params});
  const out = {loadMs: performance.now() - t0, multithread: w.isMultithread(), threads: w.getNumThreads(),
    isolated: self.crossOriginIsolated, runs: []};
  const cmpl = (n) => w.createCompletion({prompt: text, max_tokens: n, temperature: 0, ignore_eos: true, cache_prompt: false});
  await cmpl(2); // warm-up
  for (let i = 1; i <= runs; i++) {
    const r = await cmpl(gen);
    out.runs.push({...r.timings, text: r.choices[0].text});
  }
  await w.exit();
  return out;
};
window.ready = true;
</script>`;

const server = http.createServer((q, s) => {
  const p = decodeURIComponent(new URL(q.url, 'http://x').pathname);
  // cross-origin isolated, so wllama may use its pthread build
  const iso = {'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp',
    'cross-origin-resource-policy': 'same-origin'};
  if (p === '/page.html') { s.writeHead(200, {'content-type': 'text/html', ...iso}); s.end(page); return; }
  if (p === '/favicon.ico') { s.writeHead(204); s.end(); return; }
  let file = null;
  if (p.startsWith('/pkg/')) file = path.join(root, p.slice(5));
  else if (p.startsWith('/models/')) file = path.join(path.resolve(o.models), p.slice(8));
  else if (p.startsWith('/nm/@wllama/')) file = path.join(path.resolve(nm), p.slice(4));
  if (!file || p.includes('..') || !fs.existsSync(file) || !fs.statSync(file).isFile()) { s.writeHead(404); s.end(); return; }
  const size = fs.statSync(file).size;
  const type = file.endsWith('.js') ? 'text/javascript' : file.endsWith('.wasm') ? 'application/wasm' :
    file.endsWith('.json') ? 'application/json' : 'application/octet-stream';
  const m = /^bytes=(\d+)-(\d*)$/.exec(q.headers.range || '');
  if (m) {
    const a = Number(m[1]), b = Math.min(m[2] ? Number(m[2]) : size - 1, size - 1);
    if (a >= size) { s.writeHead(416, {'content-range': `bytes */${size}`, ...iso}); s.end(); return; }
    s.writeHead(206, {'content-type': type, 'content-range': `bytes ${a}-${b}/${size}`, 'content-length': b - a + 1, ...iso});
    fs.createReadStream(file, {start: a, end: b}).pipe(s);
    return;
  }
  s.writeHead(200, {'content-type': type, 'content-length': size, 'accept-ranges': 'bytes', ...iso});
  fs.createReadStream(file).pipe(s);
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'm2w-llama-bench-'));
const ours = new Map(), wl = new Map(), heap = {};
let adapter = '?', ok = true;
const ctx = await chromium.launchPersistentContext(profile, {
  executablePath: '/usr/bin/chromium', headless: true,
  args: ['--enable-unsafe-webgpu', '--no-sandbox', '--headless=new', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
});
try {
  const pg = await ctx.newPage();
  pg.setDefaultTimeout(600000);
  pg.on('console', (m) => { if (m.type() === 'error' || process.env.WL_DEBUG) console.log(`page: ${m.text()}`); });
  pg.on('pageerror', (e) => console.log(`page error: ${e.message}`));
  await pg.goto(`http://127.0.0.1:${server.address().port}/page.html`);
  await pg.waitForFunction(() => window.ready === true);
  if (process.env.WL_DEBUG) await pg.evaluate(() => { self.WL_DEBUG = true; });
  const cdp = await ctx.newCDPSession(pg);
  const biggest = models.reduce((a, b) => (b.bytes > a.bytes ? b : a));
  for (const m of models) {
    const url = `/models/${m.file}`;
    const want = cpu.get(m.name).get(o.threads[0]).promptTokens;
    // the package: load (heap polled for the biggest model), prompt, runs
    const t1 = performance.now();
    let poll = null, polling = false;
    const h = {base: 0, peak: 0, samples: 0};
    if (m === biggest) {
      await cdp.send('HeapProfiler.collectGarbage');
      const u = (x) => x.usedSize + (x.backingStorageSize || 0);
      h.base = u(await cdp.send('Runtime.getHeapUsage'));
      h.peak = h.base;
      polling = true;
      poll = (async () => {
        while (polling) {
          const x = await cdp.send('Runtime.getHeapUsage');
          h.peak = Math.max(h.peak, u(x));
          h.v8Peak = Math.max(h.v8Peak || 0, x.usedSize);
          h.fields = Object.keys(x).join(', ');
          h.samples++;
          await new Promise((r) => setTimeout(r, 5));
        }
      })();
    }
    const ld = await pg.evaluate(([u, n]) => window.oursLoad(u, n), [url, Math.max(128, want + o.gen + 8)]);
    polling = false;
    if (poll) { await poll; Object.assign(heap, h, {model: m, loadMs: ld.ms}); }
    adapter = ld.info.adapter;
    const {tokens, text} = await pg.evaluate(([b, n]) => window.oursPrompt(b, n), [promptText, o.promptTokens]);
    if (tokens.length !== want) {
      console.log(`${m.name}: FAIL: the package's prompt has ${tokens.length} tokens, llama.cpp's ${want}`);
      ok = false;
    }
    const runs = await pg.evaluate(([t, g, r]) => window.oursRun(t, g, r), [tokens, o.gen, o.runs]);
    if (runs.some((r) => r.reused !== 0 || r.n !== o.gen)) {
      console.log(`${m.name}: FAIL: a measured run reused cached tokens or stopped early`);
      ok = false;
    }
    ours.set(m.name, {load: ld, tokens, prefill: runs.map((r) => tokens.length / r.prefillMs * 1e3),
      decode: runs.map((r) => (o.gen - 1) / r.decodeMs * 1e3), text: runs[0].text});
    console.log(`${m.name}: llama-webgpu loaded in ${ld.ms.toFixed(0)} ms, ${runs.length} runs in ${((performance.now() - t1) / 1e3).toFixed(0)} s`);
    // wllama: its wasm build (CPU) per thread count
    const cfgs = o.threads.map((th) => ({key: `wasm-${th}`, name: `@wllama/wllama ${wllamaVersion} wasm, ${th} thread${th > 1 ? 's' : ''}`,
      params: {n_threads: th, n_gpu_layers: 0}}));
    const per = new Map();
    wl.set(m.name, per);
    for (const c of cfgs) {
      const t2 = performance.now();
      try {
        const r = await pg.evaluate(([u, t, g, n, p]) => window.wllama(u, t, g, n, p), [url, text, o.gen, o.runs, c.params]);
        const th = c.params.n_threads;
        if (th > 1 && r.threads !== th) {
          console.log(`${m.name}: ${c.name}: skipped, wllama runs ${r.threads} thread(s) here (cross-origin isolated: ${r.isolated})`);
          continue;
        }
        const bad = r.runs.find((x) => x.prompt_n !== tokens.length || x.predicted_n !== o.gen);
        if (bad) {
          console.log(`${m.name}: ${c.name}: FAIL: prompt_n ${bad.prompt_n} (want ${tokens.length}), predicted_n ${bad.predicted_n} (want ${o.gen})`);
          ok = false;
          continue;
        }
        per.set(c.key, {name: c.name, prefill: r.runs.map((x) => x.prompt_n / x.prompt_ms * 1e3),
          decode: r.runs.map((x) => (x.predicted_n - 1) / x.predicted_ms * 1e3), text: r.runs[0].text});
        console.log(`${m.name}: ${c.name} loaded in ${r.loadMs.toFixed(0)} ms, ${r.runs.length} runs in ${((performance.now() - t2) / 1e3).toFixed(0)} s`);
      } catch (e) {
        console.log(`${m.name}: ${c.name}: error: ${String(e.message || e).split('\n')[0]}`);
      }
    }
  }
} catch (e) {
  console.log(`bench.mjs: ${e.message || e}`);
  ok = false;
} finally {
  await ctx.close();
  server.close();
  fs.rmSync(profile, {recursive: true, force: true});
  if (unpacked) fs.rmSync(unpacked, {recursive: true, force: true});
}

// 3. the table, ratios and RESULT lines
const q = (v) => Number(v.toPrecision(4));
const st = (v) => { const s = stats(v); return {median: q(s.median), min: q(s.min), max: q(s.max), n: s.n}; };
const f = (s) => `${s.median.toFixed(1).padStart(8)} (${s.min.toFixed(1)}–${s.max.toFixed(1)})`;
console.log(`\nadapter: ${adapter}; median (min–max) of ${o.runs} runs; ${o.gen} tokens generated, greedy; ` +
  `ratio = llama-webgpu / peer (> 1: llama-webgpu faster); load average ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
for (const m of models) {
  const r = ours.get(m.name);
  if (!r) { console.log(`${m.name}: no llama-webgpu result`); ok = false; continue; }
  const n = r.tokens.length;
  const peers = [];
  for (const th of o.threads) {
    const c = cpu.get(m.name).get(th);
    peers.push({name: `llama.cpp CPU, ${th} thread${th > 1 ? 's' : ''}`, prefill: c.prefill, decode: c.decode});
  }
  for (const w of wl.get(m.name)?.values() ?? []) peers.push(w);
  console.log(`\n${m.name} (${(m.bytes / 1e6).toFixed(1)} MB, ${m.hparams.n_layer} layers x ${m.hparams.n_embd}), ${n}-token prompt`);
  console.log(`${'runtime'.padEnd(40)} ${'prefill tok/s'.padStart(24)} ${'ratio'.padStart(6)} ${'decode tok/s'.padStart(24)} ${'ratio'.padStart(6)}`);
  const ps = st(r.prefill), ds = st(r.decode);
  console.log(`${'llama-webgpu'.padEnd(40)} ${f(ps).padStart(24)} ${''.padStart(6)} ${f(ds).padStart(24)}`);
  for (const p of peers) {
    const pp = st(p.prefill), pd = st(p.decode);
    console.log(`${p.name.padEnd(40)} ${f(pp).padStart(24)} ${(ps.median / pp.median).toFixed(2).padStart(6)} ` +
      `${f(pd).padStart(24)} ${(ds.median / pd.median).toFixed(2).padStart(6)}`);
    for (const [phase, mine, theirs] of [['prefill', ps, pp], ['decode', ds, pd]]) {
      console.log('RESULT ' + JSON.stringify({what: `llama-webgpu ${phase} (${m.name}, ${n}-token prompt, ${o.gen} generated)`,
        unit: 'tok/s', m2w: mine, peer: {name: p.name, ...theirs}, ratio: q(mine.median / theirs.median), adapter}));
    }
    if (m === models[0]) {
      const ms = (v) => v.map((x) => 1e3 / x);
      const mm = st(ms(r.decode)), pm = st(ms(p.decode));
      console.log('RESULT ' + JSON.stringify({what: `llama-webgpu decode, ms per token (${m.name})`, unit: 'ms',
        m2w: mm, peer: {name: p.name, ...pm}, ratio: q(pm.median / mm.median), adapter,
        plot: `llama (${m.model} ${m.type.toUpperCase()})`}));
    }
  }
  // same model, same prompt, greedy: wllama's text should be the package's
  // (llama-server's text keeps the first piece's SentencePiece space)
  for (const w of wl.get(m.name)?.values() ?? []) {
    const same = w.text.replace(/^ /, '') === r.text.replace(/^ /, '');
    console.log(`${w.name}: greedy text ${same ? 'identical to' : 'differs from'} llama-webgpu's` +
      (same ? '' : ` (${JSON.stringify(w.text)} vs ${JSON.stringify(r.text)})`));
  }
}
if (heap.model) {
  const mib = (x) => x / 1048576;
  const peak = mib(heap.peak), grow = mib(heap.peak - heap.base);
  console.log(`\npeak JS heap during loadModel(${heap.model.name}, ${(heap.model.bytes / 1e6).toFixed(0)} MB): ${peak.toFixed(1)} MiB ` +
    `(V8 heap + ArrayBuffer backing stores; ${mib(heap.base).toFixed(1)} MiB before, +${grow.toFixed(1)} MiB; V8 heap alone ` +
    `${mib(heap.v8Peak || 0).toFixed(1)} MiB; ${heap.samples} samples of Runtime.getHeapUsage in ${heap.loadMs.toFixed(0)} ms) — ` +
    `goal < 100 MB: ${peak * 1.048576 < 100 ? 'met' : 'NOT met'}`);
  console.log('RESULT ' + JSON.stringify({what: `llama-webgpu peak JS heap during loadModel (${heap.model.name}, ${(heap.model.bytes / 1e6).toFixed(0)} MB GGUF)`,
    unit: 'MiB', m2w: {median: q(peak)}, goal: '< 100 MB', note: `V8 heap + ArrayBuffer backing stores (CDP Runtime.getHeapUsage, ${heap.samples} samples); ${q(mib(heap.base))} MiB before loading`}));
}
console.log(`\ntotal ${((performance.now() - t00) / 1e3).toFixed(0)} s`);
process.exit(ok ? 0 : 1);
