// engine.ts — the llama forward pass on WebGPU, as llama.cpp's graph
// (src/models/llama.cpp) computes it, T tokens at a time (prefill batched,
// decode T = 1):
//
//   h = embed(ids)                                        embd
//   per layer l:
//     n = rmsNorm(h) · attn_norm                          attn_norm-l
//     q, k, v = n·Wqᵀ, n·Wkᵀ, n·Wvᵀ                       Qcur-l_v0 (_v1) Kcur-l_v0 (_v1) Vcur-l_v0
//     q, k = rope(q, k)                                   Qcur-l Kcur-l (Vcur-l)
//     caches[pos0 ..] = k, v
//     p = softmax(q·Kᵀ / √d, causal)                      kq_soft_max-l
//     a = p · V (GQA)                                     kqv_out-l
//     o = a·Woᵀ                                           attn_out-l
//     h' = h + o, n = rmsNorm(h') · ffn_norm              ffn_inp-l ffn_norm-l
//     f = (silu(n·Wgᵀ) ⊙ n·Wuᵀ)·Wdᵀ          ffn_gate-l ffn_up-l ffn_swiglu-l ffn_out-l
//     h = h' + f                                          l_out-l
//   n = rmsNorm(h) · output_norm                          result_norm
//   logits = n·Eᵀ (output.weight, or the embedding when tied)   result_output
//
// The residual adds are fused into the next RMSNorm (fusedNormAdd), so l_out
// is written by the next layer's first dispatch (or the final norm's).
// The checkpoint names are llama.cpp's cb() names as tests/llama's
// reference dumps spell them (a repeated name: _v0, _v1 for the earlier
// ones); kq (unscaled, unmasked), kqv (per head) and the weightless norm-*
// have no buffer here.
// Weights stay in their file's type on the GPU: Q8_0 / Q4_0 through
// linearQ8 / linearQ4 on m2w-pack's layouts, F32 / F16 through linearFloat;
// a Q8_0 embedding through embeddingLookupQ8, and the tied LM head reads
// the embedding's own buffer.  The KV caches are f32 [kvHeads, maxSeq,
// headDim] per layer; maxSeq, T, pos0 and keys reach the shaders only
// through uniforms, one uniform buffer per op shared by every layer
// (written once per forward), so every bind group is made once, at load.
//
// llama.cpp's CPU backend rounds a product's activations to its weights'
// vec_dot_type (f16 for F16 weights, Q8_0 blocks for Q8_0 and Q4_0); a
// quantizeAct dispatch does the same before each product, so quantised
// models match llama.cpp's arithmetic, not just its weights.
//
// Sampling on the GPU: argmax (greedy) or topK (k candidates) then
// sampleTopP (temperature, nucleus, the host's seeded uniform number); one
// u32 comes back per step.
import { bindGroups, createPipeline, encodeParams } from './runtime/index.js';
import type { Batcher, DebugCapture, Kernel, ParamValue, ShaderModuleExports } from './runtime/index.js';
import type { GpuWeight, LlamaConfig, LoadedWeights } from './loader.js';

export interface SampleParams {
  temperature: number;
  topK: number;
  topP: number;
  /** Uniform random number in [0, 1). */
  u: number;
}

/** Candidates the GPU sampler keeps when topK is 0 (no limit asked). */
export const MAX_CANDIDATES = 256;

const S = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

interface Op {
  kernel: Kernel;
  params: GPUBuffer;
}

interface Layer {
  groups: Record<string, GPUBindGroup[]>;
  kCache: GPUBuffer;
  vCache: GPUBuffer;
}

/**
 * The linear kernel for a weight: rows shorter than 32 blocks of 32 leave
 * most of the 64 threads that linearQ8 / linearQ4 / linearFloat give an
 * output idle, so they get linearRows (a thread per output) instead.
 */
