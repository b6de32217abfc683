// capture.ts — reading GPU buffers back, activation capture, .npy files.
//
// readBuffer() copies a buffer range into a MAP_READ staging buffer and
// returns its bytes.  DebugCapture collects named activations, in the order
// capture() was called, as Float32Array (f16/i32/u32 data is widened) with
// their shapes; an engine calls capture() at each checkpoint when `enabled`
// and does nothing otherwise.  Before copying it flushes the Batcher it was
// given, so the copy sees every dispatch recorded so far; the copy is
// submitted at once, so later kernels that reuse the buffer cannot change
// what was captured.
//
// toNpy() writes NumPy's .npy format version 1.0: the magic "\x93NUMPY",
// bytes 1 0, a little-endian u16 header length, then the header: an ASCII
// Python dict literal {'descr': '<f4', 'fortran_order': False, 'shape':
// (d0, d1, ), } padded with spaces and ended by '\n' so that magic + length
// + header is a multiple of 64 bytes; then the data, C order.  parseNpy()
// reads back what toNpy and NumPy write for the common dtypes.

import type { Batcher } from './dispatch.js';

/** Bytes [offset, offset + size) of `buffer` (which needs COPY_SRC). */
export async function readBuffer(device: GPUDevice, buffer: GPUBuffer, offset = 0, size = buffer.size - offset): Promise<ArrayBuffer> {
  const staging = stage(device, buffer, offset, size);
  return finish(staging, size);
}

