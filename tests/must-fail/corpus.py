#!/usr/bin/python3
"""Seeded corpus of bad inputs for every format the m2w tools read (issue 11).

Generated at test time from a fixed seed (nothing generated is committed),
each case a folder of files plus the tool runs that must refuse it:

  onnx      a protobuf walk of each seed model (ModelProto, GraphProto,
            NodeProto, AttributeProto, TensorProto, ValueInfoProto, TypeProto,
            recursively, subgraphs included): cuts at every field's start;
            every length set to 0, 2^31, 2^32-1, 2^63, 2^64-1, length+1, past
            the end (the enclosing messages kept consistent, so the lie is
            the field's own); varints absurd; dims negative, 2^62, products
            overflowing 2^64; raw_data one byte short / long; data_type out of
            range; external_data escaping the folder, absolute, huge
            offset/length; built from scratch: subgraphs, sequence types and
            protobuf groups nested 10^5 deep, graph cycles, self loops,
            tensors with two producers or none.  Runs: m2w-inspect,
            m2w-extract, m2w-scaffold (with the --dim bindings the seed needs).
  tflite    a flatbuffer walk (root, vtables, Model.operator_codes /
            subgraphs / buffers, SubGraph.tensors / operators, Tensor.shape /
            buffer / quantization, Buffer.data, strings): every uoffset made
            self-referencing, cyclic (to the root or the parent table),
            misaligned, past the end; every vtable size / entry, vector and
            string length absurd; indices (tensor, buffer, opcode) out of
            range; dims negative, huge, overflowing; cuts at every
            boundary.  Runs: m2w-inspect, m2w-extract.
  zip       .task bundles: every header field (local, central, end record,
            zip64 record and locator) absurd, cuts at every header; bombs
            (huge declared size, deflate output beyond its declared size,
            zip64 sizes), path traversal names (m2w-extract must write
            nothing outside its output folder: checked), duplicate names,
            central directory lying about offsets, sizes and counts.
  gguf      every tensor info field (n_dims, dims, type, offset, name length)
            and a sample of the header and key/value fields absurd, cuts at
            fields.  Runs: m2w-pack (run.py covers m2w-inspect, m2w-extract).
  npy       lying headers: shape larger / smaller than the data, shape
            products overflowing, bad descr, fortran_order, header length
            past the end, non-ASCII, nested 10^5 deep; cuts.  Runs:
            m2w-inspect, m2w-check (as the act and as the ref side).
  manifest  m2w-check's manifest.json / --tolerances / --order; m2w-pack's
            input weights.json + weights.bin (made by m2w-extract from a
            seed) and --unpack's shards.json + shards (made by m2w-pack):
            missing files, offsets past the blob, sizes disagreeing,
            duplicate names, wrong JSON types, escaping file names, cuts.

Each run must: exit 1 (0 is allowed, and counted, only where the mutation
may leave a valid file), never a signal or a hang; print "m2w-TOOL:
FILE:0xOFFSET: error: ..." naming one of the case's files with the offset
no larger than that file; finish within --time-limit seconds (1); not run
out of memory: with M2W_MUST_FAIL_AS_MB=N (the 'ulimit' test setup) each
run's address space is the case's input size + N MiB.

usage: corpus.py --tools M2W_TOOL... [--quick] [--seed N] [--only FMT,..] [--dry-run]
                 [--keep DIR] [--jobs N] [--time-limit S] [SEED_FILE...]
SEED_FILEs: .onnx, .tflite, .gguf by extension (the zip cases wrap the
smallest .tflite, the m2w-pack manifests come from the largest .onnx under
4 MiB); missing ones are reported and skipped.  --dry-run counts the cases
and runs without running them.  A case's expectation is written beside its
generator: BAD (exit 1), MAYBE (0 allowed: the damage may leave a valid
file, or the tool does not read that part), or per tool.  A failing
case's files go to --keep DIR (default: a temporary folder, printed) with
a line to rerun it.  "finish within" is CPU time (user + system), so a
loaded CI machine does not fail it; the slowest run is printed.
"""
import io, json, multiprocessing, os, random, re, resource, shutil, struct, subprocess
import sys, tempfile, time, zipfile, zlib

from gguf_walk import gguf_fields  # noqa: E402 (beside this script)

# ---------------------------------------------------------------- options
argv = sys.argv[1:]


def opt(name, default=None, many=False):
    global argv
    if name not in argv:
        return default
    i = argv.index(name)
    if many:
        vals = []
        j = i + 1
        while j < len(argv) and not argv[j].startswith('--'):
            vals.append(argv[j])
            j += 1
        argv = argv[:i] + argv[j:]
        return vals
    v = argv[i + 1]
    argv = argv[:i] + argv[i + 2:]
    return v


def flag(name):
    global argv
    if name in argv:
        argv.remove(name)
        return True
    return False


TOOLS = {os.path.basename(t): os.path.abspath(t) for t in opt('--tools', [], many=True)}
QUICK = flag('--quick')
SEED = int(opt('--seed', '20261124'))
ONLY = set(opt('--only', 'onnx,tflite,zip,gguf,npy,manifest').split(','))
KEEP = opt('--keep')
DRY = flag('--dry-run')                  # count the cases and runs, run nothing
JOBS = int(opt('--jobs', str(min(4, os.cpu_count() or 1))))
TIME_LIMIT = float(opt('--time-limit', '1'))
SEEDS = [a for a in argv if not a.startswith('--')]
SANITIZED = 'ASAN_OPTIONS' in os.environ or 'VALGRIND' in os.environ
AS_BOUND = int(os.environ.get('M2W_MUST_FAIL_AS_MB', '0') or 0) << 20
ONNX_TREE_BOUND = 72 << 20   # onnx.c: M2W_ONNX_TREE_CAP + M2W_ONNX_TREE_FLOOR
if SANITIZED:
    TIME_LIMIT *= 20
MSG = re.compile(r'^(?P<tool>m2w-[a-z]+): (?P<file>.+?):0x(?P<off>[0-9a-f]+): error: (?P<what>.+)$', re.M)
BAD, MAYBE = 'bad', 'maybe'   # must exit 1 / may exit 0 (a still valid file)
CMP = 'cmp'                   # m2w-check: exit 1, its report's "missing" status is the message


def tool(name):
    return TOOLS.get(name)


# ---------------------------------------------------------------- cases
class Case:
    """files: {relative path: bytes}; runs: [(tool name, [args]), ...] where
    an arg '{d}' is replaced by the case folder; expect: BAD or MAYBE (one
    for all runs, or a dict tool -> expectation)."""
    __slots__ = ('fmt', 'name', 'files', 'runs', 'expect', 'dirs')

    def __init__(self, fmt, name, files, runs, expect=BAD, dirs=()):
        self.fmt, self.name, self.files, self.runs, self.expect = fmt, name, files, runs, expect
        self.dirs = dirs

    def expect_for(self, t):
        return self.expect.get(t, MAYBE) if isinstance(self.expect, dict) else self.expect


def runs_model(path_rel, extract=True, scaffold_dims=None, inspect=True):
    r = []
    if inspect:
        r.append(('m2w-inspect', ['--json', '{d}/' + path_rel]))
    if extract:
        r.append(('m2w-extract', ['-q', '{d}/' + path_rel, '-o', '{d}/out/w.bin']))
    if scaffold_dims is not None:
        a = []
        for dd in scaffold_dims:
            a += ['--dim', dd]
        r.append(('m2w-scaffold', a + ['{d}/' + path_rel, '-o', '{d}/out/scaffold']))
    return r


def sample(rng, items, n):
    items = list(items)
    if n is None or len(items) <= n:
        return items
    return rng.sample(items, n)


# ================================================================= ONNX
def varint(v):
    v &= (1 << 64) - 1
    b = bytearray()
    while True:
        c = v & 0x7f
        v >>= 7
        if v:
            b.append(c | 0x80)
        else:
            b.append(c)
            return bytes(b)


def pfield(num, wire, payload):
    tag = varint(num << 3 | wire)
    if wire == 2:
        return tag + varint(len(payload)) + payload
    if wire == 0:
        return tag + varint(payload)
    return tag + payload


SCHEMA = {
    'Model': {7: 'Graph', 8: 'OpSet', 14: 'SSE', 20: 'Training', 25: 'Function'},
    'Graph': {1: 'Node', 5: 'Tensor', 15: 'Sparse', 11: 'VI', 12: 'VI', 13: 'VI', 14: 'Annot'},
    'Node': {5: 'Attr'},
    'Attr': {5: 'Tensor', 6: 'Graph', 10: 'Tensor', 11: 'Graph', 22: 'Sparse', 23: 'Type'},
    'Tensor': {13: 'SSE', 3: 'Segment'},
    'Sparse': {1: 'Tensor', 2: 'Tensor'},
    'VI': {2: 'Type'},
    'Type': {1: 'TT', 4: 'Seq', 5: 'Map', 9: 'Opt', 8: 'TT'},
    'TT': {2: 'Shape'},
    'Shape': {1: 'Dim'},
    'Seq': {1: 'Type'}, 'Opt': {1: 'Type'}, 'Map': {2: 'Type'},
    'Function': {7: 'Node', 11: 'Attr', 9: 'OpSet'},
    'Training': {1: 'Graph', 2: 'Graph'},
    'Annot': {2: 'SSE'},
}
NAMES = {('Tensor', 1): 'dims', ('Tensor', 2): 'data_type', ('Tensor', 9): 'raw_data',
         ('Tensor', 14): 'data_location', ('TT', 1): 'elem_type', ('Dim', 1): 'dim_value',
         ('Attr', 20): 'attr_type', ('Attr', 3): 'attr_i', ('Attr', 8): 'attr_ints',
         ('Model', 1): 'ir_version', ('OpSet', 2): 'opset', ('Tensor', 4): 'float_data',
         ('Tensor', 7): 'int64_data', ('Tensor', 5): 'int32_data', ('Node', 1): 'node_input',
         ('Node', 2): 'node_output', ('Node', 4): 'op_type', ('Attr', 1): 'attr_name'}


