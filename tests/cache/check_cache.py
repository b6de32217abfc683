#!/usr/bin/python3
"""The content-addressed result cache (--cache-dir) of m2w-extract and m2w-pack.

usage: check_cache.py M2W_EXTRACT M2W_PACK WORK_DIR

Real inputs: the vendored MediaPipe face detector
(subprojects/face-detection/face_detection_short_range.tflite, under
$M2W_SOURCE_ROOT), a llama.cpp vocabulary GGUF
($M2W_CACHE/llama.cpp/models/ggml-vocab-llama-spm.gguf; its pack cases are
skipped with a message when absent) and an ONNX model with external data
written by python3-onnx (skipped when onnx is not importable).

Every output of a hit is compared with the same command run with
--no-cache (the tool's own result), never with a stored expectation:
  a  miss, then hit; identical bytes; one log line a lookup
  b  a hit into a fresh output dir is byte-identical; the depfile of a hit
     equals the depfile of the run
  c  a hit leaves an unchanged output's mtime and inode alone, rewrites a
     changed one; a touched-but-unchanged model hits
  d  a changed weight byte misses (and its output differs); switching back
     hits; --dtype f16 / --layout source / another model name are entries
     of their own; ONNX external data edited -> new variant, reverted ->
     hit; a fresh directory with the same layout hits (relative extras); a
     weights.json blob that is not the one its xxh3 names is refused
  e  a corrupted entry (flipped byte, truncated or missing file, broken
     meta.json) is a miss with a warning, removed and stored again, outputs
     correct; a stale .tmp dir of a killed process is swept
  f  8 concurrent processes on one empty cache dir: all succeed, outputs
     identical, one entry, no .tmp/.del leftovers, 8 log lines (3 rounds of
     m2w-extract; 2 of m2w-pack on ggml-vocab-gemma-4.gguf, slow enough
     that all eight miss and race to store)
  r  reading while another process stores: a slow m2w-pack store (the
     gemma-4 vocabulary, else llama-spm), one more process started every
     sixth of its run time (at most 4 running) until four start after the
     first entry is in place (at most 24 in all), while a scanner thread walks the
     cache dir the whole time: every visible entry it meets is complete
     (meta.json parses, every file it lists has its recorded size), no
     process reports a corrupt entry, all outputs equal the --no-cache
     run; the hits, misses and scans are printed.  In f, too, no process
     may report a corrupt entry (a partial one it read).
  g  the log's hit/miss counts equal the lookups made, per tool
  x  the key follows the executable: a copy hits, a stripped copy hits
     (debug info and build id are not part of it), a copy with one
     changed byte of .rodata misses; $M2W_CACHE_DIR and --no-cache
Exit 1 on any failure.
"""
import json
import os
import shutil
import subprocess
import sys
import threading
import time

FAILS = []
COUNTS = {}


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILS.append(what)
    return cond


def run(cmd, env=None, expect_rc=0):
    e = dict(os.environ)
    e.pop("M2W_CACHE_DIR", None)
    if env:
        e.update(env)
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, env=e)
    if r.returncode != expect_rc:
        print(f"command {' '.join(map(str, cmd))} -> {r.returncode}\n{r.stderr}")
    return r


def read(p):
    with open(p, "rb") as f:
        return f.read()


def write(p, b):
    with open(p, "wb") as f:
        f.write(b)


def log_lines(cache):
    p = os.path.join(cache, "log")
    if not os.path.exists(p):
        return []
    return [l.split(" ") for l in open(p).read().splitlines()]


def entries(cache, tool):
    """[(key, variant)] of the complete entries."""
    d = os.path.join(cache, tool)
    out = []
    if os.path.isdir(d):
        for k in sorted(os.listdir(d)):
            if k.startswith("."):
                continue
            for v in sorted(os.listdir(os.path.join(d, k))):
                out.append((k, v))
    return out


