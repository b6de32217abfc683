// attnScore: scores[h, t, s] = scale · q[t, h, :] · kCache[h / group, s, :]
// for keys s < keys, with grouped-query attention (group = heads /
// kvHeads query heads share a KV head).  causal = 1 masks keys after the
// query's position (pos0 + t) with −65504 (the f16 minimum, so the f16
// variant compiles too), which softmax turns into 0.
// One thread per score.
//
// @group(0) @binding(0) q: array<real> [T, heads, headDim]
// @group(0) @binding(1) kCache: array<real> [kvHeads, maxSeq, headDim]
// @group(0) @binding(2) scores: array<real> [heads, T, keys] output
// @group(0) @binding(3) params: Params
//
// Params:
//   T, heads, kvHeads, headDim: u32
//   maxSeq: u32   cache length
//   keys: u32     keys attended to (pos0 + T for a causal step)
//   pos0: u32     position of query 0
//   causal: u32   1: mask keys after the query
//   scale: f32    usually 1 / sqrt(headDim)
//
// Dispatch: ceil(heads·T·keys / 256) workgroups as (x, y, 1), x ≤ 65535.

alias real = f32;

struct Params {
  T: u32,
  heads: u32,
  kvHeads: u32,
  headDim: u32,
  maxSeq: u32,
  keys: u32,
  pos0: u32,
  causal: u32,
  scale: f32,
}

@group(0) @binding(0) var<storage, read> q: array<real>;
@group(0) @binding(1) var<storage, read> kCache: array<real>;
@group(0) @binding(2) var<storage, read_write> scores: array<real>;
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= params.heads * params.T * params.keys) {
    return;
  }
  let s = i % params.keys;
  let t = (i / params.keys) % params.T;
  let h = i / (params.keys * params.T);
  if (params.causal == 1u && s > params.pos0 + t) {
    scores[i] = real(-65504.0);
    return;
  }
  let kvh = h / (params.heads / params.kvHeads);
  let qo = (t * params.heads + h) * params.headDim;
  let ko = (kvh * params.maxSeq + s) * params.headDim;
  var acc = 0.0;
  for (var d = 0u; d < params.headDim; d++) {
    acc += f32(q[qo + d]) * f32(kCache[ko + d]);
  }
  scores[i] = real(acc * params.scale);
}
