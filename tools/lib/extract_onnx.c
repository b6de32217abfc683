/* extract_onnx: the ONNX front-end of m2w-extract.
 *
 * Tensors, in this order for each graph, then its subgraphs (pre-order):
 * the graph's initializers, then the tensors of its Constant nodes
 * (value; value_float(s) as f32, value_int(s) as i64).  Sparse initializers
 * and string tensors are listed as skipped.
 *
 * Quantized weights: an integer (or float8) initializer or constant that
 * one of these nodes reads with constant scales is dequantized to
 * (float(q) - float(zero_point)) * scale in f32:
 *
 *   DequantizeLinear(x, scale, zp; axis=1, block_size=0)   per-tensor, per-axis, blocked
 *   QLinearConv(.., w, w_scale, w_zp, .., B)               w per output channel (axis 0);
 *                                                          B (i32) with scale x_scale*w_scale, zp 0
 *   QLinearMatMul(a, a_scale, a_zp, b, b_scale, b_zp ..)   a per row (axis -2), b per column (-1)
 *   QGemm (com.microsoft)                                  b per column (axis 1, or 0 if transB)
 *   MatMulIntegerToFloat, DynamicQuantizeMatMul (com.microsoft)  b per column
 *   MatMulInteger(A, B, a_zp, b_zp), ConvInteger(x, w, x_zp, w_zp)
 *       no scale input: the scale is taken from the pattern quantize_dynamic
 *       writes (Y -> Cast -> Mul(., Mul(a_scale, CONST))), else 1
 *   DynamicQuantizeLSTM (com.microsoft)(X, W, R, .., W_scale, W_zp, R_scale, R_zp)
 *       W [D, input, 4*hidden] and R [D, hidden, 4*hidden] (transposed
 *       relative to LSTM's W/R, recorded in the manifest, not undone),
 *       scales per direction [D] or per direction and column [D, 4*hidden]
 *
 * The first such consumer in graph order decides; a weight whose scale is
 * not constant stays an integer tensor (with a warning).  Bad parameters
 * (zero or non-finite scale, zero point outside the weight's type, axis
 * out of range, scale count not matching the axis) are errors naming the
 * weight, at the offset of the scale / zero-point tensor or attribute.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extract_int.h"
#include "onnx.h"

enum { H_TENSOR = 1, H_FLOAT, H_FLOATS, H_INT, H_INTS };
#define NONE SIZE_MAX

struct src {
	int kind;        /* H_* */
	struct m2w_pbstr name;
	const void *p;   /* struct m2w_onnx_tensor * or struct m2w_onnx_attr * */
	size_t tidx;     /* its xt_tensor, or NONE (skipped) */
};

/* name -> src, for one graph's scope */
struct scope {
	const struct scope *up;
	size_t cap;
	struct m2w_pbstr *k;
	struct src *v;
};

struct onx {
	struct xt_ctx *x;
	struct m2w_onnx_model *m;
	char *dir;
};

static size_t slot(const struct scope *s, struct m2w_pbstr k)
{
	size_t i = (size_t)m2w_xxh3(k.p, k.n) & (s->cap - 1);
	while (s->k[i].p && !(s->k[i].n == k.n && !memcmp(s->k[i].p, k.p, k.n)))
		i = (i + 1) & (s->cap - 1);
	return i;
}

static int scope_init(struct scope *s, const struct scope *up, size_t n)
{
	s->up = up;
	s->cap = 16;
	while (s->cap < 2 * n + 2)
		s->cap *= 2;
	s->k = calloc(s->cap, sizeof *s->k);
	s->v = calloc(s->cap, sizeof *s->v);
	return s->k && s->v ? 0 : -1;
}

static void scope_put(struct scope *s, struct m2w_pbstr k, struct src v)
{
	size_t i;
	if (!k.n)
		return;
	i = slot(s, k);
	s->k[i] = k;
	s->v[i] = v;
}

static const struct src *lookup(const struct scope *s, struct m2w_pbstr k)
{
	if (!k.n)
		return NULL;
	for (; s; s = s->up) {
		size_t i = slot(s, k);
		if (s->k[i].p)
			return &s->v[i];
	}
	return NULL;
}

