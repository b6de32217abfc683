// tsup build of an m2w model package: src/index.ts -> dist/index.js (ESM,
// minified, tree-shaken, ES2022) + dist/index.d.ts.  Run in the staged
// package directory, whose node_modules is (a link to) the m2w toolchain
// (templates/toolchain/node_modules): tsconfig.json's "types":
// ["@webgpu/types"] resolves there.  No source maps and no banner with a
// date, so two builds give the same bytes.
import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm'],
  dts: true,
  minify: true,
  treeshake: true,
  target: 'es2022',
  platform: 'browser',
  clean: true,
  splitting: false,
  sourcemap: false,
  outDir: 'dist',
});
