// matmul: C = A · B for a batch of row-major matrices, tiled in workgroup
// memory.  A 16×16 workgroup computes a 64×64 tile of C, each thread a 4×4
// block (rows ly + 16i, columns lx + 16j, so loads and stores stay
// contiguous across the workgroup).  K is walked 16 at a time: the
// workgroup loads A's 64×16 and B's 16×64 tiles (4 elements per thread,
// zero outside the matrices, so M, N, K need not be multiples of anything),
// then each thread does 16 rank-1 updates of its block from them — 16 FMAs
// per 8 shared-memory reads, 1024 FMAs per barrier pair.  Accumulates in f32.
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
// Dispatch: (ceil(N / 64), ceil(M / 64), batch).

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

const TK = 16u;
const TMN = 64u;
var<workgroup> tileA: array<array<f32, 16>, 64>; // [row][k]
var<workgroup> tileB: array<array<f32, 64>, 16>; // [k][col]

@compute @workgroup_size(16, 16)
fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  // Whole-workgroup bounds check (uniform, so the barriers below stay legal);
  // per-element checks guard the loads and the stores.
  if (wid.z >= params.batch || wid.y * TMN >= params.M || wid.x * TMN >= params.N) {
    return;
  }
  let row0 = wid.y * TMN;
  let col0 = wid.x * TMN;
  let aBase = wid.z * params.aStride;
  let bBase = wid.z * params.bStride;
  let e = lid.y * 16u + lid.x;
  var acc: array<vec4f, 4>;
  for (var k0 = 0u; k0 < params.K; k0 += TK) {
    for (var q = 0u; q < 4u; q++) {
      let f = e + q * 256u;
      let ar = f / TK;
      let ak = f % TK;
      var av = 0.0;
      if (row0 + ar < params.M && k0 + ak < params.K) {
        av = f32(a[aBase + (row0 + ar) * params.K + k0 + ak]);
      }
      tileA[ar][ak] = av;
      let bk = f / TMN;
      let bc = f % TMN;
      var bv = 0.0;
      if (k0 + bk < params.K && col0 + bc < params.N) {
        bv = f32(b[bBase + (k0 + bk) * params.N + col0 + bc]);
      }
      tileB[bk][bc] = bv;
    }
    workgroupBarrier();
    for (var k = 0u; k < TK; k++) {
      let bv = vec4f(tileB[k][lid.x], tileB[k][lid.x + 16u], tileB[k][lid.x + 32u], tileB[k][lid.x + 48u]);
      for (var i = 0u; i < 4u; i++) {
        acc[i] += tileA[lid.y + 16u * i][k] * bv;
      }
    }
    workgroupBarrier();
  }
  let cBase = wid.z * params.M * params.N;
  for (var i = 0u; i < 4u; i++) {
    let row = row0 + lid.y + 16u * i;
    for (var j = 0u; j < 4u; j++) {
      let col = col0 + lid.x + 16u * j;
      if (row < params.M && col < params.N) {
        c[cBase + row * params.N + col] = real(acc[i][j]);
      }
    }
  }
}
