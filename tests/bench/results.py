#!/usr/bin/python3
"""The last benchmark: one table of every m2w figure against its peers.

usage: results.py RESULTS_DIR [--plot NODE PLOT_MJS]

Reads RESULTS_DIR/results.jsonl (appended by record.py, one record per
benchmark run), keeps the newest record of each benchmark, and writes
RESULTS_DIR/RESULTS.md (a Markdown table, with the date and the machine)
and RESULTS_DIR/results.json (the same records), then prints the table.
With --plot, plot.mjs renders inference time against the peers per model
as RESULTS_DIR/inference.svg and, through headless Chromium, .png.
A benchmark that failed is listed with its exit status.
"""
import json
import os
import subprocess
import sys


def fmt(v):
    if v is None:
        return "–"
    if isinstance(v, (int, float)):
        a = abs(v)
        if a >= 100:
            return f"{v:.0f}"
        if a >= 10:
            return f"{v:.1f}"
        if a >= 1:
            return f"{v:.2f}"
        return f"{v:.3g}"
    return str(v)


def cell(x, unit):
    if not x:
        return "–"
    s = f"{fmt(x.get('median'))} {unit}"
    if x.get("min") is not None and x.get("max") is not None and x.get("min") != x.get("max"):
        s += f" [{fmt(x['min'])}–{fmt(x['max'])}]"
    return s


def main():
    args = sys.argv[1:]
    plot = None
    if "--plot" in args:
        i = args.index("--plot")
        plot = args[i + 1:i + 3]
        del args[i:i + 3]
    out_dir = args[0]
    path = os.path.join(out_dir, "results.jsonl")
    if not os.path.exists(path):
        print(f"SKIP: {path}: no benchmark has recorded anything yet")
        return 77
    newest = {}
    for line in open(path):
        try:
            r = json.loads(line)
        except ValueError:
            continue
        newest[r["name"]] = r
    recs = sorted(newest.values(), key=lambda r: r["name"])
    machines = sorted({r["machine"] for r in recs})
    dates = sorted(r["date"] for r in recs)
    md = ["# m2w benchmarks", "",
          f"Newest run of each benchmark, {dates[0][:10]} to {dates[-1][:10]}, on "
          + "; ".join(machines) + ".",
          "Medians with [min–max] of repeated runs; every ratio is m2w against the peer "
          "measured in the same run (> 1: m2w is faster / smaller).", "",
          "| benchmark | figure | m2w | peer | peer figure | ratio | goal |",
          "|---|---|---|---|---|---|---|"]
    for r in recs:
        if r["rc"] not in (0, 77):
            md.append(f"| {r['name']} | **failed (exit {r['rc']})** | | | | | |")
        if r["rc"] == 77 and not r["results"]:
            md.append(f"| {r['name']} | skipped: {r['output'].strip().splitlines()[-1][:80] if r['output'].strip() else ''} | | | | | |")
        for x in r["results"]:
            unit = x.get("unit", "")
            peer = x.get("peer") or {}
            ratio = x.get("ratio")
            md.append(f"| {r['name']} | {x.get('what', '')} | {cell(x.get('m2w'), unit)} | "
                      f"{peer.get('name', '–')} | {cell(peer, unit) if peer else '–'} | "
                      f"{fmt(ratio) + '×' if ratio is not None else '–'} | {x.get('goal', '')} |")
    md.append("")
    text = "\n".join(md)
    with open(os.path.join(out_dir, "RESULTS.md"), "w") as f:
        f.write(text)
    with open(os.path.join(out_dir, "results.json"), "w") as f:
        json.dump(recs, f, indent=1)
    print(text)
    print(f"wrote {os.path.join(out_dir, 'RESULTS.md')} and results.json")
    if plot:
        node, script = plot
        p = subprocess.run([node, script, os.path.join(out_dir, "results.json"),
                            os.path.join(out_dir, "inference")], text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        print(p.stdout.strip())
    return 0


if __name__ == "__main__":
    sys.exit(main())
