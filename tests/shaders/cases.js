// Test cases for every library shader: shapes (odd and non-multiple-of-16
// ones included), seeded random inputs and a float64 CPU reference written
// from the op's definition, not from the shader.  Each suite states its
// tolerance and why.  See harness.js for what build() returns.
import { rand, toReal } from './harness.js';

export const suites = {};

// f32 default from the issue: one or a few roundings per element.
const F32 = { atol: 1e-4, rtol: 1e-4, why: 'f32 default' };
const EXACT = { atol: 0, rtol: 0, why: 'copies values, no arithmetic' };

function suite(name, tol, cases, build) {
  suites[name] = { tol, cases, build };
}

const prod = (s) => s.reduce((a, b) => a * b, 1);
const lin = (threads, maxX) => ({ threads, maxX });
const cdiv = (a, b) => Math.ceil(a / b);

// ---------------------------------------------------------------- matmul

function matmulRef(a, b, M, N, K, batch, sharedB) {
  const c = new Float64Array(batch * M * N);
  for (let t = 0; t < batch; t++) {
    const ao = t * M * K, bo = sharedB ? 0 : t * K * N;
    for (let i = 0; i < M; i++)
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += a[ao + i * K + k] * b[bo + k * N + j];
        c[t * M * N + i * N + j] = s;
      }
  }
  return c;
}

const matmulShapes = [
  { M: 1, N: 1, K: 1 },
  { M: 16, N: 16, K: 16 },
  { M: 17, N: 33, K: 29 },
  { M: 64, N: 48, K: 80, batch: 2 },
  { M: 5, N: 130, K: 7, batch: 3, sharedB: true },
  { M: 100, N: 3, K: 257 },
];

function matmulBuild(tile) {
  return (c, r) => matmulCase(c, r, tile);
}

function matmulCase(c, r, tile) {
  const batch = c.batch || 1;
  const a = rand(r, batch * c.M * c.K);
  const b = rand(r, (c.sharedB ? 1 : batch) * c.K * c.N);
  return {
    buffers: { a, b, c: { size: batch * c.M * c.N } },
    params: { M: c.M, N: c.N, K: c.K, batch, aStride: c.M * c.K, bStride: c.sharedB ? 0 : c.K * c.N },
    dispatch: { grid: [cdiv(c.N, tile), cdiv(c.M, tile), batch] },
    expect: { c: matmulRef(a, b, c.M, c.N, c.K, batch, c.sharedB) },
  };
}

suite('matmul', F32, [...matmulShapes, { M: 130, N: 70, K: 65, batch: 2, label: 'partial 64-tiles' }], matmulBuild(64));
suite('matmulNaive', F32, matmulShapes, matmulBuild(16));

// ---------------------------------------------------------------- broadcasting binary ops

// Element strides of an input of shape `s` per dimension of `out` (numpy
// broadcasting: shapes right-aligned, size-1 dims broadcast).
function bstrides(out, s) {
  const st = new Array(out.length).fill(0);
  let acc = 1;
  for (let i = s.length - 1; i >= 0; i--) {
    const od = out.length - s.length + i;
    st[od] = s[i] === 1 ? 0 : acc;
    acc *= s[i];
  }
  return st;
}

// Reference: walks output coordinates and indexes each input by its own
// shape, clamping broadcast coordinates to 0.
function broadcastRef(out, as, bs, a, b, f) {
  const n = prod(out);
  const y = new Float64Array(n);
  const coord = new Array(out.length).fill(0);
  const idx = (s) => {
    let o = 0;
    for (let i = 0; i < s.length; i++) {
      const c = coord[out.length - s.length + i];
      o = o * s[i] + (s[i] === 1 ? 0 : c);
    }
    return o;
  };
  for (let i = 0; i < n; i++) {
    let rem = i;
    for (let d = out.length - 1; d >= 0; d--) {
      coord[d] = rem % out[d];
      rem = Math.floor(rem / out[d]);
    }
    y[i] = f(a[idx(as)], b[idx(bs)]);
  }
  return y;
}

const bshape = (a, b) => {
  const n = Math.max(a.length, b.length);
  const pa = [...new Array(n - a.length).fill(1), ...a], pb = [...new Array(n - b.length).fill(1), ...b];
  return pa.map((x, i) => Math.max(x, pb[i]));
};

const binaryCases = [
  { a: [1000], b: [1000] },
  { a: [2, 3, 17], b: [17] },
  { a: [4, 1, 5], b: [1, 3, 1] },
  { a: [2, 3, 1, 4, 5], b: [3, 7, 1, 1] },
  { a: [1], b: [33, 2] },
  { a: [2, 1, 2, 1, 2, 1, 2, 3], b: [2, 1, 2, 1, 2, 1, 3] },
  { a: [5000], b: [5000], maxX: 3, label: 'split dispatch' },
];

function binaryBuild(f) {
  return (c, r) => {
    const out = bshape(c.a, c.b);
    const n = prod(out);
    const a = rand(r, prod(c.a)), b = rand(r, prod(c.b));
    return {
      buffers: { a, b, out: { size: n } },
      params: { n, rank: out.length, shape: out, aStrides: bstrides(out, c.a), bStrides: bstrides(out, c.b) },
      dispatch: lin(n, c.maxX),
      expect: { out: broadcastRef(out, c.a, c.b, a, b, f) },
    };
  };
}

suite('add', { atol: 1e-6, rtol: 1e-6, why: 'one f32 rounding' }, binaryCases, binaryBuild((x, y) => x + y));

// ---------------------------------------------------------------- softmax

suite('softmax', { atol: 1e-6, rtol: 1e-4, why: 'exp and a sum over the row in f32' }, [
  { rows: 1, cols: 1 },
  { rows: 3, cols: 7 },
  { rows: 5, cols: 256 },
  { rows: 2, cols: 1000, offset: 100 },
  { rows: 3, cols: 4097 },
  { rows: 10, cols: 33, maxX: 3, label: 'split dispatch' },
], (c, r) => {
  const x = rand(r, c.rows * c.cols, -8, 8);
  if (c.offset) for (let i = 0; i < x.length; i++) x[i] = toReal(x[i] + c.offset);
  const y = new Float64Array(x.length);
  for (let i = 0; i < c.rows; i++) {
    const row = x.subarray(i * c.cols, (i + 1) * c.cols);
    const m = Math.max(...row);
    let s = 0;
    for (const v of row) s += Math.exp(v - m);
    for (let j = 0; j < c.cols; j++) y[i * c.cols + j] = Math.exp(row[j] - m) / s;
  }
  return {
    buffers: { x, y: { size: x.length } },
    params: { rows: c.rows, cols: c.cols },
    dispatch: { groups: c.rows, maxX: c.maxX },
    expect: { y },
  };
});

// ---------------------------------------------------------------- conv2d

// TFLite SAME: output ceil(in / stride), padding split with the smaller half first.
export function samePad(inp, k, stride, dil) {
  const out = Math.ceil(inp / stride);
  const total = Math.max((out - 1) * stride + (k - 1) * dil + 1 - inp, 0);
  return { out, before: Math.floor(total / 2), after: total - Math.floor(total / 2) };
}

function convOut(inp, k, stride, dil, before, after) {
  return Math.floor((inp + before + after - dil * (k - 1) - 1) / stride) + 1;
}

function conv2dRef(x, w, bias, p) {
  const y = new Float64Array(p.N * p.Cout * p.OH * p.OW);
  const cinG = p.Cin / p.groups, coutG = p.Cout / p.groups;
  for (let n = 0; n < p.N; n++)
    for (let co = 0; co < p.Cout; co++) {
      const g = Math.floor(co / coutG);
      for (let oy = 0; oy < p.OH; oy++)
        for (let ox = 0; ox < p.OW; ox++) {
          let s = p.hasBias ? bias[co] : 0;
          for (let c = 0; c < cinG; c++)
            for (let ky = 0; ky < p.KH; ky++)
              for (let kx = 0; kx < p.KW; kx++) {
                const iy = oy * p.strideH + ky * p.dilationH - p.padTop;
                const ix = ox * p.strideW + kx * p.dilationW - p.padLeft;
                if (iy < 0 || iy >= p.H || ix < 0 || ix >= p.W) continue;
                s += x[((n * p.Cin + g * cinG + c) * p.H + iy) * p.W + ix] *
                  w[((co * cinG + c) * p.KH + ky) * p.KW + kx];
              }
          if (p.activation === 1) s = Math.max(s, 0);
          if (p.activation === 2) s = Math.min(Math.max(s, 0), 6);
          y[((n * p.Cout + co) * p.OH + oy) * p.OW + ox] = s;
        }
    }
  return y;
}

// pad: 'same' (TFLite), a number (symmetric) or [top, bottom, left, right]
export function convGeometry(c) {
  const sH = c.stride ? c.stride[0] : 1, sW = c.stride ? c.stride[1] : 1;
  const dH = c.dilation ? c.dilation[0] : 1, dW = c.dilation ? c.dilation[1] : 1;
  let pt, pb, pl, pr;
  if (c.pad === 'same') {
    const h = samePad(c.H, c.KH, sH, dH), w = samePad(c.W, c.KW, sW, dW);
    [pt, pb, pl, pr] = [h.before, h.after, w.before, w.after];
  } else if (Array.isArray(c.pad)) {
    [pt, pb, pl, pr] = c.pad;
  } else {
    pt = pb = pl = pr = c.pad || 0;
  }
  return {
    strideH: sH, strideW: sW, dilationH: dH, dilationW: dW, padTop: pt, padLeft: pl,
    OH: convOut(c.H, c.KH, sH, dH, pt, pb), OW: convOut(c.W, c.KW, sW, dW, pl, pr),
  };
}

suite('conv2d', F32, [
  { N: 1, Cin: 3, H: 8, W: 8, Cout: 4, KH: 3, KW: 3, pad: 1, bias: true },
  { N: 2, Cin: 4, H: 13, W: 11, Cout: 6, KH: 3, KW: 5, stride: [2, 2], pad: 'same', groups: 2, act: 1, bias: true, label: 'SAME asymmetric, groups 2' },
  { N: 1, Cin: 2, H: 15, W: 14, Cout: 3, KH: 3, KW: 3, dilation: [2, 2], stride: [1, 2], pad: 0, act: 2 },
  { N: 1, Cin: 6, H: 7, W: 5, Cout: 6, KH: 1, KW: 1, groups: 6, bias: true },
  { N: 1, Cin: 16, H: 17, W: 9, Cout: 17, KH: 3, KW: 3, stride: [2, 2], pad: 'same' },
  { N: 1, Cin: 3, H: 10, W: 10, Cout: 5, KH: 2, KW: 2, stride: [2, 2], pad: [0, 1, 1, 0], maxX: 2, label: 'explicit pads, split' },
], (c, r) => {
  const groups = c.groups || 1;
  const g = convGeometry(c);
  const p = { N: c.N, Cin: c.Cin, H: c.H, W: c.W, Cout: c.Cout, KH: c.KH, KW: c.KW, groups,
    hasBias: c.bias ? 1 : 0, activation: c.act || 0, ...g };
  const x = rand(r, c.N * c.Cin * c.H * c.W);
  const w = rand(r, c.Cout * (c.Cin / groups) * c.KH * c.KW);
  const bias = c.bias ? rand(r, c.Cout) : null;
  const n = c.N * c.Cout * g.OH * g.OW;
  return {
    buffers: { x, w, ...(bias ? { bias } : {}), y: { size: n } },
    params: p,
    dispatch: lin(n, c.maxX),
    expect: { y: conv2dRef(x, w, bias, p) },
  };
});

suite('mul', { atol: 1e-6, rtol: 1e-6, why: 'one f32 rounding' }, binaryCases, binaryBuild((x, y) => x * y));

// ---------------------------------------------------------------- elementwise activations

// erf to ~1e-15: Taylor series below 2.5, continued fraction for erfc above.
export function erf(x) {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    let term = x, sum = x;
    for (let n = 1; n < 100; n++) {
      term *= -x * x / n;
      sum += term / (2 * n + 1);
      if (Math.abs(term) < 1e-17) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  let f = ax;
  for (let k = 80; k >= 1; k--) f = ax + (k / 2) / f;
  const erfc = Math.exp(-ax * ax) / (Math.sqrt(Math.PI) * f);
  return Math.sign(x) * (1 - erfc);
}

const geluExact = (v) => 0.5 * v * (1 + erf(v / Math.SQRT2));
const geluTanh = (v) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));
const sigm = (v) => 1 / (1 + Math.exp(-v));

const unaryCases = [
  { n: 1 },
  { n: 1000, scale: 4 },
  { n: 4099, scale: 10 },
  { n: 777, scale: 100, label: 'large inputs (clamps)' },
  { n: 3000, scale: 4, maxX: 5, label: 'split dispatch' },
];

function unary(name, tol, f, extra = () => ({}), cases = unaryCases) {
  suite(name, tol, cases, (c, r) => {
    const x = rand(r, c.n, -(c.scale || 1), c.scale || 1);
    const e = extra(c);
    const y = Float64Array.from(x, (v) => f(v, e));
    return { buffers: { x, y: { size: c.n } }, params: { n: c.n, ...e }, dispatch: lin(c.n, c.maxX), expect: { y } };
  });
}

