/* scaffold_tflite: the TFLite front end of m2w-scaffold.
 *
 * The main subgraph (0) is lowered to an ONNX-shaped graph built in memory
 * (the structs of onnx.h; strings, arrays and weight data owned here) and
 * handed to the shared core, m2w_scaffold_graph(), which infers nothing it
 * is not told: every tensor gets a value_info with TFLite's static shape.
 *
 * Layout.  TFLite activations of rank 4 are NHWC; the library shaders
 * (conv2d, max_pool, pad, ...) compute NCHW, so in the lowered graph every
 * rank-4 tensor, the graph input included, is NCHW: shapes permuted
 * (0, 3, 1, 2), axis attributes remapped, paddings reordered.  A RESHAPE
 * (SQUEEZE, EXPAND_DIMS) of a rank-4 tensor goes through a transpose back
 * to NHWC so that the flattening order stays TFLite's; those transposes'
 * outputs ("<tensor>:nhwc") are the only tensors that are not TFLite's and
 * get no checkpoint.  Every other tensor keeps its TFLite name, so the
 * checkpoints are named after the TFLite tensors, and a rank-4 checkpoint
 * holds the NCHW permutation of the TFLite tensor.
 *
 * Weights.  A constant read through DEQUANTIZE (f16 weights) stands for
 * the DEQUANTIZE output.  Constants become initializers named after their
 * TFLite tensor in m2w-extract's default layout (--layout nchw): CONV_2D
 * filters [O,H,W,I] -> [O,I,H,W], DEPTHWISE_CONV_2D [1,H,W,C] -> [C,1,H,W],
 * a rank-4 operand of an elementwise op NHWC -> NCHW, the rest as stored;
 * floats as f32.  So the engine loads what `m2w-extract MODEL.tflite`
 * writes.  (PAD's paddings and RESHAPE's shape are read at scaffold time.)
 *
 * Lowered ops:
 *   CONV_2D, DEPTHWISE_CONV_2D  Conv (group = C for depthwise), explicit pads
 *   MAX_POOL_2D, AVERAGE_POOL_2D  MaxPool / AveragePool (padding excluded)
 *   ADD, SUB, MUL, DIV, MAXIMUM, MINIMUM  Add, Sub, Mul, Div, Max, Min
 *   RELU, RELU6, LOGISTIC, TANH  Relu, Clip(0, 6), Sigmoid, Tanh
 *   PAD, PADV2                  Pad (constant)
 *   CONCATENATION               Concat
 *   RESHAPE, SQUEEZE, EXPAND_DIMS  Reshape to the output's static shape
 *   DEQUANTIZE of a constant    the constant itself
 * A fused activation (RELU, RELU6) becomes a Relu / Clip node after the op
 * (which the core fuses back into conv2d); any other op, or one whose
 * operands this file cannot lower, becomes a node of domain "ai.tflite"
 * named after the TFLite op, which the core emits as a stub that throws.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx.h"
#include "scaffold.h"
#include "tflite.h"

#define MAXA 6 /* attributes per lowered node */

struct lw {
	const struct m2w_tflite *m;
	const struct m2w_tfl_subgraph *sg;
	struct m2w_fb fb;
	struct m2w_diag *d;
	struct m2w_onnx_graph *g;
	size_t capn, capi, capv, caph;
	char **names;   /* per TFLite tensor: its name in the lowered graph (in own) */
	int *src;       /* per tensor: the constant it stands for (itself, or a DEQUANTIZE's input), -1 */
	int *layout;    /* per constant: the permutation it was written with (-2 none yet) */
	const char **hidden;
	size_t nhidden;
	void **own;
	size_t nown, capown;
	bool oom;
};

static const int NCHW[4] = {0, 3, 1, 2}; /* NHWC -> NCHW */
static const int NHWC[4] = {0, 2, 3, 1}; /* NCHW -> NHWC */
static const int DW[4] = {3, 0, 1, 2};   /* [1,H,W,C] -> [C,1,H,W] */
enum { P_NONE = -1, P_NCHW, P_DW };
static const int *const PERMS[] = {NCHW, DW};

static void *keep(struct lw *l, void *p)
{
	if (!p) {
		l->oom = true;
		return NULL;
	}
	if (l->nown == l->capown) {
		size_t cap = l->capown ? l->capown * 2 : 256;
		void **q = realloc(l->own, cap * sizeof *q);
		if (!q) {
			free(p);
			l->oom = true;
			return NULL;
		}
		l->own = q;
		l->capown = cap;
	}
	return l->own[l->nown++] = p;
}

static void *zalloc(struct lw *l, size_t n)
{
	return keep(l, calloc(n ? n : 1, 1));
}

static char *sfmt(struct lw *l, const char *f, const char *a)
{
	size_t n = strlen(f) + strlen(a) + 1;
	char *p = zalloc(l, n);
	if (p)
		snprintf(p, n, f, a);
	return p;
}

static struct m2w_pbstr S(const char *z)
{
	return (struct m2w_pbstr){z ? z : "", z ? strlen(z) : 0};
}

