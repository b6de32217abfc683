// snake: y = x + sin²(α·x) / (α + 1e-9), with one α per channel (the
// BigVGAN / DAC activation).  logScale = 1: the stored value is log α.
// WGSL's sin is specified only to 2^-11 absolute and 1/α magnifies that, so
// sin here is cephes' sinf: reduction by π/2 in three parts, then degree-7
// polynomials on [−π/4, π/4] (f32 accuracy for |α·x| up to ~1e4).
//
// @group(0) @binding(0) x: array<real> [N, C, L] input
// @group(0) @binding(1) alpha: array<real> [C]
// @group(0) @binding(2) y: array<real> [N, C, L] output
// @group(0) @binding(3) params: Params
//
// Params:
//   n: u32          elements (N·C·L)
//   C, L: u32       channels, length
//   logScale: u32   1: α = exp(alpha[c]) (exp argument clamped to ±88)
//
// Dispatch: ceil(n / 256) workgroups as (x, y, 1), x ≤ 65535.

alias real = f32;

struct Params {
  n: u32,
  C: u32,
  L: u32,
  logScale: u32,
}

@group(0) @binding(0) var<storage, read> x: array<real>;
@group(0) @binding(1) var<storage, read> alpha: array<real>;
@group(0) @binding(2) var<storage, read_write> y: array<real>;
@group(0) @binding(3) var<uniform> params: Params;

fn sinPrecise(v: f32) -> f32 {
  let j = round(v * 0.6366197723675814);
  let r = ((v - j * 1.5703125) - j * 4.837512969970703125e-4) - j * 7.549789954891882e-8;
  let z = r * r;
  let s = r + r * z * (-1.6666654611e-1 + z * (8.3321608736e-3 + z * -1.9515295891e-4));
  let c = 1.0 - 0.5 * z + z * z * (4.166664568298827e-2 + z * (-1.388731625493765e-3 + z * 2.443315711809948e-5));
  let q = i32(j) & 3;
  if (q == 0) {
    return s;
  }
  if (q == 1) {
    return c;
  }
  if (q == 2) {
    return -s;
  }
  return -c;
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= params.n) {
    return;
  }
  let c = (i / params.L) % params.C;
  var a = f32(alpha[c]);
  if (params.logScale == 1u) {
    a = exp(clamp(a, -88.0, 88.0));
  }
  let v = f32(x[i]);
  let s = sinPrecise(a * v);
  y[i] = real(v + s * s / (a + 1e-9));
}
