#!/bin/sh
# run-device.sh CARRY: on the lent GPU machine (README.md beside this file),
# in the repository root: unpacks what stage.sh put in CARRY into /tmp/m2wgpu
# (Node, Dawn, the Vulkan/GL loaders unpacked with dpkg -x, the packages,
# the data), rebuilds the bench-spm GGUFs from their headers
# (gguf-synth.mjs), points the Vulkan loader at NVIDIA's ICD and runs
# gpu-bench.mjs; its output also goes to $OUT/gpu-bench.txt when $OUT is set.
# GPU_BENCH_ARGS is appended to gpu-bench.mjs's arguments (e.g. --runs 50).
set -eu
C=$(cd "${1:?usage: run-device.sh CARRY}" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
T=/tmp/m2wgpu
rm -rf "$T"
mkdir -p "$T/wgpu/node_modules" "$T/libs" "$T/data" "$T/pkg"
xz -dc "$C/node.xz" > "$T/node" && chmod +x "$T/node"
tar -C "$T/wgpu/node_modules" -xJf "$C/webgpu.tar.xz"
tar -C "$T/data" -xJf "$C/data.tar.xz"
for d in "$C"/debs/*.deb; do dpkg -x "$d" "$T/libs"; done
export LD_LIBRARY_PATH=$T/libs/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
icd=${M2W_VK_ICD:-} # a dry run elsewhere: README.md
for f in /usr/local/nvidia/share/vulkan/icd.d/*.json /usr/share/vulkan/icd.d/nvidia*.json /etc/vulkan/icd.d/nvidia*.json; do
	[ -n "$icd" ] || { [ -f "$f" ] && icd=$f; }
done
[ -n "$icd" ] || { echo "run-device.sh: no NVIDIA Vulkan ICD json found"; exit 77; }
export VK_DRIVER_FILES="$icd" VK_ICD_FILENAMES="$icd"
echo "ICD: $icd"
nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader 2>/dev/null || true
for t in q8_0 q4_0; do
	"$T/node" "$here/gguf-synth.mjs" fill "$T/data/bench-spm-$t.head" "$T/data/bench-spm-$t.gguf"
done
synth='tensor data regenerated from the real GGUF header by gguf-synth.mjs (same shapes, types, tokenizer)'
ref=
[ -x "$T/data/llama-ref" ] && ref="--llama-ref $T/data/llama-ref"
log=${OUT:-$T}/gpu-bench.txt
# shellcheck disable=SC2086
{ "$T/node" "$here/gpu-bench.mjs" --webgpu "$T/wgpu" \
	--face "$C/pkg/face-detection-webgpu-0.1.0.tgz" --image "$T/data/astronaut.rgba.npy" \
	--litert "$T/data/node_modules" --tflite "$T/data/face_detection_short_range.tflite" \
	--oww "$C/pkg/openwakeword-webgpu-0.1.0.tgz" --clip "$T/data/clips/hey_jarvis.npy" \
	--ort "$T/data/node_modules" --oww-models "$T/data/oww-models" \
	--llama "$C/pkg/llama-webgpu-0.1.0.tgz" --gguf "$T/data/tiny-spm-q8_0.gguf" \
	--gguf "$T/data/bench-spm-q8_0.gguf=$synth" --gguf "$T/data/bench-spm-q4_0.gguf=$synth" \
	$ref ${GPU_BENCH_ARGS:-}; echo $? > "$T/rc"; } 2>&1 | grep -v '^Warning: max' | tee "$log"
exit "$(cat "$T/rc")"
