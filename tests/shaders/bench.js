// Benchmark page: the tiled matmul against the naive one-thread-per-output
// matmul on the same adapter in one run, N×N×N for each size.  Wall time
// from submit to onSubmittedWorkDone after one warm-up run, median [min–max]
// of the timed repetitions; a fast adapter gets batches of dispatches per
// submission (≥ 0.2 s each) so submit latency does not count.  16 sampled
// outputs are checked against a float64 dot product so the figures are of
// correct work.  Each size's GFLOP/s is also logged as a `RESULT {json}`
// line (tests/bench/record.py), the naive matmul as the peer.
import { Runner, packParams, rand, rng } from './harness.js';

async function timeOne(device, r, name, bufs, n, log) {
  const { pl, bgl, info } = await r.pipeline(name, 'main');
  const u = device.createBuffer({ size: 32, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(u, 0, packParams(info, { M: n, N: n, K: n, batch: 1, aStride: 0, bStride: 0 }));
  const bg = device.createBindGroup({ layout: bgl, entries: [
    { binding: 0, resource: { buffer: bufs.a } }, { binding: 1, resource: { buffer: bufs.b } },
    { binding: 2, resource: { buffer: bufs.c } }, { binding: 3, resource: { buffer: u } }] });
  // k dispatches in one submission, so fast GPUs are not timed on submit latency
  const once = async (k) => {
    const enc = device.createCommandEncoder();
    for (let i = 0; i < k; i++) {
      const p = enc.beginComputePass();
      p.setPipeline(pl);
      p.setBindGroup(0, bg);
      const tile = name === 'matmul' ? 64 : 16;
      p.dispatchWorkgroups(Math.ceil(n / tile), Math.ceil(n / tile), 1);
      p.end();
    }
    const t0 = performance.now();
    device.queue.submit([enc.finish()]);
    await device.queue.onSubmittedWorkDone();
    return (performance.now() - t0) / 1000 / k;
  };
  const warm = await once(1);
  const batch = Math.min(1000, Math.max(1, Math.ceil(0.2 / warm)));
  // repeat while cheap: three timed runs, two if each is long
  const reps = warm > 5 ? 2 : 3;
  const secs = [];
  for (let i = 0; i < reps; i++) secs.push(await once(batch));
  u.destroy();
  return { secs, reps, batch };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b), h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
};
const stats = (xs) => {
  const r = (v) => Number(v.toPrecision(5));
  return { median: r(median(xs)), min: r(Math.min(...xs)), max: r(Math.max(...xs)), n: xs.length };
};

async function check(device, bufs, a, b, n, r) {
  const st = device.createBuffer({ size: n * n * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const enc = device.createCommandEncoder();
  enc.copyBufferToBuffer(bufs.c, 0, st, 0, n * n * 4);
  device.queue.submit([enc.finish()]);
  await st.mapAsync(GPUMapMode.READ);
  const c = new Float32Array(st.getMappedRange().slice(0));
  st.unmap();
  st.destroy();
  let worst = 0;
  for (let s = 0; s < 16; s++) {
    const i = Math.floor(r() * n), j = Math.floor(r() * n);
    let want = 0;
    for (let k = 0; k < n; k++) want += a[i * n + k] * b[k * n + j];
    worst = Math.max(worst, Math.abs(c[i * n + j] - want) / (1e-4 + 1e-4 * Math.abs(want)));
  }
  return worst;
}

export async function runBench(device, shaders, log, opts) {
  const r = new Runner(device, shaders, log);
  const sizes = opts.sizes || [512, 1024];
  let ok = true;
  log('matmul benchmark: C = A·B, N×N×N, f32, 2·N³ flops per run');
  const ai = device.adapterInfo || {};
  const adapter = [ai.vendor, ai.architecture, ai.device, ai.description].filter(Boolean).join(' ') || undefined;
  for (const n of sizes) {
    const rr = rng(n);
    const a = rand(rr, n * n), b = rand(rr, n * n);
    const mk = (d) => {
      const buf = device.createBuffer({ size: n * n * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });
      if (d) device.queue.writeBuffer(buf, 0, d);
      return buf;
    };
    const bufs = { a: mk(a), b: mk(b), c: mk(null) };
    const res = {};
    for (const name of ['matmul', 'matmulNaive']) {
      const t = await timeOne(device, r, name, bufs, n, log);
      const worst = await check(device, bufs, a, b, n, rr);
      const all = t.secs.map((s) => (2 * n ** 3) / s / 1e9);
      const gflops = median(all), secs = median(t.secs);
      res[name] = stats(all);
      if (!(worst <= 1)) ok = false;
      log(`  ${n}^3 ${name === 'matmul' ? 'tiled      ' : 'naive      '}: ${gflops.toFixed(3)} GFLOP/s ` +
        `[${Math.min(...all).toFixed(3)}–${Math.max(...all).toFixed(3)}] ` +
        `(${(secs * 1000).toFixed(secs < 0.01 ? 3 : 0)} ms per run, median of ${t.reps}` +
        `${t.batch > 1 ? ` batches of ${t.batch}` : ''}; sampled check ${worst <= 1 ? 'ok' : 'FAILED'})`);
    }
    const ratio = res.matmul.median / res.matmulNaive.median;
    log(`  ${n}^3 tiled / naive: ${ratio.toFixed(2)}x`);
    log('RESULT ' + JSON.stringify({
      what: `matmul.wgsl (tiled) ${n}×${n}×${n} f32`, unit: 'GFLOP/s', m2w: res.matmul,
      peer: { name: 'matmul_naive.wgsl (one thread per output)', ...res.matmulNaive },
      ratio: Number(ratio.toFixed(3)), adapter }));
    for (const v of Object.values(bufs)) v.destroy();
  }
  return ok;
}