unary('relu', EXACT, (v) => Math.max(v, 0));
unary('leakyRelu', { atol: 1e-6, rtol: 1e-6, why: 'one f32 rounding' }, (v, e) => (v >= 0 ? v : e.alpha * v),
  (c) => ({ alpha: c.n % 2 ? 0.2 : 0.01 }));
unary('sigmoid', { atol: 1e-6, rtol: 1e-5, why: 'f32 exp and a division' }, sigm);
unary('tanh', { atol: 1e-6, rtol: 1e-5, why: 'f32 tanh builtin' }, Math.tanh);
unary('silu', { atol: 1e-5, rtol: 1e-5, why: 'f32 exp and a division' }, (v) => v * sigm(v));
suites.gelu = {
  tol: { atol: 1e-5, rtol: 1e-5, why: 'erf approximation |error| <= 1.5e-7, times |x|/2 up to 50' },
  cases: [...unaryCases.map((c) => ({ ...c, approximate: 0 })), { n: 999, scale: 6, approximate: 1, label: 'tanh form' },
    { n: 64, scale: 100, approximate: 1, label: 'tanh form, clamps' }],
  build: (c, r) => {
    const x = rand(r, c.n, -(c.scale || 1), c.scale || 1);
    const f = c.approximate ? geluTanh : geluExact;
    return { buffers: { x, y: { size: c.n } }, params: { n: c.n, approximate: c.approximate },
      dispatch: lin(c.n, c.maxX), expect: { y: Float64Array.from(x, f) } };
  },
};

suite('prelu', { atol: 1e-6, rtol: 1e-6, why: 'one f32 rounding' }, [
  { outer: 1, C: 1, inner: 100 },
  { outer: 2, C: 3, inner: 35 },
  { outer: 3, C: 17, inner: 1 },
  { outer: 1, C: 32, inner: 129, maxX: 4, label: 'split dispatch' },
], (c, r) => {
  const n = c.outer * c.C * c.inner;
  const x = rand(r, n, -2, 2), slope = rand(r, c.C, 0, 0.5);
  const y = Float64Array.from(x, (v, i) => (v >= 0 ? v : slope[Math.floor(i / c.inner) % c.C] * v));
  return { buffers: { x, slope, y: { size: n } }, params: { n, C: c.C, inner: c.inner },
    dispatch: lin(n, c.maxX), expect: { y } };
});

suite('snake', { atol: 1e-5, rtol: 1e-5, why: 'own f32 sin (cephes), divided by α down to 0.2' }, [
  { N: 1, C: 1, L: 7 },
  { N: 2, C: 5, L: 301 },
  { N: 1, C: 64, L: 33, logScale: 1 },
  { N: 3, C: 3, L: 100, logScale: 1, maxX: 2, label: 'split dispatch' },
], (c, r) => {
  const n = c.N * c.C * c.L;
  const x = rand(r, n, -3, 3);
  const alpha = c.logScale ? rand(r, c.C, -1, 1) : rand(r, c.C, 0.2, 3);
  const y = Float64Array.from(x, (v, i) => {
    const ch = Math.floor(i / c.L) % c.C;
    const a = c.logScale ? Math.exp(alpha[ch]) : alpha[ch];
    return v + Math.sin(a * v) ** 2 / (a + 1e-9);
  });
  return { buffers: { x, alpha, y: { size: n } }, params: { n, C: c.C, L: c.L, logScale: c.logScale || 0 },
    dispatch: lin(n, c.maxX), expect: { y } };
});

suite('geluMul', { atol: 1e-5, rtol: 1e-5, why: 'erf approximation, exp' }, [
  { n: 1, activation: 0 },
  { n: 1025, activation: 0, scale: 5 },
  { n: 999, activation: 1, scale: 5 },
  { n: 3001, activation: 2, scale: 8 },
  { n: 500, activation: 2, scale: 100, maxX: 1, label: 'clamps, split dispatch' },
], (c, r) => {
  const s = c.scale || 1;
  const a = rand(r, c.n, -s, s), b = rand(r, c.n, -2, 2);
  const act = [geluExact, geluTanh, (v) => v * sigm(v)][c.activation];
  return { buffers: { a, b, y: { size: c.n } }, params: { n: c.n, activation: c.activation },
    dispatch: lin(c.n, c.maxX), expect: { y: Float64Array.from(a, (v, i) => act(v) * b[i]) } };
});

// ---------------------------------------------------------------- normalisations

function meanVar(x, base, n) {
  let s = 0;
  for (let i = 0; i < n; i++) s += x[base + i];
  const mean = s / n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (x[base + i] - mean) ** 2;
  return { mean, variance: ss / n };
}

const rowCases = [
  { rows: 1, cols: 1 },
  { rows: 3, cols: 5 },
  { rows: 4, cols: 256 },
  { rows: 2, cols: 1000, offset: 5 },
  { rows: 2, cols: 5003 },
  { rows: 9, cols: 64, maxX: 2, label: 'split dispatch' },
];
// Normalised outputs are O(1)..O(10): rsqrt and a mean of squares in f32.
const NORM = { atol: 1e-4, rtol: 1e-4, why: 'f32 reductions and inverseSqrt, outputs O(1)-O(10)' };

suite('rmsNorm', NORM, rowCases, (c, r) => {
  const x = rand(r, c.rows * c.cols, -2, 2), weight = rand(r, c.cols, -2, 2);
  if (c.offset) for (let i = 0; i < x.length; i++) x[i] = toReal(x[i] + c.offset);
  const eps = 1e-5;
  const y = new Float64Array(x.length);
  for (let i = 0; i < c.rows; i++) {
    let ss = 0;
    for (let j = 0; j < c.cols; j++) ss += x[i * c.cols + j] ** 2;
    const s = 1 / Math.sqrt(ss / c.cols + eps);
    for (let j = 0; j < c.cols; j++) y[i * c.cols + j] = x[i * c.cols + j] * s * weight[j];
  }
  return { buffers: { x, weight, y: { size: x.length } }, params: { rows: c.rows, cols: c.cols, eps },
    dispatch: { groups: c.rows, maxX: c.maxX }, expect: { y } };
});

suite('layerNorm', NORM, rowCases.map((c, i) => ({ ...c, hasBias: i % 3 ? 1 : 0 })), (c, r) => {
  const x = rand(r, c.rows * c.cols, -2, 2), gamma = rand(r, c.cols, -2, 2), beta = rand(r, c.cols);
  if (c.offset) for (let i = 0; i < x.length; i++) x[i] = toReal(x[i] + c.offset);
  const eps = 1e-5;
  const y = new Float64Array(x.length);
  for (let i = 0; i < c.rows; i++) {
    const { mean, variance } = meanVar(x, i * c.cols, c.cols);
    for (let j = 0; j < c.cols; j++)
      y[i * c.cols + j] = (x[i * c.cols + j] - mean) / Math.sqrt(variance + eps) * gamma[j] + (c.hasBias ? beta[j] : 0);
  }
  return { buffers: { x, gamma, ...(c.hasBias ? { beta } : {}), y: { size: x.length } },
    params: { rows: c.rows, cols: c.cols, eps, hasBias: c.hasBias }, dispatch: { groups: c.rows, maxX: c.maxX }, expect: { y } };
});

suite('instanceNorm', NORM, [
  { N: 1, C: 1, HW: 1 },
  { N: 2, C: 3, HW: 49 },
  { N: 1, C: 4, HW: 4096 },
  { N: 1, C: 2, HW: 4097, twoPass: true },
  { N: 2, C: 3, HW: 9000, twoPass: true, offset: 3 },
  { N: 1, C: 2, HW: 300, twoPass: true, label: 'two-pass, one chunk' },
  { N: 3, C: 5, HW: 17, maxX: 4, label: 'split dispatch' },
], (c, r) => {
  const planes = c.N * c.C, n = planes * c.HW;
  const x = rand(r, n, -2, 2), scale = rand(r, c.C, -2, 2), bias = rand(r, c.C);
  if (c.offset) for (let i = 0; i < n; i++) x[i] = toReal(x[i] + c.offset);
  const eps = 1e-5;
  const y = new Float64Array(n);
  for (let p = 0; p < planes; p++) {
    const { mean, variance } = meanVar(x, p * c.HW, c.HW);
    for (let k = 0; k < c.HW; k++)
      y[p * c.HW + k] = (x[p * c.HW + k] - mean) / Math.sqrt(variance + eps) * scale[p % c.C] + bias[p % c.C];
  }
  const chunks = Math.ceil(c.HW / 4096);
  const params = { planes, C: c.C, HW: c.HW, eps, chunks };
  const passes = c.twoPass
    ? [{ entry: 'stats_pass', params, dispatch: { groups: planes * chunks, maxX: c.maxX } },
       { entry: 'apply', params, dispatch: { groups: planes * chunks, maxX: c.maxX } }]
    : [{ entry: 'main', params, dispatch: { groups: planes, maxX: c.maxX } }];
  return { buffers: { x, scale, bias, y: { size: n }, stats: { size: planes * chunks * 3 } }, passes, expect: { y } };
});

suite('fusedNormAdd', NORM, rowCases, (c, r) => {
  const n = c.rows * c.cols;
  const x = rand(r, n, -2, 2), residual = rand(r, n, -2, 2), weight = rand(r, c.cols, -2, 2);
  if (c.offset) for (let i = 0; i < n; i++) x[i] = toReal(x[i] + c.offset);
  const eps = 1e-6;
  const sum = Float64Array.from(x, (v, i) => v + residual[i]);
  const y = new Float64Array(n);
  for (let i = 0; i < c.rows; i++) {
    let ss = 0;
    for (let j = 0; j < c.cols; j++) ss += sum[i * c.cols + j] ** 2;
    const s = 1 / Math.sqrt(ss / c.cols + eps);
    for (let j = 0; j < c.cols; j++) y[i * c.cols + j] = sum[i * c.cols + j] * s * weight[j];
  }
  return { buffers: { x, residual, weight, sum: { size: n }, y: { size: n } },
    params: { rows: c.rows, cols: c.cols, eps }, dispatch: { groups: c.rows, maxX: c.maxX }, expect: { sum, y } };
});

suite('adain', NORM, [
  { N: 1, C: 1, L: 1, gammaOffset: 0 },
  { N: 2, C: 3, L: 100, gammaOffset: 1 },
  { N: 1, C: 8, L: 1537, gammaOffset: 1, offset: 4 },
  { N: 2, C: 5, L: 33, gammaOffset: 0, maxX: 3, label: 'split dispatch' },
], (c, r) => {
  const planes = c.N * c.C, n = planes * c.L;
  const x = rand(r, n, -2, 2), gamma = rand(r, planes), beta = rand(r, planes);
  if (c.offset) for (let i = 0; i < n; i++) x[i] = toReal(x[i] + c.offset);
  const eps = 1e-5;
  const y = new Float64Array(n);
  for (let p = 0; p < planes; p++) {
    const { mean, variance } = meanVar(x, p * c.L, c.L);
    for (let k = 0; k < c.L; k++)
      y[p * c.L + k] = (x[p * c.L + k] - mean) / Math.sqrt(variance + eps) * (c.gammaOffset + gamma[p]) + beta[p];
  }
  return { buffers: { x, gamma, beta, y: { size: n } }, params: { planes, L: c.L, eps, gammaOffset: c.gammaOffset },
    dispatch: { groups: planes, maxX: c.maxX }, expect: { y } };
});

// ---------------------------------------------------------------- LLM ops

suite('embeddingLookup', EXACT, [
  { T: 1, V: 1, D: 1 },
  { T: 7, V: 50, D: 33 },
  { T: 5, V: 10, D: 256, badId: true, label: 'an id past the table gives zeros' },
  { T: 40, V: 300, D: 64, maxX: 3, label: 'split dispatch' },
], (c, r) => {
  const table = rand(r, c.V * c.D);
  const ids = new Uint32Array(c.T).map(() => Math.floor(r() * c.V));
  if (c.badId) ids[2] = c.V + 3;
  const out = new Float64Array(c.T * c.D);
  for (let t = 0; t < c.T; t++)
    for (let d = 0; d < c.D; d++) out[t * c.D + d] = ids[t] < c.V ? table[ids[t] * c.D + d] : 0;
  return { buffers: { ids, table, out: { size: c.T * c.D } }, params: { T: c.T, V: c.V, D: c.D },
    dispatch: lin(c.T * c.D, c.maxX), expect: { out } };
});

// m2w-pack's Q8_0 layout: per 32 weights, 9 u32 (f32 scale, 32 int8 LE).
// Returns the packed words and the dequantised weights the reference uses.
export function packQ8(r, rows, cols) {
  const blocks = cols / 32;
  const words = new Uint32Array(rows * blocks * 9);
  const w = new Float64Array(rows * cols);
  const f = new Float32Array(1), u = new Uint32Array(f.buffer);
  for (let i = 0; i < rows; i++)
    for (let b = 0; b < blocks; b++) {
      const o = (i * blocks + b) * 9;
      f[0] = 0.001 + 0.02 * r();
      words[o] = u[0];
      for (let q = 0; q < 32; q++) {
        const v = Math.floor(r() * 255) - 127; // -127..127 as llama.cpp writes
        words[o + 1 + (q >> 2)] |= (v & 0xff) << (8 * (q & 3));
        w[i * cols + b * 32 + q] = f[0] * v;
      }
    }
  return { words, w };
}

