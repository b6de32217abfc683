// stridedCopy: out[i] = x[base + Σ (coord_d mod mods_d) · strides_d] over
// up to 8 output dimensions, with signed strides: one shader for the data
// movement ops — Slice and Split (start in base, step · stride per dim),
// Expand (stride 0 on broadcast dims), Tile (mods = the input's dims),
// DepthToSpace / SpaceToDepth (a 6-D view), plain copies — and Trilu's
// mask on the last two output dims.  Words are copied bit for bit (any
// 32-bit element type), so the f16 variant is the same code.
//
// @group(0) @binding(0) x: array<u32> input words
// @group(0) @binding(1) out: array<u32> [shape] output, n elements
// @group(0) @binding(2) params: Params
//
// Params:
//   n: u32                          output elements (product of shape)
//   rank: u32                       dimensions used, 1..8
//   base: u32                       input offset of output coordinate 0
//   mask: u32                       0 none, 1 keep col − row ≥ k (Trilu upper),
//                                   2 keep col − row ≤ k (lower); the rest is 0
//   k: i32                          Trilu's diagonal
//   shape: array<vec4u, 2>          output dims, outermost first
//   mods: array<vec4u, 2>           coordinate modulus per dim (the dim itself
//                                   when not tiling)
//   strides: array<vec4i, 2>        input element stride per output dim
//
// Dispatch: ceil(n / 256) workgroups as (x, y, 1), x ≤ 65535; the linear
// index is gid.x + gid.y · x · 256.

// Words, not reals: the f16 variant (--f16) is the same code.
alias real = f32;

struct Params {
  n: u32,
  rank: u32,
  base: u32,
  mask: u32,
  k: i32,
  shape: array<vec4u, 2>,
  mods: array<vec4u, 2>,
  strides: array<vec4i, 2>,
}

@group(0) @binding(0) var<storage, read> x: array<u32>;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= params.n) {
    return;
  }
  let rank = min(params.rank, 8u);
  var rem = i;
  var off = i32(params.base);
  var col = 0;
  var row = 0;
  for (var d = rank; d > 0u; d--) {
    let k = d - 1u;
    let dim = params.shape[k / 4u][k % 4u];
    let coord = rem % dim;
    rem = rem / dim;
    off += i32(coord % params.mods[k / 4u][k % 4u]) * params.strides[k / 4u][k % 4u];
    if (k == rank - 1u) {
      col = i32(coord);
    }
    if (k + 2u == rank) {
      row = i32(coord);
    }
  }
  var keep = true;
  if (params.mask == 1u) {
    keep = col - row >= params.k;
  } else if (params.mask == 2u) {
    keep = col - row <= params.k;
  }
  out[i] = select(0u, x[u32(off)], keep);
}
