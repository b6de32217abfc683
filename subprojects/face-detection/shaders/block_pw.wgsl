// block_pw: the rest of a BlazeBlock fused: 1×1 conv of the depthwise
// output + bias + the skip path + ReLU.  The skip is the block input,
// through a 2×2 stride-2 max pool where the block strides (STRIDED), and
// zero-padded from SKIPC to COUT channels (TFLite's channel PAD) by index
// math: output channels ≥ SKIPC add nothing.  NCHW, stored as `real` (f32,
// or f16 in the F16 variant: weights and activations), computed in f32.
//
// Each invocation computes eight output channels (two vec4 accumulators)
// of eight pixels t + i·NT (NT = OH·OW/8, i < 8): neighbouring
// invocations take neighbouring pixels, so an activation load is one
// contiguous run across a SIMD group and a weight load the same address in
// every invocation — the cheap cases of a CPU adapter (SwiftShader: a
// single SIMD load or one broadcast load), and coalesced on a GPU.  Per
// input channel: 8 activation loads and 8 weights feed 64 multiply-adds.
//
// @group(0) @binding(0) d: array<real> [CIN, OH·OW] depthwise output
// @group(0) @binding(1) w: array<vec4<real>> [CIN, COUTP] filter (pack.wgsl)
// @group(0) @binding(2) bias: array<real> [COUT]
// @group(0) @binding(3) x: array<real> [SKIPC, IH·IW] block input
// @group(0) @binding(4) y: array<real> [COUT, OH·OW] output
//
// Overrides: CIN, COUT, COUTP (COUT rounded up to 8), SKIPC, OH, OW
// (OH·OW a multiple of 32), STRIDED (0 or 1; the input is then 2·OH × 2·OW).
// Dispatch: (OH·OW/8)·(COUTP/8) invocations, 64 a workgroup.

alias real = f32;

override CIN: u32 = 24u;
override COUT: u32 = 24u;
override COUTP: u32 = 24u;
override SKIPC: u32 = 24u;
override OH: u32 = 64u;
override OW: u32 = 64u;
override STRIDED: u32 = 0u;

@group(0) @binding(0) var<storage, read> d: array<real>;
@group(0) @binding(1) var<storage, read> w: array<vec4<real>>;
@group(0) @binding(2) var<storage, read> bias: array<real>;
@group(0) @binding(3) var<storage, read> x: array<real>;
@group(0) @binding(4) var<storage, read_write> y: array<real>;

fn skip(co: u32, p: u32) -> f32 {
  if (STRIDED == 0u) {
    return f32(x[co * (OH * OW) + p]);
  }
  let oy = p / OW;
  let ox = p % OW;
  let r0 = (co * 2u * OH + 2u * oy) * (2u * OW) + 2u * ox;
  let r1 = r0 + 2u * OW;
  return f32(max(max(x[r0], x[r0 + 1u]), max(x[r1], x[r1 + 1u])));
}

fn store(co: u32, p: u32, v: f32) {
  var s = v + f32(bias[co]);
  if (co < SKIPC) {
    s += skip(co, p);
  }
  y[co * (OH * OW) + p] = real(max(s, 0.0));
}

fn store8(co0: u32, p: u32, lo: vec4<f32>, hi: vec4<f32>) {
  for (var j = 0u; j < 4u; j++) {
    if (co0 + j < COUT) {
      store(co0 + j, p, lo[j]);
    }
    if (co0 + 4u + j < COUT) {
      store(co0 + 4u + j, p, hi[j]);
    }
  }
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let HW = OH * OW;
  let NT = HW / 8u;
  let blk = gid.x / NT;
  if (blk * 8u >= COUTP) {
    return;
  }
  let t = gid.x % NT;
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
    let row = c * HW + t;
    let v0 = f32(d[row]);
    let v1 = f32(d[row + 1u * NT]);
    let v2 = f32(d[row + 2u * NT]);
    let v3 = f32(d[row + 3u * NT]);
    let v4 = f32(d[row + 4u * NT]);
    let v5 = f32(d[row + 5u * NT]);
    let v6 = f32(d[row + 6u * NT]);
    let v7 = f32(d[row + 7u * NT]);
    let k = c * WQ + blk * 2u;
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
