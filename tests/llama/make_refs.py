#!/usr/bin/python3
"""llama.cpp reference dumps for the llama test models (make_models.py).

    make_refs.py [--set tiny|bench|all] [--only NAME-TYPE]... [--cache DIR]
                 [--prompt FILE] [--gen N] [--check-determinism]

Compiles tests/llama/llama-ref.cpp against the llama.cpp build in the cache
(DIR/llama-build: libllama.a + ggml libs; built through
tests/extract/build_quantize.sh when missing) into
DIR/llama-build/m2w-llama-ref/llama-ref, cached by the hash of the source,
the flags and the libraries.  Then, for every model in
DIR/llama-models/manifest.json of the set, writes DIR/llama-ref/<NAME-TYPE>/:

    index.json   model (file, sha256, hparams), prompt, prompt_tokens,
                 settings, checkpoints [{name, file, shape, op, what}] in
                 graph order, greedy (N token ids), greedy_top, eog,
                 greedy_hex, chat, key (cache key)
    order.txt    the checkpoint names in graph order (m2w-check --order)
    NAME.npy     f32 activations (llama-ref.cpp says how names are made)

kq-L / kq_soft_max-L are cut from llama.cpp's padded KV length (the cache
size) to the prompt's length on the last axis (the cut-off cells are
masked out).  A directory whose index.json has the same key (model bytes,
llama-ref binary, prompt, N, this script) is kept.  --check-determinism
runs llama-ref a second time per model and compares every output byte.
Exit: 0 ok, 1 failure, 77 skip (no llama.cpp build / no compiler).
"""
import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
LIBS = ['src/libllama.a', 'ggml/src/libggml.a', 'ggml/src/libggml-cpu.a', 'ggml/src/libggml-base.a']
CXXFLAGS = ['-O2', '-std=c++17']
LDLIBS = ['-lpthread', '-fopenmp', '-ldl']

WHAT = {
    'embd': 'token embeddings (get_rows of token_embd)',
    'norm': 'rms_norm without weight (for attn: norm-L_v0, for ffn: norm-L)',
    'attn_norm': 'attention input: rms_norm(x) * attn_norm.weight',
    'Qcur_v0': 'x @ attn_q  [T, n_head*hd]',
    'Qcur_v1': 'Q reshaped [T, n_head, hd] (before rope)',
    'Qcur': 'Q after rope (NORM: adjacent pairs) [T, n_head, hd]',
    'Kcur_v0': 'x @ attn_k  [T, n_kv*hd]',
    'Kcur_v1': 'K reshaped (before rope)',
    'Kcur': 'K after rope [T, n_kv, hd]',
    'Vcur_v0': 'x @ attn_v  [T, n_kv*hd]',
    'Vcur': 'V reshaped [T, n_kv, hd]',
    'kq': 'K.Q per head, unscaled, unmasked [n_head, T, T] (cut from the padded KV length)',
    'kq_soft_max': 'softmax(kq * 1/sqrt(hd) + causal mask) [n_head, T, T]',
    'kqv': 'softmax @ V per head [n_head, T, hd]',
    'kqv_out': 'heads merged [T, n_head*hd] (input of attn_output)',
    'attn_out': 'kqv_out @ attn_output',
    'ffn_inp': 'residual: attn_out + layer input',
    'ffn_norm': 'rms_norm(ffn_inp) * ffn_norm.weight',
    'ffn_gate': 'x @ ffn_gate',
    'ffn_up': 'x @ ffn_up',
    'ffn_swiglu': 'silu(ffn_gate) * ffn_up',
    'ffn_out': 'ffn_swiglu @ ffn_down',
    'l_out': 'layer output: ffn_out + ffn_inp',
    'result_norm': 'rms_norm(last l_out) * output_norm.weight',
    'result_output': 'logits = result_norm @ token_embd^T (tied) [T, n_vocab]',
}


def die(msg, code=1):
    print(f'make_refs: error: {msg}', file=sys.stderr)
    sys.exit(code)


def sha256_bytes(*parts):
    h = hashlib.sha256()
    for p in parts:
        h.update(p if isinstance(p, bytes) else str(p).encode())
        h.update(b'\0')
    return h.hexdigest()


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for chunk in iter(lambda: f.read(1 << 20), b''):
            h.update(chunk)
    return h.hexdigest()


