// prelu: y = x for x ≥ 0, slope[c] · x below, with one slope per channel
// (ONNX PRelu with a [C] or [C, 1, 1] slope; C = 1 for a single slope).
// The channel of element i is (i / inner) mod C.
//
// @group(0) @binding(0) x: array<real> [outer, C, inner] input
// @group(0) @binding(1) slope: array<real> [C]
// @group(0) @binding(2) y: array<real> [outer, C, inner] output
// @group(0) @binding(3) params: Params
//
// Params:
//   n: u32       elements
//   C: u32       channels (slopes)
//   inner: u32   elements per channel per outer index (H·W for NCHW)
//
// Dispatch: ceil(n / 256) workgroups as (x, y, 1), x ≤ 65535.

alias real = f32;

struct Params {
  n: u32,
  C: u32,
  inner: u32,
}

@group(0) @binding(0) var<storage, read> x: array<real>;
@group(0) @binding(1) var<storage, read> slope: array<real>;
@group(0) @binding(2) var<storage, read_write> y: array<real>;
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= params.n) {
    return;
  }
  let v = f32(x[i]);
  let c = (i / params.inner) % params.C;
  y[i] = real(select(f32(slope[c]) * v, v, v >= 0.0));
}
