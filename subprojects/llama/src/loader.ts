// loader.ts — a llama-family model's weights onto the GPU, from a GGUF file
// or from m2w-pack shards, with JS memory independent of the model's size.
//
// GGUF: one Range request for the header (HEADER_GUESS bytes; a header
// larger than that, e.g. a big vocabulary, costs one more request for what
// is missing), then one Range request per layer ("blk.N.*", in file order;
// the other tensors form one more group).  Each tensor gets a GPUBuffer
// mapped at creation; bytes arriving from the network are repacked into
// it at once (Q8_0 -> 9 u32 a block, Q4_0 -> 5 u32, m2w-pack's layouts; F32
// and F16 copied) and the buffer is unmapped when its last byte arrived.
// A block cut between two network chunks waits in a 34-byte carry.  So the
// JS heap holds the header, the vocabulary and one network chunk.
//
// shards.json (m2w-pack): the runtime's loadWeights(); the config and the
// tokenizer come from shards.json's "config" and tokenizer.json.

import { loadWeights } from './runtime/index.js';
import type { TokenizerJSON } from './tokenizer.js';
import { GGML_F16, GGML_F32, GGML_Q4_0, GGML_Q8_0, GGML_TYPES, NeedMoreBytes, packedBytes, parseGGUF, repack, unitBytes } from './gguf.js';
import type { GGUFHeader, GGUFTensorInfo, GGUFValue } from './gguf.js';

export type WeightType = 'f32' | 'f16' | 'q8_0' | 'q4_0';

export interface GpuWeight {
  buffer: GPUBuffer;
  type: WeightType;
  /** ggml order: ne[0] is the row length. */
  ne: number[];
}

export interface LlamaConfig {
  arch: string;
  name: string;
  hidden: number;
  layers: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  ffn: number;
  vocab: number;
  eps: number;
  ropeBase: number;
  ropeDims: number;
  contextLength: number;
}

export interface LoadedWeights {
  config: LlamaConfig;
  tokenizer: TokenizerJSON;
  tensors: Map<string, GpuWeight>;
  /** Bytes of the weights on the GPU (shared buffers once). */
  gpuBytes: number;
}

export interface LoaderOptions {
  onProgress?: (loaded: number, total: number) => void;
  fetch?: typeof fetch;
  signal?: AbortSignal;
}

const HEADER_GUESS = 4 << 20;
const TYPE_NAMES: Record<number, WeightType> = { [GGML_F32]: 'f32', [GGML_F16]: 'f16', [GGML_Q8_0]: 'q8_0', [GGML_Q4_0]: 'q4_0' };
const USAGE = () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

/** Loads `url`: a .gguf file, or an m2w-pack shards.json (by name or content). */
export async function loadLlamaWeights(device: GPUDevice, url: string | URL, opts: LoaderOptions = {}): Promise<LoadedWeights> {
  const fetchFn = opts.fetch ?? globalThis.fetch.bind(globalThis);
  const href = new URL(String(url), typeof location !== 'undefined' ? location.href : undefined);
  if (/\.json$/i.test(href.pathname)) return loadShards(device, href, opts, fetchFn);
  return loadGGUF(device, href, opts, fetchFn);
}

async function rangeGet(fetchFn: typeof fetch, url: URL, start: number, end: number, signal?: AbortSignal): Promise<{ res: Response; skip: number }> {
  const res = await fetchFn(url, { headers: { Range: `bytes=${start}-${end - 1}` }, ...(signal ? { signal } : {}) });
  if (res.status === 206) return { res, skip: 0 };
  if (res.status === 200) return { res, skip: start }; // Range ignored: the whole file
  throw new Error(`llama: ${url.href}: HTTP ${res.status}`);
}

async function readRange(fetchFn: typeof fetch, url: URL, start: number, end: number, signal?: AbortSignal): Promise<Uint8Array> {
  const { res, skip } = await rangeGet(fetchFn, url, start, end, signal);
  const all = new Uint8Array(await res.arrayBuffer());
  return all.subarray(skip, skip + (end - start));
}

