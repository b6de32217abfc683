// concat: copies one input into its slice of the output along an axis; the
// host dispatches once per input.  Seen as 3-D: input [outer, inBlock],
// output [outer, outBlock], where a block is (length along the axis) ·
// (product of the dims after it), and the input starts at offset within an
// output block (the lengths of the inputs before it · inner).
//
// @group(0) @binding(0) x: array<real> [outer, inBlock] one input
// @group(0) @binding(1) out: array<real> [outer, outBlock] output (this input's slice written)
// @group(0) @binding(2) params: Params
//
// Params:
//   outer: u32      product of the dims before the axis
//   inBlock: u32    this input's axis length · inner
//   outBlock: u32   the output's axis length · inner
//   offset: u32     where this input starts in an output block
//
// Dispatch: ceil(outer·inBlock / 256) workgroups as (x, y, 1), x ≤ 65535.

alias real = f32;

struct Params {
  outer: u32,
  inBlock: u32,
  outBlock: u32,
  offset: u32,
}

@group(0) @binding(0) var<storage, read> x: array<real>;
@group(0) @binding(1) var<storage, read_write> out: array<real>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= params.outer * params.inBlock) {
    return;
  }
  let o = i / params.inBlock;
  out[o * params.outBlock + params.offset + i % params.inBlock] = x[i];
}