def leftovers(cache):
    found = []
    for root, dirs, files in os.walk(cache):
        found += [os.path.join(root, n) for n in dirs + files if n.startswith(".")]
        found += [os.path.join(root, n) for n in files if ".tmp." in n]
    return found


class Tool:
    """Runs one tool against one cache dir and keeps count of lookups."""

    def __init__(self, exe, cache):
        self.exe, self.cache = exe, cache
        self.name = os.path.basename(exe)

    def __call__(self, args, expect=None, cache=True, extra_env=None):
        cmd = [self.exe] + list(args) + (["--cache-dir", self.cache] if cache else ["--no-cache"])
        r = run(cmd, env=extra_env)
        if cache:
            key = (self.cache, self.name, expect or "any")
            COUNTS[key] = COUNTS.get(key, 0) + 1
        if expect:
            want = f"{self.name}: cache {'hit' if expect == 'hit' else 'miss, stored'} ("
            check(r.returncode == 0 and want in r.stderr,
                  f"{self.name} {' '.join(os.path.basename(str(a)) for a in args)}: {expect}"
                  + ("" if want in r.stderr else f" (stderr: {r.stderr.strip()[:300]})"))
        return r


def same_dir(a, b):
    names = sorted(os.listdir(a))
    return names == sorted(os.listdir(b)) and all(read(os.path.join(a, n)) == read(os.path.join(b, n))
                                                 for n in names)


def flip_byte(p, off):
    b = bytearray(read(p))
    b[off] ^= 0x01
    write(p, bytes(b))