// m2w-pack's Q4_0 layout: per 32 weights, 5 u32 (f32 scale, ggml's 16
// nibble bytes LE; byte j: weight j low nibble, weight j + 16 high).
export function packQ4(r, rows, cols) {
  const blocks = cols / 32;
  const words = new Uint32Array(rows * blocks * 5);
  const w = new Float64Array(rows * cols);
  const f = new Float32Array(1), u = new Uint32Array(f.buffer);
  for (let i = 0; i < rows; i++)
    for (let b = 0; b < blocks; b++) {
      const o = (i * blocks + b) * 5;
      f[0] = 0.01 + 0.1 * r();
      words[o] = u[0];
      for (let j = 0; j < 16; j++) {
        const lo = Math.floor(r() * 16), hi = Math.floor(r() * 16);
        words[o + 1 + (j >> 2)] |= (lo | (hi << 4)) << (8 * (j & 3));
        w[i * cols + b * 32 + j] = f[0] * (lo - 8);
        w[i * cols + b * 32 + j + 16] = f[0] * (hi - 8);
      }
    }
  return { words, w };
}

suite('embeddingLookupQ8', { atol: 0, rtol: 1e-7, why: 'one f32 product per element' }, [
  { T: 1, V: 1, D: 32 },
  { T: 9, V: 40, D: 96 },
  { T: 5, V: 7, D: 256, badId: true, label: 'an id past the table gives zeros' },
  { T: 33, V: 100, D: 64, maxX: 2, label: 'split dispatch' },
], (c, r) => {
  const { words: table, w } = packQ8(r, c.V, c.D);
  const ids = new Uint32Array(c.T).map(() => Math.floor(r() * c.V));
  if (c.badId) ids[1] = 0xfffffff0;
  const out = new Float64Array(c.T * c.D);
  for (let t = 0; t < c.T; t++)
    for (let d = 0; d < c.D; d++) out[t * c.D + d] = ids[t] < c.V ? w[ids[t] * c.D + d] : 0;
  return { buffers: { ids, table, out: { size: c.T * c.D } }, params: { T: c.T, V: c.V, D: c.D },
    dispatch: lin(c.T * c.D, c.maxX), expect: { out } };
});

const linearCases = [
  { T: 1, N: 1, K: 32 },
  { T: 1, N: 67, K: 288, bias: true, label: 'decode' },
  { T: 5, N: 33, K: 2080, label: 'K of 65 blocks: threads take 2 blocks' },
  { T: 3, N: 100, K: 64, bias: true, maxX: 7, label: 'split dispatch' },
];

function linearBuild(pack) {
  return (c, r) => {
    const { words: wq, w } = pack(r, c.N, c.K);
    const x = rand(r, c.T * c.K);
    const bias = c.bias ? rand(r, c.N) : null;
    const y = new Float64Array(c.T * c.N);
    for (let t = 0; t < c.T; t++)
      for (let n = 0; n < c.N; n++) {
        let s = c.bias ? bias[n] : 0;
        for (let k = 0; k < c.K; k++) s += x[t * c.K + k] * w[n * c.K + k];
        y[t * c.N + n] = s;
      }
    return { buffers: { x, wq, ...(bias ? { bias } : {}), y: { size: c.T * c.N } },
      params: { T: c.T, N: c.N, K: c.K, hasBias: c.bias ? 1 : 0 },
      dispatch: { groups: c.T * c.N, maxX: c.maxX }, expect: { y } };
  };
}
suite('linearQ8', F32, linearCases, linearBuild(packQ8));
suite('linearQ4', F32, linearCases, linearBuild(packQ4));

// The angle pos·freq is an f32 (as in llama.cpp and PyTorch), so its error
// grows with the position: ~2 ulp of the angle times |x| <= 2 per term.
const ropeTol = (maxPos) => ({ atol: 1e-5 + 6e-7 * maxPos, rtol: 1e-5 });
suite('rope', { atol: '1e-5 + 6e-7 * max position', rtol: 1e-5, why: 'f32 angle pos*freq: error grows with position; own f32 sincos' }, [
  { T: 1, heads: 1, headDim: 2, ropeDims: 2, pos0: 0, mode: 0 },
  { T: 5, heads: 3, headDim: 64, ropeDims: 64, pos0: 7, mode: 0 },
  { T: 4, heads: 2, headDim: 64, ropeDims: 64, pos0: 100, mode: 1 },
  { T: 3, heads: 4, headDim: 80, ropeDims: 32, pos0: 513, mode: 1, theta: 500000, label: 'partial rotary' },
  { T: 6, heads: 2, headDim: 18, ropeDims: 10, pos0: 3, mode: 0, maxX: 1, label: 'split dispatch' },
], (c, r) => {
  const theta = c.theta || 10000;
  const n = c.T * c.heads * c.headDim;
  const x = rand(r, n, -2, 2);
  const y = Float64Array.from(x);
  const half = c.ropeDims / 2;
  for (let t = 0; t < c.T; t++)
    for (let h = 0; h < c.heads; h++)
      for (let i = 0; i < half; i++) {
        const base = (t * c.heads + h) * c.headDim;
        const [d0, d1] = c.mode === 0 ? [2 * i, 2 * i + 1] : [i, i + half];
        const ang = (c.pos0 + t) * Math.pow(theta, -2 * i / c.ropeDims);
        const a = x[base + d0], b = x[base + d1];
        y[base + d0] = a * Math.cos(ang) - b * Math.sin(ang);
        y[base + d1] = a * Math.sin(ang) + b * Math.cos(ang);
      }
  return { buffers: { x, y: { size: n } }, tol: ropeTol(c.pos0 + c.T - 1),
    params: { T: c.T, heads: c.heads, headDim: c.headDim, ropeDims: c.ropeDims, pos0: c.pos0, mode: c.mode, theta },
    dispatch: lin(n, c.maxX), expect: { y } };
});

suite('kvCacheStore', EXACT, [
  { T: 1, kvHeads: 1, headDim: 1, maxSeq: 1, pos0: 0 },
  { T: 7, kvHeads: 2, headDim: 64, maxSeq: 20, pos0: 5 },
  { T: 4, kvHeads: 3, headDim: 17, maxSeq: 9, pos0: 7, label: 'positions past maxSeq dropped' },
  { T: 16, kvHeads: 4, headDim: 32, maxSeq: 40, pos0: 0, maxX: 3, label: 'split dispatch' },
], (c, r) => {
  const n = c.T * c.kvHeads * c.headDim, cn = c.kvHeads * c.maxSeq * c.headDim;
  const k = rand(r, n), v = rand(r, n);
  const kCache = rand(r, cn), vCache = rand(r, cn);
  const ek = Float64Array.from(kCache), ev = Float64Array.from(vCache);
  for (let t = 0; t < c.T; t++) {
    const pos = c.pos0 + t;
    if (pos >= c.maxSeq) continue;
    for (let h = 0; h < c.kvHeads; h++)
      for (let d = 0; d < c.headDim; d++) {
        ek[(h * c.maxSeq + pos) * c.headDim + d] = k[(t * c.kvHeads + h) * c.headDim + d];
        ev[(h * c.maxSeq + pos) * c.headDim + d] = v[(t * c.kvHeads + h) * c.headDim + d];
      }
  }
  return { buffers: { k, v, kCache: { data: kCache }, vCache: { data: vCache } },
    params: { T: c.T, kvHeads: c.kvHeads, headDim: c.headDim, maxSeq: c.maxSeq, pos0: c.pos0 },
    dispatch: lin(n, c.maxX), expect: { kCache: ek, vCache: ev } };
});

const attnCases = [
  { T: 1, heads: 1, kvHeads: 1, headDim: 1, maxSeq: 1, pos0: 0, causal: 1 },
  { T: 1, heads: 8, kvHeads: 2, headDim: 64, maxSeq: 50, pos0: 20, causal: 1, label: 'decode, GQA 4' },
  { T: 9, heads: 4, kvHeads: 4, headDim: 32, maxSeq: 16, pos0: 0, causal: 1, label: 'prefill' },
  { T: 5, heads: 6, kvHeads: 3, headDim: 20, maxSeq: 30, pos0: 11, causal: 1 },
  { T: 7, heads: 2, kvHeads: 1, headDim: 24, maxSeq: 7, pos0: 0, causal: 0, maxX: 2, label: 'not causal, split dispatch' },
];

suite('attnScore', F32, attnCases, (c, r) => {
  const keys = c.pos0 + c.T, scale = 1 / Math.sqrt(c.headDim);
  const q = rand(r, c.T * c.heads * c.headDim), kCache = rand(r, c.kvHeads * c.maxSeq * c.headDim);
  const n = c.heads * c.T * keys;
  const scores = new Float64Array(n);
  const g = c.heads / c.kvHeads;
  for (let h = 0; h < c.heads; h++)
    for (let t = 0; t < c.T; t++)
      for (let s = 0; s < keys; s++) {
        let v;
        if (c.causal && s > c.pos0 + t) v = -65504;
        else {
          v = 0;
          for (let d = 0; d < c.headDim; d++)
            v += q[(t * c.heads + h) * c.headDim + d] * kCache[(Math.floor(h / g) * c.maxSeq + s) * c.headDim + d];
          v *= scale;
        }
        scores[(h * c.T + t) * keys + s] = v;
      }
  return { buffers: { q, kCache, scores: { size: n } },
    params: { T: c.T, heads: c.heads, kvHeads: c.kvHeads, headDim: c.headDim, maxSeq: c.maxSeq, keys,
      pos0: c.pos0, causal: c.causal, scale },
    dispatch: lin(n, c.maxX), expect: { scores } };
});

suite('attnOutput', F32, attnCases, (c, r) => {
  const keys = c.pos0 + c.T;
  const probs = rand(r, c.heads * c.T * keys, 0, 1), vCache = rand(r, c.kvHeads * c.maxSeq * c.headDim);
  const n = c.T * c.heads * c.headDim;
  const out = new Float64Array(n);
  const g = c.heads / c.kvHeads;
  for (let t = 0; t < c.T; t++)
    for (let h = 0; h < c.heads; h++)
      for (let d = 0; d < c.headDim; d++) {
        let s = 0;
        for (let k = 0; k < keys; k++)
          s += probs[(h * c.T + t) * keys + k] * vCache[(Math.floor(h / g) * c.maxSeq + k) * c.headDim + d];
        out[(t * c.heads + h) * c.headDim + d] = s;
      }
  return { buffers: { probs, vCache, out: { size: n } },
    params: { T: c.T, heads: c.heads, kvHeads: c.kvHeads, headDim: c.headDim, maxSeq: c.maxSeq, keys },
    dispatch: lin(n, c.maxX), expect: { out } };
});

// Values on a coarse grid where `ties` is set, so equal values occur.
function rowsWithTies(c, r) {
  const x = rand(r, c.rows * c.cols, -4, 4);
  if (c.ties) for (let i = 0; i < x.length; i++) x[i] = Math.round(x[i] * 2) / 2 || 0.5;
  return x;
}

// Descending by value, ascending index on ties.
function ranked(x, base, cols) {
  const idx = Array.from({ length: cols }, (_, j) => j);
  idx.sort((a, b) => x[base + b] - x[base + a] || a - b);
  return idx;
}

suite('argmax', EXACT, [
  { rows: 1, cols: 1 },
  { rows: 3, cols: 1000 },
  { rows: 4, cols: 32000, ties: true, label: 'ties: first index' },
  { rows: 2, cols: 77, ties: true },
  { rows: 10, cols: 300, maxX: 3, label: 'split dispatch' },
], (c, r) => {
  const x = rowsWithTies(c, r);
  const out = new Uint32Array(c.rows).map((_, i) => ranked(x, i * c.cols, c.cols)[0]);
  return { buffers: { x, out: { size: c.rows, type: 'u32' } }, params: { rows: c.rows, cols: c.cols },
    dispatch: { groups: c.rows, maxX: c.maxX }, expect: { out } };
});

suite('topK', EXACT, [
  { rows: 1, cols: 1, k: 1 },
  { rows: 2, cols: 1000, k: 40 },
  { rows: 1, cols: 32000, k: 50, ties: true, label: 'ties: smaller index first' },
  { rows: 3, cols: 10, k: 10, ties: true, label: 'k = cols' },
  { rows: 5, cols: 100, k: 7, maxX: 2, label: 'split dispatch' },
], (c, r) => {
  const x = rowsWithTies(c, r);
  const values = new Float64Array(c.rows * c.k), indices = new Uint32Array(c.rows * c.k);
  for (let i = 0; i < c.rows; i++) {
    const idx = ranked(x, i * c.cols, c.cols);
    for (let j = 0; j < c.k; j++) {
      indices[i * c.k + j] = idx[j];
      values[i * c.k + j] = x[i * c.cols + idx[j]];
    }
  }
  return { buffers: { x, values: { size: c.rows * c.k }, indices: { size: c.rows * c.k, type: 'u32' } },
    params: { rows: c.rows, cols: c.cols, k: c.k }, dispatch: { groups: c.rows, maxX: c.maxX }, expect: { values, indices } };
});