/* ONNX data type -> codec.  false for types without a fixed-size encoding. */
static bool codec_of(int32_t dt, struct xt_tensor *t)
{
	t->codec = XT_PLAIN;
	t->src_dtype = m2w_onnx_dtype_name(dt);
	switch (dt) {
	case M2W_ONNX_FLOAT8E4M3FN: t->codec = XT_F8E4M3FN; t->sdt = M2W_DT_U8; return true;
	case M2W_ONNX_FLOAT8E4M3FNUZ: t->codec = XT_F8E4M3FNUZ; t->sdt = M2W_DT_U8; return true;
	case M2W_ONNX_FLOAT8E5M2: t->codec = XT_F8E5M2; t->sdt = M2W_DT_U8; return true;
	case M2W_ONNX_FLOAT8E5M2FNUZ: t->codec = XT_F8E5M2FNUZ; t->sdt = M2W_DT_U8; return true;
	case M2W_ONNX_FLOAT8E8M0: t->codec = XT_F8E8M0; t->sdt = M2W_DT_U8; return true;
	case M2W_ONNX_FLOAT4E2M1: t->codec = XT_F4E2M1; t->sdt = M2W_DT_U8; return true;
	case M2W_ONNX_INT4: t->codec = XT_I4; t->sdt = M2W_DT_I8; return true;
	case M2W_ONNX_UINT4: t->codec = XT_U4; t->sdt = M2W_DT_U8; return true;
	case M2W_ONNX_INT2: t->codec = XT_I2; t->sdt = M2W_DT_I8; return true;
	case M2W_ONNX_UINT2: t->codec = XT_U2; t->sdt = M2W_DT_U8; return true;
	default:
		t->sdt = m2w_onnx_dtype_to_m2w(dt);
		return t->sdt != M2W_DT_UNKNOWN && t->sdt != M2W_DT_STRING && t->sdt != M2W_DT_I4 &&
		       t->sdt != M2W_DT_U4;
	}
}

static bool is_int_codec(const struct xt_tensor *t)
{
	switch (t->codec) {
	case XT_I4: case XT_U4: case XT_I2: case XT_U2: return true;
	case XT_PLAIN:
		return t->sdt == M2W_DT_I8 || t->sdt == M2W_DT_U8 || t->sdt == M2W_DT_I16 ||
		       t->sdt == M2W_DT_U16 || t->sdt == M2W_DT_I32 || t->sdt == M2W_DT_U32 ||
		       t->sdt == M2W_DT_I64 || t->sdt == M2W_DT_U64;
	case XT_F8E4M3FN: case XT_F8E4M3FNUZ: case XT_F8E5M2: case XT_F8E5M2FNUZ:
		return true; /* float8 is quantized too (DequantizeLinear opset 19) */
	default:
		return false;
	}
}

static char *label(const struct m2w_onnx_node *n, size_t i)
{
	char buf[64];
	if (n->name.n)
		return m2w_pbstr_dup(n->name);
	if (n->noutputs && n->outputs[0].n)
		return m2w_pbstr_dup(n->outputs[0]);
	snprintf(buf, sizeof buf, "%.*s#%zu", (int)(n->op_type.n > 40 ? 40 : n->op_type.n), n->op_type.p, i);
	return strdup(buf);
}

static int oom(struct m2w_diag *d) { return m2w_err(d, M2W_NO_OFFSET, "out of memory"); }

/* Adds an xt_tensor for TensorProto ot; *idx = NONE when it is skipped. */
static int add_tensor(struct onx *s, const struct m2w_onnx_tensor *ot, const char *kind, const char *graph,
	bool keep_strings, size_t *idx, struct m2w_diag *d)
{
	struct xt_ctx *x = s->x;
	struct xt_tensor tmp = {0};
	char *name = m2w_pbstr_dup(ot->name);

	*idx = NONE;
	if (!name)
		return oom(d);
	if (ot->data_type == M2W_ONNX_STRING && keep_strings) {
		tmp.sdt = M2W_DT_STRING;
		tmp.src_dtype = "string";
	} else if (!codec_of(ot->data_type, &tmp)) {
		const char *dn = m2w_onnx_dtype_name(ot->data_type);
		int rc = xt_add_skip(x, name, dn ? dn : "unknown",
			ot->data_type == M2W_ONNX_STRING ? "string tensor (no numeric data)"
							 : "data type without a fixed-size encoding");
		free(name);
		return rc ? oom(d) : 0;
	}
	if (ot->ndim > M2W_MAX_DIMS) {
		free(name);
		return m2w_err(d, ot->off, "tensor '%.*s' has %zu dims, limit %d", (int)(ot->name.n > 200 ? 200 : ot->name.n),
			ot->name.p, ot->ndim, M2W_MAX_DIMS);
	}
	if (ot->store == M2W_ONNX_STORE_EXTERNAL) {
		char *path;
		if (m2w_onnx_external_path(s->m, ot, &path, d)) {
			free(name);
			return -1;
		}
		int rc = xt_add_dep(x, path);
		free(path);
		if (rc) {
			free(name);
			return oom(d);
		}
	}
	struct xt_tensor *t = xt_add(x);
	if (!t) {
		free(name);
		return oom(d);
	}
	t->codec = tmp.codec;
	t->sdt = tmp.sdt;
	t->src_dtype = tmp.src_dtype;
	t->source = name;
	t->kind = kind;
	t->graph = graph ? strdup(graph) : NULL;
	t->ndim = (int)ot->ndim;
	for (size_t k = 0; k < ot->ndim; k++)
		t->dims[k] = (uint64_t)ot->dims[k];
	t->count = ot->count;
	t->src_bytes = ot->nbytes;
	t->doff = ot->off;
	t->h = ot;
	t->hkind = H_TENSOR;
	*idx = x->n - 1;
	return 0;
}

