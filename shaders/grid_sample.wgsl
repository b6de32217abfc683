// gridSample: ONNX GridSample (PyTorch's grid_sample) on NCHW input: each
// output pixel reads x at the grid's normalised (gx, gy) ∈ [−1, 1],
// unnormalised as (g + 1) / 2 · (size − 1) with alignCorners, else
// ((g + 1) · size − 1) / 2.  mode 0 bilinear, 1 nearest (half to even),
// 2 bicubic (A = −0.75, 4×4 taps).  padding 0 zeros (taps outside read 0),
// 1 border (coordinates clamped), 2 reflection (reflected about the
// borders — the pixel edges without alignCorners — then clamped); bicubic
// applies the padding to each tap's index instead, as PyTorch does.
//
// @group(0) @binding(0) x: array<real> [N, C, H, W]
// @group(0) @binding(1) grid: array<real> [N, Ho, Wo, 2] (x, y) pairs
// @group(0) @binding(2) y: array<real> [N, C, Ho, Wo] output
// @group(0) @binding(3) params: Params
//
// Params:
//   N, C, H, W: u32        input dims
//   Ho, Wo: u32            output spatial dims
//   mode: u32              0 bilinear, 1 nearest, 2 bicubic
//   padding: u32           0 zeros, 1 border, 2 reflection
//   alignCorners: u32      0 or 1
//
// Dispatch: ceil(N·C·Ho·Wo / 256) workgroups as (x, y, 1), x ≤ 65535; the
// linear index is gid.x + gid.y · x · 256.

alias real = f32;

struct Params {
  N: u32,
  C: u32,
  H: u32,
  W: u32,
  Ho: u32,
  Wo: u32,
  mode: u32,
  padding: u32,
  alignCorners: u32,
}

@group(0) @binding(0) var<storage, read> x: array<real>;
@group(0) @binding(1) var<storage, read> grid: array<real>;
@group(0) @binding(2) var<storage, read_write> y: array<real>;
@group(0) @binding(3) var<uniform> params: Params;

fn unnormalize(g: f32, size: u32) -> f32 {
  let s = f32(size);
  if (params.alignCorners != 0u) {
    return (g + 1.0) * 0.5 * (s - 1.0);
  }
  return ((g + 1.0) * s - 1.0) * 0.5;
}

// PyTorch's reflect_coordinates over [lo2 / 2, hi2 / 2]
fn reflect(v: f32, lo2: f32, hi2: f32) -> f32 {
  if (lo2 == hi2) {
    return 0.0;
  }
  let mn = lo2 * 0.5;
  let span = (hi2 - lo2) * 0.5;
  let a = abs(v - mn);
  let extra = a - span * floor(a / span);
  let flips = floor(a / span);
  return select(span - extra + mn, extra + mn, flips - 2.0 * floor(flips * 0.5) == 0.0);
}

// the padding mode applied to a source coordinate
fn padded(v: f32, size: u32) -> f32 {
  let hi = f32(size) - 1.0;
  if (params.padding == 1u) {
    return clamp(v, 0.0, hi);
  }
  if (params.padding == 2u) {
    var r = 0.0;
    if (params.alignCorners != 0u) {
      r = reflect(v, 0.0, 2.0 * hi);
    } else {
      r = reflect(v, -1.0, 2.0 * f32(size) - 1.0);
    }
    return clamp(r, 0.0, hi);
  }
  return v;
}

fn tap(plane: u32, yy: i32, xx: i32) -> f32 {
  if (yy < 0 || xx < 0 || yy >= i32(params.H) || xx >= i32(params.W)) {
    return 0.0;
  }
  return f32(x[plane + u32(yy) * params.W + u32(xx)]);
}

fn roundEven(v: f32) -> f32 {
  let f = floor(v);
  let d = v - f;
  if (d != 0.5) {
    return floor(v + 0.5);
  }
  return select(f + 1.0, f, f - 2.0 * floor(f * 0.5) == 0.0);
}

fn cubic(t: f32) -> vec4f {
  let A = -0.75;
  let c1 = ((A + 2.0) * t - (A + 3.0)) * t * t + 1.0;
  let u = 1.0 - t;
  let c2 = ((A + 2.0) * u - (A + 3.0)) * u * u + 1.0;
  let p = t + 1.0;
  let c0 = ((A * p - 5.0 * A) * p + 8.0 * A) * p - 4.0 * A;
  let q = 2.0 - t;
  let c3 = ((A * q - 5.0 * A) * q + 8.0 * A) * q - 4.0 * A;
  return vec4f(c0, c1, c2, c3);
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  let hw = params.Ho * params.Wo;
  if (i >= params.N * params.C * hw) {
    return;
  }
  let p = i % hw;
  let nc = i / hw;
  let n = nc / params.C;
  let plane = nc * params.H * params.W;
  let g = (n * hw + p) * 2u;
  let gx = f32(grid[g]);
  let gy = f32(grid[g + 1u]);
  var v = 0.0;
  if (params.mode == 2u) {
    let ix = unnormalize(gx, params.W);
    let iy = unnormalize(gy, params.H);
    let fx = floor(ix);
    let fy = floor(iy);
    let cx = cubic(ix - fx);
    let cy = cubic(iy - fy);
    for (var r = 0; r < 4; r++) {
      var row = 0.0;
      for (var q = 0; q < 4; q++) {
        // each tap's index through the padding mode, then bounds-checked
        let tx = padded(fx - 1.0 + f32(q), params.W);
        let ty = padded(fy - 1.0 + f32(r), params.H);
        row += cx[q] * tap(plane, i32(ty), i32(tx));
      }
      v += cy[r] * row;
    }
  } else {
    let ix = padded(unnormalize(gx, params.W), params.W);
    let iy = padded(unnormalize(gy, params.H), params.H);
    if (params.mode == 1u) {
      v = tap(plane, i32(roundEven(iy)), i32(roundEven(ix)));
    } else {
      let x0 = floor(ix);
      let y0 = floor(iy);
      let wx = ix - x0;
      let wy = iy - y0;
      let xi = i32(x0);
      let yi = i32(y0);
      v = (tap(plane, yi, xi) * (1.0 - wx) + tap(plane, yi, xi + 1) * wx) * (1.0 - wy) +
        (tap(plane, yi + 1, xi) * (1.0 - wx) + tap(plane, yi + 1, xi + 1) * wx) * wy;
    }
  }
  y[i] = real(v);
}
