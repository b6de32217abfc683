#!/bin/sh
# test.sh NODE M2W_INSPECT M2W_CHECK PACKAGE.tgz MODELDIR BUILDDIR
# Makes the speech clips with espeak-ng (speech.py), the verifier branch as
# a model (verifier.py) and the onnxruntime-node references
# (reference.mjs), each cached in BUILDDIR under a key of its inputs, then
# runs run.mjs.  MODELDIR holds the build's fetched ONNX models.  Exit 77
# (skip) says why when a real component is missing.
set -eu
node=$1 inspect=$2 check=$3 pkg=$4 models=$5 build=$6
here=$(cd "$(dirname "$0")" && pwd)
[ -x /usr/bin/chromium ] || { echo "skip: /usr/bin/chromium is not installed"; exit 77; }
command -v espeak-ng >/dev/null || { echo "skip: espeak-ng is not installed (apt-get install espeak-ng)"; exit 77; }
/usr/bin/python3 -c 'import numpy, onnx' 2>/dev/null || { echo "skip: /usr/bin/python3 lacks numpy or onnx (python3-numpy, python3-onnx)"; exit 77; }
nm=${NODE_PATH:-$here/../node/node_modules}
for p in playwright-core onnxruntime-node; do
  [ -d "$nm/$p" ] || { echo "skip: npm $p is not installed in $nm"; exit 77; }
done
mkdir -p "$build"
clips='hey_jarvis=hey jarvis|weather=what is the weather today|control=the quick brown fox jumps over the lazy dog'
key() { cat "$@" | sha256sum | cut -c1-16; }

# speech: keyed by espeak-ng's version, the texts and speech.py
k=$( (espeak-ng --version; echo "$clips"; cat "$here/speech.py") | sha256sum | cut -c1-16)
if [ "$(cat "$build/clips/key" 2>/dev/null)" != "$k" ]; then
  rm -rf "$build/clips"
  IFS='|'
  # shellcheck disable=SC2086
  set -- $clips
  unset IFS
  /usr/bin/python3 "$here/speech.py" "$build/clips" "$@"
  echo "$k" > "$build/clips/key"
fi

# references: keyed by the clips, the models and the scripts
mkdir -p "$build/reference/models"
k=$(key "$build"/clips/*.npy "$models"/*.onnx "$here/reference.mjs" "$here/verifier.py" "$here/npy.mjs")
if [ "$(cat "$build/reference/key" 2>/dev/null)" != "$k" ]; then
  /usr/bin/python3 "$here/verifier.py" "$models/hey_jarvis_v0.1.onnx" "$build/reference/models/hey_jarvis_v0.1.verifier.onnx"
  "$node" "$here/reference.mjs" --inspect "$inspect" --models "$models" --clips "$build/clips" \
    --verifier "$build/reference/models/hey_jarvis_v0.1.verifier.onnx" --out "$build/reference" hey_jarvis weather control
  echo "$k" > "$build/reference/key"
fi
exec "$node" "$here/run.mjs" --package "$pkg" --ref "$build/reference" --clips "$build/clips" --out "$build/webgpu" \
  --m2w-check "$check" hey_jarvis weather control