export function linearKernel(t: GpuWeight): string {
  if ((t.ne[0] ?? 0) / 32 < 32) return 'linearRows';
  return t.type === 'q8_0' ? 'linearQ8' : t.type === 'q4_0' ? 'linearQ4' : 'linearFloat';
}

/** quantizeAct's mode for a weight's products: 0 f16, 1 Q8_0, −1 none (f32). */
export function actMode(t: GpuWeight): number {
  return t.type === 'f16' ? 0 : t.type === 'q8_0' || t.type === 'q4_0' ? 1 : -1;
}

export class Engine {
  readonly cfg: LlamaConfig;
  readonly maxSeq: number;
  /** Tokens one forward call takes at most (longer prompts go in chunks). */
  readonly chunk: number;
  readonly device: GPUDevice;
  private readonly w: Map<string, GpuWeight>;
  private readonly ops = new Map<string, Op>();
  private readonly bufs: Record<string, GPUBuffer> = {};
  private readonly layers: Layer[] = [];
  private readonly g: Record<string, GPUBindGroup[]> = {};
  private readonly own: GPUBuffer[] = [];
  private logitsAll: { buffer: GPUBuffer; group: GPUBindGroup[] } | null = null;
  private readonly shaders: ShaderModuleExports;
  private readonly embed: { op: string; kind: number };
  private readonly headOp: string;
  private readonly head: GpuWeight;
  /** quantizeAct mode before the layers' and the head's products (−1: none). */
  private readonly actMode: number = -1;
  private readonly headMode: number = -1;

