// head: one SSD head pair fused: the classificator and regressor 1×1 convs
// of a feature map (their filters packed side by side, pack.wgsl) + bias,
// written straight into their rows of the model outputs in TFLite's NHWC
// order: the reshapes and the concatenation are the store addresses.
// Channel co < A (anchors a cell) is a score, the rest box coordinates:
// pixel p, anchor a lands at scores[SOFF + p·A + a] and
// boxes[BOFF + (p·A + a)·16 + k].  Each invocation computes eight channels
// of eight pixels t + i·HW/8, as block_pw.wgsl.  Inputs stored as `real`
// (f16 in the F16 variant), computed in f32; the outputs are f32 always, so
// the read-back and decode do not depend on the precision.
//
// @group(0) @binding(0) x: array<real> [CIN, HW] feature map
// @group(0) @binding(1) w: array<vec4<real>> [CIN, COUTP] both filters
// @group(0) @binding(2) bias: array<real> [A + 16·A] both biases
// @group(0) @binding(3) scores: array<f32> [896] output rows
// @group(0) @binding(4) boxes: array<f32> [896·16] output rows
//
// Overrides: CIN, A, COUTP (17·A rounded up to 8), HW, SOFF, BOFF.
// Dispatch: (HW/8)·(COUTP/8) invocations, 64 a workgroup.

alias real = f32;

override CIN: u32 = 88u;
override A: u32 = 2u;
override COUTP: u32 = 40u;
override HW: u32 = 256u;
override SOFF: u32 = 0u;
override BOFF: u32 = 0u;

@group(0) @binding(0) var<storage, read> x: array<real>;
@group(0) @binding(1) var<storage, read> w: array<vec4<real>>;
@group(0) @binding(2) var<storage, read> bias: array<real>;
@group(0) @binding(3) var<storage, read_write> scores: array<f32>;
@group(0) @binding(4) var<storage, read_write> boxes: array<f32>;

fn store(co: u32, p: u32, v: f32) {
  if (co >= 17u * A) {
    return;
  }
  let s = v + f32(bias[co]);
  if (co < A) {
    scores[SOFF + p * A + co] = s;
  } else {
    boxes[BOFF + p * A * 16u + (co - A)] = s;
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
    let v0 = f32(x[row]);
    let v1 = f32(x[row + 1u * NT]);
    let v2 = f32(x[row + 2u * NT]);
    let v3 = f32(x[row + 3u * NT]);
    let v4 = f32(x[row + 4u * NT]);
    let v5 = f32(x[row + 5u * NT]);
    let v6 = f32(x[row + 6u * NT]);
    let v7 = f32(x[row + 7u * NT]);
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
