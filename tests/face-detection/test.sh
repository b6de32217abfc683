#!/bin/sh
# test.sh NODE M2W_INSPECT M2W_CHECK PACKAGE.tgz MODEL CACHE BUILDDIR
# Fetches the test photos (cached), makes the LiteRT.js references (cached,
# in BUILDDIR/reference) and runs run.mjs.  Exit 77 (skip) says why when a
# real component is missing.
set -eu
node=$1 inspect=$2 check=$3 pkg=$4 model=$5 cache=$6 build=$7
here=$(cd "$(dirname "$0")" && pwd)
[ -x /usr/bin/chromium ] || { echo "skip: /usr/bin/chromium is not installed"; exit 77; }
[ -x /usr/bin/python3 ] || { echo "skip: /usr/bin/python3 is missing"; exit 77; }
nm=${NODE_PATH:-$here/../node/node_modules}
for p in playwright-core @litertjs/core; do
  [ -d "$nm/$p" ] || { echo "skip: npm $p is not installed in $nm"; exit 77; }
done
images=$(sh "$here/fetch_images.sh" "$cache/face-images") || { rc=$?; [ $rc = 77 ] && exit 77; exit 1; }
# shellcheck disable=SC2086
"$node" "$here/reference.mjs" --inspect "$inspect" --model "$model" --out "$build/reference" $images
exec "$node" "$here/run.mjs" --package "$pkg" --ref "$build/reference" --out "$build/webgpu" \
  --m2w-check "$check" astronaut chelsea camera
