#!/usr/bin/python3
"""m2w-inspect --json against python3-onnx (the ONNX project's own reader).

For every model.onnx under the ONNX test data (Debian libonnx-testdata,
1072 models) and for a handful of models written here with onnx.helper to
reach what the test data lacks (every typed data field, int32_data packed and
unpacked, external data, sparse initializers, nested If/Loop subgraphs with
their own initializers, custom domains, metadata, sequence / map / optional
types, unknown dims), compares: format, ir_version, producer, opset, inputs
(graph inputs that are not initializers) and outputs with shapes and dtypes,
op counts over every graph and subgraph, the graph count, every initializer
of every graph and every sparse initializer (name, shape, dtype, bytes, in
m2w's order), params and metadata.  Models that python3-onnx itself
can't load are skipped, and so are the generated ones m2w must refuse
(external data outside the folder), which instead must fail with exit 1.

Malformed input: hand-made files (varint overflow, lengths past the end,
wrong wire types, groups, nesting past M2W_MAX_NESTING, absurd ranks and
element counts, data that does not fill the shape, a file of empty nodes)
must fail with exit 1 and "FILE:0xOFFSET: error: ..." naming the right spot,
and every truncation of a generated model must give exit 0 or that error,
never a crash.

With --tensors ONNX_TENSORS (the onnx-tensors helper built next to this
script), also compares every initializer's decoded bytes (CRC-32 of
libm2w's m2w_onnx_tensor_stream vs numpy_helper.to_array), and checks every
test data .pb TensorProto that python3-onnx reads as one (m2w-inspect's
description and the decoded bytes).

Usage: check_onnx.py [--tensors ONNX_TENSORS] M2W_INSPECT [TESTDATA_DIR]
  TESTDATA_DIR defaults to $M2W_ONNX_TESTDATA, else
  /usr/share/libonnx-testdata/data.
Prints every mismatch by model and key, then "N/N match"; exit 1 on any
mismatch, 77 (skip) when the data or python3-onnx is missing.
"""
import concurrent.futures
import json
import os
import re
import subprocess
import sys
import tempfile
import zlib

DEFAULT_DATA = "/usr/share/libonnx-testdata/data"


def skip(why):
    print(f"SKIP: {why}")
    sys.exit(77)


try:
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper
except ImportError as e:  # pragma: no cover
    skip(f"python3-onnx / numpy not importable: {e}")

# TensorProto.DataType -> m2w dtype names (DESIGN.md, plus m2w's names for the rest)
DTYPE = {
    1: "f32", 2: "u8", 3: "i8", 4: "u16", 5: "i16", 6: "i32", 7: "i64", 8: "string", 9: "bool",
    10: "f16", 11: "f64", 12: "u32", 13: "u64", 14: "c64", 15: "c128", 16: "bf16",
    17: "f8e4m3fn", 18: "f8e4m3fnuz", 19: "f8e5m2", 20: "f8e5m2fnuz", 21: "u4", 22: "i4",
    23: "f4e2m1", 24: "f8e8m0", 25: "u2", 26: "i2",
}
BITS = {1: 32, 2: 8, 3: 8, 4: 16, 5: 16, 6: 32, 7: 64, 9: 8, 10: 16, 11: 64, 12: 32, 13: 64,
        14: 64, 15: 128, 16: 16, 17: 8, 18: 8, 19: 8, 20: 8, 21: 4, 22: 4, 23: 4, 24: 8,
        25: 2, 26: 2}


def type_name(tp):
    """A TypeProto as m2w names it."""
    kind = tp.WhichOneof("value")
    if kind == "tensor_type":
        return DTYPE.get(tp.tensor_type.elem_type)
    if kind == "sparse_tensor_type":
        d = DTYPE.get(tp.sparse_tensor_type.elem_type)
        return f"sparse({d})" if d else None
    if kind == "sequence_type":
        return f"seq({type_name(tp.sequence_type.elem_type) or '?'})"
    if kind == "optional_type":
        return f"optional({type_name(tp.optional_type.elem_type) or '?'})"
    if kind == "map_type":
        return f"map({DTYPE.get(tp.map_type.key_type, '')},{type_name(tp.map_type.value_type) or '?'})"
    if kind == "opaque_type":
        return "opaque"
    return None


