#!/usr/bin/python3
"""Test models for llama-webgpu: llama-architecture GGUFs with seeded random
weights and a real vocabulary, quantised by llama.cpp's own llama-quantize.

    make_models.py [--set tiny|bench|all] [--cache DIR] [--quantize BIN]

For every model of the set, writes into DIR/llama-models/ (DIR: --cache, else
$M2W_CACHE, else <repo>/build/cache):
    <name>-f32.gguf   written here with gguf-py (from DIR/llama.cpp/gguf-py)
    <name>-f16.gguf, <name>-q8_0.gguf, <name>-q4_0.gguf
                      llama-quantize --pure (every 2-D weight, token_embd
                      included, gets exactly that type; 1-D norms stay F32)
and manifest.json: {"generator": HASH, "models": [...]} with each file's
size and sha256.  HASH covers this script, the vocabulary files and the
quantizer binary; a model whose files all exist with the manifest's
sha256 under the same HASH is not rebuilt.  Prints one path a line.

Models (arch "llama", RMSNorm, rope NORM, SwiGLU, GQA, no output.weight so
the LM head is tied to token_embd):
    tiny-spm   llama-spm vocabulary (SentencePiece, 32000)      set tiny
    tiny-bpe   llama-bpe vocabulary (llama-3 BPE, 128256)        set tiny
    bench-spm  llama-spm, 12 layers x 768, ~100M parameters     set bench
Every tokenizer.* key of the vocabulary file is copied byte for byte; a
chat template is added (llama-2 [INST] for spm, Llama-3.2 for bpe).

Weights: per-tensor generators seeded from sha256("<model>/<tensor>"),
scaled so activations stay O(1): token_embd N(0,1) (rows of CONTROL tokens
x0.05, so greedy decoding rarely lands on them), projections normal
with std 1/sqrt(fan_in) (attn_output and ffn_down x OUT_GAIN), norm
weights 1 + 0.1 N(0,1).  Tied embeddings with unit
scale give logits of std ~sqrt(hidden): clear greedy margins.
Exit: 0 ok, 1 failure, 77 skip (no llama.cpp source / quantizer).
"""
import argparse
import hashlib
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

TYPES = ['f32', 'f16', 'q8_0', 'q4_0']
QUANT_NAME = {'f16': 'F16', 'q8_0': 'Q8_0', 'q4_0': 'Q4_0'}

# Every row length (hidden, ffn, heads*head_dim) is a multiple of 32, the
# Q8_0/Q4_0 block size.
MODELS = [
    dict(name='tiny-spm', set='tiny', vocab='llama-spm', n_layer=2, n_embd=64, n_head=4,
         n_head_kv=2, n_ff=192, n_ctx=256),
    dict(name='tiny-bpe', set='tiny', vocab='llama-bpe', n_layer=2, n_embd=64, n_head=4,
         n_head_kv=2, n_ff=192, n_ctx=256),
    dict(name='bench-spm', set='bench', vocab='llama-spm', n_layer=12, n_embd=768, n_head=12,
         n_head_kv=4, n_ff=2048, n_ctx=2048),
]

RMS_EPS = 1e-5
# attn_output and ffn_down get OUT_GAIN/sqrt(fan_in): the blocks then add
# more to the residual stream than the token's own embedding, so the tied
# LM head does not just repeat the last token under greedy decoding.
OUT_GAIN = 4.0
ROPE_BASE = 10000.0

# The Llama-2 chat template (as the HF tokenizer_config ships it); llama.cpp
# recognises it as "llama2" by its [INST] / <<SYS>> markers.
LLAMA2_TEMPLATE = (
    "{% if messages[0]['role'] == 'system' %}{% set loop_messages = messages[1:] %}"
    "{% set system_message = messages[0]['content'] %}{% else %}{% set loop_messages = messages %}"
    "{% set system_message = false %}{% endif %}{% for message in loop_messages %}"
    "{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}"
    "{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}"
    "{% endif %}{% if loop.index0 == 0 and system_message != false %}"
    "{% set content = '<<SYS>>\\n' + system_message + '\\n<</SYS>>\\n\\n' + message['content'] %}"
    "{% else %}{% set content = message['content'] %}{% endif %}{% if message['role'] == 'user' %}"
    "{{ bos_token + '[INST] ' + content.strip() + ' [/INST]' }}{% elif message['role'] == 'assistant' %}"
    "{{ ' '  + content.strip() + ' ' + eos_token }}{% endif %}{% endfor %}")


