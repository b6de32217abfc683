/* m2w-pack: a GGUF (or an m2w-extract weights.json) into GPU-ready,
 * per-layer shards for HTTP Range loading, plus the tokenizer.
 *
 *   m2w-pack [OPTION]... MODEL.gguf|weights.json -o DIR
 *   m2w-pack --unpack OUT.npy TENSOR DIR
 *
 * DIR gets shards.json, one shard file per layer ("layer.N.bin", tensors
 * named blk.N.* or layers.N.*), "other.bin" for the rest, and for a GGUF
 * with a vocabulary tokenizer.json (format in lib/tokenizer.h).  With
 * --one-file the shards lie back to back in "model.bin" instead; each
 * shard's byte range is then one Range request.
 *
 * Stored layouts (all little-endian; a shader binds the data as array<u32>):
 *
 *   q8_0  from ggml Q8_0 (34-byte blocks: f16 d, int8 q[32]).  Each block
 *         of 32 weights becomes 9 u32 words (36 bytes):
 *           word 0      d widened to f32 (exact), as its bits
 *           word 1 + w  q[4w] | q[4w+1] << 8 | q[4w+2] << 16 | q[4w+3] << 24
 *                       (w = 0..7; the int8 bytes in element order)
 *         weight e = d * sign_extend(byte e % 4 of word 1 + e / 4).
 *   q4_0  from ggml Q4_0 (18-byte blocks: f16 d, u8 qs[16]).  Each block
 *         of 32 weights becomes 5 u32 words (20 bytes):
 *           word 0      d widened to f32, as its bits
 *           word 1 + w  qs[4w] | qs[4w+1] << 8 | qs[4w+2] << 16 | qs[4w+3] << 24
 *                       (w = 0..3; ggml's nibble bytes unchanged)
 *         weight e, e < 16:  nibble = word[1 + e/4] >> (8*(e%4))     & 15
 *         weight e, e >= 16: nibble = word[1 + (e-16)/4] >> (8*(e%4) + 4) & 15
 *         (so byte j holds weights j (low nibble) and j + 16 (high nibble),
 *         exactly as in ggml); weight e = d * (nibble - 8).
 *         A row of K weights (ggml's ne[0]) is K/32 consecutive blocks, rows
 *         consecutive: block b of row r starts at word (r * K/32 + b) * 9
 *         (q8_0) or * 5 (q4_0).  shaders/linear_q8.wgsl, linear_q4.wgsl and
 *         embedding_lookup_q8.wgsl read exactly these layouts.
 *   f32, f16  row-major elements.  --float keep (default) keeps f32 and f16
 *         and widens bf16 and f64 to f32 (WGSL has neither); --float f32 or
 *         f16 casts every float tensor (f16: round to nearest even, overflow
 *         to inf counted and warned).
 *   other ggml block types (q4_1 q5_0 q5_1 q2_k..q6_k) are dequantized to
 *         f32 (f16 with --float f16) with ggml's own arithmetic, bit for bit
 *         gguf-py's dequantize(); or, with --requant q8_0, quantized again
 *         to Q8_0 with ggml's reference quantizer and stored as q8_0 above
 *         ("requantized": true; lossy, about 8.5 bits a weight), so that a
 *         llama-quantize Q4_0 model's Q6_K embedding stays quantized.  A
 *         dequantized tensor of 64 MiB or more gets a warning.  Types with
 *         no dequantizer (iq*, tq*, mxfp4 ...) are refused with the list of
 *         supported ones.
 *   integers (i8 ... i64, bool, u8 ...) are copied.
 *   Q8_0 / Q4_0 stay quantized whatever --float says: embeddings included
 *   (an f32 copy of a 262k-token embedding would cost 671 MB).
 *
 * Placement: each tensor starts at a multiple of 256 bytes from its shard's
 * start (WebGPU's minStorageBufferOffsetAlignment); a tensor over
 * --max-binding bytes (default 128 MiB, WebGPU's default
 * maxStorageBufferBindingSize) is cut into chunks of whole rows, each
 * starting 256-aligned and at most --max-binding bytes.  Padding is zeros;
 * a shard's length is a multiple of 256, so binding a tensor's bytes
 * rounded up to 4 never reads past its shard.  A tensor with the type,
 * shape and bytes of an earlier one is stored once and listed as an alias;
 * a GGUF without output.weight gets an alias output.weight ->
 * token_embd.weight ("tied": true).
 *
 * shards.json:
 *   { "format": "m2w-pack", "version": 1, "source", "source_format",
 *     "alignment": 256, "max_binding", "float": "keep" | "f32" | "f16",
 *     "requant": "none" | "q8_0",
 *     "layouts": { "q8_0": {"block": 32, "words": 9, "doc"}, "q4_0": {...} },
 *     "config": { "arch", "hidden_size", "layers", "heads", "kv_heads",
 *                 "head_dim", "value_dim", "ffn_size", "context_length",
 *                 "rope_base", "rope_dims", "norm_eps", "norm": "rms" |
 *                 "layer", "vocab_size", "defaults": [names filled in with
 *                 llama.cpp's defaults], "metadata": {every scalar
 *                 "<arch>.*" key} },                        GGUF only
 *     "tokenizer": "tokenizer.json",                        when written
 *     "tokenizer_xxh3": "<16 hex>",                         its xxh3 (--verify)
 *     "shards": [ {"name": "other" | "layer.N", "layer": N, "file",
 *                  "offset", "bytes", "xxh3"} ],             file byte range
 *     "tensors": [ {"name", "shard": index, "offset", "bytes", "shape",
 *                   "dtype": q8_0 | q4_0 | f32 | f16 | <int>, "source_dtype",
 *                   "requantized": true,              (--requant q8_0)
 *                   "chunks": [{"offset", "bytes", "row", "rows"}],
 *                   "f16_overflow"}
 *                | {"name", "alias": "<stored tensor>", "tied"} ] }
 *   Tensor and chunk offsets count from the shard's start (add the shard's
 *   "offset" for the position in its file); "shape" is row-major (GGUF ne
 *   reversed); "chunks" appears only for split tensors.
 *
 * Outputs are written atomically and only when their bytes change; the
 * same input gives byte-identical outputs.  Each file is atomic, but a
 * build killed between two of them can leave an old manifest beside new
 * data of the same size; `m2w-pack --verify MANIFEST` checks a
 * shards.json (every shard's byte range against its "xxh3", every shard
 * file's size) or an m2w-extract weights.json (its blob's "bytes" and
 * "xxh3"; the blob is --blob or the manifest's .bin) and exits 1 naming
 * FILE:0xOFFSET of the first mismatch.  Packing a weights.json runs the
 * same check on its blob first, and m2w-package refuses such a pair.  Shard files of an earlier run
 * that this run does not write are left alone.
 *
 * Result cache (--cache-dir DIR, else $M2W_CACHE_DIR when set and not
 * empty; --no-cache turns both off; lib/cache.h has the layout): the key is
 * the tool and its executable, --float, --max-binding, --one-file,
 * --requant, the input's file name (shards.json records it) and the input's
 * bytes; a weights.json's blob is checked by content on lookup.  The entry
 * holds every file shards.json lists, shards.json and tokenizer.json; a hit
 * writes them into DIR write-if-changed and writes the depfile.  Warnings
 * of the original run are not repeated.  Each lookup appends
 * "hit|miss m2w-pack KEY INPUT" to DIR/log.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cache.h"
#include "pack.h"

static const char *prog = "m2w-pack";

static void usage(FILE *fp)
{
	fprintf(fp,
		"Usage: %s [OPTION]... MODEL.gguf|weights.json -o DIR\n"
		"       %s --unpack OUT.npy TENSOR DIR\n"
		"       %s --verify MANIFEST [--blob FILE]\n"
		"Pack a model's tensors into GPU-ready per-layer shards (Q8_0 and Q4_0 kept\n"
		"quantized as u32 words, 256-byte aligned, split at --max-binding) and write\n"
		"DIR/shards.json and, from GGUF metadata, DIR/tokenizer.json.\n"
		"\n"
		"  -o, --output DIR         the output directory (made with its parents)\n"
		"      --float keep|f32|f16 float tensors: keep f32/f16 (bf16, f64 -> f32; the\n"
		"                           default), or cast all to f32 or to f16\n"
		"      --max-binding BYTES  split tensors larger than this (default 128M; k, M,\n"
		"                           G suffixes are powers of 1024; at least 256)\n"
		"      --one-file           all shards back to back in DIR/model.bin\n"
		"      --requant none|q8_0  other ggml block types (q6_k, q4_k ...): dequantize\n"
		"                           to floats (none, the default) or re-quantize to\n"
		"                           packed Q8_0 (lossy, stays quantized on the GPU)\n"
		"      --blob FILE          the blob of a weights.json (default: its .bin)\n"
		"      --unpack OUT.npy TENSOR\n"
		"                           read TENSOR back from the packed DIR as f32 (integer\n"
		"                           tensors keep their dtype) into OUT.npy\n"
		"      --verify MANIFEST    check that the files a shards.json or weights.json\n"
		"                           names hold the sizes and xxh3 it records (a build\n"
		"                           killed between writing them leaves a torn pair)\n"
		"      --depfile FILE       write a make-style depfile (target DIR/shards.json)\n"
		"      --cache-dir CDIR     reuse results from the content-addressed cache CDIR\n"
		"                           (default $M2W_CACHE_DIR when set): keyed by this\n"
		"                           executable, the options and the input bytes; a hit\n"
		"                           copies the stored files into DIR; every lookup\n"
		"                           appends \"hit|miss TOOL KEY INPUT\" to CDIR/log\n"
		"      --no-cache           ignore --cache-dir and $M2W_CACHE_DIR\n"
		"  -q, --quiet              no warnings\n"
		"  -h, --help               show this help and exit\n"
		"  -V, --version            show the version and exit\n"
		"\n"
		"Exit status: 0 success, 1 bad input or I/O error, 2 usage error.\n",
		prog, prog, prog);
}

static int fail(const struct m2w_diag *d)
{
	char buf[768];
	m2w_diag_format(d, buf, sizeof buf);
	fprintf(stderr, "%s: %s\n", prog, buf);
	return 1;
}

static void warn(void *ctx, const char *msg)
{
	fprintf(stderr, "%s: %s: warning: %s\n", prog, (const char *)ctx, msg);
}

static bool parse_size(const char *s, uint64_t *v)
{
	char *end;
	errno = 0;
	unsigned long long n = strtoull(s, &end, 10);
	unsigned shift = 0;

	if (errno || end == s || *s == '-')
		return false;
	if (*end == 'k' || *end == 'K')
		shift = 10, end++;
	else if (*end == 'M')
		shift = 20, end++;
	else if (*end == 'G')
		shift = 30, end++;
	if (*end || n > (UINT64_MAX >> shift))
		return false;
	*v = (uint64_t)n << shift;
	return true;
}

/* ---- --verify: a manifest against the files it describes ---- */