def shape_of(tp):
    kind = tp.WhichOneof("value")
    if kind not in ("tensor_type", "sparse_tensor_type"):
        return None
    t = getattr(tp, kind)
    if not t.HasField("shape"):
        return None
    out = []
    for d in t.shape.dim:
        w = d.WhichOneof("value")
        out.append(d.dim_value if w == "dim_value" else d.dim_param if w == "dim_param" else None)
    return out


def value(vi):
    return {"name": vi.name, "shape": shape_of(vi.type) if vi.HasField("type") else None,
            "dtype": type_name(vi.type) if vi.HasField("type") else None}


def count(dims):
    n = 1
    for d in dims:
        n *= d
    return n


def tensor_bytes(t):
    if t.data_type == TensorProto.STRING:
        return sum(len(s) for s in t.string_data)
    n = count(t.dims)
    bits = BITS[t.data_type]
    return n * bits // 8 if bits >= 8 else (n * bits + 7) // 8


def reference(path, size):
    """What m2w-inspect --json should say about the model at path."""
    m = onnx.load(path)  # loads external data too, from the model's folder
    g = m.graph
    ops, tensors = {}, []
    state = {"graphs": 0, "params": 0}

    def walk(graph):
        state["graphs"] += 1
        for t in graph.initializer:
            tensors.append({"name": t.name, "shape": list(t.dims), "dtype": DTYPE.get(t.data_type),
                            "bytes": tensor_bytes(t), "quant": None})
            state["params"] += count(t.dims)
        for s in graph.sparse_initializer:
            tensors.append({"name": s.values.name, "shape": list(s.dims),
                            "dtype": DTYPE.get(s.values.data_type),
                            "bytes": tensor_bytes(s.values) + tensor_bytes(s.indices), "quant": None})
            state["params"] += count(s.dims)
        for n in graph.node:
            key = n.op_type if n.domain in ("", "ai.onnx") else f"{n.domain}.{n.op_type}"
            ops[key] = ops.get(key, 0) + 1
            for a in n.attribute:
                if a.HasField("g"):
                    walk(a.g)
                for sub in a.graphs:
                    walk(sub)

    walk(g)
    inits = {t.name for t in g.initializer} | {s.values.name for s in g.sparse_initializer}
    opset = {}
    for o in m.opset_import:
        opset[o.domain or "ai.onnx"] = o.version
    producer = " ".join(s for s in (m.producer_name, m.producer_version) if s)
    return {
        "format": "onnx", "bytes": size, "producer": producer, "opset": opset,
        "ir_version": m.ir_version,
        "inputs": [value(v) for v in g.input if v.name not in inits],
        "outputs": [value(v) for v in g.output],
        "ops": ops, "graphs": state["graphs"], "tensors": tensors, "params": state["params"],
        "metadata": {p.key: p.value for p in m.metadata_props},
    }


def inspect(exe, path, *extra):
    p = subprocess.run([exe, *extra, path], capture_output=True)
    if p.returncode != 0:
        name = os.path.basename(exe)
        raise RuntimeError(f"{name} exit {p.returncode}: {p.stderr.decode(errors='replace').strip()}")
    return json.loads(p.stdout)


def data_of(t):
    """(name, dtype, shape, bytes, crc32) of t's elements as m2w streams them."""
    if t.data_type == TensorProto.STRING:
        blob = b"".join(len(s).to_bytes(8, "little") + s for s in t.string_data)
    elif t.data_type in (TensorProto.COMPLEX64, TensorProto.COMPLEX128) and not t.HasField("raw_data"):
        # onnx 1.12's to_array fails on typed complex data; the pairs are the layout
        if t.data_type == TensorProto.COMPLEX64:
            blob = np.array(t.float_data, dtype="<f4").tobytes()
        else:
            blob = np.array(t.double_data, dtype="<f8").tobytes()
    else:
        blob = numpy_helper.to_array(t).astype(numpy_helper.to_array(t).dtype.newbyteorder("<")).tobytes()
    return {"name": t.name, "dtype": DTYPE.get(t.data_type), "shape": list(t.dims),
            "bytes": len(blob), "crc32": zlib.crc32(blob)}


