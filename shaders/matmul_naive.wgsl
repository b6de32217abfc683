// matmulNaive: C = A · B, one thread per output element, no shared memory.
// The baseline the tiled matmul is benchmarked against; also a plain
// fallback.  Accumulates in f32.
//
// @group(0) @binding(0) a: array<real> [batch, M, K], batch stride aStride
// @group(0) @binding(1) b: array<real> [batch, K, N], batch stride bStride (0 shares one B)
// @group(0) @binding(2) c: array<real> [batch, M, N] output
// @group(0) @binding(3) params: Params
//
// Params:
//   M, N, K: u32           C is M×N; K the shared dimension
//   batch: u32             matrices in the batch
//   aStride, bStride: u32  elements from one A (B) matrix to the next
//
// Dispatch: (ceil(N / 16), ceil(M / 16), batch).

alias real = f32;

struct Params {
  M: u32,
  N: u32,
  K: u32,
  batch: u32,
  aStride: u32,
  bStride: u32,
}

@group(0) @binding(0) var<storage, read> a: array<real>;
@group(0) @binding(1) var<storage, read> b: array<real>;
@group(0) @binding(2) var<storage, read_write> c: array<real>;
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(16, 16)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let row = gid.y;
  let col = gid.x;
  if (row >= params.M || col >= params.N || gid.z >= params.batch) {
    return;
  }
  let aRow = gid.z * params.aStride + row * params.K;
  let bBase = gid.z * params.bStride + col;
  var acc = 0.0;
  for (var k = 0u; k < params.K; k++) {
    acc += f32(a[aRow + k]) * f32(b[bBase + k * params.N]);
  }
  c[gid.z * params.M * params.N + row * params.N + col] = real(acc);
}
