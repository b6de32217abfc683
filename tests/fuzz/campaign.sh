#!/bin/bash
# The libFuzzer campaign of issue 11: every parser target under ASan+UBSan,
# one after the other, then a source-based coverage build that replays each
# target's corpus and reports the coverage of that parser's source files.
#
#   tests/fuzz/campaign.sh [-t SECONDS] [-o OUTDIR] [-n] [TARGET...]
#
#   -t SECONDS   fuzzing time per target (default 600)
#   -o OUTDIR    work folder (default build-fuzz/campaign): logs, the
#                grown corpora, crash artifacts, coverage, table.md
#   -n           do not merge new inputs into tests/fuzz/corpus
#   -c           coverage only (no fuzzing): replay what OUTDIR has
#   -m           merge only (no fuzzing): OUTDIR's corpora into tests/fuzz/corpus
#   TARGET       onnx gguf tflite task npy onnxpb wgsl json (default: all)
#
# Environment: CACHE (test data, default build/cache) for the extra seeds
# (the real models of MODELS.md, too large for git), JOBS (ninja -j, 2),
# MERGE_MAX (largest new input merged into the committed corpus, 32768).
# Run it under nice on a shared machine:  nice -n 10 tests/fuzz/campaign.sh
# Crashes are kept in OUTDIR/artifacts/TARGET/; once fixed, copy the input to
# tests/fuzz/crashes/TARGET/ (replayed by `meson test --suite fuzz`).
set -u
cd "$(dirname "$0")/../.."
ROOT=$PWD
T=600
OUT=build-fuzz/campaign
MERGE=1
FUZZ=1
MERGE_ONLY=0
while getopts "t:o:ncm" opt; do
	case $opt in
	t) T=$OPTARG ;;
	o) OUT=$OPTARG ;;
	n) MERGE=0 ;;
	c) FUZZ=0 ;;
	m) FUZZ=0 MERGE_ONLY=1 ;;
	*) sed -n '2,23p' "$0"; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
TARGETS=${*:-onnx gguf tflite task npy onnxpb wgsl json}
CACHE=${CACHE:-$ROOT/build/cache}
JOBS=${JOBS:-2}
MERGE_MAX=${MERGE_MAX:-32768}
ONNX_NODE=/usr/lib/python3/dist-packages/onnx/backend/test/data/node
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

for tool in llvm-profdata llvm-cov; do
	for c in /usr/bin/$tool-14 /usr/lib/llvm-14/bin/$tool "$(command -v $tool)"; do
		[ -x "$c" ] && { eval "${tool//-/_}=$c"; break; }
	done
done
[ -n "${llvm_cov:-}" ] && [ -n "${llvm_profdata:-}" ] ||
	{ echo "campaign: llvm-cov / llvm-profdata not found (apt install llvm-14)"; exit 1; }
command -v clang >/dev/null || { echo "campaign: needs clang"; exit 1; }

# The source files each target exercises (for its coverage figure).
sources() {
	case $1 in
	onnx) echo tools/lib/onnx.c tools/lib/describe_onnx.c tools/lib/extract_onnx.c ;;
	gguf) echo tools/lib/gguf.c tools/lib/describe_gguf.c tools/lib/extract_gguf.c \
		tools/lib/tokenizer.c tools/lib/pack.c tools/lib/pack_layout.c ;;
	tflite) echo tools/lib/tflite.c tools/lib/flatbuf.c tools/lib/describe_tflite.c \
		tools/lib/extract_tflite.c ;;
	task) echo tools/lib/zip.c ;;
	npy) echo tools/lib/npy.c ;;
	onnxpb) echo tools/lib/onnx.c tools/lib/describe_onnx.c ;;
	wgsl) echo tools/lib/wgsl.c ;;
	json) echo tools/lib/check.c tools/lib/pack_unpack.c tools/lib/cache.c ;;
	esac
}

