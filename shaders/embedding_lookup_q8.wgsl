// embeddingLookupQ8: out[t, :] = dequantised row ids[t] of a Q8_0 table in
// m2w-pack's layout, so a large embedding stays quantised on the GPU.  An id
// outside the table gives zeros.
// Q8_0 packed: each block of 32 weights is 9 u32: word 0 the scale as f32
// bits, words 1..8 the 32 int8 quants, four per word, little-endian (quant
// 4w + b in byte b of word 1 + w); weight = scale · quant.  A row of D
// weights is D / 32 consecutive blocks.
//
// @group(0) @binding(0) ids: array<u32> [T] token ids
// @group(0) @binding(1) table: array<u32> [V, D / 32, 9] Q8_0 packed
// @group(0) @binding(2) out: array<real> [T, D] output
// @group(0) @binding(3) params: Params
//
// Params:
//   T: u32   tokens
//   V: u32   table rows
//   D: u32   row length, a multiple of 32
//
// Dispatch: ceil(T·D / 256) workgroups as (x, y, 1), x ≤ 65535.

alias real = f32;

struct Params {
  T: u32,
  V: u32,
  D: u32,
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
    let blk = (id * (params.D / 32u) + col / 32u) * 9u;
    let q = col % 32u;
    let word = bitcast<i32>(table[blk + 1u + q / 4u]);
    // sign-extend byte q % 4
    let b = (word << (24u - 8u * (q % 4u))) >> 24u;
    v = bitcast<f32>(table[blk]) * f32(b);
  }
  out[i] = real(v);
}
