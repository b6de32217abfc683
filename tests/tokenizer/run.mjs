// Suite 'tokenizer': subprojects/llama/src/tokenizer.ts against llama.cpp's
// own ground truth.  For every models/ggml-vocab-*.gguf of the llama.cpp
// source in the cache that has .inp/.out files (test-tokenizer-0's format:
// .inp holds the strings separated by "\n__ggml_vocab_test__\n", .out one
// line of space-separated ids per string), m2w-pack writes tokenizer.json,
// and every string is encoded (addSpecial false, parseSpecial false, as
// test-tokenizer-0 does) and compared with .out exactly.  Also checked:
// decode(encode(s)) === s wherever decode(ids from .out) === s, i.e. the
// detokenizer round-trips wherever llama.cpp's token sequence allows it.
//
// Live cross-check, when the cache also holds a llama.cpp build
// (llama-build/src/libllama.a) and a C++ compiler is on PATH: llama-dump.cpp
// is linked against it, and for every ggml-vocab-*.gguf (with or without
// ground truth) the strings of .inp and of extra.inp (chat-template markup,
// special-token texts, odd white space, scripts) are tokenized with every
// addSpecial/parseSpecial combination and detokenized with every
// removeSpecial/special combination by llama.cpp and by the package: ids
// and bytes must be equal.  Without the build this part says so and is left
// out (the ground-truth part still decides the result).
//
// Vocabularies of a tokenizer type the package does not support are listed
// as "unsupported" and do not fail the test.  Exit 77 (skipped) when the
// llama.cpp source or the toolchain is missing.
//
// usage: node run.mjs WORKDIR --pack M2W-PACK --toolchain NODE_MODULES
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const work = args[0];
const opt = (k) => { const i = args.indexOf(k); return i >= 0 ? args[i + 1] : undefined; };
const pack = opt('--pack');
const toolchain = opt('--toolchain');
const srcRoot = process.env.M2W_SOURCE_ROOT ?? path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const cache = process.env.M2W_CACHE ?? path.join(srcRoot, 'build/cache');
const models = path.join(cache, 'llama.cpp/models');

function skip(why) {
  console.log(`SKIP: ${why}`);
  process.exit(77);
}
if (!work || !pack) {
  console.error('usage: node run.mjs WORKDIR --pack M2W-PACK --toolchain NODE_MODULES');
  process.exit(2);
}
if (!fs.existsSync(models)) skip(`no llama.cpp source at ${path.join(cache, 'llama.cpp')} (tests/fetch.sh puts it there)`);
const esbuildBin = toolchain && path.join(toolchain, '.bin/esbuild');
if (!esbuildBin || !fs.existsSync(esbuildBin)) skip(`no esbuild in the toolchain (${toolchain}): run npm ci in templates/toolchain`);

fs.mkdirSync(work, { recursive: true });
const bundle = path.join(work, 'tokenizer.mjs');
execFileSync(esbuildBin, [path.join(srcRoot, 'subprojects/llama/src/tokenizer.ts'), '--bundle', '--format=esm',
  '--platform=neutral', '--target=es2022', `--outfile=${bundle}`, '--log-level=warning'], { stdio: 'inherit' });
const { Tokenizer, UnsupportedTokenizerError } = await import(pathToFileURL(bundle).href);

const SEP = '\n__ggml_vocab_test__\n';
function readTests(inpFile, outFile) {
  const raw = fs.readFileSync(inpFile, 'utf8');
  const inputs = [];
  for (let pos = 0; pos < raw.length;) {
    const next = raw.indexOf(SEP, pos);
    if (next < 0) { inputs.push(raw.slice(pos)); break; }
    inputs.push(raw.slice(pos, next));
    pos = next + SEP.length;
  }
  const lines = fs.readFileSync(outFile, 'utf8').split('\n');
  if (lines.length && lines[lines.length - 1] === '') lines.pop(); // getline: no empty last line
  if (inputs.length !== lines.length) return null;
  // test-tokenizer-0 keeps them in a std::map: the last duplicate wins
  const tests = new Map();
  inputs.forEach((s, i) => {
    const o = lines[i].trim();
    tests.set(s, o === '' ? [] : o.split(' ').map(Number));
  });
  return tests;
}