/* value_float(s) / value_int(s) of a Constant node. */
static int add_attr(struct onx *s, const struct m2w_onnx_attr *a, struct m2w_pbstr out, const char *graph,
	int hk, size_t *idx, struct m2w_diag *d)
{
	struct xt_tensor *t = xt_add(s->x);
	if (!t || !(t->source = m2w_pbstr_dup(out)))
		return oom(d);
	bool fl = hk == H_FLOAT || hk == H_FLOATS;
	t->codec = XT_PLAIN;
	t->sdt = fl ? M2W_DT_F32 : M2W_DT_I64;
	t->src_dtype = fl ? "f32" : "i64";
	t->kind = "constant";
	t->graph = graph ? strdup(graph) : NULL;
	t->ndim = hk == H_FLOATS || hk == H_INTS;
	t->count = hk == H_FLOATS ? a->nfloats : hk == H_INTS ? a->nints : 1;
	t->dims[0] = t->count;
	t->src_bytes = t->count * (fl ? 4 : 8);
	t->doff = a->off;
	t->h = a;
	t->hkind = hk;
	*idx = s->x->n - 1;
	return 0;
}

static int onnx_stream(struct xt_ctx *x, const struct xt_tensor *t, xt_sink sink, void *sctx,
	struct m2w_diag *d)
{
	struct onx *s = x->fe;
	const struct m2w_onnx_attr *a = t->h;

	switch (t->hkind) {
	case H_TENSOR: return m2w_onnx_tensor_stream(s->m, t->h, sink, sctx, d);
	case H_FLOAT: return sink(sctx, &a->f, 4, d);
	case H_FLOATS: return a->nfloats ? sink(sctx, a->floats, a->nfloats * 4, d) : 0;
	case H_INT: return sink(sctx, &a->i, 8, d);
	case H_INTS: return a->nints ? sink(sctx, a->ints, a->nints * 8, d) : 0;
	default: return m2w_err(d, t->doff, "internal: unknown source");
	}
}

/* A constant's values as doubles (scales, zero points); *off locates them. */
static int read_vals(struct onx *s, const struct src *v, uint64_t limit, const char *what,
	const struct xt_tensor *w, double **out, uint64_t *n, uint64_t *off, struct m2w_diag *d)
{
	const struct m2w_onnx_attr *a = v->p;
	*out = NULL;
	if (v->kind != H_TENSOR) {
		*off = a->off;
		*n = v->kind == H_FLOATS ? a->nfloats : v->kind == H_INTS ? a->nints : 1;
		if (*n > limit)
			return m2w_err(d, *off, "tensor '%s': %s has %llu values for %llu elements", w->source,
				what, (unsigned long long)*n, (unsigned long long)limit);
		if (!(*out = malloc((*n ? *n : 1) * sizeof **out)))
			return oom(d);
		for (uint64_t i = 0; i < *n; i++)
			(*out)[i] = v->kind == H_FLOAT ? a->f : v->kind == H_FLOATS ? a->floats[i]
				  : v->kind == H_INT ? (double)a->i : (double)a->ints[i];
		return 0;
	}
	const struct m2w_onnx_tensor *ot = v->p;
	struct xt_tensor tmp = {0};
	*off = ot->store == M2W_ONNX_STORE_RAW ? ot->data_off : ot->off;
	*n = ot->count;
	if (!codec_of(ot->data_type, &tmp))
		return m2w_err(d, *off, "tensor '%s': %s is of type %s, not numeric", w->source, what,
			m2w_onnx_dtype_name(ot->data_type) ? m2w_onnx_dtype_name(ot->data_type) : "unknown");
	if (*n > limit)
		return m2w_err(d, *off, "tensor '%s': %s has %llu values for %llu elements", w->source, what,
			(unsigned long long)*n, (unsigned long long)limit);
	uint8_t *raw = malloc(ot->nbytes ? (size_t)ot->nbytes : 1);
	*out = malloc((*n ? *n : 1) * sizeof **out);
	if (!raw || !*out) {
		free(raw);
		free(*out);
		*out = NULL;
		return oom(d);
	}
	if (ot->nbytes && m2w_onnx_tensor_read(s->m, ot, raw, (size_t)ot->nbytes, d)) {
		free(raw);
		free(*out);
		*out = NULL;
		return -1;
	}
	for (uint64_t i = 0; i < *n; i++)
		(*out)[i] = xt_ref_element(&tmp, raw, i);
	free(raw);
	return 0;
}

