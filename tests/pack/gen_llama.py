#!/usr/bin/python3
"""Writes small llama-architecture GGUFs with random weights, reproducibly.

  gen_llama.py GGUF_PY_DIR VOCAB.gguf OUT_DIR

OUT_DIR/tiny-llama-f32.gguf: 3 blocks, hidden 256, 4 heads (2 KV heads,
head dim 64), FFN 768, the tokenizer (every tokenizer.* key) and vocabulary
size of VOCAB.gguf, no output.weight (tied embeddings, as llama.cpp reads
them).  Weights are N(0, 0.02) f32 from numpy's PCG64 seeded 20240601; norms
are 1 + N(0, 0.1).  Rows (ne[0]) are 256 or 768 elements: whole Q8_0/Q4_0
blocks and whole k-quant super-blocks, so llama-quantize can make any type.

OUT_DIR/dup-f16.gguf: three F16 tensors, two of them byte-identical (the
alias case), plus an F32 and a BF16 one: input for the alias and --float tests.
"""
import os
import sys

import numpy as np

SEED = 20240601
HIDDEN, LAYERS, HEADS, KV_HEADS, FFN = 256, 3, 4, 2, 768


def copy_tokenizer(gguf, reader, w):
    vt = gguf.GGUFValueType
    for name, f in reader.fields.items():
        if not name.startswith("tokenizer."):
            continue
        main = vt(f.types[0])
        if main == vt.ARRAY:
            sub = vt(f.types[-1])
            w.add_key_value(name, f.contents(), main, sub)
        else:
            w.add_key_value(name, f.contents(), main)


def main():
    if len(sys.argv) != 4:
        print(__doc__, file=sys.stderr)
        return 2
    gguf_py, vocab, out = sys.argv[1:]
    sys.path.insert(0, gguf_py)
    import gguf

    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(SEED)
    reader = gguf.GGUFReader(vocab)
    n_vocab = len(reader.fields["tokenizer.ggml.tokens"].data)

    path = os.path.join(out, "tiny-llama-f32.gguf")
    w = gguf.GGUFWriter(path, "llama")
    w.add_name("m2w tiny llama (random weights)")
    w.add_context_length(512)
    w.add_embedding_length(HIDDEN)
    w.add_block_count(LAYERS)
    w.add_feed_forward_length(FFN)
    w.add_head_count(HEADS)
    w.add_head_count_kv(KV_HEADS)
    w.add_rope_dimension_count(HIDDEN // HEADS)
    w.add_rope_freq_base(10000.0)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_vocab_size(n_vocab)
    w.add_file_type(0)  # all F32
    copy_tokenizer(gguf, reader, w)

    def mat(rows, cols):
        return (rng.standard_normal((rows, cols)) * 0.02).astype(np.float32)

    def norm(n):
        return (1 + rng.standard_normal(n) * 0.1).astype(np.float32)

    kv = HIDDEN // HEADS * KV_HEADS
    w.add_tensor("token_embd.weight", mat(n_vocab, HIDDEN))
    for i in range(LAYERS):
        w.add_tensor(f"blk.{i}.attn_norm.weight", norm(HIDDEN))
        w.add_tensor(f"blk.{i}.attn_q.weight", mat(HIDDEN, HIDDEN))
        w.add_tensor(f"blk.{i}.attn_k.weight", mat(kv, HIDDEN))
        w.add_tensor(f"blk.{i}.attn_v.weight", mat(kv, HIDDEN))
        w.add_tensor(f"blk.{i}.attn_output.weight", mat(HIDDEN, HIDDEN))
        w.add_tensor(f"blk.{i}.ffn_norm.weight", norm(HIDDEN))
        w.add_tensor(f"blk.{i}.ffn_gate.weight", mat(FFN, HIDDEN))
        w.add_tensor(f"blk.{i}.ffn_up.weight", mat(FFN, HIDDEN))
        w.add_tensor(f"blk.{i}.ffn_down.weight", mat(HIDDEN, FFN))
    w.add_tensor("output_norm.weight", norm(HIDDEN))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()

    path = os.path.join(out, "dup-f16.gguf")
    w = gguf.GGUFWriter(path, "llama")
    a = (rng.standard_normal((64, 96)) * 3).astype(np.float16)
    b = (rng.standard_normal((64, 96)) * 3).astype(np.float16)
    w.add_tensor("first.weight", a)
    w.add_tensor("blk.0.same.weight", a.copy())  # byte-identical to first.weight
    w.add_tensor("blk.0.other.weight", b)
    w.add_tensor("f32.weight", (rng.standard_normal((3, 100)) * 1e5).astype(np.float32))
    bf = (rng.standard_normal((2, 64)).astype(np.float32).view(np.uint32) >> 16).astype(np.uint16)
    w.add_tensor("bf16.weight", bf, raw_dtype=gguf.GGMLQuantizationType.BF16)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
