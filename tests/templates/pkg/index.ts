// A tiny model package built from templates/ by tests/templates/run.mjs: the
// generic contract (loadModel -> Model.run) over the library's relu and add
// shaders, captureActivations for templates/check/activations.mjs, and
// selfTest, which exercises the runtime in the browser and reports plain
// data for the driver to check against the files it served.  Its public API
// names no WebGPU type, so a consumer type-checks without @webgpu/types.
import * as shaders from './shaders.js';
import {
  Batcher, DebugCapture, Profiler, bindGroups, createParamsBuffer, createPipeline, initDevice,
  loadWeights, readBuffer, toNpy, type DeviceContext, type NpyArray,
} from './runtime/index.js';

export interface LoadOptions {
  onProgress?: (loaded: number, total: number) => void;
  onRestartNeeded?: (restart: () => Promise<unknown>) => void;
}

export interface Model {
  /** relu(x) + x, elementwise. */
  run(input?: Float32Array): Promise<Float32Array>;
  demoInput(): Float32Array;
  readonly f16: boolean;
  readonly tensors: number;
  /** As the m2w-new skeleton's Model.info (the generic demo shows it). */
  readonly info: { adapter: string; f16: boolean; tensors: number };
  dispose(): void;
}

const STORAGE = () => GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

function upload(ctx: DeviceContext, data: Float32Array): GPUBuffer {
  const b = ctx.device.createBuffer({ size: Math.max(16, data.byteLength), usage: STORAGE() });
  ctx.device.queue.writeBuffer(b, 0, new Float32Array(data)); // a copy backed by an ArrayBuffer
  return b;
}

/** relu then add on the GPU, capturing both activations. */
async function forward(ctx: DeviceContext, x: Float32Array, shape: number[], capture?: DebugCapture, batcher?: Batcher) {
  const dev = ctx.device;
  const n = x.length;
  const b = batcher ?? new Batcher(dev);
  const relu = createPipeline(dev, shaders, 'relu', { f16: false });
  const add = createPipeline(dev, shaders, 'add', { f16: false });
  const xb = upload(ctx, x);
  const rb = dev.createBuffer({ size: Math.max(16, n * 4), usage: STORAGE() });
  const ob = dev.createBuffer({ size: Math.max(16, n * 4), usage: STORAGE() });
  const groups = Math.ceil(n / 256);
  const p1 = createParamsBuffer(dev, relu.info, { n });
  b.dispatch(relu.pipeline, bindGroups(dev, relu, { x: xb, y: rb, params: p1 }), groups, 1, 1, 'relu');
  capture?.capture('00_relu', rb, shape);
  const p2 = createParamsBuffer(dev, add.info, {
    n, rank: 1, shape: [n, 0, 0, 0, 0, 0, 0, 0], aStrides: [1, 0, 0, 0, 0, 0, 0, 0], bStrides: [1, 0, 0, 0, 0, 0, 0, 0],
  });
  b.dispatch(add.pipeline, bindGroups(dev, add, { a: rb, b: xb, out: ob, params: p2 }), groups, 1, 1, 'add');
  capture?.capture('01_add', ob, shape);
  for (const t of [xb, rb, p1, p2]) b.deferDestroy(t);
  await b.done();
  const out = new Float32Array(await readBuffer(dev, ob, 0, n * 4));
  ob.destroy();
  return out;
}

/** `url`: weights.json or shards.json (default: the package's weights/weights.json). */
export async function loadModel(weightsUrl?: string, opts: LoadOptions = {}): Promise<Model> {
  const ctx = await initDevice({
    onRestartNeeded: (restart) => opts.onRestartNeeded?.(restart),
    reinit: () => loadModel(weightsUrl, opts),
  });
  const url = weightsUrl ?? new URL('../weights/weights.json', import.meta.url).href;
  const weights = await loadWeights(ctx.device, url, { onProgress: (p) => opts.onProgress?.(p.loaded, p.total) });
  const demo = Float32Array.from({ length: 1 << 16 }, (_, i) => Math.sin(i) * 4);
  return {
    f16: ctx.f16,
    tensors: weights.size,
    info: { adapter: ctx.adapterInfo.description || ctx.adapterInfo.vendor, f16: ctx.f16, tensors: weights.size },
    demoInput: () => demo,
    run: (input = demo) => forward(ctx, input, [input.length]),
    dispose: () => ctx.destroy(),
  };
}

