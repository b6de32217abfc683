// device.ts — WebGPU device initialisation shared by every m2w package.
//
// initDevice() asks for a high-performance adapter, requests every limit a
// model may need at the adapter's own maximum, and turns on `shader-f16`
// when the adapter offers it.  Some drivers advertise shader-f16 and then
// compute garbage (or nothing) with it, so the feature is validated at init
// with a two-pass compute check: pass 1 writes known f16 values to an
// array<f16>, pass 2 reads them back, widens them to f32 and writes those;
// the f32 results are read to the CPU and compared exactly.  On any
// mismatch or error the f16 device is destroyed and a device without the
// feature is requested: the package then runs its f32 shaders.
//
// Device loss is never retried automatically: `device.lost` calls the
// package's `onLost` hook (drop every GPU object) and the user-facing
// `onRestartNeeded(restart, info)`; calling `restart()` runs the package's
// full re-init (`reinit`).  A loss caused by DeviceContext.destroy() is
// ignored.

/** Limits requested at the adapter's maximum (when the adapter has them). */
export const WANTED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxStorageBuffersPerShaderStage',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupsPerDimension',
  'maxUniformBufferBindingSize',
  'maxBindGroups',
  'maxBindingsPerBindGroup',
  'maxDynamicStorageBuffersPerPipelineLayout',
  'maxDynamicUniformBuffersPerPipelineLayout',
] as const;

export type LimitName = (typeof WANTED_LIMITS)[number];

export interface DeviceLostDetails {
  reason: string;
  message: string;
}

export interface InitDeviceOptions {
  /** Default 'high-performance'. */
  powerPreference?: GPUPowerPreference;
  /** Request and validate shader-f16 when the adapter has it (default true). */
  wantF16?: boolean;
  /** Minimums the model needs; init fails with a clear message when the adapter is below. */
  requiredLimits?: Partial<Record<LimitName, number>>;
  /** Request timestamp-query when available (default true); see profile.ts. */
  timestamps?: boolean;
  /** The GPU object (default navigator.gpu), e.g. Dawn's for Node. */
  gpu?: GPU;
  /** Package hook, called first on an unexpected loss: drop every GPU object. */
  onLost?: (info: DeviceLostDetails) => void;
  /** The package's full re-init, run only when the user calls restart(). */
  reinit?: () => Promise<unknown>;
  /** User-facing: the device is gone; call restart() (e.g. from a button) to re-init. */
  onRestartNeeded?: (restart: () => Promise<unknown>, info: DeviceLostDetails) => void;
}

export interface AdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  isFallbackAdapter: boolean;
}

export interface DeviceContext {
  device: GPUDevice;
  adapter: GPUAdapter;
  adapterInfo: AdapterSummary;
  /** shader-f16 is enabled on `device` and passed the two-pass check. */
  f16: boolean;
  /** Why f16 is off ('' when on). */
  f16Reason: string;
  /** The device's limits, as requested. */
  limits: Record<string, number>;
  /** timestamp-query is enabled. */
  timestamps: boolean;
  /** Destroys the device; the resulting loss is not reported. */
  destroy(): void;
}

/** Requests a device (see the file comment); throws when WebGPU is absent. */
export async function initDevice(opts: InitDeviceOptions = {}): Promise<DeviceContext> {
  const gpu = opts.gpu ?? (typeof navigator !== 'undefined' ? navigator.gpu : undefined);
  if (!gpu) throw new Error('WebGPU is not available in this browser (navigator.gpu is missing)');
  const adapter = await gpu.requestAdapter({ powerPreference: opts.powerPreference ?? 'high-performance' });
  if (!adapter) throw new Error('WebGPU: no adapter available');

  const requiredLimits: Record<string, number> = {};
  const have = adapter.limits as unknown as Record<string, number | undefined>;
  for (const name of WANTED_LIMITS) {
    const v = have[name];
    if (typeof v === 'number') requiredLimits[name] = v;
  }
  for (const [name, min] of Object.entries(opts.requiredLimits ?? {})) {
    const v = have[name];
    if (min === undefined) continue;
    if (typeof v !== 'number' || v < min)
      throw new Error(`WebGPU: adapter limit ${name} is ${v ?? 'absent'}, the model needs ${min}`);
  }

  const features: GPUFeatureName[] = [];
  if (opts.timestamps !== false && adapter.features.has('timestamp-query')) features.push('timestamp-query');
  const wantF16 = opts.wantF16 !== false;
  let f16Reason = '';
  if (!wantF16) f16Reason = 'not requested';
  else if (!adapter.features.has('shader-f16')) f16Reason = 'adapter lacks shader-f16';

  let intentional = false;
  let device: GPUDevice | null = null;
  let f16 = false;
  if (wantF16 && f16Reason === '') {
    const candidate = await adapter.requestDevice({
      requiredFeatures: [...features, 'shader-f16'],
      requiredLimits,
    });
    const err = await checkF16(candidate);
    if (err === '') {
      device = candidate;
      f16 = true;
    } else {
      f16Reason = `shader-f16 failed the two-pass check: ${err}`;
      candidate.destroy();
    }
  }
  if (!device) {
    // A destroyed device's adapter may be spent: ask again when needed.
    let a = adapter;
    try {
      device = await a.requestDevice({ requiredFeatures: features, requiredLimits });
    } catch {
      const again = await gpu.requestAdapter({ powerPreference: opts.powerPreference ?? 'high-performance' });
      if (!again) throw new Error('WebGPU: no adapter available after the f16 fallback');
      a = again;
      device = await a.requestDevice({ requiredFeatures: features, requiredLimits });
    }
  }
  const dev = device;

  void dev.lost.then((info) => {
    if (intentional) return;
    const details: DeviceLostDetails = { reason: String(info.reason), message: info.message };
    opts.onLost?.(details);
    const restart = opts.reinit ?? (() => Promise.reject(new Error('this package has no re-init hook')));
    if (opts.onRestartNeeded) opts.onRestartNeeded(restart, details);
    else console.warn(`WebGPU device lost (${details.reason}): ${details.message}; reload to restart`);
  });

  const limits: Record<string, number> = {};
  const dl = dev.limits as unknown as Record<string, number | undefined>;
  for (const name of WANTED_LIMITS) {
    const v = dl[name];
    if (typeof v === 'number') limits[name] = v;
  }
  for (const name of ['minStorageBufferOffsetAlignment', 'minUniformBufferOffsetAlignment']) {
    const v = dl[name];
    if (typeof v === 'number') limits[name] = v;
  }
  return {
    device: dev,
    adapter,
    adapterInfo: await adapterSummary(adapter),
    f16,
    f16Reason,
    limits,
    timestamps: dev.features.has('timestamp-query'),
    destroy() {
      intentional = true;
      dev.destroy();
    },
  };
}

