// gguf.ts — the GGUF header, read in the browser, and ggml block repacking.
//
// GGUF (ggml's gguf.h; versions 2 and 3, little-endian): "GGUF", u32
// version, u64 tensor count, u64 key/value count; then each key/value: a
// string key (u64 length + UTF-8 bytes), a u32 value type (0 u8, 1 i8,
// 2 u16, 3 i16, 4 u32, 5 i32, 6 f32, 7 bool, 8 string, 9 array: u32 element
// type + u64 count + elements, 10 u64, 11 i64, 12 f64) and the value; then
// each tensor: name, u32 dims, u64 × dims (ne[0] is the innermost, the row
// length), u32 ggml type, u64 offset from the data section.  The data
// section starts at the end of the infos rounded up to general.alignment
// (default 32).  Every read is bounds-checked: a header that runs past the
// bytes fetched so far throws NeedMoreBytes, and the caller fetches more.
//
// Repacking (m2w-pack's layouts, tools/m2w-pack.c): a Q8_0 block (f16 d,
// 32 int8) becomes 9 u32 (d widened to f32, then the quants as they are);
// a Q4_0 block (f16 d, 16 nibble bytes) becomes 5 u32.  Both work on any
// whole number of blocks, so a tensor streams through in pieces.

export class NeedMoreBytes extends Error {
  constructor(readonly need: number) {
    super(`GGUF header: need ${need} bytes`);
  }
}

export const GGML_F32 = 0, GGML_F16 = 1, GGML_Q4_0 = 2, GGML_Q8_0 = 8;

/** ggml types: name, elements per block, bytes per block. */
export const GGML_TYPES: Record<number, { name: string; block: number; bytes: number }> = {
  0: { name: 'f32', block: 1, bytes: 4 },
  1: { name: 'f16', block: 1, bytes: 2 },
  2: { name: 'q4_0', block: 32, bytes: 18 },
  3: { name: 'q4_1', block: 32, bytes: 20 },
  6: { name: 'q5_0', block: 32, bytes: 22 },
  7: { name: 'q5_1', block: 32, bytes: 24 },
  8: { name: 'q8_0', block: 32, bytes: 34 },
  10: { name: 'q2_k', block: 256, bytes: 84 },
  11: { name: 'q3_k', block: 256, bytes: 110 },
  12: { name: 'q4_k', block: 256, bytes: 144 },
  13: { name: 'q5_k', block: 256, bytes: 176 },
  14: { name: 'q6_k', block: 256, bytes: 210 },
  30: { name: 'bf16', block: 1, bytes: 2 },
};

export type GGUFValue = number | bigint | boolean | string | GGUFValue[];

export interface GGUFTensorInfo {
  name: string;
  /** ggml order: ne[0] is the row length. */
  ne: number[];
  type: number;
  /** Absolute byte offset in the file. */
  offset: number;
  bytes: number;
}

export interface GGUFHeader {
  version: number;
  metadata: Map<string, GGUFValue>;
  tensors: GGUFTensorInfo[];
  dataOffset: number;
}

const MAX_DIMS = 4;
const MAX_STRING = 1 << 26;

const utf8 = new TextDecoder('utf-8');

