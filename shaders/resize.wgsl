// resize: 2-D resampling of NCHW planes, ONNX Resize / TFLite
// ResizeNearestNeighbor / ResizeBilinear.  An output coordinate x maps to
// the input coordinate
//   coord 0 half_pixel:          (x + 0.5) / scale − 0.5
//   coord 1 align_corners:       x · (in − 1) / (in · scale − 1)   (0 when out = 1;
//                                ONNX's resized length is in · scale, not the
//                                integer out, when scales are given; out
//                                itself when scale is out / in to 1e-5)
//   coord 2 asymmetric:          x / scale
//   coord 3 pytorch_half_pixel:  half_pixel, or 0 when out = 1
// with scale the output / input ratio (the host passes ONNX's scales, or
// out / in).  mode 0 nearest rounds it (nearest: 0 round_prefer_floor,
// 1 round_prefer_ceil, 2 floor, 3 ceil) and clamps to the input; mode 1
// bilinear clamps it to [0, in − 1] and blends the two neighbours (the
// same as TensorFlow's edge handling).
//
// @group(0) @binding(0) x: array<real> [planes, inH, inW]
// @group(0) @binding(1) y: array<real> [planes, outH, outW] output
// @group(0) @binding(2) params: Params
//
// Params:
//   planes: u32            N·C
//   inH, inW, outH, outW: u32
//   mode: u32              0 nearest, 1 bilinear
//   coord: u32             coordinate transform, see above
//   nearest: u32           rounding for mode 0, see above
//   scaleH, scaleW: f32    output / input size ratios
//
// Dispatch: ceil(planes·outH·outW / 256) workgroups as (x, y, 1), x ≤ 65535.

alias real = f32;

struct Params {
  planes: u32,
  inH: u32,
  inW: u32,
  outH: u32,
  outW: u32,
  mode: u32,
  coord: u32,
  nearest: u32,
  scaleH: f32,
  scaleW: f32,
}

@group(0) @binding(0) var<storage, read> x: array<real>;
@group(0) @binding(1) var<storage, read_write> y: array<real>;
@group(0) @binding(2) var<uniform> params: Params;

fn source(o: u32, outLen: u32, inLen: u32, scale: f32) -> f32 {
  let fo = f32(o);
  switch params.coord {
    case 1u: {
      if (outLen <= 1u) {
        return 0.0;
      }
      // in · scale, or out itself when the scale is out / in up to f32 rounding
      let len = f32(inLen) * scale;
      let resized = select(len, f32(outLen), abs(len - f32(outLen)) <= 1e-5 * f32(outLen));
      return fo * f32(inLen - 1u) / (resized - 1.0);
    }
    case 2u: {
      return fo / scale;
    }
    case 3u: {
      if (outLen <= 1u) {
        return 0.0;
      }
      return (fo + 0.5) / scale - 0.5;
    }
    default: {
      return (fo + 0.5) / scale - 0.5;
    }
  }
}

fn nearestIndex(s: f32, inLen: u32) -> u32 {
  var r: f32;
  switch params.nearest {
    case 1u: {
      r = floor(s + 0.5);
    }
    case 2u: {
      r = floor(s);
    }
    case 3u: {
      r = ceil(s);
    }
    default: {
      r = ceil(s - 0.5);
    }
  }
  return u32(clamp(r, 0.0, f32(inLen - 1u)));
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= params.planes * params.outH * params.outW) {
    return;
  }
  let ox = i % params.outW;
  let oy = (i / params.outW) % params.outH;
  let base = (i / (params.outW * params.outH)) * params.inH * params.inW;
  let sy = source(oy, params.outH, params.inH, params.scaleH);
  let sx = source(ox, params.outW, params.inW, params.scaleW);
  if (params.mode == 0u) {
    y[i] = x[base + nearestIndex(sy, params.inH) * params.inW + nearestIndex(sx, params.inW)];
    return;
  }
  let cy = clamp(sy, 0.0, f32(params.inH - 1u));
  let cx = clamp(sx, 0.0, f32(params.inW - 1u));
  let y0 = u32(floor(cy));
  let x0 = u32(floor(cx));
  let y1 = min(y0 + 1u, params.inH - 1u);
  let x1 = min(x0 + 1u, params.inW - 1u);
  let fy = cy - f32(y0);
  let fx = cx - f32(x0);
  let top = mix(f32(x[base + y0 * params.inW + x0]), f32(x[base + y0 * params.inW + x1]), fx);
  let bottom = mix(f32(x[base + y1 * params.inW + x0]), f32(x[base + y1 * params.inW + x1]), fx);
  y[i] = real(mix(top, bottom, fy));
}
