#!/usr/bin/python3
"""Benchmark: m2w-pack on a 2 GB llama-shaped GGUF with real data, next to cp.

gen_gguf_fill writes the file (Q8_0 / Q4_0 / F16 / F32 mix, every byte
written; see gen_gguf_fill.c).  Then, alternating, --runs times:
  cp --reflink=never FILE COPY          (a real data copy, no reflink)
  m2w-pack FILE -o DIR                  (fresh DIR: every shard written)
  m2w-pack FILE -o DIR                  (again: write-if-changed, nothing replaced)
each started after `sync`, so dirty pages of the previous step are not
charged to the next, and each tool's previous output deleted right before
its own run (after the sync): on this VM memory freed a few seconds
earlier is handed back to the host (balloon free-page reporting), and the
first write into it faults at about 0.5 GB/s, so whichever step wrote
into the older free memory was charged seconds for the VM, not its work.  Prints median wall time and throughput (file bytes /
wall) of each, pack's CPU time, the pack / cp ratio (goal: within 2x) and
pack's peak RSS from GNU time (limit: 256 MiB; exit 1 above it), and the
same as `RESULT {json}` lines for tests/bench/record.py (wall seconds,
median/min/max, ratio cp / m2w-pack).  The big files are deleted at the
end, also on failure.

usage: bench_pack.py GEN_GGUF_FILL M2W_PACK OUT_DIR [--layers N] [--runs N]
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

MIB = 1 << 20
RSS_LIMIT = 256 * MIB


def timed(argv, pre=None):
    """(wall s, cpu s, peak RSS bytes) of argv, from GNU time."""
    with tempfile.NamedTemporaryFile("r") as tf:
        subprocess.run(["sync"], check=True)
        if pre:
            pre()
        p = subprocess.run(["/usr/bin/time", "-f", "%e %U %S %M", "-o", tf.name, *argv],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if p.returncode != 0:
            sys.exit(f"{' '.join(argv)} failed ({p.returncode}): {p.stderr}")
        wall, user, sys_, kib = open(tf.name).read().split()[-4:]
    return float(wall), float(user) + float(sys_), int(kib) * 1024


def stats(xs):
    r = lambda v: float(f"{v:.5g}")
    return {"median": r(statistics.median(xs)), "min": r(min(xs)), "max": r(max(xs)), "n": len(xs)}


def main():
    args = sys.argv[1:]
    opts = {"--layers": "32", "--runs": "3"}
    for k in list(opts):
        if k in args:
            i = args.index(k)
            opts[k] = args[i + 1]
            del args[i:i + 2]
    if len(args) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    gen, pack, out_dir = args
    if not os.path.exists("/usr/bin/time"):
        print("SKIP: GNU time (/usr/bin/time) not installed")
        return 77
    runs = int(opts["--runs"])
    os.makedirs(out_dir, exist_ok=True)
    model = os.path.join(out_dir, "bench-pack-fill.gguf")
    copy = os.path.join(out_dir, "bench-pack-fill.copy")
    packed = os.path.join(out_dir, "bench-pack-out")
    try:
        gw, _, _ = timed([gen, "--layers", opts["--layers"], "-o", model])
        size = os.path.getsize(model)
        print(f"file: {model}: {size / 1e9:.2f} GB, data written ({gw:.1f} s to generate)")
        cp, fresh, again = [], [], []
        for _ in range(runs):
            cp.append(timed(["cp", "--reflink=never", model, copy],
                            lambda: os.path.exists(copy) and os.unlink(copy)))
            fresh.append(timed([pack, model, "-o", packed],
                               lambda: shutil.rmtree(packed, ignore_errors=True)))
            again.append(timed([pack, model, "-o", packed]))
        out_bytes = sum(os.path.getsize(os.path.join(packed, f)) for f in os.listdir(packed))

        def line(label, ms):
            wall = statistics.median(m[0] for m in ms)
            cpu = statistics.median(m[1] for m in ms)
            rss = max(m[2] for m in ms)
            print(f"{label:28} {wall:6.2f} s wall  {size / wall / MIB:7.0f} MiB/s  "
                  f"{cpu:6.2f} s CPU  peak RSS {rss / MIB:6.1f} MiB")
            return wall, rss

        print(f"medians of {runs} runs, each after sync:")
        cw, _ = line("cp --reflink=never", cp)
        fw, frss = line("m2w-pack (fresh dir)", fresh)
        aw, arss = line("m2w-pack (unchanged output)", again)
        print(f"packed: {out_bytes / 1e9:.2f} GB in {len(os.listdir(packed))} files")
        print(f"m2w-pack / cp: {fw / cw:.2f}x (fresh), {aw / cw:.2f}x (unchanged); goal <= 2x: "
              f"{'met' if fw <= 2 * cw else 'not met'}")
        size_gb = f"{size / 1e9:.1f} GB GGUF"
        cps = stats([m[0] for m in cp])
        for label, ms in (("fresh output dir", fresh), ("unchanged output, write-if-changed", again)):
            m = stats([x[0] for x in ms])
            print("RESULT " + json.dumps({
                "what": f"m2w-pack {size_gb}, {label}: wall", "unit": "s", "m2w": m,
                "peer": {"name": "cp --reflink=never", **cps},
                "ratio": round(cps["median"] / m["median"], 3),
                "goal": "<= 2x cp's time (ratio >= 0.5)"}), flush=True)
        print("RESULT " + json.dumps({
            "what": f"m2w-pack {size_gb}: peak RSS", "unit": "MiB",
            "m2w": stats([m[2] / MIB for m in fresh + again]), "goal": "< 256 MiB"}), flush=True)
        worst = max(frss, arss)
        print(f"peak RSS {worst / MIB:.1f} MiB, {worst / size * 100:.2f}% of the file; limit 256 MiB: "
              f"{'met' if worst < RSS_LIMIT else 'EXCEEDED'}")
        return 0 if worst < RSS_LIMIT else 1
    finally:
        for p in (model, copy):
            if os.path.exists(p):
                os.unlink(p)
        shutil.rmtree(packed, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
