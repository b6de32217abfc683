// avgPool: 2-D average pooling, NCHW, with stride, dilation and padding.
// countIncludePad = 0: the mean of the window's taps inside the input
// (TFLite, ONNX default).  1: padded taps count as zeros, the divisor being
// the taps inside [−padTop, H + padBottom) × [−padLeft, W + padRight)
// (ONNX count_include_pad, PyTorch; a ceil-mode window past the padding is
// clipped).  A window with no taps gives 0.
//
// @group(0) @binding(0) x: array<real> [N, C, H, W]
// @group(0) @binding(1) y: array<real> [N, C, OH, OW] output
// @group(0) @binding(2) params: Params
//
// Params:
//   planes: u32               N·C
//   H, W, OH, OW: u32
//   KH, KW: u32               window
//   strideH, strideW: u32
//   dilationH, dilationW: u32
//   padTop, padLeft: u32
//   padBottom, padRight: u32  (divisor with countIncludePad)
//   countIncludePad: u32
//
// Dispatch: ceil(planes·OH·OW / 256) workgroups as (x, y, 1), x ≤ 65535.

alias real = f32;

struct Params {
  planes: u32,
  H: u32,
  W: u32,
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
  padBottom: u32,
  padRight: u32,
  countIncludePad: u32,
}

@group(0) @binding(0) var<storage, read> x: array<real>;
@group(0) @binding(1) var<storage, read_write> y: array<real>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= params.planes * params.OH * params.OW) {
    return;
  }
  let ox = i % params.OW;
  let oy = (i / params.OW) % params.OH;
  let base = (i / (params.OW * params.OH)) * params.H * params.W;
  var s = 0.0;
  var inside = 0u;
  var counted = 0u;
  for (var ky = 0u; ky < params.KH; ky++) {
    let iy = i32(oy * params.strideH + ky * params.dilationH) - i32(params.padTop);
    for (var kx = 0u; kx < params.KW; kx++) {
      let ix = i32(ox * params.strideW + kx * params.dilationW) - i32(params.padLeft);
      let inY = iy >= 0 && iy < i32(params.H);
      let inX = ix >= 0 && ix < i32(params.W);
      if (inY && inX) {
        s += f32(x[base + u32(iy) * params.W + u32(ix)]);
        inside++;
      }
      if (iy < i32(params.H + params.padBottom) && ix < i32(params.W + params.padRight)) {
        counted++; // iy, ix ≥ −pad always holds
      }
    }
  }
  let div = select(inside, counted, params.countIncludePad == 1u);
  y[i] = real(select(s / f32(div), 0.0, div == 0u));
}
