// reduce: the Reduce* ops, ArgMax / ArgMin and the normalisations along a
// set of axes (Softmax, LogSoftmax, Hardmax, CumSum, LpNormalization,
// MeanVarianceNormalization, LayerNormalization's statistics), op picked by
// params.op.  The input splits into groups: the kept dims (outShape, their
// input strides outStrides) pick a group, the reduced dims (redShape,
// redStrides) walk its count elements, so any axes reduce with no
// transpose.  One thread per group walks it serially in f32 (max-subtracted
// exp sums); sized for the shapes of single-op graphs and small reductions.
// Storage is 32-bit words (f32, or i32 when params.kind is 1, converted to
// f32 and back), so the f16 variant is the same code.
//
//   op  out[group] (reductions)         op  out at each input position
//   0   sum                             16  softmax
//   1   mean (NaN for an empty set)     17  logSoftmax
//   2   max (−inf for an empty set)     18  hardmax (1 at the first max)
//   3   min (+inf for an empty set)     19  cumSum (flags bit 0 exclusive,
//   4   product                              bit 1 reverse)
//   5   sum |x|                         20  x / Σ|x| (LpNormalization p = 1)
//   6   sqrt(Σ x²)                      21  x / sqrt(Σ x²) (p = 2)
//   7   log(Σ x)                        22  (x − mean) / (sqrt(var) + eps)
//   8   log(Σ e^x)                           (MeanVarianceNormalization)
//   9   Σ x²
//   10  argMax (u32 index in the group; flags bit 0: last on ties)
//   11  argMin (likewise)
//   12  1 / sqrt(var + eps) (population variance)
//
// @group(0) @binding(0) x: array<u32> input words, any shape
// @group(0) @binding(1) out: array<u32> [groups] for ops < 16, the input's shape for ops ≥ 16
// @group(0) @binding(2) params: Params
//
// Params:
//   groups: u32                     output groups (product of outShape)
//   count: u32                      elements per group (product of redShape)
//   op: u32                         from the table above
//   kind: u32                       0 f32, 1 i32 (sum, max, min, product, arg)
//   flags: u32                      cumSum / arg flags
//   outRank, redRank: u32           dims used in outShape / redShape, 0..8
//   eps: f32                        ops 12, 22
//   outShape: array<vec4u, 2>       kept dims, outermost first
//   outStrides: array<vec4u, 2>     their input element strides
//   redShape: array<vec4u, 2>       reduced dims, outermost first
//   redStrides: array<vec4u, 2>     their input element strides
//
// Dispatch: ceil(groups / 64) workgroups as (x, y, 1), x ≤ 65535; group =
// gid.x + gid.y · x · 64.

// Words, not reals: the f16 variant (--f16) is the same code.
alias real = f32;

struct Params {
  groups: u32,
  count: u32,
  op: u32,
  kind: u32,
  flags: u32,
  outRank: u32,
  redRank: u32,
  eps: f32,
  outShape: array<vec4u, 2>,
  outStrides: array<vec4u, 2>,
  redShape: array<vec4u, 2>,
  redStrides: array<vec4u, 2>,
}

@group(0) @binding(0) var<storage, read> x: array<u32>;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
@group(0) @binding(2) var<uniform> params: Params;

// input offset of the group's element j
fn at(base: u32, j: u32) -> u32 {
  var rem = j;
  var off = base;
  for (var d = min(params.redRank, 8u); d > 0u; d--) {
    let k = d - 1u;
    let dim = params.redShape[k / 4u][k % 4u];
    off += (rem % dim) * params.redStrides[k / 4u][k % 4u];
    rem = rem / dim;
  }
  return off;
}

fn load(i: u32) -> f32 {
  let w = x[i];
  return select(bitcast<f32>(w), f32(bitcast<i32>(w)), params.kind == 1u);
}

fn word(v: f32) -> u32 {
  return select(bitcast<u32>(v), bitcast<u32>(i32(v)), params.kind == 1u);
}

fn expc(v: f32) -> f32 {
  return exp(clamp(v, -88.0, 88.0));
}

