"""The pack suite's test models: gen_llama.py's seeded f32 llama quantized
by llama-quantize (Q8_0, Q4_0, Q4_0 --pure, F16, Q4_K_M).  Shared by
check_pack.py and check_wgsl.py; a missing llama.cpp checkout or
llama-quantize is a skip (exit 77) naming what to run."""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
QUANTS = [("Q8_0", ["Q8_0"]), ("Q4_0", ["Q4_0"]), ("Q4_0-pure", ["--pure", "Q4_0"]),
          ("F16", ["F16"]), ("Q4_K_M", ["Q4_K_M"])]


def skip(why):
    print(f"SKIP: {why}")
    sys.exit(77)


def run(argv, ok=True):
    p = subprocess.run([str(a) for a in argv], capture_output=True, text=True)
    if ok and p.returncode != 0:
        sys.exit(f"{' '.join(map(str, argv))} failed ({p.returncode}):\n{p.stderr}")
    return p


def make_models(work, labels=None):
    """-> (the gguf module, {label: path}), the f32 source under "f32"."""
    cache = os.environ.get("M2W_CACHE", "")
    gguf_py = os.path.join(cache, "llama.cpp", "gguf-py")
    vocab = os.path.join(cache, "llama.cpp", "models", "ggml-vocab-llama-spm.gguf")
    quant = os.path.join(cache, "llama-build", "bin", "llama-quantize")
    if not cache or not os.path.isdir(gguf_py) or not os.path.exists(vocab):
        skip("no llama.cpp in $M2W_CACHE (run tests/conformance/gguf/fetch.sh)")
    if not os.access(quant, os.X_OK):
        skip(f"no llama-quantize at {quant} (run tests/extract/build_quantize.sh)")
    sys.path.insert(0, gguf_py)
    import gguf

    gen = os.path.join(work, "gen")
    os.makedirs(gen, exist_ok=True)
    run([sys.executable, os.path.join(HERE, "gen_llama.py"), gguf_py, vocab, gen])
    src = os.path.join(gen, "tiny-llama-f32.gguf")
    models = {"f32": src, "dup": os.path.join(gen, "dup-f16.gguf")}
    for label, qargs in QUANTS:
        if labels and label not in labels:
            continue
        dst = os.path.join(gen, f"tiny-llama-{label}.gguf")
        flags = [a for a in qargs if a.startswith("--")]
        typ = [a for a in qargs if not a.startswith("--")]
        run([quant, *flags, src, dst, *typ, "2"])
        models[label] = dst
    return gguf, models