class PF:
    """One protobuf field: num, wire, val (int for varint, bytes for fixed
    or an unparsed payload, list of PF for a parsed message), off (its start
    in the seed), msg (the message type holding it), sub (its own type)."""
    __slots__ = ('num', 'wire', 'val', 'off', 'msg', 'sub', 'declen', 'rawtag')

    def __init__(self, num, wire, val, off, msg, sub=None):
        self.num, self.wire, self.val, self.off, self.msg, self.sub = num, wire, val, off, msg, sub
        self.declen = None
        self.rawtag = None


def pb_parse(buf, base, msg, depth=0):
    out = []
    pos = 0
    n = len(buf)
    while pos < n:
        start = pos
        tag, pos = rd_varint(buf, pos)
        num, wire = tag >> 3, tag & 7
        if wire == 0:
            v, pos = rd_varint(buf, pos)
            out.append(PF(num, 0, v, base + start, msg))
        elif wire == 1:
            out.append(PF(num, 1, buf[pos:pos + 8], base + start, msg))
            pos += 8
        elif wire == 5:
            out.append(PF(num, 5, buf[pos:pos + 4], base + start, msg))
            pos += 4
        elif wire == 2:
            ln, p2 = rd_varint(buf, pos)
            payload = buf[p2:p2 + ln]
            if p2 + ln > n:
                raise ValueError('truncated')
            sub = SCHEMA.get(msg, {}).get(num)
            f = PF(num, 2, payload, base + start, msg, sub)
            if sub and depth < 200:
                try:
                    f.val = pb_parse(payload, base + p2, sub, depth + 1)
                except ValueError:
                    f.val = payload
                    f.sub = None
            out.append(f)
            pos = p2 + ln
        else:
            raise ValueError('wire type')
        if pos > n:
            raise ValueError('truncated')
    return out


def rd_varint(buf, pos):
    v = 0
    shift = 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise ValueError('varint')
        c = buf[pos]
        pos += 1
        v |= (c & 0x7f) << shift
        shift += 7
        if not c & 0x80:
            return v, pos


def pb_ser(fields):
    out = []
    for f in fields:
        tag = f.rawtag if f.rawtag is not None else varint(f.num << 3 | f.wire)
        if f.wire == 0:
            out.append(tag + (f.val if isinstance(f.val, bytes) else varint(f.val)))
        elif f.wire in (1, 5):
            out.append(tag + f.val)
        else:
            payload = pb_ser(f.val) if isinstance(f.val, list) else f.val
            ln = f.declen if f.declen is not None else len(payload)
            out.append(tag + (ln if isinstance(ln, bytes) else varint(ln)) + payload)
    return b''.join(out)


def pb_walk(fields, parents=()):
    for f in fields:
        yield f, parents
        if isinstance(f.val, list):
            yield from pb_walk(f.val, parents + (f,))


ABS_LEN = [0, 1 << 31, (1 << 32) - 1, 1 << 63, (1 << 64) - 1]
ABS_VAR = [0, 1 << 31, (1 << 32) - 1, 1 << 62, 1 << 63, (1 << 64) - 1]


def onnx_mutations(tree, data, rng, quick):
    """Yields (label, bytes, expect) for the seed's parsed tree."""
    allf = list(pb_walk(tree))
    # cuts at field starts (and just past each tag)
    # a cut at a top-level field boundary leaves a valid, shorter ModelProto
    top = {f.off for f, par in allf if not par}
    offs = sorted({f.off for f, _ in allf} - {0})
    for off in sample(rng, offs, 40 if quick else None):
        yield f'cut@{off:#x}', data[:off], MAYBE if off in top else BAD

    def ser():
        return pb_ser(tree)

    picks = sample(rng, allf, 90 if quick else None)
    for f, parents in picks:
        name = NAMES.get((f.msg, f.num), f'{f.msg}.{f.num}')
        where = f'{name}@{f.off:#x}'
        if f.wire == 2:
            real = len(pb_ser(f.val)) if isinstance(f.val, list) else len(f.val)
            vals = ABS_LEN + [real + 1, len(data) + 1]
            for v in (sample(rng, vals, 3) if quick else vals):
                if v == real:
                    continue
                f.declen = v
                # length 0 or +1: the payload's bytes (or the next field's tag) move to
                # a neighbour, which may still parse
                yield f'{where} len={v:#x}', ser(), MAYBE if v in (0, real + 1) else BAD
                f.declen = None
            if f.num == 9 and f.msg == 'Tensor' and real:      # raw_data vs dims x dtype
                old = f.val
                for lab, nv in (('short', old[:-1]), ('long', old + b'\0\0\0\0'), ('empty', b'')):
                    f.val = nv
                    yield f'{where} raw_data {lab}', ser(), BAD
                f.val = old
        elif f.wire == 0:
            cur = f.val
            vals = list(ABS_VAR)
            if name in ('dims', 'dim_value', 'attr_i', 'attr_ints'):
                vals += [-1, -2, 1 << 62, (1 << 63) - 1]
            if name in ('data_type', 'elem_type'):
                vals += [17, 27, 99, -1]
            if name == 'data_location':
                vals += [2, 99]
            if name in ('attr_type',):
                vals += [99, 5, 10]
            vals += [cur + 1]
            if quick:
                vals = sample(rng, vals, 3)
            for v in vals:
                if v & ((1 << 64) - 1) == cur:
                    continue
                f.val = v & ((1 << 64) - 1)
                # a changed dims/type/count makes the data disagree: bad;
                # other varints (versions, flags) may stay valid
                exp = BAD if name in ('dims', 'data_type') and v not in (0, cur + 1) else MAYBE
                yield f'{where}={v & ((1 << 64) - 1):#x}', ser(), exp
            f.val = cur
            # an 11-byte varint (over 64 bits)
            f.val = b'\xff' * 10 + b'\x01'
            yield f'{where} varint-11-bytes', ser(), BAD
            f.val = cur
        # a wire type the field cannot have
        if not quick or rng.random() < 0.1:
            f.rawtag = varint(f.num << 3 | 7)
            yield f'{where} wire-type-7', ser(), BAD
            f.rawtag = None

    # tensors: dims overflowing, external data
    tensors = [f for f, _ in allf if f.sub == 'Tensor' and isinstance(f.val, list)]
    for t in sample(rng, tensors, 6 if quick else None):
        where = f'tensor@{t.off:#x}'
        old = t.val
        rest = [g for g in old if g.num != 1]
        for lab, newdims in (('2^32x2^32', [1 << 32, 1 << 32]), ('2^62x4', [1 << 62, 4]),
                             ('-1x-1', [(1 << 64) - 1, (1 << 64) - 1]),
                             ('3x2^63', [3, 1 << 63]), ('64dims', [2] * 64)):
            t.val = [PF(1, 0, d, 0, 'Tensor') for d in newdims] + rest
            yield f'{where} dims {lab}', ser(), BAD
        # external data: drop raw_data / typed data, point elsewhere
        keep = [g for g in old if g.num not in (4, 5, 6, 7, 9, 10, 11, 13, 14)]
        if not any(g.num == 8 for g in keep):
            continue
        # the location itself is checked by every reader; the file's contents
        # (missing, a folder, offsets past its end) only by m2w-extract, which reads it
        reads = {'m2w-extract': BAD}
        for lab, kv in (('escape', [('location', '../../../../etc/passwd')]),
                        ('absolute', [('location', '/etc/passwd')]),
                        ('a/../../b', [('location', 'a/../../b.bin')]),
                        ('missing', [('location', 'no-such-file.bin')]),
                        ('huge-offset', [('location', 'ext.bin'), ('offset', str(1 << 63))]),
                        ('huge-length', [('location', 'ext.bin'), ('length', str((1 << 64) - 1))]),
                        ('offset+length-wrap', [('location', 'ext.bin'), ('offset', '8'),
                                                ('length', str((1 << 64) - 4))]),
                        ('negative-offset', [('location', 'ext.bin'), ('offset', '-16')]),
                        ('offset-past-end', [('location', 'ext.bin'), ('offset', '4096')]),
                        ('no-location', [('offset', '0')]),
                        ('dir', [('location', '.')])):
            sse = [PF(13, 2, [PF(1, 2, k.encode(), 0, 'SSE'), PF(2, 2, v.encode(), 0, 'SSE')], 0,
                      'Tensor', 'SSE') for k, v in kv]
            t.val = keep + sse + [PF(14, 0, 1, 0, 'Tensor')]
            yield f'{where} external {lab}', ser(), \
                reads if lab in ('missing', 'dir', 'huge-offset', 'offset-past-end') else BAD
        t.val = old


def onnx_model(nodes=b'', inits=b'', inputs=b'', outputs=b'', extra=b'', opset=17):
    graph = nodes + pfield(2, 2, b'g') + inits + inputs + outputs + extra
    return pfield(1, 0, 8) + pfield(8, 2, pfield(2, 0, opset)) + pfield(7, 2, graph)


def onnx_vi(name, dims, elem=1):
    shape = b''.join(pfield(1, 2, pfield(1, 0, d)) for d in dims)
    tt = pfield(1, 0, elem) + pfield(2, 2, shape)
    return pfield(1, 2, name.encode()) + pfield(2, 2, pfield(1, 2, tt))


def onnx_node(op, ins, outs, attrs=b''):
    return pfield(1, 2, b''.join(pfield(1, 2, i.encode()) for i in ins) +
                  b''.join(pfield(2, 2, o.encode()) for o in outs) +
                  pfield(4, 2, op.encode()) + attrs)


def nest(prefix_fn, inner, suffix_fn, depth):
    """Bytes of depth levels of wrapping without quadratic copying:
    level k = prefix_fn(len(level k-1)) + level k-1 + suffix_fn()."""
    sizes = [len(inner)]
    pre = []
    suf = suffix_fn()
    for _ in range(depth):
        p = prefix_fn(sizes[-1])
        pre.append(p)
        sizes.append(len(p) + sizes[-1] + len(suf))
    return b''.join(reversed(pre)) + inner + suf * depth


