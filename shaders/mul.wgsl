// mul: out = a · b with NumPy broadcasting over up to 8 dimensions.
// The host gives the output shape and, per output dimension, the element
// stride of each input (0 where that input is broadcast), outermost first.
// Same-shape inputs: rank 1, shape [n], strides [1].
//
// @group(0) @binding(0) a: array<real> first input, any shape broadcastable to out
// @group(0) @binding(1) b: array<real> second input, likewise
// @group(0) @binding(2) out: array<real> [shape] output, n elements
// @group(0) @binding(3) params: Params
//
// Params:
//   n: u32                          output elements (product of shape)
//   rank: u32                       dimensions used, 1..8
//   shape: array<vec4u, 2>          output dims, outermost first, 4 per vec4
//   aStrides, bStrides: array<vec4u, 2>  input strides per output dim
//
// Dispatch: ceil(n / 256) workgroups as (x, y, 1), x ≤ 65535; the linear
// index is gid.x + gid.y · x · 256.

alias real = f32;

struct Params {
  n: u32,
  rank: u32,
  shape: array<vec4u, 2>,
  aStrides: array<vec4u, 2>,
  bStrides: array<vec4u, 2>,
}

@group(0) @binding(0) var<storage, read> a: array<real>;
@group(0) @binding(1) var<storage, read> b: array<real>;
@group(0) @binding(2) var<storage, read_write> out: array<real>;
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= params.n) {
    return;
  }
  var rem = i;
  var ai = 0u;
  var bi = 0u;
  for (var d = min(params.rank, 8u); d > 0u; d--) {
    let k = d - 1u;
    let dim = params.shape[k / 4u][k % 4u];
    let coord = rem % dim;
    rem = rem / dim;
    ai += coord * params.aStrides[k / 4u][k % 4u];
    bi += coord * params.bStrides[k / 4u][k % 4u];
  }
  out[i] = a[ai] * b[bi];
}
