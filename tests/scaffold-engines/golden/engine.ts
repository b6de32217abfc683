// engine.ts — drafted by m2w-scaffold from tiny_cnn.onnx (ONNX opset 13, 8 nodes): a first draft to read and refine.
//
// Every GPU object is made once, in the constructor, which reads as the
// dispatch list: one block per graph node, in graph order, naming the node,
// with the exact dims in each shader's Params.  record() replays it on a
// Batcher; with a DebugCapture each materialised tensor is captured under its
// ONNX name right after the node that writes it.  Work buffers are shared by
// tensors whose lifetimes do not overlap (2 buffers).  Views (Reshape,
// Flatten, Squeeze, Unsqueeze, Identity) share their input's buffer.
// 1 node(s) have no library shader: their stubs throw (see report.json).
import { Batcher, createParamsBuffer, createPipeline, readBuffer } from './runtime/index.js';
import type { DebugCapture, Kernel, ParamValue, Weights } from './runtime/index.js';
import * as shaders from './shaders.js';
import { CHECKPOINTS, INPUTS, OUTPUTS } from './types.js';
import type { EngineInputs, EngineOutputs } from './types.js';

export { CHECKPOINTS, INPUTS, OUTPUTS };

type Step =
  | { kind: 'dispatch'; label: string; kernel: Kernel; groups: GPUBindGroup[]; wg: [number, number, number] }
  | { kind: 'capture'; name: string; buffer: GPUBuffer; shape: number[]; dtype: 'f32' | 'u32' }
  | { kind: 'stub'; label: string };

export interface EngineOptions {
  /** Run the f16 shader variants where the module has them (needs a shader-f16 device). */
  f16?: boolean;
}

export class Engine {
  readonly device: GPUDevice;
  /** Graph inputs the GPU reads; write them with write(). */
  readonly inputs: Record<string, GPUBuffer> = {};
  /** Graph outputs, valid after record() and a flush. */
  readonly outputs: Record<string, GPUBuffer> = {};
  /** Values fixed at scaffold time (inline constants, integer weights). */
  readonly constants: Record<string, GPUBuffer> = {};
  private readonly steps: Step[] = [];
  private readonly owned: GPUBuffer[] = [];

  constructor(device: GPUDevice, weights: Weights, opts: EngineOptions = {}) {
    this.device = device;
    const f16 = Boolean(opts.f16);
    const weight = (name: string): GPUBuffer => {
      const t = weights.get(name);
      if (!t) throw new Error(`engine: weights.json has no tensor ${name}`);
      return t.buffer;
    };
    void weight;
    // one pipeline per library shader
    const k = {
      add: createPipeline(device, shaders, 'add', { f16 }),
      conv2d: createPipeline(device, shaders, 'conv2d', { f16 }),
      matmul: createPipeline(device, shaders, 'matmul', { f16 }),
      maxPool: createPipeline(device, shaders, 'maxPool', { f16 }),
      softmax: createPipeline(device, shaders, 'softmax', { f16 }),
    };
    void k;
    // graph inputs
    this.inputs['x'] = this.buffer(192, 'x'); // [1, 3, 8, 8] f32
    // graph outputs
    this.outputs['probs'] = this.buffer(10, 'probs'); // [1, 10] f32
    this.outputs['relu'] = this.buffer(256, 'relu'); // [1, 4, 8, 8] f32
    this.outputs['odd'] = this.buffer(10, 'odd'); // [1, 10] f32
    // work buffers, elements each (shared by tensors with disjoint lifetimes)
    const work = [64, 10].map((n, i) => this.buffer(n, `work ${i}`)) as [GPUBuffer, GPUBuffer];
    void work;

    // node 0: Conv 'conv' (x, conv.w, conv.b) -> conv
    this.dispatch(k.conv2d, { x: this.inputs['x']!, w: weight('conv.w'), bias: weight('conv.b'), y: this.outputs['relu']! },
      { N: 1, Cin: 3, H: 8, W: 8, Cout: 4, OH: 8, OW: 8, KH: 3, KW: 3, strideH: 1, strideW: 1, dilationH: 1, dilationW: 1, padTop: 1, padLeft: 1, groups: 1, hasBias: 1, activation: 1 },
      [1, 1, 1], 'Conv 0');
    this.checkpoint('relu', this.outputs['relu']!, [1, 4, 8, 8], 'f32');

    // node 2: MaxPool 'pool' (relu) -> pool
    this.dispatch(k.maxPool, { x: this.outputs['relu']!, y: work[0] },
      { planes: 4, H: 8, W: 8, OH: 4, OW: 4, KH: 2, KW: 2, strideH: 2, strideW: 2, dilationH: 1, dilationW: 1, padTop: 0, padLeft: 0 },
      [1, 1, 1], 'MaxPool 2');
    this.checkpoint('pool', work[0], [1, 4, 4, 4], 'f32');

    // node 3: Reshape 'flat' (pool, flat.shape) -> flat
    // flat is a view of pool (no dispatch)
    this.checkpoint('flat', work[0], [1, 64], 'f32');

    // node 4: MatMul 'fc' (flat, fc.w) -> fc
    this.dispatch(k.matmul, { a: work[0], b: weight('fc.w'), c: work[1] },
      { M: 1, N: 10, K: 64, batch: 1, aStride: 0, bStride: 0 },
      [1, 1, 1], 'MatMul 4');
    this.checkpoint('fc', work[1], [1, 10], 'f32');

    // node 5: Add 'logits' (fc, fc.b) -> logits
    this.dispatch(k.add, { a: work[1], b: weight('fc.b'), out: work[0] },
      { n: 10, rank: 2, shape: [1, 10, 1, 1, 1, 1, 1, 1], aStrides: [0, 1, 0, 0, 0, 0, 0, 0], bStrides: [0, 1, 0, 0, 0, 0, 0, 0] },
      [1, 1, 1], 'Add 5');
    this.checkpoint('logits', work[0], [1, 10], 'f32');

    // node 6: Softmax 'probs' (logits) -> probs
    this.dispatch(k.softmax, { x: work[0], y: this.outputs['probs']! },
      { rows: 1, cols: 10 },
      [1, 1, 1], 'Softmax 6');
    this.checkpoint('probs', this.outputs['probs']!, [1, 10], 'f32');

    // node 7: Mystery 'mystery' (probs) -> odd
    this.stub('Mystery: custom domain');
  }

