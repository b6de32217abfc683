#!/usr/bin/python3
"""run.py M2W_CHECK CASE GOLDEN_DIR WORK_DIR: one m2w-check outcome.

Builds the case's checkpoint pairs (cases.py) in WORK_DIR/CASE, runs
m2w-check there on `ref act` (relative paths, so reports carry no absolute
path) and checks:
  - the exit status, the root, the root's hint kind, the order source,
    the checkpoint order, stderr when the case names a pattern;
  - every compared checkpoint against NumPy recomputing the same numbers
    from the files (failing count per element, NaN/Inf counts, max abs,
    first failing index, and that atol_needed passes where a slightly
    smaller atol fails);
  - stdout and the JSON report, byte for byte, against GOLDEN_DIR/CASE.txt
    and CASE.json (the "version" line of the JSON ignored).
Set M2W_UPDATE_GOLDEN=1 to rewrite the golden files instead of comparing.

Special case "cli": --help, --version, usage errors (exit 2), an empty or
absent folder (exit 1), and byte-identical reruns.
"""
import difflib
import json
import os
import re
import shutil
import subprocess
import sys

import numpy as np

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cases  # noqa: E402

tool, name, golden, work = sys.argv[1:5]
tool = os.path.abspath(tool)
errors = []


def err(msg):
    errors.append(msg)


def run(args, cwd):
    return subprocess.run([tool] + args, cwd=cwd, capture_output=True, text=True)


def cli():
    d = os.path.join(work, 'cli')
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(os.path.join(d, 'empty_ref'))
    os.makedirs(os.path.join(d, 'empty_act'))
    r = run(['--help'], d)
    if r.returncode != 0 or 'Usage: m2w-check' not in r.stdout:
        err(f'--help: exit {r.returncode}')
    r = run(['--version'], d)
    if r.returncode != 0 or not re.fullmatch(r'm2w-check \d+\.\d+\.\d+\n', r.stdout):
        err(f'--version: exit {r.returncode}, {r.stdout!r}')
    for args in ([], ['only_one'], ['a', 'b', 'c'], ['--atol', 'x', 'a', 'b'],
                 ['--rtol', '-1', 'a', 'b'], ['--bogus', 'a', 'b']):
        r = run(args, d)
        if r.returncode != 2 or not r.stderr.startswith('m2w-check: ') and 'Usage' not in r.stderr:
            err(f'{args}: expected usage error exit 2, got {r.returncode}: {r.stderr!r}')
    r = run(['empty_ref', 'empty_act'], d)
    if r.returncode != 1 or 'no .npy checkpoints' not in r.stderr:
        err(f'empty folders: exit {r.returncode}: {r.stderr!r}')
    r = run(['no_such_ref', 'empty_act'], d)
    if r.returncode != 1 or not r.stderr.startswith('m2w-check: no_such_ref: error: cannot open'):
        err(f'absent folder: exit {r.returncode}: {r.stderr!r}')
    # only-one-side checkpoints: nothing to compare is an error, not a pass
    cases.save(d, 'only_ref', 'x', np.zeros(2, np.float32))
    cases.save(d, 'only_act', 'y', np.zeros(2, np.float32))
    r = run(['only_ref', 'only_act'], d)
    if r.returncode != 1 or 'no checkpoint is present in both' not in r.stderr:
        err(f'disjoint folders: exit {r.returncode}: {r.stderr!r}')
    # a bad tolerance file names its offset; a bad order file its line
    open(os.path.join(d, 'tol.json'), 'w').write('{"default": {"atol": 0.1,}}')
    r = run(['--tolerances', 'tol.json', 'only_ref', 'only_act'], d)
    if r.returncode != 1 or not re.match(r'm2w-check: tol\.json:0x[0-9a-f]+: error: ', r.stderr):
        err(f'bad tolerances: exit {r.returncode}: {r.stderr!r}')
    open(os.path.join(d, 'order.txt'), 'w').write('x\ny\nx\n')
    r = run(['--order', 'order.txt', 'only_ref', 'only_act'], d)
    if r.returncode != 1 or 'order.txt:0x4: error: checkpoint "x" listed twice' not in r.stderr:
        err(f'bad order file: exit {r.returncode}: {r.stderr!r}')
    # a bad manifest.json is named with its path and offset
    cases.save(d, 'm_ref', 'x', np.zeros(2, np.float32))
    cases.save(d, 'm_act', 'x', np.zeros(2, np.float32))
    open(os.path.join(d, 'm_act', 'manifest.json'), 'w').write('{"checkpoints": ["x",]}')
    r = run(['m_ref', 'm_act'], d)
    if r.returncode != 1 or not r.stderr.startswith('m2w-check: m_act/manifest.json:0x15: error: '):
        err(f'bad manifest: exit {r.returncode}: {r.stderr!r}')
    # same inputs, same bytes; an unchanged report keeps its mtime
    cd = os.path.join(work, 'cli_rerun')
    shutil.rmtree(cd, ignore_errors=True)
    os.makedirs(cd)
    cases.hint_scale_2(cd)
    a = run(['ref', 'act', '--json', 'r.json'], cd)
    m1 = os.stat(os.path.join(cd, 'r.json')).st_mtime_ns
    j1 = open(os.path.join(cd, 'r.json')).read()
    b = run(['ref', 'act', '--json', 'r.json'], cd)
    if a.stdout != b.stdout or j1 != open(os.path.join(cd, 'r.json')).read():
        err('two runs differ')
    if os.stat(os.path.join(cd, 'r.json')).st_mtime_ns != m1:
        err('an unchanged report was rewritten')


