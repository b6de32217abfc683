#!/bin/sh
# openwakeword-inputs.sh NODE M2W_INSPECT MODELDIR --out DIR
# The embedding model's real inputs, the same as tests/openwakeword uses:
# espeak-ng speech (its speech.py: "hey jarvis", a weather question, a
# control sentence) through openWakeWord's streaming glue in
# onnxruntime-node (its reference.mjs: melspectrogram -> x/10 + 2 -> the
# 76-row mel window), at the steps it dumps (the first, the best score, the
# last).  Writes DIR/<clip>-s<step>/input_1.npy, the [1, 76, 32, 1] window.
# MODELDIR holds melspectrogram.onnx, embedding_model.onnx and
# hey_jarvis_v0.1.onnx.  Clips and windows are kept in DIR under a key of
# their inputs.  Exit 77 (skip) says what is missing.
set -eu
node=$1 inspect=$2 models=$3
[ "$4" = --out ] || { echo "usage: $0 NODE M2W_INSPECT MODELDIR --out DIR" >&2; exit 2; }
out=$5
oww=$(cd "$(dirname "$0")/../openwakeword" && pwd)
command -v espeak-ng >/dev/null || { echo "skip: espeak-ng is not installed (apt-get install espeak-ng)"; exit 77; }
/usr/bin/python3 -c 'import numpy' 2>/dev/null || { echo "skip: /usr/bin/python3 lacks numpy (python3-numpy)"; exit 77; }
mkdir -p "$out"
clips='hey_jarvis=hey jarvis|weather=what is the weather today|control=the quick brown fox jumps over the lazy dog'
k=$( (espeak-ng --version; echo "$clips"; cat "$oww/speech.py" "$oww/reference.mjs" "$oww/npy.mjs" "$models"/*.onnx) |
  sha256sum | cut -c1-16)
[ "$(cat "$out/key" 2>/dev/null)" = "$k" ] && exit 0
find "$out" -mindepth 1 -delete
IFS='|'
# shellcheck disable=SC2086
set -- $clips
unset IFS
/usr/bin/python3 "$oww/speech.py" "$out/clips" "$@"
"$node" "$oww/reference.mjs" --inspect "$inspect" --models "$models" --clips "$out/clips" \
  --out "$out/glue" hey_jarvis weather control >/dev/null
for d in "$out"/glue/*/s*; do
  [ -f "$d/glue.mel_window.npy" ] || continue
  c=$(basename "$(dirname "$d")")-$(basename "$d")
  mkdir -p "$out/$c"
  cp "$d/glue.mel_window.npy" "$out/$c/input_1.npy"
done
rm -rf "$out/glue" "$out/clips"
echo "$k" > "$out/key"
