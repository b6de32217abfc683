#!/usr/bin/python3
"""m2w-extract against python3-onnx's numpy_helper.to_array on Debian's
libonnx-testdata.

For every model.onnx: every initializer of every graph and subgraph and
every Constant node's tensor, as m2w-extract writes it (weights.bin +
weights.json, default f32 and again with --dtype f16), equals to_array:
bit for bit for f32 sources; for other floating sources, to_array's
values cast by numpy to the output dtype (round to nearest even); integers
unchanged.  Tensors are matched in order (pre-order over graphs, as the
manifest lists them) and by name.  Each model is also run with --verify.

For every test_data_set_0/*.pb that python3-onnx reads as a TensorProto:
m2w-extract FILE.pb -o FILE.npy, np.load equals to_array (same dtype,
shape and bits; bf16 as f32, strings as fixed-width bytes).

Usage: check_onnx_data.py M2W_EXTRACT [TESTDATA_DIR]
  TESTDATA_DIR defaults to $M2W_ONNX_TESTDATA, else
  /usr/share/libonnx-testdata/data.  Exit 77 when missing.
Prints mismatches, then the N/M counts; exit 1 on any mismatch.
"""
import concurrent.futures
import json
import os
import subprocess
import sys
import tempfile

DEFAULT_DATA = "/usr/share/libonnx-testdata/data"


def skip(why):
    print(f"SKIP: {why}")
    sys.exit(77)


try:
    import numpy as np
    import onnx
    from onnx import numpy_helper, TensorProto
except ImportError as e:
    skip(f"python3-onnx / numpy not importable: {e}")

NAMES = {np.dtype(np.float32): "f32", np.dtype(np.float16): "f16", np.dtype(np.float64): "f64",
         np.dtype(np.int8): "i8", np.dtype(np.uint8): "u8", np.dtype(np.int16): "i16",
         np.dtype(np.uint16): "u16", np.dtype(np.int32): "i32", np.dtype(np.uint32): "u32",
         np.dtype(np.int64): "i64", np.dtype(np.uint64): "u64", np.dtype(np.bool_): "bool",
         np.dtype(np.complex64): "c64", np.dtype(np.complex128): "c128"}


def expected(a, out):
    """to_array's value as m2w-extract writes it with output dtype `out`."""
    if a.dtype.kind == "f":
        return a.astype(np.float16 if out == "f16" else np.float32)
    return a


def same_bits(a, b):
    if a.dtype != b.dtype or a.shape != b.shape:
        return False
    return a.tobytes() == b.tobytes()


def walk(g, out):
    """(kind, name, array or None) for initializers and Constant tensors, pre-order."""
    for t in g.initializer:
        out.append(("initializer", t.name, None if t.data_type == TensorProto.STRING else t))
    for n in g.node:
        if n.op_type != "Constant" or n.domain not in ("", "ai.onnx"):
            continue
        for a in n.attribute:
            if a.name == "value":
                out.append(("constant", n.output[0], None if a.t.data_type == TensorProto.STRING else a.t))
            elif a.name == "value_float":
                out.append(("constant", n.output[0], np.array(a.f, dtype=np.float32)))
            elif a.name == "value_floats":
                out.append(("constant", n.output[0], np.array(list(a.floats), dtype=np.float32)))
            elif a.name == "value_int":
                out.append(("constant", n.output[0], np.array(a.i, dtype=np.int64)))
            elif a.name == "value_ints":
                out.append(("constant", n.output[0], np.array(list(a.ints), dtype=np.int64)))
    for n in g.node:
        for a in n.attribute:
            if a.type == onnx.AttributeProto.GRAPH:
                walk(a.g, out)
            elif a.type == onnx.AttributeProto.GRAPHS:
                for sub in a.graphs:
                    walk(sub, out)


def run(exe, args):
    r = subprocess.run([exe, "--quiet"] + args, capture_output=True, text=True)
    return r.returncode, r.stderr.strip()


