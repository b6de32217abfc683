// block_dw: the depthwise half of a BlazeBlock: 3×3 depthwise conv, stride
// S (1 or 2), TFLite SAME padding folded into the indexing (stride 1: one
// before and after; stride 2 on an even side: none before, one after),
// + bias.  NCHW, stored as `real` (f32, or f16 in the F16 variant),
// computed in f32; each invocation computes four neighbouring outputs of
// a row as a vec4 (fewer, fuller invocations: what a CPU adapter such as
// SwiftShader runs fastest).
//
// @group(0) @binding(0) x: array<vec4<real>> [C, H, W] input
// @group(0) @binding(1) w: array<real> [C, 1, 3, 3] filter
// @group(0) @binding(2) bias: array<real> [C]
// @group(0) @binding(3) y: array<vec4<real>> [C, H/S, W/S] output
//
// Overrides: C, H, W (input; W/S a multiple of 4), S.
// Dispatch: C·(H/S)·(W/S)/4 invocations, 64 a workgroup.

alias real = f32;

override C: u32 = 24u;
override H: u32 = 64u;
override W: u32 = 64u;
override S: u32 = 1u;

@group(0) @binding(0) var<storage, read> x: array<vec4<real>>;
@group(0) @binding(1) var<storage, read> w: array<real>;
@group(0) @binding(2) var<storage, read> bias: array<real>;
@group(0) @binding(3) var<storage, read_write> y: array<vec4<real>>;

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let OH = H / S;
  let QO = W / S / 4u; // output quads a row
  let QI = W / 4u; // input quads a row
  let i = gid.x;
  let c = i / (OH * QO);
  if (c >= C) {
    return;
  }
  let r = i % (OH * QO);
  let oy = r / QO;
  let qx = r % QO;
  var acc = vec4<f32>(f32(bias[c]));
  for (var ky = 0u; ky < 3u; ky++) {
    var iy = i32(oy * S + ky);
    if (S == 1u) {
      iy -= 1;
    }
    if (iy < 0 || iy >= i32(H)) {
      continue;
    }
    let row = (c * H + u32(iy)) * QI;
    let k = c * 9u + ky * 3u;
    let w0 = f32(w[k]);
    let w1 = f32(w[k + 1u]);
    let w2 = f32(w[k + 2u]);
    if (S == 1u) {
      let m = vec4<f32>(x[row + qx]);
      var l = 0.0;
      var rr = 0.0;
      if (qx > 0u) {
        l = f32(x[row + qx - 1u].w);
      }
      if (qx + 1u < QI) {
        rr = f32(x[row + qx + 1u].x);
      }
      acc += w0 * vec4<f32>(l, m.xyz) + w1 * m + w2 * vec4<f32>(m.yzw, rr);
    } else {
      let a = vec4<f32>(x[row + 2u * qx]);
      let b = vec4<f32>(x[row + 2u * qx + 1u]);
      var e = 0.0;
      if (2u * qx + 2u < QI) {
        e = f32(x[row + 2u * qx + 2u].x);
      }
      acc += w0 * vec4<f32>(a.x, a.z, b.x, b.z) + w1 * vec4<f32>(a.y, a.w, b.y, b.w) + w2 * vec4<f32>(a.z, b.x, b.z, e);
    }
  }
  y[i] = vec4<real>(acc);
}
