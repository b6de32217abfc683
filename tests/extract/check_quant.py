#!/usr/bin/python3
"""Quantized weights: m2w-extract's dequantization on models written here
(python3-onnx's helper for ONNX, tflite_writer.py for TFLite), against
numpy's (float32(q) - float32(zero_point)) * scale, bit for bit, and its
errors on corrupt quantization parameters.

Good ONNX model: DequantizeLinear per-tensor (u8), per-axis (i8, axis 0,
axis -1), blocked (block_size), on an int4 initializer and on a Constant
node's tensor; QLinearConv (weight per channel, int32 bias with
x_scale * w_scale); QLinearMatMul (per column); MatMulInteger with
quantize_dynamic's Cast -> Mul(a_scale * CONST) scale; ConvInteger (no
scale: values q - zp); DynamicQuantizeLSTM (per direction and column, the
layout recorded).  Good TFLite model: CONV_2D int8 filter per channel and
its int32 bias, DEPTHWISE_CONV_2D int8 per channel (quantized_dimension
3), FULLY_CONNECTED uint8 per tensor, an f16 filter through DEQUANTIZE,
an int4 constant; filters checked after the NCHW permutation.

Bad models (zero scale, NaN scale, zero point out of range, axis out of
range, scale count not matching the axis, zero-point count not matching
the scales) must exit 1 with "FILE:0xOFF: error: tensor 'NAME': ..." where
OFF lies inside the offending scale / zero point / node (ONNX) or is
the offending vector (its first element or length word) or the tensor /
quantization table (TFLite).

Usage: check_quant.py M2W_EXTRACT
"""
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)


def skip(why):
    print(f"SKIP: {why}")
    sys.exit(77)


try:
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper, TensorProto
except ImportError as e:
    skip(f"python3-onnx / numpy not importable: {e}")
import tflite_writer as tw

F32 = np.float32
failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL:", msg)


def extract(exe, path, out, extra=()):
    r = subprocess.run([exe, path, "-o", out, "--verify"] + list(extra), capture_output=True, text=True)
    return r.returncode, r.stderr


def load(out):
    man = json.load(open(out[:-4] + ".json"))
    data = np.fromfile(out, dtype=np.uint8)
    got = {}
    for t in man["tensors"]:
        dt = {"f32": np.float32, "f16": np.float16, "i8": np.int8, "u8": np.uint8, "i32": np.int32,
              "i64": np.int64}[t["dtype"]]
        got[t["name"]] = (t, data[t["offset"]:t["offset"] + t["bytes"]].view(dt).reshape(t["shape"]))
    return got


def deq(q, scale, zp=None, axis=None, block=None):
    """numpy reference, in float32, one rounding (the product)."""
    q = np.asarray(q)
    s = np.asarray(scale, dtype=F32)
    z = np.zeros_like(s, dtype=F32) if zp is None else np.asarray(zp).astype(F32)
    if block:
        s = np.repeat(s, block, axis=axis)[tuple(slice(0, d) for d in q.shape)]
        z = np.repeat(z, block, axis=axis)[tuple(slice(0, d) for d in q.shape)]
    elif axis is not None and s.size > 1:
        shape = [1] * q.ndim
        shape[axis] = s.size
        s = s.reshape(shape)
        z = z.reshape(shape)
    return ((q.astype(F32) - z) * s).astype(F32)


def check(got, name, want, layout=None):
    if name not in got:
        fail(f"'{name}' missing from the manifest")
        return
    t, a = got[name]
    if a.dtype != np.float32 or a.shape != want.shape or a.tobytes() != want.tobytes():
        fail(f"'{name}': m2w {a.dtype}{list(a.shape)} {a.ravel()[:6]} vs numpy {want.dtype}{list(want.shape)} "
             f"{want.ravel()[:6]}")
    elif "quant" not in t:
        fail(f"'{name}': no quant record in the manifest")
    elif layout and layout not in t.get("layout", ""):
        fail(f"'{name}': layout note {t.get('layout')!r} lacks {layout!r}")
    else:
        return True
    return False


# ---- ONNX ----

def init(name, a, dt=None):
    t = numpy_helper.from_array(np.asarray(a), name)
    return t


def int4_init(name, vals):
    v = np.asarray(vals, dtype=np.int8)
    nib = (v & 15).astype(np.uint8)
    if nib.size % 2:
        nib = np.append(nib, 0)
    raw = (nib[0::2] | (nib[1::2] << 4)).astype(np.uint8).tobytes()
    t = TensorProto()
    t.name = name
    t.data_type = 22  # INT4
    t.dims.extend([v.size])
    t.raw_data = raw
    return t


