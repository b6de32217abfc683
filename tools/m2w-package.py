#!/usr/bin/env python3
"""m2w-package: the last two steps of a model pipeline.

  m2w-package bundle --templates TDIR --toolchain NODE_MODULES --stage DIR
                     [--src FILE]... [--gen FILE]... -o DIST.json
      Stages a TypeScript package source tree in DIR:
          DIR/src/<file>          each --src (the model's hand-written
                                  src/*.ts) and --gen (generated: shaders.ts)
          DIR/src/runtime/*.ts    TDIR/runtime/*.ts, the shared runtime
          DIR/tsconfig.json, DIR/tsup.config.ts   from TDIR/package/
          DIR/node_modules        a link to NODE_MODULES (tsup, typescript)
      runs tsup there (ESM, .d.ts, minified, tree-shaken) and copies the
      result into dist/ beside DIST.json, each file only when its bytes
      change (stale ones removed).  DIST.json lists the files with their
      sizes, gzip -9 sizes and sha256; it too is written only when it
      changes, so an edit that does not change the bundle prunes the tarball
      step (Ninja restat).

  m2w-package pack --templates TDIR --dist DIST.json --name NAME
                   --version V [--description D] [--license L]
                   [--weights FILE]... [--file FILE]... --stage DIR -o PKG.tgz
      Stages package.json (TDIR/package/package.json.in with @NAME@,
      @VERSION@, @DESCRIPTION@, @LICENSE@ replaced), README.md (from
      README.md.in), dist/ (from beside DIST.json), weights/<file> for each
      --weights and <file> for each --file, then runs `npm pack` and writes
      the tarball to PKG.tgz only when its bytes change.  npm pack fixes
      mtimes and order, so equal inputs give a byte-identical tarball.

Exit status: 0 success, 1 error, 2 usage error.  Python because it drives
Node tools; Meson already needs Python 3.
"""
import argparse
import gzip
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

PROG = "m2w-package"
VERSION = "0.1.0"


def die(msg, code=1):
    print(f"{PROG}: {msg}", file=sys.stderr)
    sys.exit(code)


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except OSError as e:
        die(f"{path}: error: {e.strerror}")


def write_if_changed(path, data):
    try:
        with open(path, "rb") as f:
            if f.read() == data:
                return False
    except FileNotFoundError:
        pass
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)),
                               prefix=os.path.basename(path) + ".tmp.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    return True


def sync_dir(src, dst):
    """dst := src, file by file, unchanged files untouched, stale ones removed."""
    keep = set()
    for root, _, files in os.walk(src):
        for fn in files:
            rel = os.path.relpath(os.path.join(root, fn), src)
            keep.add(rel)
            write_if_changed(os.path.join(dst, rel), read(os.path.join(root, fn)))
    if os.path.isdir(dst):
        for root, _, files in os.walk(dst):
            for fn in files:
                rel = os.path.relpath(os.path.join(root, fn), dst)
                if rel not in keep:
                    os.unlink(os.path.join(dst, rel))
    return sorted(keep)


READ = []  # files read that are not on the command line, for --depfile


def depfile(a):
    if not a.depfile:
        return
    esc = lambda p: p.replace("\\", "\\\\").replace(" ", "\\ ").replace("#", "\\#").replace("$", "$$")
    text = esc(a.output) + ":" + "".join(" \\\n " + esc(p) for p in sorted(set(READ))) + "\n"
    write_if_changed(a.depfile, text.encode())


