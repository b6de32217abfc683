// convTranspose1d: 1-D transposed convolution (ONNX ConvTranspose), NCL,
// with groups, stride, dilation, padding and optional bias.  Gathered per
// output: y[n, co, o] = bias + Σ x[n, ci, i] · w[ci, co mod (Cout/groups), k]
// over the group's ci and the (i, k) with i·stride + k·dilation − padLeft = o.
// OL (with output_padding and the right padding) comes from the host:
// (L − 1)·stride − padLeft − padRight + dilation·(K − 1) + outputPadding + 1.
//
// @group(0) @binding(0) x: array<real> [N, Cin, L]
// @group(0) @binding(1) w: array<real> [Cin, Cout / groups, K]
// @group(0) @binding(2) bias: array<real> [Cout] (read only when hasBias = 1)
// @group(0) @binding(3) y: array<real> [N, Cout, OL] output
// @group(0) @binding(4) params: Params
//
// Params:
//   N, Cin, L: u32
//   Cout, OL: u32
//   K: u32
//   stride, dilation: u32
//   padLeft: u32
//   groups: u32
//   hasBias: u32
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
  let idx = gid.x + gid.y * nwg.x * 256u;
  if (idx >= params.N * params.Cout * params.OL) {
    return;
  }
  let o = idx % params.OL;
  let co = (idx / params.OL) % params.Cout;
  let n = idx / (params.OL * params.Cout);
  let coutG = params.Cout / params.groups;
  let cinG = params.Cin / params.groups;
  let ci0 = (co / coutG) * cinG;
  let cl = co % coutG;
  var acc = 0.0;
  if (params.hasBias == 1u) {
    acc = f32(bias[co]);
  }
  for (var k = 0u; k < params.K; k++) {
    let num = i32(o + params.padLeft) - i32(k * params.dilation);
    if (num < 0 || u32(num) % params.stride != 0u) {
      continue;
    }
    let i = u32(num) / params.stride;
    if (i >= params.L) {
      continue;
    }
    for (var c = 0u; c < cinG; c++) {
      let ci = ci0 + c;
      acc += f32(x[(n * params.Cin + ci) * params.L + i]) * f32(w[(ci * coutG + cl) * params.K + k]);
    }
  }
  y[idx] = real(acc);
}
