#!/bin/sh
# bench.sh NODE PACKAGE.tgz CACHE: the llama-webgpu benchmark (bench.mjs)
# on bench-spm-q8_0 and tiny-spm-q8_0 from tests/llama/make_models.py (in
# CACHE/llama-models, made there when missing), against llama.cpp on the CPU
# (tests/bench/llama/llama_cpp_cpu.py, its cached build in CACHE) and npm
# @wllama/wllama served locally.  LLAMA_BENCH_RUNS (default 3) runs each.
# Exit 77 (skip) says why when a real component is missing.
set -eu
node=$1 pkg=$2 cache=$3
here=$(cd "$(dirname "$0")" && pwd)
[ -x /usr/bin/chromium ] || { echo "skip: /usr/bin/chromium is not installed"; exit 77; }
[ -x /usr/bin/python3 ] || { echo "skip: /usr/bin/python3 is missing"; exit 77; }
nm=${NODE_PATH:-$here/../../node/node_modules}
for p in playwright-core @wllama/wllama; do
  [ -d "$nm/$p" ] || { echo "skip: npm $p is not installed in $nm (npm ci in tests/node)"; exit 77; }
done
for set in bench tiny; do
  rc=0
  M2W_CACHE=$cache /usr/bin/python3 "$here/../../llama/make_models.py" --set $set >/dev/null || rc=$?
  [ $rc = 77 ] && { echo "skip: tests/llama/make_models.py cannot make the $set models (no llama.cpp in $cache)"; exit 77; }
  [ $rc = 0 ] || exit 1
done
exec "$node" "$here/bench.mjs" --package "$pkg" --models "$cache/llama-models" --cache "$cache" \
  --runs "${LLAMA_BENCH_RUNS:-3}" bench-spm-q8_0 tiny-spm-q8_0
