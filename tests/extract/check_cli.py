#!/usr/bin/python3
"""m2w-extract's command line: options, outputs and messages.

  --help / --version exit 0; usage errors exit 2
  determinism: two runs into different folders give identical bytes
  write-if-changed: a rerun leaves the blob's and manifest's mtime alone
  --names: renames; a key naming no tensor and a clash are errors (exit 1)
  --only: globs select tensors (repeatable); offsets stay 16-aligned
  --layout source: TFLite filters keep [O,H,W,I], no permutation
  --depfile: lists the external data files of an ONNX model
  --dtype f16: overflow to inf is a warning naming the tensor, counted in
      the manifest; values round to nearest even (numpy's astype)
  repeated TFLite names get "#<shape>"
  TFLite sparse constants (CSR, and 1x4 blocks) are densified
  --verify passes; a corrupted blob is rewritten by the next run
  GGUF: an unsupported block type is an error naming the tensor, unless
      --only leaves it out; shapes are reversed from ne[]
  a bare TensorProto .pb -> .npy (source dtype kept, or --dtype f16)

Usage: check_cli.py M2W_EXTRACT
"""
import json
import os
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
try:
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper, TensorProto
except ImportError as e:
    print(f"SKIP: python3-onnx / numpy not importable: {e}")
    sys.exit(77)
import tflite_writer as tw

failures = []
passed = 0


def expect(cond, what):
    global passed
    if cond:
        passed += 1
    else:
        failures.append(what)
        print("FAIL:", what)


def run(exe, *args):
    return subprocess.run([exe] + [str(a) for a in args], capture_output=True, text=True)


def manifest(out):
    return json.load(open(out[:-4] + ".json"))


def onnx_model(path, inits, external=False):
    g = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
                          [numpy_helper.from_array(a, n) for n, a in inits.items()])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    if external:
        onnx.save(m, path, save_as_external_data=True, all_tensors_to_one_file=True, location="weights.data",
                  size_threshold=0)
    else:
        onnx.save(m, path)


def gguf_file(path, tensors):
    """GGUF v3 by hand: tensors = [(name, ne list, ggml type id, raw bytes)]."""
    def s(x):
        b = x.encode()
        return struct.pack("<Q", len(b)) + b
    head = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), 1)
    head += s("general.architecture") + struct.pack("<I", 8) + s("test")
    infos, data, off = b"", b"", 0
    for name, ne, typ, raw in tensors:
        infos += s(name) + struct.pack("<I", len(ne)) + b"".join(struct.pack("<Q", n) for n in ne)
        infos += struct.pack("<IQ", typ, off)
        pad = (-len(raw)) % 32
        data += raw + b"\0" * pad
        off += len(raw) + pad
    body = head + infos
    body += b"\0" * ((-len(body)) % 32)
    open(path, "wb").write(body + data)


