#!/bin/sh
# stage.sh BUILD CACHE [OUT]: everything gpu-bench.mjs needs on the lent GPU
# machine (no network, no Node there), into OUT (default BUILD/carry, under
# 64 MiB), to be named in the run tool's `carry`:
#   node.xz          this machine's Node binary, xz
#   webgpu.tar.xz    npm webgpu (Dawn for Node): index.js, package.json, dist/linux-x64
#   debs/            the amd64 Vulkan / GL loader .debs, libgomp1 for llama-ref
#   pkg/             the three packages' .tgz from BUILD (meson with
#                    -Dmodels=face-detection,openwakeword,llama)
#   data.tar.xz      astronaut.png as RGBA .npy, the "hey jarvis" clip, the
#                    BlazeFace .tflite, LiteRT.js (dist + the compat wasm that
#                    Node 20 loads) with @litertjs/wasm-utils, tiny-spm-q8_0.gguf,
#                    the headers of bench-spm-q8_0/q4_0 (gguf-synth.mjs fills
#                    their tensor data there: the real files are 107 and 57 MB),
#                    llama-ref (llama.cpp's CPU backend, make_refs.py's build),
#                    onnxruntime-web's Node entry + its threaded wasm with
#                    onnxruntime-common, openWakeWord's three ONNX models
#                    (melspectrogram, embedding_model, hey_jarvis_v0.1)
# CACHE is the build's cache_dir (webgpu-node/, llama-models/, llama-build/,
# face-images/, openwakeword/).  Then: run(command: "sh tests/bench/gpu/run-device.sh OUT",
# carry: [OUT]); README.md beside this file.
set -eu
build=$1 cache=$2
out=${3:-$build/carry}
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../.." && pwd)
nm=${NODE_PATH:-$repo/tests/node/node_modules}
fail() { echo "stage.sh: $*" >&2; exit 1; }
for f in "$build/subprojects/face-detection/face-detection-webgpu-0.1.0.tgz" \
	"$build/subprojects/openwakeword/openwakeword-webgpu-0.1.0.tgz" \
	"$build/subprojects/llama/llama-webgpu-0.1.0.tgz" \
	"$cache/webgpu-node/node_modules/webgpu/index.js" \
	"$cache/llama-models/tiny-spm-q8_0.gguf" "$cache/llama-models/bench-spm-q8_0.gguf" \
	"$cache/llama-models/bench-spm-q4_0.gguf" "$nm/@litertjs/core/dist/index.js" \
	"$nm/onnxruntime-web/dist/ort.node.min.mjs" "$nm/onnxruntime-common/dist/esm/index.js" \
	"$cache/openwakeword/package/models/melspectrogram.onnx" "$cache/openwakeword/package/models/embedding_model.onnx" \
	"$cache/openwakeword/package/models/hey_jarvis_v0.1.onnx"; do
	[ -f "$f" ] || fail "$f is missing (build with -Dmodels=face-detection,openwakeword,llama; tests/llama/make_models.py --set all; tests/shaders/fetch-f16.sh)"
done
rm -rf "$out"
mkdir -p "$out/debs" "$out/pkg"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

[ -f "$build/node.xz" ] || xz -T2 -6 -c "$(readlink -f "$(command -v node)")" > "$build/node.xz"
cp "$build/node.xz" "$out/node.xz"
tar -C "$cache/webgpu-node/node_modules" -cJf "$out/webgpu.tar.xz" webgpu/index.js webgpu/package.json webgpu/dist/linux-x64
(cd "$out/debs" && apt-get download libvulkan1 libglvnd0 libglx0 libgl1 libegl1 libopengl0 libgles2 libgomp1 2>/dev/null)
cp "$build"/subprojects/*/*-webgpu-0.1.0.tgz "$out/pkg/"

# data: test inputs, the LiteRT.js peer, models
d=$stage/data
mkdir -p "$d/node_modules/@litertjs/core/wasm" "$d/clips"
png=$(sh "$repo/tests/face-detection/fetch_images.sh" "$cache/face-images" | tr ' ' '\n' | sed -n 's/^astronaut=//p')
/usr/bin/python3 "$repo/tests/face-detection/images.py" "$png" "$d/astronaut.rgba.npy" "$stage/astronaut.input.npy"
/usr/bin/python3 "$repo/tests/openwakeword/speech.py" "$d/clips" "hey_jarvis=hey jarvis" >/dev/null
cp "$build/subprojects/face-detection/face_detection_short_range.tflite" "$d/"
cp "$nm/@litertjs/core/package.json" "$d/node_modules/@litertjs/core/"
cp -r "$nm/@litertjs/core/dist" "$d/node_modules/@litertjs/core/"
rm -f "$d/node_modules/@litertjs/core/dist/"*.map
cp "$nm/@litertjs/core/wasm/litert_wasm_compat_internal.js" "$nm/@litertjs/core/wasm/litert_wasm_compat_internal.wasm" \
	"$d/node_modules/@litertjs/core/wasm/"
cp -r "$nm/@litertjs/wasm-utils" "$d/node_modules/@litertjs/"
# onnxruntime-web's wasm EP under Node: its Node entry imports
# onnxruntime-common and loads the threaded wasm beside it
mkdir -p "$d/node_modules/onnxruntime-web/dist" "$d/node_modules/onnxruntime-common/dist" "$d/oww-models"
cp "$nm/onnxruntime-web/package.json" "$d/node_modules/onnxruntime-web/"
cp "$nm/onnxruntime-web/dist/ort.node.min.mjs" "$nm/onnxruntime-web/dist/ort-wasm-simd-threaded.mjs" \
	"$nm/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm" "$d/node_modules/onnxruntime-web/dist/"
cp "$nm/onnxruntime-common/package.json" "$d/node_modules/onnxruntime-common/"
cp -r "$nm/onnxruntime-common/dist/esm" "$d/node_modules/onnxruntime-common/dist/"
find "$d/node_modules/onnxruntime-common" -name '*.map' -delete
for m in melspectrogram embedding_model hey_jarvis_v0.1; do cp "$cache/openwakeword/package/models/$m.onnx" "$d/oww-models/"; done
cp "$cache/llama-models/tiny-spm-q8_0.gguf" "$d/"
for t in q8_0 q4_0; do
	node "$here/gguf-synth.mjs" head "$cache/llama-models/bench-spm-$t.gguf" "$d/bench-spm-$t.head"
done
ref=$cache/llama-build/m2w-llama-ref/llama-ref
if [ -x "$ref" ]; then cp "$ref" "$d/llama-ref"; else echo "stage.sh: no $ref (tests/llama/make_refs.py): no llama.cpp peer"; fi
tar -C "$d" -cJf "$out/data.tar.xz" .
du -sh "$out"
ls -l "$out" "$out/pkg"
