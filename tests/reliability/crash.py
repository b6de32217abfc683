#!/usr/bin/python3
"""Crash safety: m2w-extract and m2w-pack killed with SIGKILL while they write.

For each case two different real inputs (A, B) are written, alternately, to
the same output path; each run is killed after a seeded random delay drawn
over the tool's own measured run time (so kills land before, during and
after the writes).  After every kill the output is checked file by file
against reference runs (sha256):

  - every output file is either the complete previous one or the complete
    new one, never torn (a sha256 matching neither reference fails);
  - nothing else appears beside the outputs except temp files named
    <output>.tmp.<pid> (counted and listed; they are left in place so that
    later runs must not mistake them for outputs);
  - the output *set* (m2w-extract's blob + manifest, m2w-pack's shards +
    shards.json + tokenizer.json) is reported as old intact, new complete,
    or mixed (each file whole, but from two runs: a kill between two
    commits).  Mixed sets are reported, and fail only with --strict-sets;

and, with --cache-dir, that a killed store never leaves a visible partial
entry (DIR/<tool>/<key>/<variant>: every entry directory not starting with '.' has a meta.json whose
files exist with the sizes it records), and that later runs, hitting or
missing, write exactly the reference bytes.

Torn pairs: a kill between a tool's two files (the blob and its manifest)
leaves each file whole but from two runs.  Every mixed set whose manifest
is from the other run than a data file it hashes must be refused by
`m2w-pack --verify MANIFEST`, and every complete set accepted.  Planted
pairs (an old manifest beside a new blob of the same size: the face
detector extracted with --layout nchw / source, two generated GGUFs of one
layout) must be refused by m2w-pack --verify, by m2w-pack packing the
weights.json, and by `m2w-package pack`, each naming FILE:0xOFFSET and
"re-run the build".

Stale temp files: after the kills, with the temp files aged past the
tools' sweep age (5 s), one more run removes every <output>.tmp.<pid> of a
dead process, and keeps one of a live process and a fresh one.

Cases: extract (TFLite face detector / ONNX embedding model), extract with
--cache-dir (two openWakeWord ONNX models), pack of two llama.cpp vocab
GGUFs (tokenizer.json of 0.7 and 5.6 MB), pack of two generated 24 MB GGUFs
(F32 / F16 / Q8_0 tensors, several shard files).  Inputs that are not in
M2W_CACHE are skipped with a note; exit 77 if none is there.

usage: crash.py M2W_EXTRACT M2W_PACK [--reps N] [--seed S] [--strict-sets] [--package M2W_PACKAGE]
   (--package: tools/m2w-package.py, default from M2W_SOURCE_ROOT)
   (--reps: kills per case, default 50; --seed default 11)
"""
import hashlib
import os
import random
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

FAILS = []
TMP_RE = re.compile(r"\.tmp\.\d+$")


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILS.append(what)