// ---------------------------------------------------------------- convolutions and pooling

suite('conv1d', F32, [
  { N: 1, Cin: 1, L: 1, Cout: 1, K: 1 },
  { N: 2, Cin: 4, L: 50, Cout: 6, K: 3, pad: [1, 1], bias: true },
  { N: 1, Cin: 6, L: 101, Cout: 4, K: 7, stride: 2, dilation: 3, pad: [9, 9], groups: 2, bias: true },
  { N: 1, Cin: 8, L: 33, Cout: 8, K: 5, groups: 8, pad: [4, 0], label: 'depthwise, causal padding' },
  { N: 1, Cin: 16, L: 64, Cout: 12, K: 1, maxX: 3, label: 'pointwise, split dispatch' },
], (c, r) => {
  const groups = c.groups || 1, stride = c.stride || 1, dilation = c.dilation || 1;
  const [pl, pr] = c.pad || [0, 0];
  const OL = Math.floor((c.L + pl + pr - dilation * (c.K - 1) - 1) / stride) + 1;
  const x = rand(r, c.N * c.Cin * c.L), w = rand(r, c.Cout * (c.Cin / groups) * c.K);
  const bias = c.bias ? rand(r, c.Cout) : null;
  const y = new Float64Array(c.N * c.Cout * OL);
  const cinG = c.Cin / groups, coutG = c.Cout / groups;
  for (let n = 0; n < c.N; n++)
    for (let co = 0; co < c.Cout; co++)
      for (let o = 0; o < OL; o++) {
        let s = bias ? bias[co] : 0;
        for (let ci = 0; ci < cinG; ci++)
          for (let k = 0; k < c.K; k++) {
            const ix = o * stride + k * dilation - pl;
            if (ix >= 0 && ix < c.L)
              s += x[(n * c.Cin + Math.floor(co / coutG) * cinG + ci) * c.L + ix] * w[(co * cinG + ci) * c.K + k];
          }
        y[(n * c.Cout + co) * OL + o] = s;
      }
  return { buffers: { x, w, ...(bias ? { bias } : {}), y: { size: y.length } },
    params: { N: c.N, Cin: c.Cin, L: c.L, Cout: c.Cout, OL, K: c.K, stride, dilation, padLeft: pl, groups,
      hasBias: c.bias ? 1 : 0 },
    dispatch: lin(y.length, c.maxX), expect: { y } };
});

suite('depthwiseConv2d', F32, [
  { N: 1, C: 1, mult: 1, H: 1, W: 1, KH: 1, KW: 1 },
  { N: 1, C: 24, mult: 1, H: 64, W: 64, KH: 3, KW: 3, stride: [2, 2], pad: 'same', bias: true, act: 1, label: 'BlazeFace-like SAME stride 2' },
  { N: 2, C: 3, mult: 2, H: 13, W: 10, KH: 5, KW: 3, pad: 'same', bias: true, act: 2 },
  { N: 1, C: 5, mult: 1, H: 20, W: 17, KH: 3, KW: 3, dilation: [2, 3], pad: [2, 1, 3, 0] },
  { N: 1, C: 7, mult: 3, H: 9, W: 9, KH: 3, KW: 3, stride: [1, 2], pad: 1, maxX: 2, label: 'split dispatch' },
], (c, r) => {
  const g = convGeometry(c);
  const Cout = c.C * c.mult;
  const p = { N: c.N, C: c.C, H: c.H, W: c.W, mult: c.mult, KH: c.KH, KW: c.KW, hasBias: c.bias ? 1 : 0,
    activation: c.act || 0, ...g };
  const x = rand(r, c.N * c.C * c.H * c.W), w = rand(r, Cout * c.KH * c.KW);
  const bias = c.bias ? rand(r, Cout) : null;
  // the reference is conv2d with groups = C
  const y = conv2dRef(x, w, bias, { ...p, Cin: c.C, Cout, groups: c.C });
  return { buffers: { x, w, ...(bias ? { bias } : {}), y: { size: y.length } }, params: p,
    dispatch: lin(y.length, c.maxX), expect: { y } };
});

suite('convTranspose1d', F32, [
  { N: 1, Cin: 1, L: 1, Cout: 1, K: 1 },
  { N: 2, Cin: 4, L: 20, Cout: 3, K: 4, stride: 2, pad: [1, 1], bias: true, label: 'upsample x2' },
  { N: 1, Cin: 6, L: 15, Cout: 4, K: 3, stride: 3, dilation: 2, pad: [2, 0], outPad: 1, groups: 2, bias: true },
  { N: 1, Cin: 8, L: 31, Cout: 8, K: 16, stride: 8, pad: [4, 4], groups: 4, label: 'vocoder-like x8' },
  { N: 1, Cin: 5, L: 40, Cout: 5, K: 2, stride: 1, maxX: 1, label: 'split dispatch' },
], (c, r) => {
  const groups = c.groups || 1, stride = c.stride || 1, dilation = c.dilation || 1;
  const [pl, pr] = c.pad || [0, 0];
  const OL = (c.L - 1) * stride - pl - pr + dilation * (c.K - 1) + (c.outPad || 0) + 1;
  const coutG = c.Cout / groups, cinG = c.Cin / groups;
  const x = rand(r, c.N * c.Cin * c.L), w = rand(r, c.Cin * coutG * c.K);
  const bias = c.bias ? rand(r, c.Cout) : null;
  // scatter form: every input element adds into the outputs it reaches
  const y = new Float64Array(c.N * c.Cout * OL);
  for (let n = 0; n < c.N; n++) {
    if (bias) for (let co = 0; co < c.Cout; co++) for (let o = 0; o < OL; o++) y[(n * c.Cout + co) * OL + o] = bias[co];
    for (let ci = 0; ci < c.Cin; ci++) {
      const gi = Math.floor(ci / cinG);
      for (let i = 0; i < c.L; i++)
        for (let cl = 0; cl < coutG; cl++)
          for (let k = 0; k < c.K; k++) {
            const o = i * stride + k * dilation - pl;
            if (o < 0 || o >= OL) continue;
            y[(n * c.Cout + gi * coutG + cl) * OL + o] += x[(n * c.Cin + ci) * c.L + i] * w[(ci * coutG + cl) * c.K + k];
          }
    }
  }
  return { buffers: { x, w, ...(bias ? { bias } : {}), y: { size: y.length } },
    params: { N: c.N, Cin: c.Cin, L: c.L, Cout: c.Cout, OL, K: c.K, stride, dilation, padLeft: pl, groups,
      hasBias: c.bias ? 1 : 0 },
    dispatch: lin(y.length, c.maxX), expect: { y } };
});

// pool geometry: explicit pads [top, bottom, left, right], ceil mode optional
function poolGeometry(c) {
  const [pt, pb, pl, pr] = c.pad || [0, 0, 0, 0];
  const sH = c.stride ? c.stride[0] : c.KH, sW = c.stride ? c.stride[1] : c.KW;
  const dH = c.dilation ? c.dilation[0] : 1, dW = c.dilation ? c.dilation[1] : 1;
  const f = c.ceil ? Math.ceil : Math.floor;
  let OH = f((c.H + pt + pb - dH * (c.KH - 1) - 1) / sH) + 1;
  let OW = f((c.W + pl + pr - dW * (c.KW - 1) - 1) / sW) + 1;
  // ceil mode: the last window must start inside the input or left padding
  if (c.ceil && (OH - 1) * sH >= c.H + pt) OH--;
  if (c.ceil && (OW - 1) * sW >= c.W + pl) OW--;
  return { H: c.H, W: c.W, OH, OW, KH: c.KH, KW: c.KW, strideH: sH, strideW: sW, dilationH: dH, dilationW: dW,
    padTop: pt, padLeft: pl, pb, pr };
}

function poolRef(x, planes, g, f) {
  const y = new Float64Array(planes * g.OH * g.OW);
  for (let p = 0; p < planes; p++)
    for (let oy = 0; oy < g.OH; oy++)
      for (let ox = 0; ox < g.OW; ox++) {
        const taps = [];
        let counted = 0;
        for (let ky = 0; ky < g.KH; ky++)
          for (let kx = 0; kx < g.KW; kx++) {
            const iy = oy * g.strideH + ky * g.dilationH - g.padTop, ix = ox * g.strideW + kx * g.dilationW - g.padLeft;
            if (iy < g.H + g.pb && ix < g.W + g.pr) counted++;
            if (iy >= 0 && iy < g.H && ix >= 0 && ix < g.W) taps.push(x[(p * g.H + iy) * g.W + ix]);
          }
        y[(p * g.OH + oy) * g.OW + ox] = f(taps, counted);
      }
  return y;
}

const poolCases = [
  { N: 1, C: 1, H: 1, W: 1, KH: 1, KW: 1 },
  { N: 2, C: 3, H: 8, W: 8, KH: 2, KW: 2 },
  { N: 1, C: 4, H: 15, W: 13, KH: 3, KW: 3, stride: [2, 2], pad: [0, 1, 1, 1], label: 'SAME-style asymmetric' },
  { N: 1, C: 2, H: 11, W: 11, KH: 3, KW: 3, stride: [2, 2], pad: [1, 1, 1, 1], ceil: true, label: 'ceil mode' },
  { N: 1, C: 3, H: 12, W: 9, KH: 2, KW: 3, stride: [1, 1], dilation: [2, 2] },
  { N: 2, C: 5, H: 7, W: 6, KH: 7, KW: 6, label: 'global' },
  { N: 1, C: 16, H: 9, W: 9, KH: 3, KW: 3, stride: [1, 1], pad: [1, 1, 1, 1], maxX: 2, label: 'split dispatch' },
];

function poolBuild(kind) {
  return (c, r) => {
    const planes = c.N * c.C, g = poolGeometry(c);
    const x = rand(r, planes * c.H * c.W, -3, 3);
    const cip = kind === 'avgInc' ? 1 : 0;
    const f = kind === 'max' ? (t) => (t.length ? Math.max(...t) : Math.fround(-3.4e38))
      : (t, counted) => {
        const div = cip ? counted : t.length;
        return div ? t.reduce((a, b) => a + b, 0) / div : 0;
      };
    const y = poolRef(x, planes, g, f);
    const { pb, pr, ...geo } = g;
    const params = kind === 'max' ? { planes, ...geo } : { planes, ...geo, padBottom: pb, padRight: pr, countIncludePad: cip };
    return { buffers: { x, y: { size: y.length } }, params, dispatch: lin(y.length, c.maxX), expect: { y } };
  };
}
suite('maxPool', EXACT, poolCases, poolBuild('max'));
suites.avgPool = {
  tol: { atol: 1e-6, rtol: 1e-6, why: 'a sum of at most 49 taps and one division in f32' },
  cases: [...poolCases.map((c) => ({ ...c, include: false })),
    ...poolCases.filter((c) => c.pad).map((c) => ({ ...c, include: true, label: (c.label || '') + ' count_include_pad' }))],
  build: (c, r) => poolBuild(c.include ? 'avgInc' : 'avg')(c, r),
};

// ---------------------------------------------------------------- data movement

suite('transpose', EXACT, [
  { shape: [1], perm: [0] },
  { shape: [37, 19], perm: [1, 0] },
  { shape: [2, 3, 5, 7], perm: [0, 2, 3, 1], label: 'NCHW to NHWC' },
  { shape: [4, 6, 5], perm: [2, 0, 1] },
  { shape: [1, 2, 2, 3, 4, 5], perm: [0, 3, 4, 1, 5, 2], label: '6-D pixel shuffle' },
  { shape: [2, 1, 3, 1, 2, 1, 2, 3], perm: [7, 6, 5, 4, 3, 2, 1, 0], label: '8-D reversal' },
  { shape: [50, 60], perm: [1, 0], maxX: 3, label: 'split dispatch' },
], (c, r) => {
  const n = prod(c.shape);
  const x = rand(r, n);
  const inStr = c.shape.map((_, i) => prod(c.shape.slice(i + 1)));
  const out = c.perm.map((p) => c.shape[p]);
  const y = new Float64Array(n);
  // walk input coordinates and scatter
  const coord = new Array(c.shape.length).fill(0);
  for (let i = 0; i < n; i++) {
    let rem = i;
    for (let d = c.shape.length - 1; d >= 0; d--) {
      coord[d] = rem % c.shape[d];
      rem = Math.floor(rem / c.shape[d]);
    }
    let o = 0;
    for (let d = 0; d < out.length; d++) o = o * out[d] + coord[c.perm[d]];
    y[o] = x[i];
  }
  return { buffers: { x, out: { size: n } },
    params: { n, rank: out.length, shape: out, inStrides: c.perm.map((p) => inStr[p]) },
    dispatch: lin(n, c.maxX), expect: { out: y } };
});

