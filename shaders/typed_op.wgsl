// typedOp: out = f(a, b, c) over 32-bit words with NumPy broadcasting over
// up to 8 dimensions (binary_op.wgsl's indexing, a third input for Where):
// the comparisons, logic and bit ops, Where, integer arithmetic, IsNaN /
// IsInf and Cast.  Buffers hold one 32-bit word an element: f32, integers
// as their low 32 bits (i32 two's complement, or u32), bools as 0 / 1.
// params.kind says how a and b are read; bool results are 0 / 1.
//
//   op  out                                op  out
//   0   a == b (bool)                      14  a · b
//   1   a < b (bool)                       15  a / b, truncated (0 when b is 0)
//   2   a > b (bool)                       16  a mod b, sign of b (ONNX Mod)
//   3   a <= b (bool)                      17  a fmod b, sign of a
//   4   a >= b (bool)                      18  max(a, b)
//   5   a && b (bool)                      19  min(a, b)
//   6   a || b (bool)                      20  a^b (b ≥ 0; integers)
//   7   a xor b (bool)                     21  |a|
//   8   !a (bool)                          22  −a
//   9   a << b (u32)                       23  sign(a)
//   10  a >> b (u32, logical)              24  isNaN(a) (f32 a; bool)
//   11  a ≠ 0 ? b : c (Where, any words)   25  isInf(a) (f32 a; flags bit 0
//   12  a + b                                  +inf, bit 1 −inf; bool)
//   13  a − b                              26  cast a to params.flags' kind
//
// Ops 12–23 compute in params.kind (f32 arithmetic is binary_op.wgsl's);
// casts: f32 → i32 / u32 truncate toward 0, anything → bool is a ≠ 0,
// → f16 rounds to the nearest half value (ties to even; ±inf past 65504).
//
// @group(0) @binding(0) a: array<u32> first input, any shape broadcastable to out
// @group(0) @binding(1) b: array<u32> second input (bind a when unused)
// @group(0) @binding(2) c: array<u32> third input, Where's y (bind a when unused)
// @group(0) @binding(3) out: array<u32> [shape] output, n elements
// @group(0) @binding(4) params: Params
//
// Params:
//   n: u32                          output elements (product of shape)
//   rank: u32                       dimensions used, 1..8
//   op: u32                         which f, from the table above
//   kind: u32                       how a, b are read: 0 f32, 1 i32, 2 u32
//   flags: u32                      isInf's sides; cast's target kind
//                                   (0 f32, 1 i32, 2 u32, 3 bool, 4 f16:
//                                   rounded to half precision, kept as f32)
//   shape: array<vec4u, 2>          output dims, outermost first, 4 per vec4
//   aStrides, bStrides, cStrides: array<vec4u, 2>  input strides per output dim
//
// Dispatch: ceil(n / 256) workgroups as (x, y, 1), x ≤ 65535; the linear
// index is gid.x + gid.y · x · 256.

// Words, not reals: the f16 variant (--f16) is the same code.
alias real = f32;

struct Params {
  n: u32,
  rank: u32,
  op: u32,
  kind: u32,
  flags: u32,
  shape: array<vec4u, 2>,
  aStrides: array<vec4u, 2>,
  bStrides: array<vec4u, 2>,
  cStrides: array<vec4u, 2>,
}

@group(0) @binding(0) var<storage, read> a: array<u32>;
@group(0) @binding(1) var<storage, read> b: array<u32>;
@group(0) @binding(2) var<storage, read> c: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<u32>;
@group(0) @binding(4) var<uniform> params: Params;

// -1, 0, 1 for x < y, x == y, x > y in params.kind; 2 when unordered (NaN)
fn cmp(x: u32, y: u32) -> i32 {
  switch params.kind {
    case 0u: {
      let fx = bitcast<f32>(x);
      let fy = bitcast<f32>(y);
      if (fx < fy) {
        return -1;
      }
      if (fx > fy) {
        return 1;
      }
      return select(2, 0, fx == fy);
    }
    case 1u: {
      let ix = bitcast<i32>(x);
      let iy = bitcast<i32>(y);
      return select(select(0, 1, ix > iy), -1, ix < iy);
    }
    default: {
      return select(select(0, 1, x > y), -1, x < y);
    }
  }
}

fn b2u(v: bool) -> u32 {
  return select(0u, 1u, v);
}

fn nonzero(x: u32) -> bool {
  if (params.kind == 0u) {
    return bitcast<f32>(x) != 0.0;
  }
  return x != 0u;
}

