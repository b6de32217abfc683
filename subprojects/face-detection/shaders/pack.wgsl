// pack: a conv filter [Cout, K] (K = Cin·KH·KW, row-major, m2w-extract's
// OIHW) transposed into columns coOff.. of a [K, stride] matrix, so that
// the fused kernels read eight output channels of one tap as two vec4s.
// Columns no filter writes keep their zeros (a new buffer's).  Runs once
// per filter, at load.  Element type `real` (f16 in the F16 variant, for
// f16 weights).
//
// @group(0) @binding(0) w: array<real> [Cout, K] input
// @group(0) @binding(1) out: array<real> [K, stride] output
// @group(0) @binding(2) params: Params
//
// Params:
//   cout, k: u32    filter size
//   stride: u32     columns of out
//   coOff: u32      first column written
//
// Dispatch: ceil(cout·k / 64) workgroups as (x, 1, 1).

alias real = f32;

struct Params {
  cout: u32,
  k: u32,
  stride: u32,
  coOff: u32,
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
  out[t * params.stride + params.coOff + co] = w[i];
}
