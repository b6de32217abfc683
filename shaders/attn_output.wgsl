// attnOutput: out[t, h, :] = Σ_s probs[h, t, s] · vCache[h / group, s, :],
// the attention-weighted sum of values (probs are softmax(scores) rows;
// group = heads / kvHeads).  One thread per output element.
//
// @group(0) @binding(0) probs: array<real> [heads, T, keys]
// @group(0) @binding(1) vCache: array<real> [kvHeads, maxSeq, headDim]
// @group(0) @binding(2) out: array<real> [T, heads, headDim] output
// @group(0) @binding(3) params: Params
//
// Params:
//   T, heads, kvHeads, headDim: u32
//   maxSeq: u32   cache length
//   keys: u32     keys attended to
//
// Dispatch: ceil(T·heads·headDim / 256) workgroups as (x, y, 1), x ≤ 65535.

alias real = f32;

struct Params {
  T: u32,
  heads: u32,
  kvHeads: u32,
  headDim: u32,
  maxSeq: u32,
  keys: u32,
}

@group(0) @binding(0) var<storage, read> probs: array<real>;
@group(0) @binding(1) var<storage, read> vCache: array<real>;
@group(0) @binding(2) var<storage, read_write> out: array<real>;
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= params.T * params.heads * params.headDim) {
    return;
  }
  let d = i % params.headDim;
  let h = (i / params.headDim) % params.heads;
  let t = i / (params.headDim * params.heads);
  let kvh = h / (params.heads / params.kvHeads);
  let po = (h * params.T + t) * params.keys;
  let vo = kvh * params.maxSeq * params.headDim + d;
  var acc = 0.0;
  for (var s = 0u; s < params.keys; s++) {
    acc += f32(probs[po + s]) * f32(vCache[vo + s * params.headDim]);
  }
  out[i] = real(acc);
}