/** For templates/check/activations.mjs: runs on inputs.x with capture on; returns name -> .npy bytes. */
export async function captureActivations(inputs: Record<string, NpyArray>): Promise<Map<string, Uint8Array>> {
  const x = inputs['x'];
  if (!x) throw new Error('captureActivations: input x missing');
  const ctx = await initDevice();
  const batcher = new Batcher(ctx.device);
  const cap = new DebugCapture(ctx.device, { enabled: true, batcher });
  await forward(ctx, Float32Array.from(x.data), x.shape, cap, batcher);
  const out = await cap.exportNpy();
  ctx.destroy();
  return out;
}

async function sha256(buf: ArrayBuffer): Promise<string> {
  const d = new Uint8Array(await crypto.subtle.digest('SHA-256', buf));
  return Array.from(d, (v) => v.toString(16).padStart(2, '0')).join('');
}

export interface TensorReport {
  size: number;
  shape: number[];
  dtype: string;
  /** SHA-256 of each buffer's bytes (one per chunk), as read back from the GPU. */
  sha: string[];
  usage: number;
  aliasOf: string | null;
  /** An alias's buffer is its target's very buffer. */
  sharesBuffer: boolean | null;
}

export interface LoadReport {
  manifest: string;
  progressCalls: number;
  monotonic: boolean;
  loaded: number;
  total: number;
  tensors: Record<string, TensorReport>;
}

/** Exercises the runtime (see tests/templates/run.mjs) and reports plain data. */
/** Loads a manifest and frees it again (the refusal checks of run.mjs). */
export async function loadOnly(manifest: string): Promise<number> {
  const ctx = await initDevice({ wantF16: false });
  try {
    const w = await loadWeights(ctx.device, manifest);
    return w.size;
  } finally {
    ctx.destroy();
  }
}

