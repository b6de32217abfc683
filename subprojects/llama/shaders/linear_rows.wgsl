// linearRows: y[t, n] = Σ_k x[t, k] · W[n, k], one invocation per output,
// each walking the whole row: the layout for short rows (K / 32 below the
// 64 threads linearQ8 / linearQ4 / linearFloat give each output, which
// would leave most of their workgroup idle) and for wide outputs such as
// the LM head.  W is bound as u32 words in one of four layouts: f32 bits,
// f16 pairs, or m2w-pack's Q8_0 (9 u32 a 32-block: f32 scale bits, then
// the int8 quants four per word, little-endian) or Q4_0 (5 u32 a block:
// f32 scale bits, then ggml's 16 nibble bytes; byte j holds weight j low,
// j + 16 high; weight = scale · (nibble − 8)).
//
// @group(0) @binding(0) x: array<real> [T, K] activations
// @group(0) @binding(1) w: array<u32> [N, K] in the kind's layout
// @group(0) @binding(2) y: array<real> [T, N] output
// @group(0) @binding(3) params: Params
//
// Params:
//   T: u32      rows of x (tokens)
//   N: u32      output features (rows of W)
//   K: u32      input features, a multiple of 32
//   kind: u32   0 f32, 1 f16, 2 Q8_0, 3 Q4_0
//
// Dispatch: ceil(T·N / 64) workgroups as (x, y, 1), x ≤ 65535; the output
// index is gid.x + gid.y · x · 64, n = index mod N, t = index / N.

alias real = f32;

struct Params {
  T: u32,
  N: u32,
  K: u32,
  kind: u32,
}

@group(0) @binding(0) var<storage, read> x: array<real>;
@group(0) @binding(1) var<storage, read> w: array<u32>;
@group(0) @binding(2) var<storage, read_write> y: array<real>;
@group(0) @binding(3) var<uniform> params: Params;

fn sx8(q: i32, b: u32) -> f32 {
  return f32((q << (24u - 8u * b)) >> 24u);
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 64u;
  if (i >= params.T * params.N) {
    return;
  }
  let n = i % params.N;
  let t = i / params.N;
  let blocks = params.K / 32u;
  let xo = t * params.K;
  var s = 0.0;
  for (var bi = 0u; bi < blocks; bi++) {
    let xb = xo + bi * 32u;
    var d = 0.0;
    if (params.kind == 0u) {
      let wo = n * params.K + bi * 32u;
      for (var j = 0u; j < 32u; j++) {
        d += f32(x[xb + j]) * bitcast<f32>(w[wo + j]);
      }
      s += d;
    } else if (params.kind == 1u) {
      let wo = (n * params.K + bi * 32u) / 2u;
      for (var j = 0u; j < 16u; j++) {
        let p = unpack2x16float(w[wo + j]);
        d += f32(x[xb + 2u * j]) * p.x + f32(x[xb + 2u * j + 1u]) * p.y;
      }
      s += d;
    } else if (params.kind == 2u) {
      let blk = (n * blocks + bi) * 9u;
      for (var j = 0u; j < 8u; j++) {
        let q = bitcast<i32>(w[blk + 1u + j]);
        let xj = xb + 4u * j;
        d += f32(x[xj]) * sx8(q, 0u) + f32(x[xj + 1u]) * sx8(q, 1u) + f32(x[xj + 2u]) * sx8(q, 2u) + f32(x[xj + 3u]) * sx8(q, 3u);
      }
      s += bitcast<f32>(w[blk]) * d;
    } else {
      let blk = (n * blocks + bi) * 5u;
      for (var j = 0u; j < 4u; j++) {
        let q = w[blk + 1u + j];
        for (var b = 0u; b < 4u; b++) {
          let bv = (q >> (8u * b)) & 0xffu;
          let e = 4u * j + b;
          d += f32(x[xb + e]) * (f32(bv & 0xfu) - 8.0) + f32(x[xb + e + 16u]) * (f32(bv >> 4u) - 8.0);
        }
      }
      s += bitcast<f32>(w[blk]) * d;
    }
  }
  y[i] = real(s);
}