suite('concat', EXACT, [
  { shapes: [[1], [1]], axis: 0 },
  { shapes: [[2, 3, 4], [2, 5, 4], [2, 1, 4]], axis: 1 },
  { shapes: [[3, 7], [4, 7]], axis: 0 },
  { shapes: [[2, 3, 5], [2, 3, 1], [2, 3, 17], [2, 3, 2]], axis: 2, maxX: 1, label: 'last axis, split dispatch' },
], (c, r) => {
  const xs = c.shapes.map((s) => rand(r, prod(s)));
  const outer = prod(c.shapes[0].slice(0, c.axis)), inner = prod(c.shapes[0].slice(c.axis + 1));
  const total = c.shapes.reduce((a, s) => a + s[c.axis], 0);
  const outBlock = total * inner;
  const y = new Float64Array(outer * outBlock);
  const passes = [];
  const buffers = { out: { size: y.length } };
  let off = 0;
  c.shapes.forEach((s, k) => {
    const inBlock = s[c.axis] * inner;
    for (let o = 0; o < outer; o++)
      for (let j = 0; j < inBlock; j++) y[o * outBlock + off + j] = xs[k][o * inBlock + j];
    buffers['x' + k] = xs[k];
    passes.push({ params: { outer, inBlock, outBlock, offset: off }, bind: { x: 'x' + k },
      dispatch: lin(outer * inBlock, c.maxX) });
    off += inBlock;
  });
  return { buffers, passes, expect: { out: y } };
});

function padIndex(cc, len, mode) {
  if (cc >= 0 && cc < len) return cc;
  if (mode === 0) return -1;
  if (mode === 2) return Math.min(Math.max(cc, 0), len - 1);
  if (mode === 3) return ((cc % len) + len) % len;
  if (len === 1) return 0;
  while (cc < 0 || cc >= len) cc = cc < 0 ? -cc : 2 * (len - 1) - cc; // reflect, edge not repeated
  return cc;
}

suite('pad', EXACT, [
  { shape: [1], before: [1], after: [1], mode: 0 },
  { shape: [3, 5], before: [1, 2], after: [2, 0], mode: 0 },
  { shape: [2, 4, 5], before: [0, 3, 2], after: [0, 3, 4], mode: 1, label: 'reflect' },
  { shape: [3, 3], before: [7, 5], after: [6, 8], mode: 1, label: 'reflect, pads larger than the input' },
  { shape: [2, 3, 4, 5], before: [0, 0, 2, 3], after: [0, 0, 1, 1], mode: 2, label: 'edge' },
  { shape: [4, 6], before: [2, 7], after: [5, 1], mode: 3, label: 'wrap' },
  { shape: [6, 7], before: [-2, 1], after: [-1, -3], mode: 0, label: 'negative pads crop' },
  { shape: [1, 1, 2, 1, 3, 1, 2, 2], before: [0, 1, 0, 0, 1, 0, 0, 1], after: [1, 0, 1, 0, 0, 0, 1, 0], mode: 2, label: '8-D' },
  { shape: [40, 40], before: [3, 3], after: [3, 3], mode: 1, maxX: 2, label: 'split dispatch' },
], (c, r) => {
  const out = c.shape.map((s, i) => s + c.before[i] + c.after[i]);
  const n = prod(out);
  const x = rand(r, prod(c.shape));
  const value = 0.75;
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let rem = i, src = 0, stride = 1, outside = false;
    for (let d = out.length - 1; d >= 0; d--) {
      const ci = padIndex((rem % out[d]) - c.before[d], c.shape[d], c.mode);
      rem = Math.floor(rem / out[d]);
      if (ci < 0) outside = true;
      src += ci * stride;
      stride *= c.shape[d];
    }
    y[i] = outside ? value : x[src];
  }
  return { buffers: { x, out: { size: n } },
    params: { n, rank: out.length, mode: c.mode, value, shape: out, inShape: c.shape, before: c.before },
    dispatch: lin(n, c.maxX), expect: { out: y } };
});

// ---------------------------------------------------------------- resampling

// The source coordinate in f32 steps as the shader computes it, so that
// nearest-neighbour picks agree at exact .5 boundaries.
function resizeSource(o, outLen, inLen, scale, coord) {
  const f = Math.fround;
  if (coord === 1) {
    // ONNX: the resized length is in · scale (out itself when the scale is out / in)
    const len = inLen * scale, resized = Math.abs(len - outLen) <= 1e-5 * outLen ? outLen : f(len);
    return outLen <= 1 ? 0 : f(f(o * f(inLen - 1)) / f(resized - 1));
  }
  if (coord === 2) return f(o / scale);
  if (coord === 3 && outLen <= 1) return 0;
  return f(f(f(o + 0.5) / scale) - 0.5);
}

function nearestRound(s, mode) {
  return [Math.ceil(s - 0.5), Math.floor(s + 0.5), Math.floor(s), Math.ceil(s)][mode];
}

suite('resize', { atol: 5e-5, rtol: 1e-5, why: 'bilinear weights from f32 source coordinates (a few ulp of up to 23), values up to 2 apart' }, [
  { planes: 1, inH: 1, inW: 1, outH: 1, outW: 1, mode: 0, coord: 0, nearest: 0 },
  { planes: 3, inH: 8, inW: 8, outH: 16, outW: 16, mode: 0, coord: 2, nearest: 2, label: 'nearest asymmetric floor (TFLite)' },
  { planes: 2, inH: 10, inW: 7, outH: 5, outW: 3, mode: 0, coord: 0, nearest: 0, label: 'nearest half_pixel down' },
  { planes: 2, inH: 5, inW: 6, outH: 13, outW: 17, mode: 0, coord: 1, nearest: 1, label: 'nearest align_corners' },
  { planes: 2, inH: 6, inW: 9, outH: 15, outW: 20, mode: 1, coord: 0, label: 'bilinear half_pixel up' },
  { planes: 1, inH: 7, inW: 5, outH: 21, outW: 11, mode: 1, coord: 1, label: 'bilinear align_corners' },
  { planes: 2, inH: 17, inW: 23, outH: 6, outW: 8, mode: 1, coord: 2, label: 'bilinear asymmetric down' },
  { planes: 1, inH: 9, inW: 9, outH: 1, outW: 4, mode: 1, coord: 3, label: 'pytorch_half_pixel, out 1' },
  { planes: 4, inH: 16, inW: 16, outH: 40, outW: 24, mode: 1, coord: 0, scale: [2.5, 1.5], maxX: 3, label: 'given scales, split dispatch' },
  { planes: 2, inH: 4, inW: 8, outH: 2, outW: 4, mode: 1, coord: 1, scale: [0.6, 0.6], label: 'align_corners, scale 0.6 (resized length in · scale)' },
], (c, r) => {
  const scaleH = c.scale ? c.scale[0] : Math.fround(c.outH / c.inH), scaleW = c.scale ? c.scale[1] : Math.fround(c.outW / c.inW);
  const x = rand(r, c.planes * c.inH * c.inW);
  const y = new Float64Array(c.planes * c.outH * c.outW);
  for (let p = 0; p < c.planes; p++)
    for (let oy = 0; oy < c.outH; oy++)
      for (let ox = 0; ox < c.outW; ox++) {
        const sy = resizeSource(oy, c.outH, c.inH, scaleH, c.coord), sx = resizeSource(ox, c.outW, c.inW, scaleW, c.coord);
        const at = (yy, xx) => x[(p * c.inH + yy) * c.inW + xx];
        let v;
        if (c.mode === 0) {
          const cl = (v2, n) => Math.min(Math.max(v2, 0), n - 1);
          v = at(cl(nearestRound(sy, c.nearest), c.inH), cl(nearestRound(sx, c.nearest), c.inW));
        } else {
          const cy = Math.min(Math.max(sy, 0), c.inH - 1), cx = Math.min(Math.max(sx, 0), c.inW - 1);
          const y0 = Math.floor(cy), x0 = Math.floor(cx), y1 = Math.min(y0 + 1, c.inH - 1), x1 = Math.min(x0 + 1, c.inW - 1);
          const fy = cy - y0, fx = cx - x0;
          v = (at(y0, x0) * (1 - fx) + at(y0, x1) * fx) * (1 - fy) + (at(y1, x0) * (1 - fx) + at(y1, x1) * fx) * fy;
        }
        y[(p * c.outH + oy) * c.outW + ox] = v;
      }
  return { buffers: { x, y: { size: y.length } },
    params: { planes: c.planes, inH: c.inH, inW: c.inW, outH: c.outH, outW: c.outW, mode: c.mode, coord: c.coord,
      nearest: c.nearest || 0, scaleH, scaleW },
    dispatch: lin(y.length, c.maxX), expect: { y } };
});

// Bilinear weights come from f32 source coordinates (WGSL allows 2.5 ulp in
// a division): a few ulp of a coordinate up to ~100 is ~3e-5 of a pixel,
// times neighbours up to 255 apart /255, divided by std down to 0.224.
suite('letterboxResize', { atol: 1.5e-4, rtol: 1e-5, why: 'f32 source coordinates times byte steps up to 255, /255, / std >= 0.224' }, [
  { inW: 1, inH: 1, outW: 1, outH: 1, layout: 0, fit: 'stretch' },
  { inW: 64, inH: 48, outW: 128, outH: 128, layout: 1, fit: 'letterbox', mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5], label: 'landscape, HWC [-1, 1] (BlazeFace)' },
  { inW: 30, inH: 71, outW: 64, outH: 48, layout: 0, fit: 'letterbox', mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225], label: 'portrait, CHW ImageNet' },
  { inW: 37, inH: 29, outW: 16, outH: 20, layout: 1, fit: 'stretch', maxX: 1, label: 'plain resize down, split dispatch' },
], (c, r) => {
  const image = new Uint32Array(c.inW * c.inH).map(() => (Math.floor(r() * 4294967296)) >>> 0);
  const mean = c.mean || [0, 0, 0], std = c.std || [1, 1, 1];
  let cw = c.outW, ch = c.outH, pl = 0, pt = 0;
  if (c.fit === 'letterbox') {
    const s = Math.min(c.outW / c.inW, c.outH / c.inH);
    cw = Math.max(1, Math.round(c.inW * s));
    ch = Math.max(1, Math.round(c.inH * s));
    pl = Math.floor((c.outW - cw) / 2);
    pt = Math.floor((c.outH - ch) / 2);
  }
  const padValue = -1;
  const out = new Float64Array(3 * c.outW * c.outH);
  const px = (xx, yy, ch2) => (image[yy * c.inW + xx] >>> (8 * ch2)) & 255;
  for (let oy = 0; oy < c.outH; oy++)
    for (let ox = 0; ox < c.outW; ox++)
      for (let k = 0; k < 3; k++) {
        let v;
        if (ox < pl || ox >= pl + cw || oy < pt || oy >= pt + ch) v = padValue;
        else {
          const sx = Math.min(Math.max((ox - pl + 0.5) * c.inW / cw - 0.5, 0), c.inW - 1);
          const sy = Math.min(Math.max((oy - pt + 0.5) * c.inH / ch - 0.5, 0), c.inH - 1);
          const x0 = Math.floor(sx), y0 = Math.floor(sy), x1 = Math.min(x0 + 1, c.inW - 1), y1 = Math.min(y0 + 1, c.inH - 1);
          const fx = sx - x0, fy = sy - y0;
          const b = (px(x0, y0, k) * (1 - fx) + px(x1, y0, k) * fx) * (1 - fy) + (px(x0, y1, k) * (1 - fx) + px(x1, y1, k) * fx) * fy;
          v = (b / 255 - Math.fround(mean[k])) / Math.fround(std[k]);
        }
        out[c.layout === 0 ? (k * c.outH + oy) * c.outW + ox : (oy * c.outW + ox) * 3 + k] = v;
      }
  return { buffers: { image, out: { size: out.length } },
    params: { inW: c.inW, inH: c.inH, outW: c.outW, outH: c.outH, padLeft: pl, padTop: pt, contentW: cw, contentH: ch,
      outLayout: c.layout, padValue, mean: [...mean, 0], stddev: [...std, 1] },
    dispatch: lin(c.outW * c.outH, c.maxX), expect: { out } };
});

// ---------------------------------------------------------------- fused and vector variants

suite('matmulVec4', F32, [
  { M: 1, N: 4, K: 1 },
  { M: 16, N: 64, K: 16 },
  { M: 17, N: 36, K: 29 },
  { M: 33, N: 132, K: 70, batch: 2 },
  { M: 5, N: 8, K: 300, batch: 3, sharedB: true },
], (c, r) => {
  const batch = c.batch || 1;
  const a = rand(r, batch * c.M * c.K), b = rand(r, (c.sharedB ? 1 : batch) * c.K * c.N);
  return {
    buffers: { a, b, c: { size: batch * c.M * c.N } },
    params: { M: c.M, N: c.N, K: c.K, batch, aStride: c.M * c.K, bStride: c.sharedB ? 0 : c.K * c.N / 4 },
    dispatch: { grid: [cdiv(c.N, 64), cdiv(c.M, 16), batch] },
    expect: { c: matmulRef(a, b, c.M, c.N, c.K, batch, c.sharedB) },
  };
});