/** Parses a GGUF header from its first bytes; throws NeedMoreBytes when `buf` is too short. */
export function parseGGUF(buf: Uint8Array): GGUFHeader {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let off = 0;
  const need = (n: number) => {
    if (off + n > buf.length) throw new NeedMoreBytes(off + n);
  };
  const u32 = () => { need(4); const v = dv.getUint32(off, true); off += 4; return v; };
  const u64 = () => {
    need(8);
    const v = dv.getBigUint64(off, true);
    off += 8;
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`GGUF: 0x${(off - 8).toString(16)}: value ${v} too large`);
    return Number(v);
  };
  const str = () => {
    const at = off;
    const n = u64();
    if (n > MAX_STRING) throw new Error(`GGUF: 0x${at.toString(16)}: string of ${n} bytes, limit ${MAX_STRING}`);
    need(n);
    const s = utf8.decode(buf.subarray(off, off + n));
    off += n;
    return s;
  };
  const scalar = (t: number): GGUFValue => {
    switch (t) {
      case 0: need(1); return dv.getUint8(off++);
      case 1: need(1); return dv.getInt8(off++);
      case 2: { need(2); const v = dv.getUint16(off, true); off += 2; return v; }
      case 3: { need(2); const v = dv.getInt16(off, true); off += 2; return v; }
      case 4: return u32();
      case 5: { need(4); const v = dv.getInt32(off, true); off += 4; return v; }
      case 6: { need(4); const v = dv.getFloat32(off, true); off += 4; return v; }
      case 7: need(1); return dv.getUint8(off++) !== 0;
      case 8: return str();
      case 10: { need(8); const v = dv.getBigUint64(off, true); off += 8; return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v; }
      case 11: { need(8); const v = dv.getBigInt64(off, true); off += 8; return Number(v); }
      case 12: { need(8); const v = dv.getFloat64(off, true); off += 8; return v; }
      default: throw new Error(`GGUF: 0x${(off - 4).toString(16)}: value type ${t}`);
    }
  };
  const value = (t: number): GGUFValue => {
    if (t !== 9) return scalar(t);
    const et = u32();
    const at = off;
    const n = u64();
    if (n > 1 << 28) throw new Error(`GGUF: 0x${at.toString(16)}: array of ${n} elements`);
    const out: GGUFValue[] = new Array(n);
    for (let i = 0; i < n; i++) out[i] = value(et);
    return out;
  };

  need(4);
  if (buf[0] !== 0x47 || buf[1] !== 0x47 || buf[2] !== 0x55 || buf[3] !== 0x46) throw new Error('GGUF: bad magic (not a GGUF file)');
  off = 4;
  const version = u32();
  if (version !== 2 && version !== 3) throw new Error(`GGUF: version ${version}, expected 2 or 3`);
  const nTensors = u64();
  const nKV = u64();
  if (nTensors > 1 << 20 || nKV > 1 << 20) throw new Error(`GGUF: ${nTensors} tensors / ${nKV} keys, limit ${1 << 20}`);
  const metadata = new Map<string, GGUFValue>();
  for (let i = 0; i < nKV; i++) {
    const k = str();
    metadata.set(k, value(u32()));
  }
  const infos: { name: string; ne: number[]; type: number; rel: number }[] = [];
  for (let i = 0; i < nTensors; i++) {
    const name = str();
    const at = off;
    const nd = u32();
    if (nd > MAX_DIMS) throw new Error(`GGUF: 0x${at.toString(16)}: tensor ${name} has ${nd} dims, limit ${MAX_DIMS}`);
    const ne: number[] = [];
    for (let d = 0; d < nd; d++) ne.push(u64());
    infos.push({ name, ne, type: u32(), rel: u64() });
  }
  const align = Number(metadata.get('general.alignment') ?? 32);
  const dataOffset = Math.ceil(off / align) * align;
  const tensors = infos.map((t) => {
    const ti = GGML_TYPES[t.type];
    if (!ti) throw new Error(`GGUF: tensor ${t.name}: unknown ggml type ${t.type}`);
    const n = t.ne.reduce((a, b) => a * b, 1);
    if (n % ti.block !== 0) throw new Error(`GGUF: tensor ${t.name}: ${n} elements, not whole ${ti.name} blocks`);
    return { name: t.name, ne: t.ne, type: t.type, offset: dataOffset + t.rel, bytes: (n / ti.block) * ti.bytes };
  });
  return { version, metadata, tensors, dataOffset };
}

/** binary16 bits -> f32 value. */
export function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 0x1f) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** Bytes a tensor of `type` takes on the GPU after repacking (rounded to 4). */
export function packedBytes(type: number, elements: number): number {
  if (type === GGML_Q8_0) return (elements / 32) * 36;
  if (type === GGML_Q4_0) return (elements / 32) * 20;
  if (type === GGML_F16) return Math.ceil((elements * 2) / 4) * 4;
  if (type === GGML_F32) return elements * 4;
  throw new Error(`type ${GGML_TYPES[type]?.name ?? type} is not supported (F32, F16, Q8_0, Q4_0)`);
}

/** Source bytes of one repacking unit (a block, or 4 bytes for floats). */
export function unitBytes(type: number): number {
  if (type === GGML_Q8_0) return 34;
  if (type === GGML_Q4_0) return 18;
  return 4;
}

/** Repacks whole units of `src` into `dst` (dst bytes = units · packed unit size). */
export function repack(type: number, src: Uint8Array, dst: Uint8Array): void {
  if (type === GGML_F32 || type === GGML_F16) {
    dst.set(src);
    return;
  }
  const sdv = new DataView(src.buffer, src.byteOffset, src.byteLength);
  const ddv = new DataView(dst.buffer, dst.byteOffset, dst.byteLength);
  const inB = type === GGML_Q8_0 ? 34 : 18;
  const outB = type === GGML_Q8_0 ? 36 : 20;
  const n = src.length / inB;
  for (let b = 0; b < n; b++) {
    ddv.setFloat32(b * outB, halfToFloat(sdv.getUint16(b * inB, true)), true);
    dst.set(src.subarray(b * inB + 2, (b + 1) * inB), b * outB + 4);
  }
}
