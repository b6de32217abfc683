// lstm: one time step of an ONNX LSTM layer (one direction; gates in ONNX
// order i, o, f, c; activations sigmoid, tanh, tanh; no peepholes):
//   g = x_t · Wᵀ + h · Rᵀ + Wb + Rb
//   c' = σ(g_f) ⊙ c + σ(g_i) ⊙ tanh(g_c),   h' = σ(g_o) ⊙ tanh(c')
// The host runs T steps, swapping stateIn and stateOut, t counting down for
// the reverse direction.  sigmoid and tanh arguments are clamped to ±44.
// One thread per (batch row, hidden unit).
//
// @group(0) @binding(0) x: array<real> [T, B, I] the input sequence
// @group(0) @binding(1) w: array<real> [4H, I] input weights (i, o, f, c blocks)
// @group(0) @binding(2) r: array<real> [4H, H] recurrent weights
// @group(0) @binding(3) bias: array<real> [8H] Wb then Rb (read only when hasBias = 1)
// @group(0) @binding(4) stateIn: array<real> [2, B, H] h then c before the step
// @group(0) @binding(5) stateOut: array<real> [2, B, H] h then c after the step
// @group(0) @binding(6) y: array<real> [T, B, H] output; step t writes y[t]
// @group(0) @binding(7) params: Params
//
// Params:
//   B, I, H: u32     batch, input size, hidden size
//   t: u32           the time step (x and y offset)
//   hasBias: u32     1: add Wb + Rb
//
// Dispatch: ceil(B·H / 64) workgroups as (x, y, 1), x ≤ 65535.

alias real = f32;

struct Params {
  B: u32,
  I: u32,
  H: u32,
  t: u32,
  hasBias: u32,
}

@group(0) @binding(0) var<storage, read> x: array<real>;
@group(0) @binding(1) var<storage, read> w: array<real>;
@group(0) @binding(2) var<storage, read> r: array<real>;
@group(0) @binding(3) var<storage, read> bias: array<real>;
@group(0) @binding(4) var<storage, read> stateIn: array<real>;
@group(0) @binding(5) var<storage, read_write> stateOut: array<real>;
@group(0) @binding(6) var<storage, read_write> y: array<real>;
@group(0) @binding(7) var<uniform> params: Params;

fn sigmoid(v: f32) -> f32 {
  return 1.0 / (1.0 + exp(-clamp(v, -44.0, 44.0)));
}

// Gate row g·H + j: x_t · W[row] + h · R[row] (+ both biases).
fn gate(g: u32, j: u32, bi: u32) -> f32 {
  let row = g * params.H + j;
  let xo = (params.t * params.B + bi) * params.I;
  let ho = bi * params.H;
  var s = 0.0;
  if (params.hasBias == 1u) {
    s = f32(bias[row]) + f32(bias[4u * params.H + row]);
  }
  for (var k = 0u; k < params.I; k++) {
    s += f32(x[xo + k]) * f32(w[row * params.I + k]);
  }
  for (var k = 0u; k < params.H; k++) {
    s += f32(stateIn[ho + k]) * f32(r[row * params.H + k]);
  }
  return s;
}

@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 64u;
  let bh = params.B * params.H;
  if (i >= bh) {
    return;
  }
  let j = i % params.H;
  let bi = i / params.H;
  let ig = sigmoid(gate(0u, j, bi));
  let og = sigmoid(gate(1u, j, bi));
  let fg = sigmoid(gate(2u, j, bi));
  let cg = tanh(clamp(gate(3u, j, bi), -44.0, 44.0));
  let c = fg * f32(stateIn[bh + i]) + ig * cg;
  let h = og * tanh(clamp(c, -44.0, 44.0));
  stateOut[i] = real(h);
  stateOut[bh + i] = real(c);
  y[params.t * bh + i] = real(h);
}