const vocabs = fs.readdirSync(models).filter((f) => /^ggml-vocab-.*\.gguf$/.test(f)).sort();
const rows = [];
let filesWithTruth = 0, filesPass = 0, failedSupported = 0;
const show = (s) => JSON.stringify(s.length > 60 ? s.slice(0, 60) + '…' : s);

for (const f of vocabs) {
  const name = f.replace(/^ggml-vocab-|\.gguf$/g, '');
  const gguf = path.join(models, f);
  if (!fs.existsSync(gguf + '.inp') || !fs.existsSync(gguf + '.out')) continue;
  filesWithTruth++;
  const dir = path.join(work, name);
  execFileSync(pack, [gguf, '-o', dir], { stdio: ['ignore', 'ignore', 'inherit'] });
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer.json'), 'utf8'));
  const row = { name, model: json.model, pre: json.pre ?? '-', pass: 0, total: 0, rt: 0, rtTotal: 0, status: '' };
  rows.push(row);
  const tests = readTests(gguf + '.inp', gguf + '.out');
  if (!tests) { row.status = 'BAD .inp/.out'; failedSupported++; continue; }
  row.total = tests.size;
  let tok;
  try {
    tok = Tokenizer.fromJSON(json);
  } catch (e) {
    if (e instanceof UnsupportedTokenizerError) { row.status = `unsupported (${e.message})`; continue; }
    throw e;
  }
  row.pre = tok.pre;
  const failures = [];
  for (const [s, want] of tests) {
    let got;
    try {
      got = tok.encode(s, { addSpecial: false, parseSpecial: false });
    } catch (e) {
      got = [`throws ${e.message}`];
    }
    const ok = got.length === want.length && got.every((v, i) => v === want[i]);
    if (ok) row.pass++;
    else failures.push(`  ${show(s)}\n    want ${want.join(' ')}\n    got  ${got.join(' ')}`);
    if (ok && tok.decode(want) === s) {
      row.rtTotal++;
      if (tok.decode(got) === s) row.rt++;
      else failures.push(`  ${show(s)}: decode(encode(s)) = ${show(tok.decode(got))}`);
    }
  }
  if (row.pass === row.total && row.rt === row.rtTotal) { filesPass++; row.status = 'ok'; }
  else { failedSupported++; row.status = 'FAIL'; console.log(`${name}: failures\n${failures.join('\n')}`); }
}

const pad = (s, n) => String(s).padEnd(n);

// ---- live cross-check against llama.cpp's library --------------------------
const liveRows = [];
let liveFailed = 0;
const llamaBuild = path.join(cache, 'llama-build');
const libs = ['src/libllama.a', 'ggml/src/libggml.a', 'ggml/src/libggml-cpu.a', 'ggml/src/libggml-base.a']
  .map((l) => path.join(llamaBuild, l));