static int32_t onnx_dt(uint8_t t)
{
	switch (t) {
	case M2W_TFL_FLOAT32: return M2W_ONNX_FLOAT;
	case M2W_TFL_FLOAT16: return M2W_ONNX_FLOAT16;
	case M2W_TFL_INT32: return M2W_ONNX_INT32;
	case M2W_TFL_INT64: return M2W_ONNX_INT64;
	case M2W_TFL_UINT8: return M2W_ONNX_UINT8;
	case M2W_TFL_INT8: return M2W_ONNX_INT8;
	case M2W_TFL_INT16: return M2W_ONNX_INT16;
	case M2W_TFL_BOOL: return M2W_ONNX_BOOL;
	case M2W_TFL_FLOAT64: return M2W_ONNX_DOUBLE;
	default: return M2W_ONNX_UNDEFINED;
	}
}

static const struct m2w_tfl_tensor *T(struct lw *l, int i)
{
	return &l->sg->tensors[i];
}

static bool is_const(struct lw *l, int i)
{
	return i >= 0 && l->src[i] >= 0;
}

/* ---- building the graph ---- */

/* A value_info: name, element type, shape (permuted by perm when not NULL). */
static void add_vi(struct lw *l, struct m2w_onnx_value_info *vi, const char *name, int32_t dt, int ndim,
	const int32_t *shape, const int *perm)
{
	memset(vi, 0, sizeof *vi);
	vi->name = S(name);
	vi->has_type = true;
	vi->type.kind = M2W_ONNX_TYPE_TENSOR;
	vi->type.elem_type = dt;
	vi->type.has_shape = true;
	vi->type.ndim = (size_t)ndim;
	vi->type.dims = zalloc(l, (size_t)ndim * sizeof *vi->type.dims);
	for (int k = 0; vi->type.dims && k < ndim; k++)
		vi->type.dims[k] = (struct m2w_onnx_dim){.kind = M2W_ONNX_DIM_VALUE, .value = shape[perm ? perm[k] : k]};
}

static void value_info(struct lw *l, const char *name, int32_t dt, int ndim, const int32_t *shape, const int *perm)
{
	if (l->g->nvalue_info < l->capv)
		add_vi(l, &l->g->value_info[l->g->nvalue_info++], name, dt, ndim, shape, perm);
}

/* The activation tensor i's value_info, NCHW when of rank 4. */
static void act_vi(struct lw *l, int i)
{
	const struct m2w_tfl_tensor *t = T(l, i);
	value_info(l, l->names[i], onnx_dt(t->type), t->ndim, t->shape, t->ndim == 4 ? NCHW : NULL);
}

static struct m2w_onnx_node *add_node(struct lw *l, const char *op, const char *domain, const char *label,
	uint64_t off, size_t nin, const char *const *in, size_t nout, const char *const *out)
{
	if (l->g->nnodes == l->capn) {
		l->oom = true;
		return NULL;
	}
	struct m2w_onnx_node *n = &l->g->nodes[l->g->nnodes++];
	memset(n, 0, sizeof *n);
	n->op_type = S(op);
	n->domain = S(domain);
	n->name = S(label);
	n->off = (size_t)off;
	n->inputs = zalloc(l, nin * sizeof *n->inputs);
	n->outputs = zalloc(l, nout * sizeof *n->outputs);
	n->attrs = zalloc(l, MAXA * sizeof *n->attrs);
	if (!n->inputs || !n->outputs || !n->attrs)
		return NULL;
	for (size_t i = 0; i < nin; i++)
		n->inputs[n->ninputs++] = S(in[i]);
	for (size_t i = 0; i < nout; i++)
		n->outputs[n->noutputs++] = S(out[i]);
	return n;
}

static struct m2w_onnx_attr *add_attr(struct m2w_onnx_node *n, const char *name, int32_t type)
{
	struct m2w_onnx_attr *a = &n->attrs[n->nattrs++];
	memset(a, 0, sizeof *a);
	a->name = S(name);
	a->type = type;
	return a;
}

static void attr_int(struct m2w_onnx_node *n, const char *name, int64_t v)
{
	add_attr(n, name, M2W_ONNX_ATTR_INT)->i = v;
}

static void attr_ints(struct lw *l, struct m2w_onnx_node *n, const char *name, const int64_t *v, size_t k)
{
	struct m2w_onnx_attr *a = add_attr(n, name, M2W_ONNX_ATTR_INTS);
	a->ints = zalloc(l, k * sizeof *a->ints);
	if (a->ints) {
		memcpy(a->ints, v, k * sizeof *v);
		a->nints = k;
	}
}

