// conv2d: 2-D convolution, NCHW, with groups, stride, dilation, asymmetric
// padding, optional bias and a fused ReLU / ReLU6.  One thread per output
// element.  Padding is given as the top and left amounts; the bottom and
// right ones only decide OH and OW, which the host computes (TFLite SAME:
// total = max((OH−1)·stride + (KH−1)·dilation + 1 − H, 0), top = total / 2
// rounded down, bottom = the rest).  Taps outside the input read zero.
//
// @group(0) @binding(0) x: array<real> [N, Cin, H, W]
// @group(0) @binding(1) w: array<real> [Cout, Cin / groups, KH, KW]
// @group(0) @binding(2) bias: array<real> [Cout] (read only when hasBias = 1)
// @group(0) @binding(3) y: array<real> [N, Cout, OH, OW] output
// @group(0) @binding(4) params: Params
//
// Params:
//   N, Cin, H, W: u32        input shape
//   Cout, OH, OW: u32        output channels and size
//   KH, KW: u32              kernel size
//   strideH, strideW: u32
//   dilationH, dilationW: u32
//   padTop, padLeft: u32     zero padding before the first row / column
//   groups: u32              Cin and Cout are both multiples of it
//   hasBias: u32             1: add bias[co]
//   activation: u32          0 none, 1 ReLU, 2 ReLU6
//
// Dispatch: ceil(N·Cout·OH·OW / 256) workgroups as (x, y, 1), x ≤ 65535.

alias real = f32;

struct Params {
  N: u32,
  Cin: u32,
  H: u32,
  W: u32,
  Cout: u32,
  OH: u32,
  OW: u32,
  KH: u32,
  KW: u32,
  strideH: u32,
  strideW: u32,
  dilationH: u32,
  dilationW: u32,
  padTop: u32,
  padLeft: u32,
  groups: u32,
  hasBias: u32,
  activation: u32,
}

@group(0) @binding(0) var<storage, read> x: array<real>;
@group(0) @binding(1) var<storage, read> w: array<real>;
@group(0) @binding(2) var<storage, read> bias: array<real>;
@group(0) @binding(3) var<storage, read_write> y: array<real>;
@group(0) @binding(4) var<uniform> params: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  let total = params.N * params.Cout * params.OH * params.OW;
  if (i >= total) {
    return;
  }
  let ox = i % params.OW;
  let oy = (i / params.OW) % params.OH;
  let co = (i / (params.OW * params.OH)) % params.Cout;
  let n = i / (params.OW * params.OH * params.Cout);
  let cinG = params.Cin / params.groups;
  let coutG = params.Cout / params.groups;
  let ci0 = (co / coutG) * cinG;
  var acc = 0.0;
  if (params.hasBias == 1u) {
    acc = f32(bias[co]);
  }
  for (var c = 0u; c < cinG; c++) {
    let xPlane = (n * params.Cin + ci0 + c) * params.H * params.W;
    let wPlane = (co * cinG + c) * params.KH * params.KW;
    for (var ky = 0u; ky < params.KH; ky++) {
      let iy = i32(oy * params.strideH + ky * params.dilationH) - i32(params.padTop);
      if (iy < 0 || iy >= i32(params.H)) {
        continue;
      }
      for (var kx = 0u; kx < params.KW; kx++) {
        let ix = i32(ox * params.strideW + kx * params.dilationW) - i32(params.padLeft);
        if (ix < 0 || ix >= i32(params.W)) {
          continue;
        }
        acc += f32(x[xPlane + u32(iy) * params.W + u32(ix)]) *
               f32(w[wPlane + ky * params.KW + kx]);
      }
    }
  }
  if (params.activation == 1u) {
    acc = max(acc, 0.0);
  } else if (params.activation == 2u) {
    acc = clamp(acc, 0.0, 6.0);
  }
  y[i] = real(acc);
}