def extract_cases(X, work, model):
    cache = X.cache
    j = lambda *p: os.path.join(work, *p)
    for d in ["ref", "a", "b", "c", "f16", "mod", "modref", "src"]:
        os.makedirs(j(d), exist_ok=True)

    # reference: the tool's own output without the cache
    check(X([model, "-o", j("ref", "w.bin"), "--depfile", j("ref.d")], cache=False).returncode == 0,
          "extract --no-cache runs")
    ref_bin, ref_json = read(j("ref", "w.bin")), read(j("ref", "w.json"))

    # a: miss then hit
    X([model, "-o", j("a", "w.bin"), "--depfile", j("a.d")], expect="miss")
    check(read(j("a", "w.bin")) == ref_bin and read(j("a", "w.json")) == ref_json,
          "a: miss output = the tool's own output")
    os.remove(j("a", "w.bin"))
    os.remove(j("a", "w.json"))
    X([model, "-o", j("a", "w.bin"), "--depfile", j("a2.d")], expect="hit")
    check(read(j("a", "w.bin")) == ref_bin and read(j("a", "w.json")) == ref_json,
          "a: hit output = the tool's own output")
    check(len(entries(cache, "m2w-extract")) == 1, "a: one entry")

    # b: fresh output dir, depfile written on a hit
    X([model, "-o", j("b", "w.bin"), "--depfile", j("b.d")], expect="hit")
    check(read(j("b", "w.bin")) == ref_bin and read(j("b", "w.json")) == ref_json,
          "b: hit into a fresh dir is byte-identical")
    check(read(j("b.d")) == read(j("ref.d")).replace(b"ref/", b"b/"),
          "b: the depfile of a hit equals the run's")

    # c: unchanged output keeps mtime and inode; a damaged one is rewritten
    old = 1_000_000_000
    os.utime(j("b", "w.bin"), (old, old))
    os.utime(j("b", "w.json"), (old, old))
    ino = os.stat(j("b", "w.bin")).st_ino
    os.utime(model, None)  # touched, bytes unchanged
    X([model, "-o", j("b", "w.bin")], expect="hit")
    st = os.stat(j("b", "w.bin"))
    check(st.st_mtime == old and st.st_ino == ino and os.stat(j("b", "w.json")).st_mtime == old,
          "c: a hit over unchanged outputs keeps their mtime and inode (touched model)")
    flip_byte(j("b", "w.json"), 10)
    X([model, "-o", j("b", "w.bin")], expect="hit")
    check(read(j("b", "w.json")) == ref_json and os.stat(j("b", "w.json")).st_mtime != old
          and os.stat(j("b", "w.bin")).st_mtime == old,
          "c: a hit rewrites only the output that differs")

    # d: --dtype f16 and --layout source are entries of their own
    check(X([model, "-o", j("f16", "ref.bin"), "--dtype", "f16"], cache=False).returncode == 0,
          "extract --dtype f16 --no-cache runs")
    X([model, "-o", j("f16", "w.bin"), "--dtype", "f16"], expect="miss")
    X([model, "-o", j("f16", "w2.bin"), "--dtype", "f16"], expect="hit")
    check(read(j("f16", "w2.bin")) == read(j("f16", "ref.bin")) != ref_bin,
          "d: --dtype f16 hit = its own output, not the f32 one")
    X([model, "-o", j("f16", "s.bin"), "--layout", "source"], expect="miss")
    check(len({k for k, _ in entries(cache, "m2w-extract")}) == 3, "d: f32, f16, layout source: 3 keys")

    # d: one weight byte changed.  A bias of the f16 model lies verbatim in
    # the file: find it through the f16 manifest and flip its lowest bit.
    man = json.loads(read(j("f16", "ref.json")))
    blob = read(j("f16", "ref.bin"))
    mb = read(model)
    at = -1
    for t in man["tensors"]:
        if t["dtype"] == "f16" and "permutation" not in t and t["bytes"] >= 32:
            piece = blob[t["offset"]:t["offset"] + t["bytes"]]
            at = mb.find(piece)
            if at >= 0 and mb.find(piece, at + 1) < 0:
                break
            at = -1
    if check(at >= 0, "d: found a weight's bytes in the model"):
        mod = j("src", os.path.basename(model))
        shutil.copy(model, mod)
        flip_byte(mod, at)
        check(X([mod, "-o", j("modref", "w.bin")], cache=False).returncode == 0, "modified model extracts")
        X([mod, "-o", j("mod", "w.bin")], expect="miss")
        mod_bin = read(j("mod", "w.bin"))
        check(mod_bin == read(j("modref", "w.bin")) and mod_bin != ref_bin,
              "d: a changed weight byte misses and gives the changed output")
        shutil.copy(model, mod)  # switch back to the earlier version
        X([mod, "-o", j("mod", "w.bin")], expect="hit")
        check(read(j("mod", "w.bin")) == ref_bin, "d: switching back to the earlier model hits")
        # the model's name is recorded in the manifest, so it is in the key
        ren = j("src", "renamed.tflite")
        shutil.copy(model, ren)
        X([ren, "-o", j("mod", "r.bin")], expect="miss")

    # e: corrupted entries
    def entry_dir():
        es = entries(cache, "m2w-extract")
        k = run([X.exe, model, "-o", j("c", "probe.bin"), "--cache-dir", cache]).stderr
        # the hit line names the entry
        p = k.split("cache hit (")[-1].split(")")[0] if "cache hit (" in k else None
        COUNTS[(cache, "m2w-extract", "hit")] = COUNTS.get((cache, "m2w-extract", "hit"), 0) + 1
        return p, es

    # a .tmp left by a killed process is swept by a later store once stale
    stale = os.path.join(cache, "m2w-extract", ".tmp.1.0123456789abcdef")
    os.makedirs(stale)
    write(os.path.join(stale, "0"), b"partial")
    os.utime(stale, (1_000_000_000, 1_000_000_000))
    for how in ["flip", "truncate", "missing", "meta"]:
        edir, _ = entry_dir()
        if not check(edir is not None and os.path.isdir(edir), f"e: entry found ({how})"):
            continue
        if how == "flip":
            flip_byte(os.path.join(edir, "0"), 1000)
        elif how == "truncate":
            b = read(os.path.join(edir, "1"))
            write(os.path.join(edir, "1"), b[:-7])
        elif how == "missing":
            os.remove(os.path.join(edir, "1"))
        else:
            write(os.path.join(edir, "meta.json"), b"{\"format\": \"m2w-cache\"")
        for f in ["w.bin", "w.json"]:
            if os.path.exists(j("c", f)):
                os.remove(j("c", f))
        r = X([model, "-o", j("c", "w.bin")], expect="miss")
        check("corrupt entry removed" in r.stderr, f"e: {how}: the corrupt entry is reported")
        check(read(j("c", "w.bin")) == ref_bin and read(j("c", "w.json")) == ref_json,
              f"e: {how}: outputs correct after a corrupt entry")
        X([model, "-o", j("c", "w.bin")], expect="hit")
        check(read(j("c", "w.bin")) == ref_bin, f"e: {how}: stored again, then a hit")
    check(not leftovers(cache), "e: no .tmp/.del left behind (a stale .tmp swept)")


