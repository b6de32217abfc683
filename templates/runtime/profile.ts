// profile.ts — GPU timing with timestamp queries.
//
// When the device has 'timestamp-query' (initDevice requests it when the
// adapter offers it), a Profiler hands out timestampWrites for compute
// passes (two queries each: begin, end), resolves the used queries into a
// buffer at each submit (Batcher.flush calls resolve()) and read() returns
// the time of every timed pass in milliseconds, then starts over.  Without
// the feature it is disabled: timestampWrites() returns undefined and
// read() an empty list, so callers need no branches.  Browsers may quantise
// timestamps (Chrome: 100 µs unless a flag is set); compare sums over many
// passes, not single kernels.

export interface PassTiming {
  label: string;
  ms: number;
}

export class Profiler {
  readonly enabled: boolean;
  private readonly device: GPUDevice;
  private readonly capacity: number; // passes
  private querySet: GPUQuerySet | null = null;
  private resolveBuf: GPUBuffer | null = null;
  private labels: string[] = [];
  private resolved = 0; // passes resolved into resolveBuf
  private warned = false;

  /** capacity: passes timed between read()s (default 512). */
  constructor(device: GPUDevice, capacity = 512) {
    this.device = device;
    this.capacity = capacity;
    this.enabled = device.features.has('timestamp-query');
    if (this.enabled) {
      this.querySet = device.createQuerySet({ type: 'timestamp', count: capacity * 2 });
      this.resolveBuf = device.createBuffer({
        size: capacity * 16,
        usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
      });
    }
  }

  /** Timestamp writes for one pass, or undefined (disabled, or full until read()). */
  timestampWrites(label: string): GPUComputePassTimestampWrites | undefined {
    if (!this.querySet) return undefined;
    if (this.labels.length >= this.capacity) {
      if (!this.warned) console.warn(`profiler: more than ${this.capacity} passes before read(); the rest are not timed`);
      this.warned = true;
      return undefined;
    }
    const i = this.labels.length;
    this.labels.push(label);
    return { querySet: this.querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 };
  }

  /** Records the resolve of the queries used since the last resolve (call before finish()). */
  resolve(encoder: GPUCommandEncoder): void {
    if (!this.querySet || !this.resolveBuf || this.resolved === this.labels.length) return;
    // resolveQuerySet's destination offset must be a multiple of 256 bytes
    // (32 queries): start at the 256-byte block holding the first new query,
    // re-resolving the already resolved ones before it (same values).
    const first = Math.floor((this.resolved * 2) / 32) * 32;
    const count = this.labels.length * 2 - first;
    encoder.resolveQuerySet(this.querySet, first, count, this.resolveBuf, first * 8);
    this.resolved = this.labels.length;
  }

  /** Times of the passes timed since the last read(), in order; call after the submits (Batcher.done()). */
  async read(): Promise<PassTiming[]> {
    if (!this.resolveBuf || this.resolved === 0) {
      this.labels = [];
      this.resolved = 0;
      return [];
    }
    const n = this.resolved;
    const staging = this.device.createBuffer({ size: n * 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    const enc = this.device.createCommandEncoder();
    enc.copyBufferToBuffer(this.resolveBuf, 0, staging, 0, n * 16);
    this.device.queue.submit([enc.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const t = new BigUint64Array(staging.getMappedRange().slice(0));
    staging.unmap();
    staging.destroy();
    const out: PassTiming[] = [];
    for (let i = 0; i < n; i++) {
      const begin = t[2 * i]!;
      const end = t[2 * i + 1]!;
      out.push({ label: this.labels[i]!, ms: end > begin ? Number(end - begin) / 1e6 : 0 });
    }
    this.labels = []; // passes recorded but not yet resolved are dropped
    this.resolved = 0;
    this.warned = false;
    return out;
  }

  /** Sums of read()'s timings per label. */
  static summarize(timings: PassTiming[]): Map<string, { ms: number; count: number }> {
    const m = new Map<string, { ms: number; count: number }>();
    for (const t of timings) {
      const s = m.get(t.label) ?? { ms: 0, count: 0 };
      s.ms += t.ms;
      s.count++;
      m.set(t.label, s);
    }
    return m;
  }

  destroy(): void {
    this.querySet?.destroy();
    this.resolveBuf?.destroy();
    this.querySet = null;
    this.resolveBuf = null;
  }
}
