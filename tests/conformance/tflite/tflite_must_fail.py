#!/usr/bin/python3
"""Damaged TFLite files must fail with exit 1 and the exact offset.

    tflite_must_fail.py M2W_INSPECT MODEL.tflite WORKDIR

Each case patches one structure of a real model, found with a small
flatbuffer reader written here (not m2w's), and checks that
`m2w-inspect --json` exits 1 with "FILE:0xOFFSET: error: ..." where OFFSET
is where that structure lies and the message names the problem.  Every case
also runs through --expose-intermediates, which must refuse it the same way.
"""
import os
import struct
import subprocess
import sys

inspect, model, work = sys.argv[1:4]
os.makedirs(work, exist_ok=True)
orig = open(model, "rb").read()
u32 = lambda b, p: struct.unpack_from("<I", b, p)[0]
i32 = lambda b, p: struct.unpack_from("<i", b, p)[0]
u16 = lambda b, p: struct.unpack_from("<H", b, p)[0]


def field(b, t, fid):
    """Position of field fid of the table at t, or None."""
    vt = t - i32(b, t)
    if 4 + 2 * fid + 2 > u16(b, vt):
        return None
    o = u16(b, vt + 4 + 2 * fid)
    return t + o if o else None


def deref(b, p):
    return p + u32(b, p)


def vec(b, t, fid):
    p = deref(b, field(b, t, fid))
    return p, u32(b, p)  # length word position, count


def elem_table(b, t, fid, i):
    p, n = vec(b, t, fid)
    assert i < n
    return deref(b, p + 4 + 4 * i)


root = u32(orig, 0)
sg0 = elem_table(orig, root, 2, 0)
ops_pos, nops = vec(orig, sg0, 3)
tens_pos, ntens = vec(orig, sg0, 0)
_, nbufs = vec(orig, root, 4)
_, nopcodes = vec(orig, root, 1)


def tensor(i):
    return elem_table(orig, sg0, 0, i)


# a constant tensor (non-empty buffer) and an operator with inputs
def buffer_size(i):
    bt = elem_table(orig, root, 4, i)
    f = field(orig, bt, 0)
    return u32(orig, deref(orig, f)) if f else 0


const = next(i for i in range(ntens) if field(orig, tensor(i), 2) and buffer_size(u32(orig, field(orig, tensor(i), 2))))
op0 = elem_table(orig, sg0, 3, 0)

cases = []


def case(name, patches, off, phrase):
    b = bytearray(orig)
    for pos, data in patches:
        b[pos:pos + len(data)] = data
    cases.append((name, bytes(b), off, phrase))


p32 = lambda v: struct.pack("<I", v & 0xFFFFFFFF)

case("root-past-end", [(0, p32(len(orig) + 8))], 0, "outside the buffer")
ct = tensor(const)
case("vtable-outside", [(ct, p32(-0x7FFFFFF0))], ct, "puts the vtable outside")
sp, _ = vec(orig, ct, 0)
case("too-many-dims", [(sp, p32(9))], sp, "has 9 dims, limit 8")
case("negative-dim", [(sp + 4, p32(-3))], sp + 4, "dim 0 is -3")
bf = field(orig, ct, 2)
case("buffer-index", [(bf, p32(nbufs + 5))], ct, f"uses buffer {nbufs + 5}, limit {nbufs}")
dim0 = u32(orig, sp + 4)
case("bytes-vs-shape", [(sp + 4, p32(dim0 + 1))], ct, "needs")
oc = field(orig, op0, 0)
case("opcode-index", [(oc, p32(nopcodes))], op0, f"uses opcode {nopcodes}, limit {nopcodes}")
ip, _ = vec(orig, op0, 1)
case("input-index", [(ip + 4, p32(ntens + 1))], ip + 4, f"is tensor {ntens + 1}, limit {ntens}")
vf = field(orig, root, 0)
case("version", [(vf, p32(2))], root, "schema version 2")
nf = deref(orig, field(orig, ct, 3))
nlen = u32(orig, nf)
case("name-not-terminated", [(nf + 4 + nlen, b"x")], nf + 4 + nlen, "not NUL-terminated")
case("vtable-size-odd", [(ct - i32(orig, ct), struct.pack("<H", 5))], ct - i32(orig, ct), "vtable size 5")
case("truncated", [], 0, "")  # placeholder replaced below
cases[-1] = ("truncated", orig[: len(orig) // 3], None, "outside the buffer")

passed = failed = 0
for name, data, off, phrase in cases:
    path = os.path.join(work, name + ".tflite")
    open(path, "wb").write(data)
    problems = []
    for args in (["--json", path], ["--expose-intermediates", os.path.join(work, name + ".out"), path]):
        r = subprocess.run([inspect, *args], capture_output=True, text=True)
        msg = r.stderr.strip()
        if r.returncode != 1:
            problems.append(f"{args[0]}: exit {r.returncode}")
        want = f"{path}:0x{off:x}: error:" if off is not None else f"{path}:0x"
        if want not in msg:
            problems.append(f"{args[0]}: want {want!r} in {msg!r}")
        if phrase not in msg.split("error:", 1)[-1]:
            problems.append(f"{args[0]}: want {phrase!r} in {msg!r}")
    if problems:
        failed += 1
        print(f"FAIL {name}")
        for p in problems:
            print(f"  {p}")
    else:
        passed += 1
        print(f"ok {name}: {msg}")
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