static bool hex64(const char *s, uint64_t *v)
{
	char *end;

	if (!s || strlen(s) != 16 || strspn(s, "0123456789abcdef") != 16)
		return false;
	*v = strtoull(s, &end, 16);
	return !*end;
}

static bool num_u64(const cJSON *j, uint64_t *v)
{
	if (!cJSON_IsNumber(j) || !(j->valuedouble >= 0) || j->valuedouble > 9007199254740992.0 ||
	    j->valuedouble != (double)(uint64_t)j->valuedouble)
		return false;
	*v = (uint64_t)j->valuedouble;
	return true;
}

/* The byte range [off, off + bytes) of the mapped FILE against WANT (the
 * manifest's "xxh3"); when whole, also the file's size against off + bytes.
 * Errors give the range's offset; d->file names the data file already. */
static int verify_range(const struct m2w_file *f, uint64_t off, uint64_t bytes, const char *want,
	bool whole, const char *manifest, struct m2w_diag *d)
{
	static const char fix[] = "the two were written by different runs (a build killed "
				  "between them); fix: re-run the build";
	uint64_t w;
	char have[17];

	if (!hex64(want, &w))
		return m2w_err(d, off, "%s gives no valid \"xxh3\" for these bytes", manifest);
	if (off > f->size || bytes > f->size - off)
		return m2w_err(d, f->size, "the file ends at 0x%zx, %s puts %llu bytes at 0x%llx; %s",
			f->size, manifest, (unsigned long long)bytes, (unsigned long long)off, fix);
	if (whole && off + bytes != f->size)
		return m2w_err(d, off + bytes, "the file is %zu bytes, %s says %llu; %s", f->size,
			manifest, (unsigned long long)(off + bytes), fix);
	m2w_xxh3_hex(m2w_xxh3(f->data ? f->data + off : (const uint8_t *)"", (size_t)bytes), have);
	if (strcmp(have, want))
		return m2w_err(d, off, "%llu bytes hash to xxh3 %s, %s records %s; %s",
			(unsigned long long)bytes, have, manifest, want, fix);
	return 0;
}

