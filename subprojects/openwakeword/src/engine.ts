// engine.ts — openWakeWord's three ONNX models and the glue between them as
// WGSL dispatches, one 80 ms step (1280 samples at 16 kHz) at a time.
//
// melspectrogram.onnx (m2w-inspect's ARCHITECTURE.md): the STFT as two
// Conv1d (257 bins × 512 taps, stride 160, no padding: real and imaginary
// parts), power re² + im² transposed to [T, 257], a MatMul with the
// [257, 32] mel filters, then Clip(1e-10) → 10·log10 → a top-dB floor
// max(x, max(x) − 80) over the whole call.  Dispatches: conv1d ×2,
// melPower, matmul, melDb (which also applies openWakeWord's x / 10 + 2 and
// writes the frames into the mel history).
//
// The glue (openWakeWord's utils.py AudioFeatures, see index.ts for the
// constants and where each comes from): the mel history holds the last 76
// frames (initially ones) plus room for the step's new ones; after melDb,
// two copies shift it so `window` holds the newest 76 frames, the
// embedding model's [1, 76, 32, 1] input.
//
// embedding_model.onnx: 19 × (Conv 3×3 / 1×3 / 3×1 with folded batch norm
// → LeakyRelu 0.2 → Max with −0.4), MaxPool 2×2 or 1×2 after layers 2, 6,
// 10, 14 and 18, and a last 3×1 Conv without bias to [1, 96, 1, 1].  A 1×3
// kernel pads one column left and right, a 3×1 kernel pads nothing
// (the graph's pads).  Two recordings of it: without a capture each layer
// is one convLeaky dispatch (conv + bias + LeakyRelu + Max fused, filters
// repacked once at load by packFilter), then maxPool where the graph pools;
// with a DebugCapture the ops one by one (conv2d, leakyRelu, clampMin,
// maxPool), so every node output is materialised.  The fused layer writes
// the buffer of the unfused Max, and both share the pools, so the two
// recordings run on the same buffers and state.
// The last conv writes row 16 of the feature history; two copies shift the
// newest 16 rows into `features`, the heads' [1, 16, 96] input.
//
// Wake-word heads (hey_jarvis_v0.1.onnx): Flatten → Gemm 1536→128 →
// LayerNorm (ReduceMean/Sub/Pow/ReduceMean/Add/Sqrt/Div/Mul/Add, eps 1e-5)
// → Relu → Gemm → LayerNorm → Relu → Gemm → Sigmoid = p1; an If on
// p1 ≥ 0.5 returns a verifier head's sigmoid p2 (the same structure, 64
// wide) instead.  The layers are read off the weight names: model.N.weight
// of rank 2 is a Gemm, of rank 1 a LayerNorm followed by Relu; the last
// Gemm is followed by Sigmoid.  Dispatches: gemm, layerNorm, relu, sigmoid,
// verifySelect (p2 is always computed: no CPU round trip for the If).
//
// Every buffer and bind group is made once, at load; a step only records.
// With a DebugCapture each materialised value is captured under its ONNX
// name, prefixed mel. / emb. / <wake word>., as the reference names them.
import { bindGroups, createParamsBuffer } from './runtime/index.js';
import type { Batcher, DebugCapture, Kernel, Weights } from './runtime/index.js';

/** Samples a step; the melspectrogram sees 480 more of context (3 hops). */
export const STEP = 1280;
export const CONTEXT = 160 * 3;
export const MEL_BINS = 32;
export const MEL_WINDOW = 76;
export const EMB_DIM = 96;
/** Bytes between two wake words' scores (storage offsets must be 256-aligned). */
export const SCORE_STRIDE = 256;

const FFT_BINS = 257;
const N_FFT = 512;
const HOP = 160;
/** Frames of a Conv with kernel 512, stride 160, no padding over `samples`. */
export const framesOf = (samples: number) => Math.floor((samples - N_FFT) / HOP) + 1;

interface Capture {
  name: string;
  buffer: GPUBuffer;
  shape: number[];
  offset: number;
}

