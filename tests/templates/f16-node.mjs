#!/usr/bin/env node
// The runtime's shader-f16 path on an adapter that has the feature: Dawn for
// Node (npm `webgpu`) on Mesa lavapipe 25, as tests/shaders/fetch-f16.sh
// installs them.  Bundles templates/runtime with the toolchain's esbuild and
// checks that initDevice enables f16 after the two-pass check, that
// wantF16: false leaves it off, and that checkF16 fails (non-empty reason)
// on a device without the feature, i.e. the check can detect a failure.
//
// usage: f16-node.mjs WORKDIR --webgpu DIR [--toolchain NODE_MODULES]
// DIR holds node_modules/webgpu; VK_ICD_FILENAMES names lavapipe's ICD.
// Exits 77 (skipped) when Dawn, lavapipe or the toolchain is missing.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const templates = path.resolve(here, '../../templates');
const args = process.argv.slice(2);
const opt = {};
let work = null;
for (let i = 0; i < args.length; i++) {
  if (args[i].startsWith('--')) opt[args[i].slice(2)] = args[++i];
  else work = args[i];
}
if (!work || !opt.webgpu) {
  console.error('usage: f16-node.mjs WORKDIR --webgpu DIR [--toolchain NODE_MODULES]');
  process.exit(2);
}
const toolchain = path.resolve(opt.toolchain || path.join(templates, 'toolchain/node_modules'));
const dawn = path.join(opt.webgpu, 'node_modules/webgpu/index.js');
const icd = process.env.VK_ICD_FILENAMES || '';
for (const [f, why] of [[path.join(toolchain, 'esbuild/package.json'), 'run `npm ci` in templates/toolchain'],
  [dawn, 'run tests/shaders/fetch-f16.sh'], [icd, 'VK_ICD_FILENAMES (lavapipe) is unset or missing; run tests/shaders/fetch-f16.sh']]) {
  if (!f || !fs.existsSync(f)) {
    console.log(`SKIP: ${f || 'lavapipe ICD'} is missing: ${why}`);
    process.exit(77);
  }
}
fs.mkdirSync(work, { recursive: true });
const bundle = path.join(path.resolve(work), 'runtime.js');
const esbuild = createRequire(path.join(toolchain, 'x.js'))('esbuild');
esbuild.buildSync({ entryPoints: [path.join(templates, 'runtime/index.ts')], bundle: true, format: 'esm',
  target: 'es2022', outfile: bundle, logLevel: 'error' });

const { create, globals } = await import(pathToFileURL(dawn).href);
Object.assign(globalThis, globals);
const rt = await import(pathToFileURL(bundle).href);
const gpu = create([]);
let failures = 0;
const check = (ok, what) => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures++;
};
const adapter = await gpu.requestAdapter();
if (!adapter || !adapter.features.has('shader-f16')) {
  console.log('SKIP: the adapter has no shader-f16 (is VK_ICD_FILENAMES lavapipe 25?)');
  process.exit(77);
}
const on = await rt.initDevice({ gpu });
check(on.f16 === true && on.f16Reason === '' && on.device.features.has('shader-f16'),
  `initDevice on ${on.adapterInfo.description}: f16 ${on.f16} after the two-pass check`);
check(on.limits.maxStorageBufferBindingSize === adapter.limits.maxStorageBufferBindingSize,
  `limits at the adapter's: maxStorageBufferBindingSize ${on.limits.maxStorageBufferBindingSize}`);
const off = await rt.initDevice({ gpu, wantF16: false });
check(off.f16 === false && off.f16Reason === 'not requested' && !off.device.features.has('shader-f16'),
  `initDevice wantF16 false: f16 ${off.f16} (${off.f16Reason})`);
const reason = await rt.checkF16(off.device);
check(reason !== '', `checkF16 on a device without shader-f16 fails: ${reason.split('\n')[0].slice(0, 100)}`);
on.destroy();
off.destroy();
console.log(failures ? `${failures} checks failed` : 'all checks passed');
process.exit(failures ? 1 : 0);