def run(argv, cwd, what):
    p = subprocess.run(argv, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if p.returncode != 0:
        die(f"{what} failed ({p.returncode}) in {cwd}:\n{p.stdout}")
    return p.stdout


def bundle(a):
    tool = os.path.join(a.toolchain, ".bin", "tsup")
    if not os.path.exists(tool):
        die(f"{tool}: error: tsup is not installed; fix: run `npm ci` in "
            f"{os.path.dirname(os.path.abspath(a.toolchain))} (tools/bootstrap.sh does)")
    stage = a.stage
    src = os.path.join(stage, "src")
    want = set()
    for f in (a.src or []) + (a.gen or []):
        rel = os.path.basename(f)
        if rel in want:
            die(f"{f}: error: two source files named {rel}")
        want.add(rel)
        write_if_changed(os.path.join(src, rel), read(f))
    rt = os.path.join(a.templates, "runtime")
    for fn in sorted(os.listdir(rt)):
        if fn.endswith(".ts"):
            want.add("runtime/" + fn)
            READ.append(os.path.abspath(os.path.join(rt, fn)))
            write_if_changed(os.path.join(src, "runtime", fn), read(os.path.join(rt, fn)))
    for root, _, files in os.walk(src):  # sources removed from the model
        for fn in files:
            rel = os.path.relpath(os.path.join(root, fn), src)
            if rel not in want:
                os.unlink(os.path.join(root, fn))
    for fn in ("tsconfig.json", "tsup.config.ts"):
        READ.append(os.path.abspath(os.path.join(a.templates, "package", fn)))
        write_if_changed(os.path.join(stage, fn), read(os.path.join(a.templates, "package", fn)))
    # an ES module package, so tsup names its output index.js / index.d.ts
    write_if_changed(os.path.join(stage, "package.json"),
                     b'{"private": true, "type": "module", "sideEffects": false}\n')
    nm = os.path.join(stage, "node_modules")
    target = os.path.abspath(a.toolchain)
    if os.path.islink(nm) and os.readlink(nm) != target:
        os.unlink(nm)
    if not os.path.lexists(nm):
        os.symlink(target, nm)
    shutil.rmtree(os.path.join(stage, "dist"), ignore_errors=True)
    run([tool, "--silent"], stage, "tsup")
    out_dir = os.path.join(os.path.dirname(os.path.abspath(a.output)), "dist")
    files = sync_dir(os.path.join(stage, "dist"), out_dir)
    listing = []
    for rel in files:
        data = read(os.path.join(out_dir, rel))
        listing.append({"file": rel, "bytes": len(data),
                        "gzip": len(gzip.compress(data, 9, mtime=0)),
                        "sha256": hashlib.sha256(data).hexdigest()})
    js = [f for f in listing if f["file"].endswith(".js")]
    doc = {"dist": "dist", "files": listing,
           "js_bytes": sum(f["bytes"] for f in js), "js_gzip": sum(f["gzip"] for f in js)}
    write_if_changed(a.output, (json.dumps(doc, indent=1) + "\n").encode())


def pack(a):
    if not a.name or not a.version:
        die("pack needs --name and --version", 2)
    stage = a.stage
    shutil.rmtree(stage, ignore_errors=True)
    os.makedirs(stage)
    subst = {"@NAME@": a.name, "@VERSION@": a.version,
             "@DESCRIPTION@": a.description or "", "@LICENSE@": a.license or "MIT"}
    for tmpl, out in (("package.json.in", "package.json"), ("README.md.in", "README.md")):
        p = os.path.join(a.templates, "package", tmpl)
        if not os.path.exists(p):
            continue
        READ.append(os.path.abspath(p))
        text = read(p).decode()
        for k, v in subst.items():
            text = text.replace(k, json.dumps(v)[1:-1] if tmpl.endswith(".json.in") else v)
        with open(os.path.join(stage, out), "w") as f:
            f.write(text)
    dist_dir = os.path.join(os.path.dirname(os.path.abspath(a.dist)), "dist")
    doc = json.loads(read(a.dist))
    for f in doc["files"]:
        data = read(os.path.join(dist_dir, f["file"]))
        if hashlib.sha256(data).hexdigest() != f["sha256"]:
            die(f"{os.path.join(dist_dir, f['file'])}: error: differs from {a.dist}; "
                f"fix: rebuild the bundle step")
        write_if_changed(os.path.join(stage, "dist", f["file"]), data)
    for w in a.weights or []:
        write_if_changed(os.path.join(stage, "weights", os.path.basename(w)), read(w))
    for x in a.file or []:
        write_if_changed(os.path.join(stage, os.path.basename(x)), read(x))
    outdir = tempfile.mkdtemp(dir=os.path.dirname(os.path.abspath(a.output)), prefix=".npm-pack.")
    try:
        env_cache = os.path.join(os.path.dirname(os.path.abspath(a.output)), ".npm-cache")
        p = subprocess.run(["npm", "pack", "--silent", "--json", "--pack-destination", outdir,
                            "--cache", env_cache],
                           cwd=stage, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if p.returncode != 0:
            die(f"npm pack failed ({p.returncode}) in {stage}:\n{p.stderr}")
        made = [f for f in os.listdir(outdir) if f.endswith(".tgz")]
        if len(made) != 1:
            die(f"npm pack in {stage} made {made}, expected one tarball")
        write_if_changed(a.output, read(os.path.join(outdir, made[0])))
    finally:
        shutil.rmtree(outdir, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(prog=PROG, description="Stage, bundle (tsup) and pack (npm) "
                                 "a model's TypeScript package.", epilog=__doc__.split("\n\n", 1)[1],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("step", choices=["bundle", "pack"])
    ap.add_argument("--templates", required=True, help="m2w's templates/ folder")
    ap.add_argument("--toolchain", help="bundle: node_modules holding tsup and typescript")
    ap.add_argument("--stage", required=True, help="a private scratch folder for the step")
    ap.add_argument("--src", action="append", help="bundle: a hand-written source file")
    ap.add_argument("--gen", action="append", help="bundle: a generated source file")
    ap.add_argument("--dist", help="pack: the bundle step's DIST.json")
    ap.add_argument("--name", help="pack: the npm package name")
    ap.add_argument("--version", dest="pkg_version", help="pack: the package version")
    ap.add_argument("--description")
    ap.add_argument("--license")
    ap.add_argument("--weights", action="append", help="pack: a weights file (under weights/)")
    ap.add_argument("--file", action="append", help="pack: a file for the package root")
    ap.add_argument("-o", "--output", required=True)
    ap.add_argument("--depfile", help="write a make-style depfile of the templates read")
    ap.add_argument("-V", action="version", version=f"{PROG} {VERSION}")
    a = ap.parse_args()
    a.version = a.pkg_version
    if a.step == "bundle":
        if not a.toolchain:
            die("bundle needs --toolchain", 2)
        bundle(a)
    else:
        if not a.dist:
            die("pack needs --dist", 2)
        pack(a)
    depfile(a)
    return 0


if __name__ == "__main__":
    sys.exit(main())
