#!/usr/bin/python3
"""Benchmark: m2w-check on N checkpoints x E f32 elements against NumPy's
np.allclose loop (np.load with mmap_mode='r') on the same files, same run.

Defaults N = 1000, E = 1,000,000: 4 GB per folder, 8 GB in all, written
into OUT_DIR (a build folder) and deleted afterwards unless
M2W_BENCH_KEEP=1.  M2W_BENCH_CHECK_N / M2W_BENCH_CHECK_ELEMS shrink it.
Generation is quick: one base array; checkpoint i is base + i/1000 (ref)
and that plus a fixed noise well inside the tolerance (act), written as
header + raw bytes.  The last checkpoint is wrong (act = 2 x ref), so both
sides must find exactly one failure, and it must be the last.

Before timing, every file is read once so both contestants start from the
page cache.  Then each runs M2W_BENCH_CHECK_RUNS times (default 3),
alternating.  Printed: sizes, generation time, median [min-max] wall and
CPU seconds of each, m2w-check's peak RSS, and the ratio numpy /
m2w-check; and the same figures as `RESULT {json}` lines for
tests/bench/record.py.

usage: bench.py M2W_CHECK OUT_DIR
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

tool, out = sys.argv[1], sys.argv[2]
n_ckpt = int(os.environ.get('M2W_BENCH_CHECK_N', '1000'))
n_elem = int(os.environ.get('M2W_BENCH_CHECK_ELEMS', '1000000'))
keep = os.environ.get('M2W_BENCH_KEEP') == '1'
runs = int(os.environ.get('M2W_BENCH_CHECK_RUNS', '3'))
ref_dir, act_dir = os.path.join(out, 'ref'), os.path.join(out, 'act')


def header(shape):
    """The .npy v1 header NumPy itself would write for an f32 array."""
    import io
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buf, {'descr': '<f4', 'fortran_order': False, 'shape': shape})
    return buf.getvalue()


def generate():
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(ref_dir)
    os.makedirs(act_dir)
    idx = np.arange(n_elem, dtype=np.float64)
    base = np.sin(idx * 0.001) * 4 + np.cos(idx * 0.37)
    noise = (np.sin(idx * 12.9898) * 0.004).astype(np.float32)  # |noise| <= 0.004
    hdr = header((n_elem,))
    for i in range(n_ckpt):
        ref = (base + i / 1000).astype(np.float32)
        act = ref + noise if i < n_ckpt - 1 else ref * np.float32(2)
        name = f'{i:04d}_layer.npy'
        for d, a in ((ref_dir, ref), (act_dir, act)):
            with open(os.path.join(d, name), 'wb') as f:
                f.write(hdr)
                f.write(memoryview(a))


def warm():
    buf = bytearray(1 << 22)
    for d in (ref_dir, act_dir):
        for name in os.listdir(d):
            with open(os.path.join(d, name), 'rb', buffering=0) as f:
                while f.readinto(buf):
                    pass


def run_tool():
    report = os.path.join(out, 'report.json')
    with tempfile.NamedTemporaryFile('r') as tf:
        t0 = time.perf_counter()
        p = subprocess.Popen(['/usr/bin/time', '-f', '%M', '-o', tf.name, tool, ref_dir, act_dir,
                              '--json', report], stdout=subprocess.DEVNULL)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        rss_kb = int(tf.read().strip().splitlines()[-1])
    rep = json.load(open(report))
    return wall, ru.ru_utime + ru.ru_stime, rss_kb, os.waitstatus_to_exitcode(status), rep


def run_numpy():
    names = sorted(os.listdir(ref_dir))
    failed = []
    c0, t0 = time.process_time(), time.perf_counter()
    for name in names:
        a = np.load(os.path.join(act_dir, name), mmap_mode='r')
        b = np.load(os.path.join(ref_dir, name), mmap_mode='r')
        if not np.allclose(a, b, rtol=0.01, atol=0.01):
            failed.append(name[:-4])
    return time.perf_counter() - t0, time.process_time() - c0, failed


def stats(xs):
    r = lambda v: float(f'{v:.5g}')
    return {'median': r(statistics.median(xs)), 'min': r(min(xs)), 'max': r(max(xs)), 'n': len(xs)}


def fmt(xs, unit=' s'):
    return f'{statistics.median(xs):.2f}{unit} [{min(xs):.2f}-{max(xs):.2f}]'


def result(what, unit, m2w, peer, higher_is_better=False):
    """A RESULT line (tests/bench/record.py): m2w and peer are lists of runs."""
    m, p = stats(m2w), stats(peer)
    ratio = m['median'] / p['median'] if higher_is_better else p['median'] / m['median']
    print('RESULT ' + json.dumps({'what': what, 'unit': unit, 'm2w': m,
                                  'peer': {'name': 'numpy allclose loop (np.load mmap)', **p},
                                  'ratio': round(ratio, 3)}), flush=True)


def main():
    per_side = n_ckpt * (n_elem * 4 + 128)
    print(f'm2w-check benchmark: {n_ckpt} checkpoints x {n_elem} f32 elements, '
          f'{per_side / 1e9:.2f} GB per folder, {2 * per_side / 1e9:.2f} GB in all, in {out}')
    print(f'machine: {os.cpu_count()} CPUs, numpy {np.__version__}')
    t0 = time.perf_counter()
    generate()
    print(f'generate: {time.perf_counter() - t0:.1f} s')
    t0 = time.perf_counter()
    warm()
    print(f'warm read: {time.perf_counter() - t0:.1f} s')
    problems = []
    try:
        last = f'{n_ckpt - 1:04d}_layer'
        walls, cpus, rsss, nwalls, ncpus = [], [], [], [], []
        for _ in range(runs):
            wall, cpu, rss, code, rep = run_tool()
            if code != 1 or rep['root'] != last or rep['counts']['failed'] != 1:
                problems.append(f'm2w-check: exit {code}, root {rep["root"]}, '
                                f'{rep["counts"]["failed"]} failed; expected 1, {last}, 1')
            walls.append(wall)
            cpus.append(cpu)
            rsss.append(rss)
            nwall, ncpu, failed = run_numpy()
            if failed != [last]:
                problems.append(f'numpy loop found {failed}, expected [{last}]')
            nwalls.append(nwall)
            ncpus.append(ncpu)
        wall, nwall = statistics.median(walls), statistics.median(nwalls)
        cpu, ncpu = statistics.median(cpus), statistics.median(ncpus)
        print(f'{runs} runs each, alternating; median [min-max]:')
        print(f'm2w-check: {fmt(walls)} wall, {fmt(cpus)} CPU, peak RSS {max(rsss) / 1024:.1f} MiB, '
              f'{n_ckpt * n_elem / wall / 1e6:.0f} M element pairs/s')
        print(f'numpy allclose loop: {fmt(nwalls)} wall, {fmt(ncpus)} CPU')
        print(f'ratio numpy / m2w-check: {nwall / wall:.1f}x wall, {ncpu / cpu:.1f}x CPU')
        what = f'm2w-check, {n_ckpt} checkpoints x {n_elem / 1e6:g}M f32'
        result(f'{what}: wall', 's', walls, nwalls)
        result(f'{what}: CPU', 's', cpus, ncpus)
    finally:
        if not keep:
            shutil.rmtree(out, ignore_errors=True)
            print(f'removed {out}')
    for p in problems:
        print('FAIL:', p)
    return 1 if problems else 0


sys.exit(main())
