// unaryOp: y = f(x), elementwise, with f picked by params.op (one pipeline
// for every ONNX unary float op below; attributes in alpha, beta, gamma).
// exp arguments are clamped to ±88; sin/cos/tan use cephes' sinf/cosf
// reduction (WGSL's builtins are specified to 2^-11 only), asin/acos cephes'
// asinf; erf is cephes' erff polynomial for |x| ≤ 1 (relative error ~1e-7)
// and Abramowitz & Stegun 7.1.26 beyond (|error| ≤ 1.5e-7); sinh, asinh,
// atanh and expm1 use series near 0; round is half to even.
//
//   op  f(x)                         op  f(x)
//   0   identity                     17  cosh
//   1   abs                          18  asinh
//   2   neg                          19  acosh
//   3   exp                          20  atanh
//   4   log                          21  erf
//   5   sqrt                         22  softplus  log(1 + e^x)
//   6   reciprocal                   23  softsign  x / (1 + |x|)
//   7   floor                        24  sign
//   8   ceil                         25  elu       x ≥ 0 ? x : alpha (e^x − 1)
//   9   round (half to even)         26  selu      gamma (x > 0 ? x : alpha (e^x − 1))
//   10  sin                          27  celu      max(x, 0) + min(0, alpha (e^(x/alpha) − 1))
//   11  cos                          28  hardSigmoid  clamp(alpha x + beta, 0, 1)
//   12  tan                          29  hardSwish    x · clamp(x / 6 + 1/2, 0, 1)
//   13  asin                         30  thresholdedRelu  x > alpha ? x : 0
//   14  acos                         31  clip      min(max(x, alpha), beta)
//   15  atan                         32  mish      x · tanh(softplus(x))
//   16  sinh                         33  shrink    x < −alpha ? x + beta : x > alpha ? x − beta : 0
//
// @group(0) @binding(0) x: array<real> [n] input, any shape
// @group(0) @binding(1) y: array<real> [n] output, same shape
// @group(0) @binding(2) params: Params
//
// Params:
//   n: u32            elements
//   op: u32           which f, from the table above
//   alpha: f32        first attribute (elu/selu/celu alpha, hardSigmoid
//                     alpha, thresholdedRelu alpha, clip min, shrink lambd)
//   beta: f32         second attribute (hardSigmoid beta, clip max, shrink bias)
//   gamma: f32        selu gamma
//
// Dispatch: ceil(n / 256) workgroups as (x, y, 1), x ≤ 65535; the linear
// index is gid.x + gid.y · x · 256.

alias real = f32;

struct Params {
  n: u32,
  op: u32,
  alpha: f32,
  beta: f32,
  gamma: f32,
}

@group(0) @binding(0) var<storage, read> x: array<real>;
@group(0) @binding(1) var<storage, read_write> y: array<real>;
@group(0) @binding(2) var<uniform> params: Params;

fn expc(v: f32) -> f32 {
  return exp(clamp(v, -88.0, 88.0));
}

// e^v − 1, accurate near 0
fn expm1(v: f32) -> f32 {
  if (abs(v) < 0.5) {
    return v * (1.0 + v * (0.5 + v * (1.0 / 6.0 + v * (1.0 / 24.0 + v * (1.0 / 120.0 + v * (1.0 / 720.0 +
      v * (1.0 / 5040.0 + v * (1.0 / 40320.0))))))));
  }
  return expc(v) - 1.0;
}

// (sin v, cos v), cephes sinf/cosf: reduction by π/2 in three parts
fn sincos(v: f32) -> vec2f {
  let j = round(v * 0.6366197723675814);
  let r = ((v - j * 1.5703125) - j * 4.837512969970703125e-4) - j * 7.549789954891882e-8;
  let z = r * r;
  let s = r + r * z * (-1.6666654611e-1 + z * (8.3321608736e-3 + z * -1.9515295891e-4));
  let c = 1.0 - 0.5 * z + z * z * (4.166664568298827e-2 + z * (-1.388731625493765e-3 + z * 2.443315711809948e-5));
  let q = i32(j) & 3;
  if (q == 0) {
    return vec2f(s, c);
  }
  if (q == 1) {
    return vec2f(c, -s);
  }
  if (q == 2) {
    return vec2f(-s, -c);
  }
  return vec2f(-c, s);
}

fn erf(v: f32) -> f32 {
  let a = abs(v);
  if (a <= 1.0) {
    let z = v * v;
    return v * (((((( 7.853861353153693e-5 * z - 8.010193625184903e-4) * z + 5.188327685732524e-3) * z -
      2.685381193529856e-2) * z + 1.128358514861418e-1) * z - 3.761262582423300e-1) * z + 1.128379165726710);
  }
  let t = 1.0 / (1.0 + 0.3275911 * a);
  let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return sign(v) * (1.0 - poly * exp(-min(v * v, 88.0)));
}

