// weights.ts — load a model's weights into GPU buffers.
//
// Two manifest formats (see DESIGN.md and tools/m2w-pack.c):
//
//   weights.json (m2w-extract)  {"dtype", "bytes", "xxh3", "tensors": [{"name",
//       "shape", "dtype", "offset", "bytes", ...}]}; the tensors lie in one
//       blob beside it (weights.bin: the manifest URL with .json -> .bin, or
//       options.blobUrl), fetched in one streamed GET.
//   shards.json (m2w-pack)  {"format": "m2w-pack", "version": 1, "shards":
//       [{"name", "file", "offset", "bytes", "xxh3"}], "tensors": [{"name",
//       "shard", "offset", "bytes", "shape", "dtype", "chunks"?: [{"offset",
//       "bytes", "row", "rows"}]} | {"name", "alias", "tied"?}]}; tensor and
//       chunk offsets count from the shard's start.  Each shard is one HTTP
//       Range request (`Range: bytes=a-b`) on its file, so per-layer shards
//       stream in layer order; a server that ignores Range and answers 200
//       with the whole file is handled by skipping to the shard's bytes.
//
// Every stored tensor (or chunk) gets its own GPUBuffer, usage STORAGE |
// COPY_SRC | COPY_DST, created mappedAtCreation: bytes arriving from the
// network are copied straight into the mapped range and the buffer is
// unmapped as soon as its last byte arrived, so no CPU copy of the weights
// outlives its upload (peak CPU memory is one network chunk).  Buffer sizes
// are rounded up to 4 bytes; `size` is the tensor's exact byte count.  An
// alias (tied weights) shares the stored tensor's buffer.  A chunked tensor
// (larger than the pack's max_binding) has `chunks`, one buffer each; its
// `buffer` is the first chunk's and `size` the whole tensor's.
//
// Out of memory: every buffer of one load is created inside an
// 'out-of-memory' error scope, popped before any byte is fetched; a
// GPUOutOfMemoryError there, a RangeError from createBuffer or
// getMappedRange (the mapping could not be allocated), or a tensor above
// maxBufferSize all become a ModelTooLargeError whose message starts
// "model too large for this device" (what failed, the load's total bytes,
// the browser's own words); the buffers made so far are destroyed.

export interface TensorChunk {
  buffer: GPUBuffer;
  offset: number;
  size: number;
  /** First row (outermost index) of the chunk, and how many rows it holds. */
  row: number;
  rows: number;
}

export interface GpuTensor {
  name: string;
  buffer: GPUBuffer;
  /** Byte offset of the tensor in `buffer` (0: each tensor has its own buffer). */
  offset: number;
  /** Bytes of the tensor. */
  size: number;
  shape: number[];
  dtype: string;
  /** Present for chunked tensors: bind each chunk separately. */
  chunks?: TensorChunk[];
  /** For an alias: the stored tensor it shares a buffer with. */
  aliasOf?: string;
}

export type Weights = Map<string, GpuTensor>;

export interface LoadProgress {
  loaded: number;
  total: number;
}

export interface LoadWeightsOptions {
  /** Called as bytes arrive (throttled to network chunks). */
  onProgress?: (p: LoadProgress) => void;
  /** weights.json only: the blob's URL (default: manifest URL, .json -> .bin). */
  blobUrl?: string | URL;
  /** Load only tensors whose name passes (aliases follow their target). */
  filter?: (name: string) => boolean;
  /** Concurrent Range requests for sharded manifests (default 2). */
  concurrency?: number;
  /** fetch to use (default globalThis.fetch). */
  fetch?: typeof fetch;
  /** Extra usage bits OR-ed into every buffer's usage. */
  extraUsage?: number;
  /** Label prefix for buffers. */
  label?: string;
  signal?: AbortSignal;
}

interface ExtractTensor {
  name: string;
  shape: number[];
  dtype: string;
  offset: number;
  bytes: number;
}

interface PackShard {
  name: string;
  file: string;
  offset: number;
  bytes: number;
}

interface PackTensor {
  name: string;
  shard?: number;
  offset?: number;
  bytes?: number;
  shape?: number[];
  dtype?: string;
  chunks?: { offset: number; bytes: number; row: number; rows: number }[];
  alias?: string;
}

/** A byte range of one response body and where those bytes go. */
interface Piece {
  start: number; // from the start of the body's range
  end: number;
  target: Uint8Array; // mapped range of the destination buffer
  buffer: GPUBuffer;
  filled: number;
}

