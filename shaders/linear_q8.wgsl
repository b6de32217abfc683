// linearQ8: y[t, n] = Σ_k x[t, k] · W[n, k] (+ bias[n]) with W in m2w-pack's
// Q8_0 layout, dequantised on the fly (the weights stay quantised on the GPU).
// Q8_0 packed: each block of 32 weights is 9 u32: word 0 the scale as f32
// bits, words 1..8 the 32 int8 quants, four per word, little-endian (quant
// 4w + b in bv b of word 1 + w); weight = scale · quant.
// Row n of W (K weights) is K / 32 consecutive blocks.  One workgroup of
// 64 per output (n, t): threads take blocks in turn, then a tree reduce.
//
// @group(0) @binding(0) x: array<real> [T, K] activations
// @group(0) @binding(1) wq: array<u32> [N, K / 32, 9] Q8_0 packed weights
// @group(0) @binding(2) bias: array<real> [N] (read only when hasBias = 1)
// @group(0) @binding(3) y: array<real> [T, N] output
// @group(0) @binding(4) params: Params
//
// Params:
//   T: u32         rows of x (tokens)
//   N: u32         output features (rows of W)
//   K: u32         input features, a multiple of 32
//   hasBias: u32   1: add bias
//
// Dispatch: T·N workgroups as (x, y, 1), x ≤ 65535; g = wid.x + wid.y · x,
// n = g mod N, t = g / N.

alias real = f32;

struct Params {
  T: u32,
  N: u32,
  K: u32,
  hasBias: u32,
}

@group(0) @binding(0) var<storage, read> x: array<real>;
@group(0) @binding(1) var<storage, read> wq: array<u32>;
@group(0) @binding(2) var<storage, read> bias: array<real>;
@group(0) @binding(3) var<storage, read_write> y: array<real>;
@group(0) @binding(4) var<uniform> params: Params;

const WG = 64u;
var<workgroup> red: array<f32, 64>;

@compute @workgroup_size(64)
fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u,
        @builtin(num_workgroups) nwg: vec3u) {
  let g = wid.x + wid.y * nwg.x;
  if (g >= params.T * params.N) {
    return;
  }
  let n = g % params.N;
  let t = g / params.N;
  let blocks = params.K / 32u;
  var s = 0.0;
  for (var bi = lid.x; bi < blocks; bi += WG) {
    let blk = (n * blocks + bi) * 9u;
    let xo = t * params.K + bi * 32u;
    var d = 0.0;
    for (var w = 0u; w < 8u; w++) {
      let q = bitcast<i32>(wq[blk + 1u + w]);
      let xb = xo + 4u * w;
      d += f32(x[xb]) * f32((q << 24u) >> 24u) + f32(x[xb + 1u]) * f32((q << 16u) >> 24u) +
           f32(x[xb + 2u]) * f32((q << 8u) >> 24u) + f32(x[xb + 3u]) * f32(q >> 24u);
    }
    s += bitcast<f32>(wq[blk]) * d;
  }
  red[lid.x] = s;
  workgroupBarrier();
  for (var h = WG / 2u; h > 0u; h /= 2u) {
    if (lid.x < h) {
      red[lid.x] += red[lid.x + h];
    }
    workgroupBarrier();
  }
  if (lid.x == 0u) {
    var v = red[0];
    if (params.hasBias == 1u) {
      v += f32(bias[n]);
    }
    y[t * params.N + n] = real(v);
  }
}
