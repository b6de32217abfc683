// Runs every suite of cases.js against the generated shader module on one
// device and prints per-case failures, the tolerances and the summary line.
// Shared by the browser page (main.js) and the Node runner (run-node.mjs).
// With an adapter that has shader-f16 the F16 variants run too, on inputs
// made in f16 and under f16 tolerances.
import { Runner, compare, precision, rng } from './harness.js';
import { suites } from './cases.js';

function seedOf(name, i) {
  let h = 2166136261;
  for (const ch of name) h = Math.imul(h ^ ch.charCodeAt(0), 16777619);
  return (h ^ (i * 0x9e3779b9)) >>> 0;
}

function describe(c) {
  if (c.label) return c.label + ' ' + JSON.stringify({ ...c, label: undefined });
  return JSON.stringify(c);
}

// f16 storage: 2^-11 relative per rounding; inputs are already f16, so the
// error is the output's rounding plus f16 intermediates (lstm state, the
// fusedNormAdd sum): 4 ulp at 1.0.  Copies stay exact.
const F16_FLOOR = 2e-3;
function f16Tol(t) {
  if (t.atol === 0 && t.rtol === 0) return t;
  const a = typeof t.atol === 'number' ? t.atol : 0;
  return { atol: Math.max(a, F16_FLOOR), rtol: Math.max(t.rtol, F16_FLOOR), why: t.why + '; f16 storage' };
}

async function runVariant(runner, shaders, names, f16, opts, log) {
  const failures = [], tolerances = [];
  let nShaders = 0, nCases = 0;
  precision.half = f16;
  for (const name of names) {
    const s = suites[name];
    const kernel = f16 ? name + 'F16' : name;
    if (!s || !shaders[kernel]) {
      if (!f16) {
        failures.push(`${name}: no test cases`);
        log(`FAIL ${name}: no test cases`);
      }
      continue;
    }
    nShaders++;
    const stol = f16 ? f16Tol(s.tol) : s.tol;
    tolerances.push(`${kernel}: atol ${stol.atol}, rtol ${stol.rtol} (${stol.why})`);
    for (let i = 0; i < s.cases.length; i++) {
      const c = s.cases[i];
      const t0 = performance.now();
      let msg = null, worst = 0;
      nCases++;
      try {
        const built = s.build(c, rng(seedOf(name, i)));
        const tol = built.tol ? (f16 ? f16Tol(built.tol) : built.tol) : stol;
        const got = await runner.run(kernel, built);
        for (const [k, want] of Object.entries(built.expect)) {
          const spec = built.buffers[k];
          const integer = spec instanceof Uint32Array || spec instanceof Int32Array ||
            spec.type === 'u32' || spec.type === 'i32';
          const res = compare(got[k], want, tol, integer);
          if (typeof res === 'string') {
            msg = `${k}: ${res}`;
            break;
          }
          worst = Math.max(worst, res.worst);
        }
      } catch (e) {
        msg = String(e && e.message ? e.message : e);
      }
      const ms = (performance.now() - t0).toFixed(0);
      if (msg) {
        failures.push(`${kernel} case ${i}: ${msg}`);
        log(`FAIL ${kernel} #${i} ${describe(c)}: ${msg}`);
      } else if (opts.verbose) {
        log(`ok   ${kernel} #${i} ${describe(c)} worst ${worst.toFixed(3)} of tolerance, ${ms} ms`);
      }
    }
  }
  precision.half = false;
  return { failures, tolerances, nShaders, nCases };
}

export async function runTests(device, adapter, shaders, opts, log) {
  const runner = new Runner(device, shaders, log);
  let names = Object.keys(shaders).filter((k) => typeof shaders[k] === 'string' && !/F16$/.test(k)).sort();
  const stale = Object.keys(suites).filter((k) => !names.includes(k));
  if (opts.filter) {
    const keep = new Set(opts.filter.split(','));
    names = names.filter((n) => keep.has(n));
  }
  const f32 = await runVariant(runner, shaders, names, false, opts, log);
  for (const k of stale) f32.failures.push(`${k}: test cases for a shader the module does not have`);
  log('tolerances (|got - want| <= atol + rtol*|want|):');
  for (const t of f32.tolerances) log('  ' + t);
  const arch = (adapter.info && (adapter.info.architecture || adapter.info.vendor || adapter.info.description)) || 'unknown';
  const nF16 = names.filter((n) => shaders[n + 'F16']).length;
  let f16 = null;
  if (!adapter.features.has('shader-f16')) {
    log(`f16 variants: ${nF16} skipped: adapter '${arch}' has no shader-f16 feature`);
  } else if (opts.f16 === false) {
    log(`f16 variants: ${nF16} skipped: --no-f16`);
  } else {
    f16 = await runVariant(runner, shaders, names, true, opts, log);
    log('f16 tolerances:');
    for (const t of f16.tolerances) log('  ' + t);
  }
  const report = (label, r) => {
    if (r.failures.length) {
      log(`${label}${r.nShaders} shaders, ${r.nCases} cases, ${r.failures.length} FAILED:`);
      for (const f of r.failures) log('  ' + f);
    } else {
      log(`${label}${r.nShaders} shaders, ${r.nCases} cases, all passed`);
    }
  };
  if (f16) report('f16: ', f16);
  report('', f32);
  return f32.failures.length === 0 && (!f16 || f16.failures.length === 0);
}

export async function openDevice(gpu, log) {
  const adapter = await gpu.requestAdapter();
  if (!adapter) throw new Error('no WebGPU adapter');
  const l = adapter.limits;
  const device = await adapter.requestDevice({
    requiredFeatures: adapter.features.has('shader-f16') ? ['shader-f16'] : [],
    requiredLimits: {
      maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
      maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
      maxBufferSize: l.maxBufferSize,
    },
  });
  device.lost.then((i) => log('device lost: ' + i.message));
  const ai = adapter.info || {};
  log(`adapter: ${[ai.vendor, ai.architecture, ai.device, ai.description].filter(Boolean).join(' ')}` +
    (adapter.features.has('shader-f16') ? ' (shader-f16)' : ''));
  return { adapter, device };
}
