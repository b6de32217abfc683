#!/usr/bin/python3
"""libm2w's .npy reader and writer against NumPy: NumPy writes arrays of
every supported dtype and rank as format versions 1, 2 and 3; m2w reads
each (npycopy, m2w-inspect --json) and writes it back; NumPy must load the
copy bit-identical.  Fortran order and unsupported dtypes must be refused
with exit 1 and a file:0xOFFSET message."""
import json, os, re, subprocess, sys
import numpy as np
from numpy.lib import format as npf

npycopy, inspect, tmp = sys.argv[1], sys.argv[2], sys.argv[3]
os.makedirs(tmp, exist_ok=True)
rng = np.random.default_rng(7)
fails = checked = 0
dtypes = ['<f4', '<f2', '<f8', 'i1', 'u1', '<i2', '<i4', '<i8', '<u4', '?']
shapes = [(), (1,), (5,), (2, 3), (2, 1, 4), (1, 2, 1, 3, 2)]
for dt in dtypes:
    for shape in shapes:
        for version in [(1, 0), (2, 0), (3, 0)]:
            a = (rng.standard_normal(shape) * 100).astype(dt)
            src = os.path.join(tmp, 'src.npy'); dst = os.path.join(tmp, 'dst.npy')
            with open(src, 'wb') as f:
                npf.write_array(f, a, version=version)
            r = subprocess.run([npycopy, src, dst], capture_output=True, text=True)
            checked += 1
            if r.returncode != 0:
                fails += 1; print(f"{dt} {shape} v{version[0]}: npycopy failed: {r.stderr.strip()}"); continue
            b = np.load(dst)
            if b.dtype != a.dtype or b.shape != a.shape or a.tobytes() != b.tobytes():
                fails += 1; print(f"{dt} {shape} v{version[0]}: copy differs ({b.dtype} {b.shape})")
            j = json.loads(subprocess.run([inspect, '--json', src], capture_output=True, check=True).stdout)
            t = j['tensors'][0]
            if t['shape'] != list(shape) or t['bytes'] != a.nbytes:
                fails += 1; print(f"{dt} {shape}: inspect says {t['shape']} {t['bytes']}")

def must_fail(arr_bytes, what):
    global fails, checked
    p = os.path.join(tmp, 'bad.npy')
    open(p, 'wb').write(arr_bytes)
    r = subprocess.run([npycopy, p, os.path.join(tmp, 'x.npy')], capture_output=True, text=True)
    checked += 1
    if r.returncode != 1 or not re.search(r'bad\.npy:0x[0-9a-f]+: error: ', r.stderr):
        fails += 1; print(f"{what}: expected exit 1 with file:0xOFFSET, got {r.returncode}: {r.stderr.strip()}")

import io
buf = io.BytesIO(); np.save(buf, np.asfortranarray(np.ones((2, 3), np.float32))); must_fail(buf.getvalue(), 'fortran')
buf = io.BytesIO(); np.save(buf, np.array(['a'], dtype='<U1')); must_fail(buf.getvalue(), 'unicode dtype')
buf = io.BytesIO(); np.save(buf, np.ones(4, '>f4')); must_fail(buf.getvalue(), 'big-endian')
buf = io.BytesIO(); np.save(buf, np.ones(4, '<f4')); must_fail(buf.getvalue()[:-1], 'truncated data')
must_fail(buf.getvalue()[:9], 'truncated header')
print(f"{checked - fails}/{checked} npy cases agree with NumPy")
sys.exit(1 if fails else 0)