type Op =
  | { kind: 'dispatch'; label: string; kernel: Kernel; groups: GPUBindGroup[]; wg: [number, number, number]; captures: Capture[] }
  | { kind: 'copy'; src: GPUBuffer; srcOffset: number; dst: GPUBuffer; dstOffset: number; size: number; captures: Capture[] };

interface Tensor {
  buffer: GPUBuffer;
  shape: number[];
}

export interface Head {
  wakeWord: string;
  frames: number;
}

const count = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const flat = (n: number): [number, number, number] => {
  const g = Math.ceil(n / 256);
  return g <= 65535 ? [g, 1, 1] : [65535, Math.ceil(g / 65535), 1];
};

// ONNX value names of the standard openWakeWord head (PyTorch export of
// Linear, LayerNorm, ReLU, Linear, LayerNorm, ReLU, Linear, Sigmoid), used
// only to name captures after the reference's node outputs.
const HEAD_NAMES = ['input.3', 'input.7', 'result', 'input.11', 'input.15', 'result.3', 'input.19', 'p1.1'];
const VERIFIER_NAMES = ['input.27', 'input.31', 'result.7', 'input.35', 'input.39', 'result.11', 'input.43', 'p2'];

export class Engine {
  readonly audio: GPUBuffer;
  readonly scores: GPUBuffer;
  readonly heads: Head[] = [];
  /** Per variant (first step: 1280 samples, later: 1760): its ops. */
  private readonly first: Op[] = [];
  private readonly later: Op[] = [];
  /** The embedding model: fused (no capture) and op by op (capture). */
  private readonly embFused: Op[] = [];
  private readonly embCaptured: Op[] = [];
  private readonly shared: Op[] = [];
  private readonly specialise: (shader: string, constants: Record<string, number>) => Kernel;
  readonly melHistory: GPUBuffer;
  readonly featureHistory: GPUBuffer;
  private readonly device: GPUDevice;
  private readonly kernels: Map<string, Kernel>;
  private readonly owned: GPUBuffer[] = [];
  private readonly maxFeatures: number;

  /**
   * kernels: a pipeline per shader without override constants; specialise:
   * a pipeline of a shader with override constants (convLeaky).
   */
  constructor(device: GPUDevice, kernels: Map<string, Kernel>, specialise: (shader: string, constants: Record<string, number>) => Kernel,
    mel: Weights, emb: Weights, heads: [string, Weights][]) {
    this.device = device;
    this.kernels = kernels;
    this.specialise = specialise;
    this.audio = this.buffer(STEP + CONTEXT, 'audio');
    this.maxFeatures = Math.max(16, ...heads.map(([, w]) => this.shapeOf(w, 'model.1.weight')[1]! / EMB_DIM));
    const maxT = framesOf(STEP + CONTEXT);
    this.melHistory = this.buffer((MEL_WINDOW + maxT) * MEL_BINS, 'mel history');
    this.featureHistory = this.buffer((this.maxFeatures + 1) * EMB_DIM, 'feature history');
    this.scores = this.buffer(Math.max(1, heads.length) * SCORE_STRIDE / 4, 'scores');
    this.buildMel(this.first, mel, STEP);
    this.buildMel(this.later, mel, STEP + CONTEXT);
    this.buildEmbedding(this.embCaptured, this.embFused, emb);
    heads.forEach(([ww, w], i) => this.buildHead(this.shared, ww, w, i));
  }

  /** Dispatches per step. */
  get dispatches(): number {
    return [...this.later, ...this.embFused, ...this.shared].filter((o) => o.kind === 'dispatch').length;
  }

  /** The initial glue state: 76 mel frames of ones (np.ones((76, 32))), zero features. */
  reset(): void {
    const ones = new Float32Array(MEL_WINDOW * MEL_BINS).fill(1);
    this.device.queue.writeBuffer(this.melHistory, 0, ones);
    this.device.queue.writeBuffer(this.featureHistory, 0, new Float32Array((this.maxFeatures + 1) * EMB_DIM));
  }

