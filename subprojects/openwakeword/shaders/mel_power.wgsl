// melPower: the melspectrogram model's power spectrum from its two STFT
// convolutions (ONNX Unsqueeze + Transpose perm [0, 1, 3, 2], then
// real² + imag²): p[t, f] = re[f, t]² + im[f, t]², i.e. [bins, T] → [T, bins].
//
// @group(0) @binding(0) re: array<real> [bins, T] conv_real output
// @group(0) @binding(1) im: array<real> [bins, T] conv_imag output
// @group(0) @binding(2) p: array<real> [T, bins] output
// @group(0) @binding(3) params: Params
//
// Params:
//   bins: u32      frequency bins (257)
//   T: u32         frames
//
// Dispatch: ceil(bins·T / 256) workgroups as (x, y, 1), x ≤ 65535; the
// linear index is gid.x + gid.y · x · 256.

alias real = f32;

struct Params {
  bins: u32,
  T: u32,
}

@group(0) @binding(0) var<storage, read> re: array<real>;
@group(0) @binding(1) var<storage, read> im: array<real>;
@group(0) @binding(2) var<storage, read_write> p: array<real>;
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= params.bins * params.T) {
    return;
  }
  let t = i / params.bins;
  let f = i % params.bins;
  let r = f32(re[f * params.T + t]);
  let m = f32(im[f * params.T + t]);
  p[i] = real(r * r + m * m);
}
