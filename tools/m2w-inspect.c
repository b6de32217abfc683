/* m2w-inspect: what is in a model file, as a summary, the stable JSON of
 * DESIGN.md, or a "Model Architecture" document; and the model rewritten
 * with every intermediate exposed, for dumping reference activations. */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "describe.h"
#include "inspect_render.h"

static const char *prog = "m2w-inspect";

static void usage(FILE *fp)
{
	fprintf(fp,
		"Usage: %s [OPTION]... MODEL\n"
		"Describe a model file (ONNX, GGUF, TFLite, MediaPipe .task zip, .npy, ONNX\n"
		"TensorProto .pb); the format is detected from the bytes, not the name.\n"
		"\n"
		"  -j, --json                   print the stable JSON description (DESIGN.md)\n"
		"  -o, --output FILE            write the summary / JSON to FILE instead of\n"
		"                               stdout (atomically, only when it changes)\n"
		"  -m, --markdown FILE          write the \"Model Architecture\" document\n"
		"  -x, --expose-intermediates OUT\n"
		"                               write the model with every node output of the\n"
		"                               main graph added as a graph output (ONNX, TFLite)\n"
		"      --no-hash                with --markdown: skip hashing tensor bytes\n"
		"                               (no tied-weight detection; header-only read)\n"
		"  -h, --help                   show this help and exit\n"
		"  -V, --version                show the version and exit\n"
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

static int describe_npy(const uint8_t *p, size_t n, cJSON **out, struct m2w_diag *d)
{
	struct m2w_npy a;
	cJSON *j, *t, *shape;

	if (m2w_npy_parse(p, n, &a, d) < 0)
		return -1;
	j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "format", "npy");
	cJSON_AddNumberToObject(j, "bytes", (double)n);
	cJSON_AddItemToObject(j, "inputs", cJSON_CreateArray());
	cJSON_AddItemToObject(j, "outputs", cJSON_CreateArray());
	cJSON_AddItemToObject(j, "ops", cJSON_CreateObject());
	cJSON_AddNumberToObject(j, "graphs", 0);
	t = cJSON_CreateObject();
	cJSON_AddStringToObject(t, "name", "array");
	shape = cJSON_AddArrayToObject(t, "shape");
	for (int i = 0; i < a.ndim; i++)
		cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)a.shape[i]));
	cJSON_AddStringToObject(t, "dtype", m2w_dtype_name(a.dtype));
	cJSON_AddNumberToObject(t, "bytes", (double)(a.count * m2w_dtype_size(a.dtype)));
	cJSON_AddNullToObject(t, "quant");
	cJSON_AddItemToArray(cJSON_AddArrayToObject(j, "tensors"), t);
	cJSON_AddNumberToObject(j, "params", (double)a.count);
	cJSON_AddItemToObject(j, "metadata", cJSON_CreateObject());
	*out = j;
	return 0;
}

/* The model's folder, for ONNX external data. */
static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return strdup(".");
	return strndup(path, (size_t)(slash - path) + (slash == path));
}

static int describe(enum m2w_format fmt, const struct m2w_file *f, const char *dir,
	const struct m2w_describe_opts *o, cJSON **j, struct m2w_diag *d)
{
	switch (fmt) {
	case M2W_FMT_ONNX: return m2w_describe_onnx(f->data, f->size, dir, o, j, d);
	case M2W_FMT_TENSORPB: return m2w_describe_tensorpb(f->data, f->size, o, j, d);
	case M2W_FMT_GGUF: return m2w_describe_gguf(f->data, f->size, o, j, d);
	case M2W_FMT_TFLITE: return m2w_describe_tflite(f->data, f->size, o, j, d);
	case M2W_FMT_TASK: return m2w_describe_task(f->data, f->size, o, j, d);
	case M2W_FMT_NPY: return describe_npy(f->data, f->size, j, d);
	case M2W_FMT_UNKNOWN:
		return m2w_err(d, 0, "unknown model format (not ONNX, GGUF, TFLite, a .task zip "
				     "or .npy): first bytes do not match any of them");
	default:
		return m2w_err(d, 0, "%s files are not supported by this build",
			m2w_format_name(fmt));
	}
}

