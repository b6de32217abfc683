#!/usr/bin/python3
"""Run one benchmark and record its figures for RESULTS.md.

usage: record.py RESULTS_DIR NAME -- COMMAND [ARG]...

Runs COMMAND with its output passed through, and appends one JSON line to
RESULTS_DIR/results.jsonl: {"name", "date", "machine", "rc", "seconds",
"results": [...], "output": <last 4000 characters>}.  "results" holds every
line the benchmark printed as `RESULT {json}`, each one figure of m2w next
to a peer measured in the same run:

  {"what": "...", "unit": "ms" | "MiB/s" | ...,
   "m2w": {"median", "min", "max", "n"?}, "peer": {"name", "median", "min", "max"}?,
   "ratio": <peer/m2w for times, m2w/peer for throughputs: > 1 means m2w wins>,
   "goal": "..."?, "note": "..."?}

The exit status is COMMAND's.  tests/bench/results.py (the last
benchmark) turns the newest record of every benchmark into RESULTS.md and
results.json.
"""
import datetime
import json
import os
import platform
import subprocess
import sys
import time


def machine():
    cpu = "?"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.node() or 'host'}: {os.cpu_count()} x {cpu}, Linux {platform.release()}"


def main():
    if len(sys.argv) < 5 or sys.argv[3] != "--":
        print(__doc__, file=sys.stderr)
        return 2
    out_dir, name, cmd = sys.argv[1], sys.argv[2], sys.argv[4:]
    os.makedirs(out_dir, exist_ok=True)
    t = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines, results = [], []
    for line in p.stdout:
        sys.stdout.write(line)
        sys.stdout.flush()
        lines.append(line)
        if line.startswith("RESULT "):
            try:
                results.append(json.loads(line[7:]))
            except ValueError as e:
                print(f"record.py: bad RESULT line ({e}): {line.strip()}")
    rc = p.wait()
    rec = {"name": name, "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
           "machine": machine(), "rc": rc, "seconds": round(time.monotonic() - t, 1),
           "results": results, "output": "".join(lines)[-4000:]}
    with open(os.path.join(out_dir, "results.jsonl"), "a") as f:
        f.write(json.dumps(rec) + "\n")
    return rc


if __name__ == "__main__":
    sys.exit(main())
