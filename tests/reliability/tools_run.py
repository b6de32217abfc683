#!/usr/bin/python3
"""Every C tool once on small real inputs, each run's result checked: the
inputs of the valgrind test setup's CI subset (memcheck is 20-50x slower,
so the inputs are the smallest real ones of each format), and a quick
end-to-end run otherwise.

  m2w-inspect    the vendored face detector (TFLite; --json, --markdown),
                 openWakeWord's melspectrogram.onnx, a llama.cpp vocab GGUF
  m2w-extract    the face detector (f32 and f16), melspectrogram.onnx
  m2w-pack       the extract's weights.json, a generated GGUF (F32 / F16 /
                 Q8_0, two layers), the vocab GGUF (tokenizer.json);
                 --verify of each manifest, --unpack of a Q8_0 tensor
                 (checked against the GGUF's own dequantized values)
  m2w-shadergen  two library shaders, --f16
  m2w-check      the unpacked tensor against itself (pass) and against a
                 scaled copy (fail, exit 1)
  m2w-scaffold   the face detector's engine draft

Inputs missing from M2W_CACHE are skipped with a note (the vendored face
detector is always there).

usage: tools_run.py M2W_INSPECT M2W_EXTRACT M2W_PACK M2W_SHADERGEN M2W_CHECK [M2W_SCAFFOLD]
   (each tool a path of its own: the valgrind setup's wrapper replaces them)
"""
import json
import os
import random
import struct
import subprocess
import sys
import tempfile

import numpy as np

FAILS = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILS.append(what)


def run(argv, want=0):
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       errors="replace")
    check(r.returncode == want, f"{os.path.basename(argv[0])} {' '.join(os.path.basename(a) for a in argv[1:])}"
          f": exit {r.returncode}" + (f" (want {want}): {r.stdout.strip()[-600:]}" if r.returncode != want else ""))
    return r


def gen_gguf(path, seed, dim=64, ffn=96, layers=2):
    """A GGUF v3 of F32, F16 and Q8_0 tensors; returns {name: f32 values}."""
    rnd = random.Random(seed)
    vals = {}

    def s(x):
        b = x.encode()
        return struct.pack("<Q", len(b)) + b

    tensors = []
    for layer in range(layers):
        n = f"blk.{layer}."
        v = [rnd.uniform(-1, 1) for _ in range(dim)]
        tensors.append((n + "attn_norm.weight", [dim], 0, struct.pack(f"<{dim}f", *v)))
        vals[n + "attn_norm.weight"] = np.array(v, np.float32)
        q = bytearray()
        deq = []
        for _ in range(dim * dim // 32):
            d = rnd.uniform(0.001, 0.05)
            qs = [rnd.randrange(-127, 128) for _ in range(32)]
            q += struct.pack("<e32b", d, *qs)
            dd = float(np.float16(d))
            deq += [dd * x for x in qs]
        tensors.append((n + "attn_q.weight", [dim, dim], 8, bytes(q)))
        vals[n + "attn_q.weight"] = np.array(deq, np.float32).reshape(dim, dim)
        h = [rnd.uniform(-1, 1) for _ in range(dim * ffn)]
        tensors.append((n + "ffn_down.weight", [ffn, dim], 1, struct.pack(f"<{dim * ffn}e", *h)))
    kv = s("general.architecture") + struct.pack("<I", 8) + s("m2wtest")
    kv += s("general.alignment") + struct.pack("<II", 4, 32)
    head = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), 2) + kv
    off = 0
    for name, dims, typ, data in tensors:
        head += s(name) + struct.pack("<I", len(dims)) + struct.pack(f"<{len(dims)}Q", *dims)
        head += struct.pack("<IQ", typ, off)
        off += (len(data) + 31) // 32 * 32
    head += b"\0" * (-len(head) % 32)
    with open(path, "wb") as f:
        f.write(head)
        for _, _, _, data in tensors:
            f.write(data + b"\0" * (-len(data) % 32))
    return vals