  constructor(device: GPUDevice, shaders: ShaderModuleExports, weights: LoadedWeights, maxSeq: number, chunk = 64) {
    this.device = device;
    this.shaders = shaders;
    this.cfg = weights.config;
    this.w = weights.tensors;
    this.maxSeq = maxSeq;
    const c = this.cfg;
    if (c.heads % c.kvHeads !== 0) throw new Error(`llama: ${c.heads} heads are not a multiple of ${c.kvHeads} KV heads`);
    if (c.ropeDims > c.headDim || c.ropeDims % 2) throw new Error(`llama: rope dims ${c.ropeDims} with head dim ${c.headDim}`);
    const qDim = c.heads * c.headDim, kvDim = c.kvHeads * c.headDim;
    // the score rows [heads, T, maxSeq] bound the chunk
    const maxBind = device.limits.maxStorageBufferBindingSize;
    this.chunk = Math.max(1, Math.min(Math.floor(chunk), maxSeq, Math.floor(maxBind / (4 * c.heads * maxSeq))));
    const T = this.chunk;

    const buf = (name: string, bytes: number) => {
      const b = device.createBuffer({ size: Math.max(16, Math.ceil(bytes / 4) * 4), usage: S, label: name });
      this.own.push(b);
      this.bufs[name] = b;
      return b;
    };
    buf('ids', T * 4);
    buf('hA', T * c.hidden * 4);
    buf('hB', T * c.hidden * 4);
    buf('n', T * c.hidden * 4);
    buf('q', T * qDim * 4);
    buf('k', T * kvDim * 4);
    buf('v', T * kvDim * 4);
    buf('qr', T * qDim * 4);
    buf('kr', T * kvDim * 4);
    buf('scores', c.heads * T * maxSeq * 4);
    buf('probs', c.heads * T * maxSeq * 4);
    buf('attn', T * qDim * 4);
    buf('o', T * c.hidden * 4);
    buf('gate', T * c.ffn * 4);
    buf('up', T * c.ffn * 4);
    buf('act', T * c.ffn * 4);
    buf('last', c.hidden * 4);
    buf('xq', T * Math.max(c.hidden, qDim, c.ffn) * 4);
    buf('xqLast', c.hidden * 4);
    buf('logits', c.vocab * 4);
    buf('topV', MAX_CANDIDATES * 4);
    buf('topI', MAX_CANDIDATES * 4);
    buf('token', 16);

    const embd = this.need('token_embd.weight');
    this.head = this.w.get('output.weight') ?? embd;
    const lin = (t: GpuWeight) => linearKernel(t);
    this.embed = embd.type === 'q8_0' ? { op: 'embeddingLookupQ8', kind: 0 }
      : embd.type === 'f32' ? { op: 'embeddingLookup', kind: 0 }
      : { op: 'embedRows', kind: embd.type === 'f16' ? 1 : 2 };
    this.headOp = lin(this.head);

    // one uniform buffer per op slot, shared by the layers
    const op = (slot: string, kernel: string) => {
      const k = createPipeline(device, shaders, kernel, { f16: false });
      const params = device.createBuffer({ size: Math.max(16, k.info.params?.size ?? 16), usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST, label: slot });
      this.own.push(params);
      this.ops.set(slot, { kernel: k, params });
    };
    const L0 = (n: string) => this.need(`blk.0.${n}.weight`);
    op('embed', this.embed.op);
    op('norm', 'rmsNorm');
    op('addNorm', 'fusedNormAdd');
    op('linQ', lin(L0('attn_q')));
    op('linK', lin(L0('attn_k')));
    op('linV', lin(L0('attn_v')));
    op('linO', lin(L0('attn_output')));
    op('linG', lin(L0('ffn_gate')));
    op('linU', lin(L0('ffn_up')));
    op('linD', lin(L0('ffn_down')));
    op('ropeQ', 'rope');
    op('ropeK', 'rope');
    op('store', 'kvCacheStore');
    op('score', 'attnScore');
    op('softmax', 'softmax');
    op('attnOut', 'attnOutput');
    op('swiglu', 'geluMul');
    op('head', this.headOp);
    op('headAll', this.headOp);
    op('argmax', 'argmax');
    op('quantD', 'quantizeAct');
    op('quantQ', 'quantizeAct');
    op('quantF', 'quantizeAct');
    op('quantHead', 'quantizeAct');
    op('quantHeadAll', 'quantizeAct');
    op('topK', 'topK');
    op('sample', 'sampleTopP');

    const B = this.bufs as Record<string, GPUBuffer>;
    const bg = (slot: string, res: Record<string, GPUBuffer>) => {
      const o = this.ops.get(slot)!;
      return bindGroups(device, o.kernel, { ...res, params: o.params });
    };
    const linRes = (t: GpuWeight, x: GPUBuffer, y: GPUBuffer): Record<string, GPUBuffer> =>
      linearKernel(t) === 'linearQ8' || linearKernel(t) === 'linearQ4' ? { x, wq: t.buffer, bias: t.buffer, y } : { x, w: t.buffer, y };
    // llama.cpp rounds a product's activations to its weights' vec_dot_type
    this.actMode = actMode(L0('attn_q'));
    this.headMode = actMode(this.head);
    const inp = (x: GPUBuffer) => (this.actMode >= 0 ? B['xq']! : x);
    this.g['qN'] = bg('quantD', { x: B['n']!, y: B['xq']! });
    this.g['qAttn'] = bg('quantQ', { x: B['attn']!, y: B['xq']! });
    this.g['qAct'] = bg('quantF', { x: B['act']!, y: B['xq']! });
    this.g['qLast'] = bg('quantHead', { x: B['last']!, y: B['xqLast']! });
    this.g['qHeadAll'] = bg('quantHeadAll', { x: B['n']!, y: B['xq']! });
    this.g['embed'] = bg('embed', { ids: B['ids']!, table: embd.buffer, out: B['hA']! });
    this.g['norm0'] = bg('norm', { x: B['hA']!, weight: L0('attn_norm').buffer, y: B['n']! });
    const outNorm = this.need('output_norm.weight');
    for (let l = 0; l < c.layers; l++) {
      const W = (n: string) => {
        const t = this.need(`blk.${l}.${n}.weight`);
        const t0 = L0(n);
        if (t.type !== t0.type) throw new Error(`llama: blk.${l}.${n} is ${t.type}, layer 0's is ${t0.type}`);
        return t;
      };
      const kCache = device.createBuffer({ size: c.kvHeads * maxSeq * c.headDim * 4, usage: S, label: `kCache.${l}` });
      const vCache = device.createBuffer({ size: c.kvHeads * maxSeq * c.headDim * 4, usage: S, label: `vCache.${l}` });
      this.own.push(kCache, vCache);
      const nextNorm = l + 1 < c.layers ? this.need(`blk.${l + 1}.attn_norm.weight`) : outNorm;
      this.layers.push({
        kCache,
        vCache,
        groups: {
          q: bg('linQ', linRes(W('attn_q'), inp(B['n']!), B['q']!)),
          k: bg('linK', linRes(W('attn_k'), inp(B['n']!), B['k']!)),
          v: bg('linV', linRes(W('attn_v'), inp(B['n']!), B['v']!)),
          ropeQ: bg('ropeQ', { x: B['q']!, y: B['qr']! }),
          ropeK: bg('ropeK', { x: B['k']!, y: B['kr']! }),
          store: bg('store', { k: B['kr']!, v: B['v']!, kCache, vCache }),
          score: bg('score', { q: B['qr']!, kCache, scores: B['scores']! }),
          softmax: bg('softmax', { x: B['scores']!, y: B['probs']! }),
          attnOut: bg('attnOut', { probs: B['probs']!, vCache, out: B['attn']! }),
          o: bg('linO', linRes(W('attn_output'), inp(B['attn']!), B['o']!)),
          ffnNorm: bg('addNorm', { x: B['o']!, residual: B['hA']!, weight: W('ffn_norm').buffer, sum: B['hB']!, y: B['n']! }),
          gate: bg('linG', linRes(W('ffn_gate'), inp(B['n']!), B['gate']!)),
          up: bg('linU', linRes(W('ffn_up'), inp(B['n']!), B['up']!)),
          swiglu: bg('swiglu', { a: B['gate']!, b: B['up']!, y: B['act']! }),
          down: bg('linD', linRes(W('ffn_down'), inp(B['act']!), B['o']!)),
          next: bg('addNorm', { x: B['o']!, residual: B['hB']!, weight: nextNorm.buffer, sum: B['hA']!, y: B['n']! }),
        },
      });
    }
    this.g['head'] = bg('head', linRes(this.head, this.headMode >= 0 ? B['xqLast']! : B['last']!, B['logits']!));
    this.g['argmax'] = bg('argmax', { x: B['logits']!, out: B['token']! });
    this.g['topK'] = bg('topK', { x: B['logits']!, values: B['topV']!, indices: B['topI']! });
    this.g['sample'] = bg('sample', { values: B['topV']!, indices: B['topI']!, out: B['token']! });
  }