def onnx_model(nodes, inits, opset=13, outputs=("y",)):
    g = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                          [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outputs], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset), helper.make_opsetid("com.microsoft", 1)])
    m.ir_version = 8
    return m


def good_onnx(tmp, exe):
    rng = np.random.default_rng(3)
    i8 = lambda *s: rng.integers(-128, 128, size=s, dtype=np.int8)
    u8 = lambda *s: rng.integers(0, 256, size=s, dtype=np.uint8)
    sc = lambda *s: (rng.random(s, dtype=F32) * F32(0.05) + F32(0.001))
    v = {}
    v["w_pt"], v["s_pt"], v["z_pt"] = u8(2, 5), sc(), np.array(128, np.uint8)
    v["w_ax0"], v["s_ax0"], v["z_ax0"] = i8(4, 3), sc(4), rng.integers(-5, 5, 4, dtype=np.int8)
    v["w_axm1"], v["s_axm1"] = i8(3, 4), sc(4)
    v["w_blk"], v["s_blk"], v["z_blk"] = i8(4, 6), sc(4, 2), rng.integers(-3, 3, (4, 2), dtype=np.int8)
    v["w_conv"], v["s_wconv"], v["z_wconv"] = i8(2, 3, 2, 2), sc(2), np.zeros(2, np.int8)
    v["b_conv"] = rng.integers(-1000, 1000, 2, dtype=np.int32)
    v["b_mm"], v["s_bmm"], v["z_bmm"] = u8(3, 5), sc(5), u8(5)
    v["w_mmi"], v["z_mmi"], v["s_mmi"] = i8(4, 5), np.array(3, np.int8), np.array(0.0125, F32)
    v["w_ci"], v["z_ci"] = u8(2, 1, 3, 3), u8(2)
    v["W_lstm"], v["Ws_lstm"], v["Wz_lstm"] = i8(1, 3, 8), sc(1, 8), np.zeros((1, 8), np.int8)
    v["R_lstm"], v["Rs_lstm"], v["Rz_lstm"] = i8(1, 2, 8), sc(1), np.zeros(1, np.int8)
    v["s_i4"] = np.array(0.5, F32)
    v["s_const"] = np.array(0.25, F32)
    q4 = [-8, -1, 0, 3, 7]
    inits = [init(k, a) for k, a in v.items()] + [int4_init("w_i4", q4)]
    xs = np.array(0.02, F32)
    c = helper.make_node("Constant", [], ["x_scale"], value=numpy_helper.from_array(xs, "xs"))
    cq = helper.make_node("Constant", [], ["w_const"], value=numpy_helper.from_array(np.array([1, -2, 3], np.int8), "c"))
    nodes = [
        c, cq,
        helper.make_node("DequantizeLinear", ["w_pt", "s_pt", "z_pt"], ["d1"]),
        helper.make_node("DequantizeLinear", ["w_ax0", "s_ax0", "z_ax0"], ["d2"], axis=0),
        helper.make_node("DequantizeLinear", ["w_axm1", "s_axm1"], ["d3"], axis=-1),
        helper.make_node("DequantizeLinear", ["w_blk", "s_blk", "z_blk"], ["d4"], axis=1, block_size=4),
        helper.make_node("DequantizeLinear", ["w_i4", "s_i4"], ["d5"]),
        helper.make_node("DequantizeLinear", ["w_const", "s_const"], ["d6"]),
        helper.make_node("QLinearConv", ["xq", "x_scale", "xz", "w_conv", "s_wconv", "z_wconv", "ys", "yz", "b_conv"], ["c1"]),
        helper.make_node("QLinearMatMul", ["aq", "as", "az", "b_mm", "s_bmm", "z_bmm", "ys", "yz"], ["m1"]),
        helper.make_node("DynamicQuantizeLinear", ["x"], ["xq8", "a_scale", "a_zp"]),
        helper.make_node("MatMulInteger", ["xq8", "w_mmi", "a_zp", "z_mmi"], ["mi"]),
        helper.make_node("Cast", ["mi"], ["mif"], to=TensorProto.FLOAT),
        helper.make_node("Mul", ["a_scale", "s_mmi"], ["sc_mmi"]),
        helper.make_node("Mul", ["mif", "sc_mmi"], ["y"]),
        helper.make_node("ConvInteger", ["xq8", "w_ci", "a_zp", "z_ci"], ["ci"]),
        helper.make_node("DynamicQuantizeLSTM", ["x", "W_lstm", "R_lstm", "", "", "", "", "", "Ws_lstm", "Wz_lstm",
                                                "Rs_lstm", "Rz_lstm"], ["l1"], domain="com.microsoft", hidden_size=2),
    ]
    path = os.path.join(tmp, "quant.onnx")
    onnx.save(onnx_model(nodes, inits), path)
    out = os.path.join(tmp, "quant.bin")
    rc, err = extract(exe, path, out)
    if rc:
        fail(f"quant.onnx: exit {rc}: {err.strip()}")
        return 0
    if "ConvInteger has no constant scale" not in err and "no constant scale" not in err:
        fail(f"quant.onnx: no warning about ConvInteger's missing scale: {err.strip()}")
    got = load(out)
    cases = [
        ("w_pt", deq(v["w_pt"], v["s_pt"], v["z_pt"])),
        ("w_ax0", deq(v["w_ax0"], v["s_ax0"], v["z_ax0"], axis=0)),
        ("w_axm1", deq(v["w_axm1"], v["s_axm1"], axis=1)),
        ("w_blk", deq(v["w_blk"], v["s_blk"], v["z_blk"], axis=1, block=4)),
        ("w_i4", deq(np.array(q4, np.int8), v["s_i4"])),
        ("w_const", deq(np.array([1, -2, 3], np.int8), v["s_const"])),
        ("w_conv", deq(v["w_conv"], v["s_wconv"], v["z_wconv"], axis=0)),
        ("b_conv", deq(v["b_conv"], xs * v["s_wconv"], axis=0)),
        ("b_mm", deq(v["b_mm"], v["s_bmm"], v["z_bmm"], axis=1)),
        ("w_mmi", deq(v["w_mmi"], v["s_mmi"], v["z_mmi"])),
        ("w_ci", deq(v["w_ci"], np.ones(2, F32), v["z_ci"], axis=0)),
        ("W_lstm", ((v["W_lstm"].astype(F32) - v["Wz_lstm"].reshape(1, 1, 8).astype(F32)) *
                    v["Ws_lstm"].reshape(1, 1, 8)).astype(F32)),
        ("R_lstm", deq(v["R_lstm"], v["Rs_lstm"], v["Rz_lstm"], axis=0)),
    ]
    ok = 0
    for name, want in cases:
        ok += bool(check(got, name, want, "DynamicQuantizeLSTM" if "lstm" in name else None))
    # the parameters themselves stay as they are
    for k in ("s_pt", "z_ax0", "s_blk"):
        t, a = got[k]
        if a.tobytes() != v[k].astype(a.dtype).tobytes() or "quant" in t:
            fail(f"'{k}': parameter tensor changed")
    print(f"ONNX: {ok}/{len(cases)} quantized weights equal numpy's dequantization")
    return ok


