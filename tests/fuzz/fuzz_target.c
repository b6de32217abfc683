/* One libFuzzer target per parser: the same file is built once per
 * FUZZ_FORMAT, each calling the library entry points the tools call.
 * Every input must give a result or a clean error with an in-range offset,
 * never a crash, a leak, undefined behaviour or a hang.
 *
 *   1 onnx    m2w_describe_onnx, m2w_expose_onnx, m2w_extract_model
 *             (m2w-inspect, m2w-extract)
 *   2 gguf    m2w_describe_gguf, m2w_extract_model, m2w_gguf_parse +
 *             m2w_tokenizer_write, m2w_pack of the GGUF (m2w-pack)
 *   3 tflite  m2w_describe_tflite, m2w_expose_tflite, m2w_extract_model
 *   4 task    m2w_describe_task, m2w_extract_model (zip reader)
 *   5 npy     m2w_npy_parse (m2w-check, m2w-pack)
 *   6 onnxpb  m2w_describe_tensorpb + m2w_extract_tensorpb (a bare
 *             TensorProto .pb: m2w-check / m2w-extract)
 *   7 wgsl    m2w_wgsl_parse + m2w_wgsl_linecol (m2w-shadergen)
 *   8 json    every JSON manifest reader of libm2w, the input written as:
 *             check tolerances (m2w_check_tols_load), ACT_DIR/manifest.json
 *             and the --order file (m2w_check_run), shards.json
 *             (m2w_pack_unpack), weights.json (m2w_pack, m2w_extract_verify)
 *             the --names map (m2w_extract_model) and a cache entry's
 *             meta.json (m2w_cache_lookup; "@KEY@" in the input stands for
 *             the entry's key).
 */
#define _GNU_SOURCE
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cache.h"
#include "check.h"
#include "describe.h"
#include "extract.h"
#include "gguf.h"
#include "pack.h"
#include "tokenizer.h"
#include "wgsl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_diag(const struct m2w_diag *d, size_t size)
{
	/* an offset may point one past the end (truncation), never further */
	if (d->off != M2W_NO_OFFSET && d->off > size)
		abort();
}

#if FUZZ_FORMAT != 5 && FUZZ_FORMAT != 7
/* One scratch folder per process (tmpfs when there is one). */
static char scratch[128];

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

