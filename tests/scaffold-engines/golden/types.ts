// types.ts — drafted by m2w-scaffold from tiny_cnn.onnx: the model's static config.
// Shapes are the concrete ones the engine was drafted for (symbolic dims
// bound with --dim); dtype is the GPU element type (integers as u32).

export interface TensorSpec {
  name: string;
  shape: number[];
  dtype: 'f32' | 'u32';
}

/** Graph inputs the engine reads at run time. */
export const INPUTS: TensorSpec[] = [
  { name: 'x', shape: [1, 3, 8, 8], dtype: 'f32' }
];

/** Graph outputs. */
export const OUTPUTS: TensorSpec[] = [
  { name: 'probs', shape: [1, 10], dtype: 'f32' },
  { name: 'relu', shape: [1, 4, 8, 8], dtype: 'f32' },
  { name: 'odd', shape: [1, 10], dtype: 'f32' }
];

/** Activation checkpoints, in the order DebugCapture records them (m2w-check --order). */
export const CHECKPOINTS: string[] = [
  'relu',
  'pool',
  'flat',
  'fc',
  'logits',
  'probs'
];

export type EngineInputs = Record<string, Float32Array | Int32Array | Uint32Array | ArrayLike<number>>;
export type EngineOutputs = Record<string, Float32Array | Uint32Array>;
