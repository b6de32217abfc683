// gather: the indexed data movement ops over 32-bit words (any element
// type, bit for bit; the f16 variant is the same code), by params.mode.  Indices are
// i32 words; a negative index counts from the end of its axis.
//
//   mode 0  Gather: out[o, t, i] = x[o, idx[t], i] with x viewed as
//           [outer, axisLen, inner] and out as [outer, nIdx, inner]
//   mode 1  GatherElements: out has the indices' shape (shape); element at
//           coordinates c reads x at c with c[axis] = idx[c]; strides are x's
//   mode 2  ScatterElements (reduction none): the thread for update element
//           c writes upd[c] to out at c with c[axis] = idx[c] (strides are
//           out's); out holds a copy of the data already
//
// @group(0) @binding(0) x: array<u32> data (modes 0, 1; bind any buffer for mode 2)
// @group(0) @binding(1) idx: array<u32> indices, i32 words
// @group(0) @binding(2) upd: array<u32> updates (mode 2; bind idx otherwise)
// @group(0) @binding(3) out: array<u32> output
// @group(0) @binding(4) params: Params
//
// Params:
//   n: u32                          threads: output elements (modes 0, 1),
//                                   update elements (mode 2)
//   mode: u32                       from the table above
//   outer, nIdx, inner: u32         mode 0's view
//   axisLen: u32                    length of the indexed axis of x (out for mode 2)
//   rank: u32                       modes 1, 2: dims used, 1..8
//   axis: u32                       modes 1, 2: the indexed dim
//   shape: array<vec4u, 2>          modes 1, 2: the indices' dims, outermost first
//   strides: array<vec4u, 2>        modes 1, 2: element strides of x (of out for mode 2)
//
// Dispatch: ceil(n / 256) workgroups as (x, y, 1), x ≤ 65535; the linear
// index is gid.x + gid.y · x · 256.

// Words, not reals: the f16 variant (--f16) is the same code.
alias real = f32;

struct Params {
  n: u32,
  mode: u32,
  outer: u32,
  nIdx: u32,
  inner: u32,
  axisLen: u32,
  rank: u32,
  axis: u32,
  shape: array<vec4u, 2>,
  strides: array<vec4u, 2>,
}

@group(0) @binding(0) var<storage, read> x: array<u32>;
@group(0) @binding(1) var<storage, read> idx: array<u32>;
@group(0) @binding(2) var<storage, read> upd: array<u32>;
@group(0) @binding(3) var<storage, read_write> out: array<u32>;
@group(0) @binding(4) var<uniform> params: Params;

fn index(t: u32) -> u32 {
  let v = bitcast<i32>(idx[t]);
  return u32(select(v, v + i32(params.axisLen), v < 0));
}

@compute @workgroup_size(256)
fn main(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 256u;
  if (i >= params.n) {
    return;
  }
  if (params.mode == 0u) {
    let inner = params.inner;
    let t = (i / inner) % params.nIdx;
    let o = i / (inner * params.nIdx);
    out[i] = x[(o * params.axisLen + index(t)) * inner + i % inner];
    return;
  }
  var rem = i;
  var off = 0u;
  for (var d = min(params.rank, 8u); d > 0u; d--) {
    let k = d - 1u;
    let dim = params.shape[k / 4u][k % 4u];
    var coord = rem % dim;
    rem = rem / dim;
    if (k == params.axis) {
      coord = index(i);
    }
    off += coord * params.strides[k / 4u][k % 4u];
  }
  if (params.mode == 1u) {
    out[i] = x[off];
  } else {
    out[off] = upd[i];
  }
}
