// melDb: the melspectrogram model's tail and openWakeWord's transform, in
// one workgroup: db = 10 · ln(max(x, clipLo)) / ln 10 (ONNX Clip, Log, Mul,
// Div), then out = max(db, max(db) − topDb) over the whole call (ReduceMax,
// Sub, Clip: a top-dB floor relative to the loudest value of this window),
// then feat = out / 10 + 2 (openWakeWord's melspec_transform) written at
// element featOffset of `feat` (the glue's mel history).
//
// @group(0) @binding(0) x: array<real> [n] mel energies
// @group(0) @binding(1) db: array<real> [n] output, decibels
// @group(0) @binding(2) out: array<real> [n] output, the model's output
// @group(0) @binding(3) feat: array<real> [featOffset + n] output, transformed
// @group(0) @binding(4) params: Params
//
// Params:
//   n: u32              elements (frames · 32)
//   featOffset: u32     first element written in feat
//   clipLo: f32         Clip minimum before the log (1e-10)
//   topDb: f32          dynamic range kept below the maximum (80)
//   scale, shift: f32   feat = out · scale + shift (0.1, 2)
//
// Dispatch: 1 workgroup.

alias real = f32;

struct Params {
  n: u32,
  featOffset: u32,
  clipLo: f32,
  topDb: f32,
  scale: f32,
  shift: f32,
}

@group(0) @binding(0) var<storage, read> x: array<real>;
@group(0) @binding(1) var<storage, read_write> db: array<real>;
@group(0) @binding(2) var<storage, read_write> out: array<real>;
@group(0) @binding(3) var<storage, read_write> feat: array<real>;
@group(0) @binding(4) var<uniform> params: Params;

const WG = 256u;
var<workgroup> red: array<f32, 256>;

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_id) lid3: vec3u) {
  let lid = lid3.x;
  var m = -3.4e38;
  for (var i = lid; i < params.n; i += WG) {
    // ONNX order: Log, Mul 10, Div ln 10 (2.3025851)
    let v = log(max(f32(x[i]), params.clipLo)) * 10.0 / 2.3025851;
    db[i] = real(v);
    m = max(m, v);
  }
  red[lid] = m;
  workgroupBarrier();
  for (var h = WG / 2u; h > 0u; h /= 2u) {
    if (lid < h) {
      red[lid] = max(red[lid], red[lid + h]);
    }
    workgroupBarrier();
  }
  let floorDb = red[0] - params.topDb;
  for (var i = lid; i < params.n; i += WG) {
    let o = max(f32(db[i]), floorDb);
    out[i] = real(o);
    feat[params.featOffset + i] = real(o * params.scale + params.shift);
  }
}
