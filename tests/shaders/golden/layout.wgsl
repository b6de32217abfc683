// layout: exercises the uniform layout rules and the f16 variant.
// Comment text the literal must escape: "quotes", back\slash, a	tab,
// non-ASCII × ≤ · and one outside the BMP: 𝔼.
//
// @group(0) @binding(0) src: array<real> [n] input
// @group(0) @binding(1) dst: array<real> [n] output
// @group(0) @binding(2) counts: array<atomic<u32>> [bins]
// @group(1) @binding(0) params: Params
//
// Params: see the struct; every layout rule is used once.

alias real = f32;
alias index = u32;

const WG = 64u;
override TILE: u32 = 8;

struct Inner {
  a: vec3f,   // align 16, size 12
  b: f32,     // packs into the vec3's tail
}

struct Params {
  n: index,                  // 0
  scale: f32,                // 4
  off: vec2<f32>,            // 8
  color: vec3<f32>,          // 16 (align 16)
  alpha: f32,                // 28
  m: mat2x2f,                // 32 (align 8, size 16)
  inner: Inner,              // 48 (struct: 16-aligned in a uniform)
  @align(16) after: u32,     // 64
  table: array<vec4u, 3>,    // 80, stride 16
  @size(16) last: f32,       // 128
  dims: vec4<i32>,           // 144
}

@group(0) @binding(0) var<storage, read> src: array<real>;
@group(0)
@binding(1)
var<storage, read_write> dst: array<real>;
@group(0) @binding(2) var<storage, read_write> counts: array<atomic<u32>>;
@group(1) @binding(0) var<uniform> params: Params;

var<workgroup> scratch: array<f32, WG>;

/* block comment /* nested */ with @group(9) @binding(9) inside: not a binding */
fn helper(x: f32) -> f32 {
  // braces in comments { { are skipped
  return x * params.scale;
}

@compute @workgroup_size(WG)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  if (gid.x >= params.n) {
    return;
  }
  dst[gid.x] = real(helper(f32(src[gid.x])));
}

@compute @workgroup_size(TILE, u32(4), 2)
fn histogram(@builtin(global_invocation_id) gid: vec3u) {
  if (gid.x >= params.n) {
    return;
  }
  atomicAdd(&counts[u32(f32(src[gid.x]) * 4.0) % 4u], 1u);
}
