// gemm: y = x · Wᵀ + b (ONNX Gemm with transB = 1, alpha = beta = 1), x
// [M, K], W [N, K] as stored by PyTorch's Linear.  One workgroup of 64
// threads per output element: each thread sums a strided slice of K, then
// a tree reduction (K is long, M·N small in the wake-word heads).
//
// @group(0) @binding(0) x: array<real> [M, K]
// @group(0) @binding(1) w: array<real> [N, K]
// @group(0) @binding(2) b: array<real> [N]
// @group(0) @binding(3) y: array<real> [M, N] output
// @group(0) @binding(4) params: Params
//
// Params:
//   M, N, K: u32
//
// Dispatch: M·N workgroups as (x, 1, 1), x ≤ 65535.

alias real = f32;

struct Params {
  M: u32,
  N: u32,
  K: u32,
}

@group(0) @binding(0) var<storage, read> x: array<real>;
@group(0) @binding(1) var<storage, read> w: array<real>;
@group(0) @binding(2) var<storage, read> b: array<real>;
@group(0) @binding(3) var<storage, read_write> y: array<real>;
@group(0) @binding(4) var<uniform> params: Params;

const WG = 64u;
var<workgroup> red: array<f32, 64>;

@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_id) lid3: vec3u) {
  let o = wid.x;
  let lid = lid3.x;
  if (o >= params.M * params.N) {
    return;
  }
  let m = o / params.N;
  let n = o % params.N;
  var acc = 0.0;
  for (var k = lid; k < params.K; k += WG) {
    acc += f32(x[m * params.K + k]) * f32(w[n * params.K + k]);
  }
  red[lid] = acc;
  workgroupBarrier();
  for (var h = WG / 2u; h > 0u; h /= 2u) {
    if (lid < h) {
      red[lid] += red[lid + h];
    }
    workgroupBarrier();
  }
  if (lid == 0u) {
    y[o] = real(red[0] + f32(b[n]));
  }
}