/** A load that does not fit the device's memory or limits. */
export class ModelTooLargeError extends Error {
  constructor(detail: string) {
    super(`model too large for this device: ${detail}`);
    this.name = 'ModelTooLargeError';
  }
}

/** Error-scope state of one load: buffers are created between push and pop. */
class OomScope {
  private open = false;
  private readonly device: GPUDevice;
  private readonly what: string;
  private readonly total: number;
  constructor(device: GPUDevice, what: string, total: number) {
    this.device = device;
    this.what = what;
    this.total = total;
  }
  push(): void {
    this.device.pushErrorScope('out-of-memory');
    this.open = true;
  }
  /** Pops the scope; throws ModelTooLargeError if an allocation failed in it. */
  async pop(): Promise<void> {
    if (!this.open) return;
    this.open = false;
    const err = await this.device.popErrorScope();
    if (err) throw new ModelTooLargeError(`${this.what}: ${this.total} bytes of weights, allocation failed (${err.message})`);
  }
  /** On an error path: pops without throwing. */
  async close(): Promise<void> {
    if (!this.open) return;
    this.open = false;
    await this.device.popErrorScope().catch(() => null);
  }
}

const BUFFER_USAGE = () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

/** Loads a weights.json or shards.json manifest (by content) and its data. */
export async function loadWeights(device: GPUDevice, manifestUrl: string | URL, opts: LoadWeightsOptions = {}): Promise<Weights> {
  const fetchFn = opts.fetch ?? globalThis.fetch.bind(globalThis);
  const base = new URL(String(manifestUrl), typeof location !== 'undefined' ? location.href : undefined);
  const res = await fetchFn(base, opts.signal ? { signal: opts.signal } : {});
  if (!res.ok) throw new Error(`weights: ${base.href}: HTTP ${res.status}`);
  const manifest = (await res.json()) as Record<string, unknown>;
  if (manifest['format'] === 'm2w-pack') return loadSharded(device, base, manifest, opts, fetchFn);
  if (Array.isArray(manifest['tensors'])) return loadBlob(device, base, manifest, opts, fetchFn);
  throw new Error(`weights: ${base.href}: neither an m2w-extract nor an m2w-pack manifest`);
}

/** Destroys every buffer of `weights` once (aliases share buffers). */
export function destroyWeights(weights: Weights): void {
  const seen = new Set<GPUBuffer>();
  for (const t of weights.values())
    for (const b of t.chunks ? t.chunks.map((c) => c.buffer) : [t.buffer])
      if (!seen.has(b)) {
        seen.add(b);
        b.destroy();
      }
}

function checkInt(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new Error(`weights: bad ${what}: ${String(v)}`);
  return v;
}

function makeBuffer(device: GPUDevice, bytes: number, label: string, opts: LoadWeightsOptions): { buffer: GPUBuffer; target: Uint8Array } {
  const max = device.limits.maxBufferSize;
  const size = Math.max(4, Math.ceil(bytes / 4) * 4);
  if (size > max) throw new ModelTooLargeError(`weights: ${label} needs a ${size}-byte buffer, device limit maxBufferSize ${max}`);
  let buffer: GPUBuffer | undefined;
  try {
    buffer = device.createBuffer({ size, usage: BUFFER_USAGE() | (opts.extraUsage ?? 0), mappedAtCreation: true, label });
    return { buffer, target: new Uint8Array(buffer.getMappedRange(), 0, bytes) };
  } catch (e) {
    buffer?.destroy();
    // a mapping that cannot be allocated is a RangeError (WebGPU spec, createBuffer)
    if (e instanceof RangeError) throw new ModelTooLargeError(`weights: ${label}: ${size}-byte buffer could not be allocated (${e.message})`);
    throw e;
  }
}

