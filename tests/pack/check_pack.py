#!/usr/bin/python3
"""m2w-pack against gguf-py and llama-quantize on a small random llama.

usage: check_pack.py M2W_PACK WORK_DIR [--extract M2W_EXTRACT]

Needs $M2W_CACHE/llama.cpp (gguf-py, models/ggml-vocab-llama-spm.gguf; see
tests/conformance/gguf/fetch.sh) and $M2W_CACHE/llama-build/bin/llama-quantize
(tests/extract/build_quantize.sh); exits 77 (skip) naming what is missing.

gen_llama.py writes tiny-llama-f32.gguf (seeded); llama-quantize makes Q8_0,
Q4_0, Q4_0 --pure, F16 and Q4_K_M from it.  For each, m2w-pack's output is
checked against the GGUF as gguf-py reads it:
  - every tensor: --unpack gives bit for bit gguf.quants.dequantize();
  - q8_0 / q4_0 shard bytes against the documented word layout, computed
    here from the GGUF's blocks with numpy (independent of --unpack);
  - 256-aligned offsets, chunks within --max-binding covering whole rows,
    no overlaps, shard sizes and xxh3, layer shards holding only their layer;
  - tied output.weight recorded as an alias, config equal to the metadata;
  - determinism and write-if-changed, --one-file = the shards concatenated.
Then the alias-by-bytes and --float cases on dup-f16.gguf, weights.json
input (when m2w-extract is given), and must-fail cases.
"""
import ctypes
import ctypes.util
import json
import os
import shutil
import sys

import numpy as np

from models import make_models, run

FAILS = []


def check(cond, what):
    if not cond:
        FAILS.append(what)
        print(f"FAIL: {what}")
    return cond



def xxh3_fn():
    name = ctypes.util.find_library("xxhash")
    for cand in [name, "libxxhash.so.0", "libxxhash.so"]:
        if not cand:
            continue
        try:
            lib = ctypes.CDLL(cand)
            f = lib.XXH3_64bits
            f.restype = ctypes.c_uint64
            f.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
            return lambda b: f"{f(b, len(b)):016x}"
        except (OSError, AttributeError):
            pass
    return None


XXH3 = xxh3_fn()


def bits(a):
    """Float arrays as integer bit patterns (NaN-safe equality)."""
    a = np.ascontiguousarray(a)
    return a.view({4: np.uint32, 2: np.uint16, 8: np.uint64}[a.dtype.itemsize])


class Packed:
    def __init__(self, d):
        self.dir = d
        self.m = json.load(open(os.path.join(d, "shards.json")))
        self.by_name = {t["name"]: t for t in self.m["tensors"]}
        self._files = {}

    def file(self, name):
        if name not in self._files:
            self._files[name] = open(os.path.join(self.dir, name), "rb").read()
        return self._files[name]

    def raw(self, t, off, n):
        s = self.m["shards"][t["shard"]]
        base = s["offset"] + off
        return self.file(s["file"])[base:base + n]

    def tensor_bytes(self, t):
        """The stored bytes of t, its chunks joined."""
        if "chunks" not in t:
            return self.raw(t, t["offset"], t["bytes"])
        return b"".join(self.raw(t, c["offset"], c["bytes"]) for c in t["chunks"])