/* An initializer: name, ONNX type, dims, data (kept, little-endian). */
static void add_init(struct lw *l, const char *name, int32_t dt, int ndim, const int64_t *dims, void *data,
	size_t nbytes, uint64_t off)
{
	if (l->g->ninits == l->capi) {
		l->oom = true;
		return;
	}
	struct m2w_onnx_tensor *t = &l->g->inits[l->g->ninits++];
	memset(t, 0, sizeof *t);
	t->name = S(name);
	t->data_type = dt;
	t->ndim = (size_t)ndim;
	t->dims = zalloc(l, (size_t)ndim * sizeof *t->dims);
	t->count = 1;
	for (int k = 0; t->dims && k < ndim; k++) {
		t->dims[k] = dims[k];
		t->count *= (uint64_t)dims[k];
	}
	t->nbytes = nbytes;
	t->store = M2W_ONNX_STORE_RAW;
	t->raw = data;
	t->off = t->data_off = (size_t)off;
}

static void hide(struct lw *l, const char *name)
{
	if (name && l->nhidden < l->caph)
		l->hidden[l->nhidden++] = name;
}

/* ---- constants ---- */

/* Constant i (a tensor with bytes) as an initializer, permuted by PERMS[p]
 * (P_NONE: as stored); floats as f32.  NULL with *why set when it can't be. */
static const char *constant(struct lw *l, int i, int p, const char **why)
{
	int s = l->src[i];
	if (s < 0) {
		*why = "an operand is not a constant";
		return NULL;
	}
	if (l->layout[s] != -2) {
		if (l->layout[s] != p) {
			*why = "a constant read in two layouts";
			return NULL;
		}
		return l->names[s];
	}
	const struct m2w_tfl_tensor *t = T(l, s);
	const struct m2w_tfl_buffer *b = &l->m->buffers[t->buffer];
	int32_t dt = onnx_dt(t->type);
	bool fl = t->type == M2W_TFL_FLOAT32 || t->type == M2W_TFL_FLOAT16;
	if (!fl && t->type != M2W_TFL_INT32 && t->type != M2W_TFL_INT64) {
		*why = "a constant of a type this front end does not read (quantized or other)";
		return NULL;
	}
	if (t->quant.present && t->quant.scale.n && !fl) {
		*why = "a quantized constant";
		return NULL;
	}
	if (p != P_NONE && t->ndim != 4) {
		*why = "a filter that is not of rank 4";
		return NULL;
	}
	uint64_t count = 1;
	for (int k = 0; k < t->ndim; k++)
		count *= (uint64_t)t->shape[k];
	unsigned es = t->type == M2W_TFL_FLOAT16 ? 2 : t->type == M2W_TFL_INT64 ? 8 : 4, os = fl ? 4 : es;
	if (!b->data || b->size != count * es) {
		*why = "a constant whose buffer does not hold its shape";
		return NULL;
	}
	uint8_t *out = zalloc(l, (size_t)(count * os));
	if (!out)
		return NULL;
	int64_t dims[M2W_MAX_DIMS], sst[4], st[4] = {0};
	for (int k = 0; k < t->ndim; k++)
		dims[k] = t->shape[p == P_NONE ? k : PERMS[p][k]];
	if (p != P_NONE) { /* destination axis a walks source axis PERMS[p][a] */
		for (int j = 3, acc = 1; j >= 0; j--) {
			sst[j] = acc;
			acc *= t->shape[j];
		}
		for (int a = 0; a < 4; a++)
			st[a] = sst[PERMS[p][a]];
	}
	for (uint64_t o = 0; o < count; o++) {
		uint64_t from = o;
		if (p != P_NONE) {
			uint64_t rem = o;
			from = 0;
			for (int a = 3; a >= 0; a--) {
				from += (rem % (uint64_t)dims[a]) * (uint64_t)st[a];
				rem /= (uint64_t)dims[a];
			}
		}
		const uint8_t *q = b->data + from * es;
		if (t->type == M2W_TFL_FLOAT16) {
			float f = m2w_f16_to_f32(m2w_le16(q));
			memcpy(out + o * 4, &f, 4);
		} else {
			memcpy(out + o * os, q, os);
		}
	}
	add_init(l, l->names[s], fl ? M2W_ONNX_FLOAT : dt, t->ndim, dims, out, (size_t)(count * os), b->off);
	l->layout[s] = p;
	return l->names[s];
}

/* A small int64 constant of the lowered graph (pads, shapes). */
static const char *ints_const(struct lw *l, const char *name, const int64_t *v, size_t k, uint64_t off)
{
	int64_t *data = zalloc(l, k * sizeof *data), dim = (int64_t)k;
	if (!data)
		return NULL;
	memcpy(data, v, k * sizeof *v);
	add_init(l, name, M2W_ONNX_INT64, 1, &dim, data, k * sizeof *v, off);
	return name;
}

static const char *float_scalar(struct lw *l, const char *name, float v, uint64_t off)
{
	float *data = zalloc(l, sizeof *data);
	if (!data)
		return NULL;
	*data = v;
	add_init(l, name, M2W_ONNX_FLOAT, 0, NULL, data, sizeof *data, off);
	return name;
}