def tensor_data(path):
    """What onnx-tensors should print for the model at path."""
    m = onnx.load(path)
    out = []

    def walk(graph):
        out.extend(data_of(t) for t in graph.initializer)
        for s in graph.sparse_initializer:
            out.extend((data_of(s.values), data_of(s.indices)))
        for n in graph.node:
            for a in n.attribute:
                if a.HasField("g"):
                    walk(a.g)
                for sub in a.graphs:
                    walk(sub)
    walk(m.graph)
    return out


def compare_list(what, got, want):
    bad = []
    if len(got) != len(want):
        bad.append(f"{what}: {len(got)} entries vs onnx {len(want)}")
    for i, (a, b) in enumerate(zip(got, want)):
        if a != b:
            bad.append(f"{what}[{i}] {b['name']!r}: m2w {a} vs onnx {b}")
    return bad


def compare(ours, ref):
    """Mismatch strings, key by key; [] when they agree."""
    bad = []
    for key, want in ref.items():
        got = ours.get(key, "<missing>")
        if key == "tensors" and isinstance(got, list):
            if len(got) != len(want):
                bad.append(f"tensors: {len(got)} vs onnx {len(want)}")
            for i, (a, b) in enumerate(zip(got, want)):
                a = {k: v for k, v in a.items() if not k.startswith("_")}
                if a != b:
                    bad.append(f"tensors[{i}] {b['name']!r}: m2w {a} vs onnx {b}")
        elif key == "ops" and isinstance(got, dict):
            for op in sorted(set(got) | set(want)):
                if got.get(op) != want.get(op):
                    bad.append(f"ops[{op!r}]: m2w {got.get(op)} vs onnx {want.get(op)}")
        elif got != want:
            bad.append(f"{key}: m2w {got!r} vs onnx {want!r}")
    return bad


def check_one(exe, tensors_exe, path):
    """(path, [mismatches], None) or (path, None, why) when python3-onnx
    can't read it."""
    try:
        ref = reference(path, os.path.getsize(path))
        ref_data = tensor_data(path) if tensors_exe else None
    except Exception as e:  # the reference reader refuses it: not ours to judge
        return path, None, f"python3-onnx: {e}"
    try:
        bad = compare(inspect(exe, path, "--json"), ref)
        if tensors_exe:
            bad += compare_list("data", inspect(tensors_exe, path), ref_data)
        return path, bad, None
    except Exception as e:
        return path, [str(e)], None


def check_pb(exe, tensors_exe, path):
    """A test data .pb: (path, [mismatches], None), or (path, None, why) when
    it is not a TensorProto to python3-onnx (sequences, maps, optionals)."""
    try:
        t = onnx.load_tensor(path)
        if t.data_type not in DTYPE:
            raise ValueError(f"data_type {t.data_type}")
        want = data_of(t)
    except Exception as e:
        return path, None, f"not a TensorProto to python3-onnx: {e}"
    try:
        j = inspect(exe, path, "--json")
        got = {k: v for k, v in j["tensors"][0].items() if not k.startswith("_")}
        ref = {"name": t.name, "shape": list(t.dims), "dtype": DTYPE[t.data_type],
               "bytes": tensor_bytes(t), "quant": None}
        bad = [] if got == ref else [f"tensor: m2w {got} vs onnx {ref}"]
        if j.get("params") != count(t.dims):
            bad.append(f"params: m2w {j.get('params')} vs onnx {count(t.dims)}")
        if tensors_exe:
            bad += compare_list("data", inspect(tensors_exe, path, "--pb"), [want])
        return path, bad, None
    except Exception as e:
        return path, [str(e)], None


# ---- generated models: what the test data lacks ----

def pb_varint(x):
    out = bytearray()
    while True:
        b, x = x & 0x7F, x >> 7
        out.append(b | 0x80 if x else b)
        if not x:
            return bytes(out)


def pb_field(num, wt, payload):
    if wt == 2:
        return pb_varint(num << 3 | 2) + pb_varint(len(payload)) + payload
    return pb_varint(num << 3 | wt) + payload