def sha(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                return h.hexdigest()
            h.update(b)


def listing(root):
    """{relative path: full path} of every plain file under root."""
    out = {}
    for r, _, files in os.walk(root):
        for f in files:
            p = os.path.join(r, f)
            out[os.path.relpath(p, root)] = p
    return out


# ---- a generated GGUF (v3): F32, F16 and Q8_0 tensors of seeded values ----

def gen_gguf(path, seed, n_layers=6, dim=512, ffn=1536):
    rnd = random.Random(seed)

    def s(x):
        b = x.encode()
        return struct.pack("<Q", len(b)) + b

    def f32(n):
        return struct.pack(f"<{n}f", *(rnd.uniform(-1, 1) for _ in range(n)))

    def f16(n):
        return struct.pack(f"<{n}e", *(rnd.uniform(-1, 1) for _ in range(n)))

    def q8_0(n):
        out = bytearray()
        blk = struct.Struct("<e32b")
        for _ in range(n // 32):
            out += blk.pack(rnd.uniform(0.001, 0.05), *(rnd.randrange(-127, 128) for _ in range(32)))
        return bytes(out)

    tensors = []  # (name, dims, type, data)
    for layer in range(n_layers):
        tensors.append((f"blk.{layer}.attn_norm.weight", [dim], 0, f32(dim)))
        tensors.append((f"blk.{layer}.attn_q.weight", [dim, dim], 8, q8_0(dim * dim)))
        tensors.append((f"blk.{layer}.ffn_up.weight", [dim, ffn], 8, q8_0(dim * ffn)))
        tensors.append((f"blk.{layer}.ffn_down.weight", [ffn, dim], 1, f16(ffn * dim)))
    kv = s("general.architecture") + struct.pack("<I", 8) + s("m2wtest")
    kv += s("general.alignment") + struct.pack("<II", 4, 32)
    head = b"GGUF" + struct.pack("<IQQ", 3, len(tensors), 2) + kv
    off = 0
    for name, dims, typ, data in tensors:
        head += s(name) + struct.pack("<I", len(dims)) + struct.pack(f"<{len(dims)}Q", *dims)
        head += struct.pack("<IQ", typ, off)
        off += (len(data) + 31) // 32 * 32
    head += b"\0" * (-len(head) % 32)
    with open(path, "wb") as f:
        f.write(head)
        for _, _, _, data in tensors:
            f.write(data + b"\0" * (-len(data) % 32))


# ---- one case ----

class Case:
    def __init__(self, name, argv, inputs, out_dir, target, cache=None, manifest=None):
        self.name, self.argv, self.inputs = name, argv, inputs  # argv(input, target) -> list
        self.out_dir, self.target, self.cache = out_dir, target, cache
        self.manifest = manifest  # the output that hashes the others (m2w-pack --verify)

    def run(self, inp, target, extra=()):
        return subprocess.run(self.argv(inp, target) + list(extra), stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)


def reference(case, work):
    """sha256 of every output file of an unkilled run of each input, and its time."""
    refs, times = [], []
    for i, inp in enumerate(case.inputs):
        d = os.path.join(work, f"ref{i}")
        os.makedirs(d)
        tgt = os.path.join(d, os.path.relpath(case.target, case.out_dir))
        ts = []
        for k in range(3):
            # with a cache: a miss that stores into a fresh cache, so the kill
            # delays span the store too (the last --cache-dir wins)
            extra = ["--cache-dir", os.path.join(work, f"refcache{i}.{k}")] if case.cache else []
            t = time.monotonic()
            r = case.run(inp, tgt, extra)
            ts.append(time.monotonic() - t)
            if r.returncode:
                sys.exit(f"{case.name}: reference run of {inp} failed:\n{r.stdout}")
        refs.append({rel: sha(p) for rel, p in listing(d).items()})
        times.append(sorted(ts)[1])
    return refs, times


def classify(case, refs, old):
    """-> (state, torn, stray, temps): state 'old', 'new' or 'mixed'."""
    new = 1 - old
    files = listing(case.out_dir)
    temps = sorted(r for r in files if TMP_RE.search(r))
    names = set(refs[0]) | set(refs[1])
    stray = sorted(r for r in files if r not in names and r not in temps)
    torn, which, newer = [], set(), []
    for rel in sorted(names):
        h = sha(files[rel]) if rel in files else None
        if h is not None and h == refs[old].get(rel) and h == refs[new].get(rel):
            continue  # the same in both: says nothing
        if h == refs[old].get(rel):
            which.add("old")
        elif h == refs[new].get(rel):
            which.add("new")
            newer.append(rel)
        else:
            torn.append(f"{rel} ({'missing' if h is None else 'sha256 ' + h[:12]})")
    state = "mixed" if len(which) > 1 else (which.pop() if which else "old")
    classify.newer = newer  # for the report: which files were already new
    return state, torn, stray, temps


def cache_entries(cache_root):
    """Checks every visible entry of the result cache: -> (n entries, [problems])."""
    n, bad = 0, []
    results = cache_root
    for tool in (os.listdir(results) if os.path.isdir(results) else []):
        tdir = os.path.join(results, tool)
        if not os.path.isdir(tdir):
            continue
        for key in os.listdir(tdir):
            kdir = os.path.join(tdir, key)
            if key.startswith(".") or not os.path.isdir(kdir):
                continue
            for var in os.listdir(kdir):
                vdir = os.path.join(kdir, var)
                if var.startswith("."):
                    continue
                n += 1
                meta = os.path.join(vdir, "meta.json")
                try:
                    import json
                    m = json.load(open(meta))
                    for i, f in enumerate(m["files"]):
                        p = os.path.join(vdir, str(i))
                        if not os.path.isfile(p) or os.path.getsize(p) != f["bytes"]:
                            bad.append(f"{vdir}: file {i} missing or not {f['bytes']} bytes")
                except (OSError, ValueError, KeyError) as e:
                    bad.append(f"{vdir}: {e}")
    return n, bad


def hidden_cache_dirs(cache_root):
    results = cache_root
    out = []
    for r, dirs, _ in os.walk(results):
        out += [os.path.join(r, d) for d in dirs if d.startswith((".tmp.", ".del."))]
    return out


def drop_entries(cache_root):
    """Removes the complete entries (the tool is not running), so that the
    next run stores again and a kill can land in the store."""
    results = cache_root
    for tool in (os.listdir(results) if os.path.isdir(results) else []):
        tdir = os.path.join(results, tool)
        for key in (os.listdir(tdir) if os.path.isdir(tdir) else []):
            if not key.startswith("."):
                shutil.rmtree(os.path.join(tdir, key), ignore_errors=True)


PACK = None  # m2w-pack, for --verify


def verify(manifest):
    """m2w-pack --verify MANIFEST -> (exit status, output)."""
    r = subprocess.run([PACK, "--verify", manifest], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    return r.returncode, r.stdout.strip()


def torn_pair(case, refs, old):
    """Whether the output set pairs the manifest of one run with a data file
    (one that differs between the runs) of the other."""
    files = listing(case.out_dir)
    man = os.path.relpath(case.manifest, case.out_dir)

    def which(rel):
        h = sha(files[rel]) if rel in files else None
        return "old" if h == refs[old].get(rel) else "new" if h == refs[1 - old].get(rel) else None
    mw = which(man)
    for rel in set(refs[0]) | set(refs[1]):
        # (tokenizer.json too: shards.json records its xxh3)
        if rel == man or refs[0].get(rel) == refs[1].get(rel):
            continue
        if which(rel) != mw:
            return True
    return False


def sweep_check(case):
    """Aged temp files of dead processes go on the next run; a live
    process's and a fresh one stay."""
    temps = [p for rel, p in listing(case.out_dir).items() if TMP_RE.search(rel)]
    old = time.time() - 60
    for p in temps:
        os.utime(p, (old, old))
    base = case.manifest
    dead = subprocess.Popen(["true"])
    dead.wait()
    planted = {"dead": f"{base}.tmp.{dead.pid}", "live": f"{base}.tmp.{os.getpid()}",
               "fresh": f"{base}.tmp.{dead.pid + 100000}"}
    for k, p in planted.items():
        with open(p, "wb") as f:
            f.write(b"left by a killed run")
        if k != "fresh":
            os.utime(p, (old, old))
    r = case.run(case.inputs[0], case.target)
    left = sorted(rel for rel in listing(case.out_dir) if TMP_RE.search(rel))
    want = sorted(os.path.relpath(planted[k], case.out_dir) for k in ("live", "fresh"))
    check(r.returncode == 0 and left == want,
          f"{case.name}: the next run swept {len(temps) + 1} aged temp files of dead processes "
          f"and kept a live one's and a fresh one (left: {', '.join(left) or 'none'})")
    for k in ("live", "fresh"):
        os.unlink(planted[k])


def run_case(case, reps, rnd, work, strict_sets):
    refs, times = reference(case, work)
    if refs[0] == refs[1]:
        sys.exit(f"{case.name}: the two inputs give the same output")
    sizes = [sum(os.path.getsize(p) for p in listing(os.path.join(work, f"ref{i}")).values())
             for i in range(2)]
    print(f"---- {case.name}: A {os.path.basename(case.inputs[0])} -> {sizes[0]} B in "
          f"{times[0] * 1000:.1f} ms, B {os.path.basename(case.inputs[1])} -> {sizes[1]} B in "
          f"{times[1] * 1000:.1f} ms")
    os.makedirs(case.out_dir, exist_ok=True)
    cur = 1  # B in place first
    r = case.run(case.inputs[cur], case.target)
    if r.returncode:
        sys.exit(f"{case.name}: first run failed:\n{r.stdout}")
    n = {"kills": 0, "finished": 0, "old": 0, "new": 0, "mixed": 0, "torn": 0, "stray": 0,
         "hits": 0, "misses": 0, "in_store": 0, "torn_pairs": 0, "refused": 0}
    mixed_eg = []
    for i in range(reps):
        old, new = cur, 1 - cur
        if case.cache and rnd.random() < 0.25:
            drop_entries(case.cache)
        delay = rnd.uniform(0, times[new] * 1.2)
        if case.cache:
            log = os.path.join(case.cache, "log")
            n0 = len(open(log).readlines()) if os.path.exists(log) else 0
            h0 = len(hidden_cache_dirs(case.cache))
        p = subprocess.Popen(case.argv(case.inputs[new], case.target), stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
        time.sleep(delay)
        try:
            os.kill(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        rc = p.wait()
        n["kills" if rc == -signal.SIGKILL else "finished"] += 1
        if rc not in (0, -signal.SIGKILL):
            FAILS.append(f"{case.name} #{i}: exit {rc}")
        state, torn, stray, temps = classify(case, refs, old)
        if torn:
            n["torn"] += 1
            check(False, f"{case.name} #{i} (kill after {delay * 1000:.2f} ms): torn: {', '.join(torn)}")
        if stray:
            n["stray"] += 1
            check(False, f"{case.name} #{i}: stray files: {', '.join(stray)}")
        if rc == 0 and state != "new":
            check(False, f"{case.name} #{i}: exited 0 but the output is {state}")
        n[state] += 1
        if case.manifest and not torn:
            # a manifest beside data of another run is refused; a whole set is not
            tp = state == "mixed" and torn_pair(case, refs, old)
            vrc, vout = verify(case.manifest)
            n["torn_pairs"] += tp
            n["refused"] += tp and vrc == 1
            if tp and not (vrc == 1 and "re-run the build" in vout and re.search(r":0x[0-9a-f]+: error:", vout)):
                check(False, f"{case.name} #{i}: torn pair not refused by --verify (exit {vrc}): {vout}")
            if not tp and vrc != 0:
                check(False, f"{case.name} #{i}: --verify refused a {state} set: {vout}")
        if state == "mixed":
            if len(mixed_eg) < 3:
                mixed_eg.append(f"#{i} after {delay * 1000:.2f} ms, new: {' '.join(classify.newer[:3])}")
            # back to a complete output before the next kill
            r = case.run(case.inputs[new], case.target)
            if r.returncode:
                check(False, f"{case.name} #{i}: rerun after a mixed set failed: {r.stdout}")
            state = "new"
        cur = new if state == "new" else old
        if case.cache:
            nent, bad = cache_entries(case.cache)
            if bad:
                check(False, f"{case.name} #{i}: partial cache entry visible: {bad[:3]}")
            for line in (open(log).readlines()[n0:] if os.path.exists(log) else []):
                n["hits" if line.startswith("hit") else "misses"] += 1
            n["in_store"] += len(hidden_cache_dirs(case.cache)) > h0
    temps = classify(case, refs, cur)[3]
    print(f"     {reps} runs: {n['kills']} killed, {n['finished']} finished before the kill; "
          f"old intact {n['old']}, new complete {n['new']}, mixed sets {n['mixed']}"
          f"{' (' + '; '.join(mixed_eg) + ')' if mixed_eg else ''}, torn {n['torn']}, "
          f"stray {n['stray']}; temp files left {len(temps)}"
          f"{': ' + ', '.join(temps[:4]) + (' ...' if len(temps) > 4 else '') if temps else ''}")
    if case.manifest:
        print(f"     --verify: {n['torn_pairs']} sets paired a manifest with another run's data, "
              f"{n['refused']} refused; every other set accepted")
    if case.cache:
        print(f"     cache: {n['hits']} lookups hit, {n['misses']} missed; {n['in_store']} kills "
              f"landed in a store (left a hidden .tmp dir)")
    check(n["torn"] == 0 and n["stray"] == 0,
          f"{case.name}: no torn output file, no stray file in {reps} runs")
    if strict_sets:
        check(n["mixed"] == 0, f"{case.name}: no mixed output set")
    # the temp files must not be mistaken for outputs: with them still in
    # place, an unkilled run writes each reference exactly, the set is whole
    for k in (1 - cur, cur):
        r = case.run(case.inputs[k], case.target)
        state, torn, stray, _ = classify(case, refs, 1 - k)
        check(r.returncode == 0 and state == "new" and not torn and not stray,
              f"{case.name}: with {len(temps)} temp files beside it, a full run of "
              f"{'AB'[k]} writes its reference bytes ({state}, exit {r.returncode})")
    if case.manifest:
        sweep_check(case)
    if case.cache:
        nent, bad = cache_entries(case.cache)
        hidden = hidden_cache_dirs(case.cache)
        check(not bad, f"{case.name}: {nent} visible cache entries, all complete; "
              f"{len(hidden)} hidden .tmp/.del dirs left by kills")
        # a later run hits (or misses) and writes correct bytes, into a fresh path
        for k in (0, 1):
            d = os.path.join(work, f"after{k}")
            os.makedirs(d)
            tgt = os.path.join(d, os.path.relpath(case.target, case.out_dir))
            log = os.path.join(case.cache, "log")
            n0 = len(open(log).readlines()) if os.path.exists(log) else 0
            r = case.run(case.inputs[k], tgt)
            got = {rel: sha(p) for rel, p in listing(d).items()}
            new_lines = open(log).readlines()[n0:] if os.path.exists(log) else []
            how = new_lines[-1].split()[0] if new_lines else "not logged"
            check(r.returncode == 0 and got == refs[k],
                  f"{case.name}: later run of {'AB'[k]} with the cache ({how}) writes the reference bytes")
    return n


def planted(extract, package, face, gens, work):
    """An old manifest planted beside a new blob of the same size."""
    ok = subprocess.run
    fix = "re-run the build"
    # m2w-extract: the face detector in NCHW and in source layout (same size)
    d = os.path.join(work, "planted-extract")
    os.makedirs(d)
    blob, man = os.path.join(d, "face.bin"), os.path.join(d, "face.json")
    for args in ([], ["--layout", "source"]):
        r = ok([extract, "-q", face, "-o", blob] + args, stdout=subprocess.PIPE,
               stderr=subprocess.STDOUT, text=True)
        if r.returncode:
            sys.exit(f"planted: m2w-extract failed:\n{r.stdout}")
        if not args:
            old_man, old_size = open(man, "rb").read(), os.path.getsize(blob)
            check(verify(man)[0] == 0, "planted: m2w-pack --verify accepts a whole extract pair")
    check(os.path.getsize(blob) == old_size, f"planted: both layouts give {old_size}-byte blobs")
    with open(man, "wb") as f:
        f.write(old_man)
    vrc, vout = verify(man)
    check(vrc == 1 and vout.startswith(f"m2w-pack: {blob}:0x0: error:") and fix in vout,
          f"planted: --verify refuses the old weights.json beside the new blob: {vout}")
    r = ok([PACK, "-q", man, "-o", os.path.join(d, "packed")], stdout=subprocess.PIPE,
           stderr=subprocess.STDOUT, text=True)
    check(r.returncode == 1 and f"{blob}:0x0: error:" in r.stdout and
          not os.path.exists(os.path.join(d, "packed", "shards.json")),
          f"planted: m2w-pack refuses to pack the torn pair: {r.stdout.strip()}")
    dist = os.path.join(d, "dist.json")
    with open(dist, "w") as f:
        f.write('{"files": []}\n')
    src = os.environ.get("M2W_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))
    r = ok([sys.executable, package, "pack", "--templates", os.path.join(src, "templates"),
            "--dist", dist, "--name", "torn", "--version", "1.0.0", "--weights", blob,
            "--weights", man, "--stage", os.path.join(d, "stage"), "-o", os.path.join(d, "p.tgz")],
           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    check(r.returncode == 1 and f"{blob}:0x0: error:" in r.stdout and fix in r.stdout and
          not os.path.exists(os.path.join(d, "p.tgz")),
          f"planted: m2w-package pack refuses to ship the torn pair: {r.stdout.strip()}")
    # m2w-pack: two generated GGUFs of one layout, the first one's shards.json
    d = os.path.join(work, "planted-pack")
    sj = os.path.join(d, "shards.json")
    for k, g in enumerate(gens):
        r = ok([PACK, "-q", g, "-o", d], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if r.returncode:
            sys.exit(f"planted: m2w-pack failed:\n{r.stdout}")
        if k == 0:
            old_sj = open(sj, "rb").read()
            check(verify(sj)[0] == 0, "planted: m2w-pack --verify accepts a whole shards.json set")
    with open(sj, "wb") as f:
        f.write(old_sj)
    vrc, vout = verify(sj)
    check(vrc == 1 and re.match(rf"m2w-pack: {re.escape(d)}/[a-z0-9.]+\.bin:0x[0-9a-f]+: error:", vout)
          and fix in vout, f"planted: --verify refuses the old shards.json beside new shards: {vout}")


def main():
    args = sys.argv[1:]
    if len(args) < 2:
        sys.exit(__doc__)
    extract, pack = args[0], args[1]
    reps = int(args[args.index("--reps") + 1]) if "--reps" in args else 50
    seed = int(args[args.index("--seed") + 1]) if "--seed" in args else 11
    strict = "--strict-sets" in args
    src = os.environ.get("M2W_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), "..", ".."))
    package = args[args.index("--package") + 1] if "--package" in args else \
        os.path.join(src, "tools", "m2w-package.py")
    global PACK
    PACK = pack
    cache = os.environ.get("M2W_CACHE", "")
    oww = os.path.join(cache, "openwakeword", "package", "models")
    vocab = os.path.join(cache, "llama.cpp", "models")
    rnd = random.Random(seed)
    tmp = tempfile.mkdtemp(prefix="m2w-crash.")
    cases, skipped = [], []
    t0 = time.monotonic()
    try:
        def ex(out_dir, cache_dir=None):
            def argv(inp, tgt):
                return [extract, "-q", inp, "-o", tgt] + (["--cache-dir", cache_dir] if cache_dir else [])
            return argv

        def pk(extra=()):
            def argv(inp, tgt):
                return [pack, "-q", inp, "-o", tgt] + list(extra)
            return argv

        def add(name, inputs, mk):
            miss = [p for p in inputs if not os.path.isfile(p)]
            if miss:
                skipped.append(f"{name} ({miss[0]} missing)")
                return
            w = os.path.join(tmp, name)
            cases.append((mk(w, inputs), w))

        add("extract", [os.path.join(src, "subprojects/face-detection/face_detection_short_range.tflite"),
                        os.path.join(oww, "embedding_model.onnx")],
            lambda w, i: Case("extract", ex(None), i, os.path.join(w, "out"),
                              os.path.join(w, "out", "weights.bin"),
                              manifest=os.path.join(w, "out", "weights.json")))
        add("extract-cache", [os.path.join(oww, "melspectrogram.onnx"), os.path.join(oww, "silero_vad.onnx")],
            lambda w, i: Case("extract --cache-dir", ex(None, os.path.join(w, "cache")), i,
                              os.path.join(w, "out"), os.path.join(w, "out", "weights.bin"),
                              cache=os.path.join(w, "cache"),
                              manifest=os.path.join(w, "out", "weights.json")))
        add("pack-vocab", [os.path.join(vocab, "ggml-vocab-llama-spm.gguf"),
                           os.path.join(vocab, "ggml-vocab-qwen2.gguf")],
            lambda w, i: Case("pack vocab GGUF", pk(), i, os.path.join(w, "out"), os.path.join(w, "out"),
                              manifest=os.path.join(w, "out", "shards.json")))
        gdir = os.path.join(tmp, "gguf")
        os.makedirs(gdir)
        gens = [os.path.join(gdir, f"gen{k}.gguf") for k in (0, 1)]
        for k, g in enumerate(gens):
            gen_gguf(g, seed * 10 + k)
        add("pack-gen", gens,
            lambda w, i: Case("pack generated GGUF", pk(["--max-binding", "4M"]), i,
                              os.path.join(w, "out"), os.path.join(w, "out"),
                              manifest=os.path.join(w, "out", "shards.json")))
        face = os.path.join(src, "subprojects/face-detection/face_detection_short_range.tflite")
        if os.path.isfile(face):
            planted(extract, package, face, gens, tmp)
        else:
            skipped.append(f"planted torn pairs ({face} missing)")
        for s in skipped:
            print(f"note: case {s}: skipped")
        if not cases:
            print("SKIP: no input of any case is present (M2W_CACHE)")
            return 77
        for case, w in cases:
            os.makedirs(w)
            run_case(case, reps, rnd, w, strict)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"{time.monotonic() - t0:.1f} s; " + (f"{len(FAILS)} failed" if FAILS else "all checks passed"))
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
