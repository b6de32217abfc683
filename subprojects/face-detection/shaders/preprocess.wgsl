// preprocess: MediaPipe's ImageToTensorCalculator for face detection, in one
// pass: the source image (an rgba8unorm texture) sampled into the model's
// size × size input, NCHW, each output pixel centre mapped to the source
// point origin + (o + 0.5) · step (pixel units), bilinear between pixel
// centres with clamp-to-edge; a point outside the image gives 0
// (BORDER_ZERO); then v ∈ [0, 1] → lo + v · (hi − lo).  The host picks origin
// and step: keep_aspect_ratio letterboxes the whole image into a square of
// side max(W, H) centred on it (see src/preprocess.ts).
//
// @group(0) @binding(0) image: texture_2d<f32> the source, rgba8unorm, inW × inH
// @group(0) @binding(1) out: array<real> [3, size, size] output
// @group(0) @binding(2) params: Params
// @group(0) @binding(3) split: array<real> [3, size, 2, size/2] output, the
//   same values with each row's even columns first, then its odd ones
//   (what stem.wgsl's stride-2 taps read contiguously)
//
// Params:
//   inW, inH: u32          image size (pixels)
//   size: u32              output side
//   originX, originY: f32  source point of output coordinate 0 (pixels)
//   step: f32              source pixels per output pixel
//   lo, hi: f32            output range
//
// Dispatch: ceil(size·size / 256) workgroups as (x, 1, 1).

alias real = f32;

struct Params {
  inW: u32,
  inH: u32,
  size: u32,
  originX: f32,
  originY: f32,
  step: f32,
  lo: f32,
  hi: f32,
}

@group(0) @binding(0) var image: texture_2d<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<real>;
@group(0) @binding(2) var<uniform> params: Params;
@group(0) @binding(3) var<storage, read_write> split: array<real>;

fn texel(x: i32, y: i32) -> vec3f {
  let cx = clamp(x, 0, i32(params.inW) - 1);
  let cy = clamp(y, 0, i32(params.inH) - 1);
  return textureLoad(image, vec2i(cx, cy), 0).rgb;
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x;
  let plane = params.size * params.size;
  if (i >= plane) {
    return;
  }
  let ox = i % params.size;
  let oy = i / params.size;
  let sx = params.originX + (f32(ox) + 0.5) * params.step;
  let sy = params.originY + (f32(oy) + 0.5) * params.step;
  var v = vec3f(0.0);
  if (sx >= 0.0 && sx <= f32(params.inW) && sy >= 0.0 && sy <= f32(params.inH)) {
    let px = sx - 0.5;
    let py = sy - 0.5;
    let x0 = floor(px);
    let y0 = floor(py);
    let fx = px - x0;
    let fy = py - y0;
    let ix = i32(x0);
    let iy = i32(y0);
    let top = mix(texel(ix, iy), texel(ix + 1, iy), fx);
    let bottom = mix(texel(ix, iy + 1), texel(ix + 1, iy + 1), fx);
    v = mix(top, bottom, fy);
  }
  let r = params.lo + v * (params.hi - params.lo);
  out[i] = real(r.x);
  out[plane + i] = real(r.y);
  out[2u * plane + i] = real(r.z);
  let j = oy * params.size + (ox % 2u) * (params.size / 2u) + ox / 2u;
  split[j] = real(r.x);
  split[plane + j] = real(r.y);
  split[2u * plane + j] = real(r.z);
}