def check_structure(pk, label, max_binding):
    m = pk.m
    check(m["alignment"] == 256 and m["max_binding"] == max_binding, f"{label}: header")
    for i, s in enumerate(m["shards"]):
        data = pk.file(s["file"])
        end = s["offset"] + s["bytes"]
        check(s["bytes"] % 256 == 0 and s["offset"] % 256 == 0 and end <= len(data),
              f"{label}: shard {s['name']} range")
        if XXH3:
            check(XXH3(data[s["offset"]:end]) == s["xxh3"], f"{label}: shard {s['name']} xxh3")
        spans = []
        for t in m["tensors"]:
            if "alias" in t or t["shard"] != i:
                continue
            layer = s.get("layer")
            if layer is None:
                check(not t["name"].startswith("blk."), f"{label}: {t['name']} in shard other")
            else:
                check(t["name"].startswith(f"blk.{layer}."), f"{label}: {t['name']} in {s['name']}")
            parts = t.get("chunks", [{"offset": t["offset"], "bytes": t["bytes"]}])
            check(sum(c["bytes"] for c in parts) == t["bytes"], f"{label}: {t['name']} chunk bytes")
            check(parts[0]["offset"] == t["offset"], f"{label}: {t['name']} first chunk")
            for c in parts:
                check(c["offset"] % 256 == 0, f"{label}: {t['name']} offset {c['offset']} aligned")
                check(c["bytes"] <= max_binding, f"{label}: {t['name']} chunk {c['bytes']} <= max")
                check(c["offset"] + c["bytes"] <= s["bytes"], f"{label}: {t['name']} in shard")
                spans.append((c["offset"], c["offset"] + c["bytes"], t["name"]))
            if "chunks" in t:
                rows = int(np.prod(t["shape"][:-1])) if len(t["shape"]) > 1 else 1
                nxt = 0
                for c in t["chunks"]:
                    check(c["row"] == nxt and c["rows"] > 0, f"{label}: {t['name']} chunk rows")
                    nxt += c["rows"]
                check(nxt == rows, f"{label}: {t['name']} chunks cover {nxt} of {rows} rows")
        spans.sort()
        for a, b in zip(spans, spans[1:]):
            check(a[1] <= b[0], f"{label}: {a[2]} overlaps {b[2]}")


FLOATS = ("F32", "F16", "BF16", "F64")


def expected_dtype(tt, fl="keep", requant=False):
    name = tt.name
    if name in ("Q8_0", "Q4_0"):
        return name.lower()
    if requant and name not in FLOATS:
        return "q8_0"
    if fl == "f16":
        return "f16"
    if fl == "keep" and name == "F16":
        return "f16"
    return "f32"


