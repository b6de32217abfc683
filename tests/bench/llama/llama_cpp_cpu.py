#!/usr/bin/python3
"""llama.cpp on the CPU: prefill and decode tokens/s for the llama test
models, the baseline the llama-webgpu benchmark divides by (a benchmark,
not a timed test; run it by hand on an idle machine).

    llama_cpp_cpu.py [--set bench|tiny] [--types f32,f16,q8_0,q4_0]
                     [--prompt-tokens 128] [--gen 64] [--threads N] [--json OUT]

Builds the models (tests/llama/make_models.py, cached) and llama-ref
(tests/llama/make_refs.py's cached build), then per model runs
`llama-ref MODEL - PROMPT GEN --no-dump --threads N`: one decode of the whole
prompt (prefill), then GEN-1 single-token decodes (greedy).  The prompt is
tests/llama/prompt.txt repeated until it reaches --prompt-tokens tokens
(llama.cpp's count is printed).  Prints one line per model and, with
--json, {"machine", "threads", "results": [{model, prompt_tokens,
prefill_tok_s, decode_tok_s, ...}]}.
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
LLAMA = os.path.join(ROOT, 'tests', 'llama')
sys.path.insert(0, LLAMA)
import make_refs  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--set', default='bench', choices=['tiny', 'bench'])
    ap.add_argument('--types', default='f32,f16,q8_0,q4_0')
    ap.add_argument('--prompt-tokens', type=int, default=128)
    ap.add_argument('--gen', type=int, default=64)
    ap.add_argument('--threads', type=int, default=os.cpu_count())
    ap.add_argument('--json')
    args = ap.parse_args()
    cache = os.environ.get('M2W_CACHE') or os.path.join(ROOT, 'build', 'cache')
    env = dict(os.environ, M2W_CACHE=cache)
    r = subprocess.run([sys.executable, os.path.join(LLAMA, 'make_models.py'), '--set', args.set], env=env,
                       stdout=subprocess.DEVNULL)
    if r.returncode:
        return r.returncode
    exe, _ = make_refs.build_tool(cache)
    manifest = json.load(open(os.path.join(cache, 'llama-models', 'manifest.json')))
    base = open(os.path.join(LLAMA, 'prompt.txt'), encoding='utf-8').read()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for m in manifest['models']:
            if m['set'] != args.set or m['type'] not in args.types.split(','):
                continue
            model = os.path.join(cache, 'llama-models', m['file'])
            reps, n1 = 1, None
            while True:
                text = ' '.join([base] * reps)
                pf = os.path.join(tmp, 'prompt.txt')
                open(pf, 'w', encoding='utf-8').write(text)
                out = json.loads(subprocess.run([exe, model, tmp, pf, '1', '--no-dump'], check=True,
                                                stdout=subprocess.PIPE).stdout)
                n = len(out['prompt_tokens'])
                if n >= args.prompt_tokens:
                    break
                reps = reps + 1 if n1 else -(-args.prompt_tokens // n)
                n1 = n
            res = json.loads(subprocess.run([exe, model, tmp, pf, str(args.gen), '--no-dump', '--threads',
                                             str(args.threads)], check=True, stdout=subprocess.PIPE).stdout)
            t = res['timings']
            row = dict(model=m['name'], bytes=m['bytes'], prompt_tokens=n, gen_tokens=args.gen,
                       prefill_ms=t['prompt_ms'], prefill_tok_s=n / t['prompt_ms'] * 1e3,
                       decode_ms=t['gen_ms'], decode_tok_s=(args.gen - 1) / t['gen_ms'] * 1e3)
            results.append(row)
            print(f"{m['name']:16} {m['bytes'] / 1e6:8.1f} MB  prefill {n} tok {row['prefill_tok_s']:9.1f} tok/s  "
                  f"decode {row['decode_tok_s']:8.1f} tok/s  ({args.threads} threads)")
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(dict(machine=platform.processor() or platform.machine(), threads=args.threads,
                           results=results), f, indent=1)
            f.write('\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