static char *src_name(const struct src *v)
{
	return m2w_pbstr_dup(v->name);
}

enum axis_mode {
	AX_ATTR,   /* DequantizeLinear: `axis` given */
	AX_FIXED,  /* per-axis along `axis` (negative counts from the end) */
	AX_LSTM,   /* [D] or [D, 4*hidden] over [D, rows, 4*hidden] */
};

struct qspec {
	const char *op;
	size_t w, scale, zp;   /* input indices; NONE = absent */
	enum axis_mode mode;
	int64_t axis, block;
	uint64_t axis_off;     /* the attribute, for messages */
	const struct src *scale_src; /* overrides `scale` (MatMulInteger pattern) */
	bool unit_scale;       /* no scale: 1 */
	const char *note;
	const char *layout;
};

static struct m2w_pbstr input(const struct m2w_onnx_node *n, size_t i)
{
	struct m2w_pbstr none = {NULL, 0};
	return i != NONE && i < n->ninputs ? n->inputs[i] : none;
}

/* Attaches dequantization to the weight input of node n when it is a
 * stored tensor with constant parameters. */
static int quant_from(struct onx *s, const struct scope *sc, const struct m2w_onnx_node *n,
	const struct qspec *qs, struct m2w_diag *d)
{
	struct xt_ctx *x = s->x;
	const struct src *w = lookup(sc, input(n, qs->w));
	if (!w || w->tidx == NONE || x->t[w->tidx].q)
		return 0;
	struct xt_tensor *t = &x->t[w->tidx];
	if (!is_int_codec(t))
		return 0;
	const struct src *ss = qs->scale_src ? qs->scale_src : qs->unit_scale ? NULL : lookup(sc, input(n, qs->scale));
	const struct src *zs = lookup(sc, input(n, qs->zp));
	if ((!ss && !qs->unit_scale) || (input(n, qs->zp).n && !zs)) {
		xt_warn(x, "tensor '%s': %s reads it with a %s that is not a constant; kept as %s", t->source,
			qs->op, ss || qs->unit_scale ? "zero point" : "scale", t->src_dtype);
		return 0;
	}
	uint64_t limit = t->count ? t->count : 1, sn = 1, zn = 0, soff = t->doff, zoff = t->doff;
	double *sv = NULL, *zv = NULL;
	struct xt_quant *q = calloc(1, sizeof *q);
	int rc = -1;
	if (!q)
		return oom(d);
	q->op = qs->op;
	if (ss && read_vals(s, ss, limit, "scale", t, &sv, &sn, &soff, d))
		goto out;
	if (zs && read_vals(s, zs, limit, "zero point", t, &zv, &zn, &zoff, d))
		goto out;
	if (zs && ss && zn != sn) {
		m2w_err(d, zoff, "tensor '%s': %s has %llu scales and %llu zero points", t->source, qs->op,
			(unsigned long long)sn, (unsigned long long)zn);
		goto out;
	}
	if (!ss && zs)
		sn = zn; /* no scale (MatMulInteger, ConvInteger): 1 for each zero point */
	q->n = sn;
	q->scale = malloc(sn * sizeof *q->scale);
	if (!q->scale || (zs && !(q->zp = malloc(zn * sizeof *q->zp)))) {
		oom(d);
		goto out;
	}
	for (uint64_t i = 0; i < sn; i++)
		q->scale[i] = ss ? (float)sv[i] : 1.0f;
	for (uint64_t i = 0; i < zn; i++) {
		if (zv[i] != floor(zv[i]) || fabs(zv[i]) > 9.2e18) {
			m2w_err(d, zoff, "tensor '%s': %s zero point[%llu] is %g, not an integer", t->source,
				qs->op, (unsigned long long)i, zv[i]);
			goto out;
		}
		q->zp[i] = (int64_t)zv[i];
	}
	if (ss && !(q->scale_name = src_name(ss)))
		goto nomem;
	if (zs && !(q->zp_name = src_name(zs)))
		goto nomem;
	if (qs->note && !(q->note = strdup(qs->note)))
		goto nomem;
	for (int k = 0; k < M2W_MAX_DIMS; k++)
		q->sdim[k] = q->block[k] = 1;
	q->axis = -1;
	if (qs->mode == AX_LSTM) {
		uint64_t dirs = t->ndim == 3 ? t->dims[0] : 0, cols = t->ndim == 3 ? t->dims[2] : 0;
		if (sn == 1) {
			/* per-tensor */
		} else if (sn == dirs) {
			q->sdim[0] = dirs;
			q->axis = 0;
		} else if (dirs && sn == dirs * cols) {
			q->sdim[0] = dirs;
			q->sdim[2] = cols;
			q->axis = 0;
		} else {
			m2w_err(d, soff, "tensor '%s': %s has %llu scales, expected 1, %llu or %llu x %llu",
				t->source, qs->op, (unsigned long long)sn, (unsigned long long)dirs,
				(unsigned long long)dirs, (unsigned long long)cols);
			goto out;
		}
	} else if (qs->block > 0) {
		/* blocked: the scale has x's rank, ceil(dim / block) along axis */
		int64_t ax = qs->axis < 0 ? qs->axis + t->ndim : qs->axis;
		const struct m2w_onnx_tensor *st = ss && ss->kind == H_TENSOR ? ss->p : NULL;
		if (ax < 0 || ax >= t->ndim) {
			m2w_err(d, qs->axis_off, "tensor '%s': %s axis %lld is out of range for %d dims", t->source,
				qs->op, (long long)qs->axis, t->ndim);
			goto out;
		}
		if (!st || (int)st->ndim != t->ndim) {
			m2w_err(d, soff, "tensor '%s': %s with block_size needs a scale of rank %d", t->source,
				qs->op, t->ndim);
			goto out;
		}
		for (int k = 0; k < t->ndim; k++) {
			uint64_t want = k == ax ? (t->dims[k] + (uint64_t)qs->block - 1) / (uint64_t)qs->block
						: t->dims[k];
			if ((uint64_t)st->dims[k] != want) {
				m2w_err(d, soff, "tensor '%s': %s scale dim %d is %lld, expected %llu for block_size %lld",
					t->source, qs->op, k, (long long)st->dims[k], (unsigned long long)want,
					(long long)qs->block);
				goto out;
			}
			q->sdim[k] = want;
		}
		q->block[ax] = (uint64_t)qs->block;
		q->block_size = qs->block;
		q->axis = (int)ax;
	} else if (sn > 1) {
		int64_t ax = qs->axis < 0 ? qs->axis + t->ndim : qs->axis;
		if (ax < 0 || ax >= t->ndim) {
			m2w_err(d, qs->axis_off, "tensor '%s': %s axis %lld is out of range for %d dims", t->source,
				qs->op, (long long)qs->axis, t->ndim);
			goto out;
		}
		if (xt_quant_axis(t, q, (int)ax, soff, d))
			goto out;
	}
	if (xt_quant_check(t, q, soff, zoff, d))
		goto out;
	if (qs->layout && !(t->layout = strdup(qs->layout)))
		goto nomem;
	if (!ss)
		xt_warn(x, "tensor '%s': %s has no constant scale (no Cast -> Mul pattern); dequantized with scale 1",
			t->source, qs->op);
	t->q = q;
	q = NULL;
	rc = 0;
	goto out;
nomem:
	oom(d);
out:
	free(sv);
	free(zv);
	xt_quant_free(q);
	return rc;
}