  /** Records one step (the audio buffer already holds its samples). */
  record(batcher: Batcher, firstStep: boolean, capture?: DebugCapture): void {
    const cap = capture?.enabled ? capture : undefined;
    for (const op of [...(firstStep ? this.first : this.later), ...(cap ? this.embCaptured : this.embFused), ...this.shared]) {
      if (op.kind === 'dispatch') batcher.dispatch(op.kernel.pipeline, op.groups, op.wg[0], op.wg[1], op.wg[2], op.label);
      else batcher.copy(op.src, op.srcOffset, op.dst, op.dstOffset, op.size);
      if (cap) for (const c of op.captures) cap.capture(c.name, c.buffer, c.shape, { offset: c.offset });
    }
  }

  destroy(): void {
    for (const b of this.owned) b.destroy();
    this.owned.length = 0;
  }

  // ---- melspectrogram.onnx ----

  private buildMel(ops: Op[], w: Weights, samples: number): void {
    const T = framesOf(samples);
    const re = this.buffer(FFT_BINS * T, `stft real ${T}`);
    const im = this.buffer(FFT_BINS * T, `stft imag ${T}`);
    const power = this.buffer(T * FFT_BINS, `power ${T}`);
    const energy = this.buffer(T * MEL_BINS, `mel ${T}`);
    const db = this.buffer(T * MEL_BINS, `db ${T}`);
    const out = this.buffer(T * MEL_BINS, `melspectrogram ${T}`);
    const first: Capture[] = [
      { name: 'glue.audio', buffer: this.audio, shape: [samples], offset: 0 },
      { name: 'mel.onnx::Conv_5', buffer: this.audio, shape: [1, 1, samples], offset: 0 },
    ];
    const stft = (weight: string, y: GPUBuffer, name: string, pre: Capture[]) => {
      const wt = this.weight(w, weight);
      this.dispatch(ops, 'conv1d', { x: this.audio, w: wt, bias: wt, y }, {
        N: 1, Cin: 1, L: samples, Cout: FFT_BINS, OL: T, K: N_FFT, stride: HOP, dilation: 1, padLeft: 0, groups: 1, hasBias: 0,
      }, flat(FFT_BINS * T), name, [...pre, { name, buffer: y, shape: [1, FFT_BINS, T], offset: 0 }]);
    };
    stft('0.stft.conv_real.weight', re, 'mel.onnx::Unsqueeze_6', first);
    stft('0.stft.conv_imag.weight', im, 'mel.onnx::Unsqueeze_7', []);
    this.dispatch(ops, 'melPower', { re, im, p: power }, { bins: FFT_BINS, T }, flat(T * FFT_BINS), 'power',
      [{ name: 'mel.onnx::MatMul_18', buffer: power, shape: [1, 1, T, FFT_BINS], offset: 0 }]);
    this.dispatch(ops, 'matmul', { a: power, b: this.weight(w, '1.melW'), c: energy }, {
      M: T, N: MEL_BINS, K: FFT_BINS, batch: 1, aStride: 0, bStride: 0,
    }, [1, Math.ceil(T / 64), 1], 'mel filters', [{ name: 'mel.mel_spectrogram', buffer: energy, shape: [1, 1, T, MEL_BINS], offset: 0 }]);
    // Clip 1e-10, top dB 80: the graph's onnx::Clip_39 and Constant_25 (80.0);
    // x / 10 + 2: openWakeWord's melspec_transform.
    this.dispatch(ops, 'melDb', { x: energy, db, out, feat: this.melHistory }, {
      n: T * MEL_BINS, featOffset: MEL_WINDOW * MEL_BINS, clipLo: 1e-10, topDb: 80, scale: 0.1, shift: 2,
    }, [1, 1, 1], 'melspectrogram', [
      { name: 'mel.onnx::ReduceMax_31', buffer: db, shape: [1, 1, T, MEL_BINS], offset: 0 },
      { name: 'mel.output', buffer: out, shape: [1, 1, T, MEL_BINS], offset: 0 },
    ]);
    // the newest 76 frames: history[T, T + 76) -> window, then back to history[0, 76)
    const bytes = MEL_WINDOW * MEL_BINS * 4;
    const window = this.windowBuffer();
    ops.push({ kind: 'copy', src: this.melHistory, srcOffset: T * MEL_BINS * 4, dst: window, dstOffset: 0, size: bytes, captures: [] });
    ops.push({ kind: 'copy', src: window, srcOffset: 0, dst: this.melHistory, dstOffset: 0, size: bytes, captures: [
      { name: 'glue.mel_window', buffer: window, shape: [1, MEL_WINDOW, MEL_BINS, 1], offset: 0 },
      { name: 'emb.model/conv2d/Conv2D__6:0', buffer: window, shape: [1, 1, MEL_WINDOW, MEL_BINS], offset: 0 },
    ] });
  }