def unpacked_int32_tensor(name, values, dims, data_type):
    """TensorProto bytes whose int32_data is written one field per value, the
    encoding protobuf writers never emit for a packed field but readers must
    accept.  Bytes, because python-protobuf would re-pack it on writing."""
    head = TensorProto(name=name, data_type=data_type, dims=dims).SerializeToString()
    body = b"".join(pb_field(5, 0, pb_varint(v & (1 << 64) - 1)) for v in values)
    t = TensorProto()
    t.ParseFromString(head + body)
    assert list(t.int32_data) == list(values)
    return head + body


def generated(tmp):
    """[(path, must_fail)] of models written into tmp."""
    out = []
    f32 = np.arange(6, dtype=np.float32).reshape(2, 3)

    # every typed data field
    inits = [
        helper.make_tensor("float_data", TensorProto.FLOAT, [2, 3], f32.flatten().tolist()),
        helper.make_tensor("int32_i8", TensorProto.INT8, [4], [-128, -1, 0, 127]),
        helper.make_tensor("int32_u8", TensorProto.UINT8, [3], [0, 200, 255]),
        helper.make_tensor("int32_i16", TensorProto.INT16, [2], [-300, 300]),
        helper.make_tensor("int32_u16", TensorProto.UINT16, [2], [0, 65535]),
        helper.make_tensor("int32_i32", TensorProto.INT32, [3], [-(2**31), 5, 2**31 - 1]),
        helper.make_tensor("int32_bool", TensorProto.BOOL, [3], [True, False, True]),
        helper.make_tensor("int32_f16", TensorProto.FLOAT16, [2],
                           np.array([1.5, -2], dtype=np.float16).view(np.uint16).tolist()),
        helper.make_tensor("int64_data", TensorProto.INT64, [3], [-(2**63), 0, 2**63 - 1]),
        helper.make_tensor("double_data", TensorProto.DOUBLE, [2], [0.1, -1e300]),
        helper.make_tensor("uint64_u32", TensorProto.UINT32, [2], [0, 2**32 - 1]),
        helper.make_tensor("uint64_u64", TensorProto.UINT64, [2], [0, 2**64 - 1]),
        helper.make_tensor("string_data", TensorProto.STRING, [2], [b"ab", b"\xff\x00x"]),
        TensorProto(name="complex64", data_type=TensorProto.COMPLEX64, dims=[2], float_data=[1, 2, 3, -4]),
        helper.make_tensor("scalar", TensorProto.FLOAT, [], [7.0]),
        helper.make_tensor("empty", TensorProto.FLOAT, [0, 3], []),
        numpy_helper.from_array(f32, "raw_f32"),
    ]
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", None, 3])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
    nodes = [helper.make_node("Identity", ["x"], ["y"], name="id")]
    g = helper.make_graph(nodes, "typed", [x], [y], initializer=inits)
    m = helper.make_model(g, producer_name="m2w-test", producer_version="1",
                          opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid("com.example", 2)])
    helper.set_model_props(m, {"author": "m2w", "note": "ünïcode"})
    # the unpacked tensors are spliced in as bytes: a repeated field may
    # continue after the others, so they simply follow in the graph
    unpacked = [unpacked_int32_tensor("unpacked_zero_point", [-3, 0, 5, -128], [4], TensorProto.INT8),
                unpacked_int32_tensor("unpacked_i32", [-1, 2**31 - 1], [2], TensorProto.INT32),
                unpacked_int32_tensor("unpacked_f16", [0x3C00, 0xC000], [2], TensorProto.FLOAT16)]
    graph_bytes = m.graph.SerializeToString() + b"".join(pb_field(5, 2, t) for t in unpacked)
    m.ClearField("graph")
    out.append((os.path.join(tmp, "typed.onnx"), False))
    with open(out[-1][0], "wb") as fp:
        fp.write(m.SerializeToString() + pb_field(7, 2, graph_bytes))

    # sparse initializer, custom domain ops, non-tensor types, no-shape output
    sp = helper.make_sparse_tensor(
        helper.make_tensor("sp_values", TensorProto.FLOAT, [3], [1.0, 2.0, 3.0]),
        helper.make_tensor("sp_indices", TensorProto.INT64, [3], [0, 5, 9]), [2, 5])
    seq_in = helper.make_tensor_sequence_value_info("seq", TensorProto.INT64, [4])
    map_in = onnx.ValueInfoProto(name="map")
    map_in.type.map_type.key_type = TensorProto.STRING
    map_in.type.map_type.value_type.tensor_type.elem_type = TensorProto.FLOAT
    opt_in = helper.make_value_info("opt", helper.make_optional_type_proto(
        helper.make_tensor_type_proto(TensorProto.INT32, [1])))
    nodes = [helper.make_node("FusedThing", ["seq"], ["a"], domain="com.example"),
             helper.make_node("DynamicQuantizeLSTM", ["a"], ["b"], domain="com.microsoft"),
             helper.make_node("FusedThing", ["b"], ["c"], domain="com.example"),
             helper.make_node("Relu", ["c"], ["d"], domain="ai.onnx")]
    g = helper.make_graph(nodes, "custom", [seq_in, map_in, opt_in],
                          [helper.make_tensor_value_info("d", TensorProto.FLOAT, [])],
                          sparse_initializer=[sp])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 15), helper.make_opsetid("com.example", 1),
                                            helper.make_opsetid("com.microsoft", 1)])
    out.append((os.path.join(tmp, "custom.onnx"), False))
    onnx.save(m, out[-1][0])

    # Loop whose body holds an If whose branches hold initializers
    def branch(name, v):
        c = helper.make_tensor(f"{name}_c", TensorProto.FLOAT, [1], [v])
        return helper.make_graph([helper.make_node("Identity", [f"{name}_c"], [f"{name}_out"])], name, [],
                                 [helper.make_tensor_value_info(f"{name}_out", TensorProto.FLOAT, [1])],
                                 initializer=[c])
    body = helper.make_graph(
        [helper.make_node("If", ["cond_in"], ["v"], then_branch=branch("then", 1.0), else_branch=branch("else", 2.0)),
         helper.make_node("Identity", ["cond_in"], ["cond_out"]),
         helper.make_node("Add", ["acc_in", "v"], ["acc_out"])],
        "body",
        [helper.make_tensor_value_info("i", TensorProto.INT64, []),
         helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
         helper.make_tensor_value_info("acc_in", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
         helper.make_tensor_value_info("acc_out", TensorProto.FLOAT, [1])])
    g = helper.make_graph(
        [helper.make_node("Loop", ["n", "c", "acc"], ["res"], body=body)], "loop",
        [helper.make_tensor_value_info("n", TensorProto.INT64, []),
         helper.make_tensor_value_info("c", TensorProto.BOOL, []),
         helper.make_tensor_value_info("acc", TensorProto.FLOAT, [1])],
        [helper.make_tensor_value_info("res", TensorProto.FLOAT, [1])],
        initializer=[helper.make_tensor("acc", TensorProto.FLOAT, [1], [0.0])])  # IR<4 style input
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    out.append((os.path.join(tmp, "nested.onnx"), False))
    onnx.save(m, out[-1][0])

    # external data in a subfolder, with offsets (and a tiny tensor kept inline)
    ext_dir = os.path.join(tmp, "ext")
    os.makedirs(os.path.join(ext_dir, "weights"))
    big = [numpy_helper.from_array(np.arange(n, dtype=np.float32) * (k + 1), f"w{k}")
           for k, n in enumerate((1000, 3, 4096))]
    g = helper.make_graph([helper.make_node("Identity", ["w0"], ["y"])], "ext", [],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1000])], initializer=big)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    out.append((os.path.join(ext_dir, "model.onnx"), False))
    onnx.save(m, out[-1][0], save_as_external_data=True, all_tensors_to_one_file=True,
              location="weights/w.bin", size_threshold=64)

    # external data that leaves the folder: m2w must refuse both
    for name, loc in (("escape.onnx", "../outside.bin"), ("absolute.onnx", "/etc/passwd")):
        t = numpy_helper.from_array(np.zeros(4, dtype=np.float32), "w")
        t.ClearField("raw_data")
        t.data_location = TensorProto.EXTERNAL
        t.external_data.add(key="location", value=loc)
        g = helper.make_graph([helper.make_node("Identity", ["w"], ["y"])], "bad", [],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4])], initializer=[t])
        path = os.path.join(ext_dir, name)
        with open(path, "wb") as f:
            f.write(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]).SerializeToString())
        out.append((path, True))
    with open(os.path.join(tmp, "outside.bin"), "wb") as f:
        f.write(b"\0" * 16)
    return out


