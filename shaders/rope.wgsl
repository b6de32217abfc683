// rope: rotary position embedding on x [T, heads, headDim]; token t sits
// at position pos0 + t.  The first ropeDims dimensions rotate in pairs by
// angle pos · theta^(−2i / ropeDims), i = 0 .. ropeDims/2 − 1; the rest pass
// through.  mode 0 pairs (2i, 2i+1) (llama.cpp's default for LLaMA GGUFs),
// mode 1 pairs (i, i + ropeDims/2) (NeoX / Hugging Face rotate_half).
// WGSL's sin and cos are specified only to 2^-11 absolute, too coarse for
// long contexts, so sincos is cephes' (reduction by π/2 in three parts,
// polynomials on [−π/4, π/4]).
//
// @group(0) @binding(0) x: array<real> [T, heads, headDim]
// @group(0) @binding(1) y: array<real> [T, heads, headDim] output (may not alias x)
// @group(0) @binding(2) params: Params
//
// Params:
//   T, heads, headDim: u32
//   ropeDims: u32   rotated dimensions, even, ≤ headDim
//   pos0: u32       position of token 0
//   mode: u32       0 adjacent pairs, 1 NeoX halves
//   theta: f32      frequency base (10000 for LLaMA)
//
// Dispatch: ceil(T·heads·headDim / 256) workgroups as (x, y, 1), x ≤ 65535.

alias real = f32;

struct Params {
  T: u32,
  heads: u32,
  headDim: u32,
  ropeDims: u32,
  pos0: u32,
  mode: u32,
  theta: f32,
}

@group(0) @binding(0) var<storage, read> x: array<real>;
@group(0) @binding(1) var<storage, read_write> y: array<real>;
@group(0) @binding(2) var<uniform> params: Params;

// (sin v, cos v) to f32 accuracy for |v| up to ~1e5.
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

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let idx = gid.x + gid.y * nwg.x * 256u;
  if (idx >= params.T * params.heads * params.headDim) {
    return;
  }
  let d = idx % params.headDim;
  let rowBase = idx - d;
  if (d >= params.ropeDims) {
    y[idx] = x[idx];
    return;
  }
  let half = params.ropeDims / 2u;
  var i: u32;       // frequency index
  var partner: u32; // the other element of the pair
  var first: bool;  // d is the pair's first element
  if (params.mode == 0u) {
    i = d / 2u;
    first = d % 2u == 0u;
    partner = select(d - 1u, d + 1u, first);
  } else {
    i = d % half;
    first = d < half;
    partner = select(d - half, d + half, first);
  }
  let t = idx / (params.heads * params.headDim);
  let pos = f32(params.pos0 + t);
  let freq = exp2(-f32(2u * i) / f32(params.ropeDims) * log2(params.theta));
  let sc = sincos(pos * freq);
  let a = f32(x[idx]);
  let b = f32(x[rowBase + partner]);
  // (x0, x1) -> (x0 cos − x1 sin, x0 sin + x1 cos)
  y[idx] = real(select(b * sc.x + a * sc.y, a * sc.y - b * sc.x, first));
}
