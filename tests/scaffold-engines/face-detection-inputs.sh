#!/bin/sh
# face-detection-inputs.sh CACHE --out DIR
# BlazeFace's real inputs, the same as tests/face-detection uses: the three
# photos (astronaut, chelsea: no face, camera) from Debian packages
# (tests/face-detection/fetch_images.sh, cached in CACHE/face-images),
# through MediaPipe's letterbox + [-1, 1] (tests/face-detection/images.py,
# independent NumPy), [1, 128, 128, 3] NHWC.  Writes DIR/<photo>/input.npy,
# the engine's input: the scaffolded engine takes rank-4 tensors NCHW, so
# this is that tensor transposed to [1, 3, 128, 128]; DIR/<photo>/nhwc.npy
# keeps the model's own layout.  Exit 77 (skip) says what is missing.
set -eu
cache=$1
[ "$2" = --out ] || { echo "usage: $0 CACHE --out DIR" >&2; exit 2; }
out=$3
fd=$(cd "$(dirname "$0")/../face-detection" && pwd)
[ -x /usr/bin/python3 ] || { echo "skip: /usr/bin/python3 is missing"; exit 77; }
/usr/bin/python3 -c 'import numpy' 2>/dev/null ||
  { echo "skip: /usr/bin/python3 lacks numpy (python3-numpy)"; exit 77; }
images=$(sh "$fd/fetch_images.sh" "$cache/face-images") || { rc=$?; [ $rc = 77 ] && exit 77; exit 1; }
mkdir -p "$out"
for pair in $images; do
  name=${pair%%=*} png=${pair#*=}
  mkdir -p "$out/$name"
  /usr/bin/python3 "$fd/images.py" "$png" "$out/$name/rgba.npy" "$out/$name/nhwc.npy"
  /usr/bin/python3 -c 'import sys, numpy as np
x = np.load(sys.argv[1])
np.save(sys.argv[2], np.ascontiguousarray(x.transpose(0, 3, 1, 2)).astype(np.float32))' \
    "$out/$name/nhwc.npy" "$out/$name/input.npy"
done
