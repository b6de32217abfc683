// LiteRT.js (@litertjs/core, wasm CPU) under Node, and a minimal TFLite
// flatbuffer reader that shares no code with m2w's C reader: the tests
// compare m2w against these two.
//
// LiteRT.js is written for browsers and workers: its Emscripten glue is
// loaded with importScripts() and looks for `self`, and, once it sees Node,
// for `require` and `__dirname` as globals.  We provide exactly those.
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import {createRequire} from 'node:module';
import {fileURLToPath} from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

export function nodeModules() {
  const candidates = [
    ...(process.env.NODE_PATH || '').split(path.delimiter).filter(Boolean),
    path.join(here, '..', '..', 'node', 'node_modules'),
  ];
  for (const c of candidates)
    if (fs.existsSync(path.join(c, '@litertjs', 'core', 'package.json'))) return c;
  throw new Error('@litertjs/core not found (npm install in tests/node, or set NODE_PATH)');
}

// LiteRT's wasm logs every model load at INFO level; keep test output
// readable.  Its ERROR lines are kept in liteRtErrors too: a failed run
// (e.g. a shape the model can't compute) only logs, it doesn't throw.
export const liteRtErrors = [];
function quiet() {
  const noisy = /^((INFO|WARNING|VERBOSE): |Failed to create default WebGPU device)/;
  for (const k of ['log', 'info', 'warn', 'error']) {
    const orig = console[k].bind(console);
    console[k] = (...a) => {
      if (typeof a[0] === 'string' && noisy.test(a[0])) return;
      if (typeof a[0] === 'string' && a[0].startsWith('ERROR')) liteRtErrors.push(a[0]);
      if (a[0] instanceof Error && noisy.test(String(a[0].message))) return;
      orig(...a);
    };
  }
}

let litert = null;
export async function loadLiteRt() {
  if (litert) return litert;
  quiet();
  const nm = nodeModules();
  const wasmDir = path.join(nm, '@litertjs', 'core', 'wasm');
  globalThis.self = globalThis;
  globalThis.require = createRequire(path.join(wasmDir, 'x.js'));
  globalThis.__dirname = wasmDir;
  globalThis.importScripts = (...files) => {
    for (const f of files) {
      const p = f.startsWith('file:') ? fileURLToPath(f) : f;
      vm.runInThisContext(fs.readFileSync(p, 'utf8'), {filename: p});
    }
  };
  const lt = await import(path.join(nm, '@litertjs', 'core', 'dist', 'index.js'));
  await lt.loadLiteRt(wasmDir + '/');
  litert = lt;
  return lt;
}

export async function compile(file) {
  const lt = await loadLiteRt();
  return lt.loadAndCompile(new Uint8Array(fs.readFileSync(file)), {accelerator: 'wasm'});
}

// LiteRT.js dtype names -> DESIGN.md's.
export const LITERT_DTYPE = {float32: 'f32', int32: 'i32', uint8: 'u8'};

// ---- a minimal flatbuffer reader (schema.fbs field ids), bounds-checked ----

export class FB {
  constructor(buf) {
    this.b = buf;
    this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  check(pos, n) {
    if (pos < 0 || pos + n > this.b.length) throw new Error(`flatbuffer read at ${pos}+${n} past ${this.b.length}`);
  }
  u8(p) { this.check(p, 1); return this.dv.getUint8(p); }
  u16(p) { this.check(p, 2); return this.dv.getUint16(p, true); }
  u32(p) { this.check(p, 4); return this.dv.getUint32(p, true); }
  i32(p) { this.check(p, 4); return this.dv.getInt32(p, true); }
  root() { return this.u32(0); }
  // offset of field `id` in the table at t, 0 if absent
  field(t, id) {
    const vt = t - this.i32(t), vsize = this.u16(vt);
    return 4 + 2 * id + 2 <= vsize ? this.u16(vt + 4 + 2 * id) : 0;
  }
  ref(t, id) { const o = this.field(t, id); return o ? t + o + this.u32(t + o) : 0; }
  scalarU32(t, id, def = 0) { const o = this.field(t, id); return o ? this.u32(t + o) : def; }
  scalarU8(t, id, def = 0) { const o = this.field(t, id); return o ? this.u8(t + o) : def; }
  vec(t, id) { const p = this.ref(t, id); return p ? {pos: p + 4, len: this.u32(p)} : {pos: 0, len: 0}; }
  ints(t, id) { const v = this.vec(t, id); return Array.from({length: v.len}, (_, i) => this.i32(v.pos + 4 * i)); }
  tables(t, id) { const v = this.vec(t, id); return Array.from({length: v.len}, (_, i) => { const p = v.pos + 4 * i; return p + this.u32(p); }); }
  str(t, id) {
    const p = this.ref(t, id);
    if (!p) return '';
    const n = this.u32(p);
    this.check(p + 4, n);
    return new TextDecoder().decode(this.b.subarray(p + 4, p + 4 + n));
  }
}

const TYPE_NAMES = ['f32', 'f16', 'i32', 'u8', 'i64', 'string', 'bool', 'i16', 'c64', 'i8', 'f64', 'c128', 'u64',
  'resource', 'variant', 'u32', 'u16', 'i4', 'bf16'];

// Model -> {version, subgraphs: [{tensors: [{name, type, shape}], inputs, outputs,
// operators: [{opcode, inputs, outputs}]}], opcodes: [builtin or custom], signatures}
export function readTflite(buf) {
  const fb = new FB(buf);
  const m = fb.root();
  if (new TextDecoder().decode(buf.subarray(4, 8)) !== 'TFL3') throw new Error('not TFL3');
  const opcodes = fb.tables(m, 1).map((c) => {
    const dep = fb.scalarU8(c, 0), code = fb.scalarU32(c, 3);
    const b = Math.max(dep > 127 ? dep - 256 : dep, code | 0);
    return b === 32 ? fb.str(c, 1) : b;
  });
  const subgraphs = fb.tables(m, 2).map((sg) => ({
    tensors: fb.tables(sg, 0).map((t) => ({
      name: fb.str(t, 3), type: TYPE_NAMES[fb.scalarU8(t, 1)] ?? `type${fb.scalarU8(t, 1)}`,
      shape: fb.ints(t, 0), buffer: fb.scalarU32(t, 2),
    })),
    inputs: fb.ints(sg, 1),
    outputs: fb.ints(sg, 2),
    operators: fb.tables(sg, 3).map((op) => ({
      opcode: opcodes[fb.scalarU32(op, 0)], inputs: fb.ints(op, 1), outputs: fb.ints(op, 2),
    })),
  }));
  const signatures = fb.tables(m, 7).map((s) => ({
    key: fb.str(s, 2), subgraph: fb.scalarU32(s, 4),
    inputs: fb.tables(s, 0).map((tm) => ({name: fb.str(tm, 0), tensor: fb.scalarU32(tm, 1)})),
    outputs: fb.tables(s, 1).map((tm) => ({name: fb.str(tm, 0), tensor: fb.scalarU32(tm, 1)})),
  }));
  return {version: fb.scalarU32(m, 0), opcodes, subgraphs, buffers: fb.tables(m, 4).length, signatures};
}

// Deterministic inputs (xorshift32), so a failure reproduces.
export function rng(seed) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0;
    return s / 4294967296;
  };
}