/* QLinearConv's int32 bias: scale x_scale * w_scale[i], zero point 0. */
static int qconv_bias(struct onx *s, const struct scope *sc, const struct m2w_onnx_node *n, struct m2w_diag *d)
{
	struct xt_ctx *x = s->x;
	const struct src *b = lookup(sc, input(n, 8));
	const struct src *xs = lookup(sc, input(n, 1)), *ws = lookup(sc, input(n, 4));
	if (!b || b->tidx == NONE || x->t[b->tidx].q || !is_int_codec(&x->t[b->tidx]))
		return 0;
	struct xt_tensor *t = &x->t[b->tidx];
	if (!xs || !ws) {
		xt_warn(x, "tensor '%s': QLinearConv bias with non-constant x_scale / w_scale; kept as %s",
			t->source, t->src_dtype);
		return 0;
	}
	double *xv = NULL, *wv = NULL;
	uint64_t xn, wn, xoff, woff, lim = t->count ? t->count : 1;
	struct xt_quant *q = calloc(1, sizeof *q);
	int rc = -1;
	if (!q)
		return oom(d);
	q->op = "QLinearConv bias";
	if (read_vals(s, xs, 1, "x_scale", t, &xv, &xn, &xoff, d) ||
	    read_vals(s, ws, lim, "w_scale", t, &wv, &wn, &woff, d))
		goto out;
	if (xn != 1) {
		m2w_err(d, xoff, "tensor '%s': QLinearConv x_scale has %llu values, expected 1", t->source,
			(unsigned long long)xn);
		goto out;
	}
	q->n = wn;
	if (!(q->scale = malloc((wn ? wn : 1) * sizeof *q->scale)))
		goto nomem;
	for (uint64_t i = 0; i < wn; i++)
		q->scale[i] = (float)xv[0] * (float)wv[i];
	if (!(q->scale_name = src_name(ws)) ||
	    !(q->note = strdup("scale = x_scale * w_scale (f32 product), zero point 0")))
		goto nomem;
	if (xt_quant_axis(t, q, 0, woff, d) || xt_quant_check(t, q, woff, woff, d))
		goto out;
	t->q = q;
	q = NULL;
	rc = 0;
	goto out;
nomem:
	oom(d);
out:
	free(xv);
	free(wv);
	xt_quant_free(q);
	return rc;
}