def recompute(cd, cp, order):
    """NumPy's view of one compared checkpoint vs the report's."""
    nm = cp['name']
    r = np.load(os.path.join(cd, 'ref', nm + '.npy')).astype(np.float64)
    a = np.load(os.path.join(cd, 'act', nm + '.npy')).astype(np.float64)
    tag = f'{nm}:'
    for side, x in (('ref', r), ('act', a)):
        if cp[side]['nan'] != int(np.isnan(x).sum()) or cp[side]['inf'] != int(np.isinf(x).sum()):
            err(f'{tag} {side} NaN/Inf counts {cp[side]["nan"]}/{cp[side]["inf"]}')
        if cp[side]['shape'] != list(x.shape):
            err(f'{tag} {side} shape {cp[side]["shape"]} vs {list(x.shape)}')
    if r.size != a.size:
        if 'elements' in cp:
            err(f'{tag} statistics reported for different element counts')
        return
    rf, af = r.ravel(), a.reshape(-1)
    atol, rtol = cp['atol'], cp['rtol']

    def fails(at):
        with np.errstate(invalid='ignore'):
            ok = np.abs(af - rf) <= at + rtol * np.abs(rf)
            ok |= np.isinf(af) & np.isinf(rf) & (af == rf)
        return ~ok

    bad = fails(atol)
    if cp['failing'] != int(bad.sum()):
        err(f'{tag} failing {cp["failing"]}, NumPy counts {int(bad.sum())}')
    want_status = 'pass' if not bad.any() and r.shape == a.shape else 'fail'
    if cp['status'] != want_status:
        err(f'{tag} status {cp["status"]}, expected {want_status}')
    first = None if not bad.any() else list(np.unravel_index(int(np.argmax(bad)), r.shape))
    if cp['first_fail'] != ([int(i) for i in first] if first is not None else None):
        err(f'{tag} first_fail {cp["first_fail"]} vs {first}')
    fin = np.isfinite(af) & np.isfinite(rf)
    if fin.any():
        mx = float(np.abs(af - rf)[fin].max())
        if not np.isclose(cp['max_abs'], mx, rtol=1e-6, atol=0):
            err(f'{tag} max_abs {cp["max_abs"]} vs {mx}')
    need = cp['atol_needed']
    if need == 'inf':
        if not (np.isnan(af).any() or np.isnan(rf).any() or (np.isinf(af) != np.isinf(rf)).any()
                or (np.isinf(af) & (af != rf)).any()):
            err(f'{tag} atol_needed inf without a NaN/Inf mismatch')
    else:
        if fails(need * (1 + 1e-6) + 1e-12).any():
            err(f'{tag} atol_needed {need} does not pass')
        if need > 0 and not fails(need * (1 - 1e-4)).any():
            err(f'{tag} atol_needed {need} is not the smallest')


