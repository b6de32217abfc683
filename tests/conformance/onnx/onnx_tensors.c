/* onnx-tensors: every initializer's decoded data, through libm2w's ONNX C
 * API (m2w_onnx_parse, m2w_onnx_walk_graphs, m2w_onnx_tensor_stream), as
 * JSON for check_onnx.py to compare with numpy_helper.to_array.
 *
 *   onnx-tensors MODEL.onnx     initializers of every graph, pre-order;
 *                               a sparse initializer gives its values then
 *                               its indices
 *   onnx-tensors --pb FILE.pb   the one TensorProto of a test data file
 *
 * Prints [{"name","dtype","shape","bytes","crc32"}]: bytes and crc32 of the
 * stream (little-endian elements; strings as u64 length + bytes).
 */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "onnx.h"

struct crc {
	uLong crc;
	uint64_t bytes;
};

static int crc_sink(void *ctx, const void *p, size_t n, struct m2w_diag *d)
{
	struct crc *c = ctx;
	(void)d;
	c->bytes += n;
	/* zlib takes uInt lengths */
	for (const Bytef *b = p; n;) {
		uInt k = n > (1u << 30) ? (1u << 30) : (uInt)n;
		c->crc = crc32(c->crc, b, k);
		b += k;
		n -= k;
	}
	return 0;
}

struct dump {
	const struct m2w_onnx_model *m;
	struct m2w_diag *d;
	cJSON *out;
};

static int dump_tensor(struct dump *w, const struct m2w_onnx_tensor *t)
{
	struct crc c = {crc32(0, Z_NULL, 0), 0};
	char *name = m2w_pbstr_dup(t->name);
	const char *dt = m2w_onnx_dtype_name(t->data_type);
	cJSON *o = cJSON_CreateObject(), *shape = cJSON_AddArrayToObject(o, "shape");
	if (!name)
		return m2w_err(w->d, M2W_NO_OFFSET, "out of memory");
	cJSON_AddStringToObject(o, "name", name);
	free(name);
	if (dt)
		cJSON_AddStringToObject(o, "dtype", dt);
	else
		cJSON_AddNullToObject(o, "dtype");
	for (size_t i = 0; i < t->ndim; i++)
		cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)t->dims[i]));
	cJSON_AddItemToArray(w->out, o);
	if (m2w_onnx_tensor_stream(w->m, t, crc_sink, &c, w->d))
		return -1;
	cJSON_AddNumberToObject(o, "bytes", (double)c.bytes);
	cJSON_AddNumberToObject(o, "crc32", (double)c.crc);
	return 0;
}

static int visit(void *ctx, const struct m2w_onnx_graph *g, int depth)
{
	struct dump *w = ctx;
	(void)depth;
	for (size_t i = 0; i < g->ninits; i++)
		if (dump_tensor(w, &g->inits[i]))
			return -1;
	for (size_t i = 0; i < g->nsparse; i++)
		if (dump_tensor(w, &g->sparse[i].values) || dump_tensor(w, &g->sparse[i].indices))
			return -1;
	return 0;
}

int main(int argc, char **argv)
{
	bool pb = argc == 3 && !strcmp(argv[1], "--pb");
	if (argc != 2 + pb) {
		fprintf(stderr, "usage: onnx-tensors MODEL.onnx | --pb TENSOR.pb\n");
		return 2;
	}
	const char *path = argv[1 + pb];
	struct m2w_diag d;
	struct m2w_file f;
	struct m2w_onnx_model *m = NULL;
	char buf[768];
	int rc = 1;

	m2w_diag_init(&d, path);
	if (m2w_file_map(&f, path, &d) < 0)
		goto fail;
	const char *slash = strrchr(path, '/');
	char *dir = slash ? strndup(path, (size_t)(slash - path) + (slash == path)) : strdup(".");
	struct dump w = {.d = &d, .out = cJSON_CreateArray()};
	if (pb ? m2w_onnx_parse_tensorpb(f.data, f.size, dir, &m, &d) : m2w_onnx_parse(f.data, f.size, dir, &m, &d)) {
		free(dir);
		cJSON_Delete(w.out);
		m2w_file_unmap(&f);
		goto fail;
	}
	w.m = m;
	if (pb ? dump_tensor(&w, m->tensor) == 0 : m2w_onnx_walk_graphs(m->graph, visit, &w) == 0) {
		char *s = cJSON_PrintUnformatted(w.out);
		puts(s);
		free(s);
		rc = 0;
	}
	cJSON_Delete(w.out);
	m2w_onnx_free(m);
	m2w_file_unmap(&f);
	free(dir);
	if (rc == 0)
		return 0;
fail:
	m2w_diag_format(&d, buf, sizeof buf);
	fprintf(stderr, "onnx-tensors: %s\n", buf);
	return 1;
}