def malformed():
    """{name: (bytes, offset, message fragment)} m2w-inspect must refuse."""
    v, f = pb_varint, pb_field
    hdr = b"\x08\x07"  # ir_version 7, so format detection says ONNX

    def graph(payload):
        return hdr + f(7, 2, payload)

    def tensor(*fields):
        return graph(f(5, 2, b"".join(fields)))
    leaf = b""
    for _ in range(30):  # If inside If: 3 messages per level, past 64
        leaf = f(1, 2, f(4, 2, b"If") + f(5, 2, f(1, 2, b"then_branch") + f(20, 0, v(5)) + f(6, 2, leaf)))
    seq = f(1, 2, f(1, 0, v(1)))
    for _ in range(100):
        seq = f(4, 2, f(1, 2, seq))
    w, f32 = f(8, 2, b"w"), f(2, 0, v(1))
    return {
        "varint_overflow": (b"\x08" + b"\xff" * 9 + b"\x02", 1, "varint overflows 64 bits"),
        "varint_truncated": (b"\x08\x07\x3a\x80", 3, "truncated varint"),
        "length_past_end": (b"\x08\x07\x3a\x10\x0a", 2, "runs past the end"),
        "wrong_wire_type": (hdr + f(7, 0, v(5)), 2, "graph (field 7) has wire type 0, expected 2"),
        "group": (hdr + b"\x0b\x0c", 2, "wire type 3"),
        "field_zero": (hdr + b"\x00\x00", 2, "field number"),
        "fixed32_truncated": (graph(f(5, 2, f(2, 5, b""))), 7, "truncated 4-byte value"),
        "nesting": (graph(leaf), None, "nested 65 deep, limit 64"),
        "type_nesting": (graph(f(11, 2, f(1, 2, b"x") + f(2, 2, seq))), None, "nested 65 deep, limit 64"),
        "rank": (tensor(f(1, 2, v(1) * 100), f32, w), 6, "100 dims, limit 64"),
        "count_overflow": (tensor(f(1, 2, v(1 << 40) * 2), f32, w), 6, "overflows 64 bits"),
        "negative_dim": (tensor(f(1, 0, v((1 << 64) - 1)), f32, w), 6, "dim 0 is -1"),
        "raw_short": (tensor(f(1, 0, v(3)), f32, w, f(9, 2, bytes(8))), 15, "raw_data is 8 bytes, shape and type need 12"),
        "int32_data_short": (tensor(f(1, 0, v(3)), f(2, 0, v(3)), w, f(5, 2, v(1) + v(2))), 15,
                             "has 2 values, shape and type need 3"),
        "data_in_wrong_field": (tensor(f(1, 0, v(2)), f32, w, f(7, 2, v(1) + v(2))), 15, "field 7, expected 4"),
        "packed_truncated": (tensor(f(1, 2, b"\x81")), 8, "truncated varint"),
        "graph_twice": (hdr + f(7, 2, b"") + f(7, 2, b""), 4, "graph appears twice"),
        "empty_nodes": (graph(b"\x0a\x00" * 1_000_000), None, "bytes of memory, limit"),
        "no_data": (tensor(f(1, 0, v(3)), f32, w), 6, "3 elements and no data"),
    }


