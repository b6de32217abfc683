#!/usr/bin/python3
"""Benchmark: m2w-inspect --json on a 3.1 GB llama-shaped GGUF.

gen_gguf writes the file (header only, tensor data a sparse hole: instant,
no disk).  Reports median wall time and peak RSS of m2w-inspect over runs,
the RSS / file-size ratio, and the same for the peer in ANCHORS.md,
gguf-py's gguf_dump.py, when $M2W_CACHE holds the llama.cpp checkout that
tests/conformance/gguf/fetch.sh makes.  Each figure (wall, CPU, peak RSS)
is also printed as a `RESULT {json}` line for tests/bench/record.py:
median, min and max over the runs, the peer's, and the ratio peer / m2w.

usage: bench_inspect.py GEN_GGUF M2W_INSPECT OUT_DIR [--runs N]
"""
import os
import json
import statistics
import subprocess
import sys
import tempfile
import time

MIB = 1 << 20


def stats(xs, scale=1.0):
    """median, min, max (times scale, 5 significant digits) and n of xs."""
    r = lambda v: float(f"{v * scale:.5g}")
    return {"median": r(statistics.median(xs)), "min": r(min(xs)), "max": r(max(xs)), "n": len(xs)}


def result(what, unit, m2w, peer=None, goal=None, note=None):
    """One RESULT line (tests/bench/record.py); m2w and peer are stats()."""
    r = {"what": what, "unit": unit, "m2w": m2w}
    if peer:
        r["peer"] = peer
        r["ratio"] = round(peer["median"] / max(m2w["median"], 1e-9), 3)
    if goal:
        r["goal"] = goal
    if note:
        r["note"] = note
    print("RESULT " + json.dumps(r), flush=True)


def measure(argv, runs):
    """Wall and CPU (user + sys) seconds and peak RSS (bytes) of argv, one
    of each per run.

    Peak RSS comes from GNU time when present: a child's ru_maxrss read
    by wait4 keeps the high-water mark of the forked Python it started as,
    which would hide a tool smaller than the interpreter."""
    gnu_time = "/usr/bin/time" if os.path.exists("/usr/bin/time") else None
    walls, cpus, rss = [], [], []
    with tempfile.NamedTemporaryFile("r") as tf:
        for _ in range(runs):
            cmd = [gnu_time, "-f", "%M", "-o", tf.name, *argv] if gnu_time else argv
            t0 = time.perf_counter()
            p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            _, status, ru = os.wait4(p.pid, 0)
            walls.append(time.perf_counter() - t0)
            cpus.append(ru.ru_utime + ru.ru_stime)  # includes time's child
            code = os.waitstatus_to_exitcode(status)
            if code != 0:
                sys.exit(f"{argv[0]} failed ({code}): {p.stderr.read().decode(errors='replace')}")
            p.stderr.close()
            kib = int(open(tf.name).read().split()[-1]) if gnu_time else ru.ru_maxrss
            rss.append(kib * 1024)  # both in KiB on Linux
    return walls, cpus, rss


def main():
    args = sys.argv[1:]
    runs = 5
    if "--runs" in args:
        i = args.index("--runs")
        runs = int(args[i + 1])
        del args[i:i + 2]
    if len(args) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    gen, inspect, out_dir = args
    os.makedirs(out_dir, exist_ok=True)
    model = os.path.join(out_dir, "bench-llama-f16.gguf")
    subprocess.run([gen, "--layers", "32", "--type", "f16", "-o", model], check=True,
                   stdout=subprocess.DEVNULL)
    size = os.path.getsize(model)
    print(f"file: {model}: {size / 1e9:.2f} GB, sparse (tensor data never written)")

    walls, cpus, rsss = measure([inspect, "--json", model], runs)
    wall, cpu, rss = statistics.median(walls), statistics.median(cpus), max(rsss)
    print(f"m2w-inspect --json: {wall * 1000:.1f} ms wall, {cpu * 1000:.1f} ms CPU (medians of {runs}), "
          f"peak RSS {rss / MIB:.1f} MiB, RSS/file {rss / size:.5f}")

    cache = os.environ.get("M2W_CACHE", "")
    dump = os.path.join(cache, "llama.cpp", "gguf-py", "gguf", "scripts", "gguf_dump.py")
    if not cache or not os.path.exists(dump):
        print("gguf-py: not compared (run tests/conformance/gguf/fetch.sh with M2W_CACHE set)")
        note = "gguf-py not in M2W_CACHE: no peer"
        result("m2w-inspect --json, 3.1 GB GGUF: wall", "ms", stats(walls, 1000), note=note)
        result("m2w-inspect --json, 3.1 GB GGUF: CPU", "ms", stats(cpus, 1000), note=note)
        result("m2w-inspect --json, 3.1 GB GGUF: peak RSS", "MiB", stats(rsss, 1 / MIB), note=note)
        return 0
    py = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
    pruns = max(3, runs // 2)
    pwalls, pcpus, prsss = measure([py, dump, model], pruns)
    pwall, pcpu, prss = statistics.median(pwalls), statistics.median(pcpus), max(prsss)
    swalls, scpus, _ = measure([py, "-c", "import numpy"], pruns)
    swall, scpu = statistics.median(swalls), statistics.median(scpus)
    print(f"gguf-py gguf_dump.py: {pwall:.2f} s wall, {pcpu:.2f} s CPU (medians of {pruns}; "
          f"Python + numpy start-up {swall:.2f} s / {scpu:.2f} s), peak RSS {prss / MIB:.1f} MiB, "
          f"RSS/file {prss / size:.5f}")
    print(f"m2w-inspect vs gguf_dump.py: {pwall / wall:.0f}x less wall time, "
          f"{pcpu / max(cpu, 1e-3):.0f}x less CPU, "
          f"{prss / max(rss, 1):.1f}x less memory")
    peer = "gguf-py gguf_dump.py"
    note = f"peer includes Python + numpy start-up ({swall * 1000:.0f} ms wall)"
    result("m2w-inspect --json, 3.1 GB GGUF: wall", "ms", stats(walls, 1000),
           {"name": peer, **stats(pwalls, 1000)}, note=note)
    result("m2w-inspect --json, 3.1 GB GGUF: CPU", "ms", stats(cpus, 1000),
           {"name": peer, **stats(pcpus, 1000)}, note=note)
    result("m2w-inspect --json, 3.1 GB GGUF: peak RSS", "MiB", stats(rsss, 1 / MIB),
           {"name": peer, **stats(prsss, 1 / MIB)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
