/* m2w-extract: every weight of an ONNX, TFLite or GGUF model into one
 * GPU-ready blob (f32 or f16) and the weights.json manifest beside it;
 * a bare ONNX TensorProto (.pb test data) into a .npy.
 *
 * weights.json (DESIGN.md's stable keys first, then what this tool adds):
 *
 *   { "dtype": "f32" | "f16",        floating and dequantized tensors
 *     "bytes": <blob size>, "xxh3": "<hex of the blob>",
 *     "format": "onnx" | "tflite" | "gguf",
 *     "model": "<file name of the model, no directory>",
 *     "layout": "nchw" | "source",   whether TFLite filters were permuted
 *     "tensors": [ {
 *        "name", "shape": [..], "dtype", "offset", "bytes", "source",
 *                                   shape is the output (NCHW) shape; offsets
 *                                   are 16-byte aligned; name is unique
 *        "source_dtype": "i8" ...   the dtype in the model ("q4_k", "f8e4m3fn")
 *        "source_shape": [..], "permutation": [..]
 *                                   only when permuted: output dim k is
 *                                   source dim permutation[k]
 *        "layout": "CONV_2D filter [O,H,W,I] -> [O,I,H,W]" | "DynamicQuantizeLSTM: ..."
 *        "kind": "initializer" | "constant" | "tensor",
 *        "graph": "<subgraph path>"     only for tensors of subgraphs
 *        "quant": { "op", "source_dtype", "axis": k | null, "block_size"?,
 *                   "scale_shape"?, "count", "scale": [..], "zero_point": [..]
 *                   (or "zero_point_value": 0), "scale_tensor"?,
 *                   "zero_point_tensor"?, "note"? }
 *                                   dequantized as (float(q) - float(zp)) * scale
 *                                   in f32; params in source terms (axis of
 *                                   the source shape); the lists are left
 *                                   out past 65536 entries
 *        "f16_overflow": n          values that became inf with --dtype f16
 *     } ],
 *     "skipped": [ {"source", "source_dtype", "why"} ]   strings, sparse ...
 *   }
 *
 * Integer tensors that are not quantized weights (shapes, indices) keep
 * their integer dtype; 4- and 2-bit ones are unpacked to one byte each.
 * Repeated source names get "#<shape>" (then "#2", "#3" ...) appended.
 *
 * Result cache (--cache-dir DIR, else $M2W_CACHE_DIR when set and not
 * empty; --no-cache turns both off; lib/cache.h has the layout): the key is
 * the tool and its executable, --dtype, --layout, every --only, the model's
 * file name (the manifest records it) and the bytes of the model and of the
 * --names map; ONNX external data files are checked by content on lookup.
 * A hit writes the blob and the manifest write-if-changed (an unchanged
 * output keeps its mtime), writes the depfile, and runs --verify if asked;
 * warnings of the original run are not repeated.  .pb -> .npy is not
 * cached.  Each lookup appends "hit|miss m2w-extract KEY MODEL" to DIR/log.
 */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cache.h"
#include "describe.h"
#include "extract.h"

static const char *prog = "m2w-extract";