static int expose(enum m2w_format fmt, const struct m2w_file *f, const char *out,
	struct m2w_diag *d)
{
	switch (fmt) {
	case M2W_FMT_ONNX: return m2w_expose_onnx(f->data, f->size, out, d);
	case M2W_FMT_TFLITE: return m2w_expose_tflite(f->data, f->size, out, d);
	default:
		return m2w_err(d, M2W_NO_OFFSET,
			"--expose-intermediates needs an ONNX or TFLite model, this is %s",
			m2w_format_name(fmt));
	}
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"json", no_argument, NULL, 'j'},
		{"output", required_argument, NULL, 'o'},
		{"markdown", required_argument, NULL, 'm'},
		{"expose-intermediates", required_argument, NULL, 'x'},
		{"no-hash", no_argument, NULL, 'H'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	const char *output = NULL, *markdown = NULL, *exposed = NULL;
	bool json = false, hash = true;
	int c;

	while ((c = getopt_long(argc, argv, "jo:m:x:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'j': json = true; break;
		case 'o': output = optarg; break;
		case 'm': markdown = optarg; break;
		case 'x': exposed = optarg; break;
		case 'H': hash = false; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("%s %s\n", prog, M2W_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "%s: expected exactly one MODEL, got %d; see --help\n", prog,
			argc - optind);
		return 2;
	}
	const char *model = argv[optind];
	struct m2w_diag d;
	struct m2w_file f;
	cJSON *j = NULL;
	int rc = 1;

	m2w_diag_init(&d, model);
	if (m2w_file_map(&f, model, &d) < 0)
		return fail(&d);
	enum m2w_format fmt = m2w_detect_format(f.data, f.size);
	char *dir = dir_of(model);
	struct m2w_describe_opts opts = {.hash_tensors = markdown && hash};

	if (describe(fmt, &f, dir, &opts, &j, &d) < 0) {
		fail(&d);
		goto out;
	}
	if (exposed && expose(fmt, &f, exposed, &d) < 0) {
		fail(&d);
		goto out;
	}
	if (markdown) {
		char *md = inspect_markdown(j, model);
		struct m2w_diag wd;
		m2w_diag_init(&wd, markdown);
		if (!md || m2w_write_if_changed(markdown, md, strlen(md), NULL, &wd) < 0) {
			if (!md)
				m2w_err(&wd, M2W_NO_OFFSET, "out of memory");
			free(md);
			fail(&wd);
			goto out;
		}
		free(md);
	}
	/* the summary / JSON goes to stdout unless only files were asked for */
	if (json || output || (!markdown && !exposed)) {
		char *text = NULL;
		if (json) {
			inspect_strip_private(j);
			char *s = cJSON_Print(j);
			if (s) {
				size_t n = strlen(s);
				text = malloc(n + 2);
				if (text)
					memcpy(text, s, n), text[n] = '\n', text[n + 1] = '\0';
				cJSON_free(s);
			}
		} else {
			size_t n = 0;
			FILE *mem = open_memstream(&text, &n);
			if (mem) {
				inspect_summary(j, model, mem);
				fclose(mem);
			}
		}
		if (!text) {
			m2w_err(&d, M2W_NO_OFFSET, "out of memory");
			fail(&d);
			goto out;
		}
		if (output) {
			struct m2w_diag wd;
			m2w_diag_init(&wd, output);
			if (m2w_write_if_changed(output, text, strlen(text), NULL, &wd) < 0) {
				free(text);
				fail(&wd);
				goto out;
			}
		} else if (fputs(text, stdout) == EOF || fflush(stdout) == EOF) {
			free(text);
			fprintf(stderr, "%s: error writing to stdout\n", prog);
			goto out;
		}
		free(text);
	}
	rc = 0;
out:
	cJSON_Delete(j);
	free(dir);
	m2w_file_unmap(&f);
	return rc;
}