suite('matmulGelu', F32, [
  { M: 1, N: 1, K: 1, bias: true, approximate: 0 },
  { M: 17, N: 33, K: 29, bias: true, approximate: 0 },
  { M: 40, N: 20, K: 64, bias: false, approximate: 1 },
  { M: 7, N: 50, K: 9, batch: 2, bias: true, approximate: 1 },
], (c, r) => {
  const batch = c.batch || 1;
  const a = rand(r, batch * c.M * c.K), b = rand(r, batch * c.K * c.N), bias = rand(r, c.N);
  const y = matmulRef(a, b, c.M, c.N, c.K, batch, false);
  const f = c.approximate ? geluTanh : geluExact;
  for (let i = 0; i < y.length; i++) y[i] = f(y[i] + (c.bias ? bias[i % c.N] : 0));
  return {
    buffers: { a, b, ...(c.bias ? { bias } : {}), c: { size: y.length } },
    params: { M: c.M, N: c.N, K: c.K, batch, aStride: c.M * c.K, bStride: c.K * c.N, hasBias: c.bias ? 1 : 0,
      approximate: c.approximate },
    dispatch: { grid: [cdiv(c.N, 16), cdiv(c.M, 16), batch] },
    expect: { c: y },
  };
});

suite('lstm', { atol: 1e-5, rtol: 1e-4, why: 'sigmoid/tanh in f32, errors carried through T steps' }, [
  { T: 1, B: 1, I: 1, H: 1 },
  { T: 6, B: 2, I: 5, H: 8 },
  { T: 10, B: 1, I: 40, H: 32, label: 'openWakeWord-sized' },
  { T: 3, B: 3, I: 7, H: 100, noBias: true, maxX: 2, label: 'no bias, split dispatch' },
], (c, r) => {
  const { T, B, I, H } = c;
  const x = rand(r, T * B * I, -2, 2), w = rand(r, 4 * H * I, -0.5, 0.5), rr = rand(r, 4 * H * H, -0.5, 0.5);
  const bias = rand(r, 8 * H, -0.5, 0.5);
  const s0 = rand(r, 2 * B * H);
  let h = Float64Array.from(s0.subarray(0, B * H)), cc = Float64Array.from(s0.subarray(B * H));
  const y = new Float64Array(T * B * H);
  const sig = (v) => 1 / (1 + Math.exp(-v));
  for (let t = 0; t < T; t++) {
    const nh = new Float64Array(B * H), nc = new Float64Array(B * H);
    for (let b = 0; b < B; b++)
      for (let j = 0; j < H; j++) {
        const g = [0, 1, 2, 3].map((gi) => {
          const row = gi * H + j;
          let s = c.noBias ? 0 : bias[row] + bias[4 * H + row];
          for (let k = 0; k < I; k++) s += x[(t * B + b) * I + k] * w[row * I + k];
          for (let k = 0; k < H; k++) s += h[b * H + k] * rr[row * H + k];
          return s;
        });
        const cn = sig(g[2]) * cc[b * H + j] + sig(g[0]) * Math.tanh(g[3]);
        nc[b * H + j] = cn;
        nh[b * H + j] = sig(g[1]) * Math.tanh(cn);
      }
    h = nh;
    cc = nc;
    y.set(h, t * B * H);
  }
  const passes = [];
  for (let t = 0; t < T; t++)
    passes.push({ params: { B, I, H, t, hasBias: c.noBias ? 0 : 1 },
      bind: { stateIn: t % 2 ? 's1' : 's0', stateOut: t % 2 ? 's0' : 's1' }, dispatch: { threads: B * H, maxX: c.maxX } });
  const final = new Float64Array(2 * B * H);
  final.set(h, 0);
  final.set(cc, B * H);
  return { buffers: { x, w, r: rr, ...(c.noBias ? {} : { bias }), s0: { data: s0 }, s1: { size: 2 * B * H }, y: { size: y.length } },
    passes, expect: { y, [T % 2 ? 's1' : 's0']: final } };
});

// ---------------------------------------------------------------- unaryOp / binaryOp

// unaryOp: one case per op code (the table in unary_op.wgsl), each over an
// input range inside the op's domain; `halves` puts exact .5 values in for
// round's half-to-even rule.
const softplusRef = (v) => Math.max(v, 0) + Math.log1p(Math.exp(-Math.abs(v)));
const roundHalfEven = (v) => {
  const f = Math.floor(v), d = v - f;
  if (d !== 0.5) return Math.round(v);
  return f % 2 === 0 ? f : f + 1;
};
const UNARY_OPS = [
  { op: 0, name: 'identity', f: (v) => v },
  { op: 1, name: 'abs', f: Math.abs },
  { op: 2, name: 'neg', f: (v) => -v },
  { op: 3, name: 'exp', f: Math.exp, lo: -10, hi: 10 },
  { op: 4, name: 'log', f: Math.log, lo: 0.01, hi: 100 },
  { op: 5, name: 'sqrt', f: Math.sqrt, lo: 0, hi: 100 },
  { op: 6, name: 'reciprocal', f: (v) => 1 / v, lo: 0.1, hi: 10, signed: true },
  { op: 7, name: 'floor', f: Math.floor, lo: -10, hi: 10, halves: true },
  { op: 8, name: 'ceil', f: Math.ceil, lo: -10, hi: 10, halves: true },
  { op: 9, name: 'round', f: roundHalfEven, lo: -10, hi: 10, halves: true },
  { op: 10, name: 'sin', f: Math.sin, lo: -20, hi: 20 },
  { op: 11, name: 'cos', f: Math.cos, lo: -20, hi: 20 },
  { op: 12, name: 'tan', f: Math.tan, lo: -1.5, hi: 1.5 },
  { op: 13, name: 'asin', f: Math.asin, lo: -0.99, hi: 0.99 },
  { op: 14, name: 'acos', f: Math.acos, lo: -0.99, hi: 0.99 },
  { op: 15, name: 'atan', f: Math.atan, lo: -10, hi: 10 },
  { op: 16, name: 'sinh', f: Math.sinh, lo: -5, hi: 5 },
  { op: 17, name: 'cosh', f: Math.cosh, lo: -5, hi: 5 },
  { op: 18, name: 'asinh', f: Math.asinh, lo: -10, hi: 10 },
  { op: 19, name: 'acosh', f: Math.acosh, lo: 1, hi: 10 },
  { op: 20, name: 'atanh', f: Math.atanh, lo: -0.99, hi: 0.99 },
  { op: 21, name: 'erf', f: erf, lo: -4, hi: 4 },
  { op: 22, name: 'softplus', f: softplusRef, lo: -20, hi: 20 },
  { op: 23, name: 'softsign', f: (v) => v / (1 + Math.abs(v)), lo: -10, hi: 10 },
  { op: 24, name: 'sign', f: Math.sign },
  { op: 25, name: 'elu', f: (v, e) => (v >= 0 ? v : e.alpha * Math.expm1(v)), lo: -5, hi: 5, alpha: 0.7 },
  { op: 26, name: 'selu', f: (v, e) => e.gamma * (v > 0 ? v : e.alpha * Math.expm1(v)), lo: -5, hi: 5,
    alpha: 1.6732632, gamma: 1.0507010 },
  { op: 27, name: 'celu', f: (v, e) => Math.max(v, 0) + Math.min(0, e.alpha * Math.expm1(v / e.alpha)), lo: -5, hi: 5,
    alpha: 2 },
  { op: 28, name: 'hardSigmoid', f: (v, e) => Math.min(1, Math.max(0, e.alpha * v + e.beta)), lo: -5, hi: 5,
    alpha: 0.2, beta: 0.5 },
  { op: 29, name: 'hardSwish', f: (v) => v * Math.min(1, Math.max(0, v / 6 + 0.5)), lo: -5, hi: 5 },
  { op: 30, name: 'thresholdedRelu', f: (v, e) => (v > e.alpha ? v : 0), lo: -2, hi: 2, alpha: 0.5 },
  { op: 31, name: 'clip', f: (v, e) => Math.min(Math.max(v, e.alpha), e.beta), alpha: -0.5, beta: 0.8 },
  { op: 32, name: 'mish', f: (v) => v * Math.tanh(softplusRef(v)), lo: -10, hi: 10 },
  { op: 33, name: 'shrink', f: (v, e) => (v < -e.alpha ? v + e.beta : v > e.alpha ? v - e.beta : 0), lo: -2, hi: 2,
    alpha: 0.5, beta: 0.2 },
];

suite('unaryOp', { atol: 1e-6, rtol: 1e-5, why: 'f32 exp/log/sqrt builtins and short polynomials' }, [
  ...UNARY_OPS.map((o) => ({ n: 1000 + o.op, op: o.op, label: o.name })),
  { n: 3000, op: 21, maxX: 5, label: 'erf, split dispatch' },
  { n: 1, op: 3, label: 'exp, one element' },
], (c, r) => {
  const o = UNARY_OPS[c.op];
  const x = rand(r, c.n, o.lo ?? -1, o.hi ?? 1);
  if (o.signed) for (let i = 0; i < x.length; i += 2) x[i] = -x[i];
  if (o.halves) for (let i = 0; i < x.length; i += 3) x[i] = Math.round(x[i]) + 0.5;
  const e = { alpha: o.alpha ?? 0, beta: o.beta ?? 0, gamma: o.gamma ?? 0 };
  return {
    buffers: { x, y: { size: c.n } },
    params: { n: c.n, op: c.op, ...e },
    dispatch: lin(c.n, c.maxX),
    expect: { y: Float64Array.from(x, (v) => o.f(v, e)) },
  };
});

// binaryOp: every op code over a few of binaryCases' broadcast shapes.
const BINARY_OPS = [
  { op: 0, name: 'add', f: (a, b) => a + b },
  { op: 1, name: 'sub', f: (a, b) => a - b },
  { op: 2, name: 'div', f: (a, b) => a / b, bLo: 0.25, bHi: 4, bSigned: true },
  { op: 3, name: 'pow', f: Math.pow, aLo: 0.1, aHi: 4, bLo: -3, bHi: 3 },
  { op: 3, name: 'pow, negative base, integer exponents', f: Math.pow, aLo: -4, aHi: 4, bLo: -3, bHi: 5, bInt: true },
  { op: 4, name: 'max', f: Math.max },
  { op: 5, name: 'min', f: Math.min },
  { op: 6, name: 'mul', f: (a, b) => a * b },
  { op: 7, name: 'fmod', f: (a, b) => a % b, aLo: -10, aHi: 10, bLo: 0.5, bHi: 3, bSigned: true },
  { op: 8, name: 'prelu', f: (a, b) => (a < 0 ? a * b : a) },
];

suite('binaryOp', { atol: 1e-6, rtol: 1e-5, why: 'one f32 rounding; pow through f32 exp2/log2' },
  BINARY_OPS.flatMap((o, k) => [binaryCases[k % 6], binaryCases[(k + 3) % 6]].map((s) => ({ ...s, k, label: o.name })))
    .concat([{ ...binaryCases[6], k: 3, label: 'pow, split dispatch' }]),
  (c, r) => {
    const o = BINARY_OPS[c.k];
    const out = bshape(c.a, c.b);
    const n = prod(out);
    const a = rand(r, prod(c.a), o.aLo ?? -1, o.aHi ?? 1), b = rand(r, prod(c.b), o.bLo ?? -1, o.bHi ?? 1);
    if (o.bSigned) for (let i = 0; i < b.length; i += 2) b[i] = -b[i];
    if (o.bInt) for (let i = 0; i < b.length; i++) b[i] = Math.round(b[i]) || 1;
    return {
      buffers: { a, b, out: { size: n } },
      params: { n, rank: out.length, op: o.op, shape: out, aStrides: bstrides(out, c.a), bStrides: bstrides(out, c.b) },
      dispatch: lin(n, c.maxX),
      expect: { out: broadcastRef(out, c.a, c.b, a, b, o.f) },
    };
  });

// ---------------------------------------------------------------- typedOp (32-bit words)

// Three-input broadcast reference (broadcastRef with a third operand).
function broadcast3(out, shapes, arrays, f) {
  const n = prod(out);
  const res = new Array(n);
  const coord = new Array(out.length).fill(0);
  const idx = (s) => {
    let o = 0;
    for (let i = 0; i < s.length; i++) o = o * s[i] + (s[i] === 1 ? 0 : coord[out.length - s.length + i]);
    return o;
  };
  for (let i = 0; i < n; i++) {
    let rem = i;
    for (let d = out.length - 1; d >= 0; d--) {
      coord[d] = rem % out[d];
      rem = Math.floor(rem / out[d]);
    }
    res[i] = f(...shapes.map((s, k) => arrays[k][idx(s)]));
  }
  return res;
}

// Integer samples in [lo, hi] as Int32Array / Uint32Array.
function ints(r, n, lo, hi, T = Int32Array) {
  return T.from({ length: n }, () => lo + Math.floor(r() * (hi - lo + 1)));
}

