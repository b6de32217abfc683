// letterboxResize: an RGBA8 image into a model's normalised input tensor in
// one pass: scaled (bilinear, half-pixel centres) into the content
// rectangle [padLeft, padLeft + contentW) × [padTop, padTop + contentH) of
// an outW × outH tensor, the rest padValue, each channel normalised as
// (byte / 255 − mean[c]) / stddev[c].  The host picks the rectangle (aspect-
// preserving letterbox: content = in · min(outW / inW, outH / inH), centred;
// or the whole output for a plain resize).
//
// @group(0) @binding(0) image: array<u32> [inH, inW] RGBA8, R in the low byte
// @group(0) @binding(1) out: array<real> [3, outH, outW] (outLayout 0) or [outH, outW, 3] (outLayout 1)
// @group(0) @binding(2) params: Params
//
// Params:
//   inW, inH: u32              image size
//   outW, outH: u32            tensor size
//   padLeft, padTop: u32       content rectangle origin
//   contentW, contentH: u32    content rectangle size (≥ 1)
//   outLayout: u32                0 CHW, 1 HWC
//   padValue: f32              written outside the content
//   mean, stddev: vec4f           per channel (R, G, B; w unused)
//
// Dispatch: ceil(outW·outH / 256) workgroups as (x, y, 1), x ≤ 65535; each
// thread writes the three channels of one pixel.

alias real = f32;

struct Params {
  inW: u32,
  inH: u32,
  outW: u32,
  outH: u32,
  padLeft: u32,
  padTop: u32,
  contentW: u32,
  contentH: u32,
  outLayout: u32,
  padValue: f32,
  mean: vec4f,
  stddev: vec4f,
}

@group(0) @binding(0) var<storage, read> image: array<u32>;
@group(0) @binding(1) var<storage, read_write> out: array<real>;
@group(0) @binding(2) var<uniform> params: Params;

fn pixel(px: u32, py: u32) -> vec3f {
  let p = image[py * params.inW + px];
  return vec3f(f32(p & 0xffu), f32((p >> 8u) & 0xffu), f32((p >> 16u) & 0xffu));
}

fn store(ox: u32, oy: u32, v: vec3f) {
  let plane = params.outW * params.outH;
  let o = oy * params.outW + ox;
  for (var c = 0u; c < 3u; c++) {
    if (params.outLayout == 0u) {
      out[c * plane + o] = real(v[c]);
    } else {
      out[o * 3u + c] = real(v[c]);
    }
  }
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= params.outW * params.outH) {
    return;
  }
  let ox = i % params.outW;
  let oy = i / params.outW;
  if (ox < params.padLeft || ox >= params.padLeft + params.contentW ||
      oy < params.padTop || oy >= params.padTop + params.contentH) {
    store(ox, oy, vec3f(params.padValue));
    return;
  }
  let sx = clamp((f32(ox - params.padLeft) + 0.5) * f32(params.inW) / f32(params.contentW) - 0.5,
                 0.0, f32(params.inW - 1u));
  let sy = clamp((f32(oy - params.padTop) + 0.5) * f32(params.inH) / f32(params.contentH) - 0.5,
                 0.0, f32(params.inH - 1u));
  let x0 = u32(floor(sx));
  let y0 = u32(floor(sy));
  let x1 = min(x0 + 1u, params.inW - 1u);
  let y1 = min(y0 + 1u, params.inH - 1u);
  let fx = sx - f32(x0);
  let fy = sy - f32(y0);
  let top = mix(pixel(x0, y0), pixel(x1, y0), fx);
  let bottom = mix(pixel(x0, y1), pixel(x1, y1), fx);
  let rgb = mix(top, bottom, fy) / 255.0;
  store(ox, oy, (rgb - params.mean.xyz) / params.stddev.xyz);
}
