// transpose: out = x with its axes permuted, up to 8 dimensions.  The host
// gives the output shape and, per output dimension d, the input stride of
// the axis that lands there (inStrides[d] = input stride of perm[d]).
//
// @group(0) @binding(0) x: array<real> input
// @group(0) @binding(1) out: array<real> [shape] output, n elements
// @group(0) @binding(2) params: Params
//
// Params:
//   n: u32                         elements
//   rank: u32                      dimensions used, 1..8
//   shape: array<vec4u, 2>         output dims, outermost first
//   inStrides: array<vec4u, 2>     input element stride per output dim
//
// Dispatch: ceil(n / 256) workgroups as (x, y, 1), x ≤ 65535.

alias real = f32;

struct Params {
  n: u32,
  rank: u32,
  shape: array<vec4u, 2>,
  inStrides: array<vec4u, 2>,
}

@group(0) @binding(0) var<storage, read> x: array<real>;
@group(0) @binding(1) var<storage, read_write> out: array<real>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= params.n) {
    return;
  }
  var rem = i;
  var src = 0u;
  for (var d = min(params.rank, 8u); d > 0u; d--) {
    let k = d - 1u;
    let dim = params.shape[k / 4u][k % 4u];
    src += (rem % dim) * params.inStrides[k / 4u][k % 4u];
    rem = rem / dim;
  }
  out[i] = x[src];
}
