// engine.ts — BlazeFace short range as 35 fused WGSL dispatches.
//
// The TFLite graph (m2w-inspect's ARCHITECTURE.md): a 5×5 stride-2 conv +
// ReLU, then 16 residual blocks — depthwise 3×3 (stride 2 in blocks 2, 5
// and 11), 1×1 conv, and a skip path (2×2 max pool where the block strides,
// zero channel padding where it widens), add, ReLU — and two SSD heads of
// 1×1 convs on the 16×16 (block 10) and 8×8 (block 15) maps, reshaped and
// concatenated into classificators [1, 896, 1] and regressors [1, 896, 16].
//
// This model's own shaders (../shaders/) run it in 35 dispatches, NCHW, in
// f32 or — with f16 set (an f16 weights file, a device with shader-f16) —
// their F16 variants: weights and activations stored as f16, the arithmetic
// in f32 either way (see index.ts for why); the two outputs stay f32:
//   stem.wgsl      conv 5×5/2 + bias + ReLU, SAME padding as indexing
//   block_dw.wgsl  a block's depthwise 3×3 + bias (stride 1 or 2)
//   block_pw.wgsl  the block's 1×1 conv + bias + skip (max pool and channel
//                  padding as index math) + add + ReLU
//   head.wgsl      a map's classificator and regressor 1×1 convs + bias,
//                  stored straight into their rows of the two outputs
// Each is specialised per layer with override constants (sizes, strides),
// so the compiler sees constant loop bounds and strides; each invocation
// computes a vec4 of pixels for eight output channels.  The 1×1 and 5×5
// filters are transposed once at load (pack.wgsl) to [taps, channels] so
// eight channels of a tap are two vec4 loads.  SAME padding (TFLite):
// total = max((O−1)·s + K − I, 0), before = total / 2 rounded down.
//
// Every buffer, pipeline and bind group is made once, at load; detect()
// only records the dispatches.  With debugCapture the output of each
// dispatch is captured under the TFLite tensor name it equals ('/' → '_'):
// 'activation' (stem), depthwise_conv2d[_N], activation_N (block N's
// output), and the reshape_* row ranges and the two outputs.  The tensors
// fused away inside a dispatch (conv2d[_N], max_pooling2d*, channel_padding*,
// add_*, classificator_*, regressor_*) have no capture.
import { bindGroups, createParamsBuffer, createPipeline } from './runtime/index.js';
import type { Batcher, DebugCapture, Kernel, ShaderModuleExports, Weights } from './runtime/index.js';
import { NUM_BOXES, NUM_COORDS } from './decode.js';
import { INPUT_SIZE } from './preprocess.js';

export interface Tensor {
  name: string;
  buffer: GPUBuffer;
  shape: number[];
  /** Byte offset in buffer (the heads' rows of the outputs). */
  offset: number;
  /** Element type in buffer. */
  dtype: 'f32' | 'f16';
}

interface Step {
  label: string;
  pipeline: GPUComputePipeline;
  groups: GPUBindGroup[];
  workgroups: number;
  /** Captured after the dispatch (debugCapture). */
  outs: Tensor[];
}

const WG = 64;
/** Pixels an invocation of stem / block_pw / head computes (for eight channels). */
const PIXELS = 8;
const count = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);
const up8 = (n: number) => Math.ceil(n / 8) * 8;
/** Blocks whose depthwise conv has stride 2. */
const STRIDED = [2, 5, 11];

export class Engine {
  readonly input: Tensor;
  /** The input with each row's even columns first, then its odd ones (stem.wgsl). */
  readonly inputSplit: Tensor;
  readonly scores: Tensor;
  readonly boxes: Tensor;
  readonly steps: Step[] = [];
  /** Pipelines made (one per distinct shader + constants). */
  pipelines = 0;
  /** The F16 shader variants on f16 weights and activations. */
  readonly f16: boolean;
  private readonly device: GPUDevice;
  private readonly shaders: ShaderModuleExports;
  private readonly weights: Weights;
  private readonly owned: GPUBuffer[] = [];
  private readonly cache = new Map<string, Kernel>();
  private readonly packs: { w: GPUBuffer; out: GPUBuffer; params: GPUBuffer; n: number }[] = [];

  /**
   * `f16`: run the F16 shader variants; the weights must then be f16 (the
   * device must have shader-f16), else f32.
   */
  constructor(device: GPUDevice, shaders: ShaderModuleExports, weights: Weights, f16: boolean) {
    this.device = device;
    this.shaders = shaders;
    this.weights = weights;
    this.f16 = f16;
    this.input = this.tensor('input', [1, 3, INPUT_SIZE, INPUT_SIZE]);
    this.inputSplit = this.tensor('input split', [1, 3, INPUT_SIZE, INPUT_SIZE]);
    this.scores = this.tensor('classificators', [1, NUM_BOXES, 1], 'f32');
    this.boxes = this.tensor('regressors', [1, NUM_BOXES, NUM_COORDS], 'f32');
    this.build();
    this.runPacks();
  }