def bad_onnx(tmp, exe):
    base_w = np.arange(12, dtype=np.int8).reshape(4, 3)
    cases = [
        # (label, inits, node attrs, want regex, where: 'init:NAME' or 'node')
        ("zero scale", {"w": base_w, "s": np.array([0.1, 0, 0.1, 0.1], F32)}, {"axis": 0},
         r"scale\[1\] is 0", "init:s"),
        ("NaN scale", {"w": base_w, "s": np.array([0.1, np.nan, 0.1, 0.1], F32)}, {"axis": 0},
         r"scale\[1\] is nan", "init:s"),
        ("zero point out of range", {"w": base_w.astype(np.uint8), "s": np.array(0.1, F32),
                                     "z": np.array(300, np.int32)}, {}, r"zero point\[0\] is 300, out of range",
         "init:z"),
        ("axis out of range", {"w": base_w, "s": np.full(4, 0.1, F32)}, {"axis": 2},
         r"axis 2 is out of range for 2 dims", "node"),
        ("negative axis out of range", {"w": base_w, "s": np.full(4, 0.1, F32)}, {"axis": -3},
         r"axis -3 is out of range for 2 dims", "node"),
        ("scale count", {"w": base_w, "s": np.full(3, 0.1, F32)}, {"axis": 0},
         r"3 scales for axis 0 of size 4", "init:s"),
        ("zero-point count", {"w": base_w, "s": np.full(4, 0.1, F32), "z": np.zeros(2, np.int8)}, {"axis": 0},
         r"4 scales and 2 zero points", "init:z"),
    ]
    ok = 0
    for label, vals, attrs, want, where in cases:
        inits = [init(k, a) for k, a in vals.items()]
        ins = ["w", "s"] + (["z"] if "z" in vals else [])
        node = helper.make_node("DequantizeLinear", ins, ["y"], **attrs)
        m = onnx_model([node], inits)
        path = os.path.join(tmp, "bad.onnx")
        onnx.save(m, path)
        raw = open(path, "rb").read()
        r = subprocess.run([exe, path, "-o", os.path.join(tmp, "bad.bin")], capture_output=True, text=True)
        mo = re.search(r"bad\.onnx:0x([0-9a-f]+): error: tensor 'w': (.*)", r.stderr)
        if r.returncode != 1 or not mo or not re.search(want, mo.group(2)):
            fail(f"ONNX {label}: exit {r.returncode}, stderr {r.stderr.strip()!r}, want /{want}/")
            continue
        off = int(mo.group(1), 16)
        blob = next(t for t in m.graph.initializer if t.name == where[5:]).SerializeToString() \
            if where.startswith("init:") else m.graph.node[0].SerializeToString()
        start = raw.find(blob)
        if start < 0 or not start <= off < start + len(blob):
            fail(f"ONNX {label}: offset 0x{off:x} is not inside {where} (bytes 0x{start:x}..0x{start + len(blob):x})")
            continue
        ok += 1
    print(f"ONNX: {ok}/{len(cases)} corrupt quantization parameters refused with the tensor and offset")
    return ok, len(cases)


