// softmax: along the last dimension, one workgroup per row, two passes.
// Pass 1: each thread walks the row with a stride of 256 keeping a running
// maximum and a sum of exp(x − max) rescaled when the maximum grows (online
// softmax); the 256 (max, sum) pairs are merged in workgroup memory.
// Pass 2: out = exp(x − max) / sum.  exp arguments are clamped to ±88.
//
// @group(0) @binding(0) x: array<real> [rows, cols]
// @group(0) @binding(1) y: array<real> [rows, cols] output
// @group(0) @binding(2) params: Params
//
// Params:
//   rows, cols: u32   rows is the product of the leading dimensions
//
// Dispatch: rows workgroups as (x, y, 1), x ≤ 65535; row = wid.x + wid.y · x.

alias real = f32;

struct Params {
  rows: u32,
  cols: u32,
}

@group(0) @binding(0) var<storage, read> x: array<real>;
@group(0) @binding(1) var<storage, read_write> y: array<real>;
@group(0) @binding(2) var<uniform> params: Params;

const WG = 256u;
var<workgroup> redMax: array<f32, 256>;
var<workgroup> redSum: array<f32, 256>;

fn expc(v: f32) -> f32 {
  return exp(clamp(v, -88.0, 88.0));
}

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u,
        @builtin(num_workgroups) nwg: vec3u) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= params.rows) {
    return;
  }
  let base = row * params.cols;
  var m = -3.4e38;
  var s = 0.0;
  for (var j = lid.x; j < params.cols; j += WG) {
    let v = f32(x[base + j]);
    if (v > m) {
      s = s * expc(m - v);
      m = v;
    }
    s += expc(v - m);
  }
  redMax[lid.x] = m;
  redSum[lid.x] = s;
  workgroupBarrier();
  for (var half = WG / 2u; half > 0u; half /= 2u) {
    if (lid.x < half) {
      let m1 = redMax[lid.x];
      let m2 = redMax[lid.x + half];
      let mm = max(m1, m2);
      redSum[lid.x] = redSum[lid.x] * expc(m1 - mm) + redSum[lid.x + half] * expc(m2 - mm);
      redMax[lid.x] = mm;
    }
    workgroupBarrier();
  }
  let rowMax = redMax[0];
  let inv = 1.0 / redSum[0];
  for (var j = lid.x; j < params.cols; j += WG) {
    y[base + j] = real(expc(f32(x[base + j]) - rowMax) * inv);
  }
}