static bool op_is(const struct m2w_onnx_node *n, const char *op)
{
	return m2w_pbstr_eq(n->op_type, op) &&
	       (!n->domain.n || m2w_pbstr_eq(n->domain, "ai.onnx") || m2w_pbstr_eq(n->domain, "com.microsoft"));
}

static bool same(struct m2w_pbstr a, struct m2w_pbstr b)
{
	return a.n && a.n == b.n && !memcmp(a.p, b.p, a.n);
}

/* quantize_dynamic's pattern after MatMulInteger / ConvInteger:
 * Y -> Cast -> Mul(., S) with S = Mul(a_scale, CONST): CONST is the
 * weight's scale. */
static const struct src *integer_scale(const struct m2w_onnx_graph *g, const struct scope *sc,
	const struct m2w_onnx_node *n)
{
	if (!n->noutputs)
		return NULL;
	for (size_t i = 0; i < g->nnodes; i++) {
		const struct m2w_onnx_node *c = &g->nodes[i];
		if (!op_is(c, "Cast") || !c->ninputs || !c->noutputs || !same(c->inputs[0], n->outputs[0]))
			continue;
		for (size_t j = 0; j < g->nnodes; j++) {
			const struct m2w_onnx_node *m = &g->nodes[j];
			if (!op_is(m, "Mul") || m->ninputs != 2)
				continue;
			int k = same(m->inputs[0], c->outputs[0]) ? 1 : same(m->inputs[1], c->outputs[0]) ? 0 : -1;
			if (k < 0)
				continue;
			for (size_t p = 0; p < g->nnodes; p++) {
				const struct m2w_onnx_node *pm = &g->nodes[p];
				if (!op_is(pm, "Mul") || pm->ninputs != 2 || !pm->noutputs ||
				    !same(pm->outputs[0], m->inputs[k]))
					continue;
				const struct src *a = lookup(sc, pm->inputs[0]), *b = lookup(sc, pm->inputs[1]);
				if (!a != !b)
					return a ? a : b;
			}
		}
	}
	return NULL;
}

static int64_t attr_int(const struct m2w_onnx_node *n, const char *name, int64_t def, uint64_t *off)
{
	for (size_t i = 0; i < n->nattrs; i++)
		if (m2w_pbstr_eq(n->attrs[i].name, name)) {
			if (off)
				*off = n->attrs[i].off;
			return n->attrs[i].i;
		}
	if (off)
		*off = n->off;
	return def;
}