/* MANIFEST's directory joined with NAME (a plain file name). */
static char *sibling(const char *manifest, const char *name)
{
	const char *slash = strrchr(manifest, '/');
	size_t dn = slash ? (size_t)(slash - manifest) + 1 : 0;
	char *p = malloc(dn + strlen(name) + 1);

	if (p) {
		memcpy(p, manifest, dn);
		strcpy(p + dn, name);
	}
	return p;
}

/* The default blob of a weights.json: the same path with .bin for its
 * extension (as the pack step reads it). */
static char *blob_of(const char *manifest)
{
	const char *slash = strrchr(manifest, '/'), *dot = strrchr(manifest, '.');
	size_t n = dot && (!slash || dot > slash) ? (size_t)(dot - manifest) : strlen(manifest);
	char *p = malloc(n + 5);

	if (p) {
		memcpy(p, manifest, n);
		strcpy(p + n, ".bin");
	}
	return p;
}

/* Checks MANIFEST (shards.json or weights.json) against its data files.
 * 0: they agree; 1: not a manifest this checks (only with lenient, which
 * the pack step uses before reading a weights.json: its own parser then
 * reports); -1: an error in d.  *hold keeps the path d->file points to. */
static int verify_manifest(const char *manifest, const char *blob, bool lenient, char **hold,
	struct m2w_diag *d)
{
	struct m2w_file mf, df = {0};
	cJSON *j = NULL;
	const cJSON *shards, *e;
	int rc = -1;