const b01 = (v) => (v ? 1 : 0);
const truncDiv = (a, b) => (b === 0 ? 0 : Math.trunc(a / b));
const TYPED_OPS = [
  // op, kind, inputs: 'f' floats (with ties), 'i' ints, 'u' bools, 's' shift counts; out type
  { op: 0, kind: 0, name: 'equal f32', in: 'ff', f: (a, b) => b01(a === b) },
  { op: 1, kind: 1, name: 'less i32', in: 'ii', f: (a, b) => b01(a < b) },
  { op: 2, kind: 0, name: 'greater f32', in: 'ff', f: (a, b) => b01(a > b) },
  { op: 3, kind: 1, name: 'lessOrEqual i32', in: 'ii', f: (a, b) => b01(a <= b) },
  { op: 4, kind: 2, name: 'greaterOrEqual u32', in: 'uu', f: (a, b) => b01(a >= b) },
  { op: 5, kind: 2, name: 'and', in: 'uu', f: (a, b) => b01(a && b) },
  { op: 6, kind: 2, name: 'or', in: 'uu', f: (a, b) => b01(a || b) },
  { op: 7, kind: 2, name: 'xor', in: 'uu', f: (a, b) => b01(!a !== !b) },
  { op: 8, kind: 2, name: 'not', in: 'u', f: (a) => b01(!a) },
  { op: 9, kind: 2, name: 'shift left', in: 'ws', f: (a, b) => (b >= 32 ? 0 : (a << b) >>> 0) },
  { op: 10, kind: 2, name: 'shift right', in: 'ws', f: (a, b) => (b >= 32 ? 0 : a >>> b) },
  { op: 11, kind: 2, name: 'where', in: 'uff', f: (c, x, y) => (c ? x : y), out: 'f32' },
  { op: 12, kind: 1, name: 'add i32', in: 'ii', f: (a, b) => a + b, out: 'i32' },
  { op: 13, kind: 1, name: 'sub i32', in: 'ii', f: (a, b) => a - b, out: 'i32' },
  { op: 14, kind: 1, name: 'mul i32', in: 'ii', f: (a, b) => a * b, out: 'i32' },
  { op: 15, kind: 1, name: 'div i32 (truncating)', in: 'ii', f: truncDiv, out: 'i32' },
  { op: 16, kind: 1, name: 'mod i32 (sign of divisor)', in: 'ii', f: (a, b) => (b === 0 ? 0 : ((a % b) + b) % b), out: 'i32' },
  { op: 17, kind: 1, name: 'fmod i32 (sign of dividend)', in: 'ii', f: (a, b) => (b === 0 ? 0 : a % b) + 0, out: 'i32' },
  { op: 18, kind: 1, name: 'max i32', in: 'ii', f: Math.max, out: 'i32' },
  { op: 19, kind: 1, name: 'min i32', in: 'ii', f: Math.min, out: 'i32' },
  { op: 20, kind: 1, name: 'pow i32', in: 'ie', f: (a, b) => a ** b, out: 'i32' },
  { op: 21, kind: 1, name: 'abs i32', in: 'i', f: Math.abs, out: 'i32' },
  { op: 22, kind: 1, name: 'neg i32', in: 'i', f: (a) => -a + 0, out: 'i32' },
  { op: 23, kind: 1, name: 'sign i32', in: 'i', f: Math.sign, out: 'i32' },
  { op: 12, kind: 2, name: 'add u32', in: 'ww', f: (a, b) => (a + b) >>> 0 },
  { op: 24, kind: 0, name: 'isNaN', in: 'x', f: (a) => b01(Number.isNaN(a)) },
  { op: 25, kind: 0, flags: 1, name: 'isInf, positive only', in: 'x', f: (a) => b01(a === Infinity) },
  { op: 25, kind: 0, flags: 3, name: 'isInf', in: 'x', f: (a) => b01(a === Infinity || a === -Infinity) },
  { op: 26, kind: 0, flags: 1, name: 'cast f32 to i32 (truncating)', in: 'g', f: (a) => Math.trunc(a), out: 'i32' },
  { op: 26, kind: 1, flags: 0, name: 'cast i32 to f32', in: 'i', f: (a) => a, out: 'f32' },
  { op: 26, kind: 0, flags: 3, name: 'cast f32 to bool', in: 'f', f: (a) => b01(a !== 0) },
  { op: 26, kind: 0, flags: 4, name: 'cast f32 to f16 precision', in: 'h', f: (a) => f16Round(a), out: 'f32' },
];

// Round to the nearest binary16 value, ties to even, from its definition: 11
// significant bits for normals (exponent ≥ −14), multiples of 2^-24 below,
// ±inf from 65520 up (inputs stay finite: the comparison has no inf / NaN).
function f16Round(v) {
  if (Number.isNaN(v)) return v;
  const a = Math.abs(v);
  if (a >= 65520) return Math.sign(v) * Infinity;
  const q = a < 2 ** -14 ? 2 ** -24 : 2 ** (Math.floor(Math.log2(a)) - 10);
  const t = a / q, r = Math.floor(t), d = t - r;
  const k = d > 0.5 || (d === 0.5 && r % 2 === 1) ? r + 1 : r;
  return Math.sign(v) * k * q;
}

function typedInput(r, t, n) {
  switch (t) {
    case 'f': return Float32Array.from(rand(r, n, -3, 3), (v) => (r() < 0.3 ? 0 : Math.round(v * 2) / 2));
    case 'g': return rand(r, n, -100, 100);
    case 'h': return Float32Array.from(rand(r, n, -2, 2), (v, i) => [v * 3e4, v * 1e-6, v, 65519 - i % 2, 1 + 2 ** -11, 1 + 3 * 2 ** -11][i % 6]);
    case 'x': return Float32Array.from(rand(r, n), (v, i) => [v, NaN, Infinity, -Infinity, 0][i % 5]);
    case 'i': return ints(r, n, -50, 50);
    case 'e': return ints(r, n, 0, 4);
    case 'u': return ints(r, n, 0, 1, Uint32Array);
    case 's': return ints(r, n, 0, 33, Uint32Array);
    default: return ints(r, n, 0, 0x7fffffff, Uint32Array);
  }
}

const typedShapes = [
  [[1000], [1000], [1000]],
  [[4, 1, 5], [1, 3, 1], [5]],
  [[2, 3, 1, 4, 5], [3, 7, 1, 1], [1]],
  [[2, 1, 2, 1, 2, 1, 2, 3], [2, 1, 2, 1, 2, 1, 3], [3]],
];

suite('typedOp', EXACT, TYPED_OPS.map((o, k) => ({ k, s: k % typedShapes.length, label: o.name }))
  .concat([{ k: 0, s: 0, n: 5000, maxX: 3, label: 'equal, split dispatch' }]), (c, r) => {
  const o = TYPED_OPS[c.k];
  const shapes = (c.n ? [[c.n], [c.n], [c.n]] : typedShapes[c.s]).slice(0, o.in.length);
  const out = shapes.reduce((a, s) => bshape(a, s), [1]);
  const n = prod(out);
  const arrays = shapes.map((s, i) => {
    const a = typedInput(r, o.in[i], prod(s));
    if (o.op >= 15 && o.op <= 17 && i === 1) for (let j = 0; j < a.length; j += 7) a[j] = 0; // division by 0 gives 0
    return a;
  });
  const want = broadcast3(out, shapes, arrays, o.f);
  const type = o.out || 'u32';
  const expect = type === 'f32' ? Float64Array.from(want) : type === 'i32' ? Int32Array.from(want) : Uint32Array.from(want);
  const st = (i) => (i < shapes.length ? bstrides(out, shapes[i]) : new Array(out.length).fill(0));
  const buf = (i) => arrays[Math.min(i, arrays.length - 1)];
  return {
    buffers: { a: buf(0), b: buf(1), c: buf(2), out: { size: n, type } },
    params: { n, rank: out.length, op: o.op, kind: o.kind, flags: o.flags || 0, shape: out,
      aStrides: st(0), bStrides: st(1), cStrides: st(2) },
    dispatch: lin(n, c.maxX),
    expect: { out: expect },
  };
});

// ---------------------------------------------------------------- reduce

// Reference: the input's dims split into kept (red[d] false) and reduced
// ones; per group the reduced elements in row-major order.
function groupsOf(shape, red) {
  const st = shape.map((_, i) => prod(shape.slice(i + 1)));
  const kept = shape.map((_, i) => i).filter((i) => !red[i]), rd = shape.map((_, i) => i).filter((i) => red[i]);
  const list = (dims) => {
    const n = prod(dims.map((d) => shape[d]));
    return Array.from({ length: n }, (_, j) => {
      let rem = j, off = 0;
      for (let q = dims.length - 1; q >= 0; q--) {
        off += (rem % shape[dims[q]]) * st[dims[q]];
        rem = Math.floor(rem / shape[dims[q]]);
      }
      return off;
    });
  };
  const bases = list(kept), inner = list(rd);
  return { bases, inner, kept, rd, st };
}

const REDUCE_OPS = [
  { op: 0, name: 'sum', f: (v) => v.reduce((a, b) => a + b, 0) },
  { op: 1, name: 'mean', f: (v) => v.reduce((a, b) => a + b, 0) / v.length },
  { op: 2, name: 'max', f: (v) => Math.max(...v) },
  { op: 3, name: 'min', f: (v) => Math.min(...v) },
  { op: 4, name: 'product', f: (v) => v.reduce((a, b) => a * b, 1), lo: 0.5, hi: 1.5 },
  { op: 5, name: 'l1', f: (v) => v.reduce((a, b) => a + Math.abs(b), 0) },
  { op: 6, name: 'l2', f: (v) => Math.sqrt(v.reduce((a, b) => a + b * b, 0)) },
  { op: 7, name: 'logSum', f: (v) => Math.log(v.reduce((a, b) => a + b, 0)), lo: 0.1, hi: 2 },
  { op: 8, name: 'logSumExp', f: (v) => Math.log(v.reduce((a, b) => a + Math.exp(b), 0)), lo: -40, hi: 40 },
  { op: 9, name: 'sumSquare', f: (v) => v.reduce((a, b) => a + b * b, 0) },
  { op: 10, name: 'argMax (first)', arg: (v) => v.indexOf(Math.max(...v)), ties: true },
  { op: 11, name: 'argMin (last)', flags: 1, arg: (v) => v.lastIndexOf(Math.min(...v)), ties: true },
  { op: 12, name: 'invStdDev', eps: 1e-5, f: (v) => {
    const m = v.reduce((a, b) => a + b, 0) / v.length;
    return 1 / Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length + 1e-5);
  } },
  { op: 16, name: 'softmax', norm: (v) => {
    const m = Math.max(...v), e = v.map((x) => Math.exp(x - m)), s = e.reduce((a, b) => a + b, 0);
    return e.map((x) => x / s);
  } },
  { op: 17, name: 'logSoftmax', norm: (v) => {
    const m = Math.max(...v), s = v.reduce((a, b) => a + Math.exp(b - m), 0);
    return v.map((x) => x - m - Math.log(s));
  } },
  { op: 18, name: 'hardmax', ties: true, norm: (v) => {
    const k = v.indexOf(Math.max(...v));
    return v.map((_, i) => (i === k ? 1 : 0));
  } },
  { op: 19, name: 'cumSum', norm: (v) => { let s = 0; return v.map((x) => (s += x)); } },
  { op: 19, name: 'cumSum exclusive reverse', flags: 3, norm: (v) => {
    let s = 0;
    const o = new Array(v.length);
    for (let i = v.length - 1; i >= 0; i--) { o[i] = s; s += v[i]; }
    return o;
  } },
  { op: 20, name: 'lpNorm p = 1', norm: (v) => { const s = v.reduce((a, b) => a + Math.abs(b), 0); return v.map((x) => x / s); } },
  { op: 21, name: 'lpNorm p = 2', norm: (v) => { const s = Math.sqrt(v.reduce((a, b) => a + b * b, 0)); return v.map((x) => x / s); } },
  { op: 22, name: 'meanVarianceNorm', eps: 1e-9, norm: (v) => {
    const m = v.reduce((a, b) => a + b, 0) / v.length;
    const sd = Math.sqrt(v.reduce((a, b) => a + (b - m) ** 2, 0) / v.length) + 1e-9;
    return v.map((x) => (x - m) / sd);
  } },
];

const reduceShapes = [
  { shape: [37], red: [true] },
  { shape: [3, 4, 5], red: [false, true, false] },
  { shape: [2, 3, 4, 5], red: [true, false, true, true] },
  { shape: [6, 7, 9], red: [false, false, true] },
  { shape: [2, 1, 3, 1, 2, 1, 2, 3], red: [false, true, true, false, false, true, true, false] },
];

suite('reduce', { atol: 1e-5, rtol: 1e-4, why: 'serial f32 sums of up to 120 terms, exp / log / sqrt builtins' },
  REDUCE_OPS.map((o, k) => ({ k, s: k % reduceShapes.length, label: o.name }))
    .concat([{ k: 0, s: 0, big: true, maxX: 3, label: 'sum, 3000 groups, split dispatch' },
      { k: 10, s: 1, int: true, label: 'argMax over i32' }]),
  (c, r) => {
    const o = REDUCE_OPS[c.k];
    const { shape, red } = c.big ? { shape: [3000, 5], red: [false, true] } : reduceShapes[c.s];
    const n = prod(shape);
    let x = rand(r, n, o.lo ?? -2, o.hi ?? 2);
    if (o.ties) x = Float32Array.from(x, (v) => Math.round(v * 2) / 2);
    if (c.int) x = ints(r, n, -5, 5);
    const g = groupsOf(shape, red);
    const vals = (b) => g.inner.map((off) => x[b + off]);
    const params = {
      groups: g.bases.length, count: g.inner.length, op: o.op, kind: c.int ? 1 : 0, flags: o.flags || 0,
      outRank: g.kept.length, redRank: g.rd.length, eps: o.eps || 0,
      outShape: g.kept.map((d) => shape[d]), outStrides: g.kept.map((d) => g.st[d]),
      redShape: g.rd.map((d) => shape[d]), redStrides: g.rd.map((d) => g.st[d]),
    };
    const dispatch = lin(g.bases.length, c.maxX);
    if (o.norm) {
      const y = new Float64Array(n);
      for (const b of g.bases) o.norm(Array.from(vals(b))).forEach((v, j) => (y[b + g.inner[j]] = v));
      return { buffers: { x, out: { size: n, type: 'f32' } }, params, dispatch, expect: { out: y } };
    }
    if (o.arg) {
      const y = Uint32Array.from(g.bases, (b) => o.arg(Array.from(vals(b))));
      return { buffers: { x, out: { size: y.length, type: 'u32' } }, params, dispatch, expect: { out: y } };
    }
    const y = Float64Array.from(g.bases, (b) => o.f(Array.from(vals(b))));
    return { buffers: { x, out: { size: y.length, type: 'f32' } }, params, dispatch, expect: { out: y } };
  });

