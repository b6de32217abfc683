// embedRows: out[t, :] = row ids[t] of an embedding table stored as u32
// words in f32, f16 (two per word) or m2w-pack's Q4_0 layout (5 u32 per
// 32 weights: f32 scale bits, then ggml's 16 nibble bytes; byte j holds
// weight j low and j + 16 high; weight = scale · (nibble − 8)), so every
// table stays in its file's type on the GPU (Q8_0 tables use
// embeddingLookupQ8).  An id outside the table gives zeros.
//
// @group(0) @binding(0) ids: array<u32> [T] token ids
// @group(0) @binding(1) table: array<u32> [V, D] in the kind's layout
// @group(0) @binding(2) out: array<real> [T, D] output
// @group(0) @binding(3) params: Params
//
// Params:
//   T: u32      tokens
//   V: u32      table rows
//   D: u32      row length (a multiple of 32 for Q4_0, even for f16)
//   kind: u32   0 f32, 1 f16, 2 Q4_0
//
// Dispatch: ceil(T·D / 256) workgroups as (x, y, 1), x ≤ 65535.

alias real = f32;

struct Params {
  T: u32,
  V: u32,
  D: u32,
  kind: u32,
}

@group(0) @binding(0) var<storage, read> ids: array<u32>;
@group(0) @binding(1) var<storage, read> table: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<real>;
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= params.T * params.D) {
    return;
  }
  let id = ids[i / params.D];
  let col = i % params.D;
  var v = 0.0;
  if (id < params.V) {
    if (params.kind == 0u) {
      v = bitcast<f32>(table[id * params.D + col]);
    } else if (params.kind == 1u) {
      let e = id * params.D + col;
      let p = unpack2x16float(table[e / 2u]);
      v = select(p.x, p.y, e % 2u == 1u);
    } else {
      let blk = (id * (params.D / 32u) + col / 32u) * 5u;
      let q = col % 32u;
      let j = q % 16u;
      let byte = (table[blk + 1u + j / 4u] >> (8u * (j % 4u))) & 0xffu;
      let nib = select(byte & 0xfu, byte >> 4u, q >= 16u);
      v = bitcast<f32>(table[blk]) * (f32(nib) - 8.0);
    }
  }
  out[i] = real(v);
}