/* Integer values of constant i (paddings, axes) into v; count or -1. */
static int const_ints(struct lw *l, int i, int64_t *v, int max)
{
	if (!is_const(l, i))
		return -1;
	const struct m2w_tfl_tensor *t = T(l, l->src[i]);
	const struct m2w_tfl_buffer *b = &l->m->buffers[t->buffer];
	unsigned es = t->type == M2W_TFL_INT32 ? 4 : t->type == M2W_TFL_INT64 ? 8 : 0;
	if (!es || !b->data || b->size % es || b->size / es > (uint64_t)max)
		return -1;
	int k = (int)(b->size / es);
	for (int j = 0; j < k; j++)
		v[j] = es == 4 ? (int32_t)m2w_le32(b->data + 4 * j) : (int64_t)m2w_le64(b->data + 8 * j);
	return k;
}

/* ---- operators ---- */

struct opctx {
	const struct m2w_tfl_operator *op;
	const char *name; /* builtin name */
	char *label;      /* "CONV_2D #3" */
	int in[8], nin, out[4], nout;
	const char *why;  /* set: lower as a stub */
};

static int32_t opt_i32(struct lw *l, const struct opctx *o, unsigned id, int32_t def)
{
	int32_t v = def;
	if (o->op->options.size && m2w_fb_i32(&l->fb, &o->op->options, id, def, &v) < 0)
		return def;
	return v;
}

static int8_t opt_i8(struct lw *l, const struct opctx *o, unsigned id, int8_t def)
{
	int8_t v = def;
	if (o->op->options.size && m2w_fb_i8(&l->fb, &o->op->options, id, def, &v) < 0)
		return def;
	return v;
}

/* The op's fused activation after output y: NONE writes y itself, RELU and
 * RELU6 write "<y>:preact" and add a Relu / Clip node.  Returns the name the
 * op writes, NULL (why set) for another activation. */
static const char *fused_out(struct lw *l, struct opctx *o, int act, int y)
{
	if (act == 0)
		return l->names[y];
	if (act != 1 && act != 3) {
		o->why = "a fused activation other than RELU / RELU6";
		return NULL;
	}
	const char *pre = sfmt(l, "%s:preact", l->names[y]);
	if (!pre)
		return NULL;
	hide(l, pre);
	const struct m2w_tfl_tensor *t = T(l, y);
	value_info(l, pre, onnx_dt(t->type), t->ndim, t->shape, t->ndim == 4 ? NCHW : NULL);
	return pre;
}

static void fused_act(struct lw *l, struct opctx *o, int act, const char *pre, int y)
{
	if (act == 1) {
		add_node(l, "Relu", "", o->label, o->op->off, 1, &pre, 1, (const char *const *)&l->names[y]);
	} else if (act == 3) {
		const char *lo = float_scalar(l, sfmt(l, "%s:min", l->names[y]), 0, o->op->off);
		const char *hi = float_scalar(l, sfmt(l, "%s:max", l->names[y]), 6, o->op->off);
		const char *in[3] = {pre, lo, hi};
		add_node(l, "Clip", "", o->label, o->op->off, 3, in, 1, (const char *const *)&l->names[y]);
	}
}

/* SAME / VALID padding along one axis: pads[0] before, pads[1] after. */
static void same_pads(int32_t padding, int64_t in, int64_t k, int64_t s, int64_t dil, int64_t *before, int64_t *after)
{
	*before = *after = 0;
	if (padding != 0) /* VALID */
		return;
	int64_t out = (in + s - 1) / s, total = (out - 1) * s + (k - 1) * dil + 1 - in;
	if (total < 0)
		total = 0;
	*before = total / 2;
	*after = total - total / 2;
}

static void lower_conv(struct lw *l, struct opctx *o, bool depthwise)
{
	/* Conv2DOptions: padding 0, stride_w 1, stride_h 2, act 3, dil_w 4, dil_h 5;
	 * DepthwiseConv2DOptions: padding 0, stride_w 1, stride_h 2, depth_multiplier 3, act 4, dil_w 5, dil_h 6 */
	int x = o->in[0], w = o->nin > 1 ? o->in[1] : -1, b = o->nin > 2 ? o->in[2] : -1, y = o->out[0];
	if (w < 0 || T(l, x)->ndim != 4 || T(l, y)->ndim != 4) {
		o->why = "not a 2-D convolution over NHWC";
		return;
	}
	const char *wn = constant(l, w, depthwise ? P_DW : P_NCHW, &o->why), *bn = NULL;
	if (!wn || (b >= 0 && !(bn = constant(l, b, P_NONE, &o->why))))
		return;
	int32_t padding = (int32_t)opt_i8(l, o, 0, 0), sw = opt_i32(l, o, 1, 1), sh = opt_i32(l, o, 2, 1);
	int32_t act = (int32_t)opt_i8(l, o, depthwise ? 4 : 3, 0);
	int32_t dw = opt_i32(l, o, depthwise ? 5 : 4, 1), dh = opt_i32(l, o, depthwise ? 6 : 5, 1);
	const struct m2w_tfl_tensor *X = T(l, x), *W = T(l, w);
	int64_t kh = W->shape[1], kw = W->shape[2], pads[4];
	same_pads(padding, X->shape[1], kh, sh, dh, &pads[0], &pads[2]);
	same_pads(padding, X->shape[2], kw, sw, dw, &pads[1], &pads[3]);
	const char *yo = fused_out(l, o, act, y);
	if (!yo)
		return;
	const char *in[3] = {l->names[x], wn, bn};
	struct m2w_onnx_node *n = add_node(l, "Conv", "", o->label, o->op->off, bn ? 3 : 2, in, 1, &yo);
	if (!n)
		return;
	int64_t strides[2] = {sh, sw}, dil[2] = {dh, dw}, ks[2] = {kh, kw};
	attr_ints(l, n, "kernel_shape", ks, 2);
	attr_ints(l, n, "strides", strides, 2);
	attr_ints(l, n, "dilations", dil, 2);
	attr_ints(l, n, "pads", pads, 4);
	attr_int(n, "group", depthwise ? X->shape[3] : 1);
	fused_act(l, o, act, yo, y);
}

