// geluMul: y = act(a) · b, elementwise: the gated linear unit of GeGLU
// (activation 0 or 1) and SwiGLU (activation 2).  gelu as in gelu.wgsl.
//
// @group(0) @binding(0) a: array<real> [n] gate input (the activated half)
// @group(0) @binding(1) b: array<real> [n] linear input
// @group(0) @binding(2) y: array<real> [n] output
// @group(0) @binding(3) params: Params
//
// Params:
//   n: u32            elements
//   activation: u32   0 gelu (erf), 1 gelu (tanh form), 2 silu
//
// Dispatch: ceil(n / 256) workgroups as (x, y, 1), x ≤ 65535.

alias real = f32;

struct Params {
  n: u32,
  activation: u32,
}

@group(0) @binding(0) var<storage, read> a: array<real>;
@group(0) @binding(1) var<storage, read> b: array<real>;
@group(0) @binding(2) var<storage, read_write> y: array<real>;
@group(0) @binding(3) var<uniform> params: Params;

fn erf(v: f32) -> f32 {
  // Abramowitz & Stegun 7.1.26, |error| ≤ 1.5e-7
  let t = 1.0 / (1.0 + 0.3275911 * abs(v));
  let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return sign(v) * (1.0 - poly * exp(-min(v * v, 88.0)));
}

fn act(v: f32, kind: u32) -> f32 {
  if (kind == 2u) {
    return v / (1.0 + exp(-clamp(v, -44.0, 44.0)));
  }
  if (kind == 1u) {
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
  y[i] = real(act(f32(a[i]), params.activation) * f32(b[i]));
}
