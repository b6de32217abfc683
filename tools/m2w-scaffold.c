/* m2w-scaffold: a readable, model-specific TypeScript engine draft
 * (engine.ts, types.ts) and report.json from a model's graph. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "describe.h"
#include "scaffold.h"

static const char *prog = "m2w-scaffold";

#ifndef M2W_SCAFFOLD_MAX_OPTS
#define M2W_SCAFFOLD_MAX_OPTS 64 /* --dim and --const each */
#endif

static void usage(FILE *fp)
{
	fprintf(fp,
		"Usage: %s [OPTION]... MODEL -o DIR\n"
		"Draft a model-specific WebGPU engine from an ONNX or TFLite graph (the format\n"
		"is detected from the bytes): DIR/engine.ts (work buffers sized for the model's\n"
		"static shapes and shared where lifetimes allow, one pipeline per library\n"
		"shader, bind groups made once, the dispatch list in graph order with exact\n"
		"dims, debugCapture checkpoints named after the graph's tensors), DIR/types.ts\n"
		"(inputs, outputs, checkpoint order) and DIR/report.json (every node: shaders,\n"
		"view, fused or stub).  Nodes with no library shader are stubs that throw with\n"
		"the op name.  The engine loads the weights m2w-extract writes for the model.\n"
		"\n"
		"TFLite: the main subgraph, lowered to the same ops; rank-4 tensors (NHWC in\n"
		"the file) are NCHW in the engine, the input included, so a rank-4 checkpoint\n"
		"is the NCHW permutation of the TFLite tensor of that name; f16 weights read\n"
		"through DEQUANTIZE are the constants themselves (f32 on the GPU); every\n"
		"tensor takes the shape stored in the file (--dim and --const are ONNX's).\n"
		"\n"
		"  -o, --output DIR        where the three files go (created if missing);\n"
		"                          each written atomically, only when it changes\n"
		"  -d, --dim NAME=VALUE    bind a symbolic input dim (repeatable); an unbound\n"
		"                          one is an error: static shapes are required\n"
		"  -c, --const NAME=FILE   fix ONNX graph input NAME to the value in FILE, a\n"
		"                          TensorProto (.pb), at scaffold time (shape inputs,\n"
		"                          pads, TopK's k, Gather indices; repeatable)\n"
		"  -f, --flush N           the engine's default Batcher flushEvery (default 64)\n"
		"  -h, --help              show this help and exit\n"
		"  -V, --version           show the version and exit\n"
		"\n"
		"Exit status: 0 success, 1 bad input or I/O error, 2 usage error.\n"
		"Errors read \"%s: FILE:0xOFFSET: error: WHAT\".\n",
		prog, prog);
}

static int fail(const struct m2w_diag *d)
{
	char buf[768];

	m2w_diag_format(d, buf, sizeof buf);
	fprintf(stderr, "%s: %s\n", prog, buf);
	return 1;
}

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return strdup(".");
	return strndup(path, (size_t)(slash - path) + (slash == path));
}