// cephes asinf: a polynomial on [0, 0.5], asin(a) = π/2 − 2 asin(√((1 − a)/2)) above
// (the builtins are off by ~1e-4 on some drivers)
fn asinc(v: f32) -> f32 {
  let a = abs(v);
  var t = a;
  var z = a * a;
  if (a > 0.5) {
    z = 0.5 * (1.0 - a);
    t = sqrt(z);
  }
  var r = ((((4.2163199048e-2 * z + 2.4181311049e-2) * z + 4.5470025998e-2) * z + 7.4953002686e-2) * z +
    1.6666752422e-1) * z * t + t;
  if (a > 0.5) {
    r = 1.5707963267948966 - 2.0 * r;
  }
  return select(r, -r, v < 0.0);
}

fn acosc(v: f32) -> f32 {
  if (v < -0.5) {
    return 3.141592653589793 - 2.0 * asinc(sqrt(0.5 * (1.0 + v)));
  }
  if (v > 0.5) {
    return 2.0 * asinc(sqrt(0.5 * (1.0 - v)));
  }
  return 1.5707963267948966 - asinc(v);
}

fn softplus(v: f32) -> f32 {
  return max(v, 0.0) + log(1.0 + expc(-abs(v)));
}

fn roundEven(v: f32) -> f32 {
  let f = floor(v);
  let d = v - f;
  if (d > 0.5) {
    return f + 1.0;
  }
  if (d < 0.5) {
    return f;
  }
  return select(f + 1.0, f, f - 2.0 * floor(f * 0.5) == 0.0);
}

fn unary(v: f32, op: u32) -> f32 {
  let alpha = params.alpha;
  switch op {
    case 0u: { return v; }
    case 1u: { return abs(v); }
    case 2u: { return -v; }
    case 3u: { return expc(v); }
    case 4u: { return log(v); }
    case 5u: { return sqrt(v); }
    case 6u: { return 1.0 / v; }
    case 7u: { return floor(v); }
    case 8u: { return ceil(v); }
    case 9u: { return roundEven(v); }
    case 10u: { return sincos(v).x; }
    case 11u: { return sincos(v).y; }
    case 12u: {
      let sc = sincos(v);
      return sc.x / sc.y;
    }
    case 13u: { return asinc(v); }
    case 14u: { return acosc(v); }
    case 15u: { return atan(v); }
    case 16u: {
      if (abs(v) < 0.5) {
        let z = v * v;
        return v * (1.0 + z * (1.0 / 6.0 + z * (1.0 / 120.0 + z * (1.0 / 5040.0 + z * (1.0 / 362880.0)))));
      }
      return 0.5 * (expc(v) - expc(-v));
    }
    case 17u: { return 0.5 * (expc(v) + expc(-v)); }
    case 18u: {
      let a = abs(v);
      if (a < 0.125) {
        let z = v * v;
        return v * (1.0 + z * (-1.0 / 6.0 + z * (3.0 / 40.0 + z * (-5.0 / 112.0 + z * (35.0 / 1152.0)))));
      }
      return sign(v) * log(a + sqrt(a * a + 1.0));
    }
    case 19u: { return log(v + sqrt(v * v - 1.0)); }
    case 20u: {
      if (abs(v) < 0.125) {
        let z = v * v;
        return v * (1.0 + z * (1.0 / 3.0 + z * (1.0 / 5.0 + z * (1.0 / 7.0 + z * (1.0 / 9.0 + z * (1.0 / 11.0))))));
      }
      return 0.5 * log((1.0 + v) / (1.0 - v));
    }
    case 21u: { return erf(v); }
    case 22u: { return softplus(v); }
    case 23u: { return v / (1.0 + abs(v)); }
    case 24u: { return sign(v); }
    case 25u: { return select(alpha * expm1(v), v, v >= 0.0); }
    case 26u: { return params.gamma * select(alpha * expm1(v), v, v > 0.0); }
    case 27u: { return max(v, 0.0) + min(0.0, alpha * expm1(v / alpha)); }
    case 28u: { return clamp(alpha * v + params.beta, 0.0, 1.0); }
    case 29u: { return v * clamp(v / 6.0 + 0.5, 0.0, 1.0); }
    case 30u: { return select(0.0, v, v > alpha); }
    case 31u: { return min(max(v, alpha), params.beta); }
    case 32u: { return v * tanh(clamp(softplus(v), -44.0, 44.0)); }
    case 33u: {
      if (v < -alpha) {
        return v + params.beta;
      }
      if (v > alpha) {
        return v - params.beta;
      }
      return 0.0;
    }
    default: { return v; }
  }
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= params.n) {
    return;
  }
  y[i] = real(unary(f32(x[i]), params.op));
}
