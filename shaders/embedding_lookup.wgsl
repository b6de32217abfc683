// embeddingLookup: out[t, :] = table[ids[t], :]; an id outside the table
// gives a row of zeros.
//
// @group(0) @binding(0) ids: array<u32> [T] token ids
// @group(0) @binding(1) table: array<real> [V, D]
// @group(0) @binding(2) out: array<real> [T, D] output
// @group(0) @binding(3) params: Params
//
// Params:
//   T: u32   tokens
//   V: u32   table rows (vocabulary size)
//   D: u32   row length (hidden size)
//
// Dispatch: ceil(T·D / 256) workgroups as (x, y, 1), x ≤ 65535.

alias real = f32;

struct Params {
  T: u32,
  V: u32,
  D: u32,
}

@group(0) @binding(0) var<storage, read> ids: array<u32>;
@group(0) @binding(1) var<storage, read> table: array<real>;
@group(0) @binding(2) var<storage, read_write> out: array<real>;
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= params.T * params.D) {
    return;
  }
  let id = ids[i / params.D];
  var v = real(0.0);
  if (id < params.V) {
    v = table[id * params.D + i % params.D];
  }
  out[i] = v;
}
