// gemm: y = x · Wᵀ + b (ONNX Gemm with transB = 1, alpha = beta = 1), x
// [M, K], W [N, K] as stored by PyTorch's Linear.  One invocation per
// output element, a serial dot product over K in four interleaved partial
// sums (k ≡ 0, 1, 2, 3 mod 4, added at the end).  In the wake-word heads
// M = 1: every invocation reads the same x (one broadcast load on a CPU
// adapter) and its own row of W.  An earlier version (a 64-thread
// workgroup per output with a tree reduction) spent most of its time in
// barriers on SwiftShader: 14 ms for 1536 → 128 against about 1 ms now.
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
// Dispatch: ceil(M·N / 64) workgroups as (x, 1, 1).

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

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let o = gid.x;
  if (o >= params.M * params.N) {
    return;
  }
  let K = params.K;
  let xr = (o / params.N) * K;
  let wr = (o % params.N) * K;
  var s0 = 0.0;
  var s1 = 0.0;
  var s2 = 0.0;
  var s3 = 0.0;
  let K4 = K & ~3u;
  for (var k = 0u; k < K4; k += 4u) {
    s0 += f32(x[xr + k]) * f32(w[wr + k]);
    s1 += f32(x[xr + k + 1u]) * f32(w[wr + k + 1u]);
    s2 += f32(x[xr + k + 2u]) * f32(w[wr + k + 2u]);
    s3 += f32(x[xr + k + 3u]) * f32(w[wr + k + 3u]);
  }
  for (var k = K4; k < K; k++) {
    s0 += f32(x[xr + k]) * f32(w[wr + k]);
  }
  y[o] = real((s0 + s1) + (s2 + s3) + f32(b[o % params.N]));
}
