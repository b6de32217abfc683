#!/usr/bin/python3
"""m2w-extract's ggml dequantization against gguf-py (gguf.quants of the
llama.cpp that tests/conformance/gguf/fetch.sh puts in $M2W_CACHE), bit for
bit, on files quantized by llama.cpp's own llama-quantize.

Writes with gguf-py a tiny llama-shaped model (one block, n_embd 256,
n_ff 512, vocab 64: every matrix row a multiple of 256 so k-quants apply)
of seeded random f32 weights (normal, with outliers and zero rows), then
`llama-quantize --pure` makes one file per type: F16 BF16 Q4_0 Q4_1 Q5_0
Q5_1 Q8_0 Q2_K Q3_K_S Q4_K_S Q5_K_S Q6_K (plus the f32 original).  For
every tensor of every file, m2w-extract's f32 output must equal
gguf.quants.dequantize() bit for bit, and its --dtype f16 output that
array's numpy astype(float16); each file also passes --verify.  Every
supported type (f32 f16 bf16 q4_0 q4_1 q5_0 q5_1 q8_0 q2_k q3_k q4_k
q5_k q6_k) must have been seen.

llama-quantize is built by build_quantize.sh (cmake, once, cached in
$M2W_CACHE/llama-build); exit 77 with the reason when that is not possible.

Usage: check_gguf_quant.py M2W_EXTRACT WORKDIR
"""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SUPPORTED = ["f32", "f16", "bf16", "q4_0", "q4_1", "q5_0", "q5_1", "q8_0", "q2_k", "q3_k", "q4_k",
             "q5_k", "q6_k"]
FTYPES = ["F16", "BF16", "Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q2_K", "Q3_K_S", "Q4_K_S", "Q5_K_S", "Q6_K"]
SEED = 7


