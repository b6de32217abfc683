// The conformance page: one WebGPU device, every scaffolded engine in turn.
// Per case: load its inputs (.npy) and weights, run the engine with a
// DebugCapture on (so the checkpoints path is exercised), post each graph
// output back as output_N.npy.  window.m2wRun resolves to
// {case: {ok} | {error}}.
import * as m from '/dist/entry.js';

window.m2wRun = async () => {
  const ctx = await m.initDevice({ wantF16: false, timestamps: false });
  const device = ctx.device;
  const cases = await (await fetch('/cases.json')).json();
  const results = {};
  for (const c of cases) {
    const base = `/cases/${encodeURIComponent(c.name)}`;
    device.pushErrorScope('validation');
    try {
      const mod = await m.engines[c.name]();
      const weights = c.weights ? await m.loadWeights(device, `${base}/weights.json`) : new Map();
      const engine = new mod.Engine(device, weights);
      const inputs = {};
      for (const i of c.inputs) {
        const a = m.parseNpy(new Uint8Array(await (await fetch(`${base}/in/${i.file}`)).arrayBuffer()));
        inputs[i.name] = a.data;
      }
      const capture = new m.DebugCapture(device, { enabled: true });
      const out = await engine.run(inputs, { capture });
      const acts = await capture.activations();
      const err = await device.popErrorScope();
      if (err) throw new Error('WebGPU validation: ' + err.message);
      for (let i = 0; i < c.outputs.length; i++) {
        const spec = mod.OUTPUTS.find((o) => o.name === c.outputs[i]);
        const data = out[c.outputs[i]];
        if (!spec || !data) throw new Error(`output ${c.outputs[i]} missing`);
        if (!acts.has(c.outputs[i])) throw new Error(`no checkpoint for output ${c.outputs[i]}`);
        // integer outputs are 32-bit words; signed ones (per the expected .npy) read as i32
        const ints = c.signed && c.signed[i] && data instanceof Uint32Array ? new Int32Array(data.buffer, data.byteOffset, data.length) : data;
        const f = ints instanceof Float32Array ? ints : Float32Array.from(ints);
        await fetch(`/result/${encodeURIComponent(c.name)}/output_${i}.npy`, { method: 'POST', body: m.toNpy(f, spec.shape) });
      }
      engine.destroy();
      for (const t of weights.values()) t.buffer.destroy();
      results[c.name] = { ok: true };
    } catch (e) {
      await device.popErrorScope().catch(() => null);
      results[c.name] = { error: String(e && e.message ? e.message : e).slice(0, 300) };
    }
  }
  return results;
};
