// pipelines.ts — compute pipelines and uniforms from m2w-shadergen modules.
//
// m2w-shadergen emits, per shader NAME: `NAME` (WGSL, f32), `NAMEF16` (the
// f16 variant, with --f16) and `NAMEInfo` = {bindings: [{group, binding,
// name, space, access, type}], params: {size, fields: {f: {offset, size,
// type}}} | null, workgroupSize, entryPoints}.  createPipeline() picks the
// f16 source when the device runs f16 and the variant exists, caches shader
// modules per source, and uses layout 'auto'.  encodeParams() lays out a
// Params uniform from NAMEInfo.params by each field's offset and WGSL type
// (scalars, vecN, matCxR with its column padding, fixed-size arrays with
// the uniform 16-byte stride); struct-typed fields take raw bytes.
// bindGroups() makes one bind group per group from binding names.

export interface ShaderBinding {
  group: number;
  binding: number;
  name: string;
  space: string;
  access: string | null;
  type: string;
}

export interface ShaderField {
  offset: number;
  size: number;
  type: string;
}

export interface ShaderInfo {
  bindings: readonly ShaderBinding[];
  params: { size: number; fields: Record<string, ShaderField> } | null;
  workgroupSize: readonly number[];
  entryPoints: Record<string, readonly number[]>;
}

/** The namespace of a generated shaders.ts (`import * as shaders from './shaders.js'`). */
export type ShaderModuleExports = Record<string, unknown>;

export interface Kernel {
  name: string;
  pipeline: GPUComputePipeline;
  info: ShaderInfo;
  f16: boolean;
}

const moduleCache = new WeakMap<GPUDevice, Map<string, GPUShaderModule>>();

/**
 * The compute pipeline for shader `name` of `shaders`: the f16 variant when
 * `f16` is set and `${name}F16` exists.  `constants` fills WGSL overrides.
 */
export function createPipeline(
  device: GPUDevice,
  shaders: ShaderModuleExports,
  name: string,
  opts: { f16?: boolean; entryPoint?: string; constants?: Record<string, number>; label?: string } = {},
): Kernel {
  const info = shaders[`${name}Info`] as ShaderInfo | undefined;
  const f32 = shaders[name];
  const half = shaders[`${name}F16`];
  if (typeof f32 !== 'string' || !info) throw new Error(`pipelines: the shader module has no ${name} / ${name}Info`);
  const useF16 = Boolean(opts.f16) && typeof half === 'string';
  const code = useF16 ? (half as string) : f32;
  let cache = moduleCache.get(device);
  if (!cache) moduleCache.set(device, (cache = new Map()));
  const key = `${name}${useF16 ? 'F16' : ''}`;
  let module = cache.get(key);
  if (!module) cache.set(key, (module = device.createShaderModule({ code, label: key })));
  const entryPoint = opts.entryPoint ?? Object.keys(info.entryPoints)[0] ?? 'main';
  const pipeline = device.createComputePipeline({
    label: opts.label ?? `${key}:${entryPoint}`,
    layout: 'auto',
    compute: { module, entryPoint, ...(opts.constants ? { constants: opts.constants } : {}) },
  });
  return { name, pipeline, info, f16: useF16 };
}

export type ParamValue = number | readonly number[] | ArrayBufferView;

interface Layout {
  scalar: 'f32' | 'i32' | 'u32' | 'f16';
  columns: number; // vectors (1 for scalars / vectors)
  rows: number; // components per vector
  columnStride: number; // bytes
  count: number; // array elements (1 if not an array)
  stride: number; // bytes per array element
}

function scalarOf(t: string): Layout['scalar'] | null {
  if (/^(f32|i32|u32|f16)$/.test(t)) return t as Layout['scalar'];
  return null;
}

function vecLayout(t: string): { scalar: Layout['scalar']; n: number } | null {
  const s = scalarOf(t);
  if (s) return { scalar: s, n: 1 };
  let m = /^vec([234])<(f32|i32|u32|f16)>$/.exec(t);
  if (m) return { scalar: m[2] as Layout['scalar'], n: Number(m[1]) };
  m = /^vec([234])([fiuh])$/.exec(t);
  if (m) return { scalar: ({ f: 'f32', i: 'i32', u: 'u32', h: 'f16' } as const)[m[2] as 'f' | 'i' | 'u' | 'h'], n: Number(m[1]) };
  return null;
}

