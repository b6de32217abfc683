// instanceNorm: y = (x − mean) / sqrt(var + eps) · scale[c] + bias[c], the
// statistics over each (n, c) plane (biased variance, ONNX
// InstanceNormalization).
// Entry 'main': one workgroup per plane, a strided two-pass reduce (mean,
// then the variance about it); for planes up to 4096 elements.
// Longer planes: entry 'stats' reduces each 4096-element chunk of a plane
// to (mean, M2, count) in the f32 scratch buffer, then entry 'apply' merges
// a plane's chunks (Chan et al.'s pairwise update) and normalises its chunk.
//
// @group(0) @binding(0) x: array<real> [N, C, HW]
// @group(0) @binding(1) scale: array<real> [C]
// @group(0) @binding(2) bias: array<real> [C]
// @group(0) @binding(3) y: array<real> [N, C, HW] output
// @group(0) @binding(4) stats: array<f32> [N·C, chunks, 3] scratch (two-pass only)
// @group(0) @binding(5) params: Params
//
// Params:
//   planes: u32   N·C
//   C: u32        channels
//   HW: u32       elements per plane
//   eps: f32
//   chunks: u32   ceil(HW / 4096) (two-pass only)
//
// Dispatch: main: planes workgroups; stats, then apply: planes · chunks
// workgroups; as (x, y, 1), x ≤ 65535, group = wid.x + wid.y · x.

alias real = f32;

struct Params {
  planes: u32,
  C: u32,
  HW: u32,
  eps: f32,
  chunks: u32,
}

@group(0) @binding(0) var<storage, read> x: array<real>;
@group(0) @binding(1) var<storage, read> scale: array<real>;
@group(0) @binding(2) var<storage, read> bias: array<real>;
@group(0) @binding(3) var<storage, read_write> y: array<real>;
@group(0) @binding(4) var<storage, read_write> stats: array<f32>;
@group(0) @binding(5) var<uniform> params: Params;

const WG = 256u;
const CHUNK = 4096u;
var<workgroup> red: array<f32, 256>;

fn wgSum(v: f32, lid: u32) -> f32 {
  red[lid] = v;
  workgroupBarrier();
  for (var h = WG / 2u; h > 0u; h /= 2u) {
    if (lid < h) {
      red[lid] += red[lid + h];
    }
    workgroupBarrier();
  }
  let r = red[0];
  workgroupBarrier();
  return r;
}

// Mean and sum of squared deviations of x[base + k], k in [k0, k1).
fn moments(base: u32, k0: u32, k1: u32, lid: u32) -> vec2f {
  var s = 0.0;
  for (var k = k0 + lid; k < k1; k += WG) {
    s += f32(x[base + k]);
  }
  let mean = wgSum(s, lid) / f32(k1 - k0);
  var ss = 0.0;
  for (var k = k0 + lid; k < k1; k += WG) {
    let d = f32(x[base + k]) - mean;
    ss += d * d;
  }
  return vec2f(mean, wgSum(ss, lid));
}

fn normalize(plane: u32, k0: u32, k1: u32, mean: f32, m2: f32, lid: u32) {
  let c = plane % params.C;
  let inv = inverseSqrt(m2 / f32(params.HW) + params.eps);
  let sc = f32(scale[c]);
  let b = f32(bias[c]);
  let base = plane * params.HW;
  for (var k = k0 + lid; k < k1; k += WG) {
    y[base + k] = real((f32(x[base + k]) - mean) * inv * sc + b);
  }
}

@compute @workgroup_size(256)
fn main(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u,
        @builtin(num_workgroups) nwg: vec3u) {
  let plane = wid.x + wid.y * nwg.x;
  if (plane >= params.planes) {
    return;
  }
  let m = moments(plane * params.HW, 0u, params.HW, lid.x);
  normalize(plane, 0u, params.HW, m.x, m.y, lid.x);
}

@compute @workgroup_size(256)
fn stats_pass(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u,
              @builtin(num_workgroups) nwg: vec3u) {
  let g = wid.x + wid.y * nwg.x;
  if (g >= params.planes * params.chunks) {
    return;
  }
  let plane = g / params.chunks;
  let k0 = (g % params.chunks) * CHUNK;
  let k1 = min(k0 + CHUNK, params.HW);
  let m = moments(plane * params.HW, k0, k1, lid.x);
  if (lid.x == 0u) {
    stats[g * 3u] = m.x;
    stats[g * 3u + 1u] = m.y;
    stats[g * 3u + 2u] = f32(k1 - k0);
  }
}

@compute @workgroup_size(256)
fn apply(@builtin(local_invocation_id) lid: vec3u, @builtin(workgroup_id) wid: vec3u,
         @builtin(num_workgroups) nwg: vec3u) {
  let g = wid.x + wid.y * nwg.x;
  if (g >= params.planes * params.chunks) {
    return;
  }
  let plane = g / params.chunks;
  var n = 0.0;
  var mean = 0.0;
  var m2 = 0.0;
  for (var i = 0u; i < params.chunks; i++) {
    let s = (plane * params.chunks + i) * 3u;
    let nb = stats[s + 2u];
    let delta = stats[s] - mean;
    let nn = n + nb;
    mean += delta * nb / nn;
    m2 += stats[s + 1u] + delta * delta * n * nb / nn;
    n = nn;
  }
  let k0 = (g % params.chunks) * CHUNK;
  normalize(plane, k0, min(k0 + CHUNK, params.HW), mean, m2, lid.x);
}
