// conv1d: 1-D convolution, NCL, with groups, stride, dilation, padding and
// optional bias.  One thread per output element; taps outside the input
// read zero.  The right padding only decides OL, which the host computes.
//
// @group(0) @binding(0) x: array<real> [N, Cin, L]
// @group(0) @binding(1) w: array<real> [Cout, Cin / groups, K]
// @group(0) @binding(2) bias: array<real> [Cout] (read only when hasBias = 1)
// @group(0) @binding(3) y: array<real> [N, Cout, OL] output
// @group(0) @binding(4) params: Params
//
// Params:
//   N, Cin, L: u32        input shape
//   Cout, OL: u32         output channels and length
//   K: u32                kernel size
//   stride, dilation: u32
//   padLeft: u32          zero padding before the first element
//   groups: u32           Cin and Cout are both multiples of it
//   hasBias: u32          1: add bias[co]
//
// Dispatch: ceil(N·Cout·OL / 256) workgroups as (x, y, 1), x ≤ 65535.

alias real = f32;

struct Params {
  N: u32,
  Cin: u32,
  L: u32,
  Cout: u32,
  OL: u32,
  K: u32,
  stride: u32,
  dilation: u32,
  padLeft: u32,
  groups: u32,
  hasBias: u32,
}

@group(0) @binding(0) var<storage, read> x: array<real>;
@group(0) @binding(1) var<storage, read> w: array<real>;
@group(0) @binding(2) var<storage, read> bias: array<real>;
@group(0) @binding(3) var<storage, read_write> y: array<real>;
@group(0) @binding(4) var<uniform> params: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= params.N * params.Cout * params.OL) {
    return;
  }
  let o = i % params.OL;
  let co = (i / params.OL) % params.Cout;
  let n = i / (params.OL * params.Cout);
  let cinG = params.Cin / params.groups;
  let ci0 = (co / (params.Cout / params.groups)) * cinG;
  var acc = 0.0;
  if (params.hasBias == 1u) {
    acc = f32(bias[co]);
  }
  for (var c = 0u; c < cinG; c++) {
    let xRow = (n * params.Cin + ci0 + c) * params.L;
    let wRow = (co * cinG + c) * params.K;
    for (var k = 0u; k < params.K; k++) {
      let ix = i32(o * params.stride + k * params.dilation) - i32(params.padLeft);
      if (ix >= 0 && ix < i32(params.L)) {
        acc += f32(x[xRow + u32(ix)]) * f32(w[wRow + k]);
      }
    }
  }
  y[i] = real(acc);
}
