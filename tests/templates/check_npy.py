#!/usr/bin/python3
"""Checks .npy files written by the runtime's toNpy with numpy.load.

usage: check_npy.py ACT_DIR X.npy          the activations of the test package:
                                           00_relu = max(x, 0), 01_add = relu + x
       check_npy.py --inline JSON          {"name": [base64, shape, f32 bit patterns]}
Every file must be format 1.0, '<f4', C order, header padded so that the
data starts at a multiple of 64, and equal the expected values exactly."""
import base64
import io
import json
import sys

import numpy as np


def check_header(name, raw):
    assert raw[:8] == b"\x93NUMPY\x01\x00", f"{name}: magic/version {raw[:8]!r}"
    hlen = int.from_bytes(raw[8:10], "little")
    assert (10 + hlen) % 64 == 0, f"{name}: data offset {10 + hlen} not a multiple of 64"
    assert raw[10 + hlen - 1:10 + hlen] == b"\n", f"{name}: header does not end in a newline"
    arr = np.load(io.BytesIO(raw), allow_pickle=False)
    assert arr.dtype == np.dtype("<f4"), f"{name}: dtype {arr.dtype}"
    assert len(raw) == 10 + hlen + arr.size * 4, f"{name}: {len(raw)} bytes"
    return arr


def same(name, got, want):
    want = np.asarray(want, dtype=np.float32)
    assert got.shape == want.shape, f"{name}: shape {got.shape} vs {want.shape}"
    assert np.array_equal(got.view(np.uint32), want.view(np.uint32)), \
        f"{name}: values differ: {got.ravel()[:8]} vs {want.ravel()[:8]}"
    print(f"check_npy: {name} ok, shape {got.shape}")


def main():
    if sys.argv[1] == "--inline":
        for name, (b64, shape, bits) in json.loads(sys.argv[2]).items():
            arr = check_header(name, base64.b64decode(b64))
            same(name, arr, np.array(bits, dtype=np.uint32).view(np.float32).reshape(shape))
        return 0
    act, xfile = sys.argv[1], sys.argv[2]
    x = np.load(xfile)
    relu = np.maximum(x, np.float32(0))
    for name, want in (("00_relu", relu), ("01_add", relu + x)):
        with open(f"{act}/{name}.npy", "rb") as f:
            same(name, check_header(name, f.read()), want)
    return 0


sys.exit(main())