def check_layout(gguf, tt, blocks, stored, label):
    """stored: the shard bytes of a q8_0/q4_0 tensor; blocks: the GGUF's."""
    Q = gguf.GGMLQuantizationType
    if tt == Q.Q8_0:
        b = blocks.reshape(-1, 34)
        w = np.frombuffer(stored, dtype="<u4").reshape(-1, 9)
        d = b[:, :2].copy().view("<f2").astype(np.float32).view(np.uint32)[:, 0]
        qs = b[:, 2:].copy()
        # word 1 + k = q[4k] | q[4k+1] << 8 | q[4k+2] << 16 | q[4k+3] << 24
        words = (qs[:, 0::4].astype(np.uint32) | qs[:, 1::4].astype(np.uint32) << 8 |
                 qs[:, 2::4].astype(np.uint32) << 16 | qs[:, 3::4].astype(np.uint32) << 24)
    else:
        b = blocks.reshape(-1, 18)
        w = np.frombuffer(stored, dtype="<u4").reshape(-1, 5)
        d = b[:, :2].copy().view("<f2").astype(np.float32).view(np.uint32)[:, 0]
        qs = b[:, 2:]
        words = (qs[:, 0::4].astype(np.uint32) | qs[:, 1::4].astype(np.uint32) << 8 |
                 qs[:, 2::4].astype(np.uint32) << 16 | qs[:, 3::4].astype(np.uint32) << 24)
        # the nibble rule of the header, element by element, for the first blocks
        deq = gguf.quants.dequantize(blocks.reshape(-1, 18)[:64], tt).reshape(-1, 32)
        for e in range(32):
            j = e % 16
            nib = (w[:64, 1 + j // 4] >> (8 * (j % 4) + (0 if e < 16 else 4))) & 15
            val = w[:64, 0].view(np.float32) * (nib.astype(np.float32) - np.float32(8))
            check(np.array_equal(bits(val), bits(deq[:, e])), f"{label}: q4_0 nibble rule e={e}")
    check(w.shape[0] == b.shape[0], f"{label}: block count")
    check(np.array_equal(w[:, 0], d), f"{label}: scale words")
    check(np.array_equal(w[:, 1:], words), f"{label}: quant words")


def reference(gguf, t, fl, requant):
    """(expected f32 values, the ggml blocks of the stored q8_0/q4_0 or None)
    for GGUF tensor t under --float fl / --requant q8_0."""
    Q = gguf.GGMLQuantizationType
    ref = gguf.quants.dequantize(t.data, t.tensor_type)
    name = t.tensor_type.name
    if name in ("Q8_0", "Q4_0"):
        return ref, np.asarray(t.data)
    if requant and name not in FLOATS:
        blocks = gguf.quants.quantize(ref, Q.Q8_0)  # ggml's reference quantizer, bit-exact
        return gguf.quants.dequantize(blocks, Q.Q8_0), blocks
    if fl == "f16" and name != "F16":
        ref = ref.astype(np.float16).astype(np.float32)
    return ref, None


def check_model(gguf, pack, path, out, label, max_binding, extra=(), fl="keep", requant=False):
    shutil.rmtree(out, ignore_errors=True)
    run([pack, path, "-o", out, "--max-binding", str(max_binding), *extra])
    pk = Packed(out)
    check_structure(pk, label, max_binding)
    r = gguf.GGUFReader(path)
    names = {t.name for t in r.tensors}
    stored = n_q = 0
    for t in r.tensors:
        e = pk.by_name.get(t.name)
        if not check(e is not None, f"{label}: {t.name} listed"):
            continue
        ref, blocks = reference(gguf, t, fl, requant)
        shape = [int(x) for x in reversed(t.shape)]
        if "alias" not in e:
            stored += 1
            check(e["shape"] == shape, f"{label}: {t.name} shape {e['shape']} vs {shape}")
            check(e["dtype"] == expected_dtype(t.tensor_type, fl, requant),
                  f"{label}: {t.name} dtype {e['dtype']} for {t.tensor_type.name}")
            check(e["source_dtype"] == t.tensor_type.name.lower(), f"{label}: {t.name} source_dtype")
            if e["dtype"] in ("q8_0", "q4_0"):
                n_q += 1
                qt = gguf.GGMLQuantizationType.Q8_0 if e["dtype"] == "q8_0" else t.tensor_type
                check_layout(gguf, qt, blocks, pk.tensor_bytes(e), f"{label}: {t.name}")
                check(e.get("requantized", False) == (t.tensor_type.name not in ("Q8_0", "Q4_0")),
                      f"{label}: {t.name} requantized flag")
        npy = os.path.join(out, "unpack.npy")
        run([pack, "--unpack", npy, t.name, out])
        got = np.load(npy)
        check(got.dtype == np.float32 and list(got.shape) == shape, f"{label}: {t.name} npy shape")
        check(np.array_equal(bits(got), bits(ref.reshape(shape))),
              f"{label}: {t.name} unpacks bit for bit to gguf-py's dequantize")
    # tied embeddings
    if "output.weight" not in names and "token_embd.weight" in names:
        o = pk.by_name.get("output.weight", {})
        check(o.get("alias") == "token_embd.weight" and o.get("tied") is True,
              f"{label}: output.weight tied to token_embd.weight")
        npy = os.path.join(out, "unpack.npy")
        run([pack, "--unpack", npy, "output.weight", out])
        emb = [t for t in r.tensors if t.name == "token_embd.weight"][0]
        check(np.array_equal(bits(np.load(npy)), bits(reference(gguf, emb, fl, requant)[0])),
              f"{label}: output.weight unpacks as token_embd.weight")
    # config
    c = pk.m["config"]
    f = r.fields
    for key, k in [("hidden_size", "llama.embedding_length"), ("layers", "llama.block_count"),
                   ("heads", "llama.attention.head_count"), ("kv_heads", "llama.attention.head_count_kv"),
                   ("ffn_size", "llama.feed_forward_length"), ("context_length", "llama.context_length"),
                   ("rope_dims", "llama.rope.dimension_count"), ("vocab_size", "llama.vocab_size")]:
        check(c.get(key) == f[k].contents(), f"{label}: config {key} {c.get(key)} vs {f[k].contents()}")
    for key, k in [("rope_base", "llama.rope.freq_base"), ("norm_eps", "llama.attention.layer_norm_rms_epsilon")]:
        check(np.float32(c.get(key)) == np.float32(f[k].contents()), f"{label}: config {key}")
    check(c.get("head_dim") == 64, f"{label}: head_dim")
    tok = json.load(open(os.path.join(out, "tokenizer.json")))
    check(tok["vocab_size"] == len(f["tokenizer.ggml.tokens"].data) == len(tok["tokens"]),
          f"{label}: tokenizer vocab")
    print(f"{label}: {len(r.tensors)} tensors ({stored} stored, {n_q} q8_0/q4_0 layout-checked), "
          f"{len(pk.m['shards'])} shards, {sum(s['bytes'] for s in pk.m['shards'])} bytes, "
          f"{sum(len(t.get('chunks', [])) for t in pk.m['tensors'])} chunks: unpack == gguf-py")
    return pk


def listing(d):
    return {n: (os.stat(os.path.join(d, n)).st_mtime_ns, open(os.path.join(d, n), "rb").read())
            for n in sorted(os.listdir(d)) if not n.endswith(".npy")}


def main():
    args = sys.argv[1:]
    extract = None
    if "--extract" in args:
        i = args.index("--extract")
        extract = args[i + 1]
        del args[i:i + 2]
    if len(args) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    pack, work = args
    gguf, models = make_models(work)
    src = models["f32"]
    gen = os.path.dirname(src)

    mb = 128 << 20
    for label, path in models.items():
        if label in ("f32", "dup"):
            continue
        check_model(gguf, pack, path, os.path.join(work, f"pk-{label}"), label, mb)
    check_model(gguf, pack, src, os.path.join(work, "pk-f32"), "F32", mb)
    # chunking: 64 KiB bindings split token_embd (32000 rows) into many chunks
    check_model(gguf, pack, models["Q8_0"], os.path.join(work, "pk-Q8_0-64k"), "Q8_0 --max-binding 64k",
                65536)
    check_model(gguf, pack, models["Q4_0-pure"], os.path.join(work, "pk-Q4_0-pure-20k"),
                "Q4_0-pure --max-binding 20000", 20000)
    check_model(gguf, pack, models["Q4_K_M"], os.path.join(work, "pk-Q4_K_M-f16"),
                "Q4_K_M --float f16", mb, ["--float", "f16"], fl="f16")
    # the Q6_K embedding (and k-quants) kept quantized as Q8_0
    pk = check_model(gguf, pack, models["Q4_0"], os.path.join(work, "pk-Q4_0-requant"),
                     "Q4_0 --requant q8_0", mb, ["--requant", "q8_0"], requant=True)
    check(pk.by_name["token_embd.weight"]["dtype"] == "q8_0", "Q6_K embedding requantized to q8_0")
    check_model(gguf, pack, models["Q4_K_M"], os.path.join(work, "pk-Q4_K_M-requant"),
                "Q4_K_M --requant q8_0 --max-binding 100000", 100000, ["--requant", "q8_0"],
                requant=True)

    # determinism and write-if-changed
    d1 = os.path.join(work, "pk-Q8_0")
    before = listing(d1)
    run([pack, models["Q8_0"], "-o", d1])
    after = listing(d1)
    check(before == after, "re-pack rewrote nothing (bytes and mtimes kept)")
    d2 = os.path.join(work, "pk-Q8_0-again")
    shutil.rmtree(d2, ignore_errors=True)
    run([pack, models["Q8_0"], "-o", d2])
    check({k: v[1] for k, v in listing(d2).items()} == {k: v[1] for k, v in before.items()},
          "same input, byte-identical outputs")
    # --one-file is the shards back to back
    d3 = os.path.join(work, "pk-Q4_0-one")
    shutil.rmtree(d3, ignore_errors=True)
    run([pack, models["Q4_0"], "-o", d3, "--one-file"])
    one = Packed(d3)
    per = Packed(os.path.join(work, "pk-Q4_0"))
    cat = b"".join(per.file(s["file"]) for s in per.m["shards"])
    check(open(os.path.join(d3, "model.bin"), "rb").read() == cat, "--one-file model.bin == shards joined")
    check([s["offset"] for s in one.m["shards"]] ==
          list(np.cumsum([0] + [s["bytes"] for s in per.m["shards"]])[:-1]), "--one-file shard ranges")
    check_structure(one, "Q4_0 --one-file", mb)
    npy = os.path.join(d3, "x.npy")
    run([pack, "--unpack", npy, "blk.2.ffn_down.weight", d3])
    r = gguf.GGUFReader(models["Q4_0"])
    t = [t for t in r.tensors if t.name == "blk.2.ffn_down.weight"][0]
    check(np.array_equal(bits(np.load(npy)), bits(gguf.quants.dequantize(t.data, t.tensor_type))),
          "--one-file unpack")
    print("determinism, write-if-changed, --one-file: checked")

    # aliases by bytes, --float
    dup = os.path.join(gen, "dup-f16.gguf")
    r = gguf.GGUFReader(dup)
    ref = {t.name: gguf.quants.dequantize(t.data, t.tensor_type).reshape([int(x) for x in reversed(t.shape)])
           for t in r.tensors}
    for fl in ["keep", "f32", "f16"]:
        d = os.path.join(work, f"pk-dup-{fl}")
        shutil.rmtree(d, ignore_errors=True)
        p = run([pack, dup, "-o", d, "--float", fl])
        pk = Packed(d)
        check(pk.by_name["blk.0.same.weight"].get("alias") == "first.weight",
              f"dup {fl}: identical bytes stored once (alias)")
        check("alias" not in pk.by_name["blk.0.other.weight"], f"dup {fl}: different bytes stored")
        check(pk.m["shards"][0]["name"] == "other" and len(pk.m["shards"]) == 2,
              f"dup {fl}: alias target's shard only")
        want = {"keep": {"first.weight": "f16", "f32.weight": "f32", "bf16.weight": "f32"},
                "f32": {"first.weight": "f32", "f32.weight": "f32", "bf16.weight": "f32"},
                "f16": {"first.weight": "f16", "f32.weight": "f16", "bf16.weight": "f16"}}[fl]
        for n, dt in want.items():
            check(pk.by_name[n]["dtype"] == dt, f"dup {fl}: {n} stored as {dt}")
        for n in ref:
            npy = os.path.join(d, "x.npy")
            run([pack, "--unpack", npy, n, d])
            exp = ref[n].astype(np.float32)
            if fl == "f16":
                with np.errstate(over="ignore"):
                    exp = exp.astype(np.float16).astype(np.float32)  # numpy: round to nearest even
            check(np.array_equal(bits(np.load(npy)), bits(exp)), f"dup {fl}: {n} values")
        if fl == "f16":
            with np.errstate(over="ignore"):
                over = int(np.isinf(ref["f32.weight"].astype(np.float16)).sum())
            check(over > 0 and pk.by_name["f32.weight"].get("f16_overflow") == over,
                  f"dup f16: f16_overflow {pk.by_name['f32.weight'].get('f16_overflow')} vs numpy {over}")
            check("overflowed to inf" in p.stderr, "dup f16: overflow warned")
    print("aliases by identical bytes, --float keep/f32/f16: checked")

    # weights.json input
    if extract:
        d = os.path.join(work, "ex")
        os.makedirs(d, exist_ok=True)
        blob = os.path.join(d, "weights.bin")
        run([extract, models["Q4_0"], "-o", blob])
        man = json.load(open(os.path.join(d, "weights.json")))
        pd = os.path.join(work, "pk-weights-json")
        shutil.rmtree(pd, ignore_errors=True)
        run([pack, os.path.join(d, "weights.json"), "-o", pd, "--max-binding", "1M"])
        pk = Packed(pd)
        check_structure(pk, "weights.json", 1 << 20)
        data = open(blob, "rb").read()
        for t in man["tensors"]:
            npy = os.path.join(pd, "x.npy")
            run([pack, "--unpack", npy, t["name"], pd])
            exp = np.frombuffer(data[t["offset"]:t["offset"] + t["bytes"]], dtype=np.float32)
            check(np.array_equal(bits(np.load(npy).ravel()), bits(exp)), f"weights.json: {t['name']}")
        print(f"weights.json input ({len(man['tensors'])} tensors from m2w-extract): unpack == blob")
    else:
        print("weights.json input: not checked (no --extract)")

    # must fail
    bad = os.path.join(work, "bad")
    os.makedirs(bad, exist_ok=True)
    p = run([pack, models["Q8_0"], "-o", os.path.join(bad, "o1"), "--max-binding", "256"], ok=False)
    check(p.returncode == 1 and "cannot be split by rows" in p.stderr, f"row > max-binding: {p.stderr.strip()}")
    w = gguf.GGUFWriter(os.path.join(bad, "iq.gguf"), "llama")
    w.add_tensor("blk.0.x.weight", np.zeros((2, 36), dtype=np.uint8),
                 raw_dtype=gguf.GGMLQuantizationType.IQ4_NL)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    p = run([pack, os.path.join(bad, "iq.gguf"), "-o", os.path.join(bad, "o2")], ok=False)
    check(p.returncode == 1 and "iq4_nl" in p.stderr and "supported:" in p.stderr and ":0x" in p.stderr,
          f"unsupported type refused with the list: {p.stderr.strip()}")
    trunc = os.path.join(bad, "trunc.gguf")
    open(trunc, "wb").write(open(models["Q8_0"], "rb").read()[:1000000])
    p = run([pack, trunc, "-o", os.path.join(bad, "o3")], ok=False)
    check(p.returncode == 1 and "error:" in p.stderr, f"truncated GGUF: {p.stderr.strip()}")
    open(os.path.join(bad, "w.bin"), "wb").write(b"\0" * 64)
    json.dump({"tensors": [{"name": "a", "shape": [32], "dtype": "f32", "offset": 0, "bytes": 128}]},
              open(os.path.join(bad, "w.json"), "w"))
    p = run([pack, os.path.join(bad, "w.json"), "-o", os.path.join(bad, "o4")], ok=False)
    check(p.returncode == 1 and "past the blob" in p.stderr, f"weights.json past the blob: {p.stderr.strip()}")
    p = run([pack, models["Q8_0"]], ok=False)
    check(p.returncode == 2, "no -o: usage error")
    p = run([pack, models["Q8_0"], "-o", os.path.join(bad, "o5"), "--float", "f64"], ok=False)
    check(p.returncode == 2 and "--float" in p.stderr, "bad --float: usage error")
    p = run([pack, models["Q8_0"], "-o", os.path.join(bad, "o6"), "--max-binding", "100"], ok=False)
    check(p.returncode == 2, "--max-binding below 256: usage error")
    check(run([pack, "--help"]).stdout.startswith("Usage: m2w-pack"), "--help")
    check(run([pack, "--version"]).stdout.startswith("m2w-pack "), "--version")
    dep = os.path.join(bad, "pack.d")
    run([pack, models["Q8_0"], "-o", os.path.join(bad, "o7"), "--depfile", dep])
    check(open(dep).read().split(":")[0] == os.path.join(bad, "o7", "shards.json") and
          models["Q8_0"] in open(dep).read(), "--depfile names shards.json and the model")
    p = run([pack, "--unpack", os.path.join(bad, "x.npy"), "nope", os.path.join(work, "pk-Q8_0")], ok=False)
    check(p.returncode == 1 and "no tensor 'nope'" in p.stderr, "unpack of a missing tensor")
    print("must-fail cases: checked")

    if FAILS:
        print(f"{len(FAILS)} checks failed")
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
