// argmax: the index of each row's largest value (the first one on ties;
// NaNs never win).  One workgroup per row, (value, index) pairs reduced in
// workgroup memory.
//
// @group(0) @binding(0) x: array<real> [rows, cols]
// @group(0) @binding(1) out: array<u32> [rows] output
// @group(0) @binding(2) params: Params
//
// Params:
//   rows, cols: u32
//
// Dispatch: rows workgroups as (x, y, 1), x ≤ 65535; row = wid.x + wid.y · x.

alias real = f32;

struct Params {
  rows: u32,
  cols: u32,
}

@group(0) @binding(0) var<storage, read> x: array<real>;
@group(0) @binding(1) var<storage, read_write> out: array<u32>;
@group(0) @binding(2) var<uniform> params: Params;

const WG = 256u;
var<workgroup> bestV: array<f32, 256>;
var<workgroup> bestI: array<u32, 256>;

// (va, ia) beats (vb, ib): larger value, or equal value and smaller index.
fn beats(va: f32, ia: u32, vb: f32, ib: u32) -> bool {
  return va > vb || (va == vb && ia < ib);
}

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u,
        @builtin(num_workgroups) nwg: vec3u) {
  let row = wid.x + wid.y * nwg.x;
  if (row >= params.rows) {
    return;
  }
  let base = row * params.cols;
  var bv = -3.4e38;
  var bi = 0xffffffffu;
  for (var j = lid.x; j < params.cols; j += WG) {
    let v = f32(x[base + j]);
    if (beats(v, j, bv, bi)) {
      bv = v;
      bi = j;
    }
  }
  bestV[lid.x] = bv;
  bestI[lid.x] = bi;
  workgroupBarrier();
  for (var h = WG / 2u; h > 0u; h /= 2u) {
    if (lid.x < h && beats(bestV[lid.x + h], bestI[lid.x + h], bestV[lid.x], bestI[lid.x])) {
      bestV[lid.x] = bestV[lid.x + h];
      bestI[lid.x] = bestI[lid.x + h];
    }
    workgroupBarrier();
  }
  if (lid.x == 0u) {
    out[row] = bestI[0];
  }
}
