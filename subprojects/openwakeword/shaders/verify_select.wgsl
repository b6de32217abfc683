// verifySelect: the wake-word model's If: score = p1 when p1 < threshold,
// else the verifier head's p2 (openWakeWord's hey_jarvis graph: Sigmoid →
// GreaterOrEqual 0.5 → If(then: verifier, else: Identity)).  A head without
// a verifier passes hasVerifier = 0 and gets p1.
//
// @group(0) @binding(0) p1: array<real> [1] the main head's sigmoid
// @group(0) @binding(1) p2: array<real> [1] the verifier's sigmoid
// @group(0) @binding(2) score: array<real> [1] output
// @group(0) @binding(3) params: Params
//
// Params:
//   threshold: f32
//   hasVerifier: u32
//
// Dispatch: 1 workgroup.

alias real = f32;

struct Params {
  threshold: f32,
  hasVerifier: u32,
}

@group(0) @binding(0) var<storage, read> p1: array<real>;
@group(0) @binding(1) var<storage, read> p2: array<real>;
@group(0) @binding(2) var<storage, read_write> score: array<real>;
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(1)
fn main() {
  let a = p1[0];
  if (params.hasVerifier == 1u && f32(a) >= params.threshold) {
    score[0] = p2[0];
  } else {
    score[0] = a;
  }
}
