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

3. For GGUF seeds, structure-aware variants: the file is walked (header,
   every key/value, every tensor info) and each count, length, type, dim
   and offset field gets absurd values (0, 2^31, 2^32-1, 2^62, 2^64-1, the
   field + 1), and the file is cut at every structural boundary (each
   field's start; sampled past the first 512 fields; --quick: the first
   40 fields' values, cuts at 128 + 32 sampled).  Same checks as 2, and
   no run may report running out of memory (with M2W_MUST_FAIL_AS_MB set,
   that is an allocation beyond input size + the bound).

With --extract M2W_EXTRACT the damaged variants (2 and 3) also go through
m2w-extract (output into a scratch folder), under the same checks.

usage: run.py M2W_INSPECT [--extract M2W_EXTRACT] [--sweep SEED_FILE...] [--quick]
"""
import os, random, re, struct, subprocess, sys, tempfile

from gguf_walk import gguf_fields  # beside this script

here = os.path.dirname(os.path.abspath(__file__))
inspect = sys.argv[1]
args = sys.argv[2:]
fails = 0
runs = 0
MSG = re.compile(r'^m2w-inspect: (?P<file>.+?):0x(?P<off>[0-9a-f]+): error: (?P<what>.+)$', re.M)


SANITIZED = 'ASAN_OPTIONS' in os.environ
# M2W_MUST_FAIL_AS_MB=N (the 'ulimit' test setup sets it): each run gets the
# input's size plus N MiB of address space (the mapped input, the program
# and its libraries, and the fixed bound a parser may allocate), so a parser
# that allocates for a count or size it read fails visibly.
AS_BOUND = int(os.environ.get('M2W_MUST_FAIL_AS_MB', '0') or 0) << 20


def limit_memory(path):
    # Default 4 GiB of address space: a parser that trusts a count and
    # allocates for it fails here instead of swapping the machine.  (Under
    # ASan, whose shadow memory needs terabytes of address space, ASan's own
    # allocator limits catch such an allocation instead.)  prlimit(1) sets
    # it in the child, so Python spawns without a preexec_fn (no fork of
    # its own address space for each of thousands of runs).
    if SANITIZED:
        return []
    lim = 4 << 30
    if AS_BOUND:
        lim = os.path.getsize(path) + AS_BOUND
    return ['prlimit', '--as=%d' % lim, '--']


EXTRACT = args[args.index('--extract') + 1] if '--extract' in args else None
if EXTRACT:
    args = args[:args.index('--extract')] + args[args.index('--extract') + 2:]
MSG_ANY = re.compile(r'^m2w-(?:inspect|extract): (?P<file>.+?):0x(?P<off>[0-9a-f]+): error: (?P<what>.+)$', re.M)


def run(path, extra=(), tool=None):
    global runs
    runs += 1
    argv = limit_memory(path) + [inspect, '--json', *extra, path] if tool is None else \
        limit_memory(path) + [tool, '-q', path, '-o', os.path.join(os.path.dirname(path), 'out', 'w.bin')]
    try:
        r = subprocess.run(argv, capture_output=True, text=True,
                           errors='replace', timeout=20)
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

# ---- GGUF structure, for structure-aware variants ----
ABSURD = [0, 1 << 31, (1 << 32) - 1, 1 << 62, (1 << 64) - 1]


def gguf_variants(data, rng, quick):
    fields = gguf_fields(data)
    if not fields:
        return []
    out = []
    # fields in the array of a big vocabulary repeat: all of the first 512, then a sample
    head = 128 if quick else 512
    pick = fields[:head] + (rng.sample(fields[head:], min(len(fields) - head, 32 if quick else 512))
                            if len(fields) > head else [])
    for off, w, kind in pick:
        out.append((f'cut@{kind.replace(" ", "_")}', off, data[:off]))
    for off, w, kind in (fields[:40] if quick else fields[:512]):
        cur = int.from_bytes(data[off:off + w], 'little')
        for v in ABSURD + [cur + 1]:
            v &= (1 << (8 * w)) - 1
            if v == cur:
                continue
            b = bytearray(data)
            b[off:off + w] = v.to_bytes(w, 'little')
            out.append((f'{kind.replace(" ", "_")}={v:#x}@', off, bytes(b)))
    return out


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
    structural = gguf_variants(data, rng, quick)
    variants += structural
    crashes = 0
    vdir = os.path.join(tmpdir, 'v')
    os.makedirs(os.path.join(vdir, 'out'), exist_ok=True)
    for kind, k, blob in variants:
        path = os.path.join(vdir, f'{base}.{kind}{k}')
        with open(path, 'wb') as f:
            f.write(blob)
        for tool in [None] + ([EXTRACT] if EXTRACT else []):
            name = 'm2w-inspect' if tool is None else 'm2w-extract'
            rc, err = run(path, tool=tool)
            if rc not in (0, 1):
                crashes += 1
                keep = os.path.join(tmpdir, 'crash-' + os.path.basename(path))
                with open(keep, 'wb') as f:
                    f.write(blob)
                fail(f'{base} {kind} {k}: {name} exit {rc} ({err.strip()[-200:] if err else ""}); kept as {keep}')
                continue
            if rc == 1:
                m = MSG_ANY.search(err)
                if not m and 'error:' in err and f'{path}:' not in err:
                    fail(f'{base} {kind} {k}: {name}: error does not name the file: {err.strip()[:200]}')
                elif m and int(m['off'], 16) > len(blob):
                    fail(f'{base} {kind} {k}: {name}: offset 0x{m["off"]} beyond the file ({len(blob)} bytes)')
                elif 'out of memory' in err.lower():
                    # under the address-space bound: it tried to allocate beyond it
                    fail(f'{base} {kind} {k}: {name} ran out of memory: {err.strip()[:200]}')
        os.unlink(path)
    print(f'{base}: {len(variants)} damaged variants ({len(structural)} structure-aware)'
          f'{", through m2w-inspect and m2w-extract" if EXTRACT else ""}, {crashes} crashes')

print(f'{runs} runs, {fails} failures' + (f'; address space per run: input size + {AS_BOUND >> 20} MiB' if AS_BOUND and not SANITIZED else ''))
sys.exit(1 if fails else 0)
