#!/bin/sh
# bootstrap.sh — set up a fresh Debian 12 machine for m2w and run a job.
#
#   tools/bootstrap.sh        install what is missing, build the tools and
#                             run the main job on the vendored default model
#   tools/bootstrap.sh test   install what is missing, build, run every test,
#                             then the memory checks below
#   tools/bootstrap.sh memcheck
#                             only the memory checks, on an existing BUILD_DIR
#
# The memory checks (meson.build's test setups asan, valgrind and ulimit;
# the README's "Tests" says which tests and why): a second build folder,
# ASAN_BUILD_DIR (default BUILD_DIR-asan), with -Db_sanitize=address,undefined
# runs the C-tool suites under the asan setup; BUILD_DIR runs a subset under
# valgrind's memcheck and the must-fail suite under an address-space limit.
# Installs Debian packages with apt (via sudo when not root) only when
# missing, and the test runtimes in tests/node with npm from the lockfile.
# BUILD_DIR (default: build) chooses the Meson build folder.
set -eu
cd "$(dirname "$0")/.."
job=${1:-run}
build=${BUILD_DIR:-build}

case $job in
run | test | memcheck) ;;
*)
	echo "usage: tools/bootstrap.sh [run|test|memcheck]" >&2
	exit 2
	;;
esac

sudo=
[ "$(id -u)" = 0 ] || sudo=sudo

# Debian packages: the build (meson, cJSON, xxHash, zlib), the tests' ground
# truth (python3-onnx, libonnx-testdata, numpy), the browser for WebGPU,
# Node for the reference runtimes, clang for the libFuzzer targets, valgrind
# for the memory checks.
pkgs="build-essential meson ninja-build pkg-config libcjson-dev libxxhash-dev zlib1g-dev nodejs npm"
[ "$job" = run ] || pkgs="$pkgs git python3 python3-numpy python3-onnx libonnx-testdata \
	chromium clang libclang-rt-14-dev cmake espeak-ng valgrind"
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

if [ "$job" != run ] && { [ ! -f tests/node/node_modules/.package-lock.json ] ||
	[ tests/node/package-lock.json -nt tests/node/node_modules/.package-lock.json ]; }; then
	# onnxruntime-node's postinstall would download; its Linux library ships
	# inside the package, so skip that step.
	(cd tests/node && ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --loglevel=error)
fi

# The test job builds every port (the default job only the vendored model).
models=face-detection
[ "$job" = test ] && models=face-detection,openwakeword,llama
if [ "$job" = memcheck ] && [ -f "$build/build.ninja" ]; then
	: # as it is configured: the checks need only the tools and the tests
elif [ -f "$build/build.ninja" ]; then
	meson configure "$build" -Dmodels="$models" >/dev/null
else
	meson setup "$build" -Dmodels="$models" >/dev/null
fi
meson compile -C "$build"

# The memory checks: every test below must be clean (tests/reliability/
# checked_run.py fails a test on any sanitizer or memcheck report from our
# programs).  About 8 minutes on 2 cores; the subset and why: README "Tests".
memcheck() {
	t0=$(date +%s)
	asan=${ASAN_BUILD_DIR:-$build-asan}
	# the fetched test data of BUILD_DIR, shared
	cache=$(meson introspect "$build" --buildoptions | python3 -c '
import json, sys
print(next((o["value"] for o in json.load(sys.stdin) if o["name"] == "cache_dir"), ""))')
	[ -n "$cache" ] || cache=$(cd "$build" && pwd)/cache
	[ -f "$asan/build.ninja" ] ||
		meson setup "$asan" -Db_sanitize=address,undefined -Dmodels= -Dcache_dir="$cache" \
			>/dev/null
	meson compile -C "$asan"
	mt="meson test --print-errorlogs --num-processes 2"
	rc=0 # every step runs; any failure fails the job at the end
	# ASan + UBSan + LeakSanitizer: whole suites, then the cheap tests of
	# the others (not the gguf-py / python-onnx comparisons, whose time is
	# in Python, nor the slow browser suites)
	$mt -C "$asan" --setup asan --suite unit --suite fuzz --suite check --suite golden \
		--suite cache --suite must-fail || rc=1
	$mt -C "$asan" --setup asan extract-unit extract-cli extract-quant extract-openwakeword \
		extract-gguf-vs-gguf-py extract-onnx-testdata pack-vs-gguf-py pack-wgsl-unpack \
		task-zip tflite-io-vs-litert tflite-expose-vs-litert onnx-expose-vs-ort tools-run || rc=1
	# valgrind memcheck (on BUILD_DIR, no sanitizer): the C unit tests,
	# golden, check, the fuzz corpora, every tool on small real inputs
	$mt -C "$build" --setup valgrind core half-vs-numpy tools-run || rc=1
	$mt -C "$build" --setup valgrind --suite golden --suite check --suite fuzz || rc=1
	# must-fail with each run's address space limited to its input + 16 MiB
	$mt -C "$build" --setup ulimit --suite must-fail || rc=1
	echo "bootstrap: memory checks (asan, valgrind, ulimit): $(($(date +%s) - t0)) s"
	return $rc
}

if [ "$job" = memcheck ]; then
	memcheck
	exit 0
fi

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
	memcheck
fi
