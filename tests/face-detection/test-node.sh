#!/bin/sh
# test-node.sh NODE M2W_INSPECT M2W_CHECK PACKAGE.tgz MODEL CACHE BUILDDIR
# The f16 and f32 paths on Dawn for Node + Mesa lavapipe 25 (CACHE/webgpu-node
# and CACHE/lavapipe, from tests/shaders/fetch-f16.sh): fetches the test
# photos (cached), makes the LiteRT.js references (cached, shared with
# test.sh in BUILDDIR/reference) and runs run-node.mjs.  Exit 77 (skip)
# says why when a real component is missing.
set -eu
node=$1 inspect=$2 check=$3 pkg=$4 model=$5 cache=$6 build=$7
here=$(cd "$(dirname "$0")" && pwd)
lvp=$cache/lavapipe
[ -f "$cache/webgpu-node/node_modules/webgpu/index.js" ] ||
  { echo "skip: Dawn for Node is not in $cache/webgpu-node: run tests/shaders/fetch-f16.sh $cache"; exit 77; }
[ -f "$lvp/lvp_icd.json" ] ||
  { echo "skip: Mesa lavapipe 25 (shader-f16) is not in $lvp: run tests/shaders/fetch-f16.sh $cache"; exit 77; }
[ -x /usr/bin/python3 ] || { echo "skip: /usr/bin/python3 is missing"; exit 77; }
nm=${NODE_PATH:-$here/../node/node_modules}
[ -d "$nm/@litertjs/core" ] || { echo "skip: npm @litertjs/core is not installed in $nm"; exit 77; }
images=$(sh "$here/fetch_images.sh" "$cache/face-images") || { rc=$?; [ $rc = 77 ] && exit 77; exit 1; }
# shellcheck disable=SC2086
"$node" "$here/reference.mjs" --inspect "$inspect" --model "$model" --out "$build/reference" $images
VK_ICD_FILENAMES=$lvp/lvp_icd.json LD_LIBRARY_PATH=$lvp/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export VK_ICD_FILENAMES LD_LIBRARY_PATH
exec "$node" "$here/run-node.mjs" --package "$pkg" --ref "$build/reference" --out "$build/lavapipe" \
  --m2w-check "$check" --webgpu "$cache/webgpu-node" --bench "${M2W_FACE_BENCH:-20}" astronaut chelsea camera
