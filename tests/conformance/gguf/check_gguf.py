#!/usr/bin/python3
"""m2w-inspect --json against gguf-py (llama.cpp's own Python GGUF reader).

For each of the 19 models/ggml-vocab-*.gguf of the llama.cpp that
node-llama-cpp 3.22.1 ships, and for a synthetic file written here with
gguf-py's GGUFWriter (a tensor of every ggml type gguf-py knows, alignment
64, every metadata value type, nested arrays), compares: version, alignment,
metadata keys (count, names, order), every value (arrays longer than 64 by
length, element type and first 8), token count, tensor count and each
tensor's name, dtype, shape, bytes and quant block / type size, and params.

Usage: check_gguf.py M2W_INSPECT [CACHE_DIR]
  The cache is $M2W_CACHE, else CACHE_DIR; fetch.sh fills it.
Prints mismatches by file and name, then "N/N match"; exit 1 on any
mismatch, 77 (skip) when the data or numpy can't be had.
"""
import json
import math
import multiprocessing
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
INLINE_MAX, HEAD = 64, 8
VOCAB_FILES = 19


def skip(why):
    print(f"SKIP: {why}")
    sys.exit(77)


def inspect(exe, path):
    p = subprocess.run([exe, "--json", path], capture_output=True)
    if p.returncode != 0:
        raise RuntimeError(f"m2w-inspect exit {p.returncode}: {p.stderr.decode(errors='replace').strip()}")
    return json.loads(p.stdout)