def check_model(exe, path, tmp):
    """(path, counts {kind: [ok, total]}, [problems])"""
    counts = {"initializer": [0, 0], "constant": [0, 0]}
    bad = []
    try:
        m = onnx.load(path)
    except Exception as e:
        return path, counts, None  # python3-onnx can't read it: not compared
    want = []
    walk(m.graph, want)
    want = [w for w in want if w[2] is not None]
    base = os.path.join(tmp, str(abs(hash(path))))
    for out in ("f32", "f16"):
        blob = base + "." + out + ".bin"
        args = [path, "-o", blob] + (["--dtype", "f16"] if out == "f16" else []) + (["--verify"] if out == "f32" else [])
        rc, err = run(exe, args)
        if rc:
            bad.append(f"--dtype {out}: exit {rc}: {err}")
            for k, _, _ in want:
                counts[k][1] += 1
            continue
        man = json.load(open(base + "." + out + ".json"))
        data = np.fromfile(blob, dtype=np.uint8)
        got = [t for t in man["tensors"] if t["kind"] in ("initializer", "constant")]
        if len(got) != len(want):
            bad.append(f"--dtype {out}: {len(got)} tensors in the manifest, python3-onnx has {len(want)}")
        for i, (kind, name, src) in enumerate(want):
            counts[kind][1] += 1
            if i >= len(got):
                continue
            t = got[i]
            a = numpy_helper.to_array(src) if isinstance(src, (TensorProto,)) else src
            e = expected(np.asarray(a), out)
            if t["source"] != name:
                bad.append(f"--dtype {out}: tensor {i}: source '{t['source']}', python3-onnx '{name}'")
                continue
            dt = np.dtype({"f32": np.float32, "f16": np.float16, "f64": np.float64, "i8": np.int8, "u8": np.uint8,
                           "i16": np.int16, "u16": np.uint16, "i32": np.int32, "u32": np.uint32,
                           "i64": np.int64, "u64": np.uint64, "bool": np.bool_, "c64": np.complex64,
                           "c128": np.complex128}[t["dtype"]])
            g = data[t["offset"]:t["offset"] + t["bytes"]].view(dt).reshape(t["shape"])
            if t["offset"] % 16:
                bad.append(f"--dtype {out}: '{name}' offset {t['offset']} not 16-aligned")
            elif same_bits(g, e):
                counts[kind][0] += 1
            else:
                bad.append(f"--dtype {out}: '{name}': m2w {g.dtype}{list(g.shape)} vs onnx {e.dtype}{list(e.shape)}"
                           f" differ")
    return path, counts, bad


def check_pb(exe, path, tmp):
    """(path, ok, why-not-compared or problem)"""
    try:
        t = onnx.load_tensor(path)
        if t.data_type == 0 or t.data_type not in onnx.mapping.TENSOR_TYPE_TO_NP_TYPE:
            raise ValueError(f"data_type {t.data_type}")
        want = numpy_helper.to_array(t)
    except Exception as e:
        return path, None, f"not a TensorProto to python3-onnx: {e}"
    out = os.path.join(tmp, str(abs(hash(path))) + ".npy")
    rc, err = run(exe, [path, "-o", out])
    if rc:
        return path, False, f"exit {rc}: {err}"
    got = np.load(out)
    if want.dtype == object:  # strings: to_array gives str, the .npy fixed-width bytes
        ok = got.dtype.kind == "S" and got.shape == want.shape and \
            all(g == w.encode("utf-8") for g, w in zip(got.ravel().tolist(), want.ravel().tolist()))
    else:
        ok = same_bits(got, want)
    return path, ok, None if ok else f"m2w {got.dtype}{list(got.shape)} vs onnx {want.dtype}{list(want.shape)}"


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        sys.exit(2)
    exe = sys.argv[1]
    data = sys.argv[2] if len(sys.argv) > 2 else os.environ.get("M2W_ONNX_TESTDATA") or DEFAULT_DATA
    if not os.path.isdir(data):
        skip(f"{data} missing (Debian package libonnx-testdata)")
    models = sorted(os.path.join(r, f) for r, _, fs in os.walk(data) for f in fs if f == "model.onnx")
    pbs = sorted(os.path.join(r, f) for r, _, fs in os.walk(data) for f in fs
                 if f.endswith(".pb") and os.path.basename(r) == "test_data_set_0")
    if not models:
        skip(f"no model.onnx under {data}")
    failures = 0
    with tempfile.TemporaryDirectory() as tmp, concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 2) as pool:
        totals = {"initializer": [0, 0], "constant": [0, 0]}
        unread = 0
        for path, counts, bad in pool.map(lambda p: check_model(exe, p, tmp), models):
            if bad is None:
                unread += 1
                continue
            for k in totals:
                totals[k][0] += counts[k][0]
                totals[k][1] += counts[k][1]
            for b in bad:
                failures += 1
                print(f"{os.path.relpath(path, data)}: {b}")
        pb_ok = pb_all = pb_other = 0
        for path, ok, why in pool.map(lambda p: check_pb(exe, p, tmp), pbs):
            if ok is None:
                pb_other += 1
                continue
            pb_all += 1
            pb_ok += ok
            if not ok:
                failures += 1
                print(f"{os.path.relpath(path, data)}: {why}")
    print(f"models: {len(models) - unread}/{len(models)} read by python3-onnx")
    print(f"initializers: {totals['initializer'][0]}/{totals['initializer'][1]} equal (f32 and f16 output)")
    print(f"Constant tensors: {totals['constant'][0]}/{totals['constant'][1]} equal (f32 and f16 output)")
    print(f"test_data_set_0 .pb tensors: {pb_ok}/{pb_all} equal ({pb_other} sequence/map/optional "
          f".pb files not compared)")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
