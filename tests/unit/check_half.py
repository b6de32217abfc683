#!/usr/bin/python3
"""Our f16 conversions against NumPy's (ground truth, not our code):
every f16 code widened, and ~2M f32 values narrowed, bit for bit (NaN
payloads aside).  bf16 narrowing is checked against the round-to-nearest-
even rule computed with integer arithmetic in NumPy."""
import subprocess, sys
import numpy as np

exe = sys.argv[1]
rng = np.random.default_rng(1234)
bits = np.concatenate([
    rng.integers(0, 2**32, 1_000_000, dtype=np.uint64).astype(np.uint32),
    # dense around the f16 range edges and subnormals, incl. exact ties
    (np.arange(0x33000000, 0x33000000 + 200_000, dtype=np.uint32)),
    (np.arange(0x387fc000, 0x38804000, dtype=np.uint32)),
    (np.arange(0x477fe000 - 50_000, 0x477fe000 + 50_000, dtype=np.uint32)),
    np.array([0, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000], dtype=np.uint32),
])
vals = bits.view(np.float32)
out = subprocess.run([exe], input=vals.tobytes(), capture_output=True, check=True).stdout
wide = np.frombuffer(out[:65536 * 4], dtype=np.float32)
pairs = np.frombuffer(out[65536 * 4:], dtype=np.uint16).reshape(-1, 2)

fails = 0
ref = np.arange(65536, dtype=np.uint16).view(np.float16).astype(np.float32)
bad = ~((wide.view(np.uint32) == ref.view(np.uint32)) | (np.isnan(wide) & np.isnan(ref)))
if bad.any():
    i = int(np.argmax(bad)); fails += int(bad.sum())
    print(f"f16->f32: {int(bad.sum())} codes differ, first 0x{i:04x}: {wide[i]} vs numpy {ref[i]}")

with np.errstate(over='ignore'):
    ref16 = vals.astype(np.float16).view(np.uint16)
ours16 = pairs[:, 0]
nan = np.isnan(vals)
bad = (ours16 != ref16) & ~nan
bad |= nan & ((ours16 & 0x7c00) != 0x7c00) | nan & ((ours16 & 0x3ff) == 0)
if bad.any():
    i = int(np.argmax(bad)); fails += int(bad.sum())
    print(f"f32->f16: {int(bad.sum())} of {len(vals)} differ, first {vals[i]!r} "
          f"(0x{bits[i]:08x}): 0x{ours16[i]:04x} vs numpy 0x{ref16[i]:04x}")

u = bits.astype(np.uint64)
refbf = ((u + 0x7fff + ((u >> 16) & 1)) >> 16).astype(np.uint16)
oursbf = pairs[:, 1]
bad = (oursbf != refbf) & ~nan
bad |= nan & ~np.isnan((oursbf.astype(np.uint32) << 16).view(np.float32))
if bad.any():
    i = int(np.argmax(bad)); fails += int(bad.sum())
    print(f"f32->bf16: {int(bad.sum())} differ, first 0x{bits[i]:08x}: 0x{oursbf[i]:04x} vs 0x{refbf[i]:04x}")

print(f"checked 65536 f16 codes and {len(vals)} f32 values: {'OK' if not fails else 'FAIL'}")
sys.exit(1 if fails else 0)
