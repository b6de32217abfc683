// linearFloat: y[t, n] = Σ_k x[t, k] · W[n, k] with W row-major [N, K] in
// f32 or f16 storage, bound as u32 words (so an f16 GGUF tensor stays f16
// on the GPU without the shader-f16 feature: unpack2x16float widens two
// weights from one word).  One workgroup of 64 per output (n, t): threads
// take 32-weight slices in turn, then a tree reduce, as linearQ8 does.
//
// @group(0) @binding(0) x: array<real> [T, K] activations
// @group(0) @binding(1) w: array<u32> [N, K] weights: f32 bits, or f16 pairs (kind 1)
// @group(0) @binding(2) y: array<real> [T, N] output
// @group(0) @binding(3) params: Params
//
// Params:
//   T: u32      rows of x (tokens)
//   N: u32      output features (rows of W)
//   K: u32      input features, a multiple of 32
//   kind: u32   0 f32 weights, 1 f16 weights
//
// Dispatch: T·N workgroups as (x, y, 1), x ≤ 65535; g = wid.x + wid.y · x,
// n = g mod N, t = g / N.

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
  let slices = params.K / 32u;
  var s = 0.0;
  for (var bi = lid.x; bi < slices; bi += WG) {
    let xo = t * params.K + bi * 32u;
    let wo = n * params.K + bi * 32u;
    if (params.kind == 0u) {
      for (var j = 0u; j < 32u; j++) {
        s += f32(x[xo + j]) * bitcast<f32>(w[wo + j]);
      }
    } else {
      for (var j = 0u; j < 32u; j += 2u) {
        let p = unpack2x16float(w[(wo + j) / 2u]);
        s += f32(x[xo + j]) * p.x + f32(x[xo + j + 1u]) * p.y;
      }
    }
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
    y[t * params.N + n] = real(red[0]);
  }
}
