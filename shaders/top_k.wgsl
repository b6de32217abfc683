// topK: each row's k largest values and their indices, in descending order
// (equal values: smaller index first; NaNs never chosen; −3.4e38 and below
// rank as "none" and give index 0xffffffff when a row runs out).  One
// workgroup per row; k rounds, each a workgroup reduce for the best element
// ranked after the previous pick, so no scratch and O(k · cols / 256) work:
// meant for sampling (k up to a few hundred).
//
// @group(0) @binding(0) x: array<real> [rows, cols]
// @group(0) @binding(1) values: array<real> [rows, k] output
// @group(0) @binding(2) indices: array<u32> [rows, k] output
// @group(0) @binding(3) params: Params
//
// Params:
//   rows, cols: u32
//   k: u32           picks per row
//
// Dispatch: rows workgroups as (x, y, 1), x ≤ 65535; row = wid.x + wid.y · x.

alias real = f32;

struct Params {
  rows: u32,
  cols: u32,
  k: u32,
}

@group(0) @binding(0) var<storage, read> x: array<real>;
@group(0) @binding(1) var<storage, read_write> values: array<real>;
@group(0) @binding(2) var<storage, read_write> indices: array<u32>;
@group(0) @binding(3) var<uniform> params: Params;

const WG = 256u;
const NONE = 0xffffffffu;
var<workgroup> bestV: array<f32, 256>;
var<workgroup> bestI: array<u32, 256>;

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
  var prevV = 3.4e38;
  var prevI = NONE;
  var first = true;
  for (var r = 0u; r < params.k; r++) {
    var bv = -3.4e38;
    var bi = NONE;
    for (var j = lid.x; j < params.cols; j += WG) {
      let v = f32(x[base + j]);
      // candidates rank strictly after the previous pick
      let after = first || beats(prevV, prevI, v, j);
      if (after && beats(v, j, bv, bi)) {
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
    prevV = bestV[0];
    prevI = bestI[0];
    first = false;
    workgroupBarrier();
    if (lid.x == 0u) {
      values[row * params.k + r] = real(prevV);
      indices[row * params.k + r] = prevI;
    }
  }
}