static void lower_pool(struct lw *l, struct opctx *o, bool avg)
{
	/* Pool2DOptions: padding 0, stride_w 1, stride_h 2, filter_width 3, filter_height 4, act 5 */
	int x = o->in[0], y = o->out[0];
	if (T(l, x)->ndim != 4) {
		o->why = "not a 2-D pool over NHWC";
		return;
	}
	int32_t padding = (int32_t)opt_i8(l, o, 0, 0), sw = opt_i32(l, o, 1, 1), sh = opt_i32(l, o, 2, 1);
	int32_t fw = opt_i32(l, o, 3, 1), fh = opt_i32(l, o, 4, 1), act = (int32_t)opt_i8(l, o, 5, 0);
	int64_t pads[4];
	same_pads(padding, T(l, x)->shape[1], fh, sh, 1, &pads[0], &pads[2]);
	same_pads(padding, T(l, x)->shape[2], fw, sw, 1, &pads[1], &pads[3]);
	const char *yo = fused_out(l, o, act, y);
	if (!yo)
		return;
	struct m2w_onnx_node *n = add_node(l, avg ? "AveragePool" : "MaxPool", "", o->label, o->op->off, 1,
		(const char *const *)&l->names[x], 1, &yo);
	if (!n)
		return;
	int64_t ks[2] = {fh, fw}, strides[2] = {sh, sw};
	attr_ints(l, n, "kernel_shape", ks, 2);
	attr_ints(l, n, "strides", strides, 2);
	attr_ints(l, n, "pads", pads, 4);
	if (avg)
		attr_int(n, "count_include_pad", 0);
	fused_act(l, o, act, yo, y);
}

/* An operand of an elementwise op: an activation, or a constant (NCHW when of rank 4). */
static const char *operand(struct lw *l, struct opctx *o, int i, int rank_y)
{
	if (i < 0) {
		o->why = "an operand is missing";
		return NULL;
	}
	if (T(l, i)->ndim != rank_y && rank_y == 4 && T(l, i)->ndim > 0) {
		o->why = "a lower-rank operand broadcast against an NHWC tensor";
		return NULL;
	}
	if (!is_const(l, i))
		return l->names[i];
	return constant(l, i, T(l, i)->ndim == 4 ? P_NCHW : P_NONE, &o->why);
}

static void lower_binary(struct lw *l, struct opctx *o, const char *onnx_op)
{
	/* AddOptions / SubOptions / MulOptions / DivOptions: fused_activation_function 0 */
	int y = o->out[0];
	if (o->nin != 2) {
		o->why = "not two operands";
		return;
	}
	const char *a = operand(l, o, o->in[0], T(l, y)->ndim);
	const char *b = a ? operand(l, o, o->in[1], T(l, y)->ndim) : NULL;
	if (!b)
		return;
	bool has_act = strcmp(onnx_op, "Max") && strcmp(onnx_op, "Min");
	int32_t act = has_act ? (int32_t)opt_i8(l, o, 0, 0) : 0;
	const char *yo = fused_out(l, o, act, y);
	if (!yo)
		return;
	const char *in[2] = {a, b};
	add_node(l, onnx_op, "", o->label, o->op->off, 2, in, 1, &yo);
	fused_act(l, o, act, yo, y);
}

static void lower_unary(struct lw *l, struct opctx *o, const char *onnx_op)
{
	int x = o->in[0], y = o->out[0];
	if (strcmp(onnx_op, "Clip") == 0) {
		const char *lo = float_scalar(l, sfmt(l, "%s:min", l->names[y]), 0, o->op->off);
		const char *hi = float_scalar(l, sfmt(l, "%s:max", l->names[y]), 6, o->op->off);
		const char *in[3] = {l->names[x], lo, hi};
		add_node(l, "Clip", "", o->label, o->op->off, 3, in, 1, (const char *const *)&l->names[y]);
		return;
	}
	add_node(l, onnx_op, "", o->label, o->op->off, 1, (const char *const *)&l->names[x], 1,
		(const char *const *)&l->names[y]);
}