static void usage(FILE *fp)
{
	fprintf(fp,
		"Usage: %s [OPTION]... MODEL -o WEIGHTS.bin\n"
		"       %s [OPTION]... TENSOR.pb -o TENSOR.npy\n"
		"Write every weight of an ONNX, TFLite or GGUF model (format from the bytes)\n"
		"into WEIGHTS.bin and the manifest WEIGHTS.json beside it: floating weights\n"
		"converted, quantized ones dequantized, TFLite filters permuted to NCHW.\n"
		"A bare ONNX TensorProto (test data .pb) becomes a .npy.\n"
		"\n"
		"  -o, --output FILE       the blob (or .npy) to write; written atomically and\n"
		"                          only when its bytes change\n"
		"      --dtype f32|f16     output precision (default f32; for .pb the source's\n"
		"                          f32/f16/f64 are kept unless given); f16 rounds to\n"
		"                          nearest even, overflow to inf is a warning\n"
		"      --names MAP.json    rename tensors: {\"name\": \"new name\", ...}, keys\n"
		"                          as the manifest would name them (a repeated source\n"
		"                          name gets \"#<shape>\"); a key that names no tensor\n"
		"                          is an error\n"
		"      --only PATTERN      only tensors whose name matches the glob (repeatable)\n"
		"      --layout nchw|source  permute TFLite filters to NCHW (default) or not\n"
		"      --manifest FILE     the manifest path (default: the blob's, .json)\n"
		"      --verify            re-read the model and the output and compare every\n"
		"                          element (models, not .pb); exit 1 on a difference\n"
		"                          beyond the conversion's own rounding\n"
		"      --depfile FILE      write a make-style depfile listing the external\n"
		"                          data files read (ONNX)\n"
		"      --cache-dir DIR     reuse results from the content-addressed cache DIR\n"
		"                          (default $M2W_CACHE_DIR when set): keyed by this\n"
		"                          executable, the options and the input bytes; a hit\n"
		"                          copies the stored blob and manifest; every lookup\n"
		"                          appends \"hit|miss TOOL KEY MODEL\" to DIR/log\n"
		"      --no-cache          ignore --cache-dir and $M2W_CACHE_DIR\n"
		"  -q, --quiet             no warnings\n"
		"  -h, --help              show this help and exit\n"
		"  -V, --version           show the version and exit\n"
		"\n"
		"Exit status: 0 success, 1 bad input or I/O error, 2 usage error.\n"
		"Errors read \"%s: FILE:0xOFFSET: error: WHAT\".\n",
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
	const char *file = ctx;
	fprintf(stderr, "%s: %s: warning: %s\n", prog, file, msg);
}

/* The cache for MODEL with the options that shape the outputs; NULL (after
 * a warning) when the cache cannot be used: the tool then just runs. */
static struct m2w_cache *cache_open(const char *dir, const char *model, const char *names,
	const struct m2w_extract_opts *o, bool quiet)
{
	struct m2w_diag d;
	struct m2w_cache *c;
	const char *base = strrchr(model, '/');

	m2w_diag_init(&d, dir);
	if (!(c = m2w_cache_create(dir, prog, model, &d))) {
		m2w_cache_warn(prog, "cache not used", &d, quiet);
		return NULL;
	}
	m2w_cache_key_str(c, "dtype", o->dtype == M2W_EXTRACT_F16 ? "f16" : "f32");
	m2w_cache_key_str(c, "layout", o->layout_source ? "source" : "nchw");
	for (size_t i = 0; i < o->nonly; i++)
		m2w_cache_key_str(c, "only", o->only[i]);
	m2w_cache_key_str(c, "model-name", base ? base + 1 : model);
	if (m2w_cache_key_file(c, "model", model, &d) < 0 ||
	    (names && m2w_cache_key_file(c, "names", names, &d) < 0)) {
		m2w_cache_warn(prog, "cache not used", &d, quiet);
		m2w_cache_free(c);
		return NULL;
	}
	return c;
}

/* The map, parsed; *f stays mapped (the caller unmaps it) so that later
 * errors about a key can give its offset. */
static cJSON *read_names(const char *path, struct m2w_file *f, struct m2w_diag *d)
{
	cJSON *j;

	if (m2w_file_map(f, path, d))
		return NULL;
	j = cJSON_ParseWithLength((const char *)f->data, f->size);
	if (!j) {
		const char *at = cJSON_GetErrorPtr();
		m2w_err(d, at && f->data && at >= (const char *)f->data && at <= (const char *)f->data + f->size
				? (uint64_t)(at - (const char *)f->data) : M2W_NO_OFFSET,
			"not valid JSON");
	} else if (!cJSON_IsObject(j)) {
		m2w_err(d, 0, "the names map must be a JSON object {\"old\": \"new\"}");
		cJSON_Delete(j);
		j = NULL;
	}
	return j;
}

int main(int argc, char **argv)
{
	enum { O_DTYPE = 256, O_NAMES, O_ONLY, O_LAYOUT, O_VERIFY, O_DEPFILE, O_MANIFEST,
		O_CACHE, O_NO_CACHE };
	static const struct option longopts[] = {
		{"output", required_argument, NULL, 'o'},
		{"dtype", required_argument, NULL, O_DTYPE},
		{"names", required_argument, NULL, O_NAMES},
		{"only", required_argument, NULL, O_ONLY},
		{"layout", required_argument, NULL, O_LAYOUT},
		{"manifest", required_argument, NULL, O_MANIFEST},
		{"verify", no_argument, NULL, O_VERIFY},
		{"depfile", required_argument, NULL, O_DEPFILE},
		{"cache-dir", required_argument, NULL, O_CACHE},
		{"no-cache", no_argument, NULL, O_NO_CACHE},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	struct m2w_extract_opts o = {.dtype = M2W_EXTRACT_F32};
	const char *out = NULL, *names = NULL, *depfile = NULL, *dtype = NULL;
	const char *cache_dir = getenv("M2W_CACHE_DIR");
	const char **only = NULL;
	bool verify = false, quiet = false, no_cache = false;
	size_t nonly = 0;
	int c, rc = 1;

	while ((c = getopt_long(argc, argv, "o:qhV", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case O_DTYPE: dtype = optarg; break;
		case O_NAMES: names = optarg; break;
		case O_ONLY: {
			const char **n = realloc(only, (nonly + 1) * sizeof *n);
			if (!n) {
				fprintf(stderr, "%s: out of memory\n", prog);
				return 1;
			}
			only = n;
			only[nonly++] = optarg;
			break;
		}
		case O_LAYOUT:
			if (!strcmp(optarg, "source"))
				o.layout_source = true;
			else if (strcmp(optarg, "nchw")) {
				fprintf(stderr, "%s: --layout takes nchw or source, not '%s'\n", prog, optarg);
				return 2;
			}
			break;
		case O_MANIFEST: o.manifest = optarg; break;
		case O_VERIFY: verify = true; break;
		case O_DEPFILE: depfile = optarg; break;
		case O_CACHE: cache_dir = optarg; break;
		case O_NO_CACHE: no_cache = true; break;
		case 'q': quiet = true; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("%s %s\n", prog, M2W_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind + 1 != argc || !out) {
		fprintf(stderr, "%s: %s\n", prog, optind + 1 < argc ? "one model at a time"
			: optind == argc ? "no model given" : "no output given (-o FILE)");
		usage(stderr);
		free(only);
		return 2;
	}
	if (dtype && strcmp(dtype, "f32") && strcmp(dtype, "f16")) {
		fprintf(stderr, "%s: --dtype takes f32 or f16, not '%s'\n", prog, dtype);
		free(only);
		return 2;
	}
	const char *model = argv[optind];
	struct m2w_diag d;
	cJSON *map = NULL;
	struct m2w_file names_file = {0};
	struct m2w_extract_result r = {0};
	struct m2w_cache *cache = NULL;
	char *mpath = NULL;
	const char *const *deps;
	size_t ndeps;
	bool hit = false;

	if (no_cache || (cache_dir && !*cache_dir))
		cache_dir = NULL;

	o.only = only;
	o.nonly = nonly;
	o.names_path = names;
	if (!quiet) {
		o.warn = warn;
		o.warn_ctx = (void *)model;
	}
	if (names) {
		m2w_diag_init(&d, names);
		if (!(map = read_names(names, &names_file, &d))) {
			rc = fail(&d);
			goto out;
		}
		o.names = map;
		o.names_text = (const char *)names_file.data;
		o.names_len = names_file.size;
	}
	m2w_diag_init(&d, model);

	/* a bare TensorProto converts to .npy */
	struct m2w_file f;
	enum m2w_format fmt;
	if (m2w_file_map(&f, model, &d)) {
		rc = fail(&d);
		goto out;
	}
	fmt = m2w_detect_format(f.data, f.size);
	m2w_file_unmap(&f);

	if (fmt == M2W_FMT_TENSORPB) {
		o.dtype = !dtype ? M2W_EXTRACT_KEEP : !strcmp(dtype, "f16") ? M2W_EXTRACT_F16 : M2W_EXTRACT_F32;
		if (m2w_extract_tensorpb(model, out, &o, &r, &d)) {
			rc = fail(&d);
			goto out;
		}
	} else {
		o.dtype = dtype && !strcmp(dtype, "f16") ? M2W_EXTRACT_F16 : M2W_EXTRACT_F32;
		if (cache_dir && (cache = cache_open(cache_dir, model, names, &o, quiet))) {
			struct m2w_diag cd;
			size_t nchanged;
			if (!(mpath = o.manifest ? strdup(o.manifest) : m2w_extract_manifest_path(out))) {
				fprintf(stderr, "%s: out of memory\n", prog);
				goto out;
			}
			struct m2w_cache_dest dest[] = {{"blob", out}, {"manifest", mpath}};
			m2w_diag_init(&cd, cache_dir);
			int h = m2w_cache_lookup(cache, dest, 2, NULL, &nchanged, &cd);
			if (h < 0)
				m2w_cache_warn(prog, "cache lookup", &cd, quiet);
			if (m2w_cache_note(cache) && !quiet)
				fprintf(stderr, "%s: warning: cache: %s\n", prog, m2w_cache_note(cache));
			hit = h == 1;
		}
		if (!hit && m2w_extract_model(model, out, &o, &r, &d)) {
			rc = fail(&d);
			goto out;
		}
		if (verify) {
			uint64_t ndiff;
			if (m2w_extract_verify(model, out, &o, &ndiff, &d)) {
				rc = fail(&d);
				goto out;
			}
		}
	}
	if (cache && !hit) {
		struct m2w_diag cd;
		int s = 0;
		m2w_diag_init(&cd, cache_dir);
		for (size_t i = 0; i < r.ndeps && s == 0; i++)
			s = m2w_cache_add_extra(cache, r.deps[i], &cd);
		if (s == 0 && (m2w_cache_add_output(cache, "blob", out, &cd) < 0 ||
		    m2w_cache_add_output(cache, "manifest", mpath, &cd) < 0 ||
		    m2w_cache_store(cache, &cd) < 0))
			s = -1;
		if (s < 0)
			m2w_cache_warn(prog, "cache miss, not stored", &cd, quiet);
		else if (!quiet)
			fprintf(stderr, "%s: cache miss, stored (%s)\n", prog, m2w_cache_entry(cache));
	} else if (hit && !quiet) {
		fprintf(stderr, "%s: cache hit (%s)\n", prog, m2w_cache_entry(cache));
	}
	deps = (const char *const *)r.deps;
	ndeps = r.ndeps;
	if (hit)
		ndeps = m2w_cache_extras(cache, &deps);
	if (depfile) {
		m2w_diag_init(&d, depfile);
		if (m2w_depfile_write(depfile, out, deps, ndeps, &d)) {
			rc = fail(&d);
			goto out;
		}
	}
	rc = 0;
out:
	m2w_extract_result_free(&r);
	m2w_cache_free(cache);
	free(mpath);
	cJSON_Delete(map);
	m2w_file_unmap(&names_file);
	free(only);
	return rc;
}
