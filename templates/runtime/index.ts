// index.ts — the m2w runtime shared by every generated model package:
// device init with validated shader-f16 (device.ts), weight loading with
// progress and HTTP Range shards (weights.ts), batched dispatch with
// deferred destroys (dispatch.ts), pipelines and uniforms from
// m2w-shadergen modules (pipelines.ts), buffer read-back, activation
// capture and .npy export (capture.ts), timestamp profiling (profile.ts).
// Zero dependencies; a package's own src/*.ts imports from here.

export * from './device.js';
export * from './weights.js';
export * from './dispatch.js';
export * from './pipelines.js';
export * from './capture.js';
export * from './profile.js';