	*hold = NULL;
	m2w_diag_init(d, manifest);
	if (m2w_file_map(&mf, manifest, d) < 0)
		return lenient ? 1 : -1;
	j = cJSON_ParseWithLength((const char *)mf.data, mf.size);
	shards = cJSON_GetObjectItemCaseSensitive(j, "shards");
	if (cJSON_IsArray(shards) && !lenient) {
		/* shards.json: every shard's range, then every file's size */
		const char *prev = NULL;
		uint64_t prev_end = 0;
		cJSON_ArrayForEach(e, shards) {
			const char *file = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "file"));
			uint64_t off, bytes;
			if (!file || !*file || strchr(file, '/') || file[0] == '.' ||
			    !num_u64(cJSON_GetObjectItemCaseSensitive(e, "offset"), &off) ||
			    !num_u64(cJSON_GetObjectItemCaseSensitive(e, "bytes"), &bytes)) {
				m2w_err(d, m2w_json_pos(mf.data, mf.size, "shards"),
					"a shard without a plain \"file\" name, "
					"\"offset\" and \"bytes\"");
				goto out;
			}
			if (!prev || strcmp(prev, file)) {
				/* the previous file ends with its last shard (--one-file: shards
				 * lie back to back in one file) */
				if (prev && prev_end != df.size) {
					d->file = *hold;
					m2w_err(d, prev_end, "the file is %zu bytes, its last shard in %s "
						"ends at %llu; the two were written by different runs (a build "
						"killed between them); fix: re-run the build", df.size, manifest,
						(unsigned long long)prev_end);
					goto out;
				}
				m2w_file_unmap(&df);
				free(*hold);
				if (!(*hold = sibling(manifest, file))) {
					m2w_err(d, M2W_NO_OFFSET, "out of memory");
					goto out;
				}
				d->file = *hold;
				if (m2w_file_map(&df, *hold, d) < 0)
					goto out;
				prev = file;
			}
			if (verify_range(&df, off, bytes,
				cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "xxh3")),
				false, manifest, d) < 0)
				goto out;
			prev_end = off + bytes;
		}
		if (prev && prev_end != df.size) {
			d->file = *hold;
			m2w_err(d, prev_end, "the file is %zu bytes, its last shard in %s ends at %llu; "
				"the two were written by different runs (a build killed between them); "
				"fix: re-run the build", df.size, manifest, (unsigned long long)prev_end);
			goto out;
		}
		/* the tokenizer, whole, when the manifest records its hash */
		const char *tok = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "tokenizer"));
		const char *tok_xxh3 = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "tokenizer_xxh3"));
		if (tok && tok_xxh3) {
			if (!*tok || strchr(tok, '/') || tok[0] == '.') {
				m2w_err(d, m2w_json_pos(mf.data, mf.size, "tokenizer"),
					"\"tokenizer\" is not a plain file name");
				goto out;
			}
			m2w_file_unmap(&df);
			free(*hold);
			if (!(*hold = sibling(manifest, tok))) {
				m2w_err(d, M2W_NO_OFFSET, "out of memory");
				goto out;
			}
			d->file = *hold;
			if (m2w_file_map(&df, *hold, d) < 0 ||
			    verify_range(&df, 0, df.size, tok_xxh3, true, manifest, d) < 0)
				goto out;
		}
		rc = 0;
	} else if (cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(j, "tensors")) &&
		   cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "xxh3"))) {
		/* an m2w-extract weights.json: its blob, whole */
		uint64_t bytes;
		if (!num_u64(cJSON_GetObjectItemCaseSensitive(j, "bytes"), &bytes)) {
			if (lenient) {
				rc = 1;
				goto out;
			}
			m2w_err(d, m2w_json_pos(mf.data, mf.size, "bytes"),
				"a weights.json without a valid \"bytes\"");
			goto out;
		}
		if (!(*hold = blob ? strdup(blob) : blob_of(manifest))) {
			m2w_err(d, M2W_NO_OFFSET, "out of memory");
			goto out;
		}
		if (m2w_file_map(&df, *hold, d) < 0) {
			/* name the manifest, at its "bytes": the blob it describes is missing */
			char why[sizeof d->msg];
			snprintf(why, sizeof why, "%s", d->msg);
			m2w_err(d, m2w_json_pos(mf.data, mf.size, "bytes"), "blob %s: %s", *hold, why);
			goto out;
		}
		d->file = *hold;
		rc = verify_range(&df, 0, bytes,
			cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, "xxh3")), true, manifest, d);
	} else if (lenient) {
		rc = 1;
	} else {
		m2w_err(d, 0, "not an m2w-pack shards.json or an m2w-extract weights.json "
			"(no \"shards\", or no \"tensors\" and \"xxh3\")");
	}