/* rm -rf without a shell: a fork of an ASan process costs milliseconds */
static void rm_rf(const char *path)
{
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void cleanup(void)
{
	if (getenv("M2W_FUZZ_KEEP")) /* to look at the fixtures */
		fprintf(stderr, "kept %s\n", scratch);
	else
		rm_rf(scratch);
}

static const char *tmp(const char *name, char *buf, size_t n)
{
	if (!scratch[0]) {
		const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
		snprintf(scratch, sizeof scratch, "%s/m2w-fuzz-XXXXXX", base);
		if (!mkdtemp(scratch))
			abort();
		atexit(cleanup);
	}
	snprintf(buf, n, "%s/%s", scratch, name);
	return buf;
}

static void put(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");
	if (!f || (n && fwrite(p, 1, n, f) != n) || fclose(f))
		abort();
}


#if FUZZ_FORMAT >= 1 && FUZZ_FORMAT <= 4
/* m2w-extract of the model: every tensor converted into a blob + manifest */
static void extract(const uint8_t *data, size_t size)
{
	char p[256], q[256];
	struct m2w_extract_result xr;
	struct m2w_diag d;

	memset(&xr, 0, sizeof xr);
	put(tmp("model.in", p, sizeof p), data, size);
	m2w_diag_init(&d, p);
	if (m2w_extract_model(p, tmp("x.bin", q, sizeof q), NULL, &xr, &d) < 0)
		check_diag(&d, size);
	m2w_extract_result_free(&xr);
	unlink(q);
	unlink(tmp("x.json", q, sizeof q));
}
#endif
#endif

#if FUZZ_FORMAT == 8
static void quiet(void *ctx, const char *msg)
{
	(void)ctx;
	(void)msg;
}

/* The fixed side of the JSON readers: two checkpoints a and b in both check
 * folders; a tiny ONNX model with one initializer "w", extracted
 * (model.bin + model.json, for m2w_extract_verify and as m2w_pack's blob)
 * and packed (pack/shards.json + shards, for m2w_pack_unpack); made once. */
static void fixtures(void)
{
	static bool done;
	char p[256];
	static const float v[4] = {1, 2, 3, 4};
	uint64_t shape[2] = {2, 2};
	struct m2w_diag d;

	if (done)
		return;
	done = true;
	m2w_diag_init(&d, "fixture");
	mkdir(tmp("ref", p, sizeof p), 0700);
	mkdir(tmp("act", p, sizeof p), 0700);
	if (m2w_npy_write(tmp("ref/a.npy", p, sizeof p), M2W_DT_F32, shape, 2, v, NULL, &d) ||
	    m2w_npy_write(tmp("ref/b.npy", p, sizeof p), M2W_DT_F32, shape, 1, v, NULL, &d) ||
	    m2w_npy_write(tmp("act/a.npy", p, sizeof p), M2W_DT_F32, shape, 2, v, NULL, &d) ||
	    m2w_npy_write(tmp("act/b.npy", p, sizeof p), M2W_DT_F32, shape, 2, v, NULL, &d))
		abort();
	/* ModelProto{ir_version 7, graph g {initializer w: f32 [2,2] = 1 2 3 4, output w},
	 * opset {"" 13}} (onnx.helper) */
	static const uint8_t model[] = {
		0x08, 0x07, 0x3a, 0x35, 0x12, 0x01, 0x67, 0x2a, 0x1b, 0x08, 0x02, 0x08, 0x02,
		0x10, 0x01, 0x42, 0x01, 0x77, 0x4a, 0x10, 0x00, 0x00, 0x80, 0x3f, 0x00, 0x00,
		0x00, 0x40, 0x00, 0x00, 0x40, 0x40, 0x00, 0x00, 0x80, 0x40, 0x62, 0x13, 0x0a,
		0x01, 0x77, 0x12, 0x0e, 0x0a, 0x0c, 0x08, 0x01, 0x12, 0x08, 0x0a, 0x02, 0x08,
		0x02, 0x0a, 0x02, 0x08, 0x02, 0x42, 0x04, 0x0a, 0x00, 0x10, 0x0d};
	put(tmp("model.onnx", p, sizeof p), model, sizeof model);
	/* its blob and manifest as m2w-extract writes them */
	struct m2w_extract_result xr;
	memset(&xr, 0, sizeof xr);
	char q[256];
	if (m2w_extract_model(p, tmp("model.bin", q, sizeof q), NULL, &xr, &d) < 0)
		abort();
	m2w_extract_result_free(&xr);
	/* and that packed, as m2w-pack writes it */
	struct m2w_pack_opts po;
	struct m2w_pack_result pr;
	m2w_pack_opts_init(&po);
	memset(&pr, 0, sizeof pr);
	if (m2w_pack(tmp("model.json", p, sizeof p), tmp("pack", q, sizeof q), &po, &pr, &d) < 0)
		abort();
	m2w_pack_result_free(&pr);
}

static void fuzz_json(const uint8_t *data, size_t size)
{
	char p[256], q[256], r[256];
	struct m2w_diag d;

	fixtures();

	/* m2w-check --tolerances */
	struct m2w_check_tols *t = NULL;
	put(tmp("tols.json", p, sizeof p), data, size);
	m2w_diag_init(&d, p);
	if (m2w_check_tols_load(&t, p, &d) < 0)
		check_diag(&d, size);
	else
		m2w_check_tols_free(t);

	/* m2w-check: ACT_DIR/manifest.json, then the same bytes as --order */
	struct m2w_check_run run;
	struct m2w_check_opts co = {.atol = 0.01, .rtol = 0.01};
	put(tmp("act/manifest.json", p, sizeof p), data, size);
	m2w_diag_init(&d, "check");
	if (m2w_check_run(&run, tmp("ref", q, sizeof q), tmp("act", r, sizeof r), &co, &d) == 0)
		free(m2w_check_json(&run));
	m2w_check_run_free(&run);
	unlink(p);
	co.order_file = tmp("tols.json", p, sizeof p);
	m2w_diag_init(&d, "check");
	if (m2w_check_run(&run, tmp("ref", q, sizeof q), tmp("act", r, sizeof r), &co, &d) == 0)
		free(m2w_check_text(&run));
	m2w_check_run_free(&run);

	/* m2w-pack --unpack: DIR/shards.json */
	put(tmp("pack/shards.json", p, sizeof p), data, size);
	m2w_diag_init(&d, "unpack");
	m2w_pack_unpack(tmp("pack", p, sizeof p), "w", tmp("unpacked.npy", q, sizeof q), &d);

	/* m2w-pack of an m2w-extract weights.json (and its blob) */
	struct m2w_pack_opts po;
	struct m2w_pack_result pr;
	m2w_pack_opts_init(&po);
	po.max_binding = 1024;
	po.warn = quiet;
	po.blob = tmp("model.bin", r, sizeof r);
	memset(&pr, 0, sizeof pr);
	put(tmp("weights.json", p, sizeof p), data, size);
	m2w_diag_init(&d, p);
	if (m2w_pack(p, tmp("out", q, sizeof q), &po, &pr, &d) < 0)
		check_diag(&d, size);
	m2w_pack_result_free(&pr);
	rm_rf(q);

	/* m2w-extract --verify: the same manifest against model.onnx/model.bin */
	struct m2w_extract_opts xo = {0};
	uint64_t ndiff;
	xo.manifest = p;
	m2w_diag_init(&d, "verify");
	m2w_extract_verify(tmp("model.onnx", q, sizeof q), tmp("model.bin", r, sizeof r), &xo,
		&ndiff, &d);

	/* m2w-extract --names: the input as the {"old": "new"} map (m2w-extract
	 * parses it with cJSON; extract.c walks it) */
	cJSON *names = cJSON_ParseWithLength((const char *)data, size);
	if (names) {
		struct m2w_extract_result xr;
		struct m2w_extract_opts no = {0};
		memset(&xr, 0, sizeof xr);
		no.names = names;
		no.names_path = "names.json";
		m2w_diag_init(&d, "names");
		m2w_extract_model(tmp("model.onnx", q, sizeof q), tmp("named.bin", r, sizeof r), &no,
			&xr, &d);
		m2w_extract_result_free(&xr);
		cJSON_Delete(names);
	}

	/* a cache entry's meta.json */
	struct m2w_cache *c;
	char key[33];
	m2w_diag_init(&d, "cache");
	if (!(c = m2w_cache_create(tmp("cache", p, sizeof p), "fuzz", tmp("model.onnx", q,
		     sizeof q), &d)))
		return;
	m2w_cache_key_str(c, "k", "v");
	m2w_cache_key_hex(c, key);
	mkdir(tmp("cache", p, sizeof p), 0700);
	mkdir(tmp("cache/fuzz", p, sizeof p), 0700);
	snprintf(r, sizeof r, "cache/fuzz/%s", key);
	mkdir(tmp(r, p, sizeof p), 0700);
	snprintf(r, sizeof r, "cache/fuzz/%s/v", key);
	if (mkdir(tmp(r, p, sizeof p), 0700) < 0)
		abort();
	/* "@KEY@" -> the key, so the seeds reach past the key check */
	char *m = malloc(size * 7 + 1), *o = m;
	if (!m)
		abort();
	for (size_t i = 0; i < size; i++) {
		if (i + 5 <= size && !memcmp(data + i, "@KEY@", 5)) {
			memcpy(o, key, 32);
			o += 32;
			i += 4;
		} else {
			*o++ = (char)data[i];
		}
	}
	snprintf(r + strlen(r), sizeof r - strlen(r), "/meta.json");
	put(tmp(r, p, sizeof p), m, (size_t)(o - m));
	snprintf(r, sizeof r, "cache/fuzz/%s/v/0", key);
	put(tmp(r, p, sizeof p), "0123456789abcdef", 16);
	free(m);
	size_t nchanged;
	m2w_cache_lookup(c, NULL, 0, tmp("restored", q, sizeof q), &nchanged, &d);
	m2w_cache_free(c);
	rm_rf(tmp("cache", p, sizeof p));
	rm_rf(q);
}
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
#if FUZZ_FORMAT != 5 && FUZZ_FORMAT != 7 && FUZZ_FORMAT != 8
	struct m2w_describe_opts o = {.hash_tensors = true};
#endif
	struct m2w_diag d;
	cJSON *j = NULL;
	int r = 0;

	m2w_diag_init(&d, "fuzz");
#if FUZZ_FORMAT == 1
	r = m2w_describe_onnx(data, size, NULL, &o, &j, &d);
	if (r == 0)
		extract(data, size);
	if (r == 0) {
		char path[256];
		if (m2w_expose_onnx(data, size, tmp("exposed", path, sizeof path), &d) < 0)
			check_diag(&d, size);
		unlink(path);
	}
#elif FUZZ_FORMAT == 2
	r = m2w_describe_gguf(data, size, &o, &j, &d);
	if (r == 0)
		extract(data, size);
	struct m2w_gguf g;
	struct m2w_diag gd;
	m2w_diag_init(&gd, "fuzz");
	if (m2w_gguf_parse(data, size, &g, &gd) == 0) {
		char p[256], q[256];
		bool changed;
		if (m2w_tokenizer_write(&g, tmp("tokenizer.json", p, sizeof p), &changed, &gd) < 0)
			check_diag(&gd, size);
		m2w_gguf_free(&g);
		/* m2w-pack of it: plans, converts and streams every tensor */
		struct m2w_pack_opts po;
		struct m2w_pack_result pr;
		m2w_pack_opts_init(&po);
		po.max_binding = 4096;
		/* the options from the size, so every layout gets its turn */
		po.fl = (enum m2w_pack_float)(size % 3);
		po.requant_q8_0 = size / 3 % 2;
		po.one_file = size / 6 % 2;
		memset(&pr, 0, sizeof pr);
		put(tmp("in.gguf", p, sizeof p), data, size);
		m2w_diag_init(&gd, p);
		if (m2w_pack(p, tmp("out", q, sizeof q), &po, &pr, &gd) < 0)
			check_diag(&gd, size);
		m2w_pack_result_free(&pr);
		rm_rf(q);
	} else {
		check_diag(&gd, size);
	}
#elif FUZZ_FORMAT == 3
	r = m2w_describe_tflite(data, size, &o, &j, &d);
	if (r == 0)
		extract(data, size);
	if (r == 0) {
		char path[256];
		if (m2w_expose_tflite(data, size, tmp("exposed", path, sizeof path), &d) < 0)
			check_diag(&d, size);
		unlink(path);
	}
#elif FUZZ_FORMAT == 4
	r = m2w_describe_task(data, size, &o, &j, &d);
	if (r == 0)
		extract(data, size);
#elif FUZZ_FORMAT == 5
	struct m2w_npy n;
	r = m2w_npy_parse(data, size, &n, &d);
#elif FUZZ_FORMAT == 6
	r = m2w_describe_tensorpb(data, size, &o, &j, &d);
	if (r == 0) {
		char p[256], q[256];
		struct m2w_extract_result xr;
		struct m2w_diag xd;
		memset(&xr, 0, sizeof xr);
		put(tmp("t.pb", p, sizeof p), data, size);
		m2w_diag_init(&xd, p);
		if (m2w_extract_tensorpb(p, tmp("t.npy", q, sizeof q), NULL, &xr, &xd) < 0)
			check_diag(&xd, size);
		m2w_extract_result_free(&xr);
		unlink(q);
	}
#elif FUZZ_FORMAT == 7
	struct m2w_wgsl_shader sh;
	r = m2w_wgsl_parse((const char *)data, size, &sh, &d);
	if (r == 0) {
		m2w_wgsl_free(&sh);
	} else if (d.off != M2W_NO_OFFSET) {
		unsigned line, col;
		m2w_wgsl_linecol((const char *)data, size, d.off, &line, &col);
	}
#elif FUZZ_FORMAT == 8
	fuzz_json(data, size);
#endif
	if (r < 0)
		check_diag(&d, size);
	if (j) {
		char *s = cJSON_PrintUnformatted(j);
		free(s);
		cJSON_Delete(j);
	}
	return 0;
}

#ifdef FUZZ_STANDALONE
/* Without libFuzzer (gcc and coverage builds): replay the given files, so
 * the seed and crash corpora run as ordinary regression tests. */
int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		struct m2w_file f;
		struct m2w_diag d;
		m2w_diag_init(&d, argv[i]);
		if (m2w_file_map(&f, argv[i], &d) < 0) {
			fprintf(stderr, "%s: cannot read\n", argv[i]);
			return 1;
		}
		LLVMFuzzerTestOneInput(f.data, f.size);
		m2w_file_unmap(&f);
	}
	printf("replayed %d inputs\n", argc - 1);
	return 0;
}
#endif
