"""Crafted checkpoint pairs for m2w-check, one function per outcome.

Each case writes ref/ and act/ (and any order / tolerance / manifest file)
into the folder it is given and returns what the run must show:
  args    extra command-line arguments (after REF ACT)
  exit    expected exit status
  root    name of the root checkpoint, or None
  hint    the root's hint kind
  order   the order source the report must name
  stderr  a regex stderr must match (optional)
  relation  the root's shape relation (optional)
  check   an extra function(case_dir, report) -> error text or None

Data comes from an integer hash, not NumPy's RNG, so the files (and the
golden reports) are the same bytes on every NumPy version.
"""
import json
import os

import numpy as np


def hashed(n, seed):
    """n uniform floats in [-1, 1) from splitmix64 of (index + seed)."""
    with np.errstate(over='ignore'):
        x = (np.arange(n, dtype=np.uint64) + np.uint64(seed)) * np.uint64(0x9E3779B97F4A7C15)
        x ^= x >> np.uint64(30)
        x *= np.uint64(0xBF58476D1CE4E5B9)
        x ^= x >> np.uint64(27)
        x *= np.uint64(0x94D049BB133111EB)
        x ^= x >> np.uint64(31)
    return (x >> np.uint64(11)).astype(np.float64) / float(1 << 52) - 1.0


def arr(shape, seed, dtype=np.float32, scale=1.0):
    n = int(np.prod(shape)) if shape else 1
    return (hashed(n, seed) * scale).reshape(shape).astype(dtype)


def save(d, side, name, a):
    os.makedirs(os.path.join(d, side), exist_ok=True)
    np.save(os.path.join(d, side, name + '.npy'), a)


def pair(d, name, ref, act):
    save(d, 'ref', name, ref)
    save(d, 'act', name, act)


def chain(d, fault, shape=(2, 8, 16), dtype=np.float32):
    """000_input passes, 001_<fault> is the root, 002_out fails downstream."""
    x = arr(shape, 1, dtype)
    pair(d, '000_input', x, x + dtype(0.001))
    ref = arr(shape, 2, dtype)
    pair(d, '001_' + fault[0], ref, fault[1](ref).astype(dtype))
    out = arr(shape, 3, dtype)
    pair(d, '002_out', out, out * dtype(1.5) + dtype(0.2))


def fault(kind, root='001_op', **kw):
    return dict(exit=1, root=root, hint=kind, order='numeric-prefix', **kw)


CASES = {}


def case(fn):
    CASES[fn.__name__] = fn
    return fn


@case
def pass_all(d):
    for i in range(3):
        x = arr((3, 5), 10 + i)
        pair(d, f'{i:03d}_layer', x, x + arr((3, 5), 20 + i) * np.float32(0.004))
    return dict(exit=0, root=None, order='numeric-prefix')


@case
def nan(d):
    def f(r):
        a = r.copy()
        a[0, 1, 2] = np.nan
        a[1, 3, 7] = np.nan
        return a
    chain(d, ('op', f))
    return fault('nonfinite')


@case
def inf(d):
    x = arr((2, 4, 8), 1)
    x[0, 0, 0] = np.inf  # +inf on both sides: equal, passes
    pair(d, '000_input', x, x.copy())
    ref = arr((2, 4, 8), 2)
    act = ref.copy()
    act[1, 2, 3] = -np.inf
    pair(d, '001_op', ref, act)
    return fault('nonfinite')


@case
def shape_mismatch(d):
    chain(d, ('op', lambda r: np.concatenate([r, r[:, :1]], axis=1)))
    return fault('shape', relation='incompatible')


@case
def shape_broadcastable(d):
    chain(d, ('op', lambda r: r[:1]))
    return fault('shape', relation='broadcastable')


@case
def shape_transposed(d):
    chain(d, ('op', lambda r: np.ascontiguousarray(r.transpose(0, 2, 1))))
    return fault('layout', relation='transposed-equal')


@case
def shape_reshaped(d):
    chain(d, ('op', lambda r: r.reshape(16, 16)))
    return fault('shape', relation='reshape-equal')


@case
def hint_weights(d):
    chain(d, ('op', lambda r: r * 127.0))
    return fault('weights')


@case
def hint_scale_2(d):
    chain(d, ('op', lambda r: r * 2.0))
    return fault('scale', text=r'ACT is 2 x REF')


@case
def hint_scale_half(d):
    chain(d, ('op', lambda r: r * 0.5))
    return fault('scale', text=r'ACT is 1/2 x REF')


@case
def hint_scale_sqrt2(d):
    chain(d, ('op', lambda r: r * np.sqrt(2)))
    return fault('scale', text=r'ACT is sqrt\(2\) x REF')


@case
def hint_scale_sqrt_d(d):
    # attention scores without the 1/sqrt(head_dim) scale, head_dim 64
    chain(d, ('op', lambda r: r * 8.0), shape=(2, 3, 64))
    return fault('scale', text=r'ACT is sqrt\(64\) x REF')


@case
def hint_offset(d):
    chain(d, ('op', lambda r: r + 0.25))
    return fault('offset')


@case
def hint_prefix(d):
    def f(r):
        a = r.copy().ravel()
        a[100:] = hashed(a.size - 100, 99)
        return a.reshape(r.shape)
    chain(d, ('op', f))
    return fault('stride')


@case
def hint_uncorrelated(d):
    chain(d, ('op', lambda r: arr(r.shape, 77)))
    return fault('binding')


@case
def hint_unwritten(d):
    chain(d, ('op', lambda r: np.zeros_like(r)))
    return fault('unwritten')


@case
def hint_sign(d):
    chain(d, ('op', lambda r: -r))
    return fault('sign')