// ---------------------------------------------------------------- stridedCopy / gather

suite('stridedCopy', EXACT, [
  { label: 'slice with negative step', in: [6, 7], out: [3, 3], start: [1, 6], step: [2, -2] },
  { label: 'expand (stride 0)', in: [3, 1], out: [2, 3, 4], bcast: true },
  { label: 'tile', in: [2, 3], out: [4, 9], tile: true },
  { label: 'trilu upper, k = 1', in: [3, 5, 4], out: [3, 5, 4], mask: 1, k: 1 },
  { label: 'trilu lower, k = -1', in: [4, 6], out: [4, 6], mask: 2, k: -1 },
  { label: 'depthToSpace DCR (6-D view)', d2s: true },
  { label: 'plain copy, split dispatch', in: [5000], out: [5000], maxX: 3 },
], (c, r) => {
  if (c.d2s) {
    // [1, 8, 2, 3] -> [1, 2, 4, 6], blocksize 2: out[n, c, h·2 + i, w·2 + j] = in[n, (i·2 + j)·2 + c, h, w]
    const N = 1, C = 8, H = 2, W = 3, bs = 2, Co = 2;
    const x = ints(r, N * C * H * W, 0, 1e6, Uint32Array);
    const y = new Uint32Array(N * C * H * W);
    for (let co = 0; co < Co; co++)
      for (let h = 0; h < H * bs; h++)
        for (let w = 0; w < W * bs; w++)
          y[(co * H * bs + h) * W * bs + w] = x[((((h % bs) * bs + (w % bs)) * Co + co) * H + Math.floor(h / bs)) * W + Math.floor(w / bs)];
    const HW = H * W;
    const shape = [N, Co, H, bs, W, bs], strides = [C * HW, HW, W, bs * Co * HW, 1, Co * HW];
    return { buffers: { x, out: { size: y.length, type: 'u32' } },
      params: { n: y.length, rank: 6, base: 0, mask: 0, k: 0, shape, mods: shape, strides },
      dispatch: lin(y.length), expect: { out: y } };
  }
  const x = ints(r, prod(c.in), 0, 1e6, Uint32Array);
  const ist = c.in.map((_, i) => prod(c.in.slice(i + 1)));
  const n = prod(c.out);
  const y = new Uint32Array(n);
  let strides, mods = c.out, base = 0;
  if (c.start) {
    base = c.start.reduce((a, s, i) => a + s * ist[i], 0);
    strides = c.step.map((s, i) => s * ist[i]);
  } else if (c.bcast) strides = bstrides(c.out, c.in);
  else {
    strides = ist;
    if (c.tile) mods = c.in;
  }
  for (let i = 0; i < n; i++) {
    const co = c.out.map((_, d) => Math.floor(i / prod(c.out.slice(d + 1))) % c.out[d]);
    let v;
    if (c.start) v = x[co.reduce((a, q, d) => a + (c.start[d] + q * c.step[d]) * ist[d], 0)];
    else if (c.bcast) v = x[co.slice(c.out.length - c.in.length).reduce((a, q, d) => a + (c.in[d] === 1 ? 0 : q) * ist[d], 0)];
    else v = x[co.reduce((a, q, d) => a + (q % c.in[d]) * ist[d], 0)];
    if (c.mask) {
      const row = co[co.length - 2], col = co[co.length - 1];
      if (c.mask === 1 ? col - row < c.k : col - row > c.k) v = 0;
    }
    y[i] = v;
  }
  return { buffers: { x, out: { size: n, type: 'u32' } },
    params: { n, rank: c.out.length, base, mask: c.mask || 0, k: c.k || 0, shape: c.out, mods, strides },
    dispatch: lin(n, c.maxX), expect: { out: y } };
});

suite('gather', EXACT, [
  { mode: 0, in: [5, 4, 3], axis: 1, idx: [2, 3], label: 'gather axis 1, negative indices' },
  { mode: 0, in: [7, 6], axis: 0, idx: [4], label: 'gather axis 0' },
  { mode: 1, in: [4, 5, 3], axis: 1, idx: [4, 2, 3], label: 'gatherElements axis 1' },
  { mode: 2, in: [6, 4], axis: 0, idx: [3, 4], label: 'scatterElements axis 0' },
  { mode: 0, in: [3000, 2], axis: 0, idx: [2500], maxX: 3, label: 'gather, split dispatch' },
], (c, r) => {
  const x = ints(r, prod(c.in), 0, 1e6, Uint32Array);
  const ist = c.in.map((_, i) => prod(c.in.slice(i + 1)));
  const L = c.in[c.axis];
  const nI = prod(c.idx);
  const idx = ints(r, nI, -L, L - 1);
  const fix = (v) => (v < 0 ? v + L : v);
  const base = { outer: 1, nIdx: 1, inner: 1, axisLen: L, rank: 1, axis: 0, shape: [1], strides: [0] };
  if (c.mode === 0) {
    const outer = prod(c.in.slice(0, c.axis)), inner = prod(c.in.slice(c.axis + 1));
    const y = new Uint32Array(outer * nI * inner);
    for (let o = 0; o < outer; o++)
      for (let t = 0; t < nI; t++)
        for (let i = 0; i < inner; i++) y[(o * nI + t) * inner + i] = x[(o * L + fix(idx[t])) * inner + i];
    return { buffers: { x, idx, upd: idx, out: { size: y.length, type: 'u32' } },
      params: { ...base, n: y.length, mode: 0, outer, nIdx: nI, inner }, dispatch: lin(y.length, c.maxX), expect: { out: y } };
  }
  const coords = (i) => c.idx.map((_, d) => Math.floor(i / prod(c.idx.slice(d + 1))) % c.idx[d]);
  const params = { ...base, n: nI, mode: c.mode, rank: c.idx.length, axis: c.axis, shape: c.idx, strides: ist };
  if (c.mode === 1) {
    const y = Uint32Array.from({ length: nI }, (_, i) => {
      const co = coords(i);
      co[c.axis] = fix(idx[i]);
      return x[co.reduce((a, q, d) => a + q * ist[d], 0)];
    });
    return { buffers: { x, idx, upd: idx, out: { size: nI, type: 'u32' } }, params, dispatch: lin(nI), expect: { out: y } };
  }
  // scatter: distinct targets per column, so the result does not depend on thread order
  for (let j = 0; j < c.idx[1]; j++) {
    const perm = Array.from({ length: L }, (_, i) => i).sort(() => r() - 0.5);
    for (let i = 0; i < c.idx[0]; i++) idx[i * c.idx[1] + j] = perm[i] - (r() < 0.5 ? L : 0);
  }
  const upd = ints(r, nI, 0, 1e6, Uint32Array);
  const y = Uint32Array.from(x);
  for (let i = 0; i < nI; i++) {
    const co = coords(i);
    co[c.axis] = fix(idx[i]);
    y[co.reduce((a, q, d) => a + q * ist[d], 0)] = upd[i];
  }
  return { buffers: { x: new Uint32Array(4), idx, upd, out: Uint32Array.from(x) }, params, dispatch: lin(nI), expect: { out: y } };
});

// ---------------------------------------------------------------- gridSample

// Reference from PyTorch's grid_sample definition (grid_sampler_unnormalize,
// reflect_coordinates, clip_coordinates, cubic convolution with A = -0.75).
function gridSampleRef(x, grid, c) {
  const { N, C, H, W, Ho, Wo, mode, padding, ac } = c;
  const unnorm = (g, s) => (ac ? ((g + 1) / 2) * (s - 1) : ((g + 1) * s - 1) / 2);
  const reflect = (v, lo2, hi2) => {
    if (lo2 === hi2) return 0;
    const mn = lo2 / 2, span = (hi2 - lo2) / 2, a = Math.abs(v - mn);
    const extra = a % span, flips = Math.floor(a / span);
    return flips % 2 === 0 ? extra + mn : span - extra + mn;
  };
  const pad = (v, s) => {
    if (padding === 1) return Math.min(Math.max(v, 0), s - 1);
    if (padding === 2) return Math.min(Math.max(ac ? reflect(v, 0, 2 * (s - 1)) : reflect(v, -1, 2 * s - 1), 0), s - 1);
    return v;
  };
  const cc1 = (t) => ((1.25 * t - 2.25) * t * t + 1);
  const cc2 = (t) => ((-0.75 * t + 3.75) * t - 6) * t + 3;
  const out = new Float64Array(N * C * Ho * Wo);
  for (let n = 0; n < N; n++)
    for (let ch = 0; ch < C; ch++) {
      const tap = (yy, xx) => (yy < 0 || xx < 0 || yy >= H || xx >= W ? 0 : x[((n * C + ch) * H + yy) * W + xx]);
      for (let p = 0; p < Ho * Wo; p++) {
        const gx = grid[(n * Ho * Wo + p) * 2], gy = grid[(n * Ho * Wo + p) * 2 + 1];
        let v;
        if (mode === 2) {
          const ix = unnorm(gx, W), iy = unnorm(gy, H), fx = Math.floor(ix), fy = Math.floor(iy);
          const tx = ix - fx, ty = iy - fy;
          const wx = [cc2(tx + 1), cc1(tx), cc1(1 - tx), cc2(2 - tx)], wy = [cc2(ty + 1), cc1(ty), cc1(1 - ty), cc2(2 - ty)];
          v = 0;
          for (let r = 0; r < 4; r++)
            for (let q = 0; q < 4; q++)
              v += wy[r] * wx[q] * tap(Math.trunc(pad(fy - 1 + r, H)), Math.trunc(pad(fx - 1 + q, W)));
        } else {
          const ix = pad(unnorm(gx, W), W), iy = pad(unnorm(gy, H), H);
          if (mode === 1) v = tap(roundHalfEven(iy), roundHalfEven(ix));
          else {
            const x0 = Math.floor(ix), y0 = Math.floor(iy), wx = ix - x0, wy = iy - y0;
            v = (tap(y0, x0) * (1 - wx) + tap(y0, x0 + 1) * wx) * (1 - wy) + (tap(y0 + 1, x0) * (1 - wx) + tap(y0 + 1, x0 + 1) * wx) * wy;
          }
        }
        out[(n * C + ch) * Ho * Wo + p] = v;
      }
    }
  return out;
}

suite('gridSample', { atol: 1e-5, rtol: 1e-4, why: 'f32 coordinates and up to 16 weighted taps' }, [
  { N: 1, C: 1, H: 4, W: 4, Ho: 6, Wo: 6, mode: 0, padding: 0, ac: 0, label: 'bilinear, zeros' },
  { N: 2, C: 3, H: 5, W: 7, Ho: 4, Wo: 9, mode: 0, padding: 1, ac: 1, label: 'bilinear, border, align corners' },
  { N: 1, C: 2, H: 6, W: 5, Ho: 5, Wo: 5, mode: 0, padding: 2, ac: 0, label: 'bilinear, reflection' },
  { N: 1, C: 2, H: 6, W: 5, Ho: 5, Wo: 5, mode: 0, padding: 2, ac: 1, label: 'bilinear, reflection, align corners' },
  { N: 2, C: 1, H: 5, W: 6, Ho: 7, Wo: 3, mode: 1, padding: 0, ac: 0, label: 'nearest, zeros' },
  { N: 1, C: 2, H: 4, W: 5, Ho: 6, Wo: 6, mode: 2, padding: 0, ac: 0, label: 'bicubic, zeros' },
  { N: 1, C: 1, H: 5, W: 5, Ho: 4, Wo: 4, mode: 2, padding: 1, ac: 1, label: 'bicubic, border' },
], (c, r) => {
  const x = rand(r, c.N * c.C * c.H * c.W);
  const grid = rand(r, c.N * c.Ho * c.Wo * 2, -1.3, 1.3); // some samples fall outside
  const y = gridSampleRef(x, grid, c);
  return { buffers: { x, grid, y: { size: y.length } },
    params: { N: c.N, C: c.C, H: c.H, W: c.W, Ho: c.Ho, Wo: c.Wo, mode: c.mode, padding: c.padding, alignCorners: c.ac },
    dispatch: lin(y.length), expect: { y } };
});