  private windowStore: GPUBuffer | null = null;
  private windowBuffer(): GPUBuffer {
    if (!this.windowStore) this.windowStore = this.buffer(MEL_WINDOW * MEL_BINS, 'mel window');
    return this.windowStore;
  }

  // ---- embedding_model.onnx ----

  private buildEmbedding(ops: Op[], fused: Op[], w: Weights): void {
    let x: Tensor = { buffer: this.windowBuffer(), shape: [1, 1, MEL_WINDOW, MEL_BINS] };
    const pools: Record<number, [number, number]> = { 2: [2, 2], 6: [1, 2], 10: [2, 2], 14: [1, 2], 18: [2, 2] };
    let pool = 0;
    const packs: { w: GPUBuffer; out: GPUBuffer; params: GPUBuffer; n: number }[] = [];
    for (let i = 0; i < 19; i++) {
      const s = i === 0 ? '' : `_${i}`;
      const weight = `model/conv2d${s}/Conv2D_weights_fused_bn`, bias = `model/conv2d${s}/Conv2D_bias_fused_bn`;
      const conv = this.conv(ops, x, w, weight, bias, `emb.model/batch_normalization${s}/FusedBatchNormV3:0`);
      // LeakyRelu's alpha 0.2: the graph's attribute
      const leaky = this.unary(ops, 'leakyRelu', conv, { alpha: 0.2 }, `emb.model/leaky_re_lu${s}/LeakyRelu:0`);
      // const_fold_opt__287: the graph's [1, 1, 1, 1] constant −0.4
      const max = this.unary(ops, 'clampMin', leaky, { lo: -0.4 }, `emb.model/tf.math.maximum${s}/Maximum:0`);
      this.convLeaky(fused, packs, x, w, weight, bias, max, 0.2, -0.4);
      x = max;
      const p = pools[i];
      if (p) {
        const before = ops.length;
        x = this.maxPool(ops, x, p, `emb.model/max_pooling2d${pool === 0 ? '' : `_${pool}`}/MaxPool:0`);
        fused.push(...ops.slice(before));
        pool++;
      }
    }
    this.runPacks(packs);
    // the last conv writes the newest row of the feature history
    const last = this.weight(w, 'model/conv2d_19/Conv2D/ReadVariableOp:0');
    const [cout, cin, kh, kw] = this.shapeOf(w, 'model/conv2d_19/Conv2D/ReadVariableOp:0') as [number, number, number, number];
    const [, c, h, wd] = x.shape as [number, number, number, number];
    if (cin !== c || cout !== EMB_DIM || h - kh + 1 !== 1 || wd !== 1 || kw !== 1) {
      throw new Error(`openwakeword: the embedding's last conv maps [${x.shape}] with [${cout}, ${cin}, ${kh}, ${kw}], expected [1, ${EMB_DIM}, 1, 1] out`);
    }
    const row = this.maxFeatures * EMB_DIM * 4;
    const tail = ops.length;
    this.dispatch(ops, 'conv2d', { x: x.buffer, w: last, bias: last, y: { buffer: this.featureHistory, offset: row, size: EMB_DIM * 4 } }, {
      N: 1, Cin: c, H: h, W: wd, Cout: cout, OH: 1, OW: 1, KH: kh, KW: kw, strideH: 1, strideW: 1,
      dilationH: 1, dilationW: 1, padTop: 0, padLeft: 0, groups: 1, hasBias: 0, activation: 0,
    }, flat(EMB_DIM), 'embedding', [
      { name: 'emb.model/conv2d_19/Conv2D:0', buffer: this.featureHistory, shape: [1, EMB_DIM, 1, 1], offset: row },
      { name: 'emb.conv2d_19', buffer: this.featureHistory, shape: [1, 1, 1, EMB_DIM], offset: row },
    ]);
    // the newest maxFeatures rows: history[1, n + 1) -> features, then back to history[0, n)
    const features = this.buffer(this.maxFeatures * EMB_DIM, 'features');
    this.featureStore = features;
    const bytes = this.maxFeatures * EMB_DIM * 4;
    ops.push({ kind: 'copy', src: this.featureHistory, srcOffset: EMB_DIM * 4, dst: features, dstOffset: 0, size: bytes, captures: [] });
    ops.push({ kind: 'copy', src: features, srcOffset: 0, dst: this.featureHistory, dstOffset: 0, size: bytes, captures: [] });
    fused.push(...ops.slice(tail));
  }

