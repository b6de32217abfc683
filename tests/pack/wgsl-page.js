// The page of run-wgsl.mjs: each case's packed words go through
// unpackQ8 / unpackQ4 (or the library's embeddingLookupQ8) on the page's
// WebGPU device via tests/shaders/harness.js's Runner; the f32 results must
// equal m2w-pack --unpack bit for bit (both compute scale · quant with one
// f32 rounding), and nothing may be written past the output.
import { Runner } from '/harness.js';
import * as shaders from '/shaders.js';

const log = (s) => console.log(s);

async function bytes(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

// First differing word of two Uint32Arrays, or -1.
function firstDiff(a, b) {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return i;
  return -1;
}

window.m2wPackRun = async () => {
  if (!navigator.gpu) throw new Error('no navigator.gpu (WebGPU disabled?)');
  const adapter = await navigator.gpu.requestAdapter();
  if (!adapter) throw new Error('no WebGPU adapter');
  const device = await adapter.requestDevice({
    requiredLimits: { maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
      maxBufferSize: adapter.limits.maxBufferSize },
  });
  const ai = adapter.info || {};
  log(`adapter: ${[ai.vendor, ai.architecture, ai.device, ai.description].filter(Boolean).join(' ')}`);
  const runner = new Runner(device, shaders, log);
  const cases = await (await fetch('/cases.json')).json();
  let bad = 0, words = 0;
  for (const c of cases) {
    const packed = await bytes(`/data/${c.id}.packed`);
    const wq = new Uint32Array(packed.buffer, packed.byteOffset, packed.byteLength / 4);
    const full = new Uint32Array((await bytes(`/data/${c.id}.want`)).buffer);
    let name, built, want;
    if (c.kind === 'embed') {
      // rows 0, 1, the last, a middle one, and an id past the table (zeros)
      const ids = new Uint32Array([0, 1, c.V - 1, (c.V / 3) | 0, c.V]);
      want = new Uint32Array(ids.length * c.D);
      ids.forEach((id, t) => {
        if (id < c.V) want.set(full.subarray(id * c.D, (id + 1) * c.D), t * c.D);
      });
      name = 'embeddingLookupQ8';
      built = { buffers: { ids, table: wq, out: { size: ids.length * c.D, type: 'f32' } },
        params: { T: ids.length, V: c.V, D: c.D }, dispatch: { threads: ids.length * c.D },
        expect: { out: [] } };
    } else {
      want = full;
      name = c.kind === 'q8_0' ? 'unpackQ8' : 'unpackQ4';
      built = { buffers: { wq, out: { size: c.n, type: 'f32' } }, params: { n: c.n },
        dispatch: { threads: c.n }, expect: { out: [] } };
    }
    let msg = null;
    try {
      const got = (await runner.run(name, built)).out;
      const gw = new Uint32Array(got.values.buffer, got.values.byteOffset, got.values.length);
      const i = firstDiff(gw, want);
      if (got.guard.some((w) => w !== 0xffffffff)) msg = 'wrote past the output';
      else if (i >= 0)
        msg = `element ${i}: got ${got.values[i]} (0x${(gw[i] >>> 0).toString(16)}) want ` +
          `${new Float32Array(want.buffer)[i]} (0x${(want[i] >>> 0).toString(16)})`;
      words += want.length;
    } catch (e) {
      msg = String(e && e.message ? e.message : e);
    }
    if (msg) {
      bad++;
      log(`FAIL ${c.label}: ${msg}`);
    } else {
      log(`ok   ${c.label}: ${want.length} values equal --unpack bit for bit`);
    }
  }
  log(`${cases.length} cases, ${words} values compared, ${bad ? bad + ' FAILED' : 'all equal'}`);
  return bad === 0 && cases.length > 0;
};