async function loadBlob(device: GPUDevice, base: URL, manifest: Record<string, unknown>, opts: LoadWeightsOptions, fetchFn: typeof fetch): Promise<Weights> {
  const tensors = manifest['tensors'] as ExtractTensor[];
  const blobBytes = checkInt(manifest['bytes'], 'blob size');
  const blobUrl = opts.blobUrl
    ? new URL(String(opts.blobUrl), base)
    : new URL(base.pathname.replace(/\.json$/, '') + '.bin' + base.search, base);
  const out: Weights = new Map();
  const pieces: Piece[] = [];
  const prefix = opts.label ?? '';
  const oom = new OomScope(device, `weights: ${base.href}`, blobBytes);
  try {
    oom.push();
    for (const t of tensors) {
      const offset = checkInt(t.offset, `offset of ${t.name}`);
      const bytes = checkInt(t.bytes, `bytes of ${t.name}`);
      if (offset + bytes > blobBytes) throw new Error(`weights: ${t.name}: bytes ${offset}..${offset + bytes} beyond the blob's ${blobBytes}`);
      if (opts.filter && !opts.filter(t.name)) continue;
      const { buffer, target } = makeBuffer(device, bytes, prefix + t.name, opts);
      pieces.push({ start: offset, end: offset + bytes, target, buffer, filled: 0 });
      out.set(t.name, { name: t.name, buffer, offset: 0, size: bytes, shape: t.shape.slice(), dtype: t.dtype });
    }
    await oom.pop();
    const progress = { loaded: 0, total: blobBytes };
    await streamRange(fetchFn, blobUrl, 0, blobBytes, pieces, progress, opts, blobBytes);
  } catch (e) {
    await oom.close();
    for (const p of pieces) p.buffer.destroy();
    throw e;
  }
  return out;
}

async function loadSharded(device: GPUDevice, base: URL, manifest: Record<string, unknown>, opts: LoadWeightsOptions, fetchFn: typeof fetch): Promise<Weights> {
  if (manifest['version'] !== 1) throw new Error(`weights: ${base.href}: m2w-pack version ${String(manifest['version'])}, expected 1`);
  const shards = manifest['shards'] as PackShard[];
  const tensors = manifest['tensors'] as PackTensor[];
  const byName = new Map<string, PackTensor>();
  for (const t of tensors) byName.set(t.name, t);
  const wanted = (t: PackTensor): boolean => !opts.filter || opts.filter(t.name);
  // aliases pull in their target even when the filter drops the target's name
  const keep = new Set<string>();
  for (const t of tensors) {
    if (!wanted(t)) continue;
    keep.add(t.alias ?? t.name);
  }

  const out: Weights = new Map();
  const perShard: Piece[][] = shards.map(() => []);
  const all: Piece[] = [];
  const prefix = opts.label ?? '';
  const total = shards.reduce((n, s) => n + (typeof s.bytes === 'number' ? s.bytes : 0), 0);
  const oom = new OomScope(device, `weights: ${base.href}`, total);
  try {
    oom.push();
    for (const t of tensors) {
      if (t.alias !== undefined || !keep.has(t.name)) continue;
      const si = checkInt(t.shard, `shard of ${t.name}`);
      const shard = shards[si];
      if (!shard) throw new Error(`weights: ${t.name}: shard ${si} of ${shards.length}`);
      const shardBytes = checkInt(shard.bytes, `bytes of shard ${shard.name}`);
      const place = (offset: number, bytes: number, label: string) => {
        checkInt(offset, `offset of ${label}`);
        checkInt(bytes, `bytes of ${label}`);
        if (offset + bytes > shardBytes) throw new Error(`weights: ${label}: bytes ${offset}..${offset + bytes} beyond shard ${shard.name}'s ${shardBytes}`);
        const { buffer, target } = makeBuffer(device, bytes, prefix + label, opts);
        const p: Piece = { start: offset, end: offset + bytes, target, buffer, filled: 0 };
        perShard[si]!.push(p);
        all.push(p);
        return buffer;
      };
      const bytes = checkInt(t.bytes, `bytes of ${t.name}`);
      const entry: GpuTensor = { name: t.name, buffer: null as unknown as GPUBuffer, offset: 0, size: bytes, shape: (t.shape ?? []).slice(), dtype: t.dtype ?? '' };
      if (t.chunks && t.chunks.length > 0) {
        entry.chunks = t.chunks.map((c, i) => ({ buffer: place(c.offset, c.bytes, `${t.name}#${i}`), offset: 0, size: c.bytes, row: c.row, rows: c.rows }));
        entry.buffer = entry.chunks[0]!.buffer;
      } else {
        entry.buffer = place(checkInt(t.offset, `offset of ${t.name}`), bytes, t.name);
      }
      out.set(t.name, entry);
    }
    for (const t of tensors) {
      if (t.alias === undefined || !wanted(t)) continue;
      const target = out.get(t.alias);
      if (!target) throw new Error(`weights: alias ${t.name} -> ${t.alias}: no such stored tensor`);
      out.set(t.name, { ...target, name: t.name, aliasOf: t.alias });
    }
    await oom.pop();

    const jobs = shards.map((s, i) => ({ s, pieces: perShard[i]! })).filter((j) => j.pieces.length > 0);
    const progress = { loaded: 0, total: jobs.reduce((n, j) => n + j.s.bytes, 0) };
    let next = 0;
    const worker = async () => {
      while (next < jobs.length) {
        const j = jobs[next++]!;
        const url = new URL(j.s.file, base);
        const off = checkInt(j.s.offset, `offset of shard ${j.s.name}`);
        // a shard alone in its file (the default layout) is the whole file
        const alone = off === 0 && shards.filter((o) => o.file === j.s.file).length === 1;
        await streamRange(fetchFn, url, off, j.s.bytes, j.pieces, progress, opts, alone ? j.s.bytes : -1);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.concurrency ?? 2, jobs.length)) }, worker));
  } catch (e) {
    await oom.close();
    for (const p of all) p.buffer.destroy();
    throw e;
  }
  return out;
}