def check_malformed(exe, tmp):
    """(passed, total, [problems])"""
    bad, total = [], 0
    pattern = re.compile(r"^m2w-inspect: (.*):0x([0-9a-f]+): error: (.*)$", re.M)

    def run(path):
        p = subprocess.run([exe, "--json", path], capture_output=True)
        err = p.stderr.decode(errors="replace")
        m = pattern.search(err)
        return p.returncode, m, err.strip()

    for name, (blob, off, frag) in malformed().items():
        total += 1
        path = os.path.join(tmp, f"{name}.onnx")
        with open(path, "wb") as fp:
            fp.write(blob)
        rc, m, err = run(path)
        if rc != 1 or not m or frag not in m.group(3) or (off is not None and int(m.group(2), 16) != off):
            bad.append(f"malformed {name}: want exit 1 at 0x{off if off is not None else 0:x} '{frag}', "
                       f"got exit {rc}: {err[-300:]}")
    # every truncation of a model with subgraphs, typed data and metadata
    for name in ("typed.onnx", "nested.onnx"):
        blob = open(os.path.join(tmp, name), "rb").read()
        for n in range(len(blob)):
            total += 1
            path = os.path.join(tmp, "cut.onnx")
            with open(path, "wb") as fp:
                fp.write(blob[:n])
            rc, m, err = run(path)
            if rc == 0 or (rc == 1 and m and int(m.group(2), 16) <= n):
                continue
            bad.append(f"{name} cut at {n}: exit {rc}: {err[-300:]}")
    return total - len(bad), total, bad


