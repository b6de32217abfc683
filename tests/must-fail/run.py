#!/usr/bin/python3
"""Must-fail suite for m2w-inspect.

1. Hand-made fixtures (fixtures/, listed in expect.tsv with the exact byte
   offset and a phrase the message must contain): exit status 1 and the
   message "m2w-inspect: FILE:0xOFFSET: error: ..." are both checked.
2. A seeded sweep over real seed models: truncation at every byte of the
   header region and at sampled points beyond it, and random byte flips.
   Every run must exit 0 or 1 within the time limit (never a signal, a hang
   or an allocation the machine notices), and every exit 1 must name the
   file and an offset no larger than the file.

usage: run.py M2W_INSPECT [--sweep SEED_FILE...] [--quick]
"""
import os, random, re, resource, subprocess, sys, tempfile

here = os.path.dirname(os.path.abspath(__file__))
inspect = sys.argv[1]
args = sys.argv[2:]
fails = 0
runs = 0
MSG = re.compile(r'^m2w-inspect: (?P<file>.+?):0x(?P<off>[0-9a-f]+): error: (?P<what>.+)$', re.M)


SANITIZED = 'ASAN_OPTIONS' in os.environ


def limit_memory():
    # 4 GiB of address space: a parser that trusts a count and allocates for
    # it fails here instead of swapping the machine.  (Under ASan, whose
    # shadow memory needs terabytes of address space, ASan's own allocator
    # limits catch such an allocation instead.)
    if not SANITIZED:
        resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))


def run(path, extra=()):
    global runs
    runs += 1
    try:
        r = subprocess.run([inspect, '--json', *extra, path], capture_output=True, text=True,
                           errors='replace', timeout=20, preexec_fn=limit_memory)
    except subprocess.TimeoutExpired:
        return None, 'timeout'
    return r.returncode, r.stderr


def fail(msg):
    global fails
    fails += 1
    print('FAIL ' + msg)


# ---- 1. hand-made fixtures ----
fixdir = tempfile.mkdtemp(prefix='m2w-fixtures-')
subprocess.run([sys.executable, os.path.join(here, 'gen_fixtures.py'), fixdir], check=True,
               stdout=subprocess.DEVNULL)
expect = os.path.join(here, 'expect.tsv')
nfix = 0
for line in open(expect):
    line = line.rstrip('\n')
    if not line or line.startswith('#'):
        continue
    name, off, phrase = line.split('\t')[:3]
    path = os.path.join(fixdir, name)
    rc, err = run(path)
    nfix += 1
    m = MSG.search(err or '')
    if rc != 1:
        fail(f'{name}: exit {rc}, expected 1; stderr: {err.strip()[:300]}')
    elif not m:
        fail(f'{name}: message lacks "FILE:0xOFFSET: error:": {err.strip()[:300]}')
    elif m['file'] != path:
        fail(f'{name}: message names {m["file"]}, expected {path}')
    elif off != '*' and int(m['off'], 16) != int(off, 16):
        fail(f'{name}: offset 0x{m["off"]}, expected {off}: {m["what"]}')
    elif phrase.lower() not in m['what'].lower():
        fail(f'{name}: message "{m["what"]}" lacks "{phrase}"')
print(f'{nfix} hand-made fixtures checked')

# ---- 2. sweep ----
seeds = []
quick = '--quick' in args
if '--sweep' in args:
    seeds = [a for a in args[args.index('--sweep') + 1:] if not a.startswith('--')]
    seeds.append(os.path.join(fixdir, 'ok-two-members.task'))  # made by gen_fixtures.py
rng = random.Random(20261124)
tmpdir = tempfile.mkdtemp(prefix='m2w-mustfail-')
for seed in seeds:
    if not os.path.exists(seed):
        print(f'seed {seed}: not present, skipped (fetch it with tools/bootstrap.sh test)')
        continue
    data = open(seed, 'rb').read()
    base = os.path.basename(seed)
    cut_points = list(range(0, min(len(data), 256 if quick else 1024)))
    cut_points += sorted(rng.randrange(len(data)) for _ in range(64 if quick else 400))
    variants = [('trunc', c, data[:c]) for c in cut_points]
    for k in range(64 if quick else 400):
        b = bytearray(data)
        for _ in range(rng.choice([1, 1, 2, 4, 16])):
            pos = rng.randrange(min(len(b), 4096) if rng.random() < 0.7 else len(b))
            b[pos] = rng.choice([0, 0xff, 0x7f, 0x80, rng.randrange(256)])
        variants.append(('flip', k, bytes(b)))
    crashes = 0
    for kind, k, blob in variants:
        path = os.path.join(tmpdir, f'{base}.{kind}{k}')
        with open(path, 'wb') as f:
            f.write(blob)
        rc, err = run(path)
        if rc not in (0, 1):
            crashes += 1
            keep = os.path.join(tmpdir, 'crash-' + os.path.basename(path))
            os.rename(path, keep)
            fail(f'{base} {kind} {k}: exit {rc} ({err.strip()[-200:] if err else ""}); kept as {keep}')
            continue
        if rc == 1:
            m = MSG.search(err)
            if not m and 'error:' in err and f'{path}:' not in err:
                fail(f'{base} {kind} {k}: error does not name the file: {err.strip()[:200]}')
            elif m and int(m['off'], 16) > len(blob):
                fail(f'{base} {kind} {k}: offset 0x{m["off"]} beyond the file ({len(blob)} bytes)')
        os.unlink(path)
    print(f'{base}: {len(variants)} damaged variants, {crashes} crashes')

print(f'{runs} runs, {fails} failures')
sys.exit(1 if fails else 0)