# ---- TFLite ----

def good_tflite(tmp, exe):
    rng = np.random.default_rng(5)
    conv = rng.integers(-128, 128, (3, 2, 2, 4), dtype=np.int8)        # [O,H,W,I]
    conv_s = (rng.random(3, dtype=F32) * F32(0.02) + F32(0.001))
    bias = rng.integers(-5000, 5000, 3, dtype=np.int32)
    bias_s = (conv_s * F32(0.5)).astype(F32)
    dw = rng.integers(-128, 128, (1, 2, 2, 6), dtype=np.int8)          # [1,H,W,C]
    dw_s = (rng.random(6, dtype=F32) * F32(0.02) + F32(0.001))
    dw_z = rng.integers(-3, 3, 6, dtype=np.int64)
    fc = rng.integers(0, 256, (5, 7), dtype=np.uint8)                   # [out,in]
    fc_s, fc_z = np.float32(0.0173), 131
    h = (rng.standard_normal((2, 3, 3, 2)).astype(np.float16))          # f16 filter via DEQUANTIZE
    i4 = np.array([-8, -3, 0, 5, 7], np.int8)
    nib = (i4 & 15).astype(np.uint8)
    nib = np.append(nib, 0)
    i4_raw = (nib[0::2] | (nib[1::2] << 4)).astype(np.uint8).tobytes()
    bufs = [tw.buffer(b""), tw.buffer(conv.tobytes()), tw.buffer(bias.tobytes()), tw.buffer(dw.tobytes()),
            tw.buffer(fc.tobytes()), tw.buffer(h.tobytes()), tw.buffer(i4_raw)]
    T = [
        tw.tensor("input", [1, 4, 4, 4], tw.INT8, 0),
        tw.tensor("conv/filter", list(conv.shape), tw.INT8, 1, tw.quant(list(conv_s), [0, 0, 0], 0)),
        tw.tensor("conv/bias", [3], tw.INT32, 2, tw.quant(list(bias_s), [0, 0, 0], 0)),
        tw.tensor("conv/out", [1, 3, 3, 3], tw.INT8, 0),
        tw.tensor("dw/filter", list(dw.shape), tw.INT8, 3, tw.quant(list(dw_s), [int(z) for z in dw_z], 3)),
        tw.tensor("dw/out", [1, 3, 3, 6], tw.INT8, 0),
        tw.tensor("fc/weights", list(fc.shape), tw.UINT8, 4, tw.quant([float(fc_s)], [fc_z], 0)),
        tw.tensor("fc/out", [1, 5], tw.UINT8, 0),
        tw.tensor("h/filter_f16", list(h.shape), tw.FLOAT16, 5),
        tw.tensor("h/filter", list(h.shape), tw.FLOAT32, 0),
        tw.tensor("h/out", [1, 2, 2, 2], tw.FLOAT32, 0),
        tw.tensor("i4/const", [5], tw.INT4, 6, tw.quant([0.25], [0], 0)),
    ]
    ops = [tw.operator(0, [0, 1, 2], [3]), tw.operator(1, [0, 4, -1], [5]), tw.operator(2, [0, 6, -1], [7]),
           tw.operator(3, [8], [9]), tw.operator(0, [0, 9, -1], [10])]
    opcodes = [tw.opcode(tw.CONV_2D), tw.opcode(tw.DEPTHWISE_CONV_2D), tw.opcode(tw.FULLY_CONNECTED),
               tw.opcode(tw.DEQUANTIZE)]
    data, _ = tw.build(tw.model(opcodes, T, [0], [3], ops, bufs))
    path = os.path.join(tmp, "quant.tflite")
    open(path, "wb").write(data)
    out = os.path.join(tmp, "quant_tfl.bin")
    rc, err = extract(exe, path, out)
    if rc:
        fail(f"quant.tflite: exit {rc}: {err.strip()}")
        return 0
    got = load(out)
    cases = [
        ("conv/filter", deq(conv, conv_s, axis=0).transpose(0, 3, 1, 2), "CONV_2D"),
        ("conv/bias", deq(bias, bias_s, axis=0), None),
        ("dw/filter", deq(dw, dw_s, dw_z, axis=3).transpose(3, 0, 1, 2), "DEPTHWISE_CONV_2D"),
        ("fc/weights", deq(fc, fc_s, np.array(fc_z)), None),
        ("i4/const", deq(i4, np.float32(0.25)), None),
    ]
    ok = 0
    for name, want, lay in cases:
        ok += bool(check(got, name, want, lay))
    t, a = got.get("h/filter_f16", (None, None))
    want = h.astype(F32).transpose(0, 3, 1, 2)
    if a is None or a.tobytes() != want.tobytes() or t.get("permutation") != [0, 3, 1, 2]:
        fail("h/filter_f16: the f16 filter behind DEQUANTIZE is not f32 [O,I,H,W]")
    else:
        ok += 1
    print(f"TFLite: {ok}/{len(cases) + 1} quantized / f16 constants equal numpy's, NCHW")
    return ok