def main():
    if len(sys.argv) not in (6, 7):
        sys.exit(__doc__)
    t = dict(zip(("m2w-inspect", "m2w-extract", "m2w-pack", "m2w-shadergen", "m2w-check",
                  "m2w-scaffold"), sys.argv[1:]))
    src = os.environ.get("M2W_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))
    cache = os.environ.get("M2W_CACHE", "")
    face = os.path.join(src, "subprojects/face-detection/face_detection_short_range.tflite")
    mel = os.path.join(cache, "openwakeword/package/models/melspectrogram.onnx")
    vocab = os.path.join(cache, "llama.cpp/models/ggml-vocab-llama-spm.gguf")
    w = tempfile.mkdtemp(prefix="m2w-tools-run.")
    J = lambda *p: os.path.join(w, *p)

    # inspect
    run([t["m2w-inspect"], "--json", "-o", J("face.inspect.json"), "--markdown", J("face.md"), face])
    check(json.load(open(J("face.inspect.json"))) and os.path.getsize(J("face.md")) > 0,
          "inspect: the face detector's JSON parses, its Markdown is not empty")
    for p in (mel, vocab):
        if os.path.isfile(p):
            r = run([t["m2w-inspect"], "--json", p])
            check(r.returncode == 0 and json.loads(r.stdout), f"inspect --json {os.path.basename(p)} parses")
        else:
            print(f"note: {p} missing (M2W_CACHE): skipped")

    # extract, then pack the weights.json
    for dt in ("f32", "f16"):
        run([t["m2w-extract"], "-q", "--dtype", dt, face, "-o", J(f"face.{dt}.bin")])
        m = json.load(open(J(f"face.{dt}.json")))
        check(m["bytes"] == os.path.getsize(J(f"face.{dt}.bin")) and len(m["tensors"]) > 0,
              f"extract --dtype {dt}: {len(m['tensors'])} tensors, the blob's size as the manifest says")
        run([t["m2w-pack"], "--verify", J(f"face.{dt}.json")])
    if os.path.isfile(mel):
        run([t["m2w-extract"], "-q", mel, "-o", J("mel.bin")])
    run([t["m2w-pack"], "-q", J("face.f32.json"), "-o", J("face-packed")])
    run([t["m2w-pack"], "--verify", J("face-packed", "shards.json")])

    # pack a generated GGUF; unpack a Q8_0 tensor and compare with its values
    vals = gen_gguf(J("gen.gguf"), 7)
    run([t["m2w-pack"], "-q", J("gen.gguf"), "-o", J("gen-packed")])
    run([t["m2w-pack"], "--verify", J("gen-packed", "shards.json")])
    run([t["m2w-pack"], "--unpack", J("q.npy"), "blk.1.attn_q.weight", J("gen-packed")])
    got = np.load(J("q.npy"))
    want = vals["blk.1.attn_q.weight"]
    check(got.shape == want.shape and np.allclose(got, want, rtol=1e-6, atol=1e-7),
          f"pack --unpack blk.1.attn_q.weight: {got.shape} equals the GGUF's dequantized Q8_0")
    if os.path.isfile(vocab):
        run([t["m2w-pack"], "-q", vocab, "-o", J("vocab-packed")])
        tok = json.load(open(J("vocab-packed", "tokenizer.json")))
        check(len(json.dumps(tok)) > 1000, "pack of the vocab GGUF wrote a tokenizer.json")

    # shadergen
    sh = os.path.join(src, "shaders")
    run([t["m2w-shadergen"], "--f16", os.path.join(sh, "add.wgsl"), os.path.join(sh, "concat.wgsl"),
         "-o", J("shaders.ts")])
    check("export const add" in open(J("shaders.ts")).read(), "shadergen: shaders.ts exports add")

    # check: the unpacked tensor against itself and against a scaled copy
    for d in ("ref", "same", "scaled"):
        os.makedirs(J(d))
    np.save(J("ref", "0_q.npy"), got)
    np.save(J("same", "0_q.npy"), got)
    np.save(J("scaled", "0_q.npy"), got * 2)
    run([t["m2w-check"], J("ref"), J("same")])
    run([t["m2w-check"], "--json", J("report.json"), J("ref"), J("scaled")], want=1)
    check(os.path.getsize(J("report.json")) > 0, "check: a failing comparison writes its JSON report")

    # scaffold
    if "m2w-scaffold" in t:
        run([t["m2w-scaffold"], face, "-o", J("scaffold")])
        check(os.path.isfile(J("scaffold", "engine.ts")), "scaffold: engine.ts written")

    import shutil
    shutil.rmtree(w, ignore_errors=True)
    print("all checks passed" if not FAILS else f"{len(FAILS)} failed")
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
