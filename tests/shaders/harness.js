// Shader test harness: runs each case of cases.js on a GPUDevice and compares
// every output element with the case's float64 CPU reference under
// |got − want| ≤ atol + rtol·|want|.  Runs in a browser page (main.js) or
// any host with WebGPU; it only needs a device and the generated module.
//
// A case's build() returns
//   buffers: { name: TypedArray (input) | {size, type} (output) | {data, type} }
//            keyed by the binding name; a read-only binding left out gets a
//            small NaN-filled buffer (for bindings a flag disables)
//   params:  { field: number | number[] } — every Params field, by name
//   passes:  [{ entry, params, bind: {binding: bufferKey}, dispatch }], or
//            dispatch alone for one pass of entry 'main'
//   expect:  { bufferKey: Float64Array | number[] }  the reference
// dispatch: { threads, wg } (linear, split over x and y), { groups } (one
// workgroup per item, split), or { grid: [x, y, z] }; maxX (default 65535)
// caps the x dimension so that tests can force the split path.

export const SENTINEL = 0xffffffff; // NaN as f32: an element nobody wrote shows up
const GUARD = 64; // sentinel elements after each buffer: writes past the end show up

export function rng(seed) {
  // mulberry32: small, seedable, good enough for test data
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---- f16: the F16 variants store every `real` buffer as binary16 ----

const f32buf = new Float32Array(1);
const u32buf = new Uint32Array(f32buf.buffer);

// f32 -> f16 bits, round to nearest even; overflow to inf, NaN kept.
export function f16bits(v) {
  f32buf[0] = v;
  const x = u32buf[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let man = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (man ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    man |= 0x800000;
    const shift = 14 - e;
    let h = man >>> shift;
    const rem = man & ((1 << shift) - 1), half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1))) h++;
    return sign | h;
  }
  let h = (e << 10) | (man >>> 13);
  const rem = man & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1))) h++; // may carry into the exponent: correct
  return sign | h;
}

export function f16value(h) {
  const sign = h & 0x8000 ? -1 : 1, e = (h >>> 10) & 0x1f, m = h & 0x3ff;
  if (e === 0) return sign * m * 2 ** -24;
  if (e === 0x1f) return m ? NaN : sign * Infinity;
  return sign * (1 + m / 1024) * 2 ** (e - 15);
}

// Which precision test data is made in: the F16 variants read inputs
// rounded to f16, so the reference must see the same values.
export const precision = { half: false };
export const toReal = (v) => (precision.half ? f16value(f16bits(v)) : Math.fround(v));

// Uniform in [lo, hi), never exactly zero, representable in the storage type.
export function rand(r, n, lo = -1, hi = 1) {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    let v = 0;
    while (v === 0) v = toReal(lo + (hi - lo) * r());
    a[i] = v;
  }
  return a;
}

export function splitGrid(count, maxX = 65535) {
  if (count === 0) return [0, 1, 1];
  const x = Math.min(count, maxX);
  const y = Math.ceil(count / x);
  if (y > 65535) throw new Error(`dispatch of ${count} workgroups does not fit`);
  return [x, y, 1];
}

function grid(d, info, entry) {
  if (d.grid) return d.grid;
  if (d.groups !== undefined) return splitGrid(d.groups, d.maxX);
  const wg = info.entryPoints[entry];
  const per = wg[0] * wg[1] * wg[2];
  return splitGrid(Math.ceil(d.threads / per), d.maxX);
}

function scalarKind(type) {
  if (/f32|vec\df|mat\dx\df/.test(type)) return 'f32';
  if (/i32|vec\di/.test(type)) return 'i32';
  if (/u32|vec\du/.test(type)) return 'u32';
  throw new Error(`uniform field type ${type} unsupported by the harness`);
}

