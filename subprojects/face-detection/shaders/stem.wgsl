// stem: BlazeFace's first layer fused: 5×5 conv, stride 2, TFLite SAME
// padding (128 → 64: one row / column before, two after) + bias + ReLU.
// The input comes column-split (preprocess.wgsl's `split`: each row's even
// columns, then its odd ones), so the stride-2 taps of neighbouring output
// pixels are neighbouring values: output column ox, tap kx reads input
// column 2·ox − 1 + kx, i.e. odd column ox − 1 (kx 0), even ox (1), odd ox
// (2), even ox + 1 (3), odd ox + 1 (4).  Taps in the padding load a valid
// neighbour and select 0.  Each invocation computes eight output channels
// of eight pixels t + i·NT (NT = OH·OW/8), as block_pw.wgsl.  Stored as
// `real` (f32, or f16 in the F16 variant), computed in f32.
//
// @group(0) @binding(0) x: array<real> [CIN, H, 2, H/2] column-split input
// @group(0) @binding(1) w: array<vec4<real>> [CIN·25, COUTP] filter (pack.wgsl)
// @group(0) @binding(2) bias: array<real> [COUT]
// @group(0) @binding(3) y: array<real> [COUT, H/2, H/2] output
//
// Overrides: CIN, COUT, COUTP (COUT rounded up to 8), H (input side).
// Dispatch: (H/2)²/8·(COUTP/8) invocations, 64 a workgroup.

alias real = f32;

override CIN: u32 = 3u;
override COUT: u32 = 24u;
override COUTP: u32 = 24u;
override H: u32 = 128u;

@group(0) @binding(0) var<storage, read> x: array<real>;
@group(0) @binding(1) var<storage, read> w: array<vec4<real>>;
@group(0) @binding(2) var<storage, read> bias: array<real>;
@group(0) @binding(3) var<storage, read_write> y: array<real>;

fn tap(c: u32, iy: i32, ox: i32, kx: u32) -> f32 {
  let col = ox + i32((kx + 1u) / 2u) - 1;
  let half = i32(H / 2u);
  let ok = iy >= 0 && iy < i32(H) && col >= 0 && col < half;
  let at = (i32(c * H) + iy) * i32(H) + i32((kx + 1u) % 2u) * half + col;
  return select(0.0, f32(x[u32(max(at, 0))]), ok);
}

fn store(co: u32, p: u32, v: f32) {
  if (co < COUT) {
    y[co * (H * H / 4u) + p] = real(max(v + f32(bias[co]), 0.0));
  }
}

fn store8(co0: u32, p: u32, lo: vec4<f32>, hi: vec4<f32>) {
  for (var j = 0u; j < 4u; j++) {
    store(co0 + j, p, lo[j]);
    store(co0 + 4u + j, p, hi[j]);
  }
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let OW = H / 2u;
  let NT = OW * OW / 8u;
  let blk = gid.x / NT;
  if (blk * 8u >= COUTP) {
    return;
  }
  let t = gid.x % NT;
  // eight pixels t + i·NT: the same column, rows NT/OW apart
  let ox = i32(t % OW);
  let oy0 = i32(t / OW);
  let dy = i32(NT / OW);
  var a0 = vec4<f32>(0.0);
  var b0 = vec4<f32>(0.0);
  var a1 = vec4<f32>(0.0);
  var b1 = vec4<f32>(0.0);
  var a2 = vec4<f32>(0.0);
  var b2 = vec4<f32>(0.0);
  var a3 = vec4<f32>(0.0);
  var b3 = vec4<f32>(0.0);
  var a4 = vec4<f32>(0.0);
  var b4 = vec4<f32>(0.0);
  var a5 = vec4<f32>(0.0);
  var b5 = vec4<f32>(0.0);
  var a6 = vec4<f32>(0.0);
  var b6 = vec4<f32>(0.0);
  var a7 = vec4<f32>(0.0);
  var b7 = vec4<f32>(0.0);
  let WQ = COUTP / 4u;
  for (var c = 0u; c < CIN; c++) {
    for (var ky = 0u; ky < 5u; ky++) {
      let iy = 2 * oy0 - 1 + i32(ky);
      for (var kx = 0u; kx < 5u; kx++) {
        let v0 = tap(c, iy, ox, kx);
        let v1 = tap(c, iy + 2 * dy, ox, kx);
        let v2 = tap(c, iy + 4 * dy, ox, kx);
        let v3 = tap(c, iy + 6 * dy, ox, kx);
        let v4 = tap(c, iy + 8 * dy, ox, kx);
        let v5 = tap(c, iy + 10 * dy, ox, kx);
        let v6 = tap(c, iy + 12 * dy, ox, kx);
        let v7 = tap(c, iy + 14 * dy, ox, kx);
        let k = ((c * 5u + ky) * 5u + kx) * WQ + blk * 2u;
        let w0 = vec4<f32>(w[k]);
        let w1 = vec4<f32>(w[k + 1u]);
        a0 += v0 * w0;
        b0 += v0 * w1;
        a1 += v1 * w0;
        b1 += v1 * w1;
        a2 += v2 * w0;
        b2 += v2 * w1;
        a3 += v3 * w0;
        b3 += v3 * w1;
        a4 += v4 * w0;
        b4 += v4 * w1;
        a5 += v5 * w0;
        b5 += v5 * w1;
        a6 += v6 * w0;
        b6 += v6 * w1;
        a7 += v7 * w0;
        b7 += v7 * w1;
      }
    }
  }
  let co0 = blk * 8u;
  store8(co0, t, a0, b0);
  store8(co0, t + 1u * NT, a1, b1);
  store8(co0, t + 2u * NT, a2, b2);
  store8(co0, t + 3u * NT, a3, b3);
  store8(co0, t + 4u * NT, a4, b4);
  store8(co0, t + 5u * NT, a5, b5);
  store8(co0, t + 6u * NT, a6, b6);
  store8(co0, t + 7u * NT, a7, b7);
}
