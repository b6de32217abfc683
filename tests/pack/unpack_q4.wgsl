// unpackQ4: out[i] = weight i of a Q4_0 tensor in m2w-pack's layout, as f32;
// the layout's reference reader, for the pack suite's WGSL test.
// Q4_0 packed: each block of 32 weights is 5 u32: word 0 the scale as f32
// bits, words 1..4 ggml's 16 bytes of nibbles as little-endian u32 (byte j
// in byte j % 4 of word 1 + j / 4).  Weight e < 16 is the low nibble of
// byte e, weight e ≥ 16 the high nibble of byte e − 16;
// weight = scale · (nibble − 8).
//
// @group(0) @binding(0) wq: array<u32> [n / 32, 5] Q4_0 packed weights
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
  let blk = (i / 32u) * 5u;
  let e = i % 32u;
  let j = e % 16u;
  let w = wq[blk + 1u + j / 4u];
  let nib = (w >> (8u * (j % 4u) + select(0u, 4u, e >= 16u))) & 15u;
  out[i] = bitcast<f32>(wq[blk]) * (f32(nib) - 8.0);
}
