// face-detection-webgpu — MediaPipe BlazeFace (short range) on WebGPU.
//
// loadModel() brings the model up with the m2w runtime (./runtime/): a
// device, every weight of this package on the GPU (with progress), the
// engine's pipelines (this model's own fused shaders, ./shaders.ts from
// m2w-shadergen, specialised per layer by override constants; a shader
// that does not compile fails here, at load), buffers and bind groups
// (./engine.ts).  detect() uploads the source into a texture, letterboxes
// it into the 128×128 input on the GPU (./preprocess.ts), runs the
// network's 36 dispatches in one submit with the copy of the 896 scores
// and boxes into the read-back buffer, maps it once and decodes on the CPU
// (./decode.ts).  opts.profile times each dispatch (timings()).
//
// The public API uses no WebGPU types, so a consumer type-checks without
// @webgpu/types.
//
// Precision (opts.precision, default 'auto'): the package ships two weight
// files, f32 and f16 (m2w-extract --dtype f16; the .tflite stores its
// weights as f16 behind DEQUANTIZE ops, so the f16 file is exact and half
// the bytes).  'f16' and 'auto' ask initDevice for shader-f16, which it
// enables only after its two-pass check; with it the f16 file is loaded
// and every dispatch runs its shader's F16 variant (m2w-shadergen --f16:
// `alias real = f16`): weights and activations are stored as f16 (half
// the bytes moved), each dispatch converts what it loads to f32 and
// accumulates in f32, and rounds once to f16 on the store.  Why f32
// accumulation: the network amplifies an error in its input about a
// thousandfold by the heads (the f32 path's own rounding, ~1e-7, ends
// near 3e-4), and f16 arithmetic rounds at every multiply-add (up to 96
// per 1×1 output, 75 in the stem) where f16 storage rounds once per
// value: measured against LiteRT.js (tests/face-detection/run-node.mjs,
// lavapipe), f16 accumulation gave max abs errors of 6.2 on the blocks
// (values to 138) and 1.4e-4 of the image on the faces, f32 accumulation
// 0.36 and 4.8e-5.  Preprocessing samples and maps in f32 and stores f16;
// the heads write the two outputs as f32, so the read-back and decode are
// the same in both precisions.  Without a validated shader-f16 (or with
// 'f32') the f32 file and shaders run, and info.f16 is false,
// info.f16Reason says why.
import { Batcher, DebugCapture, Profiler, createParamsBuffer, createPipeline, destroyWeights, initDevice, loadWeights, writeParams } from './runtime/index.js';
import type { Kernel, Weights } from './runtime/index.js';
import * as shaders from './shaders.js';
import { Engine } from './engine.js';
import { NUM_BOXES, NUM_COORDS, decodeFaces, ssdAnchors } from './decode.js';
import { INPUT_SIZE, SourceTexture, letterbox, preprocessParams, sourceSize } from './preprocess.js';
import type { Activation, DetectOptions, DetectSource, Face, LoadOptions, Model, ModelInfo } from './types.js';

export type { Activation, Box, DetectOptions, DetectSource, Face, LoadOptions, Model, ModelInfo, Pixels, Point } from './types.js';
export { ssdAnchors } from './decode.js';

/** The weight files of this package, by precision: weights/<name>.json + .bin (m2w-extract). */
export const WEIGHT_FILES: Readonly<Record<'f32' | 'f16', string>> = {
  f32: 'face_detection_short_range',
  f16: 'face_detection_short_range_f16',
};

/**
 * Loads the model.  `url` is the folder holding the weight files (default:
 * the package's own weights/, resolved from this module's URL).
 */
