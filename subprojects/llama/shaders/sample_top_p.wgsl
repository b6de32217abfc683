// sampleTopP: draws a token from topK's k best logits of one row:
// p_i ∝ exp((v_i − v_0) / temperature) over the candidates, cut to the
// smallest prefix whose probability reaches topP (at least one), then the
// first candidate whose cumulative mass exceeds u · (mass kept), u in
// [0, 1) from the host's seeded generator.  Candidates ranked "none"
// (index 0xffffffff, a row shorter than k) are skipped.  k is small (at
// most a few hundred), so a single invocation walks them.
//
// @group(0) @binding(0) values: array<real> [k] logits, descending (topK)
// @group(0) @binding(1) indices: array<u32> [k] their token ids (topK)
// @group(0) @binding(2) out: array<u32> [1] output: the token id
// @group(0) @binding(3) params: Params
//
// Params:
//   k: u32             candidates
//   temperature: f32   > 0
//   topP: f32          in (0, 1]
//   u: f32             uniform random number in [0, 1)
//
// Dispatch: 1 workgroup.

alias real = f32;

struct Params {
  k: u32,
  temperature: f32,
  topP: f32,
  u: f32,
}

@group(0) @binding(0) var<storage, read> values: array<real>;
@group(0) @binding(1) var<storage, read> indices: array<u32>;
@group(0) @binding(2) var<storage, read_write> out: array<u32>;
@group(0) @binding(3) var<uniform> params: Params;

@compute @workgroup_size(1)
fn main(@builtin(global_invocation_id) gid: vec3u) {
  if (gid.x > 0u) {
    return;
  }
  let top = f32(values[0]);
  var total = 0.0;
  var n = 0u;
  for (var i = 0u; i < params.k; i++) {
    if (indices[i] == 0xffffffffu) {
      break;
    }
    total += exp(clamp((f32(values[i]) - top) / params.temperature, -88.0, 0.0));
    n = i + 1u;
  }
  // the nucleus: the shortest prefix with mass >= topP · total
  var kept = 0.0;
  var m = 0u;
  for (var i = 0u; i < n; i++) {
    kept += exp(clamp((f32(values[i]) - top) / params.temperature, -88.0, 0.0));
    m = i + 1u;
    if (kept >= params.topP * total) {
      break;
    }
  }
  let threshold = params.u * kept;
  var acc = 0.0;
  var pick = indices[0];
  for (var i = 0u; i < m; i++) {
    acc += exp(clamp((f32(values[i]) - top) / params.temperature, -88.0, 0.0));
    pick = indices[i];
    if (acc > threshold) {
      break;
    }
  }
  out[0] = pick;
}