NAME_RE = re.compile(r'^(.*?)(?:-(\d+))?(?:_v(\d+))?$')


def base_name(name):
    """'Qcur-1_v0' -> 'Qcur_v0', 'ffn_out-0' -> 'ffn_out', 'result_norm' -> itself."""
    stem, _, var = NAME_RE.match(name).groups()
    return stem + (f'_v{var}' if var is not None else '')


def layer_of(name):
    layer = NAME_RE.match(name).group(2)
    return int(layer) if layer is not None else None


def build_tool(cache):
    build = os.path.join(cache, 'llama-build')
    src_root = os.path.join(cache, 'llama.cpp')
    libs = [os.path.join(build, l) for l in LIBS]
    if not all(os.path.exists(l) for l in libs):
        r = subprocess.run(['sh', os.path.join(ROOT, 'tests', 'extract', 'build_quantize.sh')],
                           env=dict(os.environ, M2W_CACHE=cache), stdout=subprocess.DEVNULL)
        if r.returncode != 0 or not all(os.path.exists(l) for l in libs):
            die(f'no llama.cpp libraries in {build} (tests/extract/build_quantize.sh failed)', 77)
    cxx = os.environ.get('CXX', 'c++')
    if not shutil.which(cxx):
        die(f'no C++ compiler ({cxx})', 77)
    src = os.path.join(HERE, 'llama-ref.cpp')
    key = sha256_bytes(open(src, 'rb').read(), cxx, *CXXFLAGS, *LDLIBS,
                       *[f'{l}:{os.path.getsize(l)}:{os.stat(l).st_mtime_ns}' for l in libs])
    out_dir = os.path.join(build, 'm2w-llama-ref')
    exe = os.path.join(out_dir, 'llama-ref')
    stamp = exe + '.key'
    if os.path.exists(exe) and os.path.exists(stamp) and open(stamp).read() == key:
        return exe, key
    os.makedirs(out_dir, exist_ok=True)
    print('make_refs: compiling llama-ref', file=sys.stderr)
    r = subprocess.run([cxx, *CXXFLAGS, src, f'-I{src_root}/include', f'-I{src_root}/ggml/include',
                        *libs, *LDLIBS, '-o', exe + '.tmp'], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        die('compiling llama-ref.cpp against llama.cpp failed:\n' + r.stdout.decode(errors='replace')[-3000:], 77)
    os.replace(exe + '.tmp', exe)
    with open(stamp, 'w') as f:
        f.write(key)
    return exe, key


def run_ref(exe, model_path, out, prompt_path, n_gen):
    r = subprocess.run([exe, model_path, out, prompt_path, str(n_gen)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode != 0:
        die(f'llama-ref failed on {model_path}: {r.stderr.decode(errors="replace")[-2000:]}')
    return json.loads(r.stdout)


def postprocess(np, out, res):
    """Cut kq / kq_soft_max to the prompt length; returns the checkpoint list."""
    n = len(res['prompt_tokens'])
    cps = []
    for c in res['checkpoints']:
        name = c['name']
        path = os.path.join(out, name + '.npy')
        shape = c['shape']
        entry = dict(name=name, file=name + '.npy', shape=shape, op=c['op'], layer=layer_of(name))
        if base_name(name) in ('kq', 'kq_soft_max') and shape[-1] > n:
            a = np.load(path)
            np.save(path + '.tmp.npy', np.ascontiguousarray(a[..., :n]))
            os.replace(path + '.tmp.npy', path)
            entry['shape'] = shape[:-1] + [n]
            entry['kv_cells'] = shape[-1]
        what = WHAT.get(base_name(name))
        if what:
            entry['what'] = what
        cps.append(entry)
    return cps


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--set', default='tiny', choices=['tiny', 'bench', 'all'])
    ap.add_argument('--only', action='append', default=[], help='NAME-TYPE, e.g. tiny-spm-q8_0')
    ap.add_argument('--cache', help='cache directory (default $M2W_CACHE)')
    ap.add_argument('--prompt', default=os.path.join(HERE, 'prompt.txt'))
    ap.add_argument('--gen', type=int, default=64)
    ap.add_argument('--check-determinism', action='store_true')
    args = ap.parse_args()

    cache = args.cache or os.environ.get('M2W_CACHE') or os.path.join(ROOT, 'build', 'cache')
    try:
        import numpy as np
    except ImportError:
        die('numpy is missing (use /usr/bin/python3)', 77)
    manifest_path = os.path.join(cache, 'llama-models', 'manifest.json')
    if not os.path.exists(manifest_path):
        die(f'no {manifest_path}: run tests/llama/make_models.py first', 77)
    manifest = json.load(open(manifest_path))
    models = [m for m in manifest['models']
              if (m['name'] in args.only) or (not args.only and args.set in ('all', m['set']))]
    if args.only and len(models) != len(args.only):
        die(f'unknown model in --only (known: {", ".join(m["name"] for m in manifest["models"])})')
    exe, tool_key = build_tool(cache)
    prompt = open(args.prompt, 'rb').read()
    script = open(os.path.abspath(__file__), 'rb').read()
    ref_root = os.path.join(cache, 'llama-ref')
    os.makedirs(ref_root, exist_ok=True)
    failed = 0
    for m in models:
        model_path = os.path.join(cache, 'llama-models', m['file'])
        if sha256_file(model_path) != m['sha256']:
            die(f'{model_path} does not match its manifest sha256: rerun make_models.py')
        key = sha256_bytes(m['sha256'], tool_key, prompt, args.gen, script)
        out = os.path.join(ref_root, m['name'])
        idx_path = os.path.join(out, 'index.json')
        cached = False
        try:
            cached = json.load(open(idx_path)).get('key') == key
        except (OSError, ValueError):
            pass
        if not cached:
            tmp = tempfile.mkdtemp(prefix=m['name'] + '.', dir=ref_root)
            res = run_ref(exe, model_path, tmp, args.prompt, args.gen)
            cps = postprocess(np, tmp, res)
            index = dict(
                key=key, model=dict(name=m['name'], file=m['file'], type=m['type'], vocab=m['vocab'],
                                    sha256=m['sha256'], hparams=m['hparams']),
                llama_cpp=dict(tool='tests/llama/llama-ref.cpp', backend='CPU', threads=1, flash_attn=False,
                               kv_cache_type='f32', ubatch='whole prompt', logits='every position'),
                prompt=res['prompt'], prompt_tokens=res['prompt_tokens'], n_vocab=res['n_vocab'],
                checkpoints=cps, greedy=res['greedy'], greedy_hex=res['greedy_hex'],
                greedy_top=res['greedy_top'], eog=res['eog'], chat=res['chat'], timings_ms=res['timings'])
            with open(os.path.join(tmp, 'order.txt'), 'w') as f:
                f.write(''.join(c['name'] + '\n' for c in cps))
            with open(os.path.join(tmp, 'index.json'), 'w') as f:
                json.dump(index, f, indent=1)
                f.write('\n')
            if os.path.exists(out):
                shutil.rmtree(out)
            os.replace(tmp, out)
        index = json.load(open(idx_path))
        line = (f"{m['name']}: {len(index['prompt_tokens'])} prompt tokens, {len(index['checkpoints'])} checkpoints, "
                f"greedy {len(index['greedy'])}{' (cached)' if cached else ''}")
        if args.check_determinism:
            tmp = tempfile.mkdtemp(prefix=m['name'] + '.det.', dir=ref_root)
            try:
                res = run_ref(exe, model_path, tmp, args.prompt, args.gen)
                postprocess(np, tmp, res)
                diff = [c['name'] for c in index['checkpoints']
                        if open(os.path.join(tmp, c['file']), 'rb').read() != open(os.path.join(out, c['file']), 'rb').read()]
                same_gen = res['greedy'] == index['greedy'] and res['greedy_top'] == index['greedy_top']
                if diff or not same_gen or res['prompt_tokens'] != index['prompt_tokens']:
                    failed += 1
                    line += f"; NOT deterministic: {len(diff)} checkpoints differ {diff[:4]}, greedy same: {same_gen}"
                else:
                    line += '; second run byte-identical'
            finally:
                shutil.rmtree(tmp)
        print(line)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
