#!/usr/bin/env node
// The same shader tests (or the benchmark) on Dawn for Node: npm `webgpu`
// on whatever Vulkan driver the environment selects — Mesa lavapipe >= 25
// (which reports shader-f16, so the F16 variants run too) or a real GPU.
//
// usage: run-node.mjs SHADERS.ts --webgpu DIR [--bench] [--sizes 512,1024]
//                     [--filter a,b] [--verbose] [--no-f16]
// DIR is a folder whose node_modules holds `webgpu`.  VK_ICD_FILENAMES
// (and LD_LIBRARY_PATH for a private libvulkan) choose the driver.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const args = process.argv.slice(2);
const opts = { mode: 'test', verbose: false };
let shadersPath = null, webgpuDir = null;
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--bench') opts.mode = 'bench';
  else if (a === '--verbose') opts.verbose = true;
  else if (a === '--no-f16') opts.f16 = false;
  else if (a === '--filter') opts.filter = args[++i];
  else if (a === '--sizes') opts.sizes = args[++i].split(',').map(Number);
  else if (a === '--webgpu') webgpuDir = args[++i];
  else if (!shadersPath) shadersPath = a;
  else {
    console.error(`run-node: unexpected argument ${a}`);
    process.exit(2);
  }
}
if (!shadersPath || !webgpuDir) {
  console.error('usage: run-node.mjs SHADERS.ts --webgpu DIR [--bench] [--filter a,b] [--verbose]');
  process.exit(2);
}
// Not installed: a skip (exit 77 for Meson) with the reason, not a failure.
const icd = process.env.VK_ICD_FILENAMES;
const missing = !fs.existsSync(path.join(webgpuDir, 'node_modules/webgpu/index.js')) ? webgpuDir + '/node_modules/webgpu'
  : icd && !fs.existsSync(icd) ? icd : null;
if (missing) {
  console.log(`skipped: ${missing} not installed (tests/shaders/fetch-f16.sh installs it)`);
  process.exit(77);
}

const { create, globals } = await import(pathToFileURL(path.join(webgpuDir, 'node_modules/webgpu/index.js')).href);
Object.assign(globalThis, globals); // GPUBufferUsage, GPUMapMode, ...
// The generated module is plain JavaScript; Node wants an .mjs name for it.
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'm2w-shaders-'));
const mod = path.join(tmp, 'shaders.mjs');
fs.copyFileSync(shadersPath, mod);
const shaders = await import(pathToFileURL(mod).href);
const { openDevice, runTests } = await import('./suite-run.js');

const log = (s) => console.log(s);
// Held for the whole run: once the instance is collected, Dawn tears down
// the adapter and device under the running tests.
const gpu = create([]);
let ok = false;
try {
  const { adapter, device } = await openDevice(gpu, log);
  if (opts.mode === 'bench') {
    const { runBench } = await import('./bench.js');
    ok = await runBench(device, shaders, log, opts);
  } else {
    ok = await runTests(device, adapter, shaders, opts, log);
  }
  device.destroy();
  globalThis.m2wGpu = gpu;
} catch (e) {
  console.error('run-node: ' + (e && e.message ? e.message : e));
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
process.exit(ok ? 0 : 1);