  /**
   * One embedding layer as a convLeaky dispatch writing `y` (the unfused
   * path's Max output); its filter is repacked [Cout, K] -> [K, Cout] by
   * packFilter, once (runPacks).
   */
  private convLeaky(ops: Op[], packs: { w: GPUBuffer; out: GPUBuffer; params: GPUBuffer; n: number }[], x: Tensor, w: Weights,
    weight: string, bias: string, y: Tensor, alpha: number, lo: number): void {
    const [cout, cin, kh, kw] = this.shapeOf(w, weight) as [number, number, number, number];
    const [, , h, wd] = x.shape as [number, number, number, number];
    const shape = `${kh}x${kw}`;
    if (cout % 8 !== 0 || !['3x1', '1x3', '3x3'].includes(shape)) throw new Error(`openwakeword: ${weight} [${cout}, ${cin}, ${kh}, ${kw}] does not fit convLeaky`);
    const k = cin * kh * kw;
    const packed = this.buffer(k * cout, `${weight} packed`);
    const pk = this.kernel('packFilter');
    const params = createParamsBuffer(this.device, pk.info, { cout, k }, `${weight} pack params`);
    this.owned.push(params);
    packs.push({ w: this.weight(w, weight), out: packed, params, n: cout * k });
    const kernel = this.specialise('convLeaky', { CIN: cin, COUT: cout, H: h, W: wd, KH: kh, KW: kw, ALPHA: alpha, LO: lo });
    const groups = bindGroups(this.device, kernel, { x: x.buffer, w: packed, bias: this.weight(w, bias), y: y.buffer });
    // strips of 8 rows × one column × 8 channels
    const invocations = Math.ceil((h - kh + 1) / 8) * wd * (cout / 8);
    ops.push({ kind: 'dispatch', label: `${weight} fused`, kernel, groups, wg: [Math.ceil(invocations / 64), 1, 1], captures: [] });
  }

  private runPacks(packs: { w: GPUBuffer; out: GPUBuffer; params: GPUBuffer; n: number }[]): void {
    const kernel = this.kernel('packFilter');
    const enc = this.device.createCommandEncoder({ label: 'openwakeword pack' });
    const pass = enc.beginComputePass();
    pass.setPipeline(kernel.pipeline);
    for (const p of packs) {
      const [group] = bindGroups(this.device, kernel, { w: p.w, out: p.out, params: p.params });
      pass.setBindGroup(0, group!);
      pass.dispatchWorkgroups(Math.ceil(p.n / 64));
    }
    pass.end();
    this.device.queue.submit([enc.finish()]);
  }

  private kernel(shader: string): Kernel {
    const k = this.kernels.get(shader);
    if (!k) throw new Error(`openwakeword: no pipeline for shader ${shader}`);
    return k;
  }

  private featureStore: GPUBuffer | null = null;