static void lower_pad(struct lw *l, struct opctx *o)
{
	int x = o->in[0], y = o->out[0];
	int64_t p[2 * M2W_MAX_DIMS], pads[2 * M2W_MAX_DIMS];
	int r = T(l, x)->ndim;
	if (o->nin < 2 || const_ints(l, o->in[1], p, 2 * M2W_MAX_DIMS) != 2 * r) {
		o->why = "paddings are not a constant [rank, 2]";
		return;
	}
	for (int k = 0; k < r; k++) { /* [[before, after] per NHWC axis] -> [befores..., afters...] (NCHW) */
		int a = r == 4 ? NCHW[k] : k;
		pads[k] = p[2 * a];
		pads[r + k] = p[2 * a + 1];
	}
	const char *pn = ints_const(l, sfmt(l, "%s:pads", l->names[y]), pads, (size_t)(2 * r), o->op->off);
	const char *in[3] = {l->names[x], pn, NULL};
	size_t nin = 2;
	if (o->nin > 2 && o->in[2] >= 0) { /* PADV2's constant_values */
		if (!(in[2] = constant(l, o->in[2], P_NONE, &o->why)))
			return;
		nin = 3;
	}
	add_node(l, "Pad", "", o->label, o->op->off, nin, in, 1, (const char *const *)&l->names[y]);
}

static void lower_concat(struct lw *l, struct opctx *o)
{
	/* ConcatenationOptions: axis 0, fused_activation_function 1 */
	int y = o->out[0], r = T(l, y)->ndim;
	int32_t axis = opt_i32(l, o, 0, 0), act = (int32_t)opt_i8(l, o, 1, 0);
	if (axis < 0)
		axis += r;
	if (r == 4)
		for (int k = 0; k < 4; k++)
			if (NCHW[k] == axis) {
				axis = k;
				break;
			}
	const char *in[8];
	for (int i = 0; i < o->nin; i++)
		if (!(in[i] = operand(l, o, o->in[i], r)))
			return;
	const char *yo = fused_out(l, o, act, y);
	if (!yo)
		return;
	struct m2w_onnx_node *n = add_node(l, "Concat", "", o->label, o->op->off, (size_t)o->nin, in, 1, &yo);
	if (n)
		attr_int(n, "axis", axis);
	fused_act(l, o, act, yo, y);
}

/* RESHAPE / SQUEEZE / EXPAND_DIMS: to the output's static shape, in NHWC order. */
static void lower_reshape(struct lw *l, struct opctx *o)
{
	int x = o->in[0], y = o->out[0];
	const struct m2w_tfl_tensor *X = T(l, x), *Y = T(l, y);
	const char *xn = l->names[x], *yn = l->names[y];
	if (X->ndim == 4) { /* back to NHWC before flattening */
		const char *t = sfmt(l, "%s:nhwc", yn);
		struct m2w_onnx_node *n = add_node(l, "Transpose", "", o->label, o->op->off, 1, &xn, 1, &t);
		if (!n)
			return;
		int64_t perm[4] = {NHWC[0], NHWC[1], NHWC[2], NHWC[3]};
		attr_ints(l, n, "perm", perm, 4);
		value_info(l, t, onnx_dt(X->type), 4, X->shape, NULL);
		hide(l, t);
		xn = t;
	}
	int64_t shape[M2W_MAX_DIMS];
	for (int k = 0; k < Y->ndim; k++)
		shape[k] = Y->shape[k];
	const char *sn = ints_const(l, sfmt(l, "%s:shape", yn), shape, (size_t)Y->ndim, o->op->off);
	const char *ro = yn;
	if (Y->ndim == 4) { /* reshaped in NHWC, then to NCHW */
		ro = sfmt(l, "%s:nhwc_out", yn);
		value_info(l, ro, onnx_dt(Y->type), 4, Y->shape, NULL);
		hide(l, ro);
	}
	const char *in[2] = {xn, sn};
	add_node(l, "Reshape", "", o->label, o->op->off, 2, in, 1, &ro);
	if (Y->ndim == 4) {
		struct m2w_onnx_node *n = add_node(l, "Transpose", "", o->label, o->op->off, 1, &ro, 1, &yn);
		if (!n)
			return;
		int64_t perm[4] = {NCHW[0], NCHW[1], NCHW[2], NCHW[3]};
		attr_ints(l, n, "perm", perm, 4);
	}
}

/* An op this file does not lower: a node the core turns into a stub. */
static void lower_stub(struct lw *l, struct opctx *o)
{
	const char *in[8], *out[4];
	size_t nin = 0;
	for (int i = 0; i < o->nin; i++) {
		const char *dummy;
		if (o->in[i] < 0)
			continue;
		if (is_const(l, o->in[i]))
			in[nin] = constant(l, o->in[i], P_NONE, &dummy);
		else
			in[nin] = l->names[o->in[i]];
		if (in[nin])
			nin++;
	}
	size_t nout = 0;
	for (int i = 0; i < o->nout; i++)
		if (o->out[i] >= 0)
			out[nout++] = l->names[o->out[i]];
	char *label = zalloc(l, strlen(o->label) + strlen(o->why) + 3);
	if (!label)
		return;
	sprintf(label, "%s: %s", o->label, o->why);
	add_node(l, o->name, "ai.tflite", label, o->op->off, nin, in, nout, out);
}