/** Streams bytes [start, end) of url to `sink(chunk, fileOffset)`. */
async function streamRange(fetchFn: typeof fetch, url: URL, start: number, end: number, sink: (c: Uint8Array, at: number) => void, signal?: AbortSignal): Promise<void> {
  const { res, skip } = await rangeGet(fetchFn, url, start, end, signal);
  let pos = start - skip; // file offset of the next body byte
  const take = (c: Uint8Array): boolean => {
    const lo = Math.max(pos, start), hi = Math.min(pos + c.length, end);
    if (hi > lo) sink(c.subarray(lo - pos, hi - pos), lo);
    pos += c.length;
    return pos >= end;
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
  if (pos < end) throw new Error(`llama: ${url.href}: the response ended at byte ${pos}, expected ${end}`);
}

const num = (v: GGUFValue | undefined, dflt?: number): number => {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (dflt === undefined) throw new Error('llama: a required GGUF key is missing');
  return dflt;
};

function configFrom(h: GGUFHeader): LlamaConfig {
  const md = h.metadata;
  const arch = String(md.get('general.architecture') ?? '');
  if (arch !== 'llama') throw new Error(`llama: general.architecture is '${arch}', this package runs 'llama'`);
  const key = (k: string, dflt?: number) => {
    const v = md.get(`${arch}.${k}`);
    if (v === undefined && dflt === undefined) throw new Error(`llama: GGUF key ${arch}.${k} is missing`);
    return num(Array.isArray(v) ? v[0] : v, dflt);
  };
  const hidden = key('embedding_length');
  const heads = key('attention.head_count');
  const headDim = key('attention.key_length', hidden / heads);
  const embd = h.tensors.find((t) => t.name === 'token_embd.weight');
  if (!embd) throw new Error('llama: the GGUF has no token_embd.weight');
  return {
    arch,
    name: String(md.get('general.name') ?? ''),
    hidden,
    layers: key('block_count'),
    heads,
    kvHeads: key('attention.head_count_kv', heads),
    headDim,
    ffn: key('feed_forward_length'),
    vocab: embd.ne[1] ?? 0,
    eps: key('attention.layer_norm_rms_epsilon', 1e-5),
    ropeBase: key('rope.freq_base', 10000),
    ropeDims: key('rope.dimension_count', headDim),
    contextLength: key('context_length', 2048),
  };
}

const b64 = (bytes: Uint8Array): string => {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
};

/** tokenizer.json's object (tools/lib/tokenizer.h) from GGUF metadata. */
export function tokenizerFrom(h: GGUFHeader, raw: Map<number, Uint8Array>): TokenizerJSON {
  const md = h.metadata;
  const P = 'tokenizer.ggml.';
  const tokens = md.get(P + 'tokens');
  if (!Array.isArray(tokens)) throw new Error('llama: the GGUF has no tokenizer.ggml.tokens');
  const j: TokenizerJSON = { model: String(md.get(P + 'model') ?? 'llama'), tokens: tokens as string[] };
  j.pre = md.has(P + 'pre') ? String(md.get(P + 'pre')) : null;
  j.vocab_size = tokens.length;
  const special: Record<string, number> = {};
  const short: Record<string, string> = { unknown: 'unk', seperator: 'sep', padding: 'pad' };
  for (const [k, v] of md) {
    if (!k.startsWith(P)) continue;
    const name = k.slice(P.length);
    let m = /^(.*)_token_id$/.exec(name);
    if (m) { special[short[m[1]!] ?? m[1]!] = num(v); continue; }
    m = /^add_(.*)_token$/.exec(name);
    if (m) { j[`add_${m[1]}`] = Boolean(v); continue; }
    if (['tokens', 'scores', 'token_type', 'merges', 'model', 'pre'].includes(name)) continue;
    if (!Array.isArray(v)) j[name] = typeof v === 'bigint' ? Number(v) : v;
  }
  j.special = special;
  const tmpl = md.get('tokenizer.chat_template');
  if (typeof tmpl === 'string') j.chat_template = tmpl;
  const scores = md.get(P + 'scores');
  if (Array.isArray(scores)) j.scores = scores as number[];
  const types = md.get(P + 'token_type');
  if (Array.isArray(types)) j.token_types = types as number[];
  const merges = md.get(P + 'merges');
  if (Array.isArray(merges)) j.merges = merges as string[];
  if (raw.size > 0) {
    j.invalid_utf8 = {};
    for (const [id, bytes] of raw) j.invalid_utf8[String(id)] = b64(bytes);
  }
  return j;
}

/** Token strings that are not valid UTF-8, as raw bytes, by a second scan of the vocabulary. */
function invalidTokens(buf: Uint8Array): Map<number, Uint8Array> {
  // Parse just enough to find tokenizer.ggml.tokens' strings and check them.
  const out = new Map<number, Uint8Array>();
  const strict = new TextDecoder('utf-8', { fatal: true });
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let off = 8;
  const u64 = () => { const v = Number(dv.getBigUint64(off, true)); off += 8; return v; };
  const u32 = () => { const v = dv.getUint32(off, true); off += 4; return v; };
  off += 8; // tensor count
  const nKV = u64();
  const skip = (t: number): void => {
    const size: Record<number, number> = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
    if (t === 8) { const n = u64(); off += n; return; }
    if (t === 9) {
      const et = u32(), n = u64();
      if (size[et] !== undefined) off += size[et]! * n;
      else for (let i = 0; i < n; i++) skip(et);
      return;
    }
    off += size[t]!;
  };
  for (let i = 0; i < nKV; i++) {
    const kl = u64();
    const key = new TextDecoder().decode(buf.subarray(off, off + kl));
    off += kl;
    const t = u32();
    if (key === 'tokenizer.ggml.tokens' && t === 9) {
      u32();
      const n = u64();
      for (let id = 0; id < n; id++) {
        const sl = u64();
        const bytes = buf.subarray(off, off + sl);
        off += sl;
        try { strict.decode(bytes); } catch { out.set(id, bytes.slice()); }
      }
      return out;
    }
    skip(t);
  }
  return out;
}

async function loadGGUF(device: GPUDevice, url: URL, opts: LoaderOptions, fetchFn: typeof fetch): Promise<LoadedWeights> {
  let head = await readRange(fetchFn, url, 0, HEADER_GUESS, opts.signal);
  let header: GGUFHeader;
  for (;;) {
    try {
      header = parseGGUF(head);
      break;
    } catch (e) {
      if (!(e instanceof NeedMoreBytes) || head.length < HEADER_GUESS) throw e instanceof NeedMoreBytes ? new Error(`llama: ${url.href}: truncated GGUF header`) : e;
      const more = await readRange(fetchFn, url, head.length, Math.max(e.need, head.length * 2), opts.signal);
      const grown = new Uint8Array(head.length + more.length);
      grown.set(head);
      grown.set(more, head.length);
      if (more.length === 0) throw new Error(`llama: ${url.href}: truncated GGUF header`);
      head = grown;
    }
  }
  const config = configFrom(header);
  const tokenizer = tokenizerFrom(header, invalidTokens(head));
  head = new Uint8Array(0);

  // group the tensors by layer, in file order
  const groups = new Map<string, GGUFTensorInfo[]>();
  for (const t of header.tensors) {
    if (!TYPE_NAMES[t.type]) throw new Error(`llama: tensor ${t.name} is ${GGML_TYPES[t.type]?.name ?? t.type}; this package runs F32, F16, Q8_0 and Q4_0 tensors`);
    const m = /^blk\.(\d+)\./.exec(t.name);
    const g = m ? `blk.${m[1]}` : 'other';
    if (!groups.has(g)) groups.set(g, []);
    groups.get(g)!.push(t);
  }
  const total = header.tensors.reduce((n, t) => n + t.bytes, 0);
  let loaded = 0;
  const tensors = new Map<string, GpuWeight>();
  const created: GPUBuffer[] = [];
  let gpuBytes = 0;
  try {
    const order = [...groups.values()].sort((a, b) => Math.min(...a.map((t) => t.offset)) - Math.min(...b.map((t) => t.offset)));
    for (const list of order) {
      list.sort((a, b) => a.offset - b.offset);
      const pieces = list.map((t) => {
        const elements = t.ne.reduce((a, b) => a * b, 1);
        const size = Math.max(4, Math.ceil(packedBytes(t.type, elements) / 4) * 4);
        if (size > device.limits.maxStorageBufferBindingSize)
          throw new Error(`llama: ${t.name} needs ${size} bytes, above the device's maxStorageBufferBindingSize ${device.limits.maxStorageBufferBindingSize}`);
        const buffer = device.createBuffer({ size, usage: USAGE(), mappedAtCreation: true, label: t.name });
        created.push(buffer);
        gpuBytes += size;
        tensors.set(t.name, { buffer, type: TYPE_NAMES[t.type]!, ne: t.ne.slice() });
        const unit = unitBytes(t.type);
        const outUnit = t.type === GGML_Q8_0 ? 36 : t.type === GGML_Q4_0 ? 20 : 4;
        return { t, buffer, dst: new Uint8Array(buffer.getMappedRange()), out: 0, unit, outUnit, carry: new Uint8Array(unit), carried: 0, got: 0 };
      });
      const start = list[0]!.offset;
      const end = Math.max(...list.map((t) => t.offset + t.bytes));
      let pi = 0;
      await streamRange(fetchFn, url, start, end, (chunk, at) => {
        const cEnd = at + chunk.length;
        for (let i = pi; i < pieces.length; i++) {
          const p = pieces[i]!;
          const ps = p.t.offset, pe = p.t.offset + p.t.bytes;
          if (ps >= cEnd) break;
          const lo = Math.max(ps, at), hi = Math.min(pe, cEnd);
          if (hi <= lo) continue;
          let src = chunk.subarray(lo - at, hi - at);
          p.got += src.length;
          if (p.carried > 0) {
            const n = Math.min(p.unit - p.carried, src.length);
            p.carry.set(src.subarray(0, n), p.carried);
            p.carried += n;
            src = src.subarray(n);
            if (p.carried === p.unit) {
              repack(p.t.type, p.carry, p.dst.subarray(p.out, p.out + p.outUnit));
              p.out += p.outUnit;
              p.carried = 0;
            }
          }
          const whole = Math.floor(src.length / p.unit);
          if (whole > 0) {
            repack(p.t.type, src.subarray(0, whole * p.unit), p.dst.subarray(p.out, p.out + whole * p.outUnit));
            p.out += whole * p.outUnit;
          }
          const rest = src.subarray(whole * p.unit);
          if (rest.length > 0) {
            p.carry.set(rest, 0);
            p.carried = rest.length;
          }
          if (p.got === p.t.bytes) {
            // a float tensor's last 2 bytes (odd f16 count) are no whole unit
            if (p.carried > 0) p.dst.set(p.carry.subarray(0, p.carried), p.out);
            p.buffer.unmap();
            if (i === pi) pi++;
          }
        }
        while (pi < pieces.length && pieces[pi]!.got === pieces[pi]!.t.bytes) pi++;
        loaded += chunk.length;
        opts.onProgress?.(loaded, total);
      }, opts.signal);
      for (const p of pieces) if (p.got !== p.t.bytes) throw new Error(`llama: ${p.t.name}: ${p.got} of ${p.t.bytes} bytes arrived`);
    }
  } catch (e) {
    for (const b of created) b.destroy();
    throw e;
  }
  return { config, tokenizer, tensors, gpuBytes };
}

interface ShardsConfig {
  arch?: string;
  hidden_size: number;
  layers: number;
  heads: number;
  kv_heads: number;
  head_dim: number;
  ffn_size: number;
  context_length: number;
  rope_base: number;
  rope_dims: number;
  norm_eps: number;
  vocab_size?: number;
  metadata?: Record<string, unknown>;
}

async function loadShards(device: GPUDevice, url: URL, opts: LoaderOptions, fetchFn: typeof fetch): Promise<LoadedWeights> {
  const res = await fetchFn(url, opts.signal ? { signal: opts.signal } : {});
  if (!res.ok) throw new Error(`llama: ${url.href}: HTTP ${res.status}`);
  const manifest = (await res.json()) as { config?: ShardsConfig; tokenizer?: string; tensors?: { name: string; chunks?: unknown[] }[] };
  const c = manifest.config;
  if (!c) throw new Error(`llama: ${url.href}: shards.json has no "config" (pack a GGUF)`);
  if (c.arch !== 'llama') throw new Error(`llama: ${url.href}: architecture '${c.arch}', this package runs 'llama'`);
  for (const t of manifest.tensors ?? [])
    if (t.chunks && t.chunks.length > 1) throw new Error(`llama: ${t.name} is split in chunks (m2w-pack --max-binding); pack with a larger --max-binding`);
  if (!manifest.tokenizer) throw new Error(`llama: ${url.href}: no tokenizer.json beside the shards`);
  const tres = await fetchFn(new URL(manifest.tokenizer, url), opts.signal ? { signal: opts.signal } : {});
  if (!tres.ok) throw new Error(`llama: tokenizer.json: HTTP ${tres.status}`);
  const tokenizer = (await tres.json()) as TokenizerJSON;
  const w = await loadWeights(device, url, {
    fetch: fetchFn,
    ...(opts.signal ? { signal: opts.signal } : {}),
    onProgress: (p) => opts.onProgress?.(p.loaded, p.total),
  });
  const tensors = new Map<string, GpuWeight>();
  let gpuBytes = 0;
  for (const t of w.values()) {
    if (!['f32', 'f16', 'q8_0', 'q4_0'].includes(t.dtype)) throw new Error(`llama: tensor ${t.name} is ${t.dtype}; this package runs f32, f16, q8_0 and q4_0`);
    if (!t.aliasOf) gpuBytes += t.buffer.size;
    tensors.set(t.name, { buffer: t.buffer, type: t.dtype as WeightType, ne: t.shape.slice().reverse() });
  }
  const embd = tensors.get('token_embd.weight');
  const md = c.metadata ?? {};
  return {
    config: {
      arch: 'llama',
      name: String(md['general.name'] ?? ''),
      hidden: c.hidden_size,
      layers: c.layers,
      heads: c.heads,
      kvHeads: c.kv_heads,
      headDim: c.head_dim,
      ffn: c.ffn_size,
      vocab: c.vocab_size ?? embd?.ne[1] ?? 0,
      eps: c.norm_eps,
      ropeBase: c.rope_base,
      ropeDims: c.rope_dims,
      contextLength: c.context_length,
    },
    tokenizer,
    tensors,
    gpuBytes,
  };
}
