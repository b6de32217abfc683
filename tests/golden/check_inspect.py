#!/usr/bin/python3
"""Golden tests for m2w-inspect on the vendored model: the summary, --json
and --markdown output must equal the committed files byte for byte (set
M2W_UPDATE_GOLDEN=1 to rewrite them after an intended change), every
output is deterministic, and -o / --markdown / --expose-intermediates
leave an unchanged file untouched (same mtime) on a second run."""
import os, subprocess, sys, tempfile

inspect, model = os.path.abspath(sys.argv[1]), sys.argv[2]
here = os.path.dirname(os.path.abspath(__file__))
update = os.environ.get('M2W_UPDATE_GOLDEN') == '1'
tmp = tempfile.mkdtemp(prefix='m2w-golden-')
fails = 0


def run(*args):
    return subprocess.run([inspect, *args], capture_output=True, check=True).stdout


def golden(name, data):
    global fails
    path = os.path.join(here, name)
    if update:
        open(path, 'wb').write(data)
        return
    want = open(path, 'rb').read()
    if data != want:
        fails += 1
        a, b = data.decode(errors='replace').splitlines(), want.decode(errors='replace').splitlines()
        first = next((i for i in range(min(len(a), len(b))) if a[i] != b[i]), min(len(a), len(b)))
        print(f'{name}: differs from golden at line {first + 1}:\n  got:  {a[first] if first < len(a) else "<eof>"}\n'
              f'  want: {b[first] if first < len(b) else "<eof>"}')


# the summary names the model by the path given: run from its folder
os.chdir(os.path.dirname(os.path.abspath(model)))
base = os.path.basename(model)
golden('face.summary.txt', run(base))
golden('face.json', run('--json', base))
md = os.path.join(tmp, 'a.md')
run('--markdown', md, base)
golden('face.md', open(md, 'rb').read())

# determinism and write-if-changed
for args, out in [(['--json', '-o'], 'x.json'), (['--markdown'], 'x.md'),
                  (['--expose-intermediates'], 'x.tflite')]:
    p = os.path.join(tmp, out)
    run(*args, p, base)
    first = open(p, 'rb').read()
    os.utime(p, (1_000_000_000, 1_000_000_000))
    run(*args, p, base)
    if open(p, 'rb').read() != first:
        fails += 1; print(f'{" ".join(args)}: output differs between runs')
    if os.stat(p).st_mtime != 1_000_000_000:
        fails += 1; print(f'{" ".join(args)}: unchanged output was rewritten (mtime moved)')
    if [f for f in os.listdir(tmp) if '.tmp.' in f]:
        fails += 1; print(f'{" ".join(args)}: a temp file was left behind')

# usage errors exit 2, --help and --version exit 0
for args, want in [([], 2), (['--bogus', base], 2), (['a', 'b'], 2), (['--help'], 0), (['--version'], 0)]:
    r = subprocess.run([inspect, *args], capture_output=True)
    if r.returncode != want:
        fails += 1; print(f'm2w-inspect {" ".join(args)}: exit {r.returncode}, expected {want}')
r = subprocess.run([inspect, os.path.join(tmp, 'missing.onnx')], capture_output=True, text=True)
if r.returncode != 1 or 'missing.onnx: error: cannot open' not in r.stderr:
    fails += 1; print(f'missing file: exit {r.returncode}: {r.stderr.strip()}')

print('golden: ' + ('updated' if update else 'all match' if not fails else f'{fails} failures'))
sys.exit(1 if fails else 0)