  /** Dispatches per forward pass. */
  get dispatches(): number {
    return this.steps.filter((s) => s.kind === 'dispatch').length;
  }

  /** Copies the graph inputs into their buffers (4-byte elements: f32, or integers as u32). */
  write(inputs: EngineInputs): void {
    for (const [name, buffer] of Object.entries(this.inputs)) {
      const data = inputs[name];
      if (!data) throw new Error(`engine: input ${name} missing`);
      const bytes = data instanceof Float32Array || data instanceof Int32Array || data instanceof Uint32Array
        ? data : Float32Array.from(data as ArrayLike<number>);
      this.device.queue.writeBuffer(buffer, 0, bytes.buffer, bytes.byteOffset, bytes.byteLength);
    }
  }

  /** Records the forward pass in graph order; captures checkpoints when `capture` is enabled. */
  record(batcher: Batcher, capture?: DebugCapture): void {
    const cap = capture?.enabled ? capture : undefined;
    for (const s of this.steps) {
      if (s.kind === 'dispatch') batcher.dispatch(s.kernel.pipeline, s.groups, s.wg[0], s.wg[1], s.wg[2], s.label);
      else if (s.kind === 'capture') {
        if (!cap) continue;
        batcher.flush(); // the copy must see every dispatch recorded so far
        cap.capture(s.name, s.buffer, s.shape, { dtype: s.dtype });
      } else throw new Error(`engine: ${s.label}; write its shader`);
    }
  }

  /** write(), record(), then the graph outputs read back. */
  async run(inputs: EngineInputs, opts: { capture?: DebugCapture; flushEvery?: number } = {}): Promise<EngineOutputs> {
    this.write(inputs);
    const batcher = new Batcher(this.device, { flushEvery: opts.flushEvery ?? 64, label: 'engine' });
    this.record(batcher, opts.capture);
    await batcher.done();
    const out: EngineOutputs = {};
    for (const o of OUTPUTS) {
      const bytes = o.shape.reduce((a, b) => a * b, 1) * 4;
      const ab = await readBuffer(this.device, this.outputs[o.name]!, 0, bytes);
      out[o.name] = o.dtype === 'f32' ? new Float32Array(ab) : new Uint32Array(ab);
    }
    return out;
  }

  destroy(): void {
    for (const b of this.owned) b.destroy();
    this.owned.length = 0;
  }

  private buffer(elements: number, label: string): GPUBuffer {
    const b = this.device.createBuffer({ size: Math.max(4, elements * 4), label,
      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
    this.owned.push(b);
    return b;
  }

  private constant(data: Float32Array | Uint32Array, label: string): GPUBuffer {
    const b = this.buffer(data.length, label);
    this.device.queue.writeBuffer(b, 0, data.buffer as ArrayBuffer, data.byteOffset, data.byteLength);
    return b;
  }

  private dispatch(kernel: Kernel, resources: Record<string, GPUBuffer>, params: Record<string, ParamValue>,
    wg: [number, number, number], label: string): void {
    const uniform = createParamsBuffer(this.device, kernel.info, params, label);
    this.owned.push(uniform);
    const res: Record<string, GPUBuffer> = { ...resources, params: uniform };
    // bindings this entry point leaves out (no resource given) stay out of the group
    const entries = kernel.info.bindings.filter((b) => res[b.name]).map((b) => ({ binding: b.binding, resource: { buffer: res[b.name]! } }));
    const groups = [this.device.createBindGroup({ layout: kernel.pipeline.getBindGroupLayout(0), entries, label })];
    this.steps.push({ kind: 'dispatch', label, kernel, groups, wg });
  }

  private checkpoint(name: string, buffer: GPUBuffer, shape: number[], dtype: 'f32' | 'u32'): void {
    this.steps.push({ kind: 'capture', name, buffer, shape, dtype });
  }

  private stub(label: string): void {
    this.steps.push({ kind: 'stub', label });
  }
}
