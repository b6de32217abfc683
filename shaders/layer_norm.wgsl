// layerNorm: y = (x − mean) / sqrt(var + eps) · gamma + beta over the last
// dimension (biased variance, as ONNX LayerNormalization).  One workgroup
// per row; the mean first, then the variance of (x − mean), so no
// cancellation from E[x²] − E[x]².
//
// @group(0) @binding(0) x: array<real> [rows, cols]
// @group(0) @binding(1) gamma: array<real> [cols]
// @group(0) @binding(2) beta: array<real> [cols] (read only when hasBias = 1)
// @group(0) @binding(3) y: array<real> [rows, cols] output
// @group(0) @binding(4) params: Params
//
// Params:
//   rows, cols: u32
//   eps: f32
//   hasBias: u32   1: add beta
//
// Dispatch: rows workgroups as (x, y, 1), x ≤ 65535; row = wid.x + wid.y · x.

alias real = f32;

struct Params {
  rows: u32,
  cols: u32,
  eps: f32,
  hasBias: u32,
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
  let row = wid.x + wid.y * nwg.x;
  if (row >= params.rows) {
    return;
  }
  let base = row * params.cols;
  let n = f32(params.cols);
  var s = 0.0;
  for (var j = lid.x; j < params.cols; j += WG) {
    s += f32(x[base + j]);
  }
  let mean = wgSum(s, lid.x) / n;
  var ss = 0.0;
  for (var j = lid.x; j < params.cols; j += WG) {
    let d = f32(x[base + j]) - mean;
    ss += d * d;
  }
  let inv = inverseSqrt(wgSum(ss, lid.x) / n + params.eps);
  for (var j = lid.x; j < params.cols; j += WG) {
    var v = (f32(x[base + j]) - mean) * inv * f32(gamma[j]);
    if (params.hasBias == 1u) {
      v += f32(beta[j]);
    }
    y[base + j] = real(v);
  }
}
