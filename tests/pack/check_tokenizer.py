#!/usr/bin/python3
"""tokenizer.json of m2w-pack against gguf-py on every ggml-vocab-*.gguf.

usage: check_tokenizer.py M2W_PACK WORK_DIR

The vocabulary files are llama.cpp's models/ggml-vocab-*.gguf (19 in the
pinned release) from $M2W_CACHE/llama.cpp (tests/conformance/gguf/fetch.sh);
exits 77 (skip) without them.  For each file, what gguf-py's GGUFReader
reads must equal tokenizer.json: model, pre, the token count and every
token, scores (as f32 bits), token types, merges, every *_token_id (special
ids), every add_*_token flag, the other scalar tokenizer.ggml.* keys, the
chat templates and the precompiled charsmap.
"""
import base64
import glob
import json
import multiprocessing
import os
import subprocess
import sys

import numpy as np

SHORT = {"unknown": "unk", "seperator": "sep", "separator": "sep", "padding": "pad"}


def one(job):
    """(summary line, [failures]) for one vocabulary file."""
    pack, work, llama, path = job
    sys.path.insert(0, os.path.join(llama, "gguf-py"))
    import gguf

    base = os.path.basename(path)
    out = os.path.join(work, base[:-5])
    p = subprocess.run([pack, path, "-o", out], capture_output=True, text=True)
    if p.returncode != 0:
        return f"{base:34} m2w-pack failed", [f"{base}: m2w-pack failed: {p.stderr.strip()}"]
    tok = json.load(open(os.path.join(out, "tokenizer.json"), encoding="utf-8"))
    f = gguf.GGUFReader(path).fields
    bad = []

    def eq(what, got, want):
        if got != want:
            bad.append(f"{base}: {what}: {str(got)[:80]} vs gguf-py {str(want)[:80]}")

    eq("model", tok.get("model"), f["tokenizer.ggml.model"].contents())
    eq("pre", tok.get("pre"), f["tokenizer.ggml.pre"].contents() if "tokenizer.ggml.pre" in f else None)
    tokens = f["tokenizer.ggml.tokens"].contents()
    eq("vocab_size", tok.get("vocab_size"), len(tokens))
    eq("token count", len(tok.get("tokens", [])), len(tokens))
    if tok.get("tokens") != tokens:
        diff = [i for i, (a, b) in enumerate(zip(tok.get("tokens", []), tokens)) if a != b]
        bad.append(f"{base}: tokens differ at {diff[:5]}")
    if "tokenizer.ggml.scores" in f:
        want = np.array(f["tokenizer.ggml.scores"].contents(), dtype=np.float32)
        got = np.array([np.nan if v is None else v for v in tok.get("scores", [])], dtype=np.float32)
        if got.shape != want.shape or not np.array_equal(got.view(np.uint32), want.view(np.uint32)):
            bad.append(f"{base}: scores differ")
    else:
        eq("scores", "scores" in tok, False)
    if "tokenizer.ggml.token_type" in f:
        eq("token types", tok.get("token_types"), f["tokenizer.ggml.token_type"].contents())
    if "tokenizer.ggml.merges" in f:
        want = f["tokenizer.ggml.merges"].contents()
        eq("merge count", len(tok.get("merges", [])), len(want))
        eq("merges equal", tok.get("merges") == want, True)
    special = {}
    for k, fld in f.items():
        if k.startswith("tokenizer.ggml.") and k.endswith("_token_id"):
            n = k[len("tokenizer.ggml."):-len("_token_id")]
            special[SHORT.get(n, n)] = fld.contents()
        elif k.startswith("tokenizer.ggml.add_") and k.endswith("_token"):
            eq(k, tok.get(k[len("tokenizer.ggml."):-len("_token")]), fld.contents())
        elif k in ("tokenizer.ggml.add_space_prefix", "tokenizer.ggml.remove_extra_whitespaces",
                   "tokenizer.ggml.token_type_count"):
            eq(k, tok.get(k[len("tokenizer.ggml."):]), fld.contents())
        elif k == "tokenizer.chat_template":
            eq(k, tok.get("chat_template"), fld.contents())
        elif k.startswith("tokenizer.chat_template."):
            eq(k, tok.get("chat_templates", {}).get(k[len("tokenizer.chat_template."):]), fld.contents())
        elif k == "tokenizer.ggml.precompiled_charsmap":
            raw = bytes(np.array(fld.contents(), dtype=np.uint8))
            eq(k, base64.b64decode(tok.get("precompiled_charsmap", "")), raw)
    eq("special ids", tok.get("special"), special)
    if "invalid_utf8" in tok:
        bad.append(f"{base}: invalid_utf8 listed for a vocabulary gguf-py decodes strictly")
    line = (f"{base:34} {tok.get('model', '?'):7} {len(tokens):7} {len(tok.get('merges', [])):7}  "
            + " ".join(f"{k}={v}" for k, v in special.items()))
    return line, bad


def main():
    if len(sys.argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    pack, work = sys.argv[1:]
    cache = os.environ.get("M2W_CACHE", "")
    llama = os.path.join(cache, "llama.cpp")
    files = sorted(glob.glob(os.path.join(llama, "models", "ggml-vocab-*.gguf")))
    if not cache or not files or not os.path.isdir(os.path.join(llama, "gguf-py")):
        print("SKIP: no llama.cpp vocab files in $M2W_CACHE (run tests/conformance/gguf/fetch.sh)")
        return 77
    os.makedirs(work, exist_ok=True)
    fails = []
    print(f"{'file':34} {'model':7} {'tokens':>7} {'merges':>7}  special ids", flush=True)
    # gguf-py's reader takes most of a minute on the largest vocabularies
    with multiprocessing.Pool(min(len(files), os.cpu_count() or 1)) as pool:
        for line, bad in pool.imap(one, [(pack, work, llama, p) for p in files]):
            print(line, flush=True)
            fails += bad
    for x in fails:
        print("FAIL:", x)
    nbad = len({x.split(":")[0] for x in fails})
    print(f"{len(files)} vocab files, {len(files) - nbad} equal to gguf-py")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
