// gelu: y = x · Φ(x), elementwise.  approximate = 0: exact, Φ(x) =
// (1 + erf(x / √2)) / 2 with erf from Abramowitz & Stegun 7.1.26 (|error| ≤
// 1.5e-7); approximate = 1: the tanh form 0.5 · x · (1 + tanh(√(2/π) · (x +
// 0.044715 x³))), tanh argument clamped to ±44.
//
// @group(0) @binding(0) x: array<real> [n] input, any shape
// @group(0) @binding(1) y: array<real> [n] output, same shape
// @group(0) @binding(2) params: Params
//
// Params:
//   n: u32            elements
//   approximate: u32  0 erf (ONNX default), 1 tanh
//
// Dispatch: ceil(n / 256) workgroups as (x, y, 1), x ≤ 65535; the linear
// index is gid.x + gid.y · x · 256.

alias real = f32;

struct Params {
  n: u32,
  approximate: u32,
}

@group(0) @binding(0) var<storage, read> x: array<real>;
@group(0) @binding(1) var<storage, read_write> y: array<real>;
@group(0) @binding(2) var<uniform> params: Params;

fn erf(v: f32) -> f32 {
  let t = 1.0 / (1.0 + 0.3275911 * abs(v));
  let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return sign(v) * (1.0 - poly * exp(-min(v * v, 88.0)));
}

fn gelu(v: f32, approximate: u32) -> f32 {
  if (approximate == 1u) {
    let u = 0.7978845608028654 * (v + 0.044715 * v * v * v);
    return 0.5 * v * (1.0 + tanh(clamp(u, -44.0, 44.0)));
  }
  return 0.5 * v * (1.0 + erf(v * 0.7071067811865476));
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= params.n) {
    return;
  }
  y[i] = real(gelu(f32(x[i]), params.approximate));
}