let dumpBin = null;
if (!libs.every((l) => fs.existsSync(l))) {
  console.log(`\nlive cross-check left out: no llama.cpp build at ${llamaBuild}`);
} else {
  dumpBin = path.join(work, 'llama-dump');
  const src = path.join(path.dirname(new URL(import.meta.url).pathname), 'llama-dump.cpp');
  const lc = path.join(cache, 'llama.cpp');
  try {
    execFileSync(process.env.CXX ?? 'c++', ['-O1', '-std=c++17', src, `-I${lc}/include`, `-I${lc}/ggml/include`,
      ...libs, '-lpthread', '-fopenmp', '-ldl', '-o', dumpBin], { stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    console.log(`\nlive cross-check left out: linking llama-dump failed: ${String(e.stderr ?? e.message).slice(0, 400)}`);
    dumpBin = null;
  }
}
if (dumpBin) {
  const extra = path.join(path.dirname(new URL(import.meta.url).pathname), 'extra.inp');
  for (const f of vocabs) {
    const name = f.replace(/^ggml-vocab-|\.gguf$/g, '');
    const gguf = path.join(models, f);
    const dir = path.join(work, name);
    execFileSync(pack, [gguf, '-o', dir], { stdio: ['ignore', 'ignore', 'inherit'] });
    const json = JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer.json'), 'utf8'));
    const row = { name, ok: 0, total: 0, status: '' };
    liveRows.push(row);
    const msgs = [];
    for (const strings of [gguf + '.inp', extra]) {
      if (!fs.existsSync(strings)) continue;
      const out = execFileSync(dumpBin, [gguf, strings], { maxBuffer: 1 << 28 }).toString().split('\n');
      const modelName = out[0].slice(2);
      let tok;
      try {
        tok = Tokenizer.fromJSON(json, { modelName });
      } catch (e) {
        if (e instanceof UnsupportedTokenizerError) { row.status = 'unsupported'; break; }
        throw e;
      }
      let s = '', ids = [];
      for (const line of out.slice(1)) {
        if (!line) continue;
        const [k, v = ''] = [line.slice(0, line.indexOf(' ') < 0 ? line.length : line.indexOf(' ')), line.slice(line.indexOf(' ') + 1)];
        if (k === 'S') { s = Buffer.from(v, 'hex').toString('utf8'); continue; }
        row.total++;
        if (k[0] === 'T') {
          ids = line.split(' ').slice(1).filter(Boolean).map(Number);
          let got;
          try {
            got = tok.encode(s, { addSpecial: k[1] === '1', parseSpecial: k[2] === '1' });
          } catch (e) { got = [`throws ${e.message}`]; }
          if (got.join(' ') === ids.join(' ')) row.ok++;
          else msgs.push(`  ${k} ${show(s)}\n    want ${ids.join(' ')}\n    got  ${got.join(' ')}`);
        } else {
          const want = Buffer.from(v, 'hex');
          const got = Buffer.from(tok.decodeBytes(ids, { removeSpecial: k[1] === '1', special: k[2] === '1' }));
          if (got.equals(want)) row.ok++;
          else msgs.push(`  ${k} of [${ids.join(' ')}]\n    want ${show(want.toString())}\n    got  ${show(got.toString())}`);
        }
      }
    }
    if (row.status !== 'unsupported') {
      row.status = row.ok === row.total ? 'ok' : 'FAIL';
      if (row.ok !== row.total) { liveFailed++; console.log(`${name} (live): failures\n${msgs.slice(0, 20).join('\n')}`); }
    }
  }
  console.log('\nlive cross-check with llama.cpp (encode: 4 addSpecial/parseSpecial combinations; decode: 4 removeSpecial/special combinations)');
  console.log(pad('vocab', 16) + pad('checks', 12) + 'status');
  for (const r of liveRows) console.log(pad(r.name, 16) + pad(r.total ? `${r.ok}/${r.total}` : '-', 12) + r.status);
}

console.log('\n' + pad('vocab', 16) + pad('type', 8) + pad('pre', 16) + pad('strings', 10) + pad('roundtrip', 11) + 'status');
for (const r of rows) {
  console.log(pad(r.name, 16) + pad(r.model, 8) + pad(r.pre, 16) + pad(`${r.pass}/${r.total}`, 10) +
    pad(r.rtTotal ? `${r.rt}/${r.rtTotal}` : '-', 11) + r.status);
}
const unsupported = rows.filter((r) => r.status.startsWith('unsupported')).length;
console.log(`\n${filesPass}/${filesWithTruth} ground-truth files pass` +
  (unsupported ? ` (${unsupported} unsupported: not counted as failures)` : ''));
if (liveRows.length) {
  const sup = liveRows.filter((r) => r.status !== 'unsupported');
  console.log(`live: ${sup.length - liveFailed}/${sup.length} supported vocab files match llama.cpp on every check`);
}
if (failedSupported || liveFailed) {
  if (failedSupported) console.log(`FAIL: ${failedSupported} supported vocab file(s) do not match llama.cpp's ground truth`);
  if (liveFailed) console.log(`FAIL: ${liveFailed} supported vocab file(s) differ from llama.cpp in the live cross-check`);
  process.exit(1);
}
