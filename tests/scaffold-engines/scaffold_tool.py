#!/usr/bin/python3
"""m2w-scaffold's golden and must-fail tests.

usage: scaffold_tool.py M2W_SCAFFOLD golden|must-fail [SHADERS.ts]
       scaffold_tool.py M2W_SCAFFOLD --regenerate    (rewrites golden/)

The model is made here, with /usr/bin/python3's onnx (no binary blob in
git): tiny_cnn.onnx, an input x [N, 3, 8, 8] with a symbolic batch N,
Conv (bias) -> Relu -> MaxPool -> Reshape (a view) -> MatMul -> Add ->
Softmax, a second output (the Relu), and one node of a made-up domain op
that no library shader implements (a stub that throws).  Weights come from
a fixed formula, so the bytes do not depend on a random generator.

golden: scaffold with --dim N=1 into two folders: byte-identical outputs;
engine.ts, types.ts and report.json equal golden/ (a change in m2w-scaffold's
output shows in review: regenerate with --regenerate and commit the diff);
a second run into the same folder leaves every mtime alone (write-if-changed);
with SHADERS.ts (m2w-shadergen's library), the draft type-checks under the
packages' strict tsconfig (templates/package/tsconfig.json) with tsc from
templates/toolchain.

must-fail: unbound symbolic dim, bad --dim syntax, --dim for a name the
model lacks, a truncated model, a non-ONNX file, an output folder that
cannot be made: each exits 1 (bad input, I/O) or 2 (usage) with
"m2w-scaffold: FILE:0xOFFSET: error: ..." (FILE: error for I/O), the
offset inside the file, and writes nothing.  Then 64 seeded corruptions
(prefixes, bit flips): exit 0 or 1 with FILE:0xOFFSET, never a crash.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
GOLDEN = os.path.join(HERE, "golden")
FILES = ("engine.ts", "types.ts", "report.json")


def make_model(path):
    try:
        import numpy as np
        from onnx import TensorProto, helper, numpy_helper
    except ImportError:
        print("skip: /usr/bin/python3 lacks numpy or onnx (python3-numpy, python3-onnx)")
        sys.exit(77)

    def weight(name, shape, scale):
        n = int(np.prod(shape))
        v = ((np.arange(n) * 7 % 11) - 5).astype(np.float32) * np.float32(scale)
        return numpy_helper.from_array(v.reshape(shape), name)

    inits = [
        weight("conv.w", (4, 3, 3, 3), 0.05), weight("conv.b", (4,), 0.1),
        numpy_helper.from_array(np.array([1, 64], dtype=np.int64), "flat.shape"),
        weight("fc.w", (64, 10), 0.02), weight("fc.b", (10,), 0.01),
    ]
    nodes = [
        helper.make_node("Conv", ["x", "conv.w", "conv.b"], ["conv"], name="conv", pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["conv"], ["relu"], name="relu"),
        helper.make_node("MaxPool", ["relu"], ["pool"], name="pool", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Reshape", ["pool", "flat.shape"], ["flat"], name="flat"),
        helper.make_node("MatMul", ["flat", "fc.w"], ["fc"], name="fc"),
        helper.make_node("Add", ["fc", "fc.b"], ["logits"], name="logits"),
        helper.make_node("Softmax", ["logits"], ["probs"], name="probs", axis=-1),
        helper.make_node("Mystery", ["probs"], ["odd"], name="mystery", domain="org.m2w.test"),
    ]
    graph = helper.make_graph(
        nodes, "tiny_cnn",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 8, 8])],
        [helper.make_tensor_value_info("probs", TensorProto.FLOAT, [1, 10]),
         helper.make_tensor_value_info("relu", TensorProto.FLOAT, [1, 4, 8, 8]),
         helper.make_tensor_value_info("odd", TensorProto.FLOAT, [1, 10])],
        inits)
    model = helper.make_model(graph, producer_name="m2w-tests", ir_version=8,
                              opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("org.m2w.test", 1)])
    with open(path, "wb") as f:
        f.write(model.SerializeToString())


# M2W_MUST_FAIL_AS_MB=N (the 'ulimit' test setup): a must-fail run gets the
# model's size plus N MiB of address space, as tests/must-fail/run.py does,
# so an allocation sized from a bad count fails visibly; 4 GiB otherwise
# (not under ASan, whose shadow memory needs far more).
AS_BOUND = int(os.environ.get("M2W_MUST_FAIL_AS_MB", "0") or 0) << 20


def scaffold(tool, *args, model=None):
    def limit():
        import resource
        lim = 4 << 30
        if AS_BOUND and model and os.path.exists(model):
            lim = os.path.getsize(model) + AS_BOUND
        if "ASAN_OPTIONS" not in os.environ:
            resource.setrlimit(resource.RLIMIT_AS, (lim, lim))
    return subprocess.run([tool, *args], capture_output=True, text=True, preexec_fn=limit if model else None)


def read(d, f):
    with open(os.path.join(d, f), "rb") as fh:
        return fh.read()


def golden(tool, tmp, regenerate, shaders=None):
    model = os.path.join(tmp, "tiny_cnn.onnx")
    make_model(model)
    a, b = os.path.join(tmp, "a"), os.path.join(tmp, "b")
    for d in (a, b):
        r = scaffold(tool, "--dim", "N=1", model, "-o", d)
        if r.returncode != 0:
            print(f"FAIL: m2w-scaffold exit {r.returncode}: {r.stderr.strip()}")
            return 1
    if regenerate:
        os.makedirs(GOLDEN, exist_ok=True)
        for f in FILES:
            shutil.copyfile(os.path.join(a, f), os.path.join(GOLDEN, f))
        print(f"wrote {', '.join(FILES)} into {GOLDEN}")
        return 0
    fails = 0
    for f in FILES:
        if read(a, f) != read(b, f):
            print(f"FAIL: two runs wrote different {f}")
            fails += 1
        if not os.path.exists(os.path.join(GOLDEN, f)):
            print(f"FAIL: golden/{f} missing (regenerate: see the usage)")
            fails += 1
            continue
        if read(a, f) != read(GOLDEN, f):
            d = subprocess.run(["diff", "-u", os.path.join(GOLDEN, f), os.path.join(a, f)], capture_output=True, text=True)
            print(f"FAIL: {f} differs from golden/{f} (an intended change: rerun with --regenerate and commit):")
            print("\n".join(d.stdout.splitlines()[:60]))
            fails += 1
        else:
            print(f"ok: {f} ({len(read(a, f))} bytes) equals golden/{f}")
    # write-if-changed: a no-op re-run touches nothing
    before = {f: os.stat(os.path.join(a, f)).st_mtime_ns for f in FILES}
    os.utime(model, None)
    r = scaffold(tool, "--dim", "N=1", model, "-o", a)
    after = {f: os.stat(os.path.join(a, f)).st_mtime_ns for f in FILES}
    if r.returncode != 0 or before != after:
        print(f"FAIL: a no-op re-run (exit {r.returncode}) changed mtimes: {before} -> {after}")
        fails += 1
    else:
        print("ok: a no-op re-run left all three mtimes alone")
    if sorted(os.listdir(a)) != sorted(FILES):
        print(f"FAIL: leftovers in the output folder: {sorted(os.listdir(a))}")
        fails += 1
    fails += typecheck(a, tmp, shaders)
    return 1 if fails else 0


def typecheck(draft, tmp, shaders):
    root = os.environ.get("M2W_SOURCE_ROOT") or os.path.normpath(os.path.join(HERE, "..", ".."))
    tsc = os.path.join(root, "templates", "toolchain", "node_modules", ".bin", "tsc")
    if not shaders or not os.path.exists(tsc):
        print("note: no strict tsc check (needs SHADERS.ts and templates/toolchain's tsc)")
        return 0
    d = os.path.join(tmp, "tsc")
    shutil.copytree(os.path.join(root, "templates", "runtime"), os.path.join(d, "src", "runtime"))
    for f in ("engine.ts", "types.ts"):
        shutil.copyfile(os.path.join(draft, f), os.path.join(d, "src", f))
    shutil.copyfile(shaders, os.path.join(d, "src", "shaders.ts"))
    shutil.copyfile(os.path.join(root, "templates", "package", "tsconfig.json"), os.path.join(d, "tsconfig.json"))
    os.symlink(os.path.join(root, "templates", "toolchain", "node_modules"), os.path.join(d, "node_modules"))
    r = subprocess.run([tsc, "-p", d], capture_output=True, text=True)
    if r.returncode != 0:
        print("FAIL: the draft does not type-check under templates/package/tsconfig.json:")
        print("\n".join((r.stdout + r.stderr).splitlines()[:20]))
        return 1
    print("ok: the draft type-checks (strict, noUncheckedIndexedAccess) with the runtime and the shaders")
    return 0


ERR = re.compile(r"^m2w-scaffold: (?P<file>.+?):0x(?P<off>[0-9a-f]+): error: (?P<what>.+)$")


def must_fail(tool, tmp):
    model = os.path.join(tmp, "tiny_cnn.onnx")
    make_model(model)
    blob = read(tmp, "tiny_cnn.onnx")
    truncated = os.path.join(tmp, "truncated.onnx")
    with open(truncated, "wb") as f:
        f.write(blob[: len(blob) * 2 // 3])
    text = os.path.join(tmp, "notes.onnx")
    with open(text, "w") as f:
        f.write("this is not a model\n" * 4)
    gguf = os.path.join(tmp, "tiny.gguf")
    with open(gguf, "wb") as f:
        f.write(b"GGUF" + bytes([3, 0, 0, 0]) + bytes(16))
    blocker = os.path.join(tmp, "a-file")
    with open(blocker, "w") as f:
        f.write("x")
    out = os.path.join(tmp, "out")
    # (what, args, exit code, file the message names or None for usage, pattern in the message)
    cases = [
        ("unbound symbolic dim", [model, "-o", out], 1, model, r"input 'x' dim 0 is symbolic \('N'\).*--dim N=VALUE"),
        ("--dim without '='", ["--dim", "N", model, "-o", out], 2, None, r"--dim wants NAME=VALUE"),
        ("--dim with no name", ["--dim", "=1", model, "-o", out], 2, None, r"--dim wants NAME=VALUE"),
        ("--dim not a number", ["--dim", "N=one", model, "-o", out], 2, None, r"--dim N=one: the value must be an integer"),
        ("--dim negative", ["--dim", "N=-1", model, "-o", out], 2, None, r"the value must be an integer"),
        ("--dim for a missing name", ["--dim", "N=1", "--dim", "batch=2", model, "-o", out], 1, model,
         r"--dim batch: no graph input has a symbolic dim of that name"),
        ("truncated model", ["--dim", "N=1", truncated, "-o", out], 1, truncated, r"."),
        ("not a model (text)", [text, "-o", out], 1, text, r"."),
        ("not ONNX (GGUF)", [gguf, "-o", out], 1, gguf, r"gguf models are not supported"),
        ("missing model", [os.path.join(tmp, "nope.onnx"), "-o", out], 1, os.path.join(tmp, "nope.onnx"), r"."),
        ("no -o", ["--dim", "N=1", model], 2, None, r"expected one MODEL and -o DIR"),
    ]
    fails = 0
    for what, args, code, file, pat in cases:
        r = scaffold(tool, *args, model=file or model)
        msg = r.stderr.strip().splitlines()[-1] if r.stderr.strip() else ""
        bad = []
        if r.returncode != code:
            bad.append(f"exit {r.returncode}, want {code}")
        if file is not None:
            m = ERR.match(msg)
            size = os.path.getsize(file) if os.path.exists(file) else 0
            if not m and "nope" not in file:
                bad.append("no FILE:0xOFFSET: error: message")
            elif m and (m["file"] != file or int(m["off"], 16) > max(size, 0)):
                bad.append(f"names {m['file']}:0x{m['off']}, want {file} and an offset within its {size} bytes")
            elif m and file == model and blob[int(m["off"], 16):int(m["off"], 16) + 3] != b"\n\x01x":
                bad.append("the offset is not input x's ValueInfoProto (field 1, name 'x')")
            if "nope" in file and file not in msg:
                bad.append("the message does not name the file")
        if not re.search(pat, msg):
            bad.append(f"message lacks /{pat}/")
        if os.path.exists(out):
            bad.append("it wrote output")
            shutil.rmtree(out)
        if "Segmentation" in r.stderr or r.returncode < 0:
            bad.append("crashed")
        print(f"{'FAIL' if bad else 'ok'}: {what}: exit {r.returncode}: {msg}" + (f"  [{'; '.join(bad)}]" if bad else ""))
        fails += bool(bad)
    # seeded corruption sweep: 32 prefixes and 32 one-byte flips of the model
    # exit 0 (a prefix can end on a field boundary) or 1 with FILE:0xOFFSET
    # inside the file, never a crash, a hang or a usage error
    import random
    rnd = random.Random(13)
    bad_runs = 0
    variants = [blob[:len(blob) * k // 33] for k in range(1, 33)]
    for _ in range(32):
        b = bytearray(blob)
        b[rnd.randrange(len(b))] ^= 1 << rnd.randrange(8)
        variants.append(bytes(b))
    corrupt = os.path.join(tmp, "corrupt.onnx")
    for i, v in enumerate(variants):
        with open(corrupt, "wb") as f:
            f.write(v)
        try:
            r = subprocess.run([tool, "--dim", "N=1", corrupt, "-o", out], capture_output=True, text=True,
                               timeout=30, preexec_fn=None)
        except subprocess.TimeoutExpired:
            print(f"FAIL: corruption {i} hangs")
            bad_runs += 1
            continue
        m = ERR.match(r.stderr.strip().splitlines()[-1]) if r.stderr.strip() else None
        if r.returncode not in (0, 1) or (r.returncode == 1 and not (m and m["file"] == corrupt and
                                                                      int(m["off"], 16) <= len(v))):
            print(f"FAIL: corruption {i} ({len(v)} bytes): exit {r.returncode}: {r.stderr.strip()[-300:]}")
            bad_runs += 1
        shutil.rmtree(out, ignore_errors=True)
    print(f"{'FAIL' if bad_runs else 'ok'}: {len(variants)} truncated or bit-flipped models: "
          f"{bad_runs} crashed, hung or lacked FILE:0xOFFSET")
    fails += bool(bad_runs)
    # an output folder that cannot be made or written
    for what, dest in (("output under a file", os.path.join(blocker, "out")),
                       ("output folder missing parent", os.path.join(tmp, "no", "such", "dir"))):
        r = scaffold(tool, "--dim", "N=1", model, "-o", dest, model=model)
        msg = r.stderr.strip()
        ok = r.returncode == 1 and dest in msg and "error:" in msg
        print(f"{'ok' if ok else 'FAIL'}: {what}: exit {r.returncode}: {msg}")
        fails += not ok
    return 1 if fails else 0


def main():
    if len(sys.argv) not in (3, 4) or sys.argv[2] not in ("golden", "must-fail", "--regenerate"):
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    tool = sys.argv[1]
    with tempfile.TemporaryDirectory(prefix="m2w-scaffold-") as tmp:
        if sys.argv[2] == "must-fail":
            return must_fail(tool, tmp)
        return golden(tool, tmp, sys.argv[2] == "--regenerate", sys.argv[3] if len(sys.argv) == 4 else None)


if __name__ == "__main__":
    sys.exit(main())