def onnx_cases(X, work):
    try:
        import numpy as np
        import onnx
        from onnx import TensorProto, helper, numpy_helper
    except ImportError as e:
        print(f"SKIP onnx external data cases: {e}")
        return
    j = lambda *p: os.path.join(work, *p)
    for d in ["m1", "m2", "o1", "o2", "o3", "ref"]:
        os.makedirs(j(d), exist_ok=True)
    g = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])],
                          [numpy_helper.from_array(np.arange(256, dtype=np.float32), "w")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 8
    onnx.save(m, j("m1", "m.onnx"), save_as_external_data=True, all_tensors_to_one_file=True,
              location="m.data", size_threshold=0)
    model, data = j("m1", "m.onnx"), j("m1", "m.data")
    X([model, "-o", j("ref", "w.bin"), "--depfile", j("ref.d")], cache=False)
    X([model, "-o", j("o1", "w.bin"), "--depfile", j("o1.d")], expect="miss")
    X([model, "-o", j("o2", "w.bin"), "--depfile", j("o2.d")], expect="hit")
    check(same_dir(j("o2"), j("ref")) and b"m.data" in read(j("o2.d"))
          and read(j("o2.d")) == read(j("ref.d")).replace(b"ref/", b"o2/"),
          "onnx: hit = run; the depfile of a hit lists the external data")
    orig = read(data)
    flip_byte(data, 4 * 100 + 2)  # w[100] changes
    X([model, "-o", j("ref", "w.bin")], cache=False)
    X([model, "-o", j("o3", "w.bin")], expect="miss")
    check(same_dir(j("o3"), j("ref")) and read(j("o3", "w.bin")) != read(j("o2", "w.bin")),
          "onnx: external data edited -> miss, the new output")
    es = entries(X.cache, "m2w-extract")
    check(len(es) == 2 and es[0][0] == es[1][0], "onnx: one key, two variants (the data's versions)")
    write(data, orig)
    X([model, "-o", j("o3", "w.bin")], expect="hit")
    check(read(j("o3", "w.bin")) == read(j("o2", "w.bin")), "onnx: data reverted -> hit")
    # the same layout elsewhere (a fresh build dir): the extras are relative
    shutil.copy(model, j("m2", "m.onnx"))
    shutil.copy(data, j("m2", "m.data"))
    X([j("m2", "m.onnx"), "-o", j("o3", "x.bin"), "--depfile", j("x.d")], expect="hit")
    check(j("m2", "m.data").encode() in read(j("x.d")), "onnx: moved model hits, depfile names its data")


def pack_cases(P, X, work, gguf, model):
    j = lambda *p: os.path.join(work, *p)
    for d in ["ref", "w"]:
        os.makedirs(j(d), exist_ok=True)
    if gguf:
        P([gguf, "-o", j("ref", "g"), "--depfile", j("ref-g.d")], cache=False)
        P([gguf, "-o", j("g1"), "--depfile", j("g1.d")], expect="miss")
        P([gguf, "-o", j("g2"), "--depfile", j("g2.d")], expect="hit")
        check(same_dir(j("g2"), j("ref", "g")) and "tokenizer.json" in os.listdir(j("g2")),
              "pack gguf: hit into a fresh dir = the run (shards.json, tokenizer.json)")
        check(read(j("g2.d")) == read(j("ref-g.d")).replace(b"ref/g/", b"g2/"),
              "pack gguf: depfile of a hit equals the run's")
        old = 1_000_000_000
        for n in os.listdir(j("g2")):
            os.utime(j("g2", n), (old, old))
        P([gguf, "-o", j("g2")], expect="hit")
        check(all(os.stat(j("g2", n)).st_mtime == old for n in os.listdir(j("g2"))),
              "pack gguf: a hit keeps unchanged files' mtimes")
        P([gguf, "-o", j("g3"), "--float", "f16"], expect="miss")
    else:
        print("SKIP pack gguf cases: ggml-vocab-llama-spm.gguf not in $M2W_CACHE/llama.cpp/models")

    # weights.json + blob (from m2w-extract): the blob is an extra
    X([model, "-o", j("w", "w.bin")], cache=False)
    wj = j("w", "w.json")
    for args, d in [([], "p"), (["--one-file"], "one"), (["--max-binding", "4096"], "mb")]:
        P([wj, "-o", j("ref", d)] + args, cache=False)
        P([wj, "-o", j(d + "1"), "--depfile", j(d + "1.d")] + args, expect="miss")
        P([wj, "-o", j(d + "2"), "--depfile", j(d + "2.d")] + args, expect="hit")
        check(same_dir(j(d + "2"), j("ref", d)) and len(os.listdir(j(d + "2"))) >= 2,
              f"pack weights.json {' '.join(args)}: hit = the run ({sorted(os.listdir(j(d + '2')))})")
        check(read(j(d + "2.d")) == read(j(d + "1.d")).replace(f"{d}1/".encode(), f"{d}2/".encode())
              and b"w.bin" in read(j(d + "2.d")), f"pack weights.json {' '.join(args)}: depfile lists the blob")
    # the blob changes, the json does not: a torn pair, refused before the
    # cache is asked (the manifest records the blob's xxh3)
    blob = read(j("w", "w.bin"))
    flip_byte(j("w", "w.bin"), 64)
    n0 = len(log_lines(P.cache))
    r = run([P.exe, wj, "-o", j("torn"), "--cache-dir", P.cache], expect_rc=1)
    check(r.returncode == 1 and "re-run the build" in r.stderr and len(log_lines(P.cache)) == n0
          and not os.path.exists(j("torn", "shards.json")),
          "pack: a blob that is not the manifest's (xxh3) is refused, no lookup made")
    write(j("w", "w.bin"), blob)
    # a weights.json without "xxh3" (written by hand): the blob is still an
    # extra checked by content: edited -> another variant; back: a hit
    doc = json.loads(read(wj))
    del doc["xxh3"]
    os.makedirs(j("h"), exist_ok=True)
    hj = j("h", "w.json")
    write(hj, json.dumps(doc).encode())
    write(j("h", "w.bin"), blob)
    P([hj, "-o", j("ph")], expect="miss")
    flip_byte(j("h", "w.bin"), 64)
    P([hj, "-o", j("ref", "p3")], cache=False)
    P([hj, "-o", j("p3")], expect="miss")
    check(same_dir(j("p3"), j("ref", "p3")) and not same_dir(j("p3"), j("ph")),
          "pack: blob edited -> miss, the new output")
    write(j("h", "w.bin"), blob)
    P([hj, "-o", j("p3")], expect="hit")
    check(same_dir(j("p3"), j("ph")), "pack: blob reverted -> hit")


def spawn8(cmds):
    """Starts all eight before waiting on any, so their lookups overlap."""
    e = dict(os.environ)
    e.pop("M2W_CACHE_DIR", None)
    ps = [subprocess.Popen([str(c) for c in cmd], stderr=subprocess.PIPE, text=True, env=e) for cmd in cmds]
    return [(p.wait(), p.stderr.read()) for p in ps]


def race_checks(tag, cache, tool, rs, outs, same):
    check(all(rc == 0 for rc, _ in rs), f"{tag}: 8 concurrent {tool} succeed")
    check(all(same(o, outs[0]) for o in outs), f"{tag}: outputs identical")
    check(len(entries(cache, tool)) == 1, f"{tag}: exactly one entry")
    check(not leftovers(cache), f"{tag}: no .tmp/.del left")
    ls = log_lines(cache)
    hits = sum(1 for l in ls if l[0] == "hit")
    check(len(ls) == 8 and all(len(l) == 4 and l[0] in ("hit", "miss") for l in ls),
          f"{tag}: 8 whole log lines ({hits} hits, {8 - hits} misses: {8 - hits} stored at once)")
    stored = sum("cache miss, stored" in err for _, err in rs)
    check(stored == 8 - hits, f"{tag}: every miss reports its entry in place ({stored})")
    check(not any("corrupt" in err for _, err in rs), f"{tag}: no process read a corrupt (partial) entry")


def scan_entries(cache, tool):
    """Problems of the visible entries of TOOL right now: each VARIANT dir
    (no leading '.') must hold a meta.json that parses and every file it
    lists with its recorded size.  -> (entries seen, [problems])."""
    seen, bad = 0, []
    tdir = os.path.join(cache, tool)
    try:
        keys = [k for k in os.listdir(tdir) if not k.startswith(".")]
    except FileNotFoundError:
        return 0, []
    for k in keys:
        try:
            variants = [v for v in os.listdir(os.path.join(tdir, k)) if not v.startswith(".")]
        except FileNotFoundError:
            bad.append(f"{k}: vanished")
            continue
        for v in variants:
            vdir = os.path.join(tdir, k, v)
            seen += 1
            try:
                meta = json.loads(read(os.path.join(vdir, "meta.json")))
                for i, f in enumerate(meta["files"]):
                    n = os.path.getsize(os.path.join(vdir, str(i)))
                    if n != f["bytes"]:
                        bad.append(f"{vdir}/{i}: {n} bytes, meta.json says {f['bytes']}")
            except (OSError, ValueError, KeyError, TypeError) as e:
                bad.append(f"{vdir}: {e}")
    return seen, bad


def read_while_store(P, work, gguf):
    """r: lookups and a scanner while other processes store the entry."""
    cache = os.path.join(work, "rw-cache")
    ref = os.path.join(work, "rw-ref")
    os.makedirs(work, exist_ok=True)
    t = time.monotonic()
    r = run([P.exe, gguf, "-o", ref, "--no-cache"])
    took = time.monotonic() - t
    if not check(r.returncode == 0, f"r: pack {os.path.basename(gguf)} --no-cache ({took:.2f} s)"):
        return
    stop = threading.Event()
    scans = {"n": 0, "seen": 0, "bad": []}

    def scanner():
        while not stop.is_set():
            n, bad = scan_entries(cache, "m2w-pack")
            scans["n"] += 1
            scans["seen"] += n
            scans["bad"] += bad[:3]
            time.sleep(0.002)

    th = threading.Thread(target=scanner)
    th.start()
    e = dict(os.environ)
    e.pop("M2W_CACHE_DIR", None)
    outs, ps, after = [], [], 0
    while after < 4 and len(ps) < 24:
        # one more every sixth of a run (at most 4 running: 2 cores), until
        # the first entry is in place and four more started after it:
        # lookups land before, during and after the stores
        time.sleep(took / 6)
        if sum(p.poll() is None for p in ps) >= 4:
            continue
        if scans["seen"]:
            after += 1
        o = os.path.join(work, f"rw{len(ps)}")
        outs.append(o)
        ps.append(subprocess.Popen([P.exe, gguf, "-o", o, "--cache-dir", cache],
                                   stderr=subprocess.PIPE, text=True, env=e))
    rs = [(p.wait(), p.stderr.read()) for p in ps]
    stop.set()
    th.join()
    hits = sum("cache hit" in err for _, err in rs)
    check(all(rc == 0 for rc, _ in rs), f"r: {len(ps)} overlapping m2w-pack runs succeed")
    check(all(same_dir(o, ref) for o in outs), "r: every output equals the --no-cache run")
    check(not any("corrupt" in err or "warning" in err for _, err in rs),
          "r: no process met a corrupt (partial) entry or warned")
    check(not scans["bad"] and scans["n"] > 0,
          f"r: {scans['n']} scans met {scans['seen']} visible entries, none partial"
          + (f": {scans['bad'][:3]}" if scans["bad"] else ""))
    check(hits > 0, f"r: {hits} lookups hit while or after the entry was stored, "
          f"{len(ps) - hits} missed and stored (store {took:.2f} s)")
    check(len(entries(cache, "m2w-pack")) == 1 and not leftovers(cache),
          "r: one entry, no .tmp/.del left")


def concurrent_cases(X, P, work, model, race_gguf):
    for rnd in range(3):
        cache = os.path.join(work, f"cc{rnd}")
        outs = [os.path.join(work, f"r{rnd}", f"o{i}") for i in range(8)]
        for o in outs:
            os.makedirs(o, exist_ok=True)
        rs = spawn8([[X.exe, model, "-o", os.path.join(o, "w.bin"), "--cache-dir", cache] for o in outs])
        race_checks(f"f{rnd}", cache, "m2w-extract", rs, outs,
                    lambda a, b: all(read(os.path.join(a, n)) == read(os.path.join(b, n))
                                     for n in ["w.bin", "w.json"]))
    if race_gguf:
        # tokenizer.json of a 262k vocabulary takes long enough for all
        # eight to miss and race to store the same entry
        for rnd in range(2):
            cache = os.path.join(work, f"ccp{rnd}")
            outs = [os.path.join(work, f"rp{rnd}", f"o{i}") for i in range(8)]
            rs = spawn8([[P.exe, race_gguf, "-o", o, "--cache-dir", cache] for o in outs])
            race_checks(f"f-pack{rnd}", cache, "m2w-pack", rs, outs, same_dir)


def exe_cases(X, work, model):
    cache = os.path.join(work, "xc")
    d = os.path.join(work, "x")
    os.makedirs(d, exist_ok=True)
    Xc = Tool(X.exe, cache)
    Xc([model, "-o", os.path.join(d, "w.bin")], expect="miss")
    copy = os.path.join(d, "m2w-extract")
    shutil.copy(X.exe, copy)
    Tool(copy, cache)([model, "-o", os.path.join(d, "w.bin")], expect="hit")
    strip = shutil.which("strip")
    if strip:
        st = os.path.join(d, "stripped", "m2w-extract")
        os.makedirs(os.path.dirname(st), exist_ok=True)
        if run([strip, "--strip-debug", "-o", st, X.exe]).returncode == 0:
            check(read(st) != read(X.exe), "x: the stripped copy differs from the executable")
            Tool(st, cache)([model, "-o", os.path.join(d, "w.bin")], expect="hit")
    # one byte of the usage text (in .rodata, a loaded segment)
    b = read(X.exe)
    at = b.find(b"Exit status: 0 success")
    if check(at >= 0, "x: usage text found in the executable"):
        pt = os.path.join(d, "patched", "m2w-extract")
        os.makedirs(os.path.dirname(pt), exist_ok=True)
        write(pt, b[:at] + b"E" + b[at + 1:].replace(b"xit status", b"Xit status", 1))
        os.chmod(pt, 0o755)
        Tool(pt, cache)([model, "-o", os.path.join(d, "w.bin")], expect="miss")
        check(len(entries(cache, "m2w-extract")) == 2, "x: a changed executable is another key")
    # $M2W_CACHE_DIR when no --cache-dir; --no-cache wins
    ec = os.path.join(work, "envc")
    r = run([X.exe, model, "-o", os.path.join(d, "e.bin")], env={"M2W_CACHE_DIR": ec})
    check(r.returncode == 0 and len(log_lines(ec)) == 1 and "cache miss, stored" in r.stderr,
          "x: $M2W_CACHE_DIR is used")
    r = run([X.exe, model, "-o", os.path.join(d, "e.bin"), "--no-cache"], env={"M2W_CACHE_DIR": ec})
    check(r.returncode == 0 and len(log_lines(ec)) == 1 and "cache" not in r.stderr,
          "x: --no-cache ignores $M2W_CACHE_DIR")
    r = run([X.exe, model, "-o", os.path.join(d, "e.bin"), "-q"], env={"M2W_CACHE_DIR": ec})
    check(r.returncode == 0 and r.stderr == "" and log_lines(ec)[-1][0] == "hit",
          "x: -q silences the summary line, the log still records the hit")
    # an unusable cache dir is a warning, never a failure
    blocker = os.path.join(work, "not-a-dir")
    write(blocker, b"")
    r = run([X.exe, model, "-o", os.path.join(d, "e.bin"), "--cache-dir", blocker])
    check(r.returncode == 0 and "warning" in r.stderr and read(os.path.join(d, "e.bin")) == read(
        os.path.join(d, "w.bin")), "x: an unusable cache dir warns and the tool still runs")


def main():
    if len(sys.argv) != 4:
        print(__doc__)
        return 2
    extract, pack, work = (os.path.abspath(a) for a in sys.argv[1:])
    src = os.environ.get("M2W_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))
    model = os.path.join(src, "subprojects", "face-detection", "face_detection_short_range.tflite")
    if not os.path.exists(model):
        print(f"SKIP: {model} not found")
        return 77
    gguf = os.path.join(os.environ.get("M2W_CACHE", ""), "llama.cpp", "models", "ggml-vocab-llama-spm.gguf")
    gguf = gguf if os.environ.get("M2W_CACHE") and os.path.exists(gguf) else None
    race_gguf = gguf and os.path.join(os.path.dirname(gguf), "ggml-vocab-gemma-4.gguf")
    race_gguf = race_gguf if race_gguf and os.path.exists(race_gguf) else gguf
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)

    main_cache = os.path.join(work, "cache")
    X = Tool(extract, main_cache)
    extract_cases(X, os.path.join(work, "extract"), model)
    onnx_cases(Tool(extract, os.path.join(work, "onnx-cache")), os.path.join(work, "onnx"))
    P = Tool(pack, main_cache)
    pack_cases(P, X, os.path.join(work, "pack"), gguf, model)
    concurrent_cases(X, P, os.path.join(work, "conc"), model, race_gguf)
    if race_gguf:
        read_while_store(P, os.path.join(work, "rw"), race_gguf)
    else:
        print("note: r skipped: no vocabulary GGUF in $M2W_CACHE/llama.cpp/models")
    exe_cases(X, os.path.join(work, "exe"), model)

    # g: the log of the main cache counts every lookup made through it
    ls = log_lines(main_cache)
    for tool in ["m2w-extract", "m2w-pack"]:
        mine = [l for l in ls if l[1] == tool]
        made = {k[2]: n for k, n in COUNTS.items() if k[0] == main_cache and k[1] == tool}
        total = sum(made.values())
        hits = sum(1 for l in mine if l[0] == "hit")
        misses = len(mine) - hits
        check(len(mine) == total and hits == made.get("hit", 0) and misses == made.get("miss", 0),
              f"g: {tool}: {len(mine)} log lines for {total} lookups ({hits} hits, {misses} misses)")
        check(all(len(l) == 4 and len(l[2]) == 32 for l in mine), f"g: {tool}: log lines well formed")
    print(f"{len(FAILS)} failure(s)")
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