  private need(name: string): GpuWeight {
    const t = this.w.get(name);
    if (!t) throw new Error(`llama: the model has no tensor ${name}`);
    return t;
  }

  private set(slot: string, values: Record<string, ParamValue>): void {
    const o = this.ops.get(slot)!;
    this.device.queue.writeBuffer(o.params, 0, encodeParams(o.kernel.info, values));
  }

  private run(b: Batcher, slot: string, groups: GPUBindGroup[], workgroups: number, label: string): void {
    const o = this.ops.get(slot)!;
    const x = Math.min(workgroups, 65535);
    const y = Math.ceil(workgroups / 65535);
    b.dispatch(o.kernel.pipeline, groups, x, y, 1, label);
  }

  private linParams(t: GpuWeight, T: number): Record<string, ParamValue> {
    const K = t.ne[0]!, N = t.ne[1]!;
    if (K % 32) throw new Error(`llama: a weight's row length ${K} is not a multiple of 32`);
    const k = linearKernel(t);
    if (k === 'linearRows') return { T, N, K, kind: ['f32', 'f16', 'q8_0', 'q4_0'].indexOf(t.type) };
    return k === 'linearFloat' ? { T, N, K, kind: t.type === 'f16' ? 1 : 0 } : { T, N, K, hasBias: 0 };
  }