  /** Records every dispatch after preprocessing; captures each dispatch's output when enabled. */
  record(batcher: Batcher, capture?: DebugCapture): void {
    const on = capture?.enabled ?? false;
    for (const s of this.steps) {
      batcher.dispatch(s.pipeline, s.groups, s.workgroups, 1, 1, s.label);
      if (on) for (const t of s.outs) capture!.capture(t.name, t.buffer, t.shape, { offset: t.offset, dtype: t.dtype });
    }
    if (on) {
      capture!.capture(this.scores.name, this.scores.buffer, this.scores.shape);
      capture!.capture(this.boxes.name, this.boxes.buffer, this.boxes.shape);
    }
  }

  destroy(): void {
    for (const b of this.owned) b.destroy();
    this.owned.length = 0;
  }

  // ---- graph ----

  private build(): void {
    let x = this.stem(this.inputSplit);
    let head8: Tensor | null = null;
    for (let b = 0; b < 16; b++) {
      const suffix = b === 0 ? '' : `_${b}`;
      const strided = STRIDED.includes(b);
      const d = this.depthwise(x, `depthwise_conv2d${suffix}`, strided ? 2 : 1);
      x = this.pointwise(d, x, `conv2d_${b + 1}`, strided, `activation_${b + 1}`);
      if (b === 10) head8 = x;
    }
    const rows8 = count(head8!.shape.slice(2)) * 2;
    this.head(head8!, '8', 0, 'reshape', 'reshape_1');
    this.head(x, '16', rows8, 'reshape_2', 'reshape_3');
  }

  /** Bytes of a weight or activation element. */
  private get esize(): number {
    return this.f16 ? 2 : 4;
  }

  /** An activation: of the engine's precision unless `dtype` says. */
  private tensor(name: string, shape: number[], dtype: Tensor['dtype'] = this.f16 ? 'f16' : 'f32'): Tensor {
    const buffer = this.buffer(count(shape) * (dtype === 'f16' ? 2 : 4), name);
    return { name, buffer, shape, offset: 0, dtype };
  }

  private buffer(size: number, label: string): GPUBuffer {
    const buffer = this.device.createBuffer({
      size,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      label,
    });
    this.owned.push(buffer);
    return buffer;
  }

  private weight(name: string): { buffer: GPUBuffer; shape: number[] } {
    const t = this.weights.get(name);
    if (!t) throw new Error(`face-detection: the weights have no ${name}`);
    if (t.offset !== 0 || t.chunks) throw new Error(`face-detection: ${name} is not a whole buffer`);
    const want = this.f16 ? 'f16' : 'f32';
    if (t.dtype !== want) throw new Error(`face-detection: ${name} is ${t.dtype}, the ${want} engine needs ${want} weights`);
    return { buffer: t.buffer, shape: t.shape };
  }

  private kernel(shader: string, constants: Record<string, number>): Kernel {
    const key = `${shader}:${JSON.stringify(constants)}`;
    let k = this.cache.get(key);
    if (!k) {
      k = createPipeline(this.device, this.shaders, shader, { f16: this.f16, constants, label: key });
      if (k.f16 !== this.f16) throw new Error(`face-detection: ${shader} has no F16 variant`);
      this.cache.set(key, k);
      this.pipelines++;
    }
    return k;
  }

  private step(shader: string, constants: Record<string, number>, resources: Record<string, GPUBuffer>,
    invocations: number, label: string, outs: Tensor[]): void {
    const kernel = this.kernel(shader, constants);
    const groups = bindGroups(this.device, kernel, resources);
    this.steps.push({ label, pipeline: kernel.pipeline, groups, workgroups: Math.ceil(invocations / WG), outs });
  }

  /**
   * The filter [cout, k] as columns coOff.. of `out` [k, stride]; made by
   * pack.wgsl in runPacks().
   */
  private pack(w: GPUBuffer, cout: number, k: number, out: GPUBuffer, stride: number, coOff: number): void {
    const kernel = this.kernel('pack', {});
    const params = createParamsBuffer(this.device, kernel.info, { cout, k, stride, coOff }, 'pack params');
    this.owned.push(params);
    this.packs.push({ w, out, params, n: cout * k });
  }

  private runPacks(): void {
    const kernel = this.kernel('pack', {});
    const enc = this.device.createCommandEncoder({ label: 'face-detection pack' });
    const pass = enc.beginComputePass();
    pass.setPipeline(kernel.pipeline);
    for (const p of this.packs) {
      const [group] = bindGroups(this.device, kernel, { w: p.w, out: p.out, params: p.params });
      pass.setBindGroup(0, group!);
      pass.dispatchWorkgroups(Math.ceil(p.n / WG));
    }
    pass.end();
    this.device.queue.submit([enc.finish()]);
  }