out:
	if (df.path)
		m2w_file_unmap(&df);
	cJSON_Delete(j);
	m2w_file_unmap(&mf);
	return rc;
}

/* The cache for INPUT with the options that shape the outputs; NULL (after
 * a warning) when it cannot be used: the tool then just runs. */
static struct m2w_cache *cache_open(const char *dir, const char *input,
	const struct m2w_pack_opts *o, bool quiet)
{
	static const char *const fl[] = {"keep", "f32", "f16"};
	struct m2w_diag d;
	struct m2w_cache *c;
	const char *base = strrchr(input, '/');
	char num[32];

	m2w_diag_init(&d, dir);
	if (!(c = m2w_cache_create(dir, prog, input, &d))) {
		m2w_cache_warn(prog, "cache not used", &d, quiet);
		return NULL;
	}
	snprintf(num, sizeof num, "%llu", (unsigned long long)o->max_binding);
	m2w_cache_key_str(c, "float", fl[o->fl]);
	m2w_cache_key_str(c, "max-binding", num);
	m2w_cache_key_str(c, "one-file", o->one_file ? "1" : "0");
	m2w_cache_key_str(c, "requant", o->requant_q8_0 ? "q8_0" : "none");
	m2w_cache_key_str(c, "input-name", base ? base + 1 : input);
	if (m2w_cache_key_file(c, "input", input, &d) < 0) {
		m2w_cache_warn(prog, "cache not used", &d, quiet);
		m2w_cache_free(c);
		return NULL;
	}
	return c;
}

/* After a run: DIR's files that shards.json names, itself and the
 * tokenizer, then the blob of a weights.json as an extra. */
static int cache_store(struct m2w_cache *c, const char *dir, const struct m2w_pack_result *r,
	struct m2w_diag *d)
{
	size_t n = strlen(dir) + 32;
	char *sj = malloc(n);
	struct m2w_file f;
	cJSON *j = NULL;
	int rc = -1;