def golden_compare(kind, got):
    path = os.path.join(golden, f'{name}.{kind}')
    if os.environ.get('M2W_UPDATE_GOLDEN') == '1':
        with open(path, 'w') as f:
            f.write(got)
        return
    try:
        want = open(path).read()
    except FileNotFoundError:
        err(f'no golden file {path} (M2W_UPDATE_GOLDEN=1 writes it)')
        return
    strip = (lambda s: re.sub(r'^\s*"version":.*\n', '', s, flags=re.M)) if kind == 'json' \
        else (lambda s: s)
    if strip(want) != strip(got):
        diff = difflib.unified_diff(strip(want).splitlines(True), strip(got).splitlines(True),
                                    path, 'output')
        err(f'{kind} differs from golden:\n' + ''.join(list(diff)[:60]))


def main():
    if name == 'cli':
        cli()
        return
    cd = os.path.join(work, name)
    shutil.rmtree(cd, ignore_errors=True)
    os.makedirs(cd)
    exp = cases.CASES[name](cd)
    p = run(['ref', 'act', '--json', 'report.json'] + exp.get('args', []), cd)
    if p.returncode != exp['exit']:
        err(f'exit {p.returncode}, expected {exp["exit"]}; stderr: {p.stderr.strip()}')
    if 'stderr' in exp and not re.search(exp['stderr'], p.stderr):
        err(f'stderr {p.stderr!r} does not match {exp["stderr"]!r}')
    if 'stderr' not in exp and p.stderr:
        err(f'unexpected stderr {p.stderr!r}')
    try:
        rep = json.load(open(os.path.join(cd, 'report.json')))
    except (OSError, ValueError) as e:
        err(f'no JSON report: {e}')
        return
    if rep['root'] != exp['root']:
        err(f'root {rep["root"]}, expected {exp["root"]}')
    if rep['order'] != exp['order']:
        err(f'order {rep["order"]}, expected {exp["order"]}')
    names = [c['name'] for c in rep['checkpoints']]
    if 'names' in exp and names != exp['names']:
        err(f'checkpoint order {names}, expected {exp["names"]}')
    if rep['result'] != ('fail' if exp['exit'] else 'pass'):
        err(f'result {rep["result"]}')
    seen_root = False
    for c in rep['checkpoints']:
        failed = c['status'] in ('fail', 'error', 'missing')
        want_role = None if not failed else ('downstream' if seen_root else 'root')
        seen_root = seen_root or failed
        if c['role'] != want_role:
            err(f'{c["name"]}: role {c["role"]}, expected {want_role}')
        if c['role'] == 'root':
            h = c.get('hint') or {}
            if h.get('kind') != exp.get('hint'):
                err(f'root hint {h.get("kind")}, expected {exp.get("hint")}: {h}')
            if 'text' in exp and not re.search(exp['text'], h.get('text', '')):
                err(f'hint text {h.get("text")!r} does not match {exp["text"]!r}')
            if 'relation' in exp and c.get('relation') != exp['relation']:
                err(f'relation {c.get("relation")}, expected {exp["relation"]}')
            if failed and len(c.get('values', [])) == 0 and c['status'] == 'fail':
                err('the root shows no values')
        elif 'hint' in c:
            err(f'{c["name"]}: a hint on a non-root checkpoint')
        if c['status'] in ('pass', 'fail'):
            recompute(cd, c, rep['order'])
    if 'check' in exp:
        msg = exp['check'](cd, rep)
        if msg:
            err(msg)
    golden_compare('txt', p.stdout)
    golden_compare('json', open(os.path.join(cd, 'report.json')).read())


main()
for e in errors:
    print(f'{name}: {e}')
print(f'{name}: {"FAIL" if errors else "ok"} ({len(errors)} problems)')
sys.exit(1 if errors else 0)