  private conv(ops: Op[], x: Tensor, w: Weights, weight: string, bias: string, name: string): Tensor {
    const [cout, cin, kh, kw] = this.shapeOf(w, weight) as [number, number, number, number];
    const [, c, h, wd] = x.shape as [number, number, number, number];
    if (cin !== c) throw new Error(`openwakeword: ${weight} takes ${cin} channels, gets ${c}`);
    // the graph pads a 1×3 (and the first 3×3) kernel's width by one each side, never the height
    const padLeft = (kw - 1) / 2;
    const oh = h - kh + 1;
    const y: Tensor = { buffer: this.buffer(cout * oh * wd, name), shape: [1, cout, oh, wd] };
    this.dispatch(ops, 'conv2d', { x: x.buffer, w: this.weight(w, weight), bias: this.weight(w, bias), y: y.buffer }, {
      N: 1, Cin: c, H: h, W: wd, Cout: cout, OH: oh, OW: wd, KH: kh, KW: kw, strideH: 1, strideW: 1,
      dilationH: 1, dilationW: 1, padTop: 0, padLeft, groups: 1, hasBias: 1, activation: 0,
    }, flat(count(y.shape)), name, [{ name, buffer: y.buffer, shape: y.shape, offset: 0 }]);
    return y;
  }

  private unary(ops: Op[], shader: string, x: Tensor, params: Record<string, number>, name: string): Tensor {
    const n = count(x.shape);
    const y: Tensor = { buffer: this.buffer(n, name), shape: x.shape.slice() };
    this.dispatch(ops, shader, { x: x.buffer, y: y.buffer }, { n, ...params }, flat(n), name,
      [{ name, buffer: y.buffer, shape: y.shape, offset: 0 }]);
    return y;
  }

  private maxPool(ops: Op[], x: Tensor, [kh, kw]: [number, number], name: string): Tensor {
    const [, c, h, wd] = x.shape as [number, number, number, number];
    const oh = Math.floor(h / kh), ow = Math.floor(wd / kw);
    const y: Tensor = { buffer: this.buffer(c * oh * ow, name), shape: [1, c, oh, ow] };
    this.dispatch(ops, 'maxPool', { x: x.buffer, y: y.buffer }, {
      planes: c, H: h, W: wd, OH: oh, OW: ow, KH: kh, KW: kw, strideH: kh, strideW: kw,
      dilationH: 1, dilationW: 1, padTop: 0, padLeft: 0,
    }, flat(count(y.shape)), name, [{ name, buffer: y.buffer, shape: y.shape, offset: 0 }]);
    return y;
  }

  // ---- wake-word heads ----

  private buildHead(ops: Op[], ww: string, w: Weights, index: number): void {
    const frames = this.shapeOf(w, 'model.1.weight')[1]! / EMB_DIM;
    if (!Number.isInteger(frames)) throw new Error(`openwakeword: ${ww}'s first layer takes ${this.shapeOf(w, 'model.1.weight')[1]} inputs, not a multiple of ${EMB_DIM}`);
    this.heads.push({ wakeWord: ww, frames });
    // the last `frames` rows of the features
    const input: Tensor = { buffer: this.featureStore!, shape: [1, frames * EMB_DIM] };
    const inOffset = (this.maxFeatures - frames) * EMB_DIM * 4;
    const inputCaps: Capture[] = [{ name: `${ww}.input`, buffer: this.featureStore!, shape: [1, frames * EMB_DIM], offset: inOffset },
      { name: 'glue.features', buffer: this.featureStore!, shape: [1, frames, EMB_DIM], offset: inOffset }];
    const p1 = this.mlp(ops, w, 'model', input, inOffset, (k) => `${ww}.${HEAD_NAMES[k] ?? `model.${k}`}`, inputCaps);
    const hasVerifier = w.has('verifier_model.1.weight');
    const p2 = hasVerifier ? this.mlp(ops, w, 'verifier_model', input, inOffset, (k) => `${ww}.${VERIFIER_NAMES[k] ?? `verifier_model.${k}`}`, []) : p1;
    const out = { buffer: this.scores, offset: index * SCORE_STRIDE, size: 4 };
    // If(p1 >= 0.5): the graph's onnx::GreaterOrEqual_50
    this.dispatch(ops, 'verifySelect', { p1: p1.buffer, p2: p2.buffer, score: out }, { threshold: 0.5, hasVerifier: hasVerifier ? 1 : 0 },
      [1, 1, 1], `${ww} score`, [{ name: `${ww}.53`, buffer: this.scores, shape: [1, 1], offset: index * SCORE_STRIDE }]);
  }