def bad_tflite(tmp, exe):
    w = np.arange(8, dtype=np.int8).reshape(4, 1, 1, 2)
    cases = [
        ("zero scale", [0.1, 0.0, 0.1, 0.1], [0, 0, 0, 0], 0, r"scale\[1\] is 0", "t.scale"),
        ("zero point out of range", [0.1] * 4, [200, 0, 0, 0], 0, r"zero point\[0\] is 200, out of range", "t.zp"),
        ("quantized_dimension out of range", [0.1] * 4, [0] * 4, 4, r"quantized_dimension 4(,| is out of range)", "t"),
        ("scale count", [0.1] * 3, [0] * 3, 0, r"3 scales for (axis|dim) 0 of size 4", "t.scale"),
        ("zero-point count", [0.1] * 4, [0] * 2, 0, r"4 scales and 2 zero points|2 zero points for 4 scales", "t.zp"),
    ]
    ok = 0
    for label, s, z, qd, want, where in cases:
        T = [tw.tensor("input", [1, 2, 2, 2], tw.INT8, 0),
             tw.tensor("w", list(w.shape), tw.INT8, 1, tw.quant(s, z, qd, tag="t"), tag="t"),
             tw.tensor("out", [1, 2, 2, 4], tw.INT8, 0)]
        data, offs = tw.build(tw.model([tw.opcode(tw.CONV_2D)], T, [0], [2], [tw.operator(0, [0, 1, -1], [2])],
                                       [tw.buffer(b""), tw.buffer(w.tobytes())]))
        path = os.path.join(tmp, "bad.tflite")
        open(path, "wb").write(data)
        r = subprocess.run([exe, path, "-o", os.path.join(tmp, "bad.bin")], capture_output=True, text=True)
        mo = re.search(r"bad\.tflite:0x([0-9a-f]+): error: tensor 'w': (.*)", r.stderr)
        if r.returncode != 1 or not mo or not re.search(want, mo.group(2)):
            fail(f"TFLite {label}: exit {r.returncode}, stderr {r.stderr.strip()!r}, want /{want}/")
            continue
        # the vector's first element or its length word, or the table
        good = {offs[where], offs[where] - 4} if where != "t" else {offs["t"], offs["t.q"]}
        if int(mo.group(1), 16) not in good:
            fail(f"TFLite {label}: offset 0x{mo.group(1)}, expected one of "
                 f"{', '.join(hex(g) for g in sorted(good))} ({where})")
            continue
        ok += 1
    print(f"TFLite: {ok}/{len(cases)} corrupt quantization parameters refused with the tensor and offset")
    return ok, len(cases)


def main():
    if len(sys.argv) != 2:
        print(__doc__)
        sys.exit(2)
    exe = sys.argv[1]
    with tempfile.TemporaryDirectory() as tmp:
        good_onnx(tmp, exe)
        bad_onnx(tmp, exe)
        good_tflite(tmp, exe)
        bad_tflite(tmp, exe)
    print(f"{len(failures)} failure(s)")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