  private stem(x: Tensor): Tensor {
    const w = this.weight('conv2d/Kernel');
    const [cout, cin, kh, kw] = w.shape as [number, number, number, number];
    const h = x.shape[2]!;
    if (cin !== x.shape[1] || kh !== 5 || kw !== 5 || x.shape[3] !== h || h % 8 !== 0) {
      throw new Error(`face-detection: the stem is not a 5×5 conv of ${x.shape[1]} channels`);
    }
    const coutp = up8(cout);
    const packed = this.buffer(cin * 25 * coutp * this.esize, 'conv2d packed');
    this.pack(w.buffer, cout, cin * 25, packed, coutp, 0);
    const y = this.tensor('activation', [1, cout, h / 2, h / 2]);
    this.step('stem', { CIN: cin, COUT: cout, COUTP: coutp, H: h },
      { x: x.buffer, w: packed, bias: this.weight('conv2d/Bias').buffer, y: y.buffer },
      ((h / 2) * (h / 2) / PIXELS) * (coutp / 8), 'stem', [y]);
    return y;
  }

  private depthwise(x: Tensor, layer: string, stride: number): Tensor {
    const w = this.weight(`${layer}/Kernel`);
    const [c, , kh, kw] = w.shape as [number, number, number, number];
    const [, cx, h, wd] = x.shape as [number, number, number, number];
    if (c !== cx || kh !== 3 || kw !== 3 || h % stride !== 0 || (wd / stride) % 4 !== 0) {
      throw new Error(`face-detection: ${layer} does not fit block_dw.wgsl`);
    }
    const y = this.tensor(layer, [1, c, h / stride, wd / stride]);
    this.step('blockDw', { C: c, H: h, W: wd, S: stride },
      { x: x.buffer, w: w.buffer, bias: this.weight(`${layer}/Bias`).buffer, y: y.buffer },
      count(y.shape) / 4, layer, [y]);
    return y;
  }

  private pointwise(d: Tensor, x: Tensor, layer: string, strided: boolean, name: string): Tensor {
    const w = this.weight(`${layer}/Kernel`);
    const [cout, cin] = w.shape as [number, number];
    const [, cd, oh, ow] = d.shape as [number, number, number, number];
    const skipc = x.shape[1]!;
    if (cin !== cd || skipc > cout || (oh * ow) % (4 * PIXELS) !== 0) throw new Error(`face-detection: ${layer} does not fit block_pw.wgsl`);
    const coutp = up8(cout);
    const packed = this.buffer(cin * coutp * this.esize, `${layer} packed`);
    this.pack(w.buffer, cout, cin, packed, coutp, 0);
    const y = this.tensor(name, [1, cout, oh, ow]);
    this.step('blockPw', { CIN: cin, COUT: cout, COUTP: coutp, SKIPC: skipc, OH: oh, OW: ow, STRIDED: strided ? 1 : 0 },
      { d: d.buffer, w: packed, bias: this.weight(`${layer}/Bias`).buffer, x: x.buffer, y: y.buffer },
      ((oh * ow) / PIXELS) * (coutp / 8), layer, [y]);
    return y;
  }

  /** classificator_<s> and regressor_<s> on x, into rows `row`.. of the outputs. */
  private head(x: Tensor, s: string, row: number, scoreName: string, boxName: string): void {
    const cw = this.weight(`classificator_${s}/Kernel`);
    const rw = this.weight(`regressor_${s}/Kernel`);
    const a = cw.shape[0]!;
    const [, cin, h, w] = x.shape as [number, number, number, number];
    if (rw.shape[0] !== a * NUM_COORDS || cw.shape[1] !== cin || rw.shape[1] !== cin) {
      throw new Error(`face-detection: the ${s} heads do not fit head.wgsl`);
    }
    const coutp = up8(a * (1 + NUM_COORDS));
    const packed = this.buffer(cin * coutp * this.esize, `head_${s} packed`);
    this.pack(cw.buffer, a, cin, packed, coutp, 0);
    this.pack(rw.buffer, a * NUM_COORDS, cin, packed, coutp, a);
    // (copy sizes and offsets: multiples of 4 bytes for A even in f16)
    const es = this.esize;
    const bias = this.buffer(a * (1 + NUM_COORDS) * es, `head_${s} bias`);
    const enc = this.device.createCommandEncoder();
    enc.copyBufferToBuffer(this.weight(`classificator_${s}/Bias`).buffer, 0, bias, 0, a * es);
    enc.copyBufferToBuffer(this.weight(`regressor_${s}/Bias`).buffer, 0, bias, a * es, a * NUM_COORDS * es);
    this.device.queue.submit([enc.finish()]);
    const rows = h * w * a;
    this.step('head', { CIN: cin, A: a, COUTP: coutp, HW: h * w, SOFF: row, BOFF: row * NUM_COORDS },
      { x: x.buffer, w: packed, bias, scores: this.scores.buffer, boxes: this.boxes.buffer },
      ((h * w) / PIXELS) * (coutp / 8), `head_${s}`, [
        { name: scoreName, buffer: this.scores.buffer, shape: [1, rows, 1], offset: row * 4, dtype: 'f32' },
        { name: boxName, buffer: this.boxes.buffer, shape: [1, rows, NUM_COORDS], offset: row * NUM_COORDS * 4, dtype: 'f32' },
      ]);
  }
}
