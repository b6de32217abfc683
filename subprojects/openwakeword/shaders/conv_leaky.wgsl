// convLeaky: one layer of openWakeWord's embedding model fused: Conv
// (stride 1, no dilation, the batch norm folded into weight and bias) →
// LeakyRelu(ALPHA) → Max with the constant LO.  NCHW, f32 (`real`:
// shadergen also writes an F16 variant, unused).  The graph's convs are
// 3×1, 1×3 and one 3×3 (the first, Cin = 1); the height is never padded,
// a width of 3 is padded by one column each side, so OH = H − KH + 1 and
// OW = W.
//
// Each invocation computes eight output channels (two vec4 accumulators
// per pixel) of a strip of eight rows oy0 .. oy0 + 7 of one column ox
// (rows past OH are computed on clamped copies and not stored).
// Neighbouring invocations take neighbouring columns, so an activation
// load is one contiguous run across a SIMD group and a weight load the same
// address in every invocation: the cheap cases of a CPU adapter such as
// SwiftShader, and coalesced on a GPU.  Per input channel the strip's
// 8 + KH − 1 rows are loaded once (× 3 columns for a width-3 kernel; the
// padding columns read as zero) and feed all KH·KW taps: a 3×1 layer does
// 10 loads and 6 vec4 weight loads for 192 multiply-adds.  The loops are
// written out per kernel shape (KH, KW are override constants, so the
// compiler keeps one branch): SwiftShader ran a generic loop over taps
// 6–7× slower.  The accumulators start at the bias and add the taps in the
// order of the generic conv2d.wgsl (channel, row, column), so the fused and
// unfused paths agree to rounding.
//
// @group(0) @binding(0) x: array<real> [CIN, H, W] input
// @group(0) @binding(1) w: array<vec4<real>> [CIN·KH·KW, COUT] filter (packFilter)
// @group(0) @binding(2) bias: array<real> [COUT]
// @group(0) @binding(3) y: array<real> [COUT, OH, W] output
//
// Overrides: CIN, COUT (a multiple of 8), H, W, KH × KW (3 × 1, 1 × 3 or
// 3 × 3), ALPHA, LO.
// Dispatch: ceil(ceil(OH / 8)·W·COUT / 8 / 64) workgroups of 64 as (x, 1, 1).

alias real = f32;

override CIN: u32 = 24u;
override COUT: u32 = 24u;
override H: u32 = 76u;
override W: u32 = 32u;
override KH: u32 = 3u;
override KW: u32 = 1u;
override ALPHA: f32 = 0.2;
override LO: f32 = -0.4;

@group(0) @binding(0) var<storage, read> x: array<real>;
@group(0) @binding(1) var<storage, read> w: array<vec4<real>>;
@group(0) @binding(2) var<storage, read> bias: array<real>;
@group(0) @binding(3) var<storage, read_write> y: array<real>;

fn act(v: real) -> real {
  return max(select(real(ALPHA) * v, v, v >= 0.0), real(LO));
}