def onnx_scratch_cases():
    io_ = pfield(11, 2, onnx_vi('x', [1, 4])) + pfield(12, 2, onnx_vi('y', [1, 4]))
    cases = []
    # graph cycles: only a tool walking the graph must refuse (scaffold)
    walk = {'m2w-scaffold': BAD}
    cyc = onnx_node('Add', ['x', 'b'], ['a']) + onnx_node('Relu', ['a'], ['b']) + \
        onnx_node('Relu', ['b'], ['y'])
    cases.append(('cycle-2', onnx_model(cyc, inputs=pfield(11, 2, onnx_vi('x', [1, 4])),
                                        outputs=pfield(12, 2, onnx_vi('y', [1, 4]))), walk))
    selfl = onnx_node('Relu', ['y'], ['y'])
    cases.append(('self-loop', onnx_model(selfl, outputs=pfield(12, 2, onnx_vi('y', [1, 4]))), walk))
    selfl2 = onnx_node('Add', ['x', 'z'], ['z']) + onnx_node('Relu', ['z'], ['y'])
    cases.append(('self-loop-2', onnx_model(selfl2, inputs=pfield(11, 2, onnx_vi('x', [1, 4])),
                                            outputs=pfield(12, 2, onnx_vi('y', [1, 4]))), walk))
    two = onnx_node('Relu', ['x'], ['y']) + onnx_node('Sigmoid', ['x'], ['y'])
    cases.append(('two-producers', onnx_model(two, inputs=io_[:0] + pfield(11, 2, onnx_vi('x', [1, 4])),
                                              outputs=pfield(12, 2, onnx_vi('y', [1, 4]))), walk))
    undef = onnx_node('Add', ['x', 'nowhere'], ['y'])
    cases.append(('undefined-input', onnx_model(undef, inputs=pfield(11, 2, onnx_vi('x', [1, 4])),
                                                outputs=pfield(12, 2, onnx_vi('y', [1, 4]))), walk))
    noprod = onnx_node('Relu', ['x'], ['t'])
    cases.append(('output-never-produced', onnx_model(noprod, inputs=pfield(11, 2, onnx_vi('x', [1, 4])),
                                                      outputs=pfield(12, 2, onnx_vi('y', [1, 4]))), walk))
    # a long chain is fine, but a cycle at its end must still be found without recursion.
    # (20000 nodes, 458 KB: a graph this dense needs ~55 bytes of memory per
    # file byte, within onnx.c's tree bound of the file's size + 72 MiB)
    chain = b''.join(onnx_node('Relu', [f't{i}'], [f't{i + 1}']) for i in range(20000))
    chain += onnx_node('Add', ['x', 't20000'], ['t0']) + onnx_node('Relu', ['t0'], ['y'])
    cases.append(('cycle-20000', onnx_model(chain, inputs=pfield(11, 2, onnx_vi('x', [1, 4])),
                                            outputs=pfield(12, 2, onnx_vi('y', [1, 4]))), walk))
    # absurd declared shapes on a valid graph
    for lab, dims in (('dim-negative', [1, (1 << 64) - 5]), ('dim-2^62', [1 << 62, 4]),
                      ('dims-overflow', [1 << 32, 1 << 32, 1 << 32]), ('dims-100', [1] * 100)):
        m = onnx_model(onnx_node('Relu', ['x'], ['y']), inputs=pfield(11, 2, onnx_vi('x', dims)),
                       outputs=pfield(12, 2, onnx_vi('y', dims)))
        cases.append((lab, m, {'m2w-scaffold': BAD} if lab != 'dims-100' else MAYBE))
    # initializer whose dims product overflows
    t = b''.join(pfield(1, 0, d) for d in (1 << 32, 1 << 32)) + pfield(2, 0, 1) + pfield(8, 2, b'w') + \
        pfield(9, 2, b'\0' * 16)
    cases.append(('init-dims-overflow', onnx_model(inits=pfield(5, 2, t)), BAD))
    # deep nesting, 10^5: a subgraph attribute in an If node
    depth = 100000
    leaf = pfield(1, 2, pfield(4, 2, b'Identity') + pfield(1, 2, b'x') + pfield(2, 2, b'y'))
    attr_tail = pfield(20, 0, 5)

    # build explicitly: graph_k = field(1, node(If, attr(then_branch, g=graph_{k-1})))
    def graph_prefix(n):          # n = len(graph_{k-1})
        attr_body_len = len(pfield(1, 2, b'then_branch')) + len(varint(6 << 3 | 2)) + len(varint(n)) + n + \
            len(attr_tail)
        node_body_len = len(pfield(4, 2, b'If')) + len(varint(5 << 3 | 2)) + len(varint(attr_body_len)) + \
            attr_body_len
        return varint(1 << 3 | 2) + varint(node_body_len) + pfield(4, 2, b'If') + varint(5 << 3 | 2) + \
            varint(attr_body_len) + pfield(1, 2, b'then_branch') + varint(6 << 3 | 2) + varint(n)
    g = nest(graph_prefix, leaf, lambda: attr_tail, depth)
    cases.append(('subgraph-100000-deep', pfield(1, 0, 8) + pfield(8, 2, pfield(2, 0, 17)) + pfield(7, 2, g), BAD))
    # a sequence type nested 10^5 deep in a graph input
    inner = pfield(1, 2, pfield(1, 0, 1))                                  # Type{tensor_type{elem 1}}
    ty = nest(lambda n: varint(4 << 3 | 2) + varint(len(varint(1 << 3 | 2)) + len(varint(n)) + n) +
              varint(1 << 3 | 2) + varint(n), inner, lambda: b'', depth)
    vi = pfield(1, 2, b'x') + pfield(2, 2, ty)
    cases.append(('sequence-type-100000-deep', onnx_model(inputs=pfield(11, 2, vi)), BAD))
    # protobuf groups (wire types 3/4) nested 10^5 deep: never recursed into
    grp = varint(99 << 3 | 3) * depth + varint(99 << 3 | 4) * depth
    cases.append(('groups-100000-deep', pfield(1, 0, 8) + grp, BAD))
    # a length-delimited unknown field holding 10^5 nested unknown messages: skipped, fine
    unk = nest(lambda n: varint(99 << 3 | 2) + varint(n), b'', lambda: b'', depth)
    cases.append(('unknown-100000-deep', onnx_model(extra=unk[:0]) + unk, MAYBE))
    # attribute graphs list of 10^5 empty graphs (width, not depth)
    wide = onnx_node('If', [], ['y'], pfield(5, 2, pfield(1, 2, b'then_branch') +
                                             pfield(11, 2, b'') * 100000 + pfield(20, 0, 10)))
    cases.append(('graphs-attr-100000-wide', onnx_model(wide), MAYBE))
    return cases


def gen_onnx(seeds, rng, quick, scaffold_dims):
    out = []
    for name, data, expect in onnx_scratch_cases():
        out.append(Case('onnx', 'scratch-' + name, {'m.onnx': data},
                        runs_model('m.onnx', scaffold_dims=[] if tool('m2w-scaffold') else None), expect))
    for seed in seeds:
        data = open(seed, 'rb').read()
        base = os.path.basename(os.path.dirname(seed)) + '-' + os.path.basename(seed)
        try:
            tree = pb_parse(data, 0, 'Model')
        except ValueError as e:
            print(f'seed {seed}: does not parse ({e}), skipped')
            continue
        if pb_ser(tree) != data:
            print(f'seed {seed}: not canonical protobuf, its structure-aware variants skipped')
            continue
        dims = scaffold_dims.get(seed)
        files_extra = {'ext.bin': bytes(range(64))}
        for label, blob, exp in onnx_mutations(tree, data, rng, quick):
            out.append(Case('onnx', f'{base} {label}', {'m.onnx': blob, **files_extra},
                            runs_model('m.onnx', scaffold_dims=dims), exp))
    return out


def scaffold_bindings(seed):
    """The --dim bindings m2w-scaffold needs for the seed (from its own
    error messages), or None when it does not scaffold."""
    sc = tool('m2w-scaffold')
    if not sc:
        return None
    dims = []
    with tempfile.TemporaryDirectory() as d:
        for _ in range(8):
            a = [sc] + sum((['--dim', x] for x in dims), []) + [seed, '-o', d]
            r = subprocess.run(a, capture_output=True, text=True, errors='replace')
            if r.returncode == 0:
                return dims
            m = re.search(r'--dim (\S+)=VALUE', r.stderr)
            if not m:
                return None
            dims.append(m.group(1) + '=1')
    return None


# ================================================================= TFLite
TFL = {
    'Model': {0: ('sc', 4, 'version'), 1: ('vtab', 'OperatorCode'), 2: ('vtab', 'SubGraph'),
              3: ('str',), 4: ('vtab', 'Buffer'), 5: ('vsc', 4, 'metadata_buffer'),
              6: ('vtab', 'Metadata'), 7: ('vtab', 'SignatureDef')},
    'OperatorCode': {0: ('sc', 1, 'deprecated_builtin_code'), 1: ('str',), 2: ('sc', 4, 'op_version'),
                     3: ('sc', 4, 'builtin_code')},
    'SubGraph': {0: ('vtab', 'Tensor'), 1: ('vsc', 4, 'sg_io'), 2: ('vsc', 4, 'sg_io'),
                 3: ('vtab', 'Operator'), 4: ('str',)},
    'Tensor': {0: ('vsc', 4, 'shape'), 1: ('sc', 1, 'type'), 2: ('sc', 4, 'buffer'), 3: ('str',),
               4: ('tab', 'Quant'), 5: ('sc', 1, 'is_variable'), 7: ('vsc', 4, 'shape_signature')},
    'Quant': {0: ('vsc', 4, 'qmin'), 1: ('vsc', 4, 'qmax'), 2: ('vsc', 4, 'scale'),
              3: ('vsc', 8, 'zero_point'), 4: ('sc', 1, 'details_type'),
              6: ('sc', 4, 'quantized_dimension')},
    'Operator': {0: ('sc', 4, 'opcode_index'), 1: ('vsc', 4, 'op_io'), 2: ('vsc', 4, 'op_io'),
                 3: ('sc', 1, 'builtin_options_type'), 4: ('tab', None), 5: ('vsc', 1, 'custom_options'),
                 7: ('vsc', 1, 'mutating'), 8: ('vsc', 4, 'op_io')},
    'Buffer': {0: ('vsc', 1, 'data'), 1: ('sc', 8, 'buf_offset'), 2: ('sc', 8, 'buf_size')},
    'Metadata': {0: ('str',), 1: ('sc', 4, 'meta_buffer')},
    'SignatureDef': {0: ('vtab', 'TensorMap'), 1: ('vtab', 'TensorMap'), 2: ('str',),
                     4: ('sc', 4, 'subgraph_index')},
    'TensorMap': {0: ('str',), 1: ('sc', 4, 'tensor_index')},
}