function stage(device: GPUDevice, buffer: GPUBuffer, offset: number, size: number): GPUBuffer {
  if (offset % 4 !== 0) throw new Error(`readBuffer: offset ${offset} is not a multiple of 4`);
  if (offset + size > buffer.size) throw new Error(`readBuffer: bytes ${offset}..${offset + size} beyond the buffer's ${buffer.size}`);
  const padded = Math.min(Math.ceil(size / 4) * 4, buffer.size - offset);
  const staging = device.createBuffer({ size: Math.max(4, Math.ceil(size / 4) * 4), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const enc = device.createCommandEncoder();
  if (padded > 0) enc.copyBufferToBuffer(buffer, offset, staging, 0, padded);
  device.queue.submit([enc.finish()]);
  return staging;
}

async function finish(staging: GPUBuffer, size: number): Promise<ArrayBuffer> {
  try {
    await staging.mapAsync(GPUMapMode.READ);
    return staging.getMappedRange(0, staging.size).slice(0, size);
  } finally {
    staging.destroy();
  }
}

export type CaptureDtype = 'f32' | 'f16' | 'i32' | 'u32';

export interface CaptureOptions {
  /** Byte offset in the buffer (multiple of 4). */
  offset?: number;
  /** Element type in the buffer (default f32). */
  dtype?: CaptureDtype;
}

export class DebugCapture {
  enabled: boolean;
  private readonly device: GPUDevice;
  private readonly batcher: Batcher | undefined;
  private order: string[] = [];
  private pending: Promise<void>[] = [];
  private readonly data = new Map<string, Float32Array>();
  private readonly shapes = new Map<string, number[]>();

  constructor(device: GPUDevice, opts: { enabled?: boolean; batcher?: Batcher } = {}) {
    this.device = device;
    this.batcher = opts.batcher;
    this.enabled = opts.enabled ?? false;
  }

  /** Records `buffer` (shape elements of dtype) as checkpoint `name`; a repeated name replaces. */
  capture(name: string, buffer: GPUBuffer, shape: readonly number[], opts: CaptureOptions = {}): void {
    if (!this.enabled) return;
    const dtype = opts.dtype ?? 'f32';
    const count = shape.reduce((a, b) => a * b, 1);
    const bytes = count * (dtype === 'f16' ? 2 : 4);
    this.batcher?.flush();
    const staging = stage(this.device, buffer, opts.offset ?? 0, bytes);
    if (!this.order.includes(name)) this.order.push(name);
    this.shapes.set(name, shape.slice());
    this.pending.push(
      finish(staging, bytes).then((ab) => {
        this.data.set(name, widen(ab, dtype));
      }),
    );
  }

  /** Waits for every capture; returns name -> values in capture order. */
  async activations(): Promise<Map<string, Float32Array>> {
    await Promise.all(this.pending);
    this.pending = [];
    const out = new Map<string, Float32Array>();
    for (const n of this.order) out.set(n, this.data.get(n)!);
    return out;
  }

  /** Waits for every capture; returns name -> shape in capture order. */
  async shapesOf(): Promise<Map<string, number[]>> {
    await Promise.all(this.pending);
    const out = new Map<string, number[]>();
    for (const n of this.order) out.set(n, this.shapes.get(n)!);
    return out;
  }

  /** Every capture as .npy bytes, in capture order. */
  async exportNpy(): Promise<Map<string, Uint8Array>> {
    const acts = await this.activations();
    const arrays = new Map<string, { data: Float32Array; shape: number[] }>();
    for (const [n, d] of acts) arrays.set(n, { data: d, shape: this.shapes.get(n)! });
    return exportNpy(arrays);
  }

  clear(): void {
    this.order = [];
    this.pending = [];
    this.data.clear();
    this.shapes.clear();
  }
}

function widen(ab: ArrayBuffer, dtype: CaptureDtype): Float32Array {
  if (dtype === 'f32') return new Float32Array(ab);
  if (dtype === 'i32') return Float32Array.from(new Int32Array(ab));
  if (dtype === 'u32') return Float32Array.from(new Uint32Array(ab));
  const h = new Uint16Array(ab);
  const out = new Float32Array(h.length);
  for (let i = 0; i < h.length; i++) out[i] = f16ToF32(h[i]!);
  return out;
}

/** binary16 bits -> number (exact). */
export function f16ToF32(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return sign * m * 2 ** -24;
  if (e === 0x1f) return m ? NaN : sign * Infinity;
  return sign * (1 + m / 1024) * 2 ** (e - 15);
}

function shapeTuple(shape: readonly number[]): string {
  if (shape.length === 0) return '()';
  if (shape.length === 1) return `(${shape[0]},)`;
  return `(${shape.join(', ')})`;
}

/** A .npy (v1.0, '<f4', C order) of `data` with `shape` (element counts must match). */
export function toNpy(data: Float32Array, shape: readonly number[]): Uint8Array {
  for (const d of shape) if (!Number.isSafeInteger(d) || d < 0) throw new Error(`toNpy: bad dimension ${d}`);
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new Error(`toNpy: shape ${shapeTuple(shape)} has ${count} elements, data ${data.length}`);
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shapeTuple(shape)}, }`;
  // magic (6) + version (2) + length (2) + header + '\n' ≡ 0 (mod 64)
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 10 - 1, ' ') + '\n';
  const out = new Uint8Array(total + data.length * 4);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  const body = new DataView(out.buffer, total);
  for (let i = 0; i < data.length; i++) body.setFloat32(i * 4, data[i]!, true);
  return out;
}

/** name -> .npy bytes for every {data, shape} (Map order kept). */
export function exportNpy(arrays: Map<string, { data: Float32Array; shape: readonly number[] }>): Map<string, Uint8Array> {
  const out = new Map<string, Uint8Array>();
  for (const [n, a] of arrays) out.set(n, toNpy(a.data, a.shape));
  return out;
}

export interface NpyArray {
  /** Float32Array for f2/f4/f8 (f8 narrowed), Int32Array for i1/i2/i4/i8 (i8 must fit), Uint8Array for u1/b1, Uint32Array for u2/u4. */
  data: Float32Array | Int32Array | Uint32Array | Uint8Array;
  shape: number[];
  /** NumPy descr as read, e.g. '<f4'. */
  descr: string;
}

/** Parses a little-endian, C-order .npy (v1, v2, v3). */
export function parseNpy(bytes: Uint8Array): NpyArray {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (bytes.length < 10 || magic.some((b, i) => bytes[i] !== b)) throw new Error('parseNpy: not a .npy file');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6]!;
  const hlen = major === 1 ? dv.getUint16(8, true) : dv.getUint32(8, true);
  const hstart = major === 1 ? 10 : 12;
  if (hstart + hlen > bytes.length) throw new Error('parseNpy: truncated header');
  const header = new TextDecoder().decode(bytes.subarray(hstart, hstart + hlen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw new Error(`parseNpy: bad header ${header}`);
  if (fortran === 'True') throw new Error('parseNpy: Fortran order is not supported');
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s !== '').map(Number);
  const count = shape.reduce((a, b) => a * b, 1);
  const kind = descr.replace(/^[<|=]/, '');
  if (descr.startsWith('>')) throw new Error(`parseNpy: big-endian ${descr} is not supported`);
  const size = Number(kind.slice(1));
  const off = hstart + hlen;
  if (off + count * size > bytes.length) throw new Error('parseNpy: truncated data');
  const at = (i: number) => off + i * size;
  let data: NpyArray['data'];
  switch (kind) {
    case 'f4': data = new Float32Array(count); for (let i = 0; i < count; i++) data[i] = dv.getFloat32(at(i), true); break;
    case 'f8': data = new Float32Array(count); for (let i = 0; i < count; i++) data[i] = dv.getFloat64(at(i), true); break;
    case 'f2': data = new Float32Array(count); for (let i = 0; i < count; i++) data[i] = f16ToF32(dv.getUint16(at(i), true)); break;
    case 'i1': data = new Int32Array(count); for (let i = 0; i < count; i++) data[i] = dv.getInt8(at(i)); break;
    case 'i2': data = new Int32Array(count); for (let i = 0; i < count; i++) data[i] = dv.getInt16(at(i), true); break;
    case 'i4': data = new Int32Array(count); for (let i = 0; i < count; i++) data[i] = dv.getInt32(at(i), true); break;
    case 'i8': data = new Int32Array(count); for (let i = 0; i < count; i++) data[i] = Number(dv.getBigInt64(at(i), true)); break;
    case 'u1': case 'b1': data = bytes.slice(off, off + count); break;
    case 'u2': data = new Uint32Array(count); for (let i = 0; i < count; i++) data[i] = dv.getUint16(at(i), true); break;
    case 'u4': data = new Uint32Array(count); for (let i = 0; i < count; i++) data[i] = dv.getUint32(at(i), true); break;
    default: throw new Error(`parseNpy: dtype ${descr} is not supported`);
  }
  return { data, shape, descr };
}