static int write_one(const char *dir, const char *name, const char *text)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *path = malloc(n);
	struct m2w_diag d;
	if (!path) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return 1;
	}
	snprintf(path, n, "%s/%s", dir, name);
	m2w_diag_init(&d, path);
	int rc = m2w_write_if_changed(path, text, strlen(text), NULL, &d) < 0 ? fail(&d) : 0;
	free(path);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"output", required_argument, NULL, 'o'},
		{"dim", required_argument, NULL, 'd'},
		{"const", required_argument, NULL, 'c'},
		{"flush", required_argument, NULL, 'f'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	const char *out = NULL, *dim_names[M2W_SCAFFOLD_MAX_OPTS], *const_args[M2W_SCAFFOLD_MAX_OPTS];
	char *names[M2W_SCAFFOLD_MAX_OPTS];
	int64_t dim_values[M2W_SCAFFOLD_MAX_OPTS];
	size_t ndims = 0, nconsts = 0;
	unsigned long flush = 0;
	int c;

	while ((c = getopt_long(argc, argv, "o:d:c:f:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'o': out = optarg; break;
		case 'd': {
			char *eq = strchr(optarg, '='), *end;
			if (!eq || eq == optarg || ndims == M2W_SCAFFOLD_MAX_OPTS) {
				fprintf(stderr, "%s: --dim wants NAME=VALUE (at most %d), got '%s'\n", prog,
					M2W_SCAFFOLD_MAX_OPTS, optarg);
				return 2;
			}
			errno = 0;
			long long v = strtoll(eq + 1, &end, 10);
			if (errno || *end || end == eq + 1 || v < 0 || v > (1LL << 40)) {
				fprintf(stderr, "%s: --dim %s: the value must be an integer in 0..2^40\n", prog, optarg);
				return 2;
			}
			*eq = '\0';
			dim_names[ndims] = optarg;
			dim_values[ndims++] = v;
			break;
		}
		case 'c':
			if (!strchr(optarg, '=') || optarg[0] == '=' || nconsts == M2W_SCAFFOLD_MAX_OPTS) {
				fprintf(stderr, "%s: --const wants NAME=FILE (at most %d), got '%s'\n", prog,
					M2W_SCAFFOLD_MAX_OPTS, optarg);
				return 2;
			}
			const_args[nconsts++] = optarg;
			break;
		case 'f': {
			char *end;
			errno = 0;
			flush = strtoul(optarg, &end, 10);
			if (errno || *end || flush < 1 || flush > 100000) {
				fprintf(stderr, "%s: --flush wants a count in 1..100000, got '%s'\n", prog, optarg);
				return 2;
			}
			break;
		}
		case 'h': usage(stdout); return 0;
		case 'V': printf("%s %s\n", prog, M2W_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind + 1 != argc || !out) {
		fprintf(stderr, "%s: expected one MODEL and -o DIR; see --help\n", prog);
		return 2;
	}
	const char *model = argv[optind];
	struct m2w_diag d;
	struct m2w_file f, cf[M2W_SCAFFOLD_MAX_OPTS];
	struct m2w_scaffold_const consts[M2W_SCAFFOLD_MAX_OPTS];
	struct m2w_scaffold_result r = {0};
	size_t mapped = 0;
	int rc = 1;
	char *dir = NULL;

	m2w_diag_init(&d, model);
	if (m2w_file_map(&f, model, &d) < 0)
		return fail(&d);
	for (; mapped < nconsts; mapped++) {
		char *eq = strchr(const_args[mapped], '=');
		names[mapped] = strndup(const_args[mapped], (size_t)(eq - const_args[mapped]));
		m2w_diag_init(&d, eq + 1);
		if (!names[mapped] || m2w_file_map(&cf[mapped], eq + 1, &d) < 0) {
			if (names[mapped])
				fail(&d);
			free(names[mapped]);
			goto out;
		}
		consts[mapped] = (struct m2w_scaffold_const){names[mapped], cf[mapped].data, cf[mapped].size, eq + 1};
	}
	m2w_diag_init(&d, model);
	enum m2w_format fmt = m2w_detect_format(f.data, f.size);
	if (fmt != M2W_FMT_ONNX && fmt != M2W_FMT_TFLITE) {
		m2w_err(&d, 0, "%s models are not supported (ONNX and TFLite are)", m2w_format_name(fmt));
		fail(&d);
		goto out;
	}
	if (fmt == M2W_FMT_TFLITE && (nconsts || ndims)) {
		m2w_err(&d, M2W_NO_OFFSET, "--%s applies to ONNX graphs; a TFLite model's tensors carry static shapes "
			"and its constants are in the file", nconsts ? "const" : "dim");
		fail(&d);
		goto out;
	}
	const char *base = strrchr(model, '/');
	struct m2w_scaffold_opts o = {
		.model_name = base ? base + 1 : model,
		.ndims = ndims,
		.dim_names = dim_names,
		.dim_values = dim_values,
		.nconsts = nconsts,
		.consts = consts,
		.flush = (unsigned)flush,
	};
	dir = dir_of(model);
	if (!dir || (fmt == M2W_FMT_TFLITE ? m2w_scaffold_tflite(f.data, f.size, &o, &r, &d)
					    : m2w_scaffold_onnx(f.data, f.size, dir, &o, &r, &d)) < 0) {
		if (!dir)
			m2w_err(&d, M2W_NO_OFFSET, "out of memory");
		fail(&d);
		goto out;
	}
	if (mkdir(out, 0777) < 0 && errno != EEXIST) {
		fprintf(stderr, "%s: %s: error: cannot create the folder: %s\n", prog, out, strerror(errno));
		goto out;
	}
	if (write_one(out, "engine.ts", r.engine_ts) || write_one(out, "types.ts", r.types_ts) ||
	    write_one(out, "report.json", r.report_json))
		goto out;
	rc = 0;
out:
	m2w_scaffold_result_free(&r);
	free(dir);
	for (size_t i = 0; i < mapped; i++) {
		m2w_file_unmap(&cf[i]);
		free(names[i]);
	}
	m2w_file_unmap(&f);
	return rc;
}