static int lower_op(struct lw *l, uint32_t oi)
{
	const struct m2w_tfl_operator *op = &l->sg->operators[oi];
	struct opctx o = {.op = op};
	char buf[64];
	o.name = m2w_tflite_op_name(l->m, op->opcode_index, buf, sizeof buf);
	if (!(o.name = sfmt(l, "%s", o.name)))
		return -1;
	char num[24];
	snprintf(num, sizeof num, " #%u", oi);
	o.label = zalloc(l, strlen(o.name) + strlen(num) + 1);
	if (!o.label)
		return -1;
	strcpy(o.label, o.name);
	strcat(o.label, num);
	if (op->inputs.n > 8 || op->outputs.n > 4 || op->outputs.n < 1) {
		o.why = "more operands than this front end handles";
		o.nin = o.nout = 0;
	} else {
		for (uint32_t i = 0; i < op->inputs.n; i++)
			o.in[o.nin++] = m2w_tfl_i32(&op->inputs, i);
		for (uint32_t i = 0; i < op->outputs.n; i++)
			o.out[o.nout++] = m2w_tfl_i32(&op->outputs, i);
	}
	if (o.nout < 1 || o.out[0] < 0)
		return m2w_err(l->d, op->off, "operator %u has no output", oi);
	const char *nm = o.name;
	if (!strcmp(nm, "DEQUANTIZE") && o.nin == 1 && is_const(l, o.in[0])) {
		l->src[o.out[0]] = l->src[o.in[0]];
		l->names[o.out[0]] = l->names[l->src[o.in[0]]]; /* nodes may already name the old string: kept */
		return 0;
	}
	for (int i = 0; i < o.nout; i++)
		if (o.out[i] >= 0)
			act_vi(l, o.out[i]);
	size_t before = l->g->nnodes, before_i = l->g->ninits;
	if (o.why || o.nin < 1 || o.in[0] < 0)
		o.why = o.why ? o.why : "no first input";
	else if (!strcmp(nm, "CONV_2D"))
		lower_conv(l, &o, false);
	else if (!strcmp(nm, "DEPTHWISE_CONV_2D"))
		lower_conv(l, &o, true);
	else if (!strcmp(nm, "MAX_POOL_2D"))
		lower_pool(l, &o, false);
	else if (!strcmp(nm, "AVERAGE_POOL_2D"))
		lower_pool(l, &o, true);
	else if (!strcmp(nm, "ADD"))
		lower_binary(l, &o, "Add");
	else if (!strcmp(nm, "SUB"))
		lower_binary(l, &o, "Sub");
	else if (!strcmp(nm, "MUL"))
		lower_binary(l, &o, "Mul");
	else if (!strcmp(nm, "DIV"))
		lower_binary(l, &o, "Div");
	else if (!strcmp(nm, "MAXIMUM"))
		lower_binary(l, &o, "Max");
	else if (!strcmp(nm, "MINIMUM"))
		lower_binary(l, &o, "Min");
	else if (!strcmp(nm, "RELU"))
		lower_unary(l, &o, "Relu");
	else if (!strcmp(nm, "RELU6"))
		lower_unary(l, &o, "Clip");
	else if (!strcmp(nm, "LOGISTIC"))
		lower_unary(l, &o, "Sigmoid");
	else if (!strcmp(nm, "TANH"))
		lower_unary(l, &o, "Tanh");
	else if (!strcmp(nm, "PAD") || !strcmp(nm, "PADV2"))
		lower_pad(l, &o);
	else if (!strcmp(nm, "CONCATENATION"))
		lower_concat(l, &o);
	else if (!strcmp(nm, "RESHAPE") || !strcmp(nm, "SQUEEZE") || !strcmp(nm, "EXPAND_DIMS"))
		lower_reshape(l, &o);
	else
		o.why = "no lowering from TFLite to a library shader";
	if (l->oom)
		return -1;
	if (o.why) { /* drop what a partial lowering added; the op becomes a stub */
		l->g->nnodes = before;
		l->g->ninits = before_i;
		for (size_t i = 0; i < (size_t)l->sg->ntensors; i++)
			if (l->layout[i] != -2) {
				bool still = false;
				for (size_t k = 0; k < l->g->ninits; k++)
					still |= m2w_pbstr_eq(l->g->inits[k].name, l->names[i]);
				if (!still)
					l->layout[i] = -2;
			}
		lower_stub(l, &o);
	}
	return l->oom ? -1 : 0;
}

/* ---- the entry point ---- */

static const char NOTE[] =
	"// Lowered from TFLite by m2w-scaffold: rank-4 tensors are NCHW here (the\n"
	"// library shaders' layout), the graph input included; a rank-4 checkpoint\n"
	"// is the NCHW permutation of the TFLite tensor of that name.  Weights are\n"
	"// m2w-extract's (--layout nchw: CONV_2D [O,I,H,W], DEPTHWISE_CONV_2D\n"
	"// [C,1,H,W], f16 constants read through DEQUANTIZE as f32).\n";

