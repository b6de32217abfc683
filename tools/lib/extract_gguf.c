/* extract_gguf: the GGUF front-end of m2w-extract.
 *
 * Every tensor, in file order.  Shapes are reversed from ggml's ne[] (ne[0]
 * is the row length, the last dim in C order) to the C-order shape numpy
 * and the shaders use.  f32 / f16 / bf16 / f64 become the output dtype;
 * the block types of dequant.c are dequantized to f32 (then f16 with
 * --dtype f16); i8..i64 stay integers.  Other block types (iq*, tq*,
 * mxfp4 ...) are refused unless --only leaves them out.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dequant.h"
#include "extract_int.h"
#include "gguf.h"

static int oom(struct m2w_diag *d) { return m2w_err(d, M2W_NO_OFFSET, "out of memory"); }

static int gguf_stream(struct xt_ctx *x, const struct xt_tensor *t, xt_sink sink, void *sctx,
	struct m2w_diag *d)
{
	const struct m2w_gguf_tensor *g = t->h;
	(void)x;
	return t->src_bytes ? sink(sctx, g->data, (size_t)t->src_bytes, d) : 0;
}

static void gguf_free(struct xt_ctx *x)
{
	struct m2w_gguf *g = x->fe;
	if (g) {
		m2w_gguf_free(g);
		free(g);
	}
	x->fe = NULL;
}

int xt_gguf_open(struct xt_ctx *x, const uint8_t *p, size_t n, struct m2w_diag *d)
{
	struct m2w_gguf *g = calloc(1, sizeof *g);

	x->format = "gguf";
	x->stream = gguf_stream;
	x->fe_free = gguf_free;
	if (!g)
		return oom(d);
	if (m2w_gguf_parse(p, n, g, d)) {
		free(g);
		return -1;
	}
	x->fe = g;
	for (uint64_t i = 0; i < g->n_tensors; i++) {
		const struct m2w_gguf_tensor *gt = &g->tensors[i];
		const struct m2w_ggml_type *ty = gt->type;
		struct xt_tensor *t = xt_add(x);
		if (!t || !(t->source = xt_strndup(gt->name, (size_t)gt->name_len)))
			return oom(d);
		t->kind = "tensor";
		t->ndim = (int)gt->n_dims;
		for (int k = 0; k < t->ndim; k++)
			t->dims[k] = gt->ne[t->ndim - 1 - k];
		t->count = gt->n_elements;
		t->src_bytes = gt->bytes;
		t->doff = gt->info_off;
		t->h = gt;
		t->src_dtype = ty->name;
		if (!ty->quantized) {
			t->codec = XT_PLAIN;
			t->sdt = ty->dtype;
		} else if (m2w_ggml_dequant_supported(ty->id)) {
			t->codec = XT_GGML;
			t->ggml = ty;
		} else {
			t->codec = XT_GGML;
			t->ggml = ty;
			t->unsupported = "ggml block type not supported";
		}
	}
	return 0;
}