// integer arithmetic in i32 (kind 1) or u32 (kind 2); f32 for kind 0
fn arith(x: u32, y: u32, op: u32) -> u32 {
  if (params.kind == 0u) {
    let fx = bitcast<f32>(x);
    let fy = bitcast<f32>(y);
    switch op {
      case 12u: { return bitcast<u32>(fx + fy); }
      case 13u: { return bitcast<u32>(fx - fy); }
      case 14u: { return bitcast<u32>(fx * fy); }
      case 15u: { return bitcast<u32>(fx / fy); }
      case 18u: { return bitcast<u32>(max(fx, fy)); }
      case 19u: { return bitcast<u32>(min(fx, fy)); }
      case 21u: { return bitcast<u32>(abs(fx)); }
      case 22u: { return bitcast<u32>(-fx); }
      case 23u: { return bitcast<u32>(sign(fx)); }
      default: { return bitcast<u32>(fx - fy * trunc(fx / fy)); }
    }
  }
  if (params.kind == 1u) {
    let ix = bitcast<i32>(x);
    let iy = bitcast<i32>(y);
    switch op {
      case 12u: { return bitcast<u32>(ix + iy); }
      case 13u: { return bitcast<u32>(ix - iy); }
      case 14u: { return bitcast<u32>(ix * iy); }
      case 15u: { return bitcast<u32>(select(ix / iy, 0, iy == 0)); }
      case 16u: {
        if (iy == 0) {
          return 0u;
        }
        var r = ix % iy;
        if (r != 0 && ((r < 0) != (iy < 0))) {
          r += iy;
        }
        return bitcast<u32>(r);
      }
      case 17u: { return bitcast<u32>(select(ix % iy, 0, iy == 0)); }
      case 18u: { return bitcast<u32>(max(ix, iy)); }
      case 19u: { return bitcast<u32>(min(ix, iy)); }
      case 20u: {
        var r = 1;
        for (var k = 0; k < iy; k++) {
          r *= ix;
        }
        return bitcast<u32>(r);
      }
      case 21u: { return bitcast<u32>(abs(ix)); }
      case 22u: { return bitcast<u32>(-ix); }
      case 23u: { return bitcast<u32>(sign(ix)); }
      default: { return x; }
    }
  }
  switch op {
    case 12u: { return x + y; }
    case 13u: { return x - y; }
    case 14u: { return x * y; }
    case 15u: { return select(x / y, 0u, y == 0u); }
    case 16u, 17u: { return select(x % y, 0u, y == 0u); }
    case 18u: { return max(x, y); }
    case 19u: { return min(x, y); }
    case 20u: {
      var r = 1u;
      for (var k = 0u; k < y; k++) {
        r *= x;
      }
      return r;
    }
    case 21u: { return x; }
    case 22u: { return 0u - x; }
    case 23u: { return select(0u, 1u, x != 0u); }
    default: { return x; }
  }
}

// f32 rounded to the nearest f16 value (ties to even), kept as f32: beyond
// 65504 it is ±inf, below 2^-14 a multiple of 2^-24
fn toHalf(f: f32) -> f32 {
  let b = bitcast<u32>(f);
  let a = abs(f);
  if (a != a || a >= 65520.0) {
    return select(f, sign(f) * bitcast<f32>(0x7f800000u | (params.op & 0u)), a == a);
  }
  if (a < 6.103515625e-05) {
    let q = a * 16777216.0;
    let r = floor(q);
    let d = q - r;
    let even = select(r + 1.0, r, r - 2.0 * floor(r * 0.5) == 0.0);
    return sign(f) * select(select(r, r + 1.0, d > 0.5), even, d == 0.5) / 16777216.0;
  }
  let lsb = (b >> 13u) & 1u;
  return bitcast<f32>((b + 0x0fffu + lsb) & 0xffffe000u);
}

fn castWord(x: u32) -> u32 {
  let to = params.flags;
  if (to == 3u) {
    return b2u(nonzero(x));
  }
  if (to == 4u) {
    let f = select(bitcast<f32>(x), select(f32(x), f32(bitcast<i32>(x)), params.kind == 1u), params.kind != 0u);
    return bitcast<u32>(toHalf(f));
  }
  if (params.kind == 0u) {
    let f = bitcast<f32>(x);
    if (to == 1u) {
      return bitcast<u32>(i32(f));
    }
    if (to == 2u) {
      return u32(max(f, 0.0));
    }
    return x;
  }
  if (to == 0u) {
    return bitcast<u32>(select(f32(x), f32(bitcast<i32>(x)), params.kind == 1u));
  }
  return x;
}

fn typed(x: u32, y: u32, z: u32, op: u32) -> u32 {
  switch op {
    case 0u: { return b2u(cmp(x, y) == 0); }
    case 1u: { return b2u(cmp(x, y) == -1); }
    case 2u: { return b2u(cmp(x, y) == 1); }
    case 3u: {
      let r = cmp(x, y);
      return b2u(r == -1 || r == 0);
    }
    case 4u: {
      let r = cmp(x, y);
      return b2u(r == 1 || r == 0);
    }
    case 5u: { return b2u(nonzero(x) && nonzero(y)); }
    case 6u: { return b2u(nonzero(x) || nonzero(y)); }
    case 7u: { return b2u(nonzero(x) != nonzero(y)); }
    case 8u: { return b2u(!nonzero(x)); }
    case 9u: { return select(x << (y & 31u), 0u, y >= 32u); }
    case 10u: { return select(x >> (y & 31u), 0u, y >= 32u); }
    case 11u: { return select(z, y, x != 0u); }
    case 24u: {
      return b2u((x & 0x7f800000u) == 0x7f800000u && (x & 0x007fffffu) != 0u);
    }
    case 25u: {
      let pos = x == 0x7f800000u && (params.flags & 1u) != 0u;
      let neg = x == 0xff800000u && (params.flags & 2u) != 0u;
      return b2u(pos || neg);
    }
    case 26u: { return castWord(x); }
    default: { return arith(x, y, op); }
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
  var ci = 0u;
  for (var d = min(params.rank, 8u); d > 0u; d--) {
    let k = d - 1u;
    let dim = params.shape[k / 4u][k % 4u];
    let coord = rem % dim;
    rem = rem / dim;
    ai += coord * params.aStrides[k / 4u][k % 4u];
    bi += coord * params.bStrides[k / 4u][k % 4u];
    ci += coord * params.cStrides[k / 4u][k % 4u];
  }
  out[i] = typed(a[ai], b[bi], c[ci], params.op);
}
