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

      Before staging, every --weights manifest is checked against its data:
      an m2w-extract weights.json against its blob (the --weights file, or
      the file beside it, with the manifest's name and .bin), an m2w-pack
      shards.json against its shard files: sizes and the recorded xxh3
      (through libxxhash, the library the C tools use).  Each file of a
      pair is written atomically, but a build killed between the two can
      leave an old manifest beside a new blob of the same size: such a pair
      is refused (FILE:0xOFFSET: error ...; fix: re-run the build) instead
      of shipped.  `m2w-pack --verify MANIFEST` is the same check.

Exit status: 0 success, 1 error, 2 usage error.  Python because it drives
Node tools; Meson already needs Python 3.
"""
import argparse
import ctypes
import ctypes.util
import gzip
import hashlib
import json
import mmap
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


_XXH = []


def xxh3_hex(path, off, n):
    """The xxh3-64 (hex, as the C tools write it) of n bytes of path at off,
    None when libxxhash cannot be loaded."""
    if not _XXH:
        lib = None
        for name in (ctypes.util.find_library("xxhash"), "libxxhash.so.0", "libxxhash.dylib"):
            try:
                lib = ctypes.CDLL(name) if name else None
            except OSError:
                lib = None
            if lib is not None:
                lib.XXH3_64bits.restype = ctypes.c_uint64
                lib.XXH3_64bits.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
                break
        _XXH.append(lib)
    lib = _XXH[0]
    if lib is None:
        return None
    if n == 0:
        return f"{lib.XXH3_64bits(None, 0):016x}"
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY) as mm:
        buf = (ctypes.c_char * n).from_buffer(mm, off)  # copy-on-write map: no copy
        try:
            return f"{lib.XXH3_64bits(ctypes.addressof(buf), n):016x}"
        finally:
            del buf


def verify_weights(weights):
    """Refuses a manifest among the --weights whose data files disagree with
    it (sizes, xxh3): a pair torn by a build killed between its two files."""
    fix = "the two were written by different runs (a build killed between them); fix: re-run the build"
    given = {os.path.abspath(w) for w in weights}
    for m in weights:
        if not m.endswith(".json"):
            continue
        try:
            doc = json.loads(read(m))
        except ValueError:
            continue  # not a manifest: shipped as it is
        if not isinstance(doc, dict):
            continue
        ranges = []  # (data file, offset, bytes, xxh3, whole file)
        mdir = os.path.dirname(os.path.abspath(m))
        if isinstance(doc.get("shards"), list) and doc.get("format") == "m2w-pack":
            ends = {}
            for sh in doc["shards"]:
                f = sh.get("file") if isinstance(sh, dict) else None
                if not isinstance(f, str) or "/" in f or f.startswith(".") or not f:
                    die(f"{m}: error: a shard without a plain \"file\" name")
                p = os.path.join(mdir, f)
                ranges.append((p, sh.get("offset"), sh.get("bytes"), sh.get("xxh3"), False))
                if isinstance(sh.get("offset"), int) and isinstance(sh.get("bytes"), int):
                    ends[p] = max(ends.get(p, 0), sh["offset"] + sh["bytes"])
            for p, end in ends.items():
                if os.path.exists(p) and os.path.getsize(p) != end:
                    die(f"{p}:0x{end:x}: error: the file is {os.path.getsize(p)} bytes, its last "
                        f"shard in {m} ends at {end}; {fix}")
        elif isinstance(doc.get("tensors"), list) and isinstance(doc.get("xxh3"), str):
            blob = os.path.splitext(os.path.abspath(m))[0] + ".bin"
            if blob not in given and not os.path.exists(blob):
                continue  # no blob of that name: nothing to pair it with
            ranges.append((blob, 0, doc.get("bytes"), doc["xxh3"], True))
        for p, off, n, want, whole in ranges:
            if not isinstance(off, int) or not isinstance(n, int) or off < 0 or n < 0 \
                    or not isinstance(want, str):
                die(f"{m}: error: no valid offset, bytes and xxh3 for {p}")
            try:
                size = os.path.getsize(p)
            except OSError as e:
                die(f"{p}: error: {e.strerror} (named by {m})")
            if off + n > size or (whole and off + n != size):
                die(f"{p}:0x{min(size, off + n):x}: error: the file is {size} bytes, {m} says "
                    f"{n} at 0x{off:x}; {fix}")
            have = xxh3_hex(p, off, n)
            if have is None:
                print(f"{PROG}: warning: libxxhash not found: {m} not checked against {p}",
                      file=sys.stderr)
                return
            if have != want:
                die(f"{p}:0x{off:x}: error: {n} bytes hash to xxh3 {have}, {m} records {want}; {fix}")


def pack(a):
    if not a.name or not a.version:
        die("pack needs --name and --version", 2)
    verify_weights(a.weights or [])
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