def die(msg, code=1):
    print(f'make_models: error: {msg}', file=sys.stderr)
    sys.exit(code)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()


def cache_dir(arg):
    if arg:
        return arg
    if os.environ.get('M2W_CACHE'):
        return os.environ['M2W_CACHE']
    return os.path.join(ROOT, 'build', 'cache')


def find_quantize(cache, arg):
    if arg:
        return arg
    b = os.path.join(cache, 'llama-build', 'bin', 'llama-quantize')
    if os.path.exists(b):
        return b
    # Build it (cached, non-fatal) the way the extract suite does.
    r = subprocess.run(['sh', os.path.join(ROOT, 'tests', 'extract', 'build_quantize.sh')],
                       env=dict(os.environ, M2W_CACHE=cache), stdout=subprocess.PIPE)
    if r.returncode != 0 or not os.path.exists(b):
        die('llama-quantize is not available (tests/extract/build_quantize.sh failed)', 77)
    return b


def copy_tokenizer(gguf, reader, writer):
    """Every tokenizer.* key, with its GGUF type, byte for byte."""
    T = gguf.GGUFValueType
    n = 0
    for key, field in reader.fields.items():
        if not key.startswith('tokenizer.'):
            continue
        main = field.types[0]
        if main == T.ARRAY:
            sub = field.types[-1]
            if sub == T.STRING:
                val = [bytes(field.parts[i]) for i in field.data]
            else:
                val = field.contents()
            writer.add_key_value(key, val, T.ARRAY, sub_type=sub)
        elif main == T.STRING:
            writer.add_key_value(key, bytes(field.parts[field.data[0]]), T.STRING)
        else:
            writer.add_key_value(key, field.contents(), main)
        n += 1
    return n


def tensor_rng(np, model, tensor):
    seed = int.from_bytes(hashlib.sha256(f'{model}/{tensor}'.encode()).digest()[:8], 'little')
    return np.random.default_rng(seed)


def write_f32(np, gguf, m, vocab_path, chat_template, out):
    reader = gguf.GGUFReader(vocab_path)
    types = reader.fields['tokenizer.ggml.token_type'].contents()
    n_vocab = len(types)
    E, H, KV, F = m['n_embd'], m['n_head'], m['n_head_kv'], m['n_ff']
    hd = E // H

    w = gguf.GGUFWriter(out, 'llama')
    w.add_name(m['name'])
    w.add_context_length(m['n_ctx'])
    w.add_embedding_length(E)
    w.add_block_count(m['n_layer'])
    w.add_feed_forward_length(F)
    w.add_head_count(H)
    w.add_head_count_kv(KV)
    w.add_layer_norm_rms_eps(RMS_EPS)
    w.add_rope_freq_base(ROPE_BASE)
    w.add_rope_dimension_count(hd)
    w.add_vocab_size(n_vocab)
    w.add_file_type(gguf.LlamaFileType.ALL_F32)
    copy_tokenizer(gguf, reader, w)
    if 'tokenizer.chat_template' not in reader.fields:
        w.add_chat_template(chat_template)

    def normal(name, shape, std):
        a = tensor_rng(np, m['name'], name).standard_normal(shape, dtype=np.float32)
        return (a * np.float32(std)).astype(np.float32)

    def norm(name, n):
        return (np.float32(1) + normal(name, (n,), 0.1)).astype(np.float32)

    # numpy shape = ggml ne reversed: (out_features, in_features)
    emb = normal('token_embd.weight', (n_vocab, E), 1.0)
    control = np.asarray(types) == int(gguf.TokenType.CONTROL)
    emb[control] *= np.float32(0.05)
    w.add_tensor('token_embd.weight', emb)
    w.add_tensor('output_norm.weight', norm('output_norm.weight', E))
    for i in range(m['n_layer']):
        p = f'blk.{i}.'
        w.add_tensor(p + 'attn_norm.weight', norm(p + 'attn_norm.weight', E))
        w.add_tensor(p + 'attn_q.weight', normal(p + 'attn_q.weight', (H * hd, E), E ** -0.5))
        w.add_tensor(p + 'attn_k.weight', normal(p + 'attn_k.weight', (KV * hd, E), E ** -0.5))
        w.add_tensor(p + 'attn_v.weight', normal(p + 'attn_v.weight', (KV * hd, E), E ** -0.5))
        w.add_tensor(p + 'attn_output.weight', normal(p + 'attn_output.weight', (E, H * hd), OUT_GAIN * (H * hd) ** -0.5))
        w.add_tensor(p + 'ffn_norm.weight', norm(p + 'ffn_norm.weight', E))
        w.add_tensor(p + 'ffn_gate.weight', normal(p + 'ffn_gate.weight', (F, E), E ** -0.5))
        w.add_tensor(p + 'ffn_up.weight', normal(p + 'ffn_up.weight', (F, E), E ** -0.5))
        w.add_tensor(p + 'ffn_down.weight', normal(p + 'ffn_down.weight', (E, F), OUT_GAIN * F ** -0.5))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return n_vocab


