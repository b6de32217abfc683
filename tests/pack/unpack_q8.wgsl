// unpackQ8: out[i] = weight i of a Q8_0 tensor in m2w-pack's layout, as f32;
// the layout's reference reader, for the pack suite's WGSL test.
// Q8_0 packed: each block of 32 weights is 9 u32: word 0 the scale as f32
// bits, words 1..8 the 32 int8 quants, four per word, little-endian (quant
// e in byte e % 4 of word 1 + e / 4); weight = scale · quant.
//
// @group(0) @binding(0) wq: array<u32> [n / 32, 9] Q8_0 packed weights
// @group(0) @binding(1) out: array<f32> [n] output
// @group(0) @binding(2) params: Params
//
// Params:
//   n: u32   weights, a multiple of 32
//
// Dispatch: ceil(n / 256) workgroups as (x, y, 1), x ≤ 65535;
// i = gid.x + gid.y · nwg.x · 256.

struct Params {
  n: u32,
}

@group(0) @binding(0) var<storage, read> wq: array<u32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= params.n) {
    return;
  }
  let blk = (i / 32u) * 9u;
  let e = i % 32u;
  let w = bitcast<i32>(wq[blk + 1u + e / 4u]);
  // sign-extend byte e % 4
  let q = (w << (24u - 8u * (e % 4u))) >> 24u;
  out[i] = bitcast<f32>(wq[blk]) * f32(q);
}
