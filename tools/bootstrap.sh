#!/bin/sh
# bootstrap.sh — set up a fresh Debian 12 machine for m2w and run a job.
#
#   tools/bootstrap.sh        install what is missing, build the tools and
#                             run the main job on the vendored default model
#   tools/bootstrap.sh test   install what is missing, build, run every test
#
# Installs Debian packages with apt (via sudo when not root) only when
# missing, and the test runtimes in tests/node with npm from the lockfile.
# BUILD_DIR (default: build) chooses the Meson build folder.
set -eu
cd "$(dirname "$0")/.."
job=${1:-run}
build=${BUILD_DIR:-build}

case $job in
run | test) ;;
*)
	echo "usage: tools/bootstrap.sh [run|test]" >&2
	exit 2
	;;
esac

sudo=
[ "$(id -u)" = 0 ] || sudo=sudo

# Debian packages: the build (meson, cJSON, xxHash, zlib), the tests' ground
# truth (python3-onnx, libonnx-testdata, numpy), the browser for WebGPU,
# Node for the reference runtimes, clang for the libFuzzer targets.
pkgs="build-essential meson ninja-build pkg-config libcjson-dev libxxhash-dev zlib1g-dev nodejs npm"
[ "$job" = test ] && pkgs="$pkgs git python3 python3-numpy python3-onnx libonnx-testdata \
	chromium clang libclang-rt-14-dev cmake espeak-ng"
missing=
for p in $pkgs; do
	case $p in
	nodejs | npm) command -v "${p%js}" >/dev/null 2>&1 && continue ;;
	esac
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "bootstrap: installing:$missing"
	$sudo apt-get update -q
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends $missing
fi

# The package step's toolchain (tsup, typescript; pinned by the lockfile).
npm_ci() { # DIR
	if [ ! -f "$1/node_modules/.package-lock.json" ] ||
		[ "$1/package-lock.json" -nt "$1/node_modules/.package-lock.json" ]; then
		(cd "$1" && npm ci --no-audit --no-fund --loglevel=error)
	fi
}
npm_ci templates/toolchain

if [ "$job" = test ] && { [ ! -f tests/node/node_modules/.package-lock.json ] ||
	[ tests/node/package-lock.json -nt tests/node/node_modules/.package-lock.json ]; }; then
	# onnxruntime-node's postinstall would download; its Linux library ships
	# inside the package, so skip that step.
	(cd tests/node && ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --loglevel=error)
fi

# The test job builds every port (the default job only the vendored model).
models=face-detection
[ "$job" = test ] && models=face-detection,openwakeword,llama
if [ -f "$build/build.ninja" ]; then
	meson configure "$build" -Dmodels="$models" >/dev/null
else
	meson setup "$build" -Dmodels="$models" >/dev/null
fi
meson compile -C "$build"

if [ "$job" = run ]; then
	# meson compile above ran the default model's pipeline (-Dmodels=,
	# default face-detection): inspect, extract, shadergen, bundle, npm pack.
	sub=$build/subprojects/face-detection
	"$build/tools/m2w-inspect" "$sub/face_detection_short_range.tflite"
	echo "bootstrap: package: $(ls "$sub"/*.tgz)"
	echo "bootstrap: architecture: $sub/face_detection_short_range.ARCHITECTURE.md"
else
	# pinned, hash-checked test models (cached in the build folder)
	tests/fetch.sh "$build/cache" openwakeword mediapipe-face llama.cpp
	# llama.cpp's llama-quantize makes the quantized GGUFs that m2w-extract
	# and m2w-pack are checked against (10-20 min on 2 cores, once, cached).
	# M2W_BUILD_QUANTIZE=0 skips it; so does a failed build: those tests then
	# skip and say why.
	if [ "${M2W_BUILD_QUANTIZE:-1}" = 1 ]; then
		M2W_CACHE="$build/cache" sh tests/extract/build_quantize.sh >/dev/null ||
			echo "bootstrap: llama-quantize not built; the GGUF quantization tests will be skipped"
	fi
	# optional: without it the f16 shader test is skipped and says why
	tests/fetch.sh "$build/cache" f16 || echo "bootstrap: f16 runtime not fetched; f16 shader tests will be skipped"
	meson test -C "$build" --print-errorlogs --num-processes 2
fi