class Checker:
    def __init__(self, gguf, np):
        self.gguf, self.np = gguf, np
        self.bad = []
        self.VT = gguf.GGUFValueType
        self.vt_name = {
            self.VT.UINT8: "u8", self.VT.INT8: "i8", self.VT.UINT16: "u16", self.VT.INT16: "i16",
            self.VT.UINT32: "u32", self.VT.INT32: "i32", self.VT.FLOAT32: "f32",
            self.VT.BOOL: "bool", self.VT.STRING: "string", self.VT.ARRAY: "array",
            self.VT.UINT64: "u64", self.VT.INT64: "i64", self.VT.FLOAT64: "f64",
        }

    def mismatch(self, where, what, ours, theirs):
        self.bad.append(f"{where}: {what}: m2w {ours!r} vs gguf-py {theirs!r}")

    def scalar(self, vtype, raw):
        """gguf-py's decoded scalar as m2w writes it in JSON."""
        if vtype == self.VT.STRING:
            # m2w replaces invalid UTF-8 and NUL (JSON strings are C strings there)
            return bytes(raw).decode("utf-8", errors="replace").replace("\0", "\ufffd")
        v = raw.tolist()[0] if hasattr(raw, "tolist") else raw
        if vtype == self.VT.BOOL:
            return bool(v)
        if vtype in (self.VT.FLOAT32, self.VT.FLOAT64):
            if math.isnan(v):
                return "nan"
            if math.isinf(v):
                return "inf" if v > 0 else "-inf"
            return float(v)
        return int(v)

    def same(self, vtype, ours, theirs):
        if vtype == self.VT.FLOAT32 and isinstance(ours, (int, float)) and isinstance(theirs, float):
            return self.np.float32(ours) == self.np.float32(theirs)
        if type(ours) is bool or type(theirs) is bool:
            return ours is theirs
        return ours == theirs

    def field_value(self, field):
        """(element type, [values]) of an array field; (type, value) otherwise.
        gguf-py flattens nested arrays, so those are checked against the
        values written (synthetic file) rather than here."""
        main = field.types[0]
        if main == self.VT.ARRAY:
            sub = field.types[-1]
            vals = [self.scalar(sub, field.parts[i]) for i in field.data]
            return field.types[1], vals
        part = field.parts[field.data[0]]
        return main, self.scalar(main, part)

    def compare_value(self, where, key, field, ours):
        main = field.types[0]
        if main != self.VT.ARRAY:
            vtype, want = self.field_value(field)
            if not self.same(vtype, ours, want):
                self.mismatch(where, f"value of {key}", ours, want)
            return
        if len(field.types) > 2:
            return  # nested: see check_nested
        sub, vals = self.field_value(field)
        if len(vals) > INLINE_MAX:
            want_obj = {"type": "array", "of": self.vt_name[sub], "length": len(vals)}
            if not isinstance(ours, dict):
                self.mismatch(where, f"{key} (array of {len(vals)})", type(ours).__name__, "summary object")
                return
            for k, v in want_obj.items():
                if ours.get(k) != v:
                    self.mismatch(where, f"{key}.{k}", ours.get(k), v)
            head = ours.get("head", [])
            vals = vals[:HEAD]
        else:
            head = ours
        if not isinstance(head, list) or len(head) != len(vals) or \
                not all(self.same(sub, a, b) for a, b in zip(head, vals)):
            self.mismatch(where, f"elements of {key}", head, vals)

    def compare(self, path, j, where):
        gguf = self.gguf
        r = gguf.GGUFReader(path)
        if j.get("format") != "gguf":
            self.mismatch(where, "format", j.get("format"), "gguf")
        if j.get("bytes") != os.path.getsize(path):
            self.mismatch(where, "bytes", j.get("bytes"), os.path.getsize(path))
        version = int(r.fields["GGUF.version"].parts[0][0])
        if j.get("version") != version:
            self.mismatch(where, "version", j.get("version"), version)
        if j.get("alignment") != int(r.alignment):
            self.mismatch(where, "alignment", j.get("alignment"), int(r.alignment))

        # metadata: gguf-py's fields minus its GGUF.* header pseudo-fields
        keys = [k for k in r.fields if not k.startswith("GGUF.")]
        meta = j.get("metadata", {})
        if len(meta) != len(keys):
            self.mismatch(where, "metadata key count", len(meta), len(keys))
        if list(meta) != keys:
            self.mismatch(where, "metadata keys", sorted(set(meta) ^ set(keys))[:5] or "order", "")
        for k in keys:
            if k in meta:
                self.compare_value(where, k, r.fields[k], meta[k])

        tok = r.fields.get("tokenizer.ggml.tokens")
        if tok is not None:
            ours = meta.get("tokenizer.ggml.tokens")
            n_ours = ours.get("length") if isinstance(ours, dict) else len(ours or [])
            if n_ours != len(tok.data):
                self.mismatch(where, "token count", n_ours, len(tok.data))

        tensors = j.get("tensors", [])
        if len(tensors) != len(r.tensors):
            self.mismatch(where, "tensor count", len(tensors), len(r.tensors))
        params = 0
        for ours, t in zip(tensors, r.tensors):
            name = t.name
            qt = gguf.GGMLQuantizationType(t.tensor_type)
            block, tsize = gguf.GGML_QUANT_SIZES[qt]
            want = {"name": name, "dtype": qt.name.lower(),
                    "shape": [int(x) for x in t.shape], "bytes": int(t.n_bytes)}
            for k, v in want.items():
                if ours.get(k) != v:
                    self.mismatch(where, f"tensor {name} {k}", ours.get(k), v)
            q = ours.get("quant")
            plain = qt.name in ("F32", "F16", "BF16", "F64", "I8", "I16", "I32", "I64")
            wq = None if plain else {"type": qt.name.lower(), "block": block, "type_size": tsize}
            if q != wq:
                self.mismatch(where, f"tensor {name} quant", q, wq)
            params += int(t.n_elements)
        if j.get("params") != params:
            self.mismatch(where, "params", j.get("params"), params)
        return r


