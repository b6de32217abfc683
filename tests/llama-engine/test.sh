#!/bin/sh
# test.sh NODE M2W_CHECK M2W_PACK PACKAGE.tgz CACHE BUILDDIR
# llama-webgpu against llama.cpp (run.mjs) on the tiny test models of
# tests/llama/make_models.py and the references of make_refs.py, both in
# CACHE.  Exit 77 (skip) says why when a real component or a reference is
# missing.
set -eu
node=$1 check=$2 pack=$3 pkg=$4 cache=$5 build=$6
here=$(cd "$(dirname "$0")" && pwd)
[ -x /usr/bin/chromium ] || { echo "skip: /usr/bin/chromium is not installed"; exit 77; }
nm=${NODE_PATH:-$here/../node/node_modules}
[ -d "$nm/playwright-core" ] || { echo "skip: npm playwright-core is not installed in $nm"; exit 77; }
names=""
for vocab in spm bpe; do
  for type in f32 f16 q8_0 q4_0; do
    n=tiny-$vocab-$type
    if [ ! -f "$cache/llama-models/$n.gguf" ]; then
      echo "skip: $cache/llama-models/$n.gguf is missing (tests/llama/make_models.py makes it)"; exit 77
    fi
    if [ ! -f "$cache/llama-ref/$n/index.json" ]; then
      echo "skip: $cache/llama-ref/$n/index.json is missing (tests/llama/make_refs.py makes it)"; exit 77
    fi
    names="$names $n"
  done
done
# the m2w-pack shards path too, on the Q8_0 and Q4_0 models
for n in tiny-spm-q8_0 tiny-bpe-q4_0; do
  "$pack" -q "$cache/llama-models/$n.gguf" -o "$build/packs/$n"
  names="$names $n@shards"
done
# shellcheck disable=SC2086
exec "$node" "$here/run.mjs" --package "$pkg" --models "$cache/llama-models" --refs "$cache/llama-ref" \
  --out "$build/out" --m2w-check "$check" --packs "$build/packs" $names
