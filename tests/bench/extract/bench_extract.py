#!/usr/bin/python3
"""m2w-extract throughput on a generated ~1 GB f32 ONNX model, against the
same work done by Python + numpy (onnx.load, numpy_helper.to_array, astype,
write the aligned blob) in the same run.

The model (15 initializers of 4096 x 4096 f32 plus 15 biases, seeded
random values, ~1.0 GB, raw_data, no external data) is written once into
WORKDIR by streaming the protobuf encoding, and reused while its
parameters are unchanged.  Each tool runs under /usr/bin/time for wall
time and peak RSS; m2w-extract runs 3 times (output removed before each,
so every run converts and writes), Python --py-runs times (default 2: it
takes ~10 s a run).  Both blobs must be byte-identical (same layout rule:
source order, 16-byte aligned offsets).

Prints, for f32 -> f32 and f32 -> f16: GB/s of each (source bytes / wall
seconds; median [min-max] of the runs), the ratio of the medians (goal
>= 10x) and m2w-extract's peak RSS against the largest tensor (goal <
2x); the same figures as `RESULT {json}` lines for tests/bench/record.py.
Exit 1 only when a tool fails or the blobs differ; missed goals are
reported, not failed.

Usage: bench_extract.py M2W_EXTRACT WORKDIR [--py-runs N]
"""
import json
import os
import re
import statistics
import subprocess
import sys
import time

ROWS = COLS = 4096
NTENSORS = 15
SEED = 20240611
STAMP = f"v1 {ROWS}x{COLS}x{NTENSORS} seed {SEED}"

try:
    import numpy as np
except ImportError as e:
    print(f"SKIP: numpy not importable: {e}")
    sys.exit(77)