	if (!sj)
		return m2w_err(d, M2W_NO_OFFSET, "out of memory");
	snprintf(sj, n, "%s/shards.json", dir);
	if (m2w_file_map(&f, sj, d) < 0) {
		free(sj);
		return -1;
	}
	j = cJSON_ParseWithLength((const char *)f.data, f.size);
	m2w_file_unmap(&f);
	const cJSON *shards = cJSON_GetObjectItemCaseSensitive(j, "shards"), *e;
	if (!cJSON_IsArray(shards)) {
		m2w_err(d, M2W_NO_OFFSET, "%s: no \"shards\" array", sj);
		goto out;
	}
	for (size_t i = 1; i < r->ndeps; i++)
		if (m2w_cache_add_extra(c, r->deps[i], d) < 0)
			goto out;
	/* --one-file: every shard names model.bin; store it once */
	const char *prev = NULL;
	cJSON_ArrayForEach(e, shards) {
		const cJSON *file = cJSON_GetObjectItemCaseSensitive(e, "file");
		if (!cJSON_IsString(file)) {
			m2w_err(d, M2W_NO_OFFSET, "%s: a shard without \"file\"", sj);
			goto out;
		}
		if (prev && !strcmp(prev, file->valuestring))
			continue;
		prev = file->valuestring;
		char *p = malloc(strlen(dir) + strlen(prev) + 2);
		if (!p) {
			m2w_err(d, M2W_NO_OFFSET, "out of memory");
			goto out;
		}
		sprintf(p, "%s/%s", dir, prev);
		int a = m2w_cache_add_output(c, prev, p, d);
		free(p);
		if (a < 0)
			goto out;
	}
	if (m2w_cache_add_output(c, "shards.json", sj, d) < 0)
		goto out;
	if (r->tokenizer) {
		snprintf(sj, n, "%s/tokenizer.json", dir);
		if (m2w_cache_add_output(c, "tokenizer.json", sj, d) < 0)
			goto out;
	}
	rc = m2w_cache_store(c, d);
out:
	cJSON_Delete(j);
	free(sj);
	return rc;
}