// Params values by field name into the uniform's bytes, offsets from Info.
export function packParams(info, values) {
  const p = info.params;
  const buf = new ArrayBuffer(Math.max(16, Math.ceil(p.size / 16) * 16));
  const dv = new DataView(buf);
  for (const k of Object.keys(values))
    if (!(k in p.fields)) throw new Error(`Params has no field '${k}'`);
  for (const [name, f] of Object.entries(p.fields)) {
    if (!(name in values)) throw new Error(`Params field '${name}' not given`);
    const v = [values[name]].flat(3);
    const kind = scalarKind(f.type);
    if (v.length > f.size / 4) throw new Error(`Params field '${name}' takes ${f.size / 4} values`);
    v.forEach((x, i) => {
      const o = f.offset + 4 * i;
      if (kind === 'f32') dv.setFloat32(o, x, true);
      else if (kind === 'i32') dv.setInt32(o, x, true);
      else dv.setUint32(o, x >>> 0, true);
    });
  }
  return buf;
}

function typeOf(spec) {
  if (spec instanceof Uint32Array) return 'u32';
  if (spec instanceof Int32Array) return 'i32';
  if (spec instanceof Float32Array) return 'f32';
  return spec.type || (spec.data && typeOf(spec.data)) || 'f32';
}

function view(type, ab) {
  if (type === 'f16') return Float64Array.from(new Uint16Array(ab), f16value);
  return type === 'u32' ? new Uint32Array(ab) : type === 'i32' ? new Int32Array(ab) : new Float32Array(ab);
}

// Buffer keys bound to `real` (or vec4<real>) bindings in any pass.
function realKeys(info, passes) {
  const keys = new Set();
  for (const p of passes)
    for (const b of info.bindings)
      if (b.space === 'storage' && /\breal\b/.test(b.elem)) keys.add((p.bind && p.bind[b.name]) || b.name);
  return keys;
}

export class Runner {
  constructor(device, shaders, log) {
    this.device = device;
    this.shaders = shaders;
    this.log = log;
    this.pipelines = new Map();
  }

  async pipeline(name, entry) {
    const key = name + ':' + entry;
    if (this.pipelines.has(key)) return this.pipelines.get(key);
    const dev = this.device;
    const code = this.shaders[name];
    const info = this.shaders[name.replace(/F16$/, '') + 'Info'];
    const module = dev.createShaderModule({ code, label: name });
    const ci = await module.getCompilationInfo();
    const errs = ci.messages.filter((m) => m.type === 'error');
    if (errs.length)
      throw new Error(`${name}: ${errs.length} compile errors: ` +
        errs.map((m) => `${m.lineNum}:${m.linePos}: ${m.message}`).join('; '));
    const entries = info.bindings.map((b) => ({
      binding: b.binding,
      visibility: GPUShaderStage.COMPUTE,
      buffer: { type: b.space === 'uniform' ? 'uniform' : b.access === 'read_write' ? 'storage' : 'read-only-storage' },
    }));
    const bgl = dev.createBindGroupLayout({ entries });
    const layout = dev.createPipelineLayout({ bindGroupLayouts: [bgl] });
    const pl = await dev.createComputePipelineAsync({ layout, compute: { module, entryPoint: entry } });
    const r = { pl, bgl, info };
    this.pipelines.set(key, r);
    return r;
  }

