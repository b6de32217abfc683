// linearQ4: y[t, n] = Σ_k x[t, k] · W[n, k] (+ bias[n]) with W in m2w-pack's
// Q4_0 layout, dequantised on the fly (the weights stay quantised on the GPU).
// Q4_0 packed: each block of 32 weights is 5 u32: word 0 the scale as f32
// bits, words 1..4 ggml's 16 bvs of nibbles as little-endian u32 (bv j
// in bv j % 4 of word 1 + j / 4).  Byte j holds weight j in its low nibble
// and weight j + 16 in its high one; weight = scale · (nibble − 8).
// Row n of W (K weights) is K / 32 consecutive blocks.  One workgroup of
// 64 per output (n, t): threads take blocks in turn, then a tree reduce.
//
// @group(0) @binding(0) x: array<real> [T, K] activations
// @group(0) @binding(1) wq: array<u32> [N, K / 32, 5] Q4_0 packed weights
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
    let blk = (n * blocks + bi) * 5u;
    let xo = t * params.K + bi * 32u;
    var d = 0.0;
    for (var w = 0u; w < 4u; w++) {
      let q = wq[blk + 1u + w];
      for (var b = 0u; b < 4u; b++) {
        let bv = (q >> (8u * b)) & 0xffu;
        let j = 4u * w + b;
        d += f32(x[xo + j]) * (f32(bv & 0xfu) - 8.0) + f32(x[xo + j + 16u]) * (f32(bv >> 4u) - 8.0);
      }
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