static int analyse(struct onx *s, const struct m2w_onnx_graph *g, const struct scope *sc, struct m2w_diag *d)
{
	static const char lstm_w[] = "DynamicQuantizeLSTM: [num_directions, input_size, 4*hidden_size], the "
				     "transpose of LSTM's W [num_directions, 4*hidden_size, input_size]";
	static const char lstm_r[] = "DynamicQuantizeLSTM: [num_directions, hidden_size, 4*hidden_size], the "
				     "transpose of LSTM's R [num_directions, 4*hidden_size, hidden_size]";
	static const char no_scale[] = "MatMulInteger/ConvInteger: scale from the Cast -> Mul(a_scale * CONST) pattern";

	for (size_t i = 0; i < g->nnodes; i++) {
		const struct m2w_onnx_node *n = &g->nodes[i];
		struct qspec q[2];
		int nq = 0;
		memset(q, 0, sizeof q);
		if (op_is(n, "DequantizeLinear")) {
			q[nq++] = (struct qspec){"DequantizeLinear", 0, 1, 2, AX_ATTR, 1, 0, n->off, NULL, false, NULL, NULL};
			q[0].axis = attr_int(n, "axis", 1, &q[0].axis_off);
			q[0].block = attr_int(n, "block_size", 0, NULL);
		} else if (op_is(n, "QLinearConv")) {
			q[nq++] = (struct qspec){"QLinearConv", 3, 4, 5, AX_FIXED, 0, 0, n->off, NULL, false, NULL, NULL};
			if (qconv_bias(s, sc, n, d))
				return -1;
		} else if (op_is(n, "QLinearMatMul")) {
			q[nq++] = (struct qspec){"QLinearMatMul", 0, 1, 2, AX_FIXED, -2, 0, n->off, NULL, false, NULL, NULL};
			q[nq++] = (struct qspec){"QLinearMatMul", 3, 4, 5, AX_FIXED, -1, 0, n->off, NULL, false, NULL, NULL};
		} else if (op_is(n, "QGemm")) {
			int64_t tb = attr_int(n, "transB", 0, NULL);
			q[nq++] = (struct qspec){"QGemm", 3, 4, 5, AX_FIXED, tb ? 0 : 1, 0, n->off, NULL, false, NULL, NULL};
		} else if (op_is(n, "MatMulIntegerToFloat")) {
			q[nq++] = (struct qspec){"MatMulIntegerToFloat", 1, 3, 5, AX_FIXED, -1, 0, n->off, NULL, false, NULL, NULL};
		} else if (op_is(n, "DynamicQuantizeMatMul")) {
			q[nq++] = (struct qspec){"DynamicQuantizeMatMul", 1, 2, 3, AX_FIXED, -1, 0, n->off, NULL, false, NULL, NULL};
		} else if (op_is(n, "MatMulInteger") || op_is(n, "ConvInteger")) {
			bool mm = op_is(n, "MatMulInteger");
			const struct src *scale = integer_scale(g, sc, n);
			q[nq++] = (struct qspec){mm ? "MatMulInteger" : "ConvInteger", 1, NONE, 3, AX_FIXED,
				mm ? -1 : 0, 0, n->off, scale, !scale, scale ? no_scale : NULL, NULL};
			if (mm)
				q[nq++] = (struct qspec){"MatMulInteger", 0, NONE, 2, AX_FIXED, -2, 0, n->off, NULL,
					true, NULL, NULL};
		} else if (op_is(n, "DynamicQuantizeLSTM")) {
			q[nq++] = (struct qspec){"DynamicQuantizeLSTM", 1, 8, 9, AX_LSTM, 0, 0, n->off, NULL, false, NULL, lstm_w};
			q[nq++] = (struct qspec){"DynamicQuantizeLSTM", 2, 10, 11, AX_LSTM, 0, 0, n->off, NULL, false, NULL, lstm_r};
		}
		for (int k = 0; k < nq; k++)
			if (quant_from(s, sc, n, &q[k], d))
				return -1;
	}
	return 0;
}