@case
def per_element(d):
    """Passes the max-against-max rule, fails the per-element one: one large
    reference value makes rtol*max|ref| big enough to hide errors of 0.3 on
    elements near 0.5."""
    ref = np.full((4, 16), 0.5, np.float32) + arr((4, 16), 5) * np.float32(0.1)
    ref[3, 15] = 100.0
    act = ref.copy()
    act[1, :4] += np.float32(0.3)
    pair(d, '000_logits', ref, act)

    def check(cd, rep):
        r = np.load(os.path.join(cd, 'ref/000_logits.npy')).astype(np.float64)
        a = np.load(os.path.join(cd, 'act/000_logits.npy')).astype(np.float64)
        max_rule = np.abs(a - r).max() <= 0.01 + 0.01 * np.abs(r).max()
        if not max_rule:
            return 'the case no longer passes the max-against-max rule'
        if rep['checkpoints'][0]['failing'] != 4:
            return 'expected 4 failing elements'
        return None
    return dict(exit=1, root='000_logits', hint='localized', order='numeric-prefix',
                check=check)


@case
def f16_act(d):
    """f32 reference, f16 engine: --f16 tolerances pass."""
    for i in range(2):
        ref = arr((4, 32), 30 + i, scale=4.0)
        act = (ref * np.float32(1.03)).astype(np.float16)  # f16 rounding + 3% drift
        pair(d, f'{i:03d}_mm', ref, act)
    return dict(exit=0, root=None, order='numeric-prefix', args=['--f16'])


@case
def f16_act_f32_tolerance(d):
    """The same pair without --f16: the 3% drift fails the f32 defaults."""
    f16_act(d)
    return dict(exit=1, root='000_mm', hint='scale', order='numeric-prefix')


@case
def dtypes(d):
    """f64 vs f32, f16 vs f16, i32, u8 and bool checkpoints, all equal."""
    x = arr((3, 4), 40, np.float64)
    pair(d, '000_f64', x, x.astype(np.float32))
    h = arr((3, 4), 41, np.float16)
    pair(d, '001_f16', h, h.copy())
    i = (arr((5,), 42, np.float64) * 1000).astype(np.int32)
    pair(d, '002_i32', i, i.copy())
    u = (arr((2, 2), 43, np.float64) * 100 + 100).astype(np.uint8)
    pair(d, '003_u8', u, u.astype(np.int64))
    b = arr((6,), 44) > 0
    pair(d, '004_mask', b, b.copy())
    return dict(exit=0, root=None, order='numeric-prefix')


@case
def order_file(d):
    """An order file beats name order; a listed name absent is "missing";
    unlisted names follow in name order."""
    for i, n in enumerate(['stem', 'block', 'head', 'extra']):
        x = arr((8,), 50 + i)
        pair(d, n, x, x * np.float32(2.0) if n == 'head' else x)
    with open(os.path.join(d, 'order.txt'), 'w') as f:
        f.write('# pipeline order\nstem\nblock.npy\n\nhead\nskipped_by_engine\n')
    return dict(exit=1, root='head', hint='scale', order='order-file',
                args=['--order', 'order.txt'],
                names=['stem', 'block', 'head', 'skipped_by_engine', 'extra'])


@case
def manifest(d):
    """ACT_DIR/manifest.json sets the order when names have no numeric
    prefix; a checkpoint on one side only is skipped, not failed."""
    names = ['embed', 'attn', 'mlp', 'norm']
    for i, n in enumerate(names):
        x = arr((4, 4), 60 + i)
        pair(d, n, x, x + np.float32(0.5) if n == 'mlp' else x)
    save(d, 'ref', 'ref_only', arr((2,), 70))
    with open(os.path.join(d, 'act', 'manifest.json'), 'w') as f:
        json.dump({'checkpoints': names}, f)
    return dict(exit=1, root='mlp', hint='offset', order='manifest',
                names=names + ['ref_only'])


@case
def name_order(d):
    for i, n in enumerate(['b_conv', 'a_input', 'c_out']):
        x = arr((3,), 80 + i)
        pair(d, n, x, x)
    return dict(exit=0, root=None, order='name', names=['a_input', 'b_conv', 'c_out'])


@case
def tolerances(d):
    """Polygraphy-style overrides: a per-name entry lets a known-lossy op
    pass; "default" changes the rest; an unknown name warns."""
    x = arr((16,), 90)
    pair(d, '000_in', x, x + np.float32(0.015))   # fails 0.01, passes default 0.02
    y = arr((16,), 91)
    pair(d, '001_softmax', y, y + np.float32(0.2))  # needs its own atol
    z = arr((16,), 92)
    pair(d, '002_out', z, z * np.float32(1.5))      # still fails: root
    with open(os.path.join(d, 'tol.json'), 'w') as f:
        json.dump({'default': {'atol': 0.02}, '001_softmax.npy': {'atol': 0.25},
                   '099_typo': {'rtol': 0.1}}, f)
    return dict(exit=1, root='002_out', hint='scale', order='numeric-prefix',
                args=['--tolerances', 'tol.json'],
                stderr=r'tol\.json: warning: "099_typo" matches no checkpoint')


@case
def bad_npy(d):
    """A truncated .npy is an error for that checkpoint, reported as
    FILE:0xOFFSET on stderr, and is the root when it comes first."""
    chain(d, ('op', lambda r: r))
    p = os.path.join(d, 'act', '001_op.npy')
    data = open(p, 'rb').read()
    open(p, 'wb').write(data[:-10])
    return dict(exit=1, root='001_op', hint='unreadable', order='numeric-prefix',
                stderr=r'm2w-check: act/001_op\.npy:0x80: error: data needs 256 elements')
