// pad: ONNX Pad over up to 8 dimensions.  Output coordinate c reads input
// coordinate c − before; outside the input, mode 0 writes value, 1 reflects
// (without repeating the edge: −1 → 1), 2 repeats the edge, 3 wraps around.
// Negative pads crop.  Reflect repeats with period 2·(dim − 1), so pads
// larger than the input work too (a dim of 1 reflects to itself).
//
// @group(0) @binding(0) x: array<real> [inShape]
// @group(0) @binding(1) out: array<real> [shape] output, n elements
// @group(0) @binding(2) params: Params
//
// Params:
//   n: u32                       output elements
//   rank: u32                    dimensions used, 1..8
//   mode: u32                    0 constant, 1 reflect, 2 edge, 3 wrap
//   value: f32                   the constant for mode 0
//   shape: array<vec4u, 2>       output dims, outermost first
//   inShape: array<vec4u, 2>     input dims
//   before: array<vec4i, 2>      pad before each dim (negative crops)
//
// Dispatch: ceil(n / 256) workgroups as (x, y, 1), x ≤ 65535.

alias real = f32;

struct Params {
  n: u32,
  rank: u32,
  mode: u32,
  value: f32,
  shape: array<vec4u, 2>,
  inShape: array<vec4u, 2>,
  before: array<vec4i, 2>,
}

@group(0) @binding(0) var<storage, read> x: array<real>;
@group(0) @binding(1) var<storage, read_write> out: array<real>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= params.n) {
    return;
  }
  var rem = i;
  var src = 0u;
  var stride = 1u;
  var outside = false;
  for (var d = min(params.rank, 8u); d > 0u; d--) {
    let k = d - 1u;
    let dim = params.shape[k / 4u][k % 4u];
    let len = i32(params.inShape[k / 4u][k % 4u]);
    var c = i32(rem % dim) - params.before[k / 4u][k % 4u];
    rem = rem / dim;
    if (c < 0 || c >= len) {
      if (params.mode == 0u) {
        outside = true;
      } else if (params.mode == 1u) {
        let period = max(2 * (len - 1), 1);
        c = ((c % period) + period) % period;
        c = select(c, period - c, c >= len);
      } else if (params.mode == 2u) {
        c = clamp(c, 0, len - 1);
      } else {
        c = ((c % len) + len) % len;
      }
    }
    src += u32(c) * stride;
    stride *= u32(len);
  }
  if (outside) {
    out[i] = real(params.value);
  } else {
    out[i] = x[src];
  }
}