int main(int argc, char **argv)
{
	enum { OPT_FLOAT = 256, OPT_MAXB, OPT_ONE, OPT_BLOB, OPT_UNPACK, OPT_DEP, OPT_REQUANT,
		OPT_CACHE, OPT_NO_CACHE, OPT_VERIFY };
	static const struct option lopts[] = {
		{"output", required_argument, NULL, 'o'},
		{"float", required_argument, NULL, OPT_FLOAT},
		{"max-binding", required_argument, NULL, OPT_MAXB},
		{"one-file", no_argument, NULL, OPT_ONE},
		{"requant", required_argument, NULL, OPT_REQUANT},
		{"blob", required_argument, NULL, OPT_BLOB},
		{"unpack", required_argument, NULL, OPT_UNPACK},
		{"depfile", required_argument, NULL, OPT_DEP},
		{"verify", no_argument, NULL, OPT_VERIFY},
		{"cache-dir", required_argument, NULL, OPT_CACHE},
		{"no-cache", no_argument, NULL, OPT_NO_CACHE},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	struct m2w_pack_opts o;
	const char *out = NULL, *unpack = NULL, *depfile = NULL;
	const char *cache_dir = getenv("M2W_CACHE_DIR");
	bool quiet = false, no_cache = false, verify = false;
	char *hold = NULL;
	int c;

	m2w_pack_opts_init(&o);
	while ((c = getopt_long(argc, argv, "o:qhV", lopts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case OPT_FLOAT:
			if (!strcmp(optarg, "keep"))
				o.fl = M2W_PACK_KEEP;
			else if (!strcmp(optarg, "f32"))
				o.fl = M2W_PACK_F32;
			else if (!strcmp(optarg, "f16"))
				o.fl = M2W_PACK_F16;
			else {
				fprintf(stderr, "%s: --float must be keep, f32 or f16, not '%s'\n", prog, optarg);
				return 2;
			}
			break;
		case OPT_MAXB:
			if (!parse_size(optarg, &o.max_binding) || o.max_binding < M2W_PACK_ALIGN) {
				fprintf(stderr, "%s: --max-binding needs a size of at least %u bytes, not '%s'\n",
					prog, M2W_PACK_ALIGN, optarg);
				return 2;
			}
			break;
		case OPT_ONE: o.one_file = true; break;
		case OPT_REQUANT:
			if (strcmp(optarg, "none") && strcmp(optarg, "q8_0")) {
				fprintf(stderr, "%s: --requant must be none or q8_0, not '%s'\n", prog, optarg);
				return 2;
			}
			o.requant_q8_0 = !strcmp(optarg, "q8_0");
			break;
		case OPT_BLOB: o.blob = optarg; break;
		case OPT_UNPACK: unpack = optarg; break;
		case OPT_DEP: depfile = optarg; break;
		case OPT_CACHE: cache_dir = optarg; break;
		case OPT_NO_CACHE: no_cache = true; break;
		case OPT_VERIFY: verify = true; break;
		case 'q': quiet = true; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("%s %s\n", prog, M2W_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}

	struct m2w_diag d;
	if (unpack) {
		if (argc - optind != 2 || out) {
			fprintf(stderr, "%s: --unpack OUT.npy takes TENSOR and DIR, and no -o\n", prog);
			return 2;
		}
		m2w_diag_init(&d, argv[optind + 1]);
		return m2w_pack_unpack(argv[optind + 1], argv[optind], unpack, &d) < 0 ? fail(&d) : 0;
	}
	if (verify) {
		if (argc - optind != 1 || out) {
			fprintf(stderr, "%s: --verify takes one MANIFEST (shards.json or weights.json) "
				"and no -o\n", prog);
			return 2;
		}
		int v = verify_manifest(argv[optind], o.blob, false, &hold, &d);
		if (v < 0)
			fail(&d);
		free(hold);
		return v < 0 ? 1 : 0;
	}
	if (argc - optind != 1 || !out) {
		usage(stderr);
		return 2;
	}
	const char *input = argv[optind];
	/* a weights.json: refuse a blob that is not the one it describes */
	if (verify_manifest(input, o.blob, true, &hold, &d) < 0) {
		fail(&d);
		free(hold);
		return 1;
	}
	free(hold);
	if (!quiet) {
		o.warn = warn;
		o.warn_ctx = (void *)input;
	}
	struct m2w_pack_result r = {0};
	struct m2w_cache *cache = NULL;
	const char *const *deps;
	size_t ndeps;
	bool hit = false;

	if (no_cache || (cache_dir && !*cache_dir))
		cache_dir = NULL;
	if (cache_dir && (cache = cache_open(cache_dir, input, &o, quiet))) {
		struct m2w_diag cd;
		size_t nchanged;
		m2w_diag_init(&cd, cache_dir);
		int h = m2w_cache_lookup(cache, NULL, 0, out, &nchanged, &cd);
		if (h < 0)
			m2w_cache_warn(prog, "cache lookup", &cd, quiet);
		if (m2w_cache_note(cache) && !quiet)
			fprintf(stderr, "%s: warning: cache: %s\n", prog, m2w_cache_note(cache));
		hit = h == 1;
	}
	m2w_diag_init(&d, input);
	if (!hit && m2w_pack(input, out, &o, &r, &d) < 0) {
		m2w_pack_result_free(&r);
		m2w_cache_free(cache);
		return fail(&d);
	}
	if (cache && !hit) {
		struct m2w_diag cd;
		m2w_diag_init(&cd, cache_dir);
		if (cache_store(cache, out, &r, &cd) < 0)
			m2w_cache_warn(prog, "cache miss, not stored", &cd, quiet);
		else if (!quiet)
			fprintf(stderr, "%s: cache miss, stored (%s)\n", prog, m2w_cache_entry(cache));
	} else if (hit && !quiet) {
		fprintf(stderr, "%s: cache hit (%s)\n", prog, m2w_cache_entry(cache));
	}
	/* the depfile lists the input and the files read besides it */
	const char **hitdeps = NULL;
	deps = (const char *const *)r.deps;
	ndeps = r.ndeps;
	if (hit) {
		const char *const *extras;
		size_t nex = m2w_cache_extras(cache, &extras);
		if (!(hitdeps = calloc(nex + 1, sizeof *hitdeps))) {
			m2w_cache_free(cache);
			fprintf(stderr, "%s: out of memory\n", prog);
			return 1;
		}
		hitdeps[0] = input;
		for (size_t i = 0; i < nex; i++)
			hitdeps[i + 1] = extras[i];
		deps = hitdeps;
		ndeps = nex + 1;
	}
	if (depfile) {
		size_t n = strlen(out) + 16;
		char *target = malloc(n);
		int rc = -1;
		if (!target) {
			fprintf(stderr, "%s: out of memory\n", prog);
		} else {
			snprintf(target, n, "%s/shards.json", out);
			m2w_diag_init(&d, depfile);
			if ((rc = m2w_depfile_write(depfile, target, deps, ndeps, &d)) < 0)
				fail(&d);
		}
		free(target);
		if (rc < 0) {
			free(hitdeps);
			m2w_cache_free(cache);
			m2w_pack_result_free(&r);
			return 1;
		}
	}
	free(hitdeps);
	m2w_cache_free(cache);
	m2w_pack_result_free(&r);
	return 0;
}
