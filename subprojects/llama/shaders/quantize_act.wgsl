// quantizeAct: rounds activations the way llama.cpp's CPU backend does
// before a matrix product with quantised or f16 weights (ggml's
// vec_dot_type), so the engine computes what llama.cpp computes:
//   mode 0 (f16 weights): x' = f16(x);
//   mode 1 (Q8_0 / Q4_0 weights): each block of 32 becomes Q8_0 as the
//     x86 quantize_row_q8_0 does it: d = max|x| / 127 stored as f16,
//     q = round-half-even(x · (127 / max|x|)); x' = f16(d) · q.
// Σ x'·w then equals ggml's integer block dot times the two scales, up
// to f32 summation order.  One invocation per block of 32.
//
// @group(0) @binding(0) x: array<real> [rows, cols]
// @group(0) @binding(1) y: array<real> [rows, cols] output x'
// @group(0) @binding(2) params: Params
//
// Params:
//   rows, cols: u32   cols a multiple of 32
//   mode: u32         0 f16 rounding, 1 Q8_0 blocks
//
// Dispatch: ceil(rows·cols / 32 / 64) workgroups as (x, y, 1), x ≤ 65535.

alias real = f32;

struct Params {
  rows: u32,
  cols: u32,
  mode: u32,
}

@group(0) @binding(0) var<storage, read> x: array<real>;
@group(0) @binding(1) var<storage, read_write> y: array<real>;
@group(0) @binding(2) var<uniform> params: Params;

fn f16r(v: f32) -> f32 {
  return unpack2x16float(pack2x16float(vec2f(v, 0.0))).x;
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let blk = gid.x + gid.y * nwg.x * 64u;
  if (blk >= params.rows * params.cols / 32u) {
    return;
  }
  let o = blk * 32u;
  if (params.mode == 0u) {
    for (var j = 0u; j < 32u; j++) {
      y[o + j] = real(f16r(f32(x[o + j])));
    }
    return;
  }
  var amax = 0.0;
  for (var j = 0u; j < 32u; j++) {
    amax = max(amax, abs(f32(x[o + j])));
  }
  let d = amax / 127.0;
  let id = select(0.0, 127.0 / amax, amax != 0.0);
  let dh = f16r(d);
  for (var j = 0u; j < 32u; j++) {
    y[o + j] = real(dh * round(f32(x[o + j]) * id));
  }
}