def main():
    args = sys.argv[1:]
    tensors_exe = None
    if args[:1] == ["--tensors"] and len(args) > 1:
        tensors_exe, args = args[1], args[2:]
    if not args:
        print(__doc__, file=sys.stderr)
        return 2
    exe = args[0]
    data = args[1] if len(args) > 1 else os.environ.get("M2W_ONNX_TESTDATA") or DEFAULT_DATA
    if not os.path.isdir(data):
        skip(f"ONNX test data not found at {data} (apt install libonnx-testdata, or set M2W_ONNX_TESTDATA)")
    models = sorted(os.path.join(r, f) for r, _, fs in os.walk(data) for f in fs if f == "model.onnx")
    if not models:
        skip(f"no model.onnx under {data}")

    failures = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 4) as pool:
        results = list(pool.map(lambda p: check_one(exe, tensors_exe, p), models))
        pbs = sorted(os.path.join(r, f) for r, _, fs in os.walk(data) for f in fs if f.endswith(".pb"))
        pb_results = list(pool.map(lambda p: check_pb(exe, tensors_exe, p), pbs)) if tensors_exe else []
    matched = unread = 0
    for path, bad, why in results:
        name = os.path.relpath(os.path.dirname(path), data)
        if bad is None:
            unread += 1
            print(f"skipped {name}: {why}")
        elif bad:
            failures += 1
            for b in bad:
                print(f"MISMATCH {name}: {b}")
        else:
            matched += 1
    checked = len(models) - unread
    print(f"test data: {matched}/{checked} match" + (f" ({unread} unreadable by python3-onnx)" if unread else ""))
    pb_matched = pb_other = 0
    for path, bad, why in pb_results:
        name = os.path.relpath(path, data)
        if bad is None:
            pb_other += 1
        elif bad:
            failures += 1
            for b in bad:
                print(f"MISMATCH {name}: {b}")
        else:
            pb_matched += 1
    if tensors_exe:
        print(f"test data .pb tensors: {pb_matched}/{len(pb_results) - pb_other} match "
              f"({pb_other} sequence/map/optional .pb files not compared)")

    with tempfile.TemporaryDirectory(prefix="m2w-onnx-") as tmp:
        gen = generated(tmp)
        gmatched = 0
        for path, must_fail in gen:
            name = os.path.relpath(path, tmp)
            if must_fail:
                p = subprocess.run([exe, "--json", path], capture_output=True)
                err = p.stderr.decode(errors="replace")
                if p.returncode == 1 and "error" in err and "folder" in err:
                    gmatched += 1
                else:
                    failures += 1
                    print(f"MISMATCH generated {name}: must fail with exit 1 and a folder error, "
                          f"got exit {p.returncode}: {err.strip()}")
                continue
            _, bad, why = check_one(exe, tensors_exe, path)
            if bad is None:
                failures += 1
                print(f"MISMATCH generated {name}: python3-onnx can't read it: {why}")
            elif bad:
                failures += 1
                for b in bad:
                    print(f"MISMATCH generated {name}: {b}")
            else:
                gmatched += 1
        print(f"generated: {gmatched}/{len(gen)} match")
        mpassed, mtotal, mbad = check_malformed(exe, tmp)
        for b in mbad:
            print(f"MISMATCH {b}")
        failures += len(mbad)
        print(f"malformed and truncated: {mpassed}/{mtotal} refused cleanly")
    print(f"{matched + gmatched}/{checked + len(gen)} models match")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