async function adapterSummary(adapter: GPUAdapter): Promise<AdapterSummary> {
  // adapter.info is current; requestAdapterInfo() is what older browsers have.
  type Info = { vendor?: string; architecture?: string; device?: string; description?: string };
  const legacy = adapter as unknown as { info?: Info; requestAdapterInfo?: () => Promise<Info>; isFallbackAdapter?: boolean };
  let info: Info = legacy.info ?? {};
  if (!legacy.info && legacy.requestAdapterInfo) {
    try {
      info = await legacy.requestAdapterInfo();
    } catch {
      info = {};
    }
  }
  return {
    vendor: info.vendor ?? '',
    architecture: info.architecture ?? '',
    device: info.device ?? '',
    description: info.description ?? '',
    isFallbackAdapter: Boolean(legacy.isFallbackAdapter),
  };
}

const F16_N = 256;
const F16_WRITE = /* wgsl */ `enable f16;
@group(0) @binding(0) var<storage, read_write> h: array<f16>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3u) {
  let i = g.x;
  if (i >= ${F16_N}u) { return; }
  let x = f16(f32(i) * 0.25 - 16.0);
  let v = vec2<f16>(x, f16(1.5));
  h[i] = v.x * v.y + f16(0.125);
}`;
const F16_READ = /* wgsl */ `enable f16;
@group(0) @binding(0) var<storage, read> h: array<f16>;
@group(0) @binding(1) var<storage, read_write> o: array<f32>;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) g: vec3u) {
  let i = g.x;
  if (i >= ${F16_N}u) { return; }
  o[i] = f32(h[i]) * 2.0;
}`;

/**
 * The two-pass shader-f16 check on a device that has the feature: returns ''
 * when every value comes back exactly, else what went wrong.  All values are
 * exact in binary16, so any difference means broken f16 storage or maths.
 */
export async function checkF16(device: GPUDevice): Promise<string> {
  const usage = GPUBufferUsage;
  const bufs: GPUBuffer[] = [];
  try {
    device.pushErrorScope('validation');
    device.pushErrorScope('internal');
    const half = device.createBuffer({ size: F16_N * 2, usage: usage.STORAGE });
    const out = device.createBuffer({ size: F16_N * 4, usage: usage.STORAGE | usage.COPY_SRC });
    const read = device.createBuffer({ size: F16_N * 4, usage: usage.MAP_READ | usage.COPY_DST });
    bufs.push(half, out, read);
    const pipe = (code: string) =>
      device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code }), entryPoint: 'main' } });
    const p1 = pipe(F16_WRITE);
    const p2 = pipe(F16_READ);
    const g1 = device.createBindGroup({ layout: p1.getBindGroupLayout(0), entries: [{ binding: 0, resource: { buffer: half } }] });
    const g2 = device.createBindGroup({
      layout: p2.getBindGroupLayout(0),
      entries: [{ binding: 0, resource: { buffer: half } }, { binding: 1, resource: { buffer: out } }],
    });
    const enc = device.createCommandEncoder();
    let pass = enc.beginComputePass();
    pass.setPipeline(p1);
    pass.setBindGroup(0, g1);
    pass.dispatchWorkgroups(F16_N / 64);
    pass.end();
    pass = enc.beginComputePass();
    pass.setPipeline(p2);
    pass.setBindGroup(0, g2);
    pass.dispatchWorkgroups(F16_N / 64);
    pass.end();
    enc.copyBufferToBuffer(out, 0, read, 0, F16_N * 4);
    device.queue.submit([enc.finish()]);
    const internal = await device.popErrorScope();
    const validation = await device.popErrorScope();
    if (validation) return `validation error: ${validation.message}`;
    if (internal) return `internal error: ${internal.message}`;
    await read.mapAsync(GPUMapMode.READ);
    const got = new Float32Array(read.getMappedRange().slice(0));
    read.unmap();
    for (let i = 0; i < F16_N; i++) {
      const want = ((i * 0.25 - 16) * 1.5 + 0.125) * 2;
      if (got[i] !== want) return `element ${i} is ${got[i]}, expected ${want}`;
    }
    return '';
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  } finally {
    for (const b of bufs) b.destroy();
  }
}