def build(np, gguf, m, src, quantize, templates, out_dir, files):
    vocab_path = os.path.join(src, 'models', f"ggml-vocab-{m['vocab']}.gguf")
    f32 = os.path.join(out_dir, files['f32'])
    tmp = f32 + '.tmp'
    print(f"make_models: writing {files['f32']}", file=sys.stderr)
    n_vocab = write_f32(np, gguf, m, vocab_path, templates[m['vocab']], tmp)
    os.replace(tmp, f32)
    for t in TYPES[1:]:
        dst = os.path.join(out_dir, files[t])
        print(f'make_models: llama-quantize --pure {QUANT_NAME[t]} -> {files[t]}', file=sys.stderr)
        r = subprocess.run([quantize, '--pure', f32, dst + '.tmp', QUANT_NAME[t], '2'],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if r.returncode != 0:
            sys.stderr.write(r.stdout.decode(errors='replace')[-4000:])
            die(f'llama-quantize {QUANT_NAME[t]} failed for {files["f32"]}')
        os.replace(dst + '.tmp', dst)
    return n_vocab


def verify(np, gguf, want, entries, src, quantize, templates, out_dir):
    """Reproducibility: a second build, byte for byte against the manifest."""
    import shutil
    import tempfile
    scratch = tempfile.mkdtemp(prefix='verify.', dir=out_dir)
    bad = 0
    try:
        for m in want:
            files = {t: f"{m['name']}-{t}.gguf" for t in TYPES}
            build(np, gguf, m, src, quantize, templates, scratch, files)
            for f in files.values():
                e = entries.get(f)
                got = sha256_file(os.path.join(scratch, f))
                ok = e is not None and e['sha256'] == got
                bad += not ok
                print(f"{f}: {'identical' if ok else 'DIFFERS'} (sha256 {got[:16]}, "
                      f"manifest {e['sha256'][:16] if e else 'none'})")
    finally:
        shutil.rmtree(scratch)
    return 1 if bad else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--set', default='tiny', choices=['tiny', 'bench', 'all'])
    ap.add_argument('--cache', help='cache directory (default $M2W_CACHE)')
    ap.add_argument('--quantize', help='llama-quantize binary (default: the cached build)')
    ap.add_argument('--force', action='store_true', help='rebuild even when cached')
    ap.add_argument('--verify', action='store_true',
                    help='rebuild the set into a scratch directory and compare every byte with the manifest')
    args = ap.parse_args()

    cache = cache_dir(args.cache)
    src = os.path.join(cache, 'llama.cpp')
    if not os.path.exists(os.path.join(src, 'gguf-py', 'gguf', '__init__.py')):
        fetch = os.path.join(ROOT, 'tests', 'conformance', 'gguf', 'fetch.sh')
        subprocess.run(['sh', fetch], env=dict(os.environ, M2W_CACHE=cache), stdout=sys.stderr)
        if not os.path.exists(os.path.join(src, 'gguf-py', 'gguf', '__init__.py')):
            die(f'no llama.cpp source with gguf-py at {src}', 77)
    sys.path.insert(0, os.path.join(src, 'gguf-py'))
    try:
        import numpy as np
        import gguf
    except ImportError as e:
        die(f'cannot import numpy/gguf-py: {e}', 77)
    import logging
    logging.getLogger('gguf').setLevel(logging.WARNING)

    quantize = find_quantize(cache, args.quantize)
    out_dir = os.path.join(cache, 'llama-models')
    os.makedirs(out_dir, exist_ok=True)
    templates = {
        'llama-spm': LLAMA2_TEMPLATE,
        'llama-bpe': open(os.path.join(src, 'models', 'templates',
                                       'meta-llama-Llama-3.2-3B-Instruct.jinja'), encoding='utf-8').read(),
    }

    gen = hashlib.sha256()
    gen.update(open(os.path.abspath(__file__), 'rb').read())
    gen.update(np.__version__.encode())
    gen.update(sha256_file(quantize).encode())
    for v in sorted({m['vocab'] for m in MODELS}):
        gen.update(sha256_file(os.path.join(src, 'models', f'ggml-vocab-{v}.gguf')).encode())
    for t in templates.values():
        gen.update(t.encode())
    generator = gen.hexdigest()

    manifest_path = os.path.join(out_dir, 'manifest.json')
    try:
        with open(manifest_path) as f:
            old = json.load(f)
    except (OSError, ValueError):
        old = {}
    old_entries = {e['file']: e for e in old.get('models', [])} if old.get('generator') == generator else {}

    want = [m for m in MODELS if args.set in ('all', m['set'])]
    if args.verify:
        return verify(np, gguf, want, old_entries, src, quantize, templates, out_dir)
    entries = dict(old_entries)
    for m in want:
        files = {t: f"{m['name']}-{t}.gguf" for t in TYPES}
        cached = not args.force and all(
            f in old_entries and os.path.exists(os.path.join(out_dir, f))
            and os.path.getsize(os.path.join(out_dir, f)) == old_entries[f]['bytes']
            and sha256_file(os.path.join(out_dir, f)) == old_entries[f]['sha256']
            for f in files.values())
        if not cached:
            n_vocab = build(np, gguf, m, src, quantize, templates, out_dir, files)
        else:
            n_vocab = old_entries[files['f32']]['hparams']['n_vocab']
        E, H = m['n_embd'], m['n_head']
        hparams = dict(n_vocab=n_vocab, n_layer=m['n_layer'], n_embd=E, n_head=H,
                       n_head_kv=m['n_head_kv'], head_dim=E // H, n_ff=m['n_ff'], n_ctx=m['n_ctx'],
                       rms_eps=RMS_EPS, rope_freq_base=ROPE_BASE, rope_type='norm', tied_embeddings=True)
        for t in TYPES:
            p = os.path.join(out_dir, files[t])
            entries[files[t]] = dict(name=f"{m['name']}-{t}", file=files[t], model=m['name'], set=m['set'],
                                     vocab=m['vocab'], type=t, bytes=os.path.getsize(p),
                                     sha256=(old_entries[files[t]]['sha256'] if cached
                                             else sha256_file(p)),
                                     hparams=hparams)
            print(p)

    order = {f"{m['name']}-{t}.gguf": (i, j) for i, m in enumerate(MODELS) for j, t in enumerate(TYPES)}
    manifest = dict(generator=generator, llama_quantize=quantize,
                    models=sorted(entries.values(), key=lambda e: order.get(e['file'], (99, 0))))
    text = json.dumps(manifest, indent=1) + '\n'
    try:
        same = open(manifest_path).read() == text
    except OSError:
        same = False
    if not same:
        with open(manifest_path + '.tmp', 'w') as f:
            f.write(text)
        os.replace(manifest_path + '.tmp', manifest_path)
    return 0


if __name__ == '__main__':
    sys.exit(main())