  /** Gemm / LayerNorm + Relu / ... / Gemm + Sigmoid from `prefix`.N.weight; names by op index. */
  private mlp(ops: Op[], w: Weights, prefix: string, input: Tensor, inOffset: number, nameOf: (k: number) => string, pre: Capture[]): Tensor {
    const layers = [...w.keys()]
      .map((k) => new RegExp(`^${prefix.replace('.', '\\.')}\\.(\\d+)\\.weight$`).exec(k))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
    let x = input;
    let xOffset = inOffset;
    let k = 0;
    let caps = pre;
    layers.forEach((n, li) => {
      const weight = `${prefix}.${n}.weight`, bias = `${prefix}.${n}.bias`;
      const shape = this.shapeOf(w, weight);
      const width = x.shape[1]!;
      if (shape.length === 2) {
        const [nout, nin] = shape as [number, number];
        if (nin !== width) throw new Error(`openwakeword: ${weight} takes ${nin} inputs, gets ${width}`);
        const y: Tensor = { buffer: this.buffer(nout, nameOf(k)), shape: [1, nout] };
        this.dispatch(ops, 'gemm', { x: { buffer: x.buffer, offset: xOffset, size: width * 4 }, w: this.weight(w, weight), b: this.weight(w, bias), y: y.buffer },
          { M: 1, N: nout, K: nin }, [Math.ceil(nout / 64), 1, 1], nameOf(k), [...caps, { name: nameOf(k), buffer: y.buffer, shape: y.shape, offset: 0 }]);
        caps = [];
        k++;
        x = y;
        xOffset = 0;
        if (li === layers.length - 1) {
          const s: Tensor = { buffer: this.buffer(nout, nameOf(k)), shape: [1, nout] };
          this.dispatch(ops, 'sigmoid', { x: x.buffer, y: s.buffer }, { n: nout }, [1, 1, 1], nameOf(k),
            [{ name: nameOf(k), buffer: s.buffer, shape: s.shape, offset: 0 }]);
          k++;
          x = s;
        }
      } else {
        const ln: Tensor = { buffer: this.buffer(width, nameOf(k)), shape: [1, width] };
        this.dispatch(ops, 'layerNorm', { x: x.buffer, gamma: this.weight(w, weight), beta: this.weight(w, bias), y: ln.buffer },
          { rows: 1, cols: width, eps: 1e-5, hasBias: 1 }, [1, 1, 1], nameOf(k), [{ name: nameOf(k), buffer: ln.buffer, shape: ln.shape, offset: 0 }]);
        k++;
        const r: Tensor = { buffer: this.buffer(width, nameOf(k)), shape: [1, width] };
        this.dispatch(ops, 'relu', { x: ln.buffer, y: r.buffer }, { n: width }, [1, 1, 1], nameOf(k),
          [{ name: nameOf(k), buffer: r.buffer, shape: r.shape, offset: 0 }]);
        k++;
        x = r;
      }
    });
    return x;
  }

  // ---- plumbing ----

  private buffer(elements: number, label: string): GPUBuffer {
    const b = this.device.createBuffer({
      size: Math.max(4, elements * 4),
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      label,
    });
    this.owned.push(b);
    return b;
  }

  private weight(w: Weights, name: string): GPUBuffer {
    const t = w.get(name);
    if (!t) throw new Error(`openwakeword: the weights have no ${name}`);
    return t.buffer;
  }

  private shapeOf(w: Weights, name: string): number[] {
    const t = w.get(name);
    if (!t) throw new Error(`openwakeword: the weights have no ${name}`);
    return t.shape;
  }

  private dispatch(ops: Op[], shader: string, resources: Record<string, GPUBuffer | { buffer: GPUBuffer; offset?: number; size?: number }>,
    params: Record<string, number>, wg: [number, number, number], label: string, captures: Capture[]): void {
    const kernel = this.kernels.get(shader);
    if (!kernel) throw new Error(`openwakeword: no pipeline for shader ${shader}`);
    const p = createParamsBuffer(this.device, kernel.info, params, `${label} params`);
    this.owned.push(p);
    const groups = bindGroups(this.device, kernel, { ...resources, params: p });
    ops.push({ kind: 'dispatch', label, kernel, groups, wg, captures });
  }
}