int m2w_scaffold_tflite(const uint8_t *p, size_t n, const struct m2w_scaffold_opts *o,
	struct m2w_scaffold_result *r, struct m2w_diag *d)
{
	struct m2w_tflite *m = NULL;
	struct lw l = {0};
	struct m2w_onnx_graph g = {0};
	struct m2w_onnx_opset opset = {S(""), 13};
	struct m2w_onnx_model model = {0};
	struct m2w_scaffold_opts so = *o;
	int rc = -1;
	memset(r, 0, sizeof *r);
	if (m2w_tflite_parse(p, n, 0, &m, d) < 0)
		return -1;
	if (!m->nsubgraphs) {
		m2w_err(d, 0, "the model has no subgraph");
		goto out;
	}
	l.m = m;
	l.sg = &m->subgraphs[0];
	l.d = d;
	l.g = &g;
	m2w_tflite_fb(m, d, &l.fb);
	size_t nt = l.sg->ntensors, no = l.sg->noperators;
	l.capn = 4 * no + 4;
	l.capi = nt + 4 * no + 4;
	l.capv = nt + 4 * no + 4;
	l.caph = 4 * no + 4;
	g.nodes = calloc(l.capn, sizeof *g.nodes);
	g.inits = calloc(l.capi, sizeof *g.inits);
	g.value_info = calloc(l.capv, sizeof *g.value_info);
	g.inputs = calloc(l.sg->inputs.n + 1, sizeof *g.inputs);
	g.outputs = calloc(l.sg->outputs.n + 1, sizeof *g.outputs);
	l.names = calloc(nt + 1, sizeof *l.names);
	l.src = calloc(nt + 1, sizeof *l.src);
	l.layout = calloc(nt + 1, sizeof *l.layout);
	l.hidden = calloc(l.caph, sizeof *l.hidden);
	if (!g.nodes || !g.inits || !g.value_info || !g.inputs || !g.outputs || !l.names || !l.src || !l.layout ||
	    !l.hidden) {
		m2w_err(d, M2W_NO_OFFSET, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < nt; i++) {
		const struct m2w_tfl_tensor *t = &l.sg->tensors[i];
		char tmp[32];
		snprintf(tmp, sizeof tmp, "tensor_%zu", i);
		l.names[i] = keep(&l, strdup(t->name[0] ? t->name : tmp));
		if (!l.names[i]) {
			m2w_err(d, M2W_NO_OFFSET, "out of memory");
			goto out;
		}
		bool has_data = t->buffer > 0 && t->buffer < m->nbuffers && m->buffers[t->buffer].size > 0;
		l.src[i] = has_data ? (int)i : -1;
		l.layout[i] = -2;
	}
	char note[sizeof NOTE + 512];
	size_t nn = (size_t)snprintf(note, sizeof note, "%s", NOTE);
	for (uint32_t i = 0; i < l.sg->inputs.n; i++) {
		int k = m2w_tfl_i32(&l.sg->inputs, i);
		const struct m2w_tfl_tensor *t = &l.sg->tensors[k];
		add_vi(&l, &g.inputs[g.ninputs++], l.names[k], onnx_dt(t->type), t->ndim, t->shape,
			t->ndim == 4 ? NCHW : NULL);
		for (int j = 0; j < t->sig_ndim; j++) /* dynamic in the file: drafted for its stored shape */
			if (t->shape_signature[j] < 0 && nn < sizeof note - 200)
				nn += (size_t)snprintf(note + nn, sizeof note - nn,
					"// Input '%.60s' dim %d is dynamic (shape_signature -1): drafted for the\n"
					"// file's shape, %d, as every tensor's stored shape is.\n",
					l.names[k], j, (int)t->shape[j]);
	}
	for (uint32_t oi = 0; oi < l.sg->noperators; oi++)
		if (lower_op(&l, oi) < 0)
			goto fail;
	for (uint32_t i = 0; i < l.sg->outputs.n; i++) {
		int k = m2w_tfl_i32(&l.sg->outputs, i);
		const struct m2w_tfl_tensor *t = &l.sg->tensors[k];
		add_vi(&l, &g.outputs[g.noutputs++], l.names[k], onnx_dt(t->type), t->ndim, t->shape,
			t->ndim == 4 ? NCHW : NULL);
	}
	if (l.oom)
		goto fail;
	model.base = p;
	model.size = n;
	model.graph = &g;
	model.nopsets = 1;
	model.opsets = &opset;
	so.format = "tflite";
	so.note = note;
	so.nhidden = l.nhidden;
	so.hidden = l.hidden;
	rc = m2w_scaffold_graph(&model, &so, r, d);
	goto out;
fail:
	if (d->msg[0] == 0)
		m2w_err(d, M2W_NO_OFFSET, "out of memory");
out:
	for (size_t i = 0; i < l.nown; i++)
		free(l.own[i]);
	free(l.own);
	free(l.names);
	free(l.src);
	free(l.layout);
	free(l.hidden);
	free(g.nodes);
	free(g.inits);
	free(g.value_info);
	free(g.inputs);
	free(g.outputs);
	m2w_tflite_free(m);
	return rc;
}