fn store8(co0: u32, oy: u32, ox: u32, lo: vec4<real>, hi: vec4<real>) {
  let OH = H - KH + 1u;
  if (oy >= OH) {
    return;
  }
  let OHW = OH * W;
  let p = oy * W + ox;
  for (var j = 0u; j < 4u; j++) {
    y[(co0 + j) * OHW + p] = act(lo[j]);
    y[(co0 + 4u + j) * OHW + p] = act(hi[j]);
  }
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  let OH = H - KH + 1u;
  let NT = ((OH + 7u) / 8u) * W;
  let blk = gid.x / NT;
  if (blk * 8u >= COUT) {
    return;
  }
  let t = gid.x % NT;
  let ox = t % W;
  let oy0 = (t / W) * 8u;
  let hasL = ox > 0u;
  let hasR = ox + 1u < W;
  let co0 = blk * 8u;
  let bl = vec4<real>(bias[co0], bias[co0 + 1u], bias[co0 + 2u], bias[co0 + 3u]);
  let bh = vec4<real>(bias[co0 + 4u], bias[co0 + 5u], bias[co0 + 6u], bias[co0 + 7u]);
  var a0 = bl;
  var b0 = bh;
  var a1 = bl;
  var b1 = bh;
  var a2 = bl;
  var b2 = bh;
  var a3 = bl;
  var b3 = bh;
  var a4 = bl;
  var b4 = bh;
  var a5 = bl;
  var b5 = bh;
  var a6 = bl;
  var b6 = bh;
  var a7 = bl;
  var b7 = bh;
  // the strip's rows, clamped to the input
  let o0 = min(oy0 + 0u, H - 1u) * W + ox;
  let o1 = min(oy0 + 1u, H - 1u) * W + ox;
  let o2 = min(oy0 + 2u, H - 1u) * W + ox;
  let o3 = min(oy0 + 3u, H - 1u) * W + ox;
  let o4 = min(oy0 + 4u, H - 1u) * W + ox;
  let o5 = min(oy0 + 5u, H - 1u) * W + ox;
  let o6 = min(oy0 + 6u, H - 1u) * W + ox;
  let o7 = min(oy0 + 7u, H - 1u) * W + ox;
  let o8 = min(oy0 + 8u, H - 1u) * W + ox;
  let o9 = min(oy0 + 9u, H - 1u) * W + ox;
  let WQ = COUT / 4u;
  if (KH == 3u && KW == 1u) {
    for (var c = 0u; c < CIN; c++) {
      let plane = c * H * W;
      let v0 = x[plane + o0];
      let v1 = x[plane + o1];
      let v2 = x[plane + o2];
      let v3 = x[plane + o3];
      let v4 = x[plane + o4];
      let v5 = x[plane + o5];
      let v6 = x[plane + o6];
      let v7 = x[plane + o7];
      let v8 = x[plane + o8];
      let v9 = x[plane + o9];
      let k00 = (c * 3u + 0u) * WQ + blk * 2u;
      let w00l = w[k00];
      let w00h = w[k00 + 1u];
      let k10 = (c * 3u + 1u) * WQ + blk * 2u;
      let w10l = w[k10];
      let w10h = w[k10 + 1u];
      let k20 = (c * 3u + 2u) * WQ + blk * 2u;
      let w20l = w[k20];
      let w20h = w[k20 + 1u];
      a0 += v0 * w00l;
      b0 += v0 * w00h;
      a1 += v1 * w00l;
      b1 += v1 * w00h;
      a2 += v2 * w00l;
      b2 += v2 * w00h;
      a3 += v3 * w00l;
      b3 += v3 * w00h;
      a4 += v4 * w00l;
      b4 += v4 * w00h;
      a5 += v5 * w00l;
      b5 += v5 * w00h;
      a6 += v6 * w00l;
      b6 += v6 * w00h;
      a7 += v7 * w00l;
      b7 += v7 * w00h;
      a0 += v1 * w10l;
      b0 += v1 * w10h;
      a1 += v2 * w10l;
      b1 += v2 * w10h;
      a2 += v3 * w10l;
      b2 += v3 * w10h;
      a3 += v4 * w10l;
      b3 += v4 * w10h;
      a4 += v5 * w10l;
      b4 += v5 * w10h;
      a5 += v6 * w10l;
      b5 += v6 * w10h;
      a6 += v7 * w10l;
      b6 += v7 * w10h;
      a7 += v8 * w10l;
      b7 += v8 * w10h;
      a0 += v2 * w20l;
      b0 += v2 * w20h;
      a1 += v3 * w20l;
      b1 += v3 * w20h;
      a2 += v4 * w20l;
      b2 += v4 * w20h;
      a3 += v5 * w20l;
      b3 += v5 * w20h;
      a4 += v6 * w20l;
      b4 += v6 * w20h;
      a5 += v7 * w20l;
      b5 += v7 * w20h;
      a6 += v8 * w20l;
      b6 += v8 * w20h;
      a7 += v9 * w20l;
      b7 += v9 * w20h;
    }
  } else if (KH == 1u && KW == 3u) {
    for (var c = 0u; c < CIN; c++) {
      let plane = c * H * W;
      let v0 = x[plane + o0];
      let l0 = select(0.0, x[max(plane + o0, 1u) - 1u], hasL);
      let r0 = select(0.0, x[plane + o0 + 1u], hasR);
      let v1 = x[plane + o1];
      let l1 = select(0.0, x[max(plane + o1, 1u) - 1u], hasL);
      let r1 = select(0.0, x[plane + o1 + 1u], hasR);
      let v2 = x[plane + o2];
      let l2 = select(0.0, x[max(plane + o2, 1u) - 1u], hasL);
      let r2 = select(0.0, x[plane + o2 + 1u], hasR);
      let v3 = x[plane + o3];
      let l3 = select(0.0, x[max(plane + o3, 1u) - 1u], hasL);
      let r3 = select(0.0, x[plane + o3 + 1u], hasR);
      let v4 = x[plane + o4];
      let l4 = select(0.0, x[max(plane + o4, 1u) - 1u], hasL);
      let r4 = select(0.0, x[plane + o4 + 1u], hasR);
      let v5 = x[plane + o5];
      let l5 = select(0.0, x[max(plane + o5, 1u) - 1u], hasL);
      let r5 = select(0.0, x[plane + o5 + 1u], hasR);
      let v6 = x[plane + o6];
      let l6 = select(0.0, x[max(plane + o6, 1u) - 1u], hasL);
      let r6 = select(0.0, x[plane + o6 + 1u], hasR);
      let v7 = x[plane + o7];
      let l7 = select(0.0, x[max(plane + o7, 1u) - 1u], hasL);
      let r7 = select(0.0, x[plane + o7 + 1u], hasR);
      let k00 = (c * 3u + 0u) * WQ + blk * 2u;
      let w00l = w[k00];
      let w00h = w[k00 + 1u];
      let k01 = (c * 3u + 1u) * WQ + blk * 2u;
      let w01l = w[k01];
      let w01h = w[k01 + 1u];
      let k02 = (c * 3u + 2u) * WQ + blk * 2u;
      let w02l = w[k02];
      let w02h = w[k02 + 1u];
      a0 += l0 * w00l;
      b0 += l0 * w00h;
      a1 += l1 * w00l;
      b1 += l1 * w00h;
      a2 += l2 * w00l;
      b2 += l2 * w00h;
      a3 += l3 * w00l;
      b3 += l3 * w00h;
      a4 += l4 * w00l;
      b4 += l4 * w00h;
      a5 += l5 * w00l;
      b5 += l5 * w00h;
      a6 += l6 * w00l;
      b6 += l6 * w00h;
      a7 += l7 * w00l;
      b7 += l7 * w00h;
      a0 += v0 * w01l;
      b0 += v0 * w01h;
      a1 += v1 * w01l;
      b1 += v1 * w01h;
      a2 += v2 * w01l;
      b2 += v2 * w01h;
      a3 += v3 * w01l;
      b3 += v3 * w01h;
      a4 += v4 * w01l;
      b4 += v4 * w01h;
      a5 += v5 * w01l;
      b5 += v5 * w01h;
      a6 += v6 * w01l;
      b6 += v6 * w01h;
      a7 += v7 * w01l;
      b7 += v7 * w01h;
      a0 += r0 * w02l;
      b0 += r0 * w02h;
      a1 += r1 * w02l;
      b1 += r1 * w02h;
      a2 += r2 * w02l;
      b2 += r2 * w02h;
      a3 += r3 * w02l;
      b3 += r3 * w02h;
      a4 += r4 * w02l;
      b4 += r4 * w02h;
      a5 += r5 * w02l;
      b5 += r5 * w02h;
      a6 += r6 * w02l;
      b6 += r6 * w02h;
      a7 += r7 * w02l;
      b7 += r7 * w02h;
    }
  } else if (KH == 3u && KW == 3u) {
    for (var c = 0u; c < CIN; c++) {
      let plane = c * H * W;
      let v0 = x[plane + o0];
      let l0 = select(0.0, x[max(plane + o0, 1u) - 1u], hasL);
      let r0 = select(0.0, x[plane + o0 + 1u], hasR);
      let v1 = x[plane + o1];
      let l1 = select(0.0, x[max(plane + o1, 1u) - 1u], hasL);
      let r1 = select(0.0, x[plane + o1 + 1u], hasR);
      let v2 = x[plane + o2];
      let l2 = select(0.0, x[max(plane + o2, 1u) - 1u], hasL);
      let r2 = select(0.0, x[plane + o2 + 1u], hasR);
      let v3 = x[plane + o3];
      let l3 = select(0.0, x[max(plane + o3, 1u) - 1u], hasL);
      let r3 = select(0.0, x[plane + o3 + 1u], hasR);
      let v4 = x[plane + o4];
      let l4 = select(0.0, x[max(plane + o4, 1u) - 1u], hasL);
      let r4 = select(0.0, x[plane + o4 + 1u], hasR);
      let v5 = x[plane + o5];
      let l5 = select(0.0, x[max(plane + o5, 1u) - 1u], hasL);
      let r5 = select(0.0, x[plane + o5 + 1u], hasR);
      let v6 = x[plane + o6];
      let l6 = select(0.0, x[max(plane + o6, 1u) - 1u], hasL);
      let r6 = select(0.0, x[plane + o6 + 1u], hasR);
      let v7 = x[plane + o7];
      let l7 = select(0.0, x[max(plane + o7, 1u) - 1u], hasL);
      let r7 = select(0.0, x[plane + o7 + 1u], hasR);
      let v8 = x[plane + o8];
      let l8 = select(0.0, x[max(plane + o8, 1u) - 1u], hasL);
      let r8 = select(0.0, x[plane + o8 + 1u], hasR);
      let v9 = x[plane + o9];
      let l9 = select(0.0, x[max(plane + o9, 1u) - 1u], hasL);
      let r9 = select(0.0, x[plane + o9 + 1u], hasR);
      let k00 = (c * 9u + 0u) * WQ + blk * 2u;
      let w00l = w[k00];
      let w00h = w[k00 + 1u];
      let k01 = (c * 9u + 1u) * WQ + blk * 2u;
      let w01l = w[k01];
      let w01h = w[k01 + 1u];
      let k02 = (c * 9u + 2u) * WQ + blk * 2u;
      let w02l = w[k02];
      let w02h = w[k02 + 1u];
      let k10 = (c * 9u + 3u) * WQ + blk * 2u;
      let w10l = w[k10];
      let w10h = w[k10 + 1u];
      let k11 = (c * 9u + 4u) * WQ + blk * 2u;
      let w11l = w[k11];
      let w11h = w[k11 + 1u];
      let k12 = (c * 9u + 5u) * WQ + blk * 2u;
      let w12l = w[k12];
      let w12h = w[k12 + 1u];
      let k20 = (c * 9u + 6u) * WQ + blk * 2u;
      let w20l = w[k20];
      let w20h = w[k20 + 1u];
      let k21 = (c * 9u + 7u) * WQ + blk * 2u;
      let w21l = w[k21];
      let w21h = w[k21 + 1u];
      let k22 = (c * 9u + 8u) * WQ + blk * 2u;
      let w22l = w[k22];
      let w22h = w[k22 + 1u];
      a0 += l0 * w00l;
      b0 += l0 * w00h;
      a1 += l1 * w00l;
      b1 += l1 * w00h;
      a2 += l2 * w00l;
      b2 += l2 * w00h;
      a3 += l3 * w00l;
      b3 += l3 * w00h;
      a4 += l4 * w00l;
      b4 += l4 * w00h;
      a5 += l5 * w00l;
      b5 += l5 * w00h;
      a6 += l6 * w00l;
      b6 += l6 * w00h;
      a7 += l7 * w00l;
      b7 += l7 * w00h;
      a0 += v0 * w01l;
      b0 += v0 * w01h;
      a1 += v1 * w01l;
      b1 += v1 * w01h;
      a2 += v2 * w01l;
      b2 += v2 * w01h;
      a3 += v3 * w01l;
      b3 += v3 * w01h;
      a4 += v4 * w01l;
      b4 += v4 * w01h;
      a5 += v5 * w01l;
      b5 += v5 * w01h;
      a6 += v6 * w01l;
      b6 += v6 * w01h;
      a7 += v7 * w01l;
      b7 += v7 * w01h;
      a0 += r0 * w02l;
      b0 += r0 * w02h;
      a1 += r1 * w02l;
      b1 += r1 * w02h;
      a2 += r2 * w02l;
      b2 += r2 * w02h;
      a3 += r3 * w02l;
      b3 += r3 * w02h;
      a4 += r4 * w02l;
      b4 += r4 * w02h;
      a5 += r5 * w02l;
      b5 += r5 * w02h;
      a6 += r6 * w02l;
      b6 += r6 * w02h;
      a7 += r7 * w02l;
      b7 += r7 * w02h;
      a0 += l1 * w10l;
      b0 += l1 * w10h;
      a1 += l2 * w10l;
      b1 += l2 * w10h;
      a2 += l3 * w10l;
      b2 += l3 * w10h;
      a3 += l4 * w10l;
      b3 += l4 * w10h;
      a4 += l5 * w10l;
      b4 += l5 * w10h;
      a5 += l6 * w10l;
      b5 += l6 * w10h;
      a6 += l7 * w10l;
      b6 += l7 * w10h;
      a7 += l8 * w10l;
      b7 += l8 * w10h;
      a0 += v1 * w11l;
      b0 += v1 * w11h;
      a1 += v2 * w11l;
      b1 += v2 * w11h;
      a2 += v3 * w11l;
      b2 += v3 * w11h;
      a3 += v4 * w11l;
      b3 += v4 * w11h;
      a4 += v5 * w11l;
      b4 += v5 * w11h;
      a5 += v6 * w11l;
      b5 += v6 * w11h;
      a6 += v7 * w11l;
      b6 += v7 * w11h;
      a7 += v8 * w11l;
      b7 += v8 * w11h;
      a0 += r1 * w12l;
      b0 += r1 * w12h;
      a1 += r2 * w12l;
      b1 += r2 * w12h;
      a2 += r3 * w12l;
      b2 += r3 * w12h;
      a3 += r4 * w12l;
      b3 += r4 * w12h;
      a4 += r5 * w12l;
      b4 += r5 * w12h;
      a5 += r6 * w12l;
      b5 += r6 * w12h;
      a6 += r7 * w12l;
      b6 += r7 * w12h;
      a7 += r8 * w12l;
      b7 += r8 * w12h;
      a0 += l2 * w20l;
      b0 += l2 * w20h;
      a1 += l3 * w20l;
      b1 += l3 * w20h;
      a2 += l4 * w20l;
      b2 += l4 * w20h;
      a3 += l5 * w20l;
      b3 += l5 * w20h;
      a4 += l6 * w20l;
      b4 += l6 * w20h;
      a5 += l7 * w20l;
      b5 += l7 * w20h;
      a6 += l8 * w20l;
      b6 += l8 * w20h;
      a7 += l9 * w20l;
      b7 += l9 * w20h;
      a0 += v2 * w21l;
      b0 += v2 * w21h;
      a1 += v3 * w21l;
      b1 += v3 * w21h;
      a2 += v4 * w21l;
      b2 += v4 * w21h;
      a3 += v5 * w21l;
      b3 += v5 * w21h;
      a4 += v6 * w21l;
      b4 += v6 * w21h;
      a5 += v7 * w21l;
      b5 += v7 * w21h;
      a6 += v8 * w21l;
      b6 += v8 * w21h;
      a7 += v9 * w21l;
      b7 += v9 * w21h;
      a0 += r2 * w22l;
      b0 += r2 * w22h;
      a1 += r3 * w22l;
      b1 += r3 * w22h;
      a2 += r4 * w22l;
      b2 += r4 * w22h;
      a3 += r5 * w22l;
      b3 += r5 * w22h;
      a4 += r6 * w22l;
      b4 += r6 * w22h;
      a5 += r7 * w22l;
      b5 += r7 * w22h;
      a6 += r8 * w22l;
      b6 += r8 * w22h;
      a7 += r9 * w22l;
      b7 += r9 * w22h;
    }
  }
  store8(co0, oy0 + 0u, ox, a0, b0);
  store8(co0, oy0 + 1u, ox, a1, b1);
  store8(co0, oy0 + 2u, ox, a2, b2);
  store8(co0, oy0 + 3u, ox, a3, b3);
  store8(co0, oy0 + 4u, ox, a4, b4);
  store8(co0, oy0 + 5u, ox, a5, b5);
  store8(co0, oy0 + 6u, ox, a6, b6);
  store8(co0, oy0 + 7u, ox, a7, b7);
}
