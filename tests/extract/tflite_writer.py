"""A minimal TFLite (schema.fbs) flatbuffer writer for test fixtures.

Objects are laid out front to back after the root offset and the "TFL3"
identifier, parents before children, so every uoffset points forward;
each table's vtable sits just before it.  Only what the fixtures need:
Model, OperatorCode, SubGraph, Tensor, QuantizationParameters, Operator,
Buffer.  `offsets` records where each named vector's first element
landed, so tests can check the file offsets m2w-extract reports.
"""
import struct


class Table:
    def __init__(self, fields, tag=None):
        self.fields = fields  # [(slot, kind, value)], kind: u8 i32 u32 u64 ref
        self.tag = tag


class Vec:
    def __init__(self, kind, items, tag=None):
        self.kind = kind  # i32 u32 f32 i64 u8 ref
        self.items = items
        self.tag = tag


class Str:
    def __init__(self, s):
        self.s = s.encode() if isinstance(s, str) else s


SIZE = {"u8": 1, "i8": 1, "i32": 4, "u32": 4, "f32": 4, "i64": 8, "u64": 8, "ref": 4}
FMT = {"u8": "<B", "i8": "<b", "i32": "<i", "u32": "<I", "f32": "<f", "i64": "<q", "u64": "<Q"}


def build(root):
    buf = bytearray(8)
    fix = []      # (position of a uoffset, object)
    pos = {}      # id(obj) -> position
    offsets = {}  # tag -> file offset of the vector's first element / the table
    queue = [root]

    def pad(a):
        while len(buf) % a:
            buf.append(0)

    while queue:
        obj = queue.pop(0)
        if id(obj) in pos:
            continue
        if isinstance(obj, Table):
            fields = sorted(obj.fields, key=lambda f: -SIZE[f[1]])
            nslots = max(f[0] for f in obj.fields) + 1 if obj.fields else 0
            layout, o = {}, 4
            for f in fields:
                a = SIZE[f[1]]
                o = (o + a - 1) // a * a
                layout[f[0]] = o
                o += a
            size = o
            pad(2)
            vt = bytearray(struct.pack("<HH", 4 + 2 * nslots, size))
            for i in range(nslots):
                vt += struct.pack("<H", layout.get(i, 0))
            # table start must be 8-aligned; the vtable ends right before it
            start = len(buf) + len(vt)
            start = (start + 7) // 8 * 8
            buf.extend(b"\0" * (start - len(vt) - len(buf)))
            vpos = len(buf)
            buf.extend(vt)
            assert len(buf) == start
            tpos = start
            buf.extend(b"\0" * size)
            struct.pack_into("<i", buf, tpos, tpos - vpos)
            for slot, kind, val in obj.fields:
                p = tpos + layout[slot]
                if kind == "ref":
                    fix.append((p, val))
                    queue.append(val)
                else:
                    struct.pack_into(FMT[kind], buf, p, val)
            pos[id(obj)] = tpos
            if obj.tag:
                offsets[obj.tag] = tpos
        elif isinstance(obj, Vec):
            a = max(4, SIZE[obj.kind])
            # the length (u32) sits right before the first element, which is a-aligned
            while (len(buf) + 4) % a:
                buf.append(0)
            pos[id(obj)] = len(buf)
            buf += struct.pack("<I", len(obj.items))
            if obj.tag:
                offsets[obj.tag] = len(buf)
            for it in obj.items:
                if obj.kind == "ref":
                    fix.append((len(buf), it))
                    queue.append(it)
                    buf += b"\0\0\0\0"
                else:
                    buf += struct.pack(FMT[obj.kind], it)
        elif isinstance(obj, Str):
            pad(4)
            pos[id(obj)] = len(buf)
            buf += struct.pack("<I", len(obj.s)) + obj.s + b"\0"
        elif isinstance(obj, (bytes, bytearray)):
            raise TypeError("wrap raw bytes in Vec('u8', ...)")
    pad(8)
    for p, obj in fix:
        struct.pack_into("<I", buf, p, pos[id(obj)] - p)
    struct.pack_into("<I", buf, 0, pos[id(root)])
    buf[4:8] = b"TFL3"
    return bytes(buf), offsets


# ---- schema helpers ----

def quant(scale, zero_point=None, qdim=0, tag=None):
    f = [(2, "ref", Vec("f32", scale, tag and tag + ".scale"))]
    if zero_point is not None:
        f.append((3, "ref", Vec("i64", zero_point, tag and tag + ".zp")))
    f.append((6, "i32", qdim))
    return Table(f, tag and tag + ".q")


def tensor(name, shape, ttype, buffer, q=None, tag=None, sparsity=None):
    f = [(0, "ref", Vec("i32", shape)), (1, "u8", ttype), (2, "u32", buffer), (3, "ref", Str(name))]
    if q is not None:
        f.append((4, "ref", q))
    if sparsity is not None:
        f.append((6, "ref", sparsity))
    return Table(f, tag)


def sparsity(traversal, block_map, levels):
    """levels: ("dense", size) or ("csr", segments, indices) per traversal level."""
    meta = []
    for lv in levels:
        if lv[0] == "dense":
            meta.append(Table([(0, "u8", 0), (1, "i32", lv[1])]))
        else:
            vec = lambda xs: Table([(0, "ref", Vec("i32", xs))])  # Int32Vector
            meta.append(Table([(0, "u8", 1), (2, "u8", 1), (3, "ref", vec(lv[1])), (4, "u8", 1),
                               (5, "ref", vec(lv[2]))]))
    return Table([(0, "ref", Vec("i32", traversal)), (1, "ref", Vec("i32", block_map)),
                  (2, "ref", Vec("ref", meta))])


def operator(opcode, inputs, outputs):
    return Table([(0, "u32", opcode), (1, "ref", Vec("i32", inputs)), (2, "ref", Vec("i32", outputs))])


def opcode(builtin):
    return Table([(0, "i8", min(builtin, 127)), (2, "i32", 1), (3, "i32", builtin)])


def buffer(data):
    if not data:
        return Table([])
    return Table([(0, "ref", Vec("u8", list(data)))])


def model(opcodes, tensors, inputs, outputs, operators, buffers):
    sg = Table([(0, "ref", Vec("ref", tensors)), (1, "ref", Vec("i32", inputs)), (2, "ref", Vec("i32", outputs)),
                (3, "ref", Vec("ref", operators)), (4, "ref", Str("main"))])
    return Table([(0, "u32", 3), (1, "ref", Vec("ref", opcodes)), (2, "ref", Vec("ref", [sg])),
                  (3, "ref", Str("m2w test fixture")), (4, "ref", Vec("ref", buffers))])


# TensorType and BuiltinOperator values used by the fixtures
FLOAT32, FLOAT16, INT32, UINT8, INT8, INT4 = 0, 1, 2, 3, 9, 17
CONV_2D, DEPTHWISE_CONV_2D, DEQUANTIZE, FULLY_CONNECTED = 3, 4, 6, 9