export async function selfTest(manifests: string[]): Promise<Record<string, unknown>> {
  const report: Record<string, unknown> = {};
  let lost = 0;
  let restartCalls = 0;
  let reinitCalls = 0;
  const ctx = await initDevice({
    onLost: () => { lost++; },
    reinit: async () => { reinitCalls++; },
    onRestartNeeded: () => { restartCalls++; },
  });
  report['f16'] = ctx.f16;
  report['f16Reason'] = ctx.f16Reason;
  report['adapter'] = ctx.adapterInfo;
  report['limits'] = ctx.limits;
  report['timestamps'] = ctx.timestamps;
  report['usageWanted'] = STORAGE();

  const loads: LoadReport[] = [];
  for (const m of manifests) {
    let calls = 0;
    let last = -1;
    let monotonic = true;
    let final = { loaded: 0, total: 0 };
    const w = await loadWeights(ctx.device, m, {
      onProgress: (p) => {
        calls++;
        if (p.loaded < last || p.loaded > p.total) monotonic = false;
        last = p.loaded;
        final = p;
      },
    });
    const tensors: Record<string, TensorReport> = {};
    for (const [name, t] of w) {
      const parts = t.chunks ? t.chunks.map((c) => ({ b: c.buffer, o: c.offset, s: c.size })) : [{ b: t.buffer, o: t.offset, s: t.size }];
      const sha: string[] = [];
      for (const p of parts) sha.push(await sha256(await readBuffer(ctx.device, p.b, p.o, p.s)));
      const target = t.aliasOf ? w.get(t.aliasOf) : undefined;
      tensors[name] = {
        size: t.size, shape: t.shape, dtype: t.dtype, sha, usage: t.buffer.usage,
        aliasOf: t.aliasOf ?? null, sharesBuffer: target ? target.buffer === t.buffer : null,
      };
    }
    loads.push({ manifest: m, progressCalls: calls, monotonic, loaded: final.loaded, total: final.total, tensors });
  }
  report['loads'] = loads;

  // Batcher: 10 adds of 1 ping-ponging between two buffers, flushing every 4.
  const dev = ctx.device;
  const realSubmit = dev.queue.submit.bind(dev.queue);
  let submitted = 0;
  dev.queue.submit = (cbs: Iterable<GPUCommandBuffer>) => { submitted++; realSubmit(cbs); };
  const add = createPipeline(dev, shaders, 'add');
  const n = 1000;
  const start = Float32Array.from({ length: n }, (_, i) => i * 0.5 - 100);
  const bufs = [upload(ctx, start), dev.createBuffer({ size: n * 4, usage: STORAGE() })];
  const ones = upload(ctx, new Float32Array(n).fill(1));
  const params = createParamsBuffer(dev, add.info, {
    n, rank: 1, shape: [n, 0, 0, 0, 0, 0, 0, 0], aStrides: [1, 0, 0, 0, 0, 0, 0, 0], bStrides: [1, 0, 0, 0, 0, 0, 0, 0],
  });
  const batcher = new Batcher(dev, { flushEvery: 4 });
  const submitsSeen: number[] = [];
  const temp = dev.createBuffer({ size: 16, usage: GPUBufferUsage.STORAGE });
  let tempDestroyed = false;
  const realDestroy = temp.destroy.bind(temp);
  temp.destroy = () => { tempDestroyed = true; realDestroy(); };
  submitted = 0;
  for (let i = 0; i < 10; i++) {
    const [a, o] = i % 2 === 0 ? [bufs[0]!, bufs[1]!] : [bufs[1]!, bufs[0]!];
    batcher.dispatch(add.pipeline, bindGroups(dev, add, { a, b: ones, out: o, params }), Math.ceil(n / 256));
    submitsSeen.push(submitted);
    if (i === 8) batcher.deferDestroy(temp);
  }
  const destroyedBeforeDone = tempDestroyed;
  await batcher.done();
  const submitsAfterDone = submitted;
  const result = new Float32Array(await readBuffer(dev, bufs[0]!, 0, n * 4));
  let maxErr = 0;
  for (let i = 0; i < n; i++) maxErr = Math.max(maxErr, Math.abs(result[i]! - (start[i]! + 10)));
  dev.queue.submit = realSubmit;
  report['batcher'] = {
    submitsSeen, submitsAfterDone, batcherSubmits: batcher.submits, dispatches: batcher.dispatches,
    destroyedBeforeDone, destroyedAfterDone: tempDestroyed, maxErr,
  };

  // Profiler: disabled without timestamp-query, then read() is empty.
  // Three submits before one read(): each submit resolves its queries, at
  // 256-byte-aligned offsets (resolveQuerySet's rule) or the device errors.
  const prof = new Profiler(dev, 8);
  const pb = new Batcher(dev, { profiler: prof, flushEvery: 1 });
  dev.pushErrorScope('validation');
  for (let k = 0; k < 3; k++)
    pb.dispatch(add.pipeline, bindGroups(dev, add, { a: bufs[0]!, b: ones, out: bufs[1]!, params }), 4, 1, 1, `add${k}`);
  await pb.done();
  const timings = await prof.read();
  const profErr = await dev.popErrorScope();
  report['profile'] = { enabled: prof.enabled, timings: timings.length, positive: timings.every((t) => t.ms >= 0),
    error: profErr ? profErr.message : '' };
  prof.destroy();

  // Device loss: an intentional destroy() of a second context reports nothing; a
  // loss from outside calls onLost and onRestartNeeded once, never reinit.
  let quietCalls = 0;
  const quiet = await initDevice({ onLost: () => { quietCalls++; }, onRestartNeeded: () => { quietCalls++; } });
  quiet.destroy();
  dev.destroy();
  await new Promise((r) => setTimeout(r, 200));
  report['lost'] = { lost, restartCalls, reinitCalls, quietCalls };

  // .npy of a 0-d and a 1-d array (base64), checked with numpy.load by the driver.
  const b64 = (u: Uint8Array) => btoa(String.fromCharCode(...u));
  report['npy'] = {
    scalar: b64(toNpy(Float32Array.of(3.5), [])),
    vector: b64(toNpy(Float32Array.of(1, -2, 0.1, -0, 1e-30, 3e38, -7), [7])),
    empty: b64(toNpy(new Float32Array(0), [0, 4])),
  };
  return report;
}