  /** Rounds `elements` activations (a quantD/Q/F slot's group) as llama.cpp does, when it does. */
  private quant(b: Batcher, slot: string, group: string, elements: number): void {
    if (this.actMode < 0) return;
    this.run(b, slot, this.g[group]!, Math.ceil(elements / 32 / 64), 'quant');
  }

  /** Workgroups of a linear kernel for T·N outputs. */
  private linWG(t: GpuWeight, outputs: number): number {
    return linearKernel(t) === 'linearRows' ? Math.ceil(outputs / 64) : outputs;
  }

  /**
   * Runs tokens `ids` at positions pos0 .. pos0 + T − 1 (T ≤ chunk), storing
   * their keys and values; leaves the last token's logits in `logits`
   * (all T rows in logitsAll with `allLogits`).  `cap` records checkpoints.
   */
  forward(b: Batcher, ids: readonly number[], pos0: number, cap?: DebugCapture, allLogits = false): void {
    const c = this.cfg;
    const T = ids.length;
    if (T < 1 || T > this.chunk) throw new Error(`llama: forward of ${T} tokens, chunk ${this.chunk}`);
    if (pos0 + T > this.maxSeq) throw new Error(`llama: position ${pos0 + T} beyond maxSeqLen ${this.maxSeq}`);
    const qDim = c.heads * c.headDim, kvDim = c.kvHeads * c.headDim;
    const keys = pos0 + T;
    const L0 = (n: string) => this.need(`blk.0.${n}.weight`);
    const dev = this.device;
    // the uniforms below are shared with the work recorded so far: submit it first
    b.flush();
    dev.queue.writeBuffer(this.bufs['ids']!, 0, new Uint32Array(ids));
    this.set('embed', this.embed.op === 'embedRows' ? { T, V: c.vocab, D: c.hidden, kind: this.embed.kind } : { T, V: c.vocab, D: c.hidden });
    this.set('norm', { rows: T, cols: c.hidden, eps: c.eps });
    this.set('addNorm', { rows: T, cols: c.hidden, eps: c.eps });
    this.set('linQ', this.linParams(L0('attn_q'), T));
    this.set('linK', this.linParams(L0('attn_k'), T));
    this.set('linV', this.linParams(L0('attn_v'), T));
    this.set('linO', this.linParams(L0('attn_output'), T));
    this.set('linG', this.linParams(L0('ffn_gate'), T));
    this.set('linU', this.linParams(L0('ffn_up'), T));
    this.set('linD', this.linParams(L0('ffn_down'), T));
    const rope = { T, headDim: c.headDim, ropeDims: c.ropeDims, pos0, mode: 0, theta: c.ropeBase };
    this.set('ropeQ', { ...rope, heads: c.heads });
    this.set('ropeK', { ...rope, heads: c.kvHeads });
    this.set('store', { T, kvHeads: c.kvHeads, headDim: c.headDim, maxSeq: this.maxSeq, pos0 });
    const attn = { T, heads: c.heads, kvHeads: c.kvHeads, headDim: c.headDim, maxSeq: this.maxSeq, keys };
    this.set('score', { ...attn, pos0, causal: 1, scale: 1 / Math.sqrt(c.headDim) });
    this.set('softmax', { rows: c.heads * T, cols: keys });
    this.set('attnOut', attn);
    this.set('swiglu', { n: T * c.ffn, activation: 2 });
    this.set('quantD', { rows: T, cols: c.hidden, mode: this.actMode });
    this.set('quantQ', { rows: T, cols: qDim, mode: this.actMode });
    this.set('quantF', { rows: T, cols: c.ffn, mode: this.actMode });

    const B = this.bufs;
    const ew = (n: number) => Math.ceil(n / 256);
    const snap = (name: string, buffer: GPUBuffer, shape: number[]) => cap?.capture(name, buffer, shape);
    this.run(b, 'embed', this.g['embed']!, ew(T * c.hidden), 'embed');
    snap('embd', B['hA']!, [T, c.hidden]);
    this.run(b, 'norm', this.g['norm0']!, T, 'attn_norm');
    for (let l = 0; l < c.layers; l++) {
      const g = this.layers[l]!.groups;
      snap(`attn_norm-${l}`, B['n']!, [T, c.hidden]);
      this.quant(b, 'quantD', 'qN', T * c.hidden);
      this.run(b, 'linQ', g['q']!, this.linWG(L0('attn_q'), T * qDim), 'q');
      this.run(b, 'linK', g['k']!, this.linWG(L0('attn_k'), T * kvDim), 'k');
      this.run(b, 'linV', g['v']!, this.linWG(L0('attn_v'), T * kvDim), 'v');
      snap(`Qcur-${l}_v0`, B['q']!, [T, qDim]);
      snap(`Kcur-${l}_v0`, B['k']!, [T, kvDim]);
      snap(`Vcur-${l}_v0`, B['v']!, [T, kvDim]);
      snap(`Qcur-${l}_v1`, B['q']!, [T, c.heads, c.headDim]);
      snap(`Kcur-${l}_v1`, B['k']!, [T, c.kvHeads, c.headDim]);
      this.run(b, 'ropeQ', g['ropeQ']!, ew(T * qDim), 'rope q');
      this.run(b, 'ropeK', g['ropeK']!, ew(T * kvDim), 'rope k');
      snap(`Qcur-${l}`, B['qr']!, [T, c.heads, c.headDim]);
      snap(`Kcur-${l}`, B['kr']!, [T, c.kvHeads, c.headDim]);
      snap(`Vcur-${l}`, B['v']!, [T, c.kvHeads, c.headDim]);
      this.run(b, 'store', g['store']!, ew(T * kvDim), 'kv store');
      this.run(b, 'score', g['score']!, ew(c.heads * T * keys), 'scores');
      this.run(b, 'softmax', g['softmax']!, c.heads * T, 'softmax');
      snap(`kq_soft_max-${l}`, B['probs']!, [c.heads, T, keys]);
      this.run(b, 'attnOut', g['attnOut']!, ew(T * qDim), 'attn out');
      snap(`kqv_out-${l}`, B['attn']!, [T, qDim]);
      this.quant(b, 'quantQ', 'qAttn', T * qDim);
      this.run(b, 'linO', g['o']!, this.linWG(L0('attn_output'), T * c.hidden), 'wo');
      snap(`attn_out-${l}`, B['o']!, [T, c.hidden]);
      this.run(b, 'addNorm', g['ffnNorm']!, T, 'ffn_norm');
      snap(`ffn_inp-${l}`, B['hB']!, [T, c.hidden]);
      snap(`ffn_norm-${l}`, B['n']!, [T, c.hidden]);
      this.quant(b, 'quantD', 'qN', T * c.hidden);
      this.run(b, 'linG', g['gate']!, this.linWG(L0('ffn_gate'), T * c.ffn), 'gate');
      this.run(b, 'linU', g['up']!, this.linWG(L0('ffn_up'), T * c.ffn), 'up');
      snap(`ffn_gate-${l}`, B['gate']!, [T, c.ffn]);
      snap(`ffn_up-${l}`, B['up']!, [T, c.ffn]);
      this.run(b, 'swiglu', g['swiglu']!, ew(T * c.ffn), 'swiglu');
      snap(`ffn_swiglu-${l}`, B['act']!, [T, c.ffn]);
      this.quant(b, 'quantF', 'qAct', T * c.ffn);
      this.run(b, 'linD', g['down']!, this.linWG(L0('ffn_down'), T * c.hidden), 'down');
      snap(`ffn_out-${l}`, B['o']!, [T, c.hidden]);
      this.run(b, 'addNorm', g['next']!, T, l + 1 < c.layers ? 'attn_norm' : 'result_norm');
      snap(`l_out-${l}`, B['hA']!, [T, c.hidden]);
    }
    snap('result_norm', B['n']!, [T, c.hidden]);
    b.copy(B['n']!, (T - 1) * c.hidden * 4, B['last']!, 0, c.hidden * 4);
    this.set('head', this.linParams(this.head, 1));
    if (this.headMode >= 0) {
      this.set('quantHead', { rows: 1, cols: c.hidden, mode: this.headMode });
      this.run(b, 'quantHead', this.g['qLast']!, Math.ceil(c.hidden / 32 / 64), 'quant head');
    }
    this.run(b, 'head', this.g['head']!, this.linWG(this.head, c.vocab), 'lm head');
    if (allLogits) {
      if (!this.logitsAll) {
        const buffer = dev.createBuffer({ size: this.chunk * c.vocab * 4, usage: S, label: 'logitsAll' });
        this.own.push(buffer);
        const o = this.ops.get('headAll')!;
        const k = linearKernel(this.head);
        const res = k === 'linearQ8' || k === 'linearQ4'
          ? { x: this.headMode >= 0 ? B['xq']! : B['n']!, wq: this.head.buffer, bias: this.head.buffer, y: buffer }
          : { x: this.headMode >= 0 ? B['xq']! : B['n']!, w: this.head.buffer, y: buffer };
        this.logitsAll = { buffer, group: bindGroups(dev, o.kernel, { ...res, params: o.params }) };
      }
      this.set('headAll', this.linParams(this.head, T));
      if (this.headMode >= 0) {
        this.set('quantHeadAll', { rows: T, cols: c.hidden, mode: this.headMode });
        this.run(b, 'quantHeadAll', this.g['qHeadAll']!, Math.ceil((T * c.hidden) / 32 / 64), 'quant head (all)');
      }
      this.run(b, 'headAll', this.logitsAll.group, this.linWG(this.head, T * c.vocab), 'lm head (all)');
      snap('result_output', this.logitsAll.buffer, [T, c.vocab]);
    }
  }

