#!/usr/bin/python3
"""The packed Q8_0 / Q4_0 layouts read on the GPU (headless Chromium's
WebGPU, SwiftShader) must equal m2w-pack --unpack, bit for bit.

usage: check_wgsl.py M2W_PACK PACK_SHADERS.ts WORK_DIR

Packs the suite's Q8_0 and Q4_0 --pure llamas (models.py), writes --unpack
of every q8_0 / q4_0 tensor, then run-wgsl.mjs serves the shard bytes and
the expected floats to a page that runs unpack_q8.wgsl / unpack_q4.wgsl
(and the library's embedding_lookup_q8.wgsl on token_embd) through
tests/shaders/harness.js.  Exit 77 (skip) without llama.cpp, llama-quantize,
node or playwright-core.
"""
import json
import os
import shutil
import subprocess
import sys

from models import make_models, run, skip

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    pack, shaders, work = sys.argv[1:]
    node = shutil.which("node")
    if not node:
        skip("node not found")
    if not os.path.exists("/usr/bin/chromium"):
        skip("no /usr/bin/chromium")
    _, models = make_models(work, labels=["Q8_0", "Q4_0-pure"])
    dirs = []
    for label in ["Q8_0", "Q4_0-pure"]:
        d = os.path.join(work, f"wgsl-{label}")
        shutil.rmtree(d, ignore_errors=True)
        run([pack, models[label], "-o", d])
        os.makedirs(os.path.join(d, "unpack"))
        m = json.load(open(os.path.join(d, "shards.json")))
        for t in m["tensors"]:
            if t.get("dtype") in ("q8_0", "q4_0"):
                run([pack, "--unpack", os.path.join(d, "unpack", t["name"] + ".npy"), t["name"], d])
        dirs.append(d)
    p = subprocess.run([node, os.path.join(HERE, "run-wgsl.mjs"), shaders, *dirs])
    return p.returncode


if __name__ == "__main__":
    sys.exit(main())