export async function loadModel(url?: string | URL, opts: LoadOptions = {}): Promise<Model> {
  const base = url === undefined ? new URL('../weights/', import.meta.url) : new URL(String(url), globalThis.location?.href);
  const folder = base.href.endsWith('/') ? base : new URL(base.href + '/');
  const precision = opts.precision ?? 'auto';
  if (precision !== 'auto' && precision !== 'f32' && precision !== 'f16') throw new Error(`face-detection: precision ${String(precision)} is not 'auto', 'f32' or 'f16'`);
  let restartFrom: (() => Promise<unknown>) | undefined;
  const ctx = await initDevice({
    wantF16: precision !== 'f32',
    gpu: opts.gpu as GPU | undefined,
    reinit: () => (restartFrom ? restartFrom() : Promise.resolve()),
    onRestartNeeded: opts.onRestartNeeded ? (restart) => opts.onRestartNeeded?.(restart) : undefined,
  });
  restartFrom = () => loadModel(url, opts);
  const device = ctx.device;
  const f16 = ctx.f16 && precision !== 'f32';
  const weights: Weights[] = [];
  const kernels = new Map<string, Kernel>();
  let engine: Engine | null = null;
  try {
    let done = 0;
    let known = 0;
    for (const stem of [WEIGHT_FILES[f16 ? 'f16' : 'f32']]) {
      let last = { loaded: 0, total: 0 };
      const w = await loadWeights(device, new URL(stem + '.json', folder), {
        label: stem,
        onProgress: (p) => {
          last = p;
          opts.onProgress?.(done + p.loaded, known + p.total);
        },
      });
      done += last.loaded;
      known += last.total;
      weights.push(w);
    }
    kernels.set('preprocess', createPipeline(device, shaders, 'preprocess', { f16 }));
    engine = new Engine(device, shaders, weights[0]!, f16);
  } catch (e) {
    for (const w of weights) destroyWeights(w);
    ctx.destroy();
    throw e;
  }
  const eng = engine;
  let tensors = 0;
  let weightBytes = 0;
  for (const w of weights) {
    for (const t of w.values()) {
      tensors++;
      if (!t.aliasOf) weightBytes += t.size;
    }
  }
  const info: ModelInfo = {
    adapter: ctx.adapterInfo.description || ctx.adapterInfo.device || ctx.adapterInfo.vendor,
    f16,
    f16Reason: f16 ? '' : precision === 'f32' ? 'precision f32 requested' : ctx.f16Reason,
    tensors,
    weightBytes,
    shaders: Object.keys(shaders).filter((k) => k.endsWith('Info')).map((k) => k.slice(0, -4)),
    pipelines: eng.pipelines + 1,
    dispatches: eng.steps.length + 1,
  };

  const anchors = ssdAnchors();
  const source = new SourceTexture(device);
  const pre = kernels.get('preprocess')!;
  const preParams = createParamsBuffer(device, pre.info, preprocessParams(1, 1), 'preprocess params');
  let preGroup: GPUBindGroup | null = null;
  const scoreBytes = NUM_BOXES * 4;
  const boxBytes = NUM_BOXES * NUM_COORDS * 4;
  const staging = device.createBuffer({ size: scoreBytes + boxBytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, label: 'face-detection readback' });
  const profiler = opts.profile ? new Profiler(device, 2048) : undefined;
  const batcher = new Batcher(device, { flushEvery: 256, label: 'face-detection', profiler });
  const capture = new DebugCapture(device, { enabled: opts.debugCapture ?? false, batcher });
  let queue: Promise<unknown> = Promise.resolve();
  let destroyed = false;

  async function run(src: DetectSource, dopts: DetectOptions): Promise<Face[]> {
    if (destroyed) throw new Error('face-detection: the model was destroyed');
    const { width, height } = sourceSize(src);
    if (source.upload(src) || !preGroup) {
      preGroup = device.createBindGroup({
        layout: pre.pipeline.getBindGroupLayout(0),
        entries: [
          { binding: 0, resource: source.texture!.createView() },
          { binding: 1, resource: { buffer: eng.input.buffer } },
          { binding: 2, resource: { buffer: preParams } },
          { binding: 3, resource: { buffer: eng.inputSplit.buffer } },
        ],
      });
    }
    writeParams(device, preParams, pre.info, preprocessParams(width, height));
    capture.clear();
    batcher.dispatch(pre.pipeline, preGroup, Math.ceil((INPUT_SIZE * INPUT_SIZE) / 256), 1, 1, 'preprocess');
    if (capture.enabled) capture.capture('input', eng.input.buffer, eng.input.shape, { dtype: eng.input.dtype });
    eng.record(batcher, capture);
    batcher.copy(eng.scores.buffer, 0, staging, 0, scoreBytes);
    batcher.copy(eng.boxes.buffer, 0, staging, scoreBytes, boxBytes);
    batcher.flush();
    await staging.mapAsync(GPUMapMode.READ);
    const bytes = staging.getMappedRange().slice(0);
    staging.unmap();
    const scores = new Float32Array(bytes, 0, NUM_BOXES);
    const boxes = new Float32Array(bytes, scoreBytes, NUM_BOXES * NUM_COORDS);
    return decodeFaces(scores, boxes, anchors, letterbox(width, height), dopts.minScore ?? 0.5);
  }

  return {
    info,
    detect(src: DetectSource, dopts: DetectOptions = {}): Promise<Face[]> {
      const p = queue.then(() => run(src, dopts));
      queue = p.catch(() => undefined);
      return p;
    },
    async timings() {
      await queue;
      return profiler ? profiler.read() : [];
    },
    async activations(): Promise<Map<string, Activation>> {
      await queue;
      const data = await capture.activations();
      const shapes = await capture.shapesOf();
      const out = new Map<string, Activation>();
      for (const [name, d] of data) out.set(name, { data: d, shape: shapes.get(name)! });
      return out;
    },
    destroy() {
      if (destroyed) return;
      destroyed = true;
      eng.destroy();
      source.destroy();
      preParams.destroy();
      staging.destroy();
      profiler?.destroy();
      for (const w of weights) destroyWeights(w);
      weights.length = 0;
      kernels.clear();
      ctx.destroy();
    },
  };
}
