// matmulVec4: C = A · B for a batch of row-major matrices with B and C read
// and written as vec4 (N a multiple of 4).  Tiled like matmul.wgsl: a
// 16×16 workgroup computes a 16-row × 64-column tile of C, one vec4 per
// thread; K is walked 16 at a time through workgroup memory (A's 16×16
// tile as scalars, B's 16×64 tile as vec4).  Accumulates in f32.
//
// @group(0) @binding(0) a: array<real> [batch, M, K], batch stride aStride
// @group(0) @binding(1) b: array<vec4<real>> [batch, K, N / 4], batch stride bStride vec4s (0 shares one B)
// @group(0) @binding(2) c: array<vec4<real>> [batch, M, N / 4] output
// @group(0) @binding(3) params: Params
//
// Params:
//   M, N, K: u32           C is M×N (N a multiple of 4); K the shared dimension
//   batch: u32
//   aStride: u32           elements from one A matrix to the next
//   bStride: u32           vec4s from one B matrix to the next
//
// Dispatch: (ceil(N / 64), ceil(M / 16), batch).

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
@group(0) @binding(1) var<storage, read> b: array<vec4<real>>;
@group(0) @binding(2) var<storage, read_write> c: array<vec4<real>>;
@group(0) @binding(3) var<uniform> params: Params;

const TILE = 16u;
var<workgroup> tileA: array<array<f32, 16>, 16>;
var<workgroup> tileB: array<array<vec4f, 16>, 16>;

@compute @workgroup_size(16, 16)
fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let n4 = params.N / 4u;
  if (wid.z >= params.batch || wid.y * TILE >= params.M || wid.x * TILE >= n4) {
    return;
  }
  let row = wid.y * TILE + lid.y;
  let col = wid.x * TILE + lid.x; // in vec4s
  let aBase = wid.z * params.aStride;
  let bBase = wid.z * params.bStride;
  var acc = vec4f(0.0);
  for (var k0 = 0u; k0 < params.K; k0 += TILE) {
    let ka = k0 + lid.x;
    var av = 0.0;
    if (row < params.M && ka < params.K) {
      av = f32(a[aBase + row * params.K + ka]);
    }
    tileA[lid.y][lid.x] = av;
    let kb = k0 + lid.y;
    var bv = vec4f(0.0);
    if (kb < params.K && col < n4) {
      bv = vec4f(b[bBase + kb * n4 + col]);
    }
    tileB[lid.y][lid.x] = bv;
    workgroupBarrier();
    for (var k = 0u; k < TILE; k++) {
      acc += tileA[lid.y][k] * tileB[k][lid.x];
    }
    workgroupBarrier();
  }
  if (row < params.M && col < n4) {
    c[wid.z * params.M * n4 + row * n4 + col] = vec4<real>(acc);
  }
}
