// dispatch.ts — batched compute dispatches on one command encoder.
//
// A Batcher records dispatches into one encoder and one compute pass and
// submits every `flushEvery` dispatches (default 64), so that a forward
// pass of hundreds of kernels costs a few submits instead of hundreds.
// WebGPU orders storage writes between dispatches of one pass, so kernels
// that read an earlier kernel's output need nothing extra.
//
// iOS / mobile: Safari and mobile GPU drivers kill or stall command buffers
// that run too long (watchdog) and hold every buffer a command buffer uses
// until it completes; use a small flushEvery there (8-16) so work reaches
// the GPU early and in short pieces.
//
// deferDestroy(buffer) queues a buffer (e.g. a temporary activation) to be
// destroyed once the GPU finished the next submit that follows, via
// queue.onSubmittedWorkDone(): destroying it right away would invalidate
// the recorded commands that still use it.
//
// With a Profiler (profile.ts) every dispatch runs in its own pass with
// timestamp writes labelled by the dispatch's label.

import type { Profiler } from './profile.js';

export interface BatcherOptions {
  /** Submit after this many dispatches (default 64; >= 1). */
  flushEvery?: number;
  label?: string;
  /** Time each dispatch (see profile.ts); disabled profilers are ignored. */
  profiler?: Profiler;
}

export class Batcher {
  readonly device: GPUDevice;
  flushEvery: number;
  /** Submits so far (flushes that had work). */
  submits = 0;
  /** Dispatches recorded so far. */
  dispatches = 0;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private pending = 0;
  private toDestroy: GPUBuffer[] = [];
  private inFlight: Promise<void>[] = [];
  private readonly label: string;
  private readonly profiler: Profiler | undefined;

  constructor(device: GPUDevice, opts: BatcherOptions = {}) {
    this.device = device;
    this.flushEvery = Math.max(1, Math.floor(opts.flushEvery ?? 64));
    this.label = opts.label ?? 'm2w';
    this.profiler = opts.profiler && opts.profiler.enabled ? opts.profiler : undefined;
  }

  /** The open encoder (created on demand), e.g. to record copies; ends the open pass. */
  commandEncoder(): GPUCommandEncoder {
    this.endPass();
    if (!this.encoder) this.encoder = this.device.createCommandEncoder({ label: this.label });
    return this.encoder;
  }

  /** Records one dispatch; bind groups go to groups 0, 1, ... in order. */
  dispatch(pipeline: GPUComputePipeline, bindGroups: GPUBindGroup | readonly GPUBindGroup[], x: number, y = 1, z = 1, label?: string): void {
    const groups = Array.isArray(bindGroups) ? (bindGroups as readonly GPUBindGroup[]) : [bindGroups as GPUBindGroup];
    let pass: GPUComputePassEncoder;
    if (this.profiler) {
      const enc = this.commandEncoder();
      const tw = this.profiler.timestampWrites(label ?? pipeline.label ?? 'dispatch');
      pass = enc.beginComputePass(tw ? { timestampWrites: tw } : {});
      this.pass = pass;
    } else {
      if (!this.pass) this.pass = this.commandEncoder().beginComputePass();
      pass = this.pass;
    }
    pass.setPipeline(pipeline);
    for (let i = 0; i < groups.length; i++) pass.setBindGroup(i, groups[i]!);
    pass.dispatchWorkgroups(x, y, z);
    if (this.profiler) this.endPass();
    this.dispatches++;
    if (++this.pending >= this.flushEvery) this.flush();
  }

  /** Records a buffer copy in order with the dispatches. */
  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, size: number): void {
    this.commandEncoder().copyBufferToBuffer(src, srcOffset, dst, dstOffset, size);
  }

  /** Destroys `buffer` after the next submit's work has completed. */
  deferDestroy(buffer: GPUBuffer): void {
    this.toDestroy.push(buffer);
  }

  /** Submits what was recorded (a no-op when nothing was, except for deferred destroys). */
  flush(): void {
    this.endPass();
    const doomed = this.toDestroy;
    this.toDestroy = [];
    if (this.encoder) {
      if (this.profiler) this.profiler.resolve(this.encoder);
      this.device.queue.submit([this.encoder.finish()]);
      this.encoder = null;
      this.submits++;
    }
    this.pending = 0;
    if (doomed.length > 0) {
      const p = this.device.queue.onSubmittedWorkDone().then(() => {
        for (const b of doomed) b.destroy();
      });
      this.inFlight.push(p);
      void p.finally(() => {
        this.inFlight = this.inFlight.filter((q) => q !== p);
      });
    }
  }

  /** Flushes and waits until the GPU finished everything submitted (and deferred destroys ran). */
  async done(): Promise<void> {
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    await Promise.all(this.inFlight);
  }

  private endPass(): void {
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
  }
}