/**
 * GETs bytes [offset, offset + length) of `url` (a Range request unless it
 * is the whole file from 0) and copies them into the pieces, whose start/end
 * count from `offset`.  Unmaps each piece's buffer when it is full.
 */
/** The whole file's size from a response (Content-Range's total for 206, Content-Length for 200), or -1. */
function fileSizeOf(res: Response): number {
  if (res.status === 206) {
    const m = /\/(\d+)\s*$/.exec(res.headers.get('content-range') ?? '');
    return m ? Number(m[1]) : -1;
  }
  const n = res.headers.get('content-length');
  return n !== null && /^\d+$/.test(n) && !res.headers.get('content-encoding') ? Number(n) : -1;
}

async function streamRange(fetchFn: typeof fetch, url: URL, offset: number, length: number, pieces: Piece[], progress: LoadProgress, opts: LoadWeightsOptions, fileBytes = -1): Promise<void> {
  pieces.sort((a, b) => a.start - b.start);
  const headers: Record<string, string> = {};
  if (length > 0) headers['Range'] = `bytes=${offset}-${offset + length - 1}`;
  const res = await fetchFn(url, { headers, ...(opts.signal ? { signal: opts.signal } : {}) });
  let skip: number; // body bytes before our range
  if (res.status === 206) {
    const cr = res.headers.get('content-range');
    const m = cr ? /bytes\s+(\d+)-(\d+)/.exec(cr) : null;
    if (m && Number(m[1]) !== offset) throw new Error(`weights: ${url.href}: asked for bytes from ${offset}, got Content-Range ${cr}`);
    skip = 0;
  } else if (res.status === 200) {
    skip = offset; // the server ignored Range: the whole file comes
  } else {
    throw new Error(`weights: ${url.href}: HTTP ${res.status}`);
  }
  // A blob and a manifest from different builds (say, a build killed
  // between writing the two) must not load silently: their sizes differ.
  const size = fileSizeOf(res);
  if (fileBytes >= 0 && size >= 0 && size !== fileBytes) {
    await res.body?.cancel().catch(() => undefined);
    throw new Error(`weights: ${url.href} is ${size} bytes but its manifest says ${fileBytes}: ` +
      'the weights file and its manifest come from different builds (rebuild, or re-deploy both)');
  }

  let pos = -skip; // position in our range of the next body byte
  let pi = 0; // first piece not yet full
  const take = (chunk: Uint8Array) => {
    const cStart = pos;
    const cEnd = pos + chunk.length;
    pos = cEnd;
    const lo = Math.max(cStart, 0);
    const hi = Math.min(cEnd, length);
    if (hi > lo) {
      progress.loaded += hi - lo;
      for (let i = pi; i < pieces.length; i++) {
        const p = pieces[i]!;
        if (p.start >= hi) break;
        const a = Math.max(p.start, lo);
        const b = Math.min(p.end, hi);
        if (b > a) {
          p.target.set(chunk.subarray(a - cStart, b - cStart), a - p.start);
          p.filled += b - a;
        }
      }
      while (pi < pieces.length && pieces[pi]!.filled === pieces[pi]!.end - pieces[pi]!.start) {
        pieces[pi]!.buffer.unmap();
        pi++;
      }
      opts.onProgress?.({ loaded: progress.loaded, total: progress.total });
    }
    return pos >= length;
  };

  if (res.body && typeof res.body.getReader === 'function') {
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (take(value)) {
        await reader.cancel().catch(() => undefined);
        break;
      }
    }
  } else {
    take(new Uint8Array(await res.arrayBuffer()));
  }
  // zero-byte tensors are full from the start
  while (pi < pieces.length && pieces[pi]!.end === pieces[pi]!.start) {
    pieces[pi]!.buffer.unmap();
    pi++;
  }
  if (pi < pieces.length) throw new Error(`weights: ${url.href}: response ended after ${Math.max(0, pos)} of ${length} bytes`);
}