static int walk(struct onx *s, const struct m2w_onnx_graph *g, const struct scope *up, const char *path,
	int depth, struct m2w_diag *d)
{
	struct scope sc;
	int rc = -1;

	if (depth > M2W_MAX_NESTING)
		return m2w_err(d, g->off, "subgraphs nested deeper than %d", M2W_MAX_NESTING);
	if (scope_init(&sc, up, g->ninits + g->nnodes)) {
		free(sc.k), free(sc.v);
		return oom(d);
	}
	for (size_t i = 0; i < g->ninits; i++) {
		size_t idx;
		if (add_tensor(s, &g->inits[i], "initializer", path, false, &idx, d))
			goto out;
		scope_put(&sc, g->inits[i].name, (struct src){H_TENSOR, g->inits[i].name, &g->inits[i], idx});
	}
	for (size_t i = 0; i < g->nsparse; i++) {
		char *nm = m2w_pbstr_dup(g->sparse[i].values.name);
		const char *dn = m2w_onnx_dtype_name(g->sparse[i].values.data_type);
		int r = nm ? xt_add_skip(s->x, nm, dn ? dn : "unknown", "sparse initializer (not densified)") : -1;
		free(nm);
		if (r) {
			oom(d);
			goto out;
		}
	}
	for (size_t i = 0; i < g->nnodes; i++) {
		const struct m2w_onnx_node *n = &g->nodes[i];
		if (!op_is(n, "Constant") || !n->noutputs)
			continue;
		for (size_t j = 0; j < n->nattrs; j++) {
			const struct m2w_onnx_attr *a = &n->attrs[j];
			size_t idx = NONE;
			int hk = 0;
			if (m2w_pbstr_eq(a->name, "value") && a->t) {
				struct m2w_onnx_tensor *ct = a->t;
				/* the node's output names the tensor, not the attribute's TensorProto */
				if (add_tensor(s, ct, "constant", path, false, &idx, d))
					goto out;
				if (idx != NONE) {
					free(s->x->t[idx].source);
					if (!(s->x->t[idx].source = m2w_pbstr_dup(n->outputs[0]))) {
						oom(d);
						goto out;
					}
				}
				scope_put(&sc, n->outputs[0], (struct src){H_TENSOR, n->outputs[0], ct, idx});
				continue;
			}
			if (m2w_pbstr_eq(a->name, "value_float"))
				hk = H_FLOAT;
			else if (m2w_pbstr_eq(a->name, "value_floats"))
				hk = H_FLOATS;
			else if (m2w_pbstr_eq(a->name, "value_int"))
				hk = H_INT;
			else if (m2w_pbstr_eq(a->name, "value_ints"))
				hk = H_INTS;
			if (hk) {
				if (add_attr(s, a, n->outputs[0], path, hk, &idx, d))
					goto out;
				scope_put(&sc, n->outputs[0], (struct src){hk, n->outputs[0], a, idx});
			} else if (m2w_pbstr_eq(a->name, "value_string") || m2w_pbstr_eq(a->name, "value_strings") ||
				   m2w_pbstr_eq(a->name, "sparse_value")) {
				char *nm = m2w_pbstr_dup(n->outputs[0]);
				int r = nm ? xt_add_skip(s->x, nm, m2w_pbstr_eq(a->name, "sparse_value") ? "sparse" : "string",
					"Constant with a string or sparse value") : -1;
				free(nm);
				if (r) {
					oom(d);
					goto out;
				}
			}
		}
	}
	if (analyse(s, g, &sc, d))
		goto out;
	for (size_t i = 0; i < g->nnodes; i++) {
		const struct m2w_onnx_node *n = &g->nodes[i];
		for (size_t j = 0; j < n->nattrs; j++) {
			const struct m2w_onnx_attr *a = &n->attrs[j];
			size_t ng = (a->g ? 1 : 0) + a->ngraphs;
			for (size_t k = 0; k < ng; k++) {
				const struct m2w_onnx_graph *sub = k == 0 && a->g ? a->g : &a->graphs[k - (a->g ? 1 : 0)];
				char *nl = label(n, i), *an = m2w_pbstr_dup(a->name);
				size_t len = (path ? strlen(path) + 1 : 0) + (nl ? strlen(nl) : 0) + (an ? strlen(an) : 0) + 32;
				char *sp = malloc(len);
				int r = -1;
				if (nl && an && sp) {
					if (a->ngraphs)
						snprintf(sp, len, "%s%s%s/%s[%zu]", path ? path : "", path ? "/" : "", nl, an,
							k - (a->g ? 1 : 0));
					else
						snprintf(sp, len, "%s%s%s/%s", path ? path : "", path ? "/" : "", nl, an);
					r = walk(s, sub, &sc, sp, depth + 1, d);
				} else {
					oom(d);
				}
				free(nl), free(an), free(sp);
				if (r)
					goto out;
			}
		}
	}
	rc = 0;
out:
	free(sc.k);
	free(sc.v);
	return rc;
}

static void onnx_free(struct xt_ctx *x)
{
	struct onx *s = x->fe;
	if (!s)
		return;
	m2w_onnx_free(s->m);
	free(s->dir);
	free(s);
	x->fe = NULL;
}

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return strdup(".");
	return xt_strndup(path, (size_t)(slash - path) + (slash == path));
}

static int open_common(struct xt_ctx *x, struct onx **out, struct m2w_diag *d)
{
	struct onx *s = calloc(1, sizeof *s);
	if (!s || !(s->dir = dir_of(x->path))) {
		free(s);
		return oom(d);
	}
	s->x = x;
	x->fe = s;
	x->fe_free = onnx_free;
	x->stream = onnx_stream;
	x->format = "onnx";
	*out = s;
	return 0;
}

int xt_onnx_open(struct xt_ctx *x, const uint8_t *p, size_t n, struct m2w_diag *d)
{
	struct onx *s;
	if (open_common(x, &s, d) || m2w_onnx_parse(p, n, s->dir, &s->m, d))
		return -1;
	if (!s->m->graph)
		return 0;
	return walk(s, s->m->graph, NULL, NULL, 0, d);
}

int xt_onnx_tensorpb_open(struct xt_ctx *x, const uint8_t *p, size_t n, struct m2w_diag *d)
{
	struct onx *s;
	size_t idx;
	if (open_common(x, &s, d) || m2w_onnx_parse_tensorpb(p, n, s->dir, &s->m, d))
		return -1;
	if (add_tensor(s, s->m->tensor, "tensor", NULL, true, &idx, d))
		return -1;
	if (idx == NONE)
		return m2w_err(d, s->m->tensor->off, "%s", x->skip[0].why);
	x->format = "onnx-tensor";
	return 0;
}
