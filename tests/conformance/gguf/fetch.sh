#!/bin/sh
# Fetches llama.cpp's source as node-llama-cpp 3.22.1 ships it (a git
# bundle inside the npm tarball): gguf-py/ and the 19 tokenizer-only
# models/ggml-vocab-*.gguf.  Result: $M2W_CACHE/llama.cpp.  Pinned by the
# tarball's sha256 and the bundle's commit; does nothing when done before.
set -eu

: "${M2W_CACHE:?set M2W_CACHE to a cache directory}"
version=3.22.1
tgz_sha256=a0d9dd80eacd2ab1cfe71aee57ac8a806487fd70b3d2a38fbec637752d9e5c5f
commit=de3ff815ea7d559ee917f063901b8986f038abc6
tgz=$M2W_CACHE/node-llama-cpp-$version.tgz
dest=$M2W_CACHE/llama.cpp

if [ -f "$dest/.m2w-fetched-$commit" ]; then
	exit 0
fi
mkdir -p "$M2W_CACHE"
if [ ! -f "$tgz" ]; then
	npm pack --silent --pack-destination "$M2W_CACHE" "node-llama-cpp@$version" >/dev/null
fi
echo "$tgz_sha256  $tgz" | sha256sum -c --quiet -

tmp=$(mktemp -d "$M2W_CACHE/llama.cpp.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
tar xzf "$tgz" -C "$tmp" package/llama/gitRelease.bundle
git -c advice.detachedHead=false clone -q --depth 1 \
	"$tmp/package/llama/gitRelease.bundle" "$tmp/llama.cpp"
got=$(git -C "$tmp/llama.cpp" rev-parse HEAD)
if [ "$got" != "$commit" ]; then
	echo "fetch.sh: bundle is at $got, expected $commit" >&2
	exit 1
fi
touch "$tmp/llama.cpp/.m2w-fetched-$commit"
rm -rf "$dest"
mv "$tmp/llama.cpp" "$dest"
