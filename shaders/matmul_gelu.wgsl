// matmulGelu: C = gelu(A · B + bias), the tiled matmul of matmul.wgsl with
// the bias add and the activation fused into the store (an MLP's first
// layer).  gelu as in gelu.wgsl: approximate 0 erf, 1 tanh form.
// Each workgroup computes one 16×16 tile of C.  K is walked 16 at a time:
// every thread loads one element of A's tile and one of B's into workgroup
// memory (zero outside the matrices, so M, N, K need not be multiples of 16),
// then accumulates 16 products from the shared tiles.  Accumulates in f32.
//
// @group(0) @binding(0) a: array<real> [batch, M, K], batch stride aStride
// @group(0) @binding(1) b: array<real> [batch, K, N], batch stride bStride (0 shares one B)
// @group(0) @binding(2) bias: array<real> [N] (read only when hasBias = 1)
// @group(0) @binding(3) c: array<real> [batch, M, N] output
// @group(0) @binding(4) params: Params
//
// Params:
//   M, N, K: u32           C is M×N; K the shared dimension
//   batch: u32             matrices in the batch
//   aStride, bStride: u32  elements from one A (B) matrix to the next
//   hasBias: u32           1: add bias[col]
//   approximate: u32       0 erf gelu, 1 tanh gelu
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
  hasBias: u32,
  approximate: u32,
}

@group(0) @binding(0) var<storage, read> a: array<real>;
@group(0) @binding(1) var<storage, read> b: array<real>;
@group(0) @binding(2) var<storage, read> bias: array<real>;
@group(0) @binding(3) var<storage, read_write> c: array<real>;
@group(0) @binding(4) var<uniform> params: Params;

fn erf(v: f32) -> f32 {
  // Abramowitz & Stegun 7.1.26, |error| ≤ 1.5e-7
  let t = 1.0 / (1.0 + 0.3275911 * abs(v));
  let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return sign(v) * (1.0 - poly * exp(-min(v * v, 88.0)));
}

fn gelu(v: f32, approximate: u32) -> f32 {
  if (approximate == 1u) {
    let u = 0.7978845608028654 * (v + 0.044715 * v * v * v);
    return 0.5 * v * (1.0 + tanh(clamp(u, -44.0, 44.0)));
  }
  return 0.5 * v * (1.0 + erf(v * 0.7071067811865476));
}

const TILE = 16u;
var<workgroup> tileA: array<array<f32, 16>, 16>;
var<workgroup> tileB: array<array<f32, 16>, 16>;

@compute @workgroup_size(16, 16)
fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u) {
  // Whole-workgroup bounds check (uniform, so the barriers below stay legal);
  // per-thread checks guard the loads and the store.
  if (wid.z >= params.batch || wid.y * TILE >= params.M || wid.x * TILE >= params.N) {
    return;
  }
  let row = wid.y * TILE + lid.y;
  let col = wid.x * TILE + lid.x;
  let aBase = wid.z * params.aStride;
  let bBase = wid.z * params.bStride;
  var acc = 0.0;
  for (var k0 = 0u; k0 < params.K; k0 += TILE) {
    let ka = k0 + lid.x;
    var av = 0.0;
    if (row < params.M && ka < params.K) {
      av = f32(a[aBase + row * params.K + ka]);
    }
    tileA[lid.y][lid.x] = av;
    let kb = k0 + lid.y;
    var bv = 0.0;
    if (kb < params.K && col < params.N) {
      bv = f32(b[bBase + kb * params.N + col]);
    }
    tileB[lid.y][lid.x] = bv;
    workgroupBarrier();
    for (var k = 0u; k < TILE; k++) {
      acc += tileA[lid.y][k] * tileB[k][lid.x];
    }
    workgroupBarrier();
  }
  if (row < params.M && col < params.N) {
    if (params.hasBias == 1u) {
      acc += f32(bias[col]);
    }
    c[wid.z * params.M * params.N + row * params.N + col] = real(gelu(acc, params.approximate));
  }
}
