#!/bin/sh
# bench.sh NODE PACKAGE.tgz MODELDIR BUILDDIR: the openwakeword benchmark
# (bench.mjs) on the "hey jarvis" clip of tests/openwakeword/speech.py
# (Debian's espeak-ng), against npm onnxruntime-web's files served locally.
# MODELDIR holds the build's fetched (sha256-pinned) ONNX models.  Exit 77
# (skip) says why when a real component is missing.
set -eu
node=$1 pkg=$2 models=$3 build=$4
here=$(cd "$(dirname "$0")" && pwd)
tests=$here/../../openwakeword
[ -x /usr/bin/chromium ] || { echo "skip: /usr/bin/chromium is not installed"; exit 77; }
command -v espeak-ng >/dev/null || { echo "skip: espeak-ng is not installed (apt-get install espeak-ng)"; exit 77; }
/usr/bin/python3 -c 'import numpy' 2>/dev/null || { echo "skip: /usr/bin/python3 lacks numpy (python3-numpy)"; exit 77; }
nm=${NODE_PATH:-$here/../../node/node_modules}
for p in playwright-core onnxruntime-web; do
  [ -d "$nm/$p" ] || { echo "skip: npm $p is not installed in $nm"; exit 77; }
done
mkdir -p "$build"
[ -f "$build/clips/hey_jarvis.npy" ] || /usr/bin/python3 "$tests/speech.py" "$build/clips" "hey_jarvis=hey jarvis"
exec "$node" "$here/bench.mjs" --package "$pkg" --models "$models" --ort "$nm/onnxruntime-web/dist" \
  --clip "$build/clips/hey_jarvis.npy" --steps "${OWW_BENCH_STEPS:-30}" --warmup 5