  // Runs one built case; returns { bufKey: TypedArray } of the expected outputs.
  async run(name, c) {
    const dev = this.device;
    dev.pushErrorScope('validation');
    dev.pushErrorScope('out-of-memory');
    const bufs = {};
    const types = {};
    const made = [];
    const mk = (size, usage) => {
      const b = dev.createBuffer({ size: Math.max(16, Math.ceil(size / 16) * 16), usage });
      made.push(b);
      return b;
    };
    const SU = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
    const passes = c.passes || [{ entry: 'main', params: c.params, dispatch: c.dispatch }];
    const half = /F16$/.test(name) ? realKeys(this.shaders[name.replace(/F16$/, '') + 'Info'], passes) : new Set();
    for (const [k, spec] of Object.entries(c.buffers)) {
      const data = ArrayBuffer.isView(spec) ? spec : spec.data;
      const n = data ? data.length : spec.size;
      let init;
      if (half.has(k)) {
        // binary16 elements, the guard and any padding to 4 bytes NaN
        init = new Uint16Array(2 * Math.ceil((n + GUARD) / 2)).fill(0xffff);
        if (data) for (let i = 0; i < n; i++) init[i] = f16bits(data[i]);
        types[k] = 'f16';
      } else {
        init = new Uint32Array(n + GUARD).fill(SENTINEL);
        if (data) init.set(new Uint32Array(data.buffer, data.byteOffset, n));
        types[k] = typeOf(spec);
      }
      const b = mk(init.byteLength, SU);
      dev.queue.writeBuffer(b, 0, init);
      bufs[k] = { buf: b, n, bytes: init.byteLength, esize: half.has(k) ? 2 : 4 };
    }
    const enc = dev.createCommandEncoder();
    for (const p of passes) {
      const entry = p.entry || 'main';
      const { pl, bgl, info } = await this.pipeline(name, entry);
      const entries = info.bindings.map((b) => {
        if (b.space === 'uniform') {
          const u = mk(info.params.size, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
          dev.queue.writeBuffer(u, 0, packParams(info, p.params));
          return { binding: b.binding, resource: { buffer: u } };
        }
        const key = (p.bind && p.bind[b.name]) || b.name;
        let e = bufs[key];
        if (!e) {
          if (b.access === 'read_write') throw new Error(`no buffer for output binding '${b.name}'`);
          const d = mk(16, SU);
          dev.queue.writeBuffer(d, 0, new Uint32Array(4).fill(SENTINEL));
          e = { buf: d };
        }
        return { binding: b.binding, resource: { buffer: e.buf } };
      });
      const bg = dev.createBindGroup({ layout: bgl, entries });
      const pass = enc.beginComputePass();
      pass.setPipeline(pl);
      pass.setBindGroup(0, bg);
      const [x, y, z] = grid(p.dispatch, info, entry);
      if (x > 0) pass.dispatchWorkgroups(x, y, z);
      pass.end();
    }
    const reads = [];
    for (const k of Object.keys(c.expect)) {
      const e = bufs[k];
      if (!e) throw new Error(`expect names unknown buffer '${k}'`);
      const st = mk(e.bytes, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
      enc.copyBufferToBuffer(e.buf, 0, st, 0, e.bytes);
      reads.push([k, st, e]);
    }
    dev.queue.submit([enc.finish()]);
    const out = {};
    for (const [k, st, e] of reads) {
      await st.mapAsync(GPUMapMode.READ);
      const all = st.getMappedRange().slice(0, e.bytes);
      st.unmap();
      const words = e.esize === 2 ? new Uint16Array(all) : new Uint32Array(all);
      const guard = Array.from(words.subarray(e.n, e.n + GUARD), (w) => (w === (e.esize === 2 ? 0xffff : SENTINEL) ? SENTINEL : w));
      out[k] = { values: view(types[k], all.slice(0, e.n * e.esize)), guard };
    }
    const oom = await dev.popErrorScope();
    const val = await dev.popErrorScope();
    for (const b of made) b.destroy();
    if (val) throw new Error('validation: ' + val.message);
    if (oom) throw new Error('out of memory: ' + oom.message);
    return out;
  }
}

// Compares got with want; returns null or a description of the failure.
export function compare(got, want, tol, integer) {
  const n = want.length;
  if (got.values.length !== n) return `length ${got.values.length} vs ${n}`;
  for (let i = 0; i < got.guard.length; i++)
    if (got.guard[i] !== SENTINEL) return `wrote past the end (element ${n + i})`;
  let worst = 0, worstI = -1, bad = 0, first = -1;
  for (let i = 0; i < n; i++) {
    const a = got.values[i], b = want[i];
    const lim = integer ? 0 : tol.atol + tol.rtol * Math.abs(b);
    const err = Math.abs(a - b);
    if (!(err <= lim)) {
      bad++;
      if (first < 0) first = i;
    }
    const ratio = lim > 0 ? err / lim : err;
    if (!(ratio <= worst)) {
      worst = ratio;
      worstI = i;
    }
  }
  if (bad)
    return `${bad}/${n} elements out of tolerance; first [${first}] got ${got.values[first]} want ${want[first]}`;
  return { worst, worstI };
}