def tfl_walk(b):
    """[(kind, pos, width, name, parent_table)] of every structural field."""
    recs = {}
    counts = {'OperatorCode': 0, 'Tensor': 0, 'Buffer': 0}
    seen_tables = set()
    n = len(b)

    def u32(p):
        return struct.unpack_from('<I', b, p)[0]

    def add(kind, pos, w, name, parent=0):
        recs.setdefault((kind, pos), (kind, pos, w, name, parent))

    def table(pos, typ, depth=0):
        if pos in seen_tables or depth > 64 or pos + 4 > n:
            return
        seen_tables.add(pos)
        add('soff', pos, 4, typ or 'table')
        vt = pos - struct.unpack_from('<i', b, pos)[0]
        if vt < 0 or vt + 4 > n:
            return
        add('vtsize', vt, 2, typ or 'table', pos)
        add('tblsize', vt + 2, 2, typ or 'table', pos)
        vts = struct.unpack_from('<H', b, vt)[0]
        if vt + vts > n:
            return
        schema = TFL.get(typ, {}) if typ else {}
        for i in range((vts - 4) // 2):
            add('vtentry', vt + 4 + 2 * i, 2, f'{typ}.{i}', pos)
            fo = struct.unpack_from('<H', b, vt + 4 + 2 * i)[0]
            if not fo:
                continue
            fp = pos + fo
            s = schema.get(i)
            if not s or fp + 4 > n:
                continue
            if s[0] == 'sc':
                add('sc', fp, s[1], s[2], pos)
                continue
            add('uoff', fp, 4, f'{typ}.{i}', pos)
            tgt = fp + u32(fp)
            if tgt + 4 > n:
                continue
            if s[0] == 'str':
                add('strlen', tgt, 4, f'{typ}.{i}', pos)
            elif s[0] == 'tab':
                table(tgt, s[1], depth + 1)
            elif s[0] in ('vtab', 'vsc'):
                cnt = u32(tgt)
                add('veclen', tgt, 4, f'{typ}.{i}', pos)
                if s[0] == 'vtab':
                    if s[1] in counts:
                        counts[s[1]] = max(counts[s[1]], cnt)
                    for k in range(min(cnt, (n - tgt - 4) // 4)):
                        ep = tgt + 4 + 4 * k
                        add('uoff', ep, 4, f'{s[1]}[]', pos)
                        table(ep + u32(ep), s[1], depth + 1)
                elif s[2] in ('shape', 'op_io', 'sg_io', 'shape_signature'):
                    for k in range(min(cnt, (n - tgt - 4) // 4)):
                        add('elem', tgt + 4 + 4 * k, 4, s[2], tgt)

    if n < 8:
        return [], counts
    add('root', 0, 4, 'root')
    table(u32(0), 'Model')
    return sorted(recs.values(), key=lambda r: r[1]), counts


def tflite_mutations(data, rng, quick):
    recs, counts = tfl_walk(data)
    root = struct.unpack_from('<I', data, 0)[0]
    n = len(data)
    # tensor counts per subgraph are not tracked: the largest list stands in
    ntens = counts['Tensor']
    bounds = sorted({r[1] for r in recs} - {0})
    for off in sample(rng, bounds, 40 if quick else None):
        yield f'cut@{off:#x}', data[:off], BAD

    def put(pos, w, v, signed=False):
        b = bytearray(data)
        fmt = {1: 'b', 2: 'h', 4: 'i', 8: 'q'}[w]
        v &= (1 << (8 * w)) - 1
        b[pos:pos + w] = struct.pack('<' + fmt.upper(), v)
        return bytes(b)

    picks = sample(rng, recs, 160 if quick else None)
    for kind, pos, w, name, parent in picks:
        cur = int.from_bytes(data[pos:pos + w], 'little')
        if kind in ('uoff', 'root'):
            vals = [(0, 'self'), (0xFFFFFFFF, 'max'), (0x7FFFFFFF, '2^31-1'), (n - pos, 'end'),
                    (cur + 1, 'misaligned'), ((root - pos) & 0xFFFFFFFF, 'to-root'),
                    ((parent - pos) & 0xFFFFFFFF, 'to-parent'), (cur + 4 * 1024 * 1024, 'far')]
        elif kind == 'soff':
            vals = [(0, 'vtable-is-table'), (0x7FFFFFFF, 'far-back'), (-0x7FFFFFFF, 'far-forward'),
                    (pos, 'vtable-at-0'), (pos - n + 2, 'vtable-at-end'), (cur + 1, 'odd')]
        elif kind == 'vtsize':
            vals = [(0, '0'), (1, '1'), (3, 'odd'), (0xFFFF, 'max'), (4, 'no-fields'),
                    (cur + 2, '+1-entry')]
        elif kind == 'tblsize':
            vals = [(0, '0'), (0xFFFF, 'max'), (1, '1')]
        elif kind == 'vtentry':
            vals = [(0xFFFF, 'max'), (0xFFFE, 'max-1'), (1, 'in-soffset'), (3, 'odd'),
                    (cur + 0x100, 'past-table')]
        elif kind in ('veclen', 'strlen'):
            vals = [(0x7FFFFFFF, '2^31-1'), (0xFFFFFFFF, 'max'), (0x40000000, '2^30'),
                    (0x40000001, '2^30+1'), (0x20000001, '2^29+1'), (cur + 1, '+1'),
                    ((n - pos) // max(1, 1) + 1, 'past-end')]
        elif kind == 'elem' and name in ('shape', 'shape_signature'):
            vals = [(-2, '-2'), (-1, '-1'), (0x7FFFFFFF, '2^31-1'), (-0x80000000, 'min'), (0, '0')]
        elif kind == 'elem':
            vals = [(ntens, 'ntensors'), (ntens + 1000, 'far'), (0x7FFFFFFF, '2^31-1'), (-2, '-2'),
                    (-0x80000000, 'min')]
        elif kind == 'sc':
            vals = {
                'buffer': [(counts['Buffer'], 'nbuffers'), (0xFFFFFFFF, 'max'), (0x7FFFFFFF, '2^31-1')],
                'opcode_index': [(counts['OperatorCode'], 'nopcodes'), (0xFFFFFFFF, 'max')],
                'type': [(99, '99'), (0x7F, '127'), (-1, '-1')],
                'builtin_code': [(-1, '-1'), (0x7FFFFFFF, 'max'), (9999, '9999')],
                'deprecated_builtin_code': [(127, '127'), (-1, '-1')],
                'version': [(0, '0'), (99, '99')],
                'quantized_dimension': [(99, '99'), (-1, '-1'), (0x7FFFFFFF, 'max')],
                'buf_offset': [(1 << 63, '2^63'), ((1 << 64) - 1, 'max'), (n, 'len'), (1, '1')],
                'buf_size': [(1 << 63, '2^63'), ((1 << 64) - 1, 'max'), (n, 'len')],
                'details_type': [(99, '99')],
                'builtin_options_type': [(255, '255'), (0, '0')],
                'subgraph_index': [(99, '99')], 'tensor_index': [(9999, '9999')],
                'meta_buffer': [(9999, '9999'), (0xFFFFFFFF, 'max')],
            }.get(name, [(0xFFFFFFFF & ((1 << (8 * w)) - 1), 'max')])
        else:
            continue
        if quick:
            vals = sample(rng, vals, 3)
        for v, lab in vals:
            if (v & ((1 << (8 * w)) - 1)) == cur:
                continue
            # a still-valid result is possible for some (an unused buffer, a
            # version, an optional index -1, a vtable entry of an absent field)
            exp = BAD
            if kind == 'sc' and name in ('version', 'builtin_options_type', 'details_type',
                                         'deprecated_builtin_code', 'builtin_code', 'quantized_dimension',
                                         'meta_buffer', 'subgraph_index', 'tensor_index', 'type', 'op_version'):
                exp = MAYBE
            if kind in ('tblsize', 'vtsize', 'vtentry', 'soff', 'uoff') or (kind == 'elem' and v in (-1, 0)):
                exp = MAYBE
            if kind == 'veclen' and lab == '+1':
                exp = MAYBE
            if kind == 'strlen' and lab == '+1':
                exp = MAYBE            # the next byte may be flatbuffers' padding NUL
            if kind == 'elem' and name in ('shape', 'shape_signature') and v > 0:
                exp = MAYBE            # an activation's shape: no tool must multiply it out
            yield f'{kind}:{name}@{pos:#x}={lab}', put(pos, w, v), exp
    # every dim of a tensor huge: products overflow
    shapes = [r for r in recs if r[0] == 'veclen' and r[3] == 'Tensor.0']
    for kind, pos, w, name, parent in sample(rng, shapes, 4 if quick else 40):
        cnt = struct.unpack_from('<I', data, pos)[0]
        if not 2 <= cnt <= 8:
            continue
        b = bytearray(data)
        for k in range(cnt):
            struct.pack_into('<i', b, pos + 4 + 4 * k, 0x7FFFFFFF)
        yield f'dims-all-2^31-1@{pos:#x}', bytes(b), MAYBE


def gen_tflite(seeds, rng, quick):
    out = []
    for seed in seeds:
        data = open(seed, 'rb').read()
        base = os.path.basename(seed)
        for label, blob, exp in tflite_mutations(data, rng, quick):
            out.append(Case('tflite', f'{base} {label}', {'m.tflite': blob}, runs_model('m.tflite'), exp))
    return out


# ================================================================= zip
def zip_bytes(members, method=zipfile.ZIP_STORED, force_zip64=False):
    b = io.BytesIO()
    with zipfile.ZipFile(b, 'w') as z:
        for name, data in members:
            zi = zipfile.ZipInfo(name, (2020, 1, 1, 0, 0, 0))
            zi.compress_type = method if name.endswith('.txt') or method == zipfile.ZIP_DEFLATED else zipfile.ZIP_STORED
            with z.open(zi, 'w', force_zip64=force_zip64) as f:
                f.write(data)
    return b.getvalue()


def raw_zip(entries, comment=b''):
    """entries: [(name bytes, data bytes, method, crc, csize, usize)]; returns
    an archive written by hand (so fields can lie)."""
    out = bytearray()
    cd = bytearray()
    for name, data, method, crc, csize, usize in entries:
        off = len(out)
        out += struct.pack('<IHHHHHIIIHH', 0x04034b50, 20, 0, method, 0, 0x5021, crc, csize & 0xFFFFFFFF,
                           usize & 0xFFFFFFFF, len(name), 0) + name + data
        cd += struct.pack('<IHHHHHHIIIHHHHHII', 0x02014b50, 20, 20, 0, method, 0, 0x5021, crc,
                          csize & 0xFFFFFFFF, usize & 0xFFFFFFFF, len(name), 0, 0, 0, 0, 0, off) + name
    cdoff = len(out)
    out += cd
    out += struct.pack('<IHHHHIIH', 0x06054b50, 0, 0, len(entries), len(entries), len(cd), cdoff,
                       len(comment)) + comment
    return bytes(out)


def zip_walk(b):
    """[(pos, width, name)] of every header field, and header starts."""
    fields = []
    starts = []
    n = len(b)
    e = b.rfind(b'PK\x05\x06')
    if e < 0:
        return fields, starts
    names = ['sig', 'disk', 'cd_disk', 'n_this', 'n_total', 'cd_size', 'cd_off', 'comment_len']
    widths = [4, 2, 2, 2, 2, 4, 4, 2]
    p = e
    for nm, w in zip(names, widths):
        fields.append((p, w, 'eocd.' + nm))
        p += w
    starts.append(e)
    loc = b.rfind(b'PK\x06\x07', 0, e)
    if loc >= 0:
        starts.append(loc)
        for nm, w, o in (('sig', 4, 0), ('disk', 4, 4), ('eocd64_off', 8, 8), ('disks', 4, 16)):
            fields.append((loc + o, w, 'z64loc.' + nm))
        z = b.rfind(b'PK\x06\x06', 0, loc)
        if z >= 0:
            starts.append(z)
            for nm, w, o in (('sig', 4, 0), ('size', 8, 4), ('n_this', 8, 24), ('n_total', 8, 32),
                             ('cd_size', 8, 40), ('cd_off', 8, 48)):
                fields.append((z + o, w, 'z64eocd.' + nm))
    cdoff = struct.unpack_from('<I', b, e + 16)[0]
    cnt = struct.unpack_from('<H', b, e + 10)[0]
    p = cdoff
    lhs = []
    for _ in range(cnt):
        if p + 46 > n or b[p:p + 4] != b'PK\x01\x02':
            break
        starts.append(p)
        for nm, w, o in (('sig', 4, 0), ('flags', 2, 8), ('method', 2, 10), ('crc', 4, 16),
                         ('csize', 4, 20), ('usize', 4, 24), ('name_len', 2, 28), ('extra_len', 2, 30),
                         ('comment_len', 2, 32), ('disk', 2, 34), ('lh_off', 4, 42)):
            fields.append((p + o, w, 'cd.' + nm))
        nl, xl, cl = struct.unpack_from('<HHH', b, p + 28)
        lhs.append(struct.unpack_from('<I', b, p + 42)[0])
        q = p + 46 + nl
        while q + 4 <= p + 46 + nl + xl:                    # extra fields (zip64)
            hid, hl = struct.unpack_from('<HH', b, q)
            fields.append((q + 2, 2, 'cd.extra_len'))
            if hid == 1:
                for k in range(hl // 8):
                    fields.append((q + 4 + 8 * k, 8, f'cd.zip64.{k}'))
            q += 4 + hl
        p += 46 + nl + xl + cl
    for lh in lhs:
        if lh + 30 > n:
            continue
        starts.append(lh)
        for nm, w, o in (('sig', 4, 0), ('flags', 2, 6), ('method', 2, 8), ('crc', 4, 14), ('csize', 4, 18),
                         ('usize', 4, 22), ('name_len', 2, 26), ('extra_len', 2, 28)):
            fields.append((lh + o, w, 'lh.' + nm))
        nl, xl = struct.unpack_from('<HH', b, lh + 26)
        starts.append(lh + 30 + nl + xl)                    # the data
        q = lh + 30 + nl
        while q + 4 <= lh + 30 + nl + xl:
            hid, hl = struct.unpack_from('<HH', b, q)
            if hid == 1:
                for k in range(hl // 8):
                    fields.append((q + 4 + 8 * k, 8, f'lh.zip64.{k}'))
            q += 4 + hl
    return fields, sorted(set(starts))


def add_zip64_eocd(z):
    """The archive with a zip64 end record and locator, the classic end record
    fields set to their zip64 markers."""
    e = z.rfind(b'PK\x05\x06')
    _, _, _, nthis, ntot, cdsize, cdoff, clen = struct.unpack_from('<IHHHHIIH', z, e)
    rec = struct.pack('<IQHHIIQQQQ', 0x06064b50, 44, 45, 45, 0, 0, nthis, ntot, cdsize, cdoff)
    loc = struct.pack('<IIQI', 0x07064b50, 0, e, 1)
    eocd = struct.pack('<IHHHHIIH', 0x06054b50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    return z[:e] + rec + loc + eocd


def gen_zip(rng, quick, tfl):
    out = []
    small_tfl = tfl
    runs = runs_model('m.task')
    case = lambda name, blob, exp=BAD: out.append(Case('zip', name, {'m.task': blob}, runs, exp))  # noqa: E731
    seeds = {
        'two-members': zip_bytes([('face_detector.tflite', small_tfl), ('labels.txt', b'face\n')],
                                 zipfile.ZIP_STORED),
        'deflated': zip_bytes([('model.tflite', small_tfl)], zipfile.ZIP_DEFLATED),
        'zip64-extra': zip_bytes([('model.tflite', small_tfl)], zipfile.ZIP_STORED, force_zip64=True),
    }
    seeds['zip64-eocd'] = add_zip64_eocd(seeds['two-members'])
    for sname, z in seeds.items():
        fields, starts = zip_walk(z)
        for s in sample(rng, [s for s in starts if s], 12 if quick else None):
            case(f'{sname} cut@{s:#x}', z[:s])
        for pos, w, name in sample(rng, fields, 30 if quick else None):
            cur = int.from_bytes(z[pos:pos + w], 'little')
            vals = [0, (1 << (8 * w)) - 1, (1 << (8 * w - 1)) - 1, cur + 1, len(z)]
            if w >= 4:
                vals += [0xFFFFFFFF, 0xFFFFFFFE]
            for v in (sample(rng, vals, 3) if quick else vals):
                v &= (1 << (8 * w)) - 1
                if v == cur:
                    continue
                b = bytearray(z)
                b[pos:pos + w] = v.to_bytes(w, 'little')
                # fields a reader may ignore (flags, disk numbers, the
                # comment length, crc of an unused member...) can stay valid
                exp = MAYBE if any(k in name for k in ('flags', 'disk', 'comment', 'crc', 'n_this',
                                                       'extra', 'z64', 'zip64', 'lh.', 'usize',
                                                       'method', 'sig')) else BAD
                if sname == 'zip64-eocd' and name.startswith('eocd.'):
                    exp = MAYBE        # the zip64 record's values stand
                case(f'{sname} {name}@{pos:#x}={v:#x}', bytes(b), exp)
    crc = zlib.crc32(small_tfl)
    L = len(small_tfl)
    # bombs
    case('bomb stored declares 4 GiB', raw_zip([(b'm.tflite', small_tfl[:64], 0, crc, 64, 0xFFFFFFFF)]))
    big = b'\0' * (64 << 20)
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    deflated = comp.compress(big) + comp.flush()
    case('bomb deflate 64 MiB declared 1000', raw_zip([(b'm.tflite', deflated, 8, zlib.crc32(big[:1000]),
                                                         len(deflated), 1000)]))
    case('bomb deflate 64 MiB declared 64 MiB', raw_zip([(b'm.tflite', deflated, 8, zlib.crc32(big),
                                                           len(deflated), len(big))]))
    case('bomb deflate declared 4 GiB', raw_zip([(b'm.tflite', deflated, 8, 0, len(deflated), 0xFFFFFFFE)]))
    case('bomb csize past end', raw_zip([(b'm.tflite', small_tfl[:100], 0, crc, 0xFFFFFFF0, L)]))
    z = bytearray(seeds['zip64-extra'])
    for pos, w, name in zip_walk(bytes(z))[0]:
        if 'zip64' in name:
            z[pos:pos + w] = (1 << 62).to_bytes(8, 'little')
    case('bomb zip64 sizes 2^62', bytes(z), {'m2w-extract': BAD})
    # path traversal and odd names
    for nm in ['../m.tflite', '../../m.tflite', 'a/../../m.tflite', '/tmp/m2w-badcorpus-abs/m.tflite',
               '..\\..\\m.tflite', 'C:\\m.tflite', 'c:/m.tflite', 'a/\0/m.tflite', '', '.', '..',
               'x/' * 2000 + 'm.tflite']:
        # m2w-inspect only lists names; m2w-extract must refuse to use them
        case(f'name {nm[:40]!r}', raw_zip([(nm.encode(), small_tfl, 0, crc, L, L)]), {'m2w-extract': BAD})
    # duplicate names (which one is the model?)
    case('duplicate names', raw_zip([(b'm.tflite', small_tfl, 0, crc, L, L),
                                     (b'm.tflite', small_tfl[:1000], 0, zlib.crc32(small_tfl[:1000]), 1000, 1000)]))
    # the central directory lying
    two = raw_zip([(b'a.tflite', small_tfl, 0, crc, L, L), (b'labels.txt', b'face\n', 0, zlib.crc32(b'face\n'), 5, 5)])
    e = two.rfind(b'PK\x05\x06')
    cdoff = struct.unpack_from('<I', two, e + 16)[0]
    for lab, pos, fmt, v in (('cd count 0xffff', e + 10, '<H', 0xFFFF), ('cd count 3', e + 10, '<H', 3),
                             ('cd size +1', e + 12, '<I', two[e + 12] + 1),
                             ('cd size huge', e + 12, '<I', 0xFFFFFFF0),
                             ('cd offset -1', e + 16, '<I', cdoff - 1), ('cd offset 0', e + 16, '<I', 0),
                             ('cd offset at eocd', e + 16, '<I', e),
                             ('lh offset into data', cdoff + 42, '<I', 100),
                             ('lh offset at cd', cdoff + 42, '<I', cdoff),
                             ('lh offset past end', cdoff + 42, '<I', len(two) + 10),
                             ('cd csize != lh', cdoff + 20, '<I', L - 16),
                             ('cd name_len huge', cdoff + 28, '<H', 0xFFFF),
                             ('comment_len past end', e + 20, '<H', 0xFFFF)):
        b = bytearray(two)
        struct.pack_into(fmt, b, pos, v)
        case(lab, bytes(b), MAYBE if 'comment' in lab else BAD)
    # two end records (one in the comment): the last one must be used consistently
    case('eocd in comment', two[:-2] + struct.pack('<H', 22) + two[e:e + 16] + struct.pack('<IH', 0xFFFFFF, 0),
         MAYBE)
    # zip64 locator pointing past the end / record absurd
    z64 = seeds['zip64-eocd']
    loc = z64.rfind(b'PK\x06\x07')
    rec = z64.rfind(b'PK\x06\x06')
    for lab, pos, v in (('z64 locator past end', loc + 8, 1 << 62), ('z64 locator -> 0', loc + 8, 0),
                        ('z64 entries 2^63', rec + 32, 1 << 63), ('z64 cd size 2^63', rec + 40, 1 << 63),
                        ('z64 cd off 2^63', rec + 48, 1 << 63), ('z64 cd off+size wrap', rec + 48, (1 << 64) - 8)):
        b = bytearray(z64)
        struct.pack_into('<Q', b, pos, v)
        case(lab, bytes(b))
    # methods a reader lacks, encryption
    case('method 12 (bzip2)', raw_zip([(b'm.tflite', small_tfl, 12, crc, L, L)]))
    case('method 99', raw_zip([(b'm.tflite', small_tfl, 99, crc, L, L)]))
    b = bytearray(raw_zip([(b'm.tflite', small_tfl, 0, crc, L, L)]))
    struct.pack_into('<H', b, 6, 1)
    cd = b.rfind(b'PK\x01\x02')
    struct.pack_into('<H', b, cd + 8, 1)
    case('encrypted', bytes(b))
    # deflate stream that is garbage / ends early
    case('deflate garbage', raw_zip([(b'm.tflite', b'\xff' * 64, 8, crc, 64, L)]))
    case('deflate truncated', raw_zip([(b'm.tflite', deflated[:100], 8, 0, 100, len(big))]))
    case('empty archive', raw_zip([]), {'m2w-extract': BAD})
    return out


# ================================================================= npy
def npy_bytes(header, data=b'', version=1, hlen=None):
    if isinstance(header, str):
        header = header.encode('latin-1')
    if version == 1 and len(header) > 60000:
        version = 2
    if version == 1:
        pad = (64 - (10 + len(header) + 1) % 64) % 64
        h = header + b' ' * pad + b'\n'
        return b'\x93NUMPY\x01\x00' + struct.pack('<H', len(h) if hlen is None else hlen) + h + data
    pad = (64 - (12 + len(header) + 1) % 64) % 64
    h = header + b' ' * pad + b'\n'
    return b'\x93NUMPY' + bytes([version, 0]) + struct.pack('<I', len(h) if hlen is None else hlen) + h + data


def gen_npy(rng, quick):
    out = []
    good = npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", struct.pack('<6f', *range(6)))
    d24 = struct.pack('<6f', *range(6))
    cases = []

    def h(descr="'<f4'", fo='False', shape='(2, 3)'):
        return "{'descr': %s, 'fortran_order': %s, 'shape': %s, }" % (descr, fo, shape)
    cases += [
        ('shape larger than data', npy_bytes(h(shape='(2, 4)'), d24), BAD),
        ('shape far larger', npy_bytes(h(shape='(1000000, 1000000)'), d24), BAD),
        ('shape smaller than data', npy_bytes(h(shape='(2, 2)'), d24), MAYBE),
        ('shape product overflows', npy_bytes(h(shape='(4294967296, 4294967296, 4294967296)'), d24), BAD),
        ('shape 2^63', npy_bytes(h(shape='(9223372036854775808,)'), d24), BAD),
        ('shape 2^64', npy_bytes(h(shape='(18446744073709551616,)'), d24), BAD),
        ('shape bytes overflow', npy_bytes(h(shape='(4611686018427387904,)'), d24), BAD),
        ('shape negative', npy_bytes(h(shape='(-1, 6)'), d24), BAD),
        ('shape 100-digit', npy_bytes(h(shape='(' + '9' * 100 + ',)'), d24), BAD),
        ('shape 64 dims', npy_bytes(h(shape='(' + '1, ' * 64 + ')'), d24[:4]), MAYBE),
        ('shape nested 100000 deep', npy_bytes(h(shape='(' * 100000 + ')' * 100000), d24), BAD),
        ('shape list', npy_bytes(h(shape='[2, 3]'), d24), MAYBE),
        ('shape unterminated', npy_bytes(h(shape='(2, 3'), d24), BAD),
        ('shape float', npy_bytes(h(shape='(2.5, 3)'), d24), BAD),
        ('shape missing', npy_bytes("{'descr': '<f4', 'fortran_order': False, }", d24), BAD),
        ('descr big-endian', npy_bytes(h(descr="'>f4'"), d24), BAD),
        ('descr complex', npy_bytes(h(descr="'<c8'"), d24 + d24), BAD),
        ('descr object', npy_bytes(h(descr="'|O'"), d24), BAD),
        ('descr unicode', npy_bytes(h(descr="'<U4'"), d24 * 4), BAD),
        ('descr empty', npy_bytes(h(descr="''"), d24), BAD),
        ('descr structured', npy_bytes(h(descr="[('a', '<f4')]"), d24), BAD),
        ('descr void', npy_bytes(h(descr="'|V4'"), d24), BAD),
        ('descr f4 trailing', npy_bytes(h(descr="'<f4x'"), d24), BAD),
        ('descr unquoted', npy_bytes(h(descr='<f4'), d24), BAD),
        ('descr missing', npy_bytes("{'fortran_order': False, 'shape': (2, 3), }", d24), BAD),
        ('fortran_order True', npy_bytes(h(fo='True'), d24), BAD),
        ('fortran_order 1', npy_bytes(h(fo='1'), d24), BAD),
        ('header len past end', npy_bytes(h(), d24, hlen=0xFFFF), BAD),
        ('header len 0', npy_bytes(h(), d24, hlen=0), BAD),
        ('header len odd', npy_bytes(h(), d24, hlen=7), BAD),
        ('v2 header len 2^32-1', npy_bytes(h(), d24, version=2, hlen=0xFFFFFFFF), BAD),
        ('v3 header len 2^31', npy_bytes(h(), d24, version=3, hlen=0x80000000), BAD),
        ('version 9', b'\x93NUMPY\x09\x00' + good[8:], BAD),
        ('non-ASCII header', npy_bytes(h().replace("'shape'", "'sh\xe9pe'"), d24), BAD),
        ('non-ASCII header v1 0xff', npy_bytes(h() + '\xff\xfe', d24), MAYBE),
        ('NUL in header', npy_bytes(h().replace(' ', '\0', 1), d24), MAYBE),
        ('header not a dict', npy_bytes("('<f4', False, (2, 3))", d24), BAD),
        ('header empty dict', npy_bytes('{}', d24), BAD),
        ('header no newline', good[:10] + good[10:good.index(b'\n')] + b' ' + good[good.index(b'\n') + 1:], MAYBE),
        ('key twice', npy_bytes("{'descr': '<f4', 'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }",
                                d24), MAYBE),
        ('descr in string value', npy_bytes("{'x': \"'descr': '<f8'\", 'descr': '<f4', 'fortran_order': False, "
                                           "'shape': (2, 3), }", d24), MAYBE),
    ]
    hend = good.index(b'\n') + 1
    for c in sorted({0, 1, 5, 6, 7, 8, 9, 10, 11, 20, hend - 1, hend, hend + 1, len(good) - 1}):
        cases.append((f'cut@{c:#x}', good[:c], BAD))
    for k in range(8 if quick else 64):
        b = bytearray(good)
        p = rng.randrange(hend)
        b[p] = rng.choice([0, 0xff, ord('('), ord("'"), ord('9'), ord('-')])
        cases.append((f'header flip {k}@{p:#x}', bytes(b), MAYBE))
    chk = tool('m2w-check')
    for name, blob, exp in cases:
        runs = [('m2w-inspect', ['--json', '{d}/act/x.npy'])]
        if chk:
            runs.append(('m2w-check', ['{d}/ref', '{d}/act']))
        out.append(Case('npy', name + ' (act)', {'ref/x.npy': good, 'act/x.npy': blob}, runs, exp))
        if chk:
            out.append(Case('npy', name + ' (ref)', {'ref/x.npy': blob, 'act/x.npy': good},
                            [('m2w-check', ['{d}/ref', '{d}/act'])], exp))
    return out


# ================================================================= manifests
def json_cuts(text, rng, n):
    """Offsets of token boundaries in a JSON text."""
    pts = [i for i, c in enumerate(text) if c in '{}[],:"']
    return sample(rng, pts, n)


def gen_manifest(rng, quick, workdir, onnx_seed, gguf_seeds):
    out = []
    good = npy_bytes("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }", struct.pack('<6f', *range(6)))
    files = {'ref/a.npy': good, 'ref/b.npy': good, 'act/a.npy': good, 'act/b.npy': good}
    chk = tool('m2w-check')
    if chk:
        run = [('m2w-check', ['{d}/ref', '{d}/act'])]
        for lab, m, exp in (
                ('not JSON', b'checkpoints: a, b', BAD),
                ('empty', b'', BAD),
                ('truncated', b'{"checkpoints": ["a", "b"', BAD),
                ('checkpoints a string', b'{"checkpoints": "a"}', BAD),
                ('checkpoints numbers', b'{"checkpoints": [1, 2]}', BAD),
                ('checkpoints null', b'{"checkpoints": null}', BAD),
                ('checkpoints missing', b'{"order": ["a", "b"]}', BAD),
                ('top-level array', b'["a", "b"]', BAD),
                ('name with slash', b'{"checkpoints": ["a", "../b"]}', BAD),
                ('name with NUL', b'{"checkpoints": ["a", "b\\u0000c"]}', MAYBE),   # cJSON ends it at NUL
                ('duplicate name', b'{"checkpoints": ["a", "b", "a"]}', BAD),
                ('listed file missing', b'{"checkpoints": ["a", "b", "c"]}', CMP),
                ('nested 100000 deep', b'{"checkpoints": ' + b'[' * 100000 + b']' * 100000 + b'}', BAD),
                ('huge number', b'{"checkpoints": ["a", 1e999]}', BAD),
                ('invalid UTF-8', b'{"checkpoints": ["a", "\xff\xfe"]}', MAYBE),
                ('trailing garbage', b'{"checkpoints": ["a", "b"]} xyz', MAYBE)):
            out.append(Case('manifest', 'check manifest.json ' + lab, {**files, 'act/manifest.json': m}, run, exp))
        full = b'{"checkpoints": ["a", "b"]}'
        for c in json_cuts(full.decode(), rng, None):
            out.append(Case('manifest', f'check manifest.json cut@{c:#x}', {**files, 'act/manifest.json': full[:c]},
                            run, BAD))
        trun = [('m2w-check', ['--tolerances', '{d}/tol.json', '{d}/ref', '{d}/act'])]
        for lab, m in (('not JSON', b'{atol: 1}'), ('array', b'[1]'), ('atol string', b'{"default": {"atol": "x"}}'),
                       ('atol negative', b'{"default": {"atol": -1}}'), ('atol huge', b'{"a": {"atol": 1e999}}'),
                       ('entry not object', b'{"a": 1}'), ('nested deep', b'{"a": ' + b'{"b": ' * 5000 + b'1' +
                                                                             b'}' * 5001)):
            out.append(Case('manifest', 'check --tolerances ' + lab, {**files, 'tol.json': m}, trun, BAD))
        orun = [('m2w-check', ['--order', '{d}/order.txt', '{d}/ref', '{d}/act'])]
        for lab, m in (('missing name', b'a\nb\nc\n'), ('duplicate', b'a\nb\na\n'), ('slash', b'a\n../b\n'),
                       ('NUL', b'a\n\0\n'), ('long line', b'a' * 100000 + b'\n')):
            out.append(Case('manifest', 'check --order ' + lab, {**files, 'order.txt': m}, orun,
                            CMP if lab in ('missing name', 'long line') else BAD))
    pack = tool('m2w-pack')
    ext = tool('m2w-extract')
    if pack and ext and onnx_seed and os.path.exists(onnx_seed):
        d = os.path.join(workdir, 'manifest-base')
        os.makedirs(d, exist_ok=True)
        r = subprocess.run([ext, '-q', onnx_seed, '-o', os.path.join(d, 'weights.bin')], capture_output=True, text=True)
        r2 = subprocess.run([pack, os.path.join(d, 'weights.json'), '-o', os.path.join(d, 'pack')],
                            capture_output=True, text=True) if r.returncode == 0 else r
        if r.returncode or r2.returncode:
            print(f'manifest base from {onnx_seed}: {r.stderr or r2.stderr}: m2w-pack cases skipped')
        else:
            wj = open(os.path.join(d, 'weights.json'), 'rb').read()
            wb = open(os.path.join(d, 'weights.bin'), 'rb').read()
            out += pack_cases(rng, quick, wj, wb, d)
    return out


def pack_cases(rng, quick, wj, wb, d):
    out = []
    run = [('m2w-pack', ['{d}/weights.json', '-o', '{d}/out/pack'])]
    man = json.loads(wj)
    t0 = man['tensors'][0]

    def case(lab, j, blob=wb, exp=BAD, extra=None):
        fs = {'weights.json': j if isinstance(j, bytes) else json.dumps(j, indent=1).encode()}
        if blob is not None:
            fs['weights.bin'] = blob
        out.append(Case('manifest', 'pack weights.json ' + lab, {**fs, **(extra or {})}, run, exp))

    def mod(fn):
        m = json.loads(wj)
        fn(m)
        return m
    case('blob missing', wj, None)
    case('blob short', wj, wb[:-16])
    case('blob long', wj, wb + b'\0' * 16)
    case('blob empty', wj, b'')
    case('bytes disagree', mod(lambda m: m.__setitem__('bytes', m['bytes'] + 1)))
    case('bytes huge', mod(lambda m: m.__setitem__('bytes', 1 << 62)))
    case('bytes string', mod(lambda m: m.__setitem__('bytes', 'x')))
    case('tensors not array', mod(lambda m: m.__setitem__('tensors', {})))
    case('tensors missing', mod(lambda m: m.pop('tensors')))
    case('tensor not object', mod(lambda m: m['tensors'].__setitem__(0, 7)))
    case('top-level array', b'[]')
    case('not JSON', b'{"tensors": [}')
    case('nested 100000 deep', b'{"tensors": ' + b'[' * 100000 + b']' * 100000 + b'}')
    case('duplicate names', mod(lambda m: m['tensors'].append(dict(m['tensors'][0]))))
    for key, vals in (('offset', [len(wb), len(wb) + 16, 1 << 62, (1 << 64) - 16, -16, 1.5, 'x', None, 1e300]),
                      ('bytes', [0, t0['bytes'] + 4, 1 << 62, (1 << 64) - 1, -4, 'x', None, 1e300]),
                      ('shape', [[], [0], [-1], [1 << 32, 1 << 32], [1 << 62, 4], ['a'], 'x', [[1]], [1.5],
                                 [1] * 64, None]),
                      ('dtype', ['q9', '', 7, None, 'f64', 'string']),
                      ('name', [None, 7, '', 'a/../../b'])):
        for v in vals:
            case(f'tensor0 {key}={json.dumps(v)[:40]}', mod(lambda m: m['tensors'][0].__setitem__(key, v)),
                 exp=MAYBE if (key, v) in (('name', 'a/../../b'), ('name', ''), ('dtype', 'f64')) else BAD)
        case(f'tensor0 {key} missing', mod(lambda m: m['tensors'][0].pop(key)),
             exp=MAYBE if key == 'name' else BAD)
    last = len(man['tensors']) - 1
    case('last tensor past blob', mod(lambda m: m['tensors'][last].__setitem__('offset', len(wb) - 2)))
    case('tensors overlap', mod(lambda m: m['tensors'][last].__setitem__('offset', 0)), exp=MAYBE)
    case('xxh3 wrong', mod(lambda m: m.__setitem__('xxh3', '0' * 16)), exp=MAYBE)
    for c in json_cuts(wj.decode(), rng, 24 if quick else None):
        case(f'cut@{c:#x}', wj[:c])
    # --unpack: shards.json and its shards
    pd = os.path.join(d, 'pack')
    sj = open(os.path.join(pd, 'shards.json'), 'rb').read()
    sm = json.loads(sj)
    shard_files = {f: open(os.path.join(pd, f), 'rb').read() for f in os.listdir(pd) if f.endswith('.bin')}
    tname = sm['tensors'][0]['name']
    urun = [('m2w-pack', ['--unpack', '{d}/out/x.npy', tname, '{d}/pack'])]

    def ucase(lab, j, shards=None, exp=BAD):
        fs = {'pack/shards.json': j if isinstance(j, bytes) else json.dumps(j, indent=1).encode()}
        for f, b in (shard_files if shards is None else shards).items():
            fs['pack/' + f] = b
        out.append(Case('manifest', 'unpack shards.json ' + lab, fs, urun, exp))

    def umod(fn):
        m = json.loads(sj)
        fn(m)
        return m
    ucase('shards missing', sj, {})
    f0 = sm['shards'][sm['tensors'][0]['shard']]['file']
    ucase('shard short', sj, {**shard_files, f0: shard_files[f0][:8]})
    ucase('not JSON', sj[:len(sj) // 2])
    ucase('nested deep', b'{"tensors": ' + b'[' * 100000 + b']' * 100000 + b'}')
    for key, vals in (('shard', [99, -1, 1 << 62, 'x', None]),
                      ('offset', [1 << 62, (1 << 64) - 8, -256, 1 << 40, 'x']),
                      ('bytes', [0, 1 << 62, (1 << 64) - 1, 'x', sm['tensors'][0]['bytes'] + 4]),
                      ('shape', [[1 << 32, 1 << 32], [-1], [], 'x', [1] * 64]),
                      ('dtype', ['q9', 7, None]),
                      ('chunks', [[{'offset': 0, 'bytes': 4, 'row': 0, 'rows': 1 << 62}], 'x',
                                  [{'offset': 1 << 62, 'bytes': 4, 'row': 0, 'rows': 1}]])):
        for v in vals:
            # a chunked tensor's own offset is not used
            ucase(f'tensor {key}={json.dumps(v)[:40]}', umod(lambda m: m['tensors'][0].__setitem__(key, v)),
                  exp=MAYBE if key == 'offset' and 'chunks' in sm['tensors'][0] else BAD)
    for key, vals in (('file', ['../../etc/passwd', '/etc/passwd', 'a/../../x.bin', 'missing.bin', '', 7, None]),
                      ('offset', [1 << 62, (1 << 64) - 8, -1, 'x']),
                      ('bytes', [1 << 62, (1 << 64) - 1, 0, -1])):
        for v in vals:
            ucase(f'shard {key}={json.dumps(v)[:40]}',
                  umod(lambda m: m['shards'][m['tensors'][0]['shard']].__setitem__(key, v)))
    return out


# ================================================================= GGUF (m2w-pack)
def gen_gguf(seeds, rng, quick):
    out = []
    run = [('m2w-pack', ['{d}/m.gguf', '-o', '{d}/out/pack'])]
    for seed in seeds:
        data = open(seed, 'rb').read()
        base = os.path.basename(seed)
        fields = gguf_fields(data)
        # the tensor infos are what m2w-pack reads beyond m2w-inspect: all of them
        tens = [f for f in fields if f[2] in ('n_dims', 'dim', 'tensor type', 'tensor offset',
                                              'tensor name strlen')]
        head = [f for f in fields if f not in tens]
        pick = tens + sample(rng, head, 16 if quick else None)
        if quick:
            pick = sample(rng, pick, 60)
        for off, w, kind in sample(rng, fields, 24 if quick else None):
            out.append(Case('gguf', f'{base} cut@{kind}@{off:#x}', {'m.gguf': data[:off]}, run, BAD))
        for off, w, kind in pick:
            cur = int.from_bytes(data[off:off + w], 'little')
            vals = [0, 1 << 31, (1 << 32) - 1, 1 << 62, (1 << 64) - 1, cur + 1]
            if kind == 'tensor type':
                vals += [4, 5, 99, 0x7FFFFFFF]
            if kind == 'n_dims':
                vals += [5, 0]
            for v in (sample(rng, vals, 3) if quick else vals):
                v &= (1 << (8 * w)) - 1
                if v == cur:
                    continue
                b = bytearray(data)
                b[off:off + w] = v.to_bytes(w, 'little')
                # a metadata value or a dim that still fits may stay valid
                exp = BAD if kind in ('tensor offset', 'tensor name strlen', 'kv count', 'tensor count',
                                      'key strlen') and v not in (0,) else MAYBE
                out.append(Case('gguf', f'{base} {kind}={v:#x}@{off:#x}', {'m.gguf': bytes(b)}, run, exp))
    return out


# ================================================================= runner
def snapshot(root):
    s = {}
    for dp, dn, fn in os.walk(root):
        for f in fn + dn:
            p = os.path.join(dp, f)
            try:
                st = os.lstat(p)
                s[p] = (st.st_size, st.st_mtime_ns)
            except OSError:
                pass
    return s


def run_case(args):
    idx, case, root, keep = args
    m = None
    top = os.path.join(root, f'c{idx}')
    d = os.path.join(top, 'a', 'b')          # '../..' from the case folder stays in top
    total = 0
    for rel, blob in case.files.items():
        p = os.path.join(d, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, 'wb') as f:
            f.write(blob)
        total += len(blob)
    os.makedirs(os.path.join(d, 'out'), exist_ok=True)
    lim = total + AS_BOUND if AS_BOUND else 4 << 30
    if AS_BOUND and case.fmt == 'onnx':
        # an ONNX model's parsed tree (nodes, attributes, names) grows with
        # the graph: onnx.c bounds it by the file's size + 72 MiB, so ONNX
        # runs get that fixed bound on top (weights are views, not copies)
        lim += ONNX_TREE_BOUND

    # prlimit(1) sets the limit in the child: no preexec_fn, so Python can
    # spawn without forking its own (large) address space for every run
    wrap = [] if SANITIZED else ['prlimit', '--as=%d' % lim, '--']
    results = []
    for tname, targs in case.runs:
        exe = tool(tname)
        if not exe:
            continue
        before = snapshot(top)
        argv_ = wrap + [exe] + [a.replace('{d}', d) for a in targs]
        t0 = time.monotonic()
        ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        try:
            r = subprocess.run(argv_, capture_output=True, text=True, errors='replace', timeout=max(20, TIME_LIMIT * 5),
                               stdin=subprocess.DEVNULL)
            rc, err = r.returncode, r.stderr
        except subprocess.TimeoutExpired:
            rc, err = None, 'timeout'
        wall = time.monotonic() - t0
        ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        # CPU time (user + system): the limit must not depend on the machine's load
        dt = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
        if rc is None:
            dt = wall
        problems = []
        exp = case.expect_for(tname)
        if rc is None:
            problems.append('hang (timeout)')
        elif rc < 0 or rc not in (0, 1):
            problems.append(f'exit {rc}' + (' (signal)' if rc < 0 else '') + f': {err.strip()[-300:]}')
        elif rc == 0 and exp in (BAD, CMP):
            problems.append('exit 0 on a bad input')
        elif rc == 1 and tname == 'm2w-check' and exp in (MAYBE, CMP) and 'error:' not in err:
            pass               # two readable files that differ: a comparison failure
        elif rc == 1:
            m = MSG.search(err)
            if not m:
                problems.append(f'no "m2w-TOOL: FILE:0xOFFSET: error:" line: {err.strip()[:300]}')
            else:
                f = m['file']
                if m['tool'] != tname:
                    problems.append(f'message from {m["tool"]}, expected {tname}')
                if not os.path.isfile(f):
                    problems.append(f'message names {f}, not a file of the case: {m.group(0)[:300]}')
                elif int(m['off'], 16) > os.path.getsize(f):
                    problems.append(f'offset 0x{m["off"]} past the end of {f} ({os.path.getsize(f)} bytes)')
            if 'out of memory' in err.lower() or 'cannot allocate' in err.lower():
                problems.append(f'ran out of memory: {err.strip()[:200]}')
        if dt > TIME_LIMIT:
            problems.append(f'took {dt:.2f} s')
        # nothing written outside the case's out/ folder
        after = snapshot(top)
        outp = os.path.join(d, 'out')
        new = [p for p in after if p not in before and not p.startswith(outp + os.sep) and p != outp]
        if new:
            problems.append(f'wrote outside its output folder: {new[:3]}')
        if os.path.exists('/tmp/m2w-badcorpus-abs'):
            problems.append('wrote /tmp/m2w-badcorpus-abs')
        results.append((tname, rc, dt, problems, m_line(err)))
    shutil.rmtree(top, ignore_errors=True)
    kept = None
    if any(r[3] for r in results):
        kept = os.path.join(keep, f'{case.fmt}-{idx}')
        for rel, blob in case.files.items():
            os.makedirs(os.path.dirname(os.path.join(kept, rel)), exist_ok=True)
            with open(os.path.join(kept, rel), 'wb') as f:
                f.write(blob)
    return idx, case.fmt, case.name, case.runs, results, kept


def m_line(err):
    m = MSG.search(err or '')
    return m.group(0)[:200] if m else (err or '').strip()[:200]


def main():
    if not TOOLS:
        print(__doc__)
        sys.exit(2)
    work = tempfile.mkdtemp(prefix='m2w-corpus-')
    keep = KEEP or os.path.join(work, 'failed')
    root = os.path.join(work, 'runs')
    os.makedirs(root)
    # workers forked before any case exists: each run's fork copies little
    pool = multiprocessing.Pool(JOBS)
    present = []
    for s in SEEDS:
        if os.path.exists(s):
            present.append(s)
        else:
            print(f'seed {s}: not present, skipped (fetch it with tools/bootstrap.sh test)')
    by_ext = lambda e: [s for s in present if s.endswith(e)]  # noqa: E731

    def all_cases():
        # one format at a time (each list lives only while its runs go)
        if 'onnx' in ONLY:
            dims = {s: scaffold_bindings(s) for s in by_ext('.onnx')}
            yield from gen_onnx(by_ext('.onnx'), random.Random(SEED + 1), QUICK, dims)
        tfl_seeds = by_ext('.tflite')
        if 'tflite' in ONLY:
            yield from gen_tflite(tfl_seeds, random.Random(SEED + 2), QUICK)
        if 'zip' in ONLY and tfl_seeds:
            yield from gen_zip(random.Random(SEED + 3), QUICK, open(min(tfl_seeds, key=os.path.getsize), 'rb').read())
        if 'gguf' in ONLY:
            yield from gen_gguf(by_ext('.gguf'), random.Random(SEED + 6), QUICK)
        if 'npy' in ONLY:
            yield from gen_npy(random.Random(SEED + 4), QUICK)
        if 'manifest' in ONLY:
            onnx_small = [s for s in by_ext('.onnx') if os.path.getsize(s) < (4 << 20)]
            seed_for_pack = max(onnx_small, key=os.path.getsize) if onnx_small else None
            yield from gen_manifest(random.Random(SEED + 5), QUICK, work, seed_for_pack, by_ext('.gguf'))
    if DRY:
        pool.terminate()
        counts = {}
        for c in all_cases():
            k = counts.setdefault(c.fmt, [0, 0])
            k[0] += 1
            k[1] += sum(1 for t, _ in c.runs if tool(t))
        for fmt, (nc, nr) in counts.items():
            print(f'{fmt}: {nc} cases, {nr} runs')
        shutil.rmtree(work, ignore_errors=True)
        return
    stats = {}
    fails = 0
    maxt = (0.0, '')
    t_start = time.monotonic()
    with pool:
        jobs = ((i, c, root, keep) for i, c in enumerate(all_cases()))
        for idx, fmt, name, runs, results, kept in pool.imap_unordered(run_case, jobs, chunksize=2):
            c = Case(fmt, name, {}, runs)
            st = stats.setdefault(c.fmt, {'cases': 0, 'runs': 0, 'exit0': 0, 'exit1': 0, 'fail': 0})
            st['cases'] += 1
            bad = False
            for tname, rc, dt, problems, line in results:
                st['runs'] += 1
                st['exit0' if rc == 0 else 'exit1' if rc == 1 else 'fail'] += rc in (0, 1)
                if dt > maxt[0]:
                    maxt = (dt, f'{tname} on {c.fmt} "{c.name}"')
                for p in problems:
                    bad = True
                    fails += 1
                    print(f'FAIL {c.fmt} "{c.name}": {tname}: {p}')
            if bad:
                kd = kept
                print(f'     kept in {kd}; runs: ' + '; '.join(
                    f'{t} ' + ' '.join(a.replace("{d}", kd) for a in args) for t, args in c.runs))
    took = time.monotonic() - t_start
    for fmt, st in stats.items():
        print(f'{fmt}: {st["cases"]} cases, {st["runs"]} runs: {st["exit1"]} refused (exit 1), '
              f'{st["exit0"]} accepted (exit 0; allowed only where still valid)')
    print(f'{sum(s["runs"] for s in stats.values())} runs in {took:.1f} s ({JOBS} jobs), slowest run {maxt[0]:.3f} s '
          f'({maxt[1]}), {fails} failures' +
          (f'; address space per run: input size + {AS_BOUND >> 20} MiB (ONNX: + {ONNX_TREE_BOUND >> 20} MiB more, its parsed tree)' if AS_BOUND and not SANITIZED else ''))
    if not fails:
        shutil.rmtree(work, ignore_errors=True)
    sys.exit(1 if fails else 0)


if __name__ == '__main__':
    main()