function layoutOf(t: string): Layout | null {
  t = t.replace(/\s+/g, '');
  const v = vecLayout(t);
  const esize = (s: Layout['scalar']) => (s === 'f16' ? 2 : 4);
  if (v) return { scalar: v.scalar, columns: 1, rows: v.n, columnStride: 0, count: 1, stride: 0 };
  let m = /^mat([234])x([234])(?:<(f32|f16)>|([fh]))$/.exec(t);
  if (m) {
    const scalar: Layout['scalar'] = m[3] === 'f16' || m[4] === 'h' ? 'f16' : 'f32';
    const rows = Number(m[2]);
    const colAlign = (rows === 2 ? 2 : 4) * esize(scalar);
    return { scalar, columns: Number(m[1]), rows, columnStride: colAlign, count: 1, stride: 0 };
  }
  m = /^array<(.+),(\d+)u?>$/.exec(t);
  if (m) {
    const e = layoutOf(m[1]!);
    if (!e || e.count !== 1) return null;
    const esz = e.columns > 1 ? e.columns * e.columnStride : (e.rows === 3 ? 4 : e.rows) * esize(e.scalar);
    return { ...e, count: Number(m[2]), stride: Math.ceil(esz / 16) * 16 };
  }
  return null;
}

/** Uniform bytes for `info.params` from values by field name (missing fields stay 0). */
export function encodeParams(info: ShaderInfo, values: Record<string, ParamValue>): ArrayBuffer {
  if (!info.params) throw new Error('encodeParams: this shader has no Params uniform');
  const out = new ArrayBuffer(info.params.size);
  const dv = new DataView(out);
  for (const [field, value] of Object.entries(values)) {
    const f = info.params.fields[field];
    if (!f) throw new Error(`encodeParams: no Params field ${field} (fields: ${Object.keys(info.params.fields).join(', ')})`);
    if (ArrayBuffer.isView(value)) {
      const src = new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
      if (src.length > f.size) throw new Error(`encodeParams: ${field}: ${src.length} bytes for a ${f.size}-byte field`);
      new Uint8Array(out, f.offset, src.length).set(src);
      continue;
    }
    const l = layoutOf(f.type);
    if (!l) throw new Error(`encodeParams: ${field}: type ${f.type} needs raw bytes (an ArrayBufferView)`);
    const list = typeof value === 'number' ? [value] : value;
    const per = l.columns * l.rows;
    if (list.length !== per * l.count) throw new Error(`encodeParams: ${field} (${f.type}) takes ${per * l.count} numbers, got ${list.length}`);
    const esz = l.scalar === 'f16' ? 2 : 4;
    let k = 0;
    for (let a = 0; a < l.count; a++)
      for (let c = 0; c < l.columns; c++)
        for (let r = 0; r < l.rows; r++) {
          const at = f.offset + a * l.stride + c * l.columnStride + r * esz;
          const x = list[k++]!;
          if (l.scalar === 'f32') dv.setFloat32(at, x, true);
          else if (l.scalar === 'i32') dv.setInt32(at, x, true);
          else if (l.scalar === 'u32') dv.setUint32(at, x, true);
          else dv.setUint16(at, f32ToF16(x), true);
        }
  }
  return out;
}

/** A UNIFORM | COPY_DST buffer holding encodeParams(info, values). */
export function createParamsBuffer(device: GPUDevice, info: ShaderInfo, values: Record<string, ParamValue>, label?: string): GPUBuffer {
  const bytes = encodeParams(info, values);
  const buffer = device.createBuffer({ size: Math.max(16, bytes.byteLength), usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, ...(label ? { label } : {}) });
  device.queue.writeBuffer(buffer, 0, bytes);
  return buffer;
}

/** Rewrites a params buffer made by createParamsBuffer. */
export function writeParams(device: GPUDevice, buffer: GPUBuffer, info: ShaderInfo, values: Record<string, ParamValue>): void {
  device.queue.writeBuffer(buffer, 0, encodeParams(info, values));
}

export type BindingResource = GPUBuffer | { buffer: GPUBuffer; offset?: number; size?: number };

/**
 * One bind group per group index used by `kernel`'s bindings (0, 1, ...),
 * each entry found by binding name in `resources`.
 */
export function bindGroups(device: GPUDevice, kernel: Kernel, resources: Record<string, BindingResource>): GPUBindGroup[] {
  const groups = new Map<number, GPUBindGroupEntry[]>();
  for (const b of kernel.info.bindings) {
    const r = resources[b.name];
    if (!r) throw new Error(`bindGroups: ${kernel.name}: no resource for binding ${b.name}`);
    // a GPUBuffer has no `buffer` member: that tells the two forms apart
    const resource = 'buffer' in r ? r : { buffer: r };
    const list = groups.get(b.group) ?? [];
    list.push({ binding: b.binding, resource });
    groups.set(b.group, list);
  }
  const out: GPUBindGroup[] = [];
  const max = Math.max(-1, ...groups.keys());
  for (let g = 0; g <= max; g++)
    out.push(device.createBindGroup({ layout: kernel.pipeline.getBindGroupLayout(g), entries: groups.get(g) ?? [] }));
  return out;
}

/** number -> binary16 bits, round to nearest even (overflow to infinity). */
export function f32ToF16(v: number): number {
  const f = new Float32Array([v]);
  const x = new Uint32Array(f.buffer)[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let man = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (man ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    man |= 0x800000;
    const shift = 14 - e;
    let h = man >>> shift;
    const rem = man & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (man >>> 13);
  const rem = man & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
  return sign | h;
}