def main():
    exe = sys.argv[1]
    tmp = tempfile.mkdtemp(prefix="m2w-extract-cli-")
    j = lambda *p: os.path.join(tmp, *p)

    r = run(exe, "--help")
    expect(r.returncode == 0 and "Usage" in r.stdout, "--help exits 0 with the usage")
    r = run(exe, "--version")
    expect(r.returncode == 0 and r.stdout.startswith("m2w-extract "), "--version")
    for args in ([], ["x.onnx"], ["--dtype", "f8", "x.onnx", "-o", "y"], ["--layout", "nhwc", "x", "-o", "y"],
                 ["a", "b", "-o", "y"], ["--bogus"]):
        expect(run(exe, *args).returncode == 2, f"usage error exits 2: {args}")

    rng = np.random.default_rng(1)
    inits = {"conv.weight": rng.standard_normal((4, 3, 3, 3)).astype(np.float32),
             "conv.bias": rng.standard_normal(4).astype(np.float32),
             "fc.weight": rng.standard_normal((5, 7)).astype(np.float32),
             "shape": np.array([1, -1], np.int64),
             "big": np.array([1.0, 65504.0, 65519.0, 65520.0, -1e6, 3.0e-8, np.inf], np.float32),
             "f64": np.array([0.1, 1 / 3, 1e300, 65519.99999999], np.float64)}
    model = j("m.onnx")
    onnx_model(model, inits)

    # determinism and write-if-changed
    os.makedirs(j("a")), os.makedirs(j("b"))
    ra, rb = run(exe, model, "-o", j("a", "w.bin")), run(exe, model, "-o", j("b", "w.bin"))
    expect(ra.returncode == 0 and rb.returncode == 0, f"plain run: {ra.stderr}{rb.stderr}")
    for f in ("w.bin", "w.json"):
        expect(open(j("a", f), "rb").read() == open(j("b", f), "rb").read(), f"{f} identical across runs")
    before = [os.stat(j("a", f)).st_mtime_ns for f in ("w.bin", "w.json")]
    time.sleep(0.05)
    expect(run(exe, model, "-o", j("a", "w.bin")).returncode == 0, "rerun")
    after = [os.stat(j("a", f)).st_mtime_ns for f in ("w.bin", "w.json")]
    expect(before == after, "rerun keeps both outputs' mtime (write-if-changed)")
    expect(not [f for f in os.listdir(j("a")) if ".tmp." in f], "no temp files left")
    man = manifest(j("a", "w.bin"))
    expect(all(t["offset"] % 16 == 0 for t in man["tensors"]), "offsets 16-aligned")
    expect(man["dtype"] == "f32" and man["format"] == "onnx" and man["model"] == "m.onnx",
           "manifest top-level keys")
    blob = np.fromfile(j("a", "w.bin"), dtype=np.uint8)
    by = {t["name"]: t for t in man["tensors"]}
    t = by["shape"]
    expect(t["dtype"] == "i64" and blob[t["offset"]:t["offset"] + 16].view(np.int64).tolist() == [1, -1],
           "integer tensors keep their dtype")
    t = by["f64"]
    with np.errstate(over="ignore"):
        want = inits["f64"].astype(np.float32)
    expect(blob[t["offset"]:t["offset"] + 16].view(np.float32).tobytes() == want.tobytes(),
           "f64 -> f32 rounds like numpy (1e300 -> inf)")

    # --names
    names = j("names.json")
    json.dump({"conv.weight": "c1.w", "fc.weight": "fc.w"}, open(names, "w"))
    r = run(exe, model, "-o", j("n.bin"), "--names", names)
    by = {t["name"]: t for t in manifest(j("n.bin"))["tensors"]}
    expect(r.returncode == 0 and "c1.w" in by and by["c1.w"]["source"] == "conv.weight" and "conv.weight" not in by,
           f"--names renames: {r.stderr}")
    json.dump({"conv.weight": "a", "nope": "b"}, open(names, "w"))
    r = run(exe, model, "-o", j("n.bin"), "--names", names)
    at = json.dumps({"conv.weight": "a", "nope": "b"}).index('"nope"')
    expect(r.returncode == 1 and "'nope'" in r.stderr and f"names.json:{at:#x}: error:" in r.stderr,
           f"--names unknown key is an error at the key's offset ({at:#x}): {r.stderr}")
    json.dump({"conv.weight": "fc.weight"}, open(names, "w"))
    r = run(exe, model, "-o", j("n.bin"), "--names", names)
    expect(r.returncode == 1 and "would both be named" in r.stderr and "names.json:0x1: error:" in r.stderr,
           f"--names clash is an error at the key that makes the clash: {r.stderr}")
    open(names, "w").write("{bad json")
    expect(run(exe, model, "-o", j("n.bin"), "--names", names).returncode == 1, "--names bad JSON: exit 1")

    # --only
    r = run(exe, model, "-o", j("o.bin"), "--only", "conv.*", "--only", "shape")
    got = sorted(t["name"] for t in manifest(j("o.bin"))["tensors"])
    expect(r.returncode == 0 and got == ["conv.bias", "conv.weight", "shape"], f"--only globs: {got}")
    r = run(exe, model, "-o", j("o.bin"), "--only", "zzz*")
    expect(r.returncode == 0 and "matches no tensor" in r.stderr, "--only matching nothing warns")

    # --dtype f16: overflow warning, RNE
    r = run(exe, model, "-o", j("h.bin"), "--dtype", "f16")
    man = manifest(j("h.bin"))
    by = {t["name"]: t for t in man["tensors"]}
    h = np.fromfile(j("h.bin"), dtype=np.uint8)
    t = by["big"]
    expect(r.returncode == 0 and "'big'" in r.stderr and "inf" in r.stderr and t.get("f16_overflow") == 2,
           f"f16 overflow warned and counted: {r.stderr} {t.get('f16_overflow')}")
    got = h[t["offset"]:t["offset"] + t["bytes"]].view(np.float16)
    with np.errstate(over="ignore"):
        want = inits["big"].astype(np.float16)
    expect(got.tobytes() == want.tobytes(), f"f16 RNE like numpy: {got} vs {want}")
    t = by["f64"]
    with np.errstate(over="ignore"):
        want = inits["f64"].astype(np.float16)
    expect(h[t["offset"]:t["offset"] + t["bytes"]].view(np.float16).tobytes() == want.tobytes(),
           "f64 -> f16 rounds once (numpy's astype)")
    expect(man["dtype"] == "f16" and by["conv.weight"]["dtype"] == "f16" and by["shape"]["dtype"] == "i64",
           "f16 manifest dtypes")
    expect(run(exe, model, "-o", j("h.bin"), "--dtype", "f16", "--verify", "-q").returncode == 0, "--verify f16")

    r = run(exe, model, "-o", j("v3.bin"), "--verify", "--manifest", j("v3.json"))
    expect(r.returncode == 0 and os.path.exists(j("v3.json")), "--verify passes; --manifest path")

    # depfile with external data
    os.makedirs(j("ext"))
    onnx_model(j("ext", "m.onnx"), {"w": np.arange(64, dtype=np.float32)}, external=True)
    r = run(exe, j("ext", "m.onnx"), "-o", j("ext", "w.bin"), "--depfile", j("ext", "w.d"), "--verify")
    dep = open(j("ext", "w.d")).read() if os.path.exists(j("ext", "w.d")) else ""
    expect(r.returncode == 0 and dep.startswith(j("ext", "w.bin") + ":") and "weights.data" in dep,
           f"--depfile lists external data: {dep!r} {r.stderr}")
    w = np.fromfile(j("ext", "w.bin"), dtype=np.float32)
    expect(w.tolist() == list(range(64)), "external data extracted")

    # TFLite: layout, repeated names
    filt = rng.standard_normal((4, 3, 3, 2)).astype(np.float32)
    dup = rng.standard_normal((2, 3)).astype(np.float32)
    T = [tw.tensor("in", [1, 5, 5, 2], tw.FLOAT32, 0), tw.tensor("filter", [4, 3, 3, 2], tw.FLOAT32, 1),
         tw.tensor("out", [1, 3, 3, 4], tw.FLOAT32, 0), tw.tensor("dup", [2, 3], tw.FLOAT32, 2),
         tw.tensor("dup", [2, 3], tw.FLOAT32, 2)]
    data, _ = tw.build(tw.model([tw.opcode(tw.CONV_2D)], T, [0], [2], [tw.operator(0, [0, 1, -1], [2])],
                                [tw.buffer(b""), tw.buffer(filt.tobytes()), tw.buffer(dup.tobytes())]))
    open(j("t.tflite"), "wb").write(data)
    r = run(exe, j("t.tflite"), "-o", j("t.bin"), "--verify")
    man = manifest(j("t.bin"))
    by = {t["name"]: t for t in man["tensors"]}
    tb = np.fromfile(j("t.bin"), dtype=np.uint8)
    f = by.get("filter", {})
    got = tb[f.get("offset", 0):f.get("offset", 0) + f.get("bytes", 0)].view(np.float32)
    expect(r.returncode == 0 and f.get("shape") == [4, 2, 3, 3] and f.get("permutation") == [0, 3, 1, 2] and
           got.tobytes() == filt.transpose(0, 3, 1, 2).tobytes(), f"TFLite CONV_2D filter to NCHW {r.stderr}")
    expect(sorted(by) == ["dup", "dup#2x3", "filter"], f"repeated names disambiguated: {sorted(by)}")
    r = run(exe, j("t.tflite"), "-o", j("t.bin"), "--layout", "source", "--verify")
    f = {t["name"]: t for t in manifest(j("t.bin"))["tensors"]}["filter"]
    expect(r.returncode == 0 and f["shape"] == [4, 3, 3, 2] and "permutation" not in f and
           manifest(j("t.bin"))["layout"] == "source", "--layout source keeps [O,H,W,I]")

    # TFLite sparsity: a [4, 8] f32 constant, CSR per element, and in 1x4 blocks
    dense = rng.standard_normal((4, 8)).astype(np.float32)
    dense[rng.random((4, 8)) < 0.6] = 0
    dense[2, 4:] = 0
    segs, idx, vals = [0], [], []
    for r_ in range(4):
        for c_ in range(8):
            if dense[r_, c_] != 0:
                idx.append(c_)
                vals.append(dense[r_, c_])
        segs.append(len(idx))
    csr = tw.sparsity([0, 1], [], [("dense", 4), ("csr", segs, idx)])
    bsegs, bidx, bvals = [0], [], []
    for r_ in range(4):
        for b_ in range(2):
            blk = dense[r_, 4 * b_:4 * b_ + 4]
            if blk.any():
                bidx.append(b_)
                bvals.extend(blk.tolist())
        bsegs.append(len(bidx))
    blocked = tw.sparsity([0, 1, 2], [1], [("dense", 4), ("csr", bsegs, bidx), ("dense", 4)])
    T = [tw.tensor("csr", [4, 8], tw.FLOAT32, 1, sparsity=csr),
         tw.tensor("blocked", [4, 8], tw.FLOAT32, 2, sparsity=blocked)]
    data, _ = tw.build(tw.model([tw.opcode(tw.FULLY_CONNECTED)], T, [], [], [],
                                [tw.buffer(b""), tw.buffer(np.array(vals, np.float32).tobytes()),
                                 tw.buffer(np.array(bvals, np.float32).tobytes())]))
    open(j("s.tflite"), "wb").write(data)
    r = run(exe, j("s.tflite"), "-o", j("s.bin"), "--verify")
    if r.returncode == 0:
        sb = np.fromfile(j("s.bin"), dtype=np.uint8)
        by = {t["name"]: t for t in manifest(j("s.bin"))["tensors"]}
        for nm in ("csr", "blocked"):
            t = by[nm]
            got = sb[t["offset"]:t["offset"] + t["bytes"]].view(np.float32).reshape(t["shape"])
            expect(got.tobytes() == dense.tobytes(), f"TFLite sparse '{nm}' densified: {got} vs {dense}")
    else:
        expect(False, f"TFLite sparse model: {r.stderr}")
    bad = tw.sparsity([0, 1], [], [("dense", 4), ("csr", segs, [9] + idx[1:])])
    data, _ = tw.build(tw.model([], [tw.tensor("bad", [4, 8], tw.FLOAT32, 1, sparsity=bad)], [], [], [],
                                [tw.buffer(b""), tw.buffer(np.array(vals, np.float32).tobytes())]))
    open(j("s.tflite"), "wb").write(data)
    r = run(exe, j("s.tflite"), "-o", j("s.bin"))
    expect(r.returncode == 1 and "'bad'" in r.stderr and "sparse index 9" in r.stderr,
           f"TFLite sparse index out of range refused: {r.stderr}")

    # GGUF: shapes reversed; unsupported type refused unless left out
    q8 = b"".join(struct.pack("<e", 0.5) + bytes(range(32)) for _ in range(2))   # q8_0, 2 blocks
    gguf_file(j("g.gguf"), [("a", [32, 2], 8, q8), ("b", [3], 0, struct.pack("<3f", 1, 2, 3)),
                            ("iq", [32], 20, bytes(18))])  # iq4_nl
    r = run(exe, j("g.gguf"), "-o", j("g.bin"))
    expect(r.returncode == 1 and "'iq'" in r.stderr and "iq4_nl" in r.stderr and "g.gguf:0x" in r.stderr,
           f"GGUF unsupported type refused: {r.stderr}")
    r = run(exe, j("g.gguf"), "-o", j("g.bin"), "--only", "[ab]", "--verify")
    by = {t["name"]: t for t in manifest(j("g.bin"))["tensors"]} if r.returncode == 0 else {}
    gb = np.fromfile(j("g.bin"), dtype=np.uint8) if r.returncode == 0 else None
    want = (np.tile(np.arange(32, dtype=np.int8).astype(np.float32) * np.float32(0.5), 2)).reshape(2, 32)
    expect(r.returncode == 0 and by["a"]["shape"] == [2, 32] and by["a"]["source_dtype"] == "q8_0" and
           gb[by["a"]["offset"]:by["a"]["offset"] + 256].view(np.float32).reshape(2, 32).tobytes() == want.tobytes(),
           f"GGUF q8_0 dequantized, shape reversed: {r.stderr}")

    # .pb -> .npy
    pb = numpy_helper.from_array(rng.standard_normal((2, 3)).astype(np.float16), "t")
    open(j("t.pb"), "wb").write(pb.SerializeToString())
    r = run(exe, j("t.pb"), "-o", j("t.npy"))
    expect(r.returncode == 0 and np.load(j("t.npy")).tobytes() == numpy_helper.to_array(pb).tobytes() and
           np.load(j("t.npy")).dtype == np.float16, ".pb f16 kept as f16 .npy")
    pb = numpy_helper.from_array(rng.standard_normal((2, 3)).astype(np.float32), "t")
    open(j("t.pb"), "wb").write(pb.SerializeToString())
    r = run(exe, j("t.pb"), "-o", j("t.npy"), "--dtype", "f16")
    expect(r.returncode == 0 and np.load(j("t.npy")).tobytes() ==
           numpy_helper.to_array(pb).astype(np.float16).tobytes(), ".pb --dtype f16")

    # a corrupted blob is rewritten by the next run (its bytes differ)
    run(exe, model, "-o", j("c.bin"))
    t = {t["name"]: t for t in manifest(j("c.bin"))["tensors"]}["fc.weight"]
    good = open(j("c.bin"), "rb").read()
    b = bytearray(good)
    b[t["offset"] + 6] ^= 0x20
    open(j("c.bin"), "wb").write(b)
    r = run(exe, model, "-o", j("c.bin"))
    expect(r.returncode == 0 and open(j("c.bin"), "rb").read() == good, "a rerun repairs a corrupted blob")
    print(f"{passed}/{passed + len(failures)} checks pass")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
