// types.ts — the public types of face-detection-webgpu.  No WebGPU types
// here, so a consumer type-checks without @webgpu/types.

/** A point in source-image pixels. */
export interface Point {
  x: number;
  y: number;
}

/** An axis-aligned box in source-image pixels: top-left corner and size. */
export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * One detected face.  keypoints, in MediaPipe's order: right eye, left eye,
 * nose tip, mouth centre, right ear tragion, left ear tragion ("right" is
 * the subject's right, on the image's left for a frontal face).
 */
export interface Face {
  box: Box;
  keypoints: Point[];
  /** Sigmoid score of the best anchor of the face's cluster, 0..1. */
  score: number;
}

/**
 * RGBA pixels, 8 bits a channel, row-major, no row padding: what an
 * ImageData holds, for sources outside a browser (Node).
 */
export interface Pixels {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
}

/** What detect() takes. */
export type DetectSource = ImageBitmap | HTMLCanvasElement | OffscreenCanvas | HTMLVideoElement | ImageData | Pixels;

export interface LoadOptions {
  /** Weight bytes loaded so far and the total known so far. */
  onProgress?: (loaded: number, total: number) => void;
  /** The GPU device was lost; call restart() (from a button, say) to load again. */
  onRestartNeeded?: (restart: () => Promise<unknown>) => void;
  /** Keep every layer's output of the last detect() for activations() (slow; for tests). */
  debugCapture?: boolean;
  /** Time every dispatch with timestamp queries (when the adapter has them) for timings() (slow; for profiling). */
  profile?: boolean;
  /**
   * 'f16': f16 weights and the f16 shaders when the device has shader-f16
   * (validated at init), else f32; 'auto' (the default): the same; 'f32':
   * f32 always.  info.f16 says which runs.
   */
  precision?: 'auto' | 'f32' | 'f16';
  /** The WebGPU entry point (a GPU object; default navigator.gpu), e.g. Dawn's for Node. */
  gpu?: unknown;
}

export interface DetectOptions {
  /** Minimum score of a face (default 0.5, MediaPipe's min_score_thresh). */
  minScore?: number;
}

export interface ModelInfo {
  /** The adapter, as the browser describes it. */
  adapter: string;
  /** f16 weights and shaders in use (see LoadOptions.precision). */
  f16: boolean;
  /** Why f16 is off ('' when on): not requested, or the adapter lacks or failed shader-f16. */
  f16Reason: string;
  /** Weight tensors on the GPU, and their bytes. */
  tensors: number;
  weightBytes: number;
  /** The WGSL shaders of the package, by name. */
  shaders: string[];
  /** Compute pipelines created (shaders specialised per layer by override constants). */
  pipelines: number;
  /** Compute dispatches per detect(). */
  dispatches: number;
}

/** A layer output kept by debugCapture: values and shape (NCHW for feature maps). */
export interface Activation {
  data: Float32Array;
  shape: number[];
}

export interface Model {
  readonly info: ModelInfo;
  /** Detects faces; calls are queued, one runs at a time. */
  detect(source: DetectSource, opts?: DetectOptions): Promise<Face[]>;
  /** With debugCapture: every checkpoint of the last detect(), in graph order, by TFLite tensor name. */
  activations(): Promise<Map<string, Activation>>;
  /** With profile: GPU ms of each dispatch of the detect() calls since the last timings(), in order. */
  timings(): Promise<{ label: string; ms: number }[]>;
  /** Frees every GPU object; the model cannot be used afterwards. */
  destroy(): void;
}