def skip(why):
    print(f"SKIP: {why}")
    sys.exit(77)


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        sys.exit(2)
    exe, work = sys.argv[1], sys.argv[2]
    cache = os.environ.get("M2W_CACHE")
    if not cache:
        skip("M2W_CACHE is not set")
    try:
        import numpy as np
    except ImportError as e:
        skip(f"numpy not importable: {e}")
    # Building llama-quantize takes 10-20 minutes on 2 cores:
    # tools/bootstrap.sh test builds it before the tests; here it is built
    # only when asked (M2W_BUILD_QUANTIZE=1), else the test skips.
    if (os.environ.get("M2W_BUILD_QUANTIZE") != "1" and
            not os.path.exists(os.path.join(cache, "llama-build", "bin", "llama-quantize"))):
        skip("llama-quantize is not built: tools/bootstrap.sh test builds it "
             "(or tests/extract/build_quantize.sh with M2W_CACHE set)")
    r = subprocess.run(["sh", os.path.join(HERE, "build_quantize.sh")], capture_output=True, text=True,
                       env=dict(os.environ, M2W_CACHE=cache))
    if r.returncode == 77 or r.returncode:
        skip((r.stderr.strip().splitlines() or ["build_quantize.sh failed"])[-1])
    quantize = r.stdout.strip().splitlines()[-1]
    sys.path.insert(0, os.path.join(cache, "llama.cpp", "gguf-py"))
    try:
        import gguf
        from gguf import quants
    except ImportError as e:
        skip(f"gguf-py not importable from {cache}/llama.cpp: {e}")

    os.makedirs(work, exist_ok=True)
    src = os.path.join(work, "tiny-f32.gguf")
    rng = np.random.default_rng(SEED)
    n_embd, n_ff, n_vocab = 256, 512, 64

    def w(*shape):
        a = rng.standard_normal(shape, dtype=np.float32) * np.float32(0.02)
        flat = a.reshape(-1)
        idx = rng.integers(0, flat.size, size=max(1, flat.size // 1000))
        flat[idx] *= 40  # outliers stretch the block scales
        if a.ndim == 2:
            a[1, :] = 0  # a zero row: zero scales
        return a

    wr = gguf.GGUFWriter(src, "llama")
    wr.add_context_length(128)
    wr.add_embedding_length(n_embd)
    wr.add_block_count(1)
    wr.add_feed_forward_length(n_ff)
    wr.add_head_count(4)
    wr.add_head_count_kv(4)
    wr.add_layer_norm_rms_eps(1e-5)
    wr.add_rope_dimension_count(n_embd // 4)
    wr.add_vocab_size(n_vocab)
    wr.add_file_type(0)
    tensors = {
        "token_embd.weight": w(n_vocab, n_embd),
        "output_norm.weight": np.ones(n_embd, dtype=np.float32),
        "output.weight": w(n_vocab, n_embd),
        "blk.0.attn_norm.weight": np.ones(n_embd, dtype=np.float32),
        "blk.0.attn_q.weight": w(n_embd, n_embd),
        "blk.0.attn_k.weight": w(n_embd, n_embd),
        "blk.0.attn_v.weight": w(n_embd, n_embd),
        "blk.0.attn_output.weight": w(n_embd, n_embd),
        "blk.0.ffn_norm.weight": np.ones(n_embd, dtype=np.float32),
        "blk.0.ffn_gate.weight": w(n_ff, n_embd),
        "blk.0.ffn_up.weight": w(n_ff, n_embd),
        "blk.0.ffn_down.weight": w(n_embd, n_ff),
    }
    for name, a in tensors.items():
        wr.add_tensor(name, a)
    wr.write_header_to_file()
    wr.write_kv_data_to_file()
    wr.write_tensors_to_file()
    wr.close()

    files = [src]
    for ft in FTYPES:
        dst = os.path.join(work, f"tiny-{ft.lower()}.gguf")
        r = subprocess.run([quantize, "--pure", src, dst, ft, "1"], capture_output=True, text=True)
        if r.returncode:
            print(f"FAIL: llama-quantize {ft}: exit {r.returncode}\n{r.stderr[-2000:]}")
            sys.exit(1)
        files.append(dst)

    seen = {}
    bad = 0
    for path in files:
        rd = gguf.GGUFReader(path)
        outs = {}
        for dt in ("f32", "f16"):
            blob = os.path.join(work, f"out-{dt}.bin")
            args = [exe, "--quiet", path, "-o", blob] + (["--dtype", "f16"] if dt == "f16" else ["--verify"])
            r = subprocess.run(args, capture_output=True, text=True)
            if r.returncode:
                print(f"FAIL: {os.path.basename(path)} --dtype {dt}: exit {r.returncode}: {r.stderr.strip()}")
                bad += 1
                continue
            man = json.load(open(blob[:-4] + ".json"))
            outs[dt] = (np.fromfile(blob, dtype=np.uint8), {t["name"]: t for t in man["tensors"]})
        if len(outs) != 2:
            continue
        for t in rd.tensors:
            want = quants.dequantize(t.data, t.tensor_type).astype(np.float32, copy=False)
            want = want.reshape([int(x) for x in reversed(t.shape)] if len(t.shape) > 1 else [int(t.shape[0])])
            tname = t.tensor_type.name.lower()
            ok = True
            for dt, npdt, ref in (("f32", np.float32, want), ("f16", np.float16, want.astype(np.float16))):
                data, man = outs[dt]
                e = man.get(t.name)
                if e is None or e["shape"] != list(ref.shape) or e["source_dtype"] != tname:
                    print(f"FAIL: {os.path.basename(path)} {t.name}: manifest entry {e} vs shape "
                          f"{list(ref.shape)} {tname}")
                    ok = False
                    continue
                got = data[e["offset"]:e["offset"] + e["bytes"]].view(npdt).reshape(ref.shape)
                if got.tobytes() != ref.tobytes():
                    diff = np.nonzero(got.view(np.uint32 if dt == "f32" else np.uint16).ravel() !=
                                      ref.view(np.uint32 if dt == "f32" else np.uint16).ravel())[0]
                    i = int(diff[0])
                    print(f"FAIL: {os.path.basename(path)} {t.name} ({tname}) --dtype {dt}: {diff.size} of "
                          f"{ref.size} differ, first at {i}: m2w {got.ravel()[i]!r} vs gguf-py {ref.ravel()[i]!r}")
                    ok = False
            s = seen.setdefault(tname, [0, 0, 0])
            s[0] += ok
            s[1] += 1
            s[2] += want.size
            bad += not ok
    for tn in SUPPORTED:
        if tn not in seen:
            print(f"FAIL: no tensor of type {tn} was produced")
            bad += 1
    for tn, (ok, n, elems) in sorted(seen.items(), key=lambda kv: SUPPORTED.index(kv[0]) if kv[0] in SUPPORTED else 99):
        print(f"{tn:5s}: {ok}/{n} tensors ({elems} values) bit-identical to gguf-py, f32 and f16 output")
    total = sum(v[1] for v in seen.values())
    good = sum(v[0] for v in seen.values())
    print(f"{good}/{total} tensors in {len(files)} files match; {len([t for t in SUPPORTED if t in seen])}/"
          f"{len(SUPPORTED)} supported types covered")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