// +inf, built at run time (a constant inf is a WGSL error)
fn inf() -> f32 {
  return bitcast<f32>(0x7f800000u | (params.op & 0u));
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let g = gid.x + gid.y * nwg.x * 64u;
  if (g >= params.groups) {
    return;
  }
  var rem = g;
  var base = 0u;
  for (var d = min(params.outRank, 8u); d > 0u; d--) {
    let k = d - 1u;
    let dim = params.outShape[k / 4u][k % 4u];
    base += (rem % dim) * params.outStrides[k / 4u][k % 4u];
    rem = rem / dim;
  }
  let n = params.count;
  let op = params.op;
  // pass 1: the max (and its index) and the plain sums
  var mx = -inf();
  var mn = inf();
  var imx = 0u;
  var imn = 0u;
  var s = 0.0;
  var s1 = 0.0;
  var s2 = 0.0;
  var p = 1.0;
  let last = (params.flags & 1u) != 0u;
  for (var j = 0u; j < n; j++) {
    let v = load(at(base, j));
    if (v > mx || (last && v == mx) || j == 0u) {
      mx = v;
      imx = j;
    }
    if (v < mn || (last && v == mn) || j == 0u) {
      mn = v;
      imn = j;
    }
    s += v;
    s1 += abs(v);
    s2 += v * v;
    p *= v;
  }
  let fn_ = f32(n);
  if (op < 16u) {
    var r = 0.0;
    switch op {
      case 0u: { r = s; }
      case 1u: { r = s / fn_; }
      case 2u: { r = select(mx, -inf(), n == 0u); }
      case 3u: { r = select(mn, inf(), n == 0u); }
      case 4u: { r = p; }
      case 5u: { r = s1; }
      case 6u: { r = sqrt(s2); }
      case 7u: { r = log(s); }
      case 8u: {
        var e = 0.0;
        for (var j = 0u; j < n; j++) {
          e += expc(load(at(base, j)) - mx);
        }
        r = select(mx + log(e), -inf(), n == 0u);
      }
      case 9u: { r = s2; }
      case 10u: {
        out[g] = imx;
        return;
      }
      case 11u: {
        out[g] = imn;
        return;
      }
      case 12u: {
        let mean = s / fn_;
        var v2 = 0.0;
        for (var j = 0u; j < n; j++) {
          let dv = load(at(base, j)) - mean;
          v2 += dv * dv;
        }
        out[g] = bitcast<u32>(1.0 / sqrt(v2 / fn_ + params.eps));
        return;
      }
      default: { r = s; }
    }
    out[g] = word(r);
    return;
  }
  if (op == 19u) {
    let excl = (params.flags & 1u) != 0u;
    let rev = (params.flags & 2u) != 0u;
    var acc = 0.0;
    for (var t = 0u; t < n; t++) {
      let j = select(t, n - 1u - t, rev);
      let o = at(base, j);
      let v = load(o);
      if (excl) {
        out[o] = word(acc);
        acc += v;
      } else {
        acc += v;
        out[o] = word(acc);
      }
    }
    return;
  }
  // pass 2: what the normalisations need
  var e = 0.0;
  var v2 = 0.0;
  let mean = s / fn_;
  for (var j = 0u; j < n; j++) {
    let v = load(at(base, j));
    e += expc(v - mx);
    v2 += (v - mean) * (v - mean);
  }
  let lse = log(e);
  let sd = sqrt(v2 / fn_) + params.eps;
  let l2 = sqrt(s2);
  for (var j = 0u; j < n; j++) {
    let o = at(base, j);
    let v = load(o);
    var r = 0.0;
    switch op {
      case 16u: { r = expc(v - mx) / e; }
      case 17u: { r = v - mx - lse; }
      case 18u: { r = select(0.0, 1.0, j == imx); }
      case 20u: { r = v / s1; }
      case 21u: { r = v / l2; }
      default: { r = (v - mean) / sd; }
    }
    out[o] = bitcast<u32>(r);
  }
}
