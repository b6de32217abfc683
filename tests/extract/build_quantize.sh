#!/bin/sh
# Builds llama.cpp's llama-quantize (only that target) from the source that
# tests/conformance/gguf/fetch.sh puts in $M2W_CACHE/llama.cpp, into
# $M2W_CACHE/llama-build; does nothing when the binary is already there.
# Portable build (GGML_NATIVE=OFF), no network features, Release, -j2.
# Exit 77 (skip) with the reason when cmake, a C++ compiler or the source
# is missing or the build fails; prints the binary's path on success.
set -u
: "${M2W_CACHE:?set M2W_CACHE to a cache directory}"
src=$M2W_CACHE/llama.cpp
build=$M2W_CACHE/llama-build
bin=$build/bin/llama-quantize

skip() { echo "SKIP: $*" >&2; exit 77; }

if [ -x "$bin" ]; then
	echo "$bin"
	exit 0
fi
if [ ! -f "$src/CMakeLists.txt" ]; then
	here=$(dirname "$0")
	sh "$here/../conformance/gguf/fetch.sh" >&2 || skip "cannot fetch llama.cpp (tests/conformance/gguf/fetch.sh failed)"
fi
command -v cmake >/dev/null 2>&1 || skip "cmake not found"
command -v c++ >/dev/null 2>&1 || command -v g++ >/dev/null 2>&1 || skip "no C++ compiler"
gen=
command -v ninja >/dev/null 2>&1 && gen="-G Ninja"
# LLAMA_CURL is the older releases' switch, LLAMA_OPENSSL the newer ones'.
cmake -S "$src" -B "$build" $gen -DCMAKE_BUILD_TYPE=Release \
	-DGGML_NATIVE=OFF -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF \
	-DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF \
	-DLLAMA_BUILD_TOOLS=ON -DBUILD_SHARED_LIBS=OFF -Wno-dev >&2 ||
	skip "cmake configure of llama.cpp failed"
cmake --build "$build" --target llama-quantize -j2 >&2 || skip "building llama-quantize failed"
[ -x "$bin" ] || skip "llama-quantize not found at $bin after the build"
echo "$bin"
