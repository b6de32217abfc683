// kvCacheStore: copies this step's keys and values into the caches at
// positions pos0 .. pos0 + T − 1; positions past maxSeq are dropped (the
// host keeps pos0 + T ≤ maxSeq).
//
// @group(0) @binding(0) k: array<real> [T, kvHeads, headDim]
// @group(0) @binding(1) v: array<real> [T, kvHeads, headDim]
// @group(0) @binding(2) kCache: array<real> [kvHeads, maxSeq, headDim] updated
// @group(0) @binding(3) vCache: array<real> [kvHeads, maxSeq, headDim] updated
// @group(0) @binding(4) params: Params
//
// Params:
//   T, kvHeads, headDim: u32
//   maxSeq: u32   cache length (positions)
//   pos0: u32     position of token 0
//
// Dispatch: ceil(T·kvHeads·headDim / 256) workgroups as (x, y, 1), x ≤ 65535.

alias real = f32;

struct Params {
  T: u32,
  kvHeads: u32,
  headDim: u32,
  maxSeq: u32,
  pos0: u32,
}

@group(0) @binding(0) var<storage, read> k: array<real>;
@group(0) @binding(1) var<storage, read> v: array<real>;
@group(0) @binding(2) var<storage, read_write> kCache: array<real>;
@group(0) @binding(3) var<storage, read_write> vCache: array<real>;
@group(0) @binding(4) var<uniform> params: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= params.T * params.kvHeads * params.headDim) {
    return;
  }
  let d = i % params.headDim;
  let h = (i / params.headDim) % params.kvHeads;
  let pos = params.pos0 + i / (params.headDim * params.kvHeads);
  if (pos >= params.maxSeq) {
    return;
  }
  let o = (h * params.maxSeq + pos) * params.headDim + d;
  kCache[o] = k[i];
  vCache[o] = v[i];
}
