// binaryOp: out = f(a, b) with NumPy broadcasting over up to 8 dimensions,
// f picked by params.op (add.wgsl's indexing).  The host gives the output
// shape and, per output dimension, the element stride of each input (0
// where that input is broadcast), outermost first.  Same-shape inputs:
// rank 1, shape [n], strides [1].
//
//   op  f(a, b)
//   0   a + b
//   1   a − b
//   2   a / b
//   3   a^b (negative a with an integer b keeps the sign of an odd power;
//       0^negative is +inf, negative^fraction NaN)
//   4   max(a, b), NaN if either is NaN
//   5   min(a, b), NaN if either is NaN
//   6   a · b
//   7   fmod: a − b · trunc(a / b), sign of a (ONNX Mod, fmod = 1)
//   8   a < 0 ? a · b : a (PRelu with any broadcast slope)
//
// @group(0) @binding(0) a: array<real> first input, any shape broadcastable to out
// @group(0) @binding(1) b: array<real> second input, likewise
// @group(0) @binding(2) out: array<real> [shape] output, n elements
// @group(0) @binding(3) params: Params
//
// Params:
//   n: u32                          output elements (product of shape)
//   rank: u32                       dimensions used, 1..8
//   op: u32                         which f, from the table above
//   shape: array<vec4u, 2>          output dims, outermost first, 4 per vec4
//   aStrides, bStrides: array<vec4u, 2>  input strides per output dim
//
// Dispatch: ceil(n / 256) workgroups as (x, y, 1), x ≤ 65535; the linear
// index is gid.x + gid.y · x · 256.

alias real = f32;

struct Params {
  n: u32,
  rank: u32,
  op: u32,
  shape: array<vec4u, 2>,
  aStrides: array<vec4u, 2>,
  bStrides: array<vec4u, 2>,
}

@group(0) @binding(0) var<storage, read> a: array<real>;
@group(0) @binding(1) var<storage, read> b: array<real>;
@group(0) @binding(2) var<storage, read_write> out: array<real>;
@group(0) @binding(3) var<uniform> params: Params;

fn powf(x: f32, e: f32) -> f32 {
  if (e == 0.0) {
    return 1.0;
  }
  if (x == 0.0) {
    return select(0.0, 1.0 / abs(x), e < 0.0);  // x is a runtime 0: 1/0 is +inf
  }
  if (x > 0.0) {
    return pow(x, e);
  }
  if (floor(e) != e) {
    let zero = x - x;
    return zero / zero;  // NaN
  }
  let r = pow(-x, e);
  return select(r, -r, e - 2.0 * floor(e * 0.5) != 0.0);
}

fn binary(x: f32, z: f32, op: u32) -> f32 {
  switch op {
    case 0u: { return x + z; }
    case 1u: { return x - z; }
    case 2u: { return x / z; }
    case 3u: { return powf(x, z); }
    case 4u: { return select(select(max(x, z), z, z != z), x, x != x); }
    case 5u: { return select(select(min(x, z), z, z != z), x, x != x); }
    case 6u: { return x * z; }
    case 7u: { return x - z * trunc(x / z); }
    case 8u: { return select(x, x * z, x < 0.0); }
    default: { return x; }
  }
}

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
  out[i] = real(binary(f32(a[ai]), f32(b[bi]), params.op));
}