# Extra seeds: real models and fixtures that stay out of git.
extra_seeds() {
	local t=$1 d=$OUT/seeds/$1
	rm -rf "$d"
	mkdir -p "$d"
	case $t in
	onnx)
		cp "$CACHE"/openwakeword/package/models/*.onnx "$d"/ 2>/dev/null
		# the ONNX node tests: one model per operator
		if [ -d "$ONNX_NODE" ]; then
			for m in "$ONNX_NODE"/*/model.onnx; do
				cp "$m" "$d/$(basename "$(dirname "$m")").onnx"
			done
		fi ;;
	onnxpb)
		if [ -d "$ONNX_NODE" ]; then
			for m in "$ONNX_NODE"/*/test_data_set_0/*.pb; do
				cp "$m" "$d/$(basename "$(dirname "$(dirname "$m")")")-$(basename "$m")"
			done
		fi ;;
	gguf)
		cp "$CACHE"/llama.cpp/models/ggml-vocab-*.gguf "$d"/ 2>/dev/null
		cp "$CACHE"/llama-models/tiny-spm-q4_0.gguf "$CACHE"/llama-models/tiny-spm-q8_0.gguf \
			"$d"/ 2>/dev/null ;;
	tflite)
		cp "$CACHE"/mediapipe-face/package/*.tflite "$CACHE"/openwakeword/package/models/*.tflite \
			"$d"/ 2>/dev/null ;;
	task)
		# a real .task: the face detector zipped the way MediaPipe ships it
		/usr/bin/python3 - "$CACHE/mediapipe-face/package" "$d" <<'EOF'
import os, sys, zipfile
src, d = sys.argv[1], sys.argv[2]
m = os.path.join(src, "face_detection_short_range.tflite")
if os.path.exists(m):
    for name, comp in (("stored", zipfile.ZIP_STORED), ("deflate", zipfile.ZIP_DEFLATED)):
        with zipfile.ZipFile(os.path.join(d, f"face-{name}.task"), "w", comp) as z:
            z.write(m, "face_detector.tflite")
            z.writestr("metadata.json", '{"name": "face"}')
EOF
		;;
	npy)
		find "$ROOT"/build/tests -name '*.npy' -size -64k 2>/dev/null | head -200 |
			while read -r f; do cp "$f" "$d/$(echo "$f" | md5sum | cut -c1-12).npy"; done ;;
	wgsl)
		cp "$ROOT"/shaders/*.wgsl "$d"/ ;;
	json)
		for n in weights.json shards.json tolerances.json manifest.json tokenizer.json; do
			find "$ROOT"/build/tests "$ROOT"/build/models -name "$n" -size -256k 2>/dev/null |
				head -20 | while read -r f; do
					cp "$f" "$d/$(echo "$f" | md5sum | cut -c1-12)-$n"
				done
		done ;;
	esac
	find "$d" -type f | wc -l
}

fuzz_build() {
	if [ ! -f build-fuzz/build.ninja ]; then
		CC=clang meson setup build-fuzz -Dcache_dir="$CACHE" -Dmodels= -Dfuzzing=enabled \
			>"$OUT/setup-fuzz.log" 2>&1 || { cat "$OUT/setup-fuzz.log"; exit 1; }
	fi
	if ! ninja -C build-fuzz -j"$JOBS" $(for t in $TARGETS; do echo tests/fuzz/fuzz-$t; done) \
		>"$OUT/build-fuzz.log" 2>&1; then
		tail -30 "$OUT/build-fuzz.log"
		for t in $TARGETS; do [ -x build-fuzz/tests/fuzz/fuzz-$t ] || exit 1; done
		echo "campaign: warning: build failed, fuzzing the binaries already built" >&2
	fi
}

cov_build() {
	local f='-fprofile-instr-generate -fcoverage-mapping'
	if [ ! -f build-cov/build.ninja ]; then
		CC=clang meson setup build-cov -Dcache_dir="$CACHE" -Dmodels= -Dfuzzing=disabled \
			-Dc_args="$f" -Dc_link_args="$f" >"$OUT/setup-cov.log" 2>&1 ||
			{ cat "$OUT/setup-cov.log"; exit 1; }
	fi
	if ! ninja -C build-cov -j"$JOBS" $(for t in $TARGETS; do echo tests/fuzz/fuzz-$t; done) \
		>"$OUT/build-cov.log" 2>&1; then
		tail -30 "$OUT/build-cov.log"
		for t in $TARGETS; do [ -x build-cov/tests/fuzz/fuzz-$t ] || exit 1; done
		echo "campaign: warning: build failed, replaying with the binaries already built" >&2
	fi
}

stat_of() { grep -o "stat::$1: *[0-9.]*" "$2" | awk '{s += $2} END {print s + 0}'; }

fuzz_one() {
	local t=$1 exe=build-fuzz/tests/fuzz/fuzz-$1 work=$OUT/corpus/$1 art=$OUT/artifacts/$1/
	local log=$OUT/$t.log dict=() left=$T start=$(date +%s) runs=0
	mkdir -p "$work" "$art"
	[ -f tests/fuzz/dict/$t.dict ] && dict=(-dict=tests/fuzz/dict/$t.dict)
	local seeds=(tests/fuzz/corpus/$t "$OUT/seeds/$t")
	[ -d tests/fuzz/crashes/$t ] && seeds+=(tests/fuzz/crashes/$t)
	echo "== $t: $(extra_seeds "$t") extra seeds, ${T}s" >&2
	: >"$log"
	# a crash stops libFuzzer: note it and go on for the time that is left
	while [ "$left" -gt 5 ] && [ "$runs" -lt 20 ]; do
		runs=$((runs + 1))
		"$exe" -max_total_time="$left" -print_final_stats=1 -rss_limit_mb=2048 -timeout=10 \
			-malloc_limit_mb=2048 -max_len=1200000 -artifact_prefix="$art" "${dict[@]}" \
			"$work" "${seeds[@]}" >>"$log" 2>&1
		echo "== exit $?" >>"$log"
		left=$((T - ($(date +%s) - start)))
	done
	echo $(($(date +%s) - start)) >"$OUT/$t.time"
	# scratch folders of runs that crashed (no atexit cleanup then)
	find /dev/shm /tmp -maxdepth 1 -name 'm2w-fuzz-*' -mmin +10 -exec rm -rf {} + 2>/dev/null
}

merge_one() {
	local t=$1 exe=build-fuzz/tests/fuzz/fuzz-$1 stage=$OUT/stage/$1
	rm -rf "$stage"
	mkdir -p "$stage"
	# the grown corpus and the extra seeds, the small ones: merge keeps those
	# that add coverage to what tests/fuzz/corpus has
	find "$OUT/corpus/$t" "$OUT/seeds/$t" -type f -size -"$((MERGE_MAX + 1))"c \
		-exec cp {} "$stage"/ \;
	local before=$(ls tests/fuzz/corpus/$t | wc -l)
	"$exe" -merge=1 -rss_limit_mb=2048 -timeout=10 tests/fuzz/corpus/$t "$stage" \
		>"$OUT/$t.merge.log" 2>&1
	echo $(($(ls tests/fuzz/corpus/$t | wc -l) - before))
}

cov_one() {
	local t=$1 exe=build-cov/tests/fuzz/fuzz-$1 d=$OUT/cov/$1
	rm -rf "$d"
	mkdir -p "$d"
	local dirs=(tests/fuzz/corpus/$t "$OUT/corpus/$t" "$OUT/seeds/$t")
	[ -d tests/fuzz/crashes/$t ] && dirs+=(tests/fuzz/crashes/$t)
	find "${dirs[@]}" -type f 2>/dev/null | sort >"$d/files"
	# batches, so one crash (coverage builds have no sanitizer) loses little
	split -l 200 "$d/files" "$d/batch."
	for b in "$d"/batch.*; do
		LLVM_PROFILE_FILE="$d/%p.profraw" timeout 600 xargs -a "$b" -d '\n' "$exe" \
			>/dev/null 2>>"$d/replay.log"
	done
	"$llvm_profdata" merge -sparse "$d"/*.profraw -o "$d/all.profdata" 2>>"$d/replay.log"
	rm -f "$d"/*.profraw
	"$llvm_cov" report "$exe" -instr-profile="$d/all.profdata" >"$d/report.txt" 2>&1
	# FILE regions missed cover% functions missed executed% lines missed cover% ...:
	# the sum over the target's parser files
	awk -v files=" $(sources "$t") " 'index(files, " " $1 " ") {
		r += $2; rm += $3; l += $8; lm += $9 }
		END { if (r && l) printf "%.1f%% %.1f%%\n", 100 * (r - rm) / r, 100 * (l - lm) / l }' \
		"$d/report.txt"
}

[ "$FUZZ" = 1 ] && fuzz_build
if [ "$MERGE_ONLY" = 1 ]; then
	fuzz_build
	for t in $TARGETS; do
		[ -d "$OUT/seeds/$t" ] || extra_seeds "$t" >/dev/null
		echo "$t: $(merge_one "$t") inputs merged into tests/fuzz/corpus/$t"
	done
	exit 0
fi
TABLE=$OUT/table.md
{
	echo "Fuzzing: ${T}s per target, $(nproc)-core machine, one target at a time ($(date -u +%F))."
	echo
	echo "| target | execs | time s | exec/s | corpus (files) | new merged | crashes | cov | ft | lines | regions |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
} >"$TABLE"
for t in $TARGETS; do
	log=$OUT/$t.log
	if [ "$FUZZ" = 1 ]; then
		fuzz_one "$t"
		merged=$([ "$MERGE" = 1 ] && merge_one "$t" || echo -)
	else
		merged=-
	fi
	[ -f "$log" ] || : >"$log"
	execs=$(stat_of number_of_executed_units "$log")
	secs=$(cat "$OUT/$t.time" 2>/dev/null || echo 0)
	crashes=$(ls "$OUT/artifacts/$t" 2>/dev/null | wc -l)
	cf=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -1)
	cov=$(echo "$cf" | awk '{print $2}')
	ft=$(echo "$cf" | awk '{print $4}')
	ncorp=$(find "tests/fuzz/corpus/$t" "$OUT/corpus/$t" -type f 2>/dev/null | wc -l)
	[ -n "${cov_built:-}" ] || { cov_build; cov_built=1; }
	read -r regions lines < <(cov_one "$t")
	echo "| $t | $execs | $secs | $((execs / (secs > 0 ? secs : 1))) | $ncorp | $merged |" \
		"$crashes | ${cov:--} | ${ft:--} | ${lines:--} | ${regions:--} |" >>"$TABLE"
	echo "   $t: $execs execs, $crashes crash artifacts, lines ${lines:--}" >&2
done
echo
cat "$TABLE"
echo "Per-file coverage: $OUT/cov/TARGET/report.txt; crashes: $OUT/artifacts/"
