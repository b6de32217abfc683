// types.ts — the public types of openwakeword-webgpu.  No WebGPU types, so
// a consumer type-checks without @webgpu/types.

export interface LoadOptions {
  /** Wake words to score (default: every one the package ships, i.e. ['hey_jarvis']). */
  wakeWords?: string[];
  /** The folder holding the weight files (default: the package's own weights/). */
  url?: string | URL;
  /** Weight bytes loaded so far and the total known so far. */
  onProgress?: (loaded: number, total: number) => void;
  /** The GPU device was lost; call restart() (from a button, say) to load again. */
  onRestartNeeded?: (restart: () => Promise<unknown>) => void;
  /**
   * Steps (80 ms each) after a reset whose scores are reported as 0 while
   * the buffers fill (openWakeWord's Model.predict: 5).  0 reports raw scores.
   */
  warmupSteps?: number;
  /**
   * Capture every checkpoint of a step (for activation matching): true for
   * every step, or a predicate on the step index since the last reset.
   * activations() returns the last captured step's checkpoints.  Slow.
   */
  debugCapture?: boolean | ((step: number) => boolean);
}

/** One 80 ms step's scores in [0, 1], by wake word. */
export type Scores = Record<string, number>;

export interface Activation {
  data: Float32Array;
  shape: number[];
}

export interface ModelInfo {
  /** The adapter, as the browser describes it. */
  adapter: string;
  /** The wake words scored, in order. */
  wakeWords: string[];
  /** Weight tensors on the GPU, and their bytes. */
  tensors: number;
  weightBytes: number;
  /** Compute pipelines created, by shader name. */
  shaders: string[];
  /** Compute dispatches per 80 ms step. */
  dispatches: number;
}

export interface Model {
  readonly info: ModelInfo;
  /**
   * Streams 16 kHz mono audio: Float32Array in [−1, 1] (scaled by 32768 to
   * openWakeWord's int16 units) or Int16Array PCM.  Any length; every
   * completed 1280-sample step (80 ms) yields one Scores, in order; the
   * rest waits for the next push.
   */
  push(samples: Float32Array | Int16Array): Promise<Scores[]>;
  /** Scores a whole clip from a fresh state (reset before and after): one Scores per full step. */
  score(audio: Float32Array | Int16Array): Promise<Scores[]>;
  /** Forgets the audio so far (buffers back to their initial state). */
  reset(): void;
  /** With debugCapture: the checkpoints of the last captured step, in pipeline order. */
  activations(): Promise<Map<string, Activation>>;
  /** Frees every GPU object; the model cannot be used afterwards. */
  destroy(): void;
}
