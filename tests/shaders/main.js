// The test page's entry: runs suite-run.js (or, in mode 'bench', bench.js)
// on the page's WebGPU device.  run-browser.mjs calls window.m2wRun and
// prints what the page logs.
import * as shaders from '/shaders.ts';
import { openDevice, runTests } from './suite-run.js';

const log = (s) => console.log(s);

window.m2wRun = async (opts) => {
  if (!navigator.gpu) throw new Error('no navigator.gpu (WebGPU disabled?)');
  const { adapter, device } = await openDevice(navigator.gpu, log);
  if (opts.mode === 'bench') {
    const { runBench } = await import('./bench.js');
    return runBench(device, shaders, log, opts);
  }
  return runTests(device, adapter, shaders, opts, log);
};