def write_synthetic(gguf, np, path):
    """Every value type, nested arrays, a tensor of every ggml type."""
    VT = gguf.GGUFValueType
    w = gguf.GGUFWriter(path, "llama")
    w.add_custom_alignment(64)
    scalars = [
        ("t.u8", 200, VT.UINT8), ("t.i8", -100, VT.INT8), ("t.u16", 60000, VT.UINT16),
        ("t.i16", -30000, VT.INT16), ("t.u32", 4000000000, VT.UINT32),
        ("t.i32", -2000000000, VT.INT32), ("t.f32", 0.1, VT.FLOAT32),
        ("t.f32inf", float("-inf"), VT.FLOAT32), ("t.bool", True, VT.BOOL),
        ("t.string", "héllo \"wörld\"\n", VT.STRING),
        ("t.u64", 2**64 - 1, VT.UINT64), ("t.i64", -2**63, VT.INT64),
        ("t.f64", 2.5e-300, VT.FLOAT64),
    ]
    for k, v, t in scalars:
        w.add_key_value(k, v, t)
    w.add_key_value("t.arr_short", [1, 2, 3], VT.ARRAY, VT.INT32)
    w.add_key_value("t.arr_long", list(range(1000)), VT.ARRAY, VT.UINT16)
    w.add_key_value("t.arr_str", [f"s{i}" for i in range(100)], VT.ARRAY, VT.STRING)
    w.add_key_value("t.arr_bool", [True, False, True], VT.ARRAY, VT.BOOL)
    nested = [[1, 2], [3], [4, 5, 6]]
    w.add_key_value("t.nested", nested, VT.ARRAY)  # array of arrays of i32
    deep = [[["a", "b"], ["c"]], [["d"]]]
    w.add_key_value("t.deep", deep, VT.ARRAY)
    w.add_tokenizer_model("llama")
    w.add_token_list([f"tok{i}" for i in range(70)])
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)

    rng = np.random.default_rng(0)
    # token_embd.weight without output.weight: m2w notes a tied projection
    names = ["token_embd.weight"]
    for i, qt in enumerate(sorted(gguf.GGML_QUANT_SIZES, key=int)):
        block, tsize = gguf.GGML_QUANT_SIZES[qt]
        n_dims = 1 + i % 4
        ne = [block * (1 + i % 3), 3, 2, 2][:n_dims]
        byte_shape = list(reversed(ne))
        byte_shape[-1] = ne[0] // block * tsize
        data = rng.integers(0, 256, size=byte_shape, dtype=np.uint8)
        name = names.pop() if names else f"blk.{i}.{qt.name.lower()}"
        w.add_tensor(name, data, raw_dtype=qt)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return {"t.nested": nested, "t.deep": deep}


CK = EXE = None


def check_file(path):
    """Mismatches of one file (runs in a worker process)."""
    CK.bad = []
    try:
        CK.compare(path, inspect(EXE, path), os.path.basename(path))
    except Exception as e:  # a crash or refusal is a mismatch, by name
        CK.bad.append(f"{os.path.basename(path)}: {e}")
    return CK.bad


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    exe = sys.argv[1]
    cache = os.environ.get("M2W_CACHE") or (sys.argv[2] if len(sys.argv) > 2 else None)
    if not cache:
        skip("no cache directory: set M2W_CACHE")
    cache = os.path.abspath(cache)
    env = dict(os.environ, M2W_CACHE=cache)
    p = subprocess.run(["sh", os.path.join(HERE, "fetch.sh")], env=env,
                       capture_output=True, text=True)
    if p.returncode != 0:
        skip(f"cannot fetch llama.cpp (node-llama-cpp 3.22.1): {p.stderr.strip()[-300:]}")
    root = os.path.join(cache, "llama.cpp")
    sys.path.insert(0, os.path.join(root, "gguf-py"))
    try:
        import numpy as np
        import gguf
    except ImportError as e:
        skip(f"gguf-py needs numpy: {e}")

    global CK, EXE
    CK, EXE = Checker(gguf, np), exe
    ck = CK
    models = os.path.join(root, "models")
    files = sorted(f for f in os.listdir(models) if f.startswith("ggml-vocab-") and f.endswith(".gguf"))
    # gguf-py's reader takes seconds per large vocabulary: one file per core
    with multiprocessing.Pool() as pool:
        results = pool.map(check_file, [os.path.join(models, f) for f in files])
    ok = sum(not r for r in results)
    for r in results:
        ck.bad += r
    if len(files) != VOCAB_FILES:
        ck.bad.append(f"found {len(files)} ggml-vocab-*.gguf files, expected {VOCAB_FILES}")

    with tempfile.TemporaryDirectory() as tmp:
        syn = os.path.join(tmp, "synthetic.gguf")
        written = write_synthetic(gguf, np, syn)
        before = len(ck.bad)
        try:
            j = inspect(exe, syn)
            ck.compare(syn, j, "synthetic")
            for k, v in written.items():
                if j["metadata"].get(k) != v:
                    ck.mismatch("synthetic", f"nested {k}", j["metadata"].get(k), v)
            n_types = len(gguf.GGML_QUANT_SIZES)
            if len(j["tensors"]) != n_types:
                ck.mismatch("synthetic", "tensors (one per ggml type)", len(j["tensors"]), n_types)
        except Exception as e:
            ck.bad.append(f"synthetic: {e}")
        syn_ok = len(ck.bad) == before

    for b in ck.bad:
        print("MISMATCH " + b)
    print(f"{ok}/{len(files)} match" + ("" if syn_ok else "; synthetic file mismatches"))
    return 0 if not ck.bad else 1


if __name__ == "__main__":
    sys.exit(main())