def varint(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field(num, wt, payload=b"", value=None):
    if wt == 0:
        return varint(num << 3) + varint(value)
    return varint(num << 3 | 2) + varint(len(payload)) + payload


def tensor_header(name, dims, nbytes):
    """TensorProto fields before raw_data (9) and raw_data's tag + length."""
    dims_b = b"".join(field(1, 0, value=d) for d in dims)
    return dims_b + field(2, 0, value=1) + field(8, 2, name.encode()) + varint(9 << 3 | 2) + varint(nbytes)


def generate(path):
    rng = np.random.default_rng(SEED)
    tensors = []
    for i in range(NTENSORS):
        tensors.append((f"layer{i}.weight", [ROWS, COLS]))
        tensors.append((f"layer{i}.bias", [ROWS]))
    # sizes first: the graph's length prefix comes before its bytes
    inits = []
    for name, dims in tensors:
        nbytes = 4 * int(np.prod(dims))
        head = tensor_header(name, dims, nbytes)
        inits.append((name, dims, head, nbytes))
    node = field(1, 2, b"x") + field(2, 2, b"y") + field(4, 2, b"Identity")
    vi = lambda n: field(1, 2, n) + field(2, 2, field(1, 2, field(1, 0, value=1)))
    graph_tail = field(2, 2, b"bench") + field(11, 2, vi(b"x")) + field(12, 2, vi(b"y"))
    graph_len = len(field(1, 2, node)) + len(graph_tail)
    for name, dims, head, nbytes in inits:
        tlen = len(head) + nbytes
        graph_len += len(varint(5 << 3 | 2)) + len(varint(tlen)) + tlen
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(field(1, 0, value=8))                             # ir_version
        f.write(field(2, 2, b"m2w-bench"))                         # producer_name
        f.write(field(8, 2, field(2, 0, value=17)))                # opset_import
        f.write(varint(7 << 3 | 2) + varint(graph_len))            # graph
        f.write(field(1, 2, node))
        for name, dims, head, nbytes in inits:
            f.write(varint(5 << 3 | 2) + varint(len(head) + nbytes) + head)
            a = (rng.standard_normal(int(np.prod(dims)), dtype=np.float32) * np.float32(0.05))
            f.write(a.astype("<f4").tobytes())
        f.write(graph_tail)
    os.replace(tmp, path)


PY_BASELINE = r'''
import sys, json, numpy as np, onnx
from onnx import numpy_helper
model, out, dtype = sys.argv[1:4]
m = onnx.load(model)
off = 0
tensors = []
with open(out, "wb") as f:
    for t in m.graph.initializer:
        a = numpy_helper.to_array(t)
        if dtype == "f16":
            a = a.astype(np.float16)
        pad = (-off) % 16
        f.write(b"\0" * pad)
        off += pad
        b = a.tobytes()
        f.write(b)
        tensors.append({"name": t.name, "shape": list(a.shape), "dtype": dtype, "offset": off, "bytes": len(b)})
        off += len(b)
json.dump({"dtype": dtype, "bytes": off, "tensors": tensors}, open(out + ".json", "w"))
'''


def timed(cmd):
    """(wall seconds, peak RSS bytes) of cmd under /usr/bin/time."""
    t0 = time.monotonic()
    r = subprocess.run(["/usr/bin/time", "-f", "M2W_TIME %e %M"] + cmd, capture_output=True, text=True)
    wall = time.monotonic() - t0
    if r.returncode:
        print(f"FAILED ({r.returncode}): {' '.join(cmd)}\n{r.stderr}")
        sys.exit(1)
    m = re.search(r"M2W_TIME ([\d.]+) (\d+)", r.stderr)
    return (float(m.group(1)) if m else wall), (int(m.group(2)) * 1024 if m else 0)


def same_file(a, b):
    with open(a, "rb") as fa, open(b, "rb") as fb:
        while True:
            x, y = fa.read(1 << 24), fb.read(1 << 24)
            if x != y:
                return False
            if not x:
                return True


def stats(xs):
    r = lambda v: float(f"{v:.5g}")
    return {"median": r(statistics.median(xs)), "min": r(min(xs)), "max": r(max(xs)), "n": len(xs)}


def fmt(xs):
    return f"{statistics.median(xs):6.2f} [{min(xs):.2f}-{max(xs):.2f}]"


def main():
    args = sys.argv[1:]
    py_runs = 2
    if "--py-runs" in args:
        i = args.index("--py-runs")
        py_runs = int(args[i + 1])
        del args[i:i + 2]
    if len(args) != 2:
        print(__doc__)
        sys.exit(2)
    exe, work = args
    os.makedirs(work, exist_ok=True)
    model = os.path.join(work, "bench-1g.onnx")
    stamp = model + ".stamp"
    if not (os.path.exists(model) and os.path.exists(stamp) and open(stamp).read() == STAMP):
        t0 = time.monotonic()
        generate(model)
        open(stamp, "w").write(STAMP)
        print(f"generated {model} in {time.monotonic() - t0:.1f} s")
    size = os.path.getsize(model)
    src_bytes = NTENSORS * (ROWS * COLS + ROWS) * 4
    largest = ROWS * COLS * 4
    print(f"model: {size / 1e9:.3f} GB, {2 * NTENSORS} tensors, {src_bytes / 1e9:.3f} GB of f32, "
          f"largest tensor {largest / 2**20:.0f} MiB")
    have_onnx = subprocess.run(["/usr/bin/python3", "-c", "import onnx"], capture_output=True).returncode == 0
    if not have_onnx:
        print("python3-onnx missing: Python baseline skipped")
    # warm the page cache so neither side pays the disk
    with open(model, "rb") as f:
        while f.read(1 << 26):
            pass
    ok = True
    for dtype in ("f32", "f16"):
        out = os.path.join(work, f"m2w-{dtype}.bin")
        m_gbs, m_rsss = [], []
        for _ in range(3):
            for p in (out, out[:-4] + ".json"):
                if os.path.exists(p):
                    os.remove(p)
            wall, rss = timed([exe, "--quiet", "--dtype", dtype, model, "-o", out])
            m_gbs.append(src_bytes / wall / 1e9)
            m_rsss.append(rss)
        m_rss = max(m_rsss)
        line = (f"{dtype}: m2w-extract {fmt(m_gbs)} GB/s (median [min-max] of 3, "
                f"peak RSS {m_rss / 2**20:.0f} MiB = {m_rss / largest:.2f}x the largest tensor, "
                f"goal < 2x: {'met' if m_rss < 2 * largest else 'MISSED'})")
        print(line)
        what = f"m2w-extract f32 -> {dtype}, 1 GB ONNX"
        result = {"what": f"{what}: throughput", "unit": "GB/s", "m2w": stats(m_gbs)}
        if have_onnx:
            pout = os.path.join(work, f"py-{dtype}.bin")
            p_gbs, p_rsss = [], []
            for _ in range(py_runs):
                p_wall, p_rss = timed(["/usr/bin/python3", "-c", PY_BASELINE, model, pout, dtype])
                p_gbs.append(src_bytes / p_wall / 1e9)
                p_rsss.append(p_rss)
            ratio = statistics.median(m_gbs) / statistics.median(p_gbs)
            print(f"{dtype}: python+numpy {fmt(p_gbs)} GB/s (median [min-max] of {py_runs}, peak RSS "
                  f"{max(p_rsss) / 2**20:.0f} MiB); m2w-extract is {ratio:.1f}x faster "
                  f"(goal >= 10x: {'met' if ratio >= 10 else 'MISSED'})")
            result.update(peer={"name": "python + numpy (onnx numpy_helper)", **stats(p_gbs)},
                          ratio=round(ratio, 3), goal=">= 10x")
            print("RESULT " + json.dumps(result), flush=True)
            print("RESULT " + json.dumps({
                "what": f"{what}: peak RSS", "unit": "MiB", "m2w": stats([r / 2**20 for r in m_rsss]),
                "peer": {"name": "python + numpy (onnx numpy_helper)", **stats([r / 2**20 for r in p_rsss])},
                "ratio": round(statistics.median(p_rsss) / statistics.median(m_rsss), 3),
                "goal": f"< 2x the largest tensor ({largest / 2**20:.0f} MiB)"}), flush=True)
            if not same_file(out, pout):
                print(f"{dtype}: FAIL: m2w-extract's blob differs from Python's")
                ok = False
            else:
                print(f"{dtype}: blobs identical ({os.path.getsize(out)} bytes)")
            os.remove(pout)
            os.remove(pout + ".json")
        else:
            result["note"] = "python3-onnx missing: no peer"
            print("RESULT " + json.dumps(result), flush=True)
        man = json.load(open(out[:-4] + ".json"))
        if man["bytes"] != os.path.getsize(out) or len(man["tensors"]) != 2 * NTENSORS:
            print(f"{dtype}: FAIL: manifest disagrees with the blob")
            ok = False
        os.remove(out)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
