// @group(0) @binding(0) x: array<real> [n]
// @group(0) @binding(1) y: array<real> [n]
// @group(0) @binding(2) params: Params
/* started /* nested */ but never closed
alias real = f32;
struct Params { n: u32 }
@group(0) @binding(0) var<storage, read> x: array<real>;
@group(0) @binding(1) var<storage, read_write> y: array<real>;
@group(0) @binding(2) var<uniform> params: Params;
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  if (gid.x < params.n) { y[gid.x] = x[gid.x]; }
}
