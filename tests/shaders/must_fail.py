#!/usr/bin/python3
"""Must-fail tests for m2w-shadergen: every fixture in must-fail/expect.tsv
must exit 1 with "m2w-shadergen: FILE:LINE:COL: error: ..." naming the
expected line and column and containing the expected phrase, and must not
leave an output file behind.

usage: must_fail.py M2W_SHADERGEN FIXTURE_DIR WORK_DIR
"""
import os, re, subprocess, sys

tool, fdir, work = sys.argv[1:4]
os.makedirs(work, exist_ok=True)
MSG = re.compile(r'^m2w-shadergen: (?P<file>.+?):(?P<line>\d+):(?P<col>\d+): error: (?P<what>.+)$')
fails = n = 0
with open(os.path.join(fdir, 'expect.tsv')) as f:
    for row in f:
        if row.startswith('#') or not row.strip():
            continue
        n += 1
        fixture, opts, where, phrase = row.rstrip('\n').split('\t')
        path = os.path.join(fdir, fixture)
        out = os.path.join(work, fixture + '.ts')
        if os.path.exists(out):
            os.unlink(out)
        r = subprocess.run([tool, *opts.split(), path, '-o', out], capture_output=True, text=True,
                           timeout=20)
        lines = r.stderr.strip().splitlines()
        m = MSG.match(lines[0]) if len(lines) == 1 else None
        problems = []
        if r.returncode != 1:
            problems.append(f'exit {r.returncode}, want 1')
        if not m:
            problems.append(f'message {r.stderr.strip()!r} is not one "FILE:LINE:COL: error:" line')
        else:
            if m['file'] != path:
                problems.append(f'names file {m["file"]}')
            if f'{m["line"]}:{m["col"]}' != where:
                problems.append(f'at {m["line"]}:{m["col"]}, want {where}')
            if phrase not in m['what']:
                problems.append(f'message lacks {phrase!r}')
        if os.path.exists(out) or any(x.startswith(fixture + '.ts.tmp') for x in os.listdir(work)):
            problems.append('left an output behind')
        if problems:
            fails += 1
            print(f'FAIL {fixture}: ' + '; '.join(problems))
        else:
            print(f'ok   {fixture}: {lines[0]}')
print(f'{n} must-fail fixtures, {fails} failures')
sys.exit(1 if fails or not n else 0)
