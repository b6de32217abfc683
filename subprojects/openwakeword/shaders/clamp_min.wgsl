// clampMin: y = max(x, lo), elementwise (ONNX Max with a scalar constant).
//
// @group(0) @binding(0) x: array<real> [n] input, any shape
// @group(0) @binding(1) y: array<real> [n] output, same shape
// @group(0) @binding(2) params: Params
//
// Params:
//   n: u32            elements
//   lo: f32           the constant
//
// Dispatch: ceil(n / 256) workgroups as (x, y, 1), x ≤ 65535; the linear
// index is gid.x + gid.y · x · 256.

alias real = f32;

struct Params {
  n: u32,
  lo: f32,
}

@group(0) @binding(0) var<storage, read> x: array<real>;
@group(0) @binding(1) var<storage, read_write> y: array<real>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= params.n) {
    return;
  }
  y[i] = max(x[i], real(params.lo));
}
