// packFilter: a conv filter [Cout, K] (K = Cin·KH·KW, m2w-extract's OIHW,
// row-major) transposed to [K, Cout], so that convLeaky reads the eight
// output channels of one tap as two vec4s.  Runs once per filter, at load.
//
// @group(0) @binding(0) w: array<real> [Cout, K] input
// @group(0) @binding(1) out: array<real> [K, Cout] output
// @group(0) @binding(2) params: Params
//
// Params:
//   cout, k: u32    filter size
//
// Dispatch: ceil(cout·k / 64) workgroups as (x, 1, 1).

alias real = f32;

struct Params {
  cout: u32,
  k: u32,
}

@group(0) @binding(0) var<storage, read> w: array<real>;
@group(0) @binding(1) var<storage, read_write> out: array<real>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x;
  if (i >= params.cout * params.k) {
    return;
  }
  let co = i / params.k;
  let t = i % params.k;
  out[t * params.cout + co] = w[i];
}
