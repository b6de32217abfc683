// rmsNorm: y = x / sqrt(mean(x²) + eps) · weight, over the last dimension;
// one workgroup per row, a strided sum reduced in workgroup memory.
//
// @group(0) @binding(0) x: array<real> [rows, cols]
// @group(0) @binding(1) weight: array<real> [cols]
// @group(0) @binding(2) y: array<real> [rows, cols] output
// @group(0) @binding(3) params: Params
//
// Params:
//   rows, cols: u32
//   eps: f32
//
// Dispatch: rows workgroups as (x, y, 1), x ≤ 65535; row = wid.x + wid.y · x.

alias real = f32;

struct Params {
  rows: u32,
  cols: u32,
  eps: f32,
}

@group(0) @binding(0) var<storage, read> x: array<real>;
@group(0) @binding(1) var<storage, read> weight: array<real>;
@group(0) @binding(2) var<storage, read_write> y: array<real>;
@group(0) @binding(3) var<uniform> params: Params;

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
  let row = wid.x + wid.y * nwg.x;
  if (row >= params.rows) {
    return;
  }
  let base = row * params.cols;
  var ss = 0.0;
  for (var j = lid.x; j < params.cols; j += WG) {
    let v = f32(x[base + j]);
    ss += v * v;
  }
  let scale = inverseSqrt(wgSum(ss, lid.x) / f32(params.cols) + params.eps);
  for (var j = lid.x; j < params.cols; j += WG) {
    y[base + j] = real(f32(x[base + j]) * scale * f32(weight[j]));
  }
}