  /** Records the sampling of the next token from `logits` into `token`. */
  sample(b: Batcher, p: SampleParams | null): void {
    const V = this.cfg.vocab;
    if (!p || p.temperature <= 0 || p.topK === 1) {
      this.set('argmax', { rows: 1, cols: V });
      this.run(b, 'argmax', this.g['argmax']!, 1, 'argmax');
      return;
    }
    const k = Math.max(1, Math.min(p.topK > 0 ? p.topK : MAX_CANDIDATES, MAX_CANDIDATES, V));
    this.set('topK', { rows: 1, cols: V, k });
    this.run(b, 'topK', this.g['topK']!, 1, 'top k');
    this.set('sample', { k, temperature: p.temperature, topP: p.topP > 0 && p.topP <= 1 ? p.topP : 1, u: p.u });
    this.run(b, 'sample', this.g['sample']!, 1, 'sample');
  }

  get tokenBuffer(): GPUBuffer {
    return this.bufs['token']!;
  }

  /** Every position's logits [T, vocab] of the last forward with allLogits. */
  get logitsAllBuffer(): GPUBuffer | null {
    return this.logitsAll?.buffer ?? null;
  }

  get logitsBuffer(): GPUBuffer {
    return this.bufs['logits']!;
  }

  /** Buffers the engine made (the weights are the caller's). */
  destroy(): void {
    for (const b of this.own) b.destroy();
    this.own.length = 0;
  }
}
