// depthwiseConv2d: each input channel convolved with its own mult filters
// (output channel co reads input channel co / mult), NCHW, with stride,
// dilation, asymmetric padding (top / left given; OH, OW from the host, e.g.
// TFLite SAME as in conv2d.wgsl), optional bias and fused ReLU / ReLU6.
// Weights in ONNX's grouped layout [C·mult, 1, KH, KW] (TFLite's
// [1, KH, KW, C·mult] transposed by m2w-extract).
//
// @group(0) @binding(0) x: array<real> [N, C, H, W]
// @group(0) @binding(1) w: array<real> [C·mult, 1, KH, KW]
// @group(0) @binding(2) bias: array<real> [C·mult] (read only when hasBias = 1)
// @group(0) @binding(3) y: array<real> [N, C·mult, OH, OW] output
// @group(0) @binding(4) params: Params
//
// Params:
//   N, C, H, W: u32          input shape
//   mult: u32                channel multiplier
//   OH, OW: u32              output size
//   KH, KW: u32              kernel size
//   strideH, strideW: u32
//   dilationH, dilationW: u32
//   padTop, padLeft: u32
//   hasBias: u32             1: add bias
//   activation: u32          0 none, 1 ReLU, 2 ReLU6
//
// Dispatch: ceil(N·C·mult·OH·OW / 256) workgroups as (x, y, 1), x ≤ 65535.

alias real = f32;

struct Params {
  N: u32,
  C: u32,
  H: u32,
  W: u32,
  mult: u32,
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
  let cout = params.C * params.mult;
  if (i >= params.N * cout * params.OH * params.OW) {
    return;
  }
  let ox = i % params.OW;
  let oy = (i / params.OW) % params.OH;
  let co = (i / (params.OW * params.OH)) % cout;
  let n = i / (params.OW * params.OH * cout);
  let xPlane = (n * params.C + co / params.mult) * params.H * params.W;
  let wPlane = co * params.KH * params.KW;
  var acc = 0.0;
  if (params.hasBias == 1u) {
    acc = f32(bias[co]);
  }
  for (var ky = 0u; ky < params.KH; ky++) {
    let iy = i32(oy * params.strideH + ky * params.dilationH) - i32(params.padTop);
    if (iy < 0 || iy >= i32(params.H)) {
      continue;
    }
    for (var kx = 0u; kx < params.KW; kx++) {
      let ix = i32(ox * params.strideW + kx * params.dilationW) - i32(params.padLeft);
      if (ix >= 0 && ix < i32(params.W)) {
        acc += f32(x[xPlane + u32(iy) * params.W + u32(ix)]) * f32(w[wPlane + ky * params.KW + kx]);
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
