// adain: adaptive instance norm, y = (x − mean) / sqrt(var + eps) ·
// (gammaOffset + gamma[n, c]) + beta[n, c], statistics over each (n, c)
// row of length L (biased variance).  gamma and beta come per instance from
// a style vector; gammaOffset = 1 gives StyleTTS's (1 + γ) form, 0 the
// classic one.  One workgroup per (n, c), two-pass (mean, then variance).
//
// @group(0) @binding(0) x: array<real> [N, C, L]
// @group(0) @binding(1) gamma: array<real> [N, C]
// @group(0) @binding(2) beta: array<real> [N, C]
// @group(0) @binding(3) y: array<real> [N, C, L] output
// @group(0) @binding(4) params: Params
//
// Params:
//   planes: u32        N·C
//   L: u32             elements per plane
//   eps: f32
//   gammaOffset: f32   added to gamma (1 for StyleTTS)
//
// Dispatch: planes workgroups as (x, y, 1), x ≤ 65535.

alias real = f32;

struct Params {
  planes: u32,
  L: u32,
  eps: f32,
  gammaOffset: f32,
}

@group(0) @binding(0) var<storage, read> x: array<real>;
@group(0) @binding(1) var<storage, read> gamma: array<real>;
@group(0) @binding(2) var<storage, read> beta: array<real>;
@group(0) @binding(3) var<storage, read_write> y: array<real>;
@group(0) @binding(4) var<uniform> params: Params;

const WG = 256u;
var<workgroup> red: array<f32, 256>;

fn wgSum(v: f32, lid: u32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var h = WG / 2u; h > 0u; h /= 2u) {
    if (lid < h) {
      red[lid] += red[lid + h];
    }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u,
        @builtin(num_workgroups) nwg: vec3u) {
  let plane = wid.x + wid.y * nwg.x;
  if (plane >= params.planes) {
    return;
  }
  let base = plane * params.L;
  var s = 0.0;
  for (var k = lid.x; k < params.L; k += WG) {
    s += f32(x[base + k]);
  }
  let mean = wgSum(s, lid.x) / f32(params.L);
  var ss = 0.0;
  for (var k = lid.x; k < params.L; k += WG) {
    let d = f32(x[base + k]) - mean;
    ss += d * d;
  }
  let inv = inverseSqrt(wgSum(ss, lid.x) / f32(params.L) + params.eps);
  let g = (params.gammaOffset + f32(gamma[plane])) * inv;
  let b = f32(beta[plane]);
  for (var k = lid.x; k < params.L; k += WG) {
    y[base + k] = real((f32(x[base + k]) - mean) * g + b);
  }
}
