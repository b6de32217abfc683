#!/bin/sh
# bench.sh NODE PACKAGE.tgz MODEL.tflite CACHE BUILDDIR: the face-detection
# benchmark (bench.mjs) on astronaut.png (Debian python3-imageio, via
# tests/face-detection/fetch_images.sh).  Exit 77 (skip) says why when a
# real component is missing.
set -eu
node=$1 pkg=$2 model=$3 cache=$4 build=$5
here=$(cd "$(dirname "$0")" && pwd)
tests=$here/../../face-detection
[ -x /usr/bin/chromium ] || { echo "skip: /usr/bin/chromium is not installed"; exit 77; }
[ -x /usr/bin/python3 ] || { echo "skip: /usr/bin/python3 is missing"; exit 77; }
nm=${NODE_PATH:-$here/../../node/node_modules}
for p in playwright-core @litertjs/core; do
  [ -d "$nm/$p" ] || { echo "skip: npm $p is not installed in $nm"; exit 77; }
done
images=$(sh "$tests/fetch_images.sh" "$cache/face-images") || { rc=$?; [ $rc = 77 ] && exit 77; exit 1; }
png=$(printf '%s\n' $images | sed -n 's/^astronaut=//p')
mkdir -p "$build"
/usr/bin/python3 "$tests/images.py" "$png" "$build/astronaut.rgba.npy" "$build/astronaut.input.npy"
exec "$node" "$here/bench.mjs" --package "$pkg" --model "$model" --image "$build/astronaut.rgba.npy" --runs 100
