/* scaffold: ONNX graph -> engine.ts / types.ts / report.json (see scaffold.h).
 *
 * Four passes over the main graph:
 *   1. tensors: graph inputs (symbolic dims bound from the caller, else an
 *      error), initializers and Constant nodes (weights, as m2w-extract names
 *      them; small ones also read, for attributes given as inputs), caller
 *      constants, value_info and graph outputs; then shapes inferred node by
 *      node for the ops this file knows.
 *   2. steps: per node, a header comment, its dispatches (library shader,
 *      bindings as tensor indices, Params text with the exact dims, workgroup
 *      counts) or a stub, then a checkpoint per materialised output.  View
 *      ops (Reshape, Flatten, ...) alias their input's buffer.
 *   3. lifetimes: each buffer-backed tensor's first and last step; tensors
 *      that are neither inputs, weights, constants nor graph outputs share
 *      work buffers when their intervals are disjoint (first fit, sizes in
 *      tensor order so the result is deterministic).
 *   4. printing.
 * Everything is 4 bytes an element on the GPU: floats as f32, integer
 * tensors (indices) as u32.
 */
#define _POSIX_C_SOURCE 200809L
#include "scaffold.h"

#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onnx.h"

#ifndef M2W_SCAFFOLD_MAX_INLINE
#define M2W_SCAFFOLD_MAX_INLINE 4096 /* elements of a constant read at scaffold time */
#endif
#ifndef M2W_SCAFFOLD_MAX_CONST
#define M2W_SCAFFOLD_MAX_CONST (1 << 20) /* elements of a --const value */
#endif
#define MAXR M2W_MAX_DIMS

/* ---- growable text ---- */

struct sb {
	char *p;
	size_t n, cap;
	bool oom;
};

__attribute__((format(printf, 2, 3))) static void sbf(struct sb *s, const char *fmt, ...)
{
	va_list ap;
	for (;;) {
		size_t room = s->cap - s->n;
		va_start(ap, fmt);
		int k = vsnprintf(s->p ? s->p + s->n : NULL, s->p ? room : 0, fmt, ap);
		va_end(ap);
		if (k < 0) {
			s->oom = true;
			return;
		}
		if (s->p && (size_t)k < room) {
			s->n += (size_t)k;
			return;
		}
		size_t want = s->cap * 2 + (size_t)k + 256;
		char *q = realloc(s->p, want);
		if (!q) {
			s->oom = true;
			return;
		}
		s->p = q;
		s->cap = want;
	}
}

static char *xstrdup(const char *z)
{
	char *p = malloc(strlen(z) + 1);
	if (p)
		strcpy(p, z);
	return p;
}

/* ---- the model as this file sees it ---- */

enum tkind { K_VALUE, K_INPUT, K_WEIGHT, K_CONST, K_TEMP };

struct ten {
	char *name;
	int32_t dt;
	bool known;
	int rank;
	int64_t shape[MAXR];
	enum tkind kind;
	double *val; /* constant value when read at scaffold time */
	uint64_t nval;
	bool output;
	int alias;   /* -1, or the tensor whose buffer this one is */
	bool gpu;    /* bound by a dispatch or captured */
	int first, last;
	int slot;
	size_t off; /* where it is defined in the file, for messages */
};

struct res {
	const char *binding;
	int t;
};

enum skind { S_NODE, S_DISPATCH, S_STUB, S_CAPTURE, S_ALIAS };

struct step {
	enum skind kind;
	int node;
	const char *shader; /* S_DISPATCH: library file stem */
	const char *entry;  /* NULL: the default entry point */
	char *text;         /* S_NODE: header; S_DISPATCH: params; S_STUB: reason */
	int nres;
	struct res res[6];
	uint64_t wg[3];
	int t; /* S_CAPTURE, S_ALIAS: the tensor */
};

struct ctx {
	const struct m2w_onnx_model *m;
	const struct m2w_onnx_graph *g;
	const struct m2w_scaffold_opts *o;
	struct m2w_diag *d;
	int64_t opset;
	struct ten *t;
	size_t nt, capt;
	struct step *s;
	size_t ns, caps;
	bool *fused; /* per node: absorbed into an earlier node's dispatch */
	int *uses;   /* per tensor: how many node inputs name it */
	struct sb report_ops, report_fused;
	bool first_op, first_fused;
	int nstubs, nslots;
	uint64_t *slot_elems;
	bool oom;
};

static const char *const LIB_SHADERS[] = {
	"add", "argmax", "avg_pool", "binary_op", "concat", "conv1d", "conv2d", "conv_transpose1d",
	"embedding_lookup", "gelu", "instance_norm", "layer_norm", "leaky_relu", "matmul", "matmul_gelu",
	"max_pool", "mul", "pad", "prelu", "relu", "resize", "sigmoid", "softmax", "tanh", "top_k", "transpose",
	"unary_op",
};
#define NLIB (sizeof LIB_SHADERS / sizeof LIB_SHADERS[0])

static int find_t(const struct ctx *c, struct m2w_pbstr name)
{
	for (size_t i = 0; i < c->nt; i++)
		if (strlen(c->t[i].name) == name.n && memcmp(c->t[i].name, name.p, name.n) == 0)
			return (int)i;
	return -1;
}

static int new_t(struct ctx *c, const char *name, int32_t dt, size_t off)
{
	if (c->nt == c->capt) {
		size_t cap = c->capt ? c->capt * 2 : 64;
		struct ten *q = realloc(c->t, cap * sizeof *q);
		if (!q)
			return -1;
		c->t = q;
		c->capt = cap;
	}
	struct ten *t = &c->t[c->nt];
	memset(t, 0, sizeof *t);
	if (!(t->name = xstrdup(name)))
		return -1;
	t->dt = dt;
	t->alias = -1;
	t->first = t->last = -1;
	t->slot = -1;
	t->off = off;
	return (int)c->nt++;
}

static int t_of(struct ctx *c, struct m2w_pbstr name, size_t off)
{
	int i = find_t(c, name);
	if (i >= 0)
		return i;
	char *z = m2w_pbstr_dup(name);
	if (!z)
		return -1;
	i = new_t(c, z, M2W_ONNX_UNDEFINED, off);
	free(z);
	return i;
}

static uint64_t count_of(const struct ten *t)
{
	uint64_t n = 1;
	for (int i = 0; i < t->rank; i++)
		n *= (uint64_t)t->shape[i];
	return n;
}

static bool is_int_dt(int32_t dt)
{
	return dt == M2W_ONNX_INT64 || dt == M2W_ONNX_INT32 || dt == M2W_ONNX_UINT32 || dt == M2W_ONNX_UINT64 ||
	       dt == M2W_ONNX_INT8 || dt == M2W_ONNX_UINT8 || dt == M2W_ONNX_INT16 || dt == M2W_ONNX_UINT16 ||
	       dt == M2W_ONNX_BOOL;
}

static int new_step(struct ctx *c, enum skind k, int node)
{
	if (c->ns == c->caps) {
		size_t cap = c->caps ? c->caps * 2 : 64;
		struct step *q = realloc(c->s, cap * sizeof *q);
		if (!q) {
			c->oom = true;
			return -1;
		}
		c->s = q;
		c->caps = cap;
	}
	struct step *s = &c->s[c->ns];
	memset(s, 0, sizeof *s);
	s->kind = k;
	s->node = node;
	s->t = -1;
	return (int)c->ns++;
}

/* ---- reading constant values ---- */

static double elem(const uint8_t *p, int32_t dt)
{
	switch (dt) {
	case M2W_ONNX_FLOAT: { float f; memcpy(&f, p, 4); return f; }
	case M2W_ONNX_DOUBLE: { double f; memcpy(&f, p, 8); return f; }
	case M2W_ONNX_FLOAT16: return m2w_f16_to_f32(m2w_le16(p));
	case M2W_ONNX_BFLOAT16: return m2w_bf16_to_f32(m2w_le16(p));
	case M2W_ONNX_INT64: return (double)(int64_t)m2w_le64(p);
	case M2W_ONNX_UINT64: return (double)m2w_le64(p);
	case M2W_ONNX_INT32: return (int32_t)m2w_le32(p);
	case M2W_ONNX_UINT32: return m2w_le32(p);
	case M2W_ONNX_INT16: return (int16_t)m2w_le16(p);
	case M2W_ONNX_UINT16: return m2w_le16(p);
	case M2W_ONNX_INT8: return (int8_t)p[0];
	case M2W_ONNX_UINT8: case M2W_ONNX_BOOL: return p[0];
	default: return NAN;
	}
}

/* Reads a TensorProto's value into t (when small and of a plain type). */
static int read_value(struct ctx *c, const struct m2w_onnx_model *m, const struct m2w_onnx_tensor *ot, struct ten *t,
	uint64_t limit)
{
	unsigned bits = m2w_onnx_dtype_bits(ot->data_type);
	if (ot->count > limit || bits < 8 || ot->data_type == M2W_ONNX_STRING ||
	    (ot->data_type >= M2W_ONNX_COMPLEX64 && ot->data_type != M2W_ONNX_BFLOAT16))
		return 0;
	uint8_t *buf = malloc(ot->nbytes ? ot->nbytes : 1);
	double *v = malloc((ot->count ? ot->count : 1) * sizeof *v);
	if (!buf || !v) {
		free(buf);
		free(v);
		c->oom = true;
		return -1;
	}
	if (m2w_onnx_tensor_read(m, ot, buf, ot->nbytes, c->d) < 0) {
		free(buf);
		free(v);
		return -1;
	}
	for (uint64_t i = 0; i < ot->count; i++)
		v[i] = elem(buf + i * (bits / 8), ot->data_type);
	free(buf);
	free(t->val);
	t->val = v;
	t->nval = ot->count;
	return 0;
}

static int set_shape_dims(struct ctx *c, struct ten *t, size_t ndim, const int64_t *dims, size_t off)
{
	if (ndim > MAXR)
		return m2w_err(c->d, off, "tensor '%s' has %zu dims, limit %d", t->name, ndim, MAXR);
	t->rank = (int)ndim;
	for (size_t i = 0; i < ndim; i++) {
		if (dims[i] < 0 || dims[i] > (int64_t)1 << 40)
			return m2w_err(c->d, off, "tensor '%s' dim %zu is %lld, limit 2^40", t->name, i,
				(long long)dims[i]);
		t->shape[i] = dims[i];
	}
	t->known = true;
	return 0;
}

/* Shape from a ValueInfo; symbolic dims from --dim, else (bind) an error. */
static int vi_shape(struct ctx *c, struct ten *t, const struct m2w_onnx_value_info *vi, bool bind)
{
	if (!vi->has_type || vi->type.kind != M2W_ONNX_TYPE_TENSOR)
		return 0;
	if (t->dt == M2W_ONNX_UNDEFINED)
		t->dt = vi->type.elem_type;
	if (!vi->type.has_shape || t->known)
		return 0;
	int64_t dims[MAXR];
	if (vi->type.ndim > MAXR)
		return m2w_err(c->d, vi->off, "tensor '%s' has %zu dims, limit %d", t->name, vi->type.ndim, MAXR);
	for (size_t i = 0; i < vi->type.ndim; i++) {
		const struct m2w_onnx_dim *dm = &vi->type.dims[i];
		if (dm->kind == M2W_ONNX_DIM_VALUE) {
			dims[i] = dm->value;
			continue;
		}
		bool found = false;
		for (size_t k = 0; dm->kind == M2W_ONNX_DIM_PARAM && k < c->o->ndims; k++)
			if (m2w_pbstr_eq(dm->param, c->o->dim_names[k])) {
				dims[i] = c->o->dim_values[k];
				found = true;
			}
		if (found)
			continue;
		if (!bind)
			return 0; /* inferred later */
		if (dm->kind == M2W_ONNX_DIM_PARAM)
			return m2w_err(c->d, vi->off,
				"input '%s' dim %zu is symbolic ('%.*s'): static shapes are required; "
				"bind it with --dim %.*s=VALUE",
				t->name, i, (int)(dm->param.n > 100 ? 100 : dm->param.n), dm->param.p,
				(int)(dm->param.n > 100 ? 100 : dm->param.n), dm->param.p);
		return m2w_err(c->d, vi->off, "input '%s' dim %zu has no value: static shapes are required", t->name, i);
	}
	return set_shape_dims(c, t, vi->type.ndim, dims, vi->off);
}

/* ---- attributes ---- */

static const struct m2w_onnx_attr *attr(const struct m2w_onnx_node *n, const char *name)
{
	for (size_t i = 0; i < n->nattrs; i++)
		if (m2w_pbstr_eq(n->attrs[i].name, name))
			return &n->attrs[i];
	return NULL;
}

static int64_t aint(const struct m2w_onnx_node *n, const char *name, int64_t def)
{
	const struct m2w_onnx_attr *a = attr(n, name);
	return a ? a->i : def;
}

static double afloat(const struct m2w_onnx_node *n, const char *name, double def)
{
	const struct m2w_onnx_attr *a = attr(n, name);
	return a ? a->f : def;
}

static bool astr(const struct m2w_onnx_node *n, const char *name, const char *eq)
{
	const struct m2w_onnx_attr *a = attr(n, name);
	return a && m2w_pbstr_eq(a->s, eq);
}

/* ints attribute into v (up to max); returns the count or -1 when absent. */
static int aints(const struct m2w_onnx_node *n, const char *name, int64_t *v, int max)
{
	const struct m2w_onnx_attr *a = attr(n, name);
	if (!a)
		return -1;
	int k = (int)(a->nints < (size_t)max ? a->nints : (size_t)max);
	for (int i = 0; i < k; i++)
		v[i] = a->ints[i];
	return k;
}

static bool op_is(const struct m2w_onnx_node *n, const char *op)
{
	return m2w_pbstr_eq(n->op_type, op);
}

/* Input i of node n as a tensor index, -1 when absent or empty. */
static int in_t(struct ctx *c, const struct m2w_onnx_node *n, size_t i)
{
	if (i >= n->ninputs || n->inputs[i].n == 0)
		return -1;
	return find_t(c, n->inputs[i]);
}

static int out_t(struct ctx *c, const struct m2w_onnx_node *n, size_t i)
{
	if (i >= n->noutputs || n->outputs[i].n == 0)
		return -1;
	return find_t(c, n->outputs[i]);
}

/* ---- shape inference (only what the known ops need) ---- */

static int norm_axis(int64_t a, int rank)
{
	return (int)(a < 0 ? a + rank : a);
}

static bool broadcast(const struct ten *a, const struct ten *b, struct ten *o)
{
	int r = a->rank > b->rank ? a->rank : b->rank;
	for (int i = 0; i < r; i++) {
		int64_t x = i - (r - a->rank) >= 0 ? a->shape[i - (r - a->rank)] : 1;
		int64_t y = i - (r - b->rank) >= 0 ? b->shape[i - (r - b->rank)] : 1;
		if (x != y && x != 1 && y != 1)
			return false;
		o->shape[i] = x == 1 ? y : x;
	}
	o->rank = r;
	o->known = true;
	return true;
}

static const char *const ELEMENTWISE[] = {
	"Relu", "Sigmoid", "Tanh", "LeakyRelu", "Gelu", "Elu", "Selu", "Abs", "Neg", "Exp", "Log", "Sqrt",
	"Reciprocal", "Floor", "Ceil", "Round", "Sin", "Cos", "Erf", "Softplus", "Softsign", "HardSigmoid",
	"HardSwish", "Mish", "Clip", "Identity", "Dropout", "Softmax", "LogSoftmax", "Hardmax", "Celu",
	"ThresholdedRelu", "Sign", "Not", "Cast", "LayerNormalization", "InstanceNormalization",
	"BatchNormalization", "PRelu", "Shrink", "IsNaN", "IsInf", "Tan", "Asin", "Acos", "Atan", "Sinh",
	"Cosh", "Asinh", "Acosh", "Atanh", "LpNormalization", "MeanVarianceNormalization",
};
static const char *const BROADCASTING[] = {
	"Add", "Mul", "Sub", "Div", "Pow", "Max", "Min", "Sum", "Mean", "Equal", "Less", "Greater",
	"LessOrEqual", "GreaterOrEqual", "And", "Or", "Xor", "Mod", "Where", "BitShift",
};

static bool in_list(const struct m2w_onnx_node *n, const char *const *l, size_t k)
{
	for (size_t i = 0; i < k; i++)
		if (op_is(n, l[i]))
			return true;
	return false;
}

/* Conv / pool output size along one axis. */
static int64_t pool_out(int64_t in, int64_t k, int64_t s, int64_t dil, int64_t pb, int64_t pe, bool ceil_mode)
{
	int64_t span = (k - 1) * dil + 1, num = in + pb + pe - span;
	if (num < 0)
		return 0;
	int64_t o = (ceil_mode ? (num + s - 1) / s : num / s) + 1;
	if (ceil_mode && (o - 1) * s >= in + pb) /* the last window must start inside */
		o--;
	return o;
}

struct spatial {
	int nd;
	int64_t k[3], s[3], dil[3], pb[3], pe[3];
};

/* kernel, strides, dilations, pads (auto_pad resolved) for Conv / pooling
 * over x's last nd dims; o_known/o gives SAME's output when known. */
static void spatial_of(const struct m2w_onnx_node *n, const struct ten *x, const int64_t *kernel, int nd,
	struct spatial *sp)
{
	int64_t pads[6] = {0}, v[6];
	sp->nd = nd;
	for (int i = 0; i < nd; i++) {
		sp->k[i] = kernel[i];
		sp->s[i] = 1;
		sp->dil[i] = 1;
	}
	if (aints(n, "strides", v, 3) == nd)
		memcpy(sp->s, v, (size_t)nd * sizeof v[0]);
	if (aints(n, "dilations", v, 3) == nd)
		memcpy(sp->dil, v, (size_t)nd * sizeof v[0]);
	if (aints(n, "pads", pads, 6) != 2 * nd)
		memset(pads, 0, sizeof pads);
	bool upper = astr(n, "auto_pad", "SAME_UPPER"), lower = astr(n, "auto_pad", "SAME_LOWER");
	for (int i = 0; i < nd; i++) {
		sp->pb[i] = pads[i];
		sp->pe[i] = pads[i + nd];
		if (upper || lower) {
			int64_t in = x->shape[x->rank - nd + i], o = (in + sp->s[i] - 1) / sp->s[i];
			int64_t total = (o - 1) * sp->s[i] + (sp->k[i] - 1) * sp->dil[i] + 1 - in;
			if (total < 0)
				total = 0;
			sp->pb[i] = upper ? total / 2 : total - total / 2;
			sp->pe[i] = total - sp->pb[i];
		} else if (astr(n, "auto_pad", "VALID")) {
			sp->pb[i] = sp->pe[i] = 0;
		}
	}
}

static int64_t ival(const struct ten *t, uint64_t i)
{
	return (int64_t)t->val[i];
}

static void infer(struct ctx *c, const struct m2w_onnx_node *n)
{
	int yi = out_t(c, n, 0), xi = in_t(c, n, 0);
	if (yi < 0 || c->t[yi].known || xi < 0 || !c->t[xi].known)
		return;
	struct ten *y = &c->t[yi], *x = &c->t[xi];
	int wi = in_t(c, n, 1);
	struct ten *w = wi >= 0 ? &c->t[wi] : NULL;
	if (y->dt == M2W_ONNX_UNDEFINED)
		y->dt = x->dt;
	if (in_list(n, ELEMENTWISE, sizeof ELEMENTWISE / sizeof ELEMENTWISE[0])) {
		y->rank = x->rank;
		memcpy(y->shape, x->shape, sizeof y->shape);
		y->known = true;
		if (op_is(n, "Cast"))
			y->dt = (int32_t)aint(n, "to", x->dt);
	} else if (in_list(n, BROADCASTING, sizeof BROADCASTING / sizeof BROADCASTING[0])) {
		struct ten acc = *x;
		for (size_t i = 1; i < n->ninputs; i++) {
			int k = in_t(c, n, i);
			if (k < 0 || !c->t[k].known || !broadcast(&acc, &c->t[k], &acc))
				return;
		}
		y->rank = acc.rank;
		memcpy(y->shape, acc.shape, sizeof y->shape);
		y->known = true;
	} else if ((op_is(n, "Conv") || op_is(n, "MaxPool") || op_is(n, "AveragePool")) && x->rank >= 3 &&
		   x->rank <= 5) {
		int nd = x->rank - 2;
		int64_t kernel[3];
		bool conv = op_is(n, "Conv");
		if (conv && !(w && w->known && w->rank == x->rank))
			return;
		if (aints(n, "kernel_shape", kernel, 3) != nd) {
			if (!conv)
				return;
			for (int i = 0; i < nd; i++)
				kernel[i] = w->shape[2 + i];
		}
		struct spatial sp;
		spatial_of(n, x, kernel, nd, &sp);
		y->shape[0] = x->shape[0];
		y->shape[1] = conv ? w->shape[0] : x->shape[1];
		for (int i = 0; i < nd; i++)
			y->shape[2 + i] = pool_out(x->shape[2 + i], sp.k[i], sp.s[i], sp.dil[i], sp.pb[i], sp.pe[i],
				aint(n, "ceil_mode", 0) != 0);
		y->rank = x->rank;
		y->known = true;
	} else if ((op_is(n, "GlobalAveragePool") || op_is(n, "GlobalMaxPool")) && x->rank >= 3) {
		y->rank = x->rank;
		memcpy(y->shape, x->shape, sizeof y->shape);
		for (int i = 2; i < x->rank; i++)
			y->shape[i] = 1;
		y->known = true;
	} else if (op_is(n, "MatMul") && w && w->known && x->rank >= 1 && w->rank >= 1) {
		struct ten a = *x, b = *w;
		if (a.rank == 1) {
			a.shape[1] = a.shape[0];
			a.shape[0] = 1;
			a.rank = 2;
		}
		if (b.rank == 1) {
			b.shape[1] = 1;
			b.rank = 2;
		}
		struct ten ab = a, bb = b, o;
		ab.rank -= 2;
		bb.rank -= 2;
		if (!broadcast(&ab, &bb, &o))
			return;
		o.shape[o.rank++] = a.shape[a.rank - 2];
		o.shape[o.rank++] = b.shape[b.rank - 1];
		if (x->rank == 1)
			o.shape[o.rank - 2] = o.shape[o.rank - 1], o.rank--;
		if (w->rank == 1)
			o.rank--;
		y->rank = o.rank;
		memcpy(y->shape, o.shape, sizeof y->shape);
		y->known = true;
	} else if (op_is(n, "Gemm") && w && w->known && x->rank == 2 && w->rank == 2) {
		y->rank = 2;
		y->shape[0] = aint(n, "transA", 0) ? x->shape[1] : x->shape[0];
		y->shape[1] = aint(n, "transB", 0) ? w->shape[0] : w->shape[1];
		y->known = true;
	} else if (op_is(n, "Flatten")) {
		int ax = norm_axis(aint(n, "axis", 1), x->rank);
		int64_t a = 1, b = 1;
		for (int i = 0; i < x->rank; i++)
			*(i < ax ? &a : &b) *= x->shape[i];
		y->rank = 2;
		y->shape[0] = a;
		y->shape[1] = b;
		y->known = true;
	} else if (op_is(n, "Reshape") && w && w->val && w->nval <= MAXR) {
		int64_t total = (int64_t)count_of(x), prod = 1;
		int neg = -1;
		y->rank = (int)w->nval;
		for (int i = 0; i < y->rank; i++) {
			int64_t v = ival(w, (uint64_t)i);
			if (v == 0 && !aint(n, "allowzero", 0))
				v = i < x->rank ? x->shape[i] : 1;
			if (v < 0)
				neg = i;
			else
				prod *= v;
			y->shape[i] = v;
		}
		if (neg >= 0)
			y->shape[neg] = prod ? total / prod : 0;
		y->known = true;
	} else if (op_is(n, "Transpose")) {
		int64_t perm[MAXR];
		if (aints(n, "perm", perm, MAXR) != x->rank)
			for (int i = 0; i < x->rank; i++)
				perm[i] = x->rank - 1 - i;
		y->rank = x->rank;
		for (int i = 0; i < x->rank; i++)
			y->shape[i] = x->shape[perm[i]];
		y->known = true;
	} else if (op_is(n, "Concat")) {
		int ax = norm_axis(aint(n, "axis", 0), x->rank);
		*y = (struct ten){.name = y->name, .dt = y->dt, .alias = y->alias, .first = -1, .last = -1, .slot = -1,
			.off = y->off, .output = y->output, .kind = y->kind};
		y->rank = x->rank;
		memcpy(y->shape, x->shape, sizeof y->shape);
		y->shape[ax] = 0;
		for (size_t i = 0; i < n->ninputs; i++) {
			int k = in_t(c, n, i);
			if (k < 0 || !c->t[k].known)
				return;
			y->shape[ax] += c->t[k].shape[ax];
		}
		y->known = true;
	} else if (op_is(n, "Squeeze") || op_is(n, "Unsqueeze")) {
		int64_t axes[MAXR];
		int na = aints(n, "axes", axes, MAXR);
		if (na < 0 && w && w->val && w->nval <= MAXR) {
			na = (int)w->nval;
			for (int i = 0; i < na; i++)
				axes[i] = ival(w, (uint64_t)i);
		}
		bool sq = op_is(n, "Squeeze");
		int r = 0;
		if (sq) {
			for (int i = 0; i < x->rank; i++) {
				bool drop = na < 0 ? x->shape[i] == 1 : false;
				for (int k = 0; k < na; k++)
					drop |= norm_axis(axes[k], x->rank) == i;
				if (!drop)
					y->shape[r++] = x->shape[i];
			}
		} else {
			if (na < 0)
				return;
			int out = x->rank + na, xi2 = 0;
			if (out > MAXR)
				return;
			for (int i = 0; i < out; i++) {
				bool ins = false;
				for (int k = 0; k < na; k++)
					ins |= norm_axis(axes[k], out) == i;
				y->shape[r++] = ins ? 1 : x->shape[xi2++];
			}
		}
		y->rank = r;
		y->known = true;
	}
}

/* ---- steps ---- */

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...)
{
	va_list ap;
	va_start(ap, f);
	int k = vsnprintf(NULL, 0, f, ap);
	va_end(ap);
	char *p = k >= 0 ? malloc((size_t)k + 1) : NULL;
	if (!p)
		return NULL;
	va_start(ap, f);
	vsnprintf(p, (size_t)k + 1, f, ap);
	va_end(ap);
	return p;
}

/* The tensor a binding really names (views share their root's buffer). */
static int root(const struct ctx *c, int t)
{
	while (t >= 0 && c->t[t].alias >= 0)
		t = c->t[t].alias;
	return t;
}

static void flat(uint64_t groups, uint64_t wg[3])
{
	wg[0] = groups <= 65535 ? groups : 65535;
	wg[1] = groups <= 65535 ? 1 : (groups + 65534) / 65535;
	wg[2] = 1;
}

/* Adds a dispatch; res is (binding, tensor) pairs ending at NULL. */
static struct step *dispatch(struct ctx *c, int node, const char *shader, char *params, uint64_t groups, ...)
{
	int k = new_step(c, S_DISPATCH, node);
	if (k < 0 || !params) {
		free(params);
		c->oom = true;
		return NULL;
	}
	struct step *s = &c->s[k];
	s->shader = shader;
	s->text = params;
	flat(groups, s->wg);
	va_list ap;
	va_start(ap, groups);
	for (const char *b; (b = va_arg(ap, const char *)) != NULL && s->nres < 6;) {
		int t = va_arg(ap, int);
		s->res[s->nres++] = (struct res){b, root(c, t)};
		c->t[root(c, t)].gpu = true;
	}
	va_end(ap);
	return s;
}

static int temp(struct ctx *c, int like, const char *what, int node)
{
	char *z = fmt("%s.%s#%d", c->t[like].name, what, node);
	int t = z ? new_t(c, z, M2W_ONNX_FLOAT, 0) : -1;
	free(z);
	if (t < 0) {
		c->oom = true;
		return -1;
	}
	c->t[t].kind = K_TEMP;
	c->t[t].known = true;
	return t;
}

/* 8 numbers for an array<vec4u, 2> field, unused dims 0 (or `fill`). */
static void dims8(struct sb *s, const int64_t *v, int rank, int64_t fill)
{
	sbf(s, "[");
	for (int i = 0; i < 8; i++)
		sbf(s, "%s%lld", i ? ", " : "", (long long)(i < rank ? v[i] : fill));
	sbf(s, "]");
}

static void strides_of(const struct ten *t, int64_t *st)
{
	int64_t acc = 1;
	for (int i = t->rank - 1; i >= 0; i--) {
		st[i] = acc;
		acc *= t->shape[i];
	}
}

/* add / mul / binary_op (op >= 0: its op code) over NumPy broadcasting into y. */
static int binary_x(struct ctx *c, int node, const char *shader, int op, int a, int b, int y)
{
	const struct ten *Y = &c->t[y];
	int64_t sa[MAXR], sb_[MAXR], as[MAXR] = {0}, bs[MAXR] = {0}, shape[MAXR];
	int r = Y->rank ? Y->rank : 1;
	if (Y->rank == 0)
		shape[0] = 1;
	else
		memcpy(shape, Y->shape, sizeof shape);
	const struct ten *A = &c->t[a], *B = &c->t[b];
	strides_of(A, sa);
	strides_of(B, sb_);
	for (int i = 0; i < Y->rank; i++) {
		int ia = i - (Y->rank - A->rank), ib = i - (Y->rank - B->rank);
		as[i] = ia >= 0 && A->shape[ia] != 1 ? sa[ia] : 0;
		bs[i] = ib >= 0 && B->shape[ib] != 1 ? sb_[ib] : 0;
	}
	if (Y->rank == 0)
		as[0] = bs[0] = 0;
	struct sb p = {0};
	uint64_t n = count_of(Y);
	sbf(&p, "{ n: %llu, rank: %d, ", (unsigned long long)n, r);
	if (op >= 0)
		sbf(&p, "op: %d, ", op);
	sbf(&p, "shape: ");
	dims8(&p, shape, r, 1);
	sbf(&p, ", aStrides: ");
	dims8(&p, as, r, 0);
	sbf(&p, ", bStrides: ");
	dims8(&p, bs, r, 0);
	sbf(&p, " }");
	if (p.oom)
		return -1;
	return dispatch(c, node, shader, p.p, (n + 255) / 256, "a", a, "b", b, "out", y, NULL) ? 0 : -1;
}

static int binary(struct ctx *c, int node, const char *shader, int a, int b, int y)
{
	return binary_x(c, node, shader, -1, a, b, y);
}

static int stub(struct ctx *c, int node, char *why)
{
	int k = new_step(c, S_STUB, node);
	if (k < 0 || !why) {
		free(why);
		return -1;
	}
	c->s[k].text = why;
	c->nstubs++;
	return 0;
}

/* The one node right after ni that consumes t, when t has no other use:
 * its index, else -1. */
static int sole_next(struct ctx *c, size_t ni, int t)
{
	if (t < 0 || c->t[t].output || c->uses[t] != 1 || ni + 1 >= c->g->nnodes)
		return -1;
	const struct m2w_onnx_node *nx = &c->g->nodes[ni + 1];
	return nx->ninputs >= 1 && in_t(c, nx, 0) == t ? (int)ni + 1 : -1;
}

static bool const_scalar(struct ctx *c, const struct m2w_onnx_node *n, size_t i, const char *attr_name, double def,
	double *v)
{
	int k = in_t(c, n, i);
	if (k >= 0) {
		if (!c->t[k].val || c->t[k].nval != 1)
			return false;
		*v = c->t[k].val[0];
		return true;
	}
	*v = attr_name ? afloat(n, attr_name, def) : def;
	return true;
}

/* Conv's fused activation: 1 Relu, 2 Clip(0, 6); sets *y to its output. */
static int fuse_activation(struct ctx *c, size_t ni, int *y, const char *what)
{
	int j = sole_next(c, ni, *y);
	if (j < 0)
		return 0;
	const struct m2w_onnx_node *nx = &c->g->nodes[j];
	int act = 0;
	if (op_is(nx, "Relu"))
		act = 1;
	else if (op_is(nx, "Clip")) {
		double lo, hi;
		if (const_scalar(c, nx, 1, "min", -INFINITY, &lo) && const_scalar(c, nx, 2, "max", INFINITY, &hi) &&
		    lo == 0 && hi == 6)
			act = 2;
	}
	int yo = out_t(c, nx, 0);
	if (!act || yo < 0)
		return 0;
	c->fused[j] = true;
	char *nm = m2w_pbstr_dup(nx->name);
	sbf(&c->report_fused, "%s\n    {\"into\": \"%s\", \"node\": %zu, \"op\": \"%.*s\", \"name\": \"%s\", "
		"\"fused\": \"%s\"}", c->first_fused ? "" : ",", what, ni, (int)nx->op_type.n, nx->op_type.p,
		nm ? nm : "", act == 1 ? "Relu" : "Clip(0, 6)");
	c->first_fused = false;
	free(nm);
	*y = yo;
	return act;
}

static char *stubf(const struct m2w_onnx_node *n, const char *why)
{
	return fmt("%.*s: %s", (int)(n->op_type.n > 100 ? 100 : n->op_type.n), n->op_type.p, why);
}

static int emit_conv(struct ctx *c, size_t ni, const struct m2w_onnx_node *n, int x, int w, int b, int y)
{
	const struct ten *X = &c->t[x], *W = &c->t[w];
	int nd = X->rank - 2;
	if (nd < 1 || nd > 2 || W->rank != X->rank)
		return stub(c, (int)ni, stubf(n, "only 1-D and 2-D convolutions have a library shader"));
	int64_t kernel[3];
	for (int i = 0; i < nd; i++)
		kernel[i] = W->shape[2 + i];
	struct spatial sp;
	spatial_of(n, X, kernel, nd, &sp);
	int64_t groups = aint(n, "group", 1);
	int yy = y;
	int act = nd == 2 ? fuse_activation(c, ni, &yy, "conv2d") : 0;
	const struct ten *Y = &c->t[yy];
	uint64_t cnt = count_of(Y);
	char *p;
	if (nd == 1)
		p = fmt("{ N: %lld, Cin: %lld, L: %lld, Cout: %lld, OL: %lld, K: %lld, stride: %lld, dilation: %lld, "
			"padLeft: %lld, groups: %lld, hasBias: %d }",
			(long long)X->shape[0], (long long)X->shape[1], (long long)X->shape[2], (long long)W->shape[0],
			(long long)Y->shape[2], (long long)sp.k[0], (long long)sp.s[0], (long long)sp.dil[0],
			(long long)sp.pb[0], (long long)groups, b >= 0);
	else
		p = fmt("{ N: %lld, Cin: %lld, H: %lld, W: %lld, Cout: %lld, OH: %lld, OW: %lld, KH: %lld, KW: %lld, "
			"strideH: %lld, strideW: %lld, dilationH: %lld, dilationW: %lld, padTop: %lld, padLeft: %lld, "
			"groups: %lld, hasBias: %d, activation: %d }",
			(long long)X->shape[0], (long long)X->shape[1], (long long)X->shape[2], (long long)X->shape[3],
			(long long)W->shape[0], (long long)Y->shape[2], (long long)Y->shape[3], (long long)sp.k[0],
			(long long)sp.k[1], (long long)sp.s[0], (long long)sp.s[1], (long long)sp.dil[0],
			(long long)sp.dil[1], (long long)sp.pb[0], (long long)sp.pb[1], (long long)groups, b >= 0, act);
	return dispatch(c, (int)ni, nd == 1 ? "conv1d" : "conv2d", p, (cnt + 255) / 256, "x", x, "w", w, "bias",
		       b >= 0 ? b : w, "y", yy, NULL)
		       ? 0
		       : -1;
}

static int emit_pool(struct ctx *c, size_t ni, const struct m2w_onnx_node *n, int x, int y, bool avg, bool global)
{
	const struct ten *X = &c->t[x], *Y = &c->t[y];
	int nd = X->rank - 2;
	if (nd < 1 || nd > 2 || out_t(c, n, 1) >= 0)
		return stub(c, (int)ni, stubf(n, "only 1-D / 2-D pooling without Indices has a library shader"));
	int64_t kernel[3] = {1, 1, 1};
	struct spatial sp;
	if (global) {
		for (int i = 0; i < nd; i++)
			kernel[i] = X->shape[2 + i];
		memset(&sp, 0, sizeof sp);
		for (int i = 0; i < nd; i++)
			sp.k[i] = kernel[i], sp.s[i] = sp.dil[i] = 1;
	} else {
		if (aints(n, "kernel_shape", kernel, 3) != nd)
			return stub(c, (int)ni, stubf(n, "kernel_shape missing"));
		spatial_of(n, X, kernel, nd, &sp);
	}
	/* 1-D pools run as 2-D with a height of 1 */
	int64_t H = nd == 2 ? X->shape[2] : 1, W = X->shape[X->rank - 1];
	int64_t OH = nd == 2 ? Y->shape[2] : 1, OW = Y->shape[Y->rank - 1];
	int h = nd == 2 ? 0 : -1, wv = nd - 1;
	long long KH = h < 0 ? 1 : sp.k[0], KW = sp.k[wv], SH = h < 0 ? 1 : sp.s[0], SW = sp.s[wv];
	long long DH = h < 0 ? 1 : sp.dil[0], DW = sp.dil[wv], PT = h < 0 ? 0 : sp.pb[0], PL = sp.pb[wv];
	long long PB = h < 0 ? 0 : sp.pe[0], PR = sp.pe[wv];
	uint64_t planes = (uint64_t)X->shape[0] * (uint64_t)X->shape[1];
	char *p;
	if (avg)
		p = fmt("{ planes: %llu, H: %lld, W: %lld, OH: %lld, OW: %lld, KH: %lld, KW: %lld, strideH: %lld, "
			"strideW: %lld, dilationH: %lld, dilationW: %lld, padTop: %lld, padLeft: %lld, padBottom: %lld, "
			"padRight: %lld, countIncludePad: %lld }",
			(unsigned long long)planes, (long long)H, (long long)W, (long long)OH, (long long)OW, KH, KW, SH,
			SW, DH, DW, PT, PL, PB, PR, (long long)aint(n, "count_include_pad", 0));
	else
		p = fmt("{ planes: %llu, H: %lld, W: %lld, OH: %lld, OW: %lld, KH: %lld, KW: %lld, strideH: %lld, "
			"strideW: %lld, dilationH: %lld, dilationW: %lld, padTop: %lld, padLeft: %lld }",
			(unsigned long long)planes, (long long)H, (long long)W, (long long)OH, (long long)OW, KH, KW, SH,
			SW, DH, DW, PT, PL);
	return dispatch(c, (int)ni, avg ? "avg_pool" : "max_pool", p, (planes * (uint64_t)(OH * OW) + 255) / 256, "x",
		       x, "y", y, NULL)
		       ? 0
		       : -1;
}

/* C = A · B (batched; A, B of rank >= 2 after 1-D promotion) into y. */
static int emit_matmul_into(struct ctx *c, size_t ni, int a, int b, int y, int bias, int gelu)
{
	const struct ten *A = &c->t[a], *B = &c->t[b], *Y = &c->t[y];
	int64_t M = A->rank >= 2 ? A->shape[A->rank - 2] : 1, K = A->shape[A->rank - 1];
	int64_t N = B->rank >= 2 ? B->shape[B->rank - 1] : 1;
	uint64_t mk = (uint64_t)(M * K), kn = (uint64_t)(K * N), mn = (uint64_t)(M * N);
	uint64_t na = count_of(A) / (mk ? mk : 1), nb = count_of(B) / (kn ? kn : 1);
	uint64_t batch = count_of(Y) / (mn ? mn : 1);
	if ((na != batch && na != 1) || (nb != batch && nb != 1))
		return 1; /* mixed broadcasting */
	long long as = na == 1 ? 0 : (long long)(M * K), bs = nb == 1 ? 0 : (long long)(K * N);
	if (gelu >= 0) {
		char *p = fmt("{ M: %lld, N: %lld, K: %lld, batch: %llu, aStride: %lld, bStride: %lld, hasBias: %d, "
			      "approximate: %d }",
			(long long)M, (long long)N, (long long)K, (unsigned long long)batch, as, bs, bias >= 0, gelu);
		struct step *s = dispatch(c, (int)ni, "matmul_gelu", p, 1, "a", a, "b", b, "bias", bias >= 0 ? bias : b,
			"c", y, NULL);
		if (!s)
			return -1;
		s->wg[0] = (uint64_t)(N + 15) / 16;
		s->wg[1] = (uint64_t)(M + 15) / 16;
		s->wg[2] = batch;
		return 0;
	}
	char *p = fmt("{ M: %lld, N: %lld, K: %lld, batch: %llu, aStride: %lld, bStride: %lld }", (long long)M,
		(long long)N, (long long)K, (unsigned long long)batch, as, bs);
	struct step *s = dispatch(c, (int)ni, "matmul", p, 1, "a", a, "b", b, "c", y, NULL);
	if (!s)
		return -1;
	s->wg[0] = (uint64_t)(N + 63) / 64;
	s->wg[1] = (uint64_t)(M + 63) / 64;
	s->wg[2] = batch;
	return 0;
}

static int emit_transpose(struct ctx *c, int node, int x, int y, const int64_t *perm)
{
	const struct ten *X = &c->t[x], *Y = &c->t[y];
	int64_t st[MAXR], in[MAXR];
	strides_of(X, st);
	for (int i = 0; i < X->rank; i++)
		in[i] = st[perm[i]];
	int r = X->rank ? X->rank : 1;
	int64_t one = 1, zero = 0;
	struct sb p = {0};
	uint64_t n = count_of(Y);
	sbf(&p, "{ n: %llu, rank: %d, shape: ", (unsigned long long)n, r);
	dims8(&p, X->rank ? Y->shape : &one, r, 1);
	sbf(&p, ", inStrides: ");
	dims8(&p, X->rank ? in : &zero, r, 0);
	sbf(&p, " }");
	if (p.oom)
		return -1;
	return dispatch(c, node, "transpose", p.p, (n + 255) / 256, "x", x, "out", y, NULL) ? 0 : -1;
}

/* A one-element constant, printed inline in engine.ts. */
static int scalar_const(struct ctx *c, int like, const char *what, double v)
{
	int t = temp(c, like, what, -1);
	if (t < 0)
		return -1;
	c->t[t].kind = K_CONST;
	c->t[t].rank = 0;
	if (!(c->t[t].val = malloc(sizeof(double))))
		return -1;
	c->t[t].val[0] = v;
	c->t[t].nval = 1;
	return t;
}

static int emit_gemm(struct ctx *c, size_t ni, const struct m2w_onnx_node *n, int a, int b, int cc, int y)
{
	if (c->t[a].rank != 2 || c->t[b].rank != 2)
		return stub(c, (int)ni, stubf(n, "A and B must be 2-D"));
	static const int64_t swap[2] = {1, 0};
	if (aint(n, "transA", 0)) {
		int t = temp(c, a, "T", (int)ni);
		if (t < 0)
			return -1;
		c->t[t].rank = 2;
		c->t[t].shape[0] = c->t[a].shape[1];
		c->t[t].shape[1] = c->t[a].shape[0];
		if (emit_transpose(c, (int)ni, a, t, swap) < 0)
			return -1;
		a = t;
	}
	if (aint(n, "transB", 0)) {
		int t = temp(c, b, "T", (int)ni);
		if (t < 0)
			return -1;
		c->t[t].rank = 2;
		c->t[t].shape[0] = c->t[b].shape[1];
		c->t[t].shape[1] = c->t[b].shape[0];
		if (emit_transpose(c, (int)ni, b, t, swap) < 0)
			return -1;
		b = t;
	}
	double alpha = afloat(n, "alpha", 1), beta = afloat(n, "beta", 1);
	bool scaleA = alpha != 1, scaleC = cc >= 0 && beta != 1;
	int ab = cc >= 0 || scaleA ? temp(c, y, "AB", (int)ni) : y;
	if (ab < 0)
		return -1;
	c->t[ab].rank = 2;
	c->t[ab].shape[0] = c->t[y].shape[0];
	c->t[ab].shape[1] = c->t[y].shape[1];
	if (emit_matmul_into(c, ni, a, b, ab, -1, -1) != 0)
		return -1;
	/* alpha and beta as inline scalars multiplied in with the mul shader */
	if (scaleA) {
		int k = scalar_const(c, y, "alpha", alpha), o = cc >= 0 ? temp(c, y, "alphaAB", (int)ni) : y;
		if (k < 0 || o < 0)
			return -1;
		c->t[o].rank = 2;
		memcpy(c->t[o].shape, c->t[ab].shape, sizeof c->t[o].shape);
		if (binary(c, (int)ni, "mul", ab, k, o) < 0)
			return -1;
		ab = o;
	}
	if (scaleC) {
		int k = scalar_const(c, y, "beta", beta), o = temp(c, cc, "betaC", (int)ni);
		if (k < 0 || o < 0)
			return -1;
		c->t[o].rank = c->t[cc].rank;
		memcpy(c->t[o].shape, c->t[cc].shape, sizeof c->t[o].shape);
		if (binary(c, (int)ni, "mul", cc, k, o) < 0)
			return -1;
		cc = o;
	}
	return cc >= 0 ? binary(c, (int)ni, "add", ab, cc, y) : 0;
}

/* Pad: pads / value from attributes (opset < 11) or constant inputs. */
static int emit_pad(struct ctx *c, size_t ni, const struct m2w_onnx_node *n, int x, int y)
{
	const struct ten *X = &c->t[x], *Y = &c->t[y];
	int64_t pads[2 * MAXR] = {0}, before[MAXR] = {0};
	double value = 0;
	int r = X->rank;
	if (c->opset < 11) {
		if (aints(n, "pads", pads, 2 * MAXR) != 2 * r)
			return stub(c, (int)ni, stubf(n, "pads missing"));
		value = afloat(n, "value", 0);
		for (int i = 0; i < r; i++)
			before[i] = pads[i];
	} else {
		int pt = in_t(c, n, 1), at = in_t(c, n, 3);
		if (pt < 0 || !c->t[pt].val)
			return stub(c, (int)ni, stubf(n, "pads are not a constant (pass --const)"));
		if (!const_scalar(c, n, 2, NULL, 0, &value))
			return stub(c, (int)ni, stubf(n, "constant_value is not a constant (pass --const)"));
		int64_t axes[MAXR];
		int na = r;
		if (at >= 0) {
			if (!c->t[at].val)
				return stub(c, (int)ni, stubf(n, "axes are not a constant (pass --const)"));
			na = (int)c->t[at].nval;
			for (int i = 0; i < na && i < MAXR; i++)
				axes[i] = norm_axis(ival(&c->t[at], (uint64_t)i), r);
		} else {
			for (int i = 0; i < r; i++)
				axes[i] = i;
		}
		if (c->t[pt].nval != (uint64_t)(2 * na) || na > MAXR)
			return stub(c, (int)ni, stubf(n, "pads do not match the axes"));
		for (int i = 0; i < na; i++)
			before[axes[i]] = ival(&c->t[pt], (uint64_t)i);
	}
	int mode = astr(n, "mode", "reflect") ? 1 : astr(n, "mode", "edge") ? 2 : astr(n, "mode", "wrap") ? 3 : 0;
	struct sb p = {0};
	uint64_t cnt = count_of(Y);
	sbf(&p, "{ n: %llu, rank: %d, mode: %d, value: %.9g, shape: ", (unsigned long long)cnt, r, mode, value);
	dims8(&p, Y->shape, r, 1);
	sbf(&p, ", inShape: ");
	dims8(&p, X->shape, r, 1);
	sbf(&p, ", before: ");
	dims8(&p, before, r, 0);
	sbf(&p, " }");
	if (p.oom || r < 1 || r > 8) {
		free(p.p);
		return r < 1 || r > 8 ? stub(c, (int)ni, stubf(n, "rank outside 1..8")) : -1;
	}
	return dispatch(c, (int)ni, "pad", p.p, (cnt + 255) / 256, "x", x, "out", y, NULL) ? 0 : -1;
}

static int emit_resize(struct ctx *c, size_t ni, const struct m2w_onnx_node *n, int x, int y)
{
	const struct ten *X = &c->t[x], *Y = &c->t[y];
	if (X->rank != 4 || X->shape[0] != Y->shape[0] || X->shape[1] != Y->shape[1])
		return stub(c, (int)ni, stubf(n, "only NCHW resizing of H and W has a library shader"));
	int mode = astr(n, "mode", "linear") ? 1 : astr(n, "mode", "cubic") ? -1 : 0;
	int coord = c->opset < 11 ? 2 : 0;
	const struct m2w_onnx_attr *ct = attr(n, "coordinate_transformation_mode");
	if (ct) {
		coord = m2w_pbstr_eq(ct->s, "half_pixel")	  ? 0
			: m2w_pbstr_eq(ct->s, "align_corners")	  ? 1
			: m2w_pbstr_eq(ct->s, "asymmetric")	  ? 2
			: m2w_pbstr_eq(ct->s, "pytorch_half_pixel") ? 3
							      : -1;
	}
	int nearest = astr(n, "nearest_mode", "round_prefer_ceil") ? 1
		      : astr(n, "nearest_mode", "floor")	   ? 2
		      : astr(n, "nearest_mode", "ceil")	   ? 3
							   : 0;
	if (mode < 0 || coord < 0 || aint(n, "antialias", 0) || attr(n, "axes") || attr(n, "keep_aspect_ratio_policy"))
		return stub(c, (int)ni, stubf(n, "mode / coordinate transform / antialias has no library shader"));
	double sh = (double)Y->shape[2] / (double)X->shape[2], sw = (double)Y->shape[3] / (double)X->shape[3];
	int st = in_t(c, n, c->opset < 11 ? 1 : 2);
	if (st >= 0 && count_of(&c->t[st]) > 0 && !c->t[st].val)
		return stub(c, (int)ni, stubf(n, "scales are not a constant (pass --const)"));
	if (st >= 0 && c->t[st].val && c->t[st].nval == 4) {
		sh = c->t[st].val[2];
		sw = c->t[st].val[3];
	}
	uint64_t planes = (uint64_t)(X->shape[0] * X->shape[1]);
	char *p = fmt("{ planes: %llu, inH: %lld, inW: %lld, outH: %lld, outW: %lld, mode: %d, coord: %d, nearest: %d, "
		      "scaleH: %.9g, scaleW: %.9g }",
		(unsigned long long)planes, (long long)X->shape[2], (long long)X->shape[3], (long long)Y->shape[2],
		(long long)Y->shape[3], mode, coord, nearest, sh, sw);
	return dispatch(c, (int)ni, "resize", p, (count_of(Y) + 255) / 256, "x", x, "y", y, NULL) ? 0 : -1;
}

/* unary_op.wgsl's op codes (the table in its header) for ONNX's unary float ops. */
enum {
	U_IDENTITY = 0, U_CLIP = 31,
};
static const struct {
	const char *op;
	int code;
} UNARY_OPS[] = {
	{"Abs", 1}, {"Neg", 2}, {"Exp", 3}, {"Log", 4}, {"Sqrt", 5}, {"Reciprocal", 6}, {"Floor", 7},
	{"Ceil", 8}, {"Round", 9}, {"Sin", 10}, {"Cos", 11}, {"Tan", 12}, {"Asin", 13}, {"Acos", 14},
	{"Atan", 15}, {"Sinh", 16}, {"Cosh", 17}, {"Asinh", 18}, {"Acosh", 19}, {"Atanh", 20}, {"Erf", 21},
	{"Softplus", 22}, {"Softsign", 23}, {"Sign", 24}, {"Elu", 25}, {"Selu", 26}, {"Celu", 27},
	{"HardSigmoid", 28}, {"HardSwish", 29}, {"ThresholdedRelu", 30}, {"Clip", U_CLIP}, {"Mish", 32},
	{"Shrink", 33}, {"Identity", U_IDENTITY},
};

static int unary_op(struct ctx *c, int node, int code, double alpha, double beta, double gamma, int x, int y)
{
	uint64_t n = count_of(&c->t[y]);
	return dispatch(c, node, "unary_op",
		       fmt("{ n: %llu, op: %d, alpha: %.9g, beta: %.9g, gamma: %.9g }", (unsigned long long)n, code, alpha,
			       beta, gamma),
		       (n + 255) / 256, "x", x, "y", y, NULL)
		       ? 0
		       : -1;
}

static int emit_unary(struct ctx *c, size_t ni, const struct m2w_onnx_node *n, int code, int x, int y)
{
	double a = 0, b = 0, g = 0;
	if (op_is(n, "Elu") || op_is(n, "Celu") || op_is(n, "ThresholdedRelu"))
		a = afloat(n, "alpha", 1.0);
	else if (op_is(n, "Selu")) {
		a = afloat(n, "alpha", 1.67326319217681884765625);
		g = afloat(n, "gamma", 1.05070102214813232421875);
	} else if (op_is(n, "HardSigmoid")) {
		a = afloat(n, "alpha", 0.2);
		b = afloat(n, "beta", 0.5);
	} else if (op_is(n, "Shrink")) {
		a = afloat(n, "lambd", 0.5);
		b = afloat(n, "bias", 0.0);
	} else if (code == U_CLIP) {
		if (!const_scalar(c, n, 1, "min", -FLT_MAX, &a) || !const_scalar(c, n, 2, "max", FLT_MAX, &b))
			return stub(c, (int)ni, stubf(n, "min / max are not constants (pass --const)"));
		a = a < -FLT_MAX ? -FLT_MAX : a;
		b = b > FLT_MAX ? FLT_MAX : b;
	}
	return unary_op(c, (int)ni, code, a, b, g, x, y);
}

/* binary_op.wgsl's op codes. */
enum { B_ADD = 0, B_SUB, B_DIV, B_POW, B_MAX, B_MIN, B_MUL, B_FMOD, B_PRELU };

/* Sub, Div, Pow, Mod (fmod = 1) and the variadic Sum, Mean, Max, Min as a
 * chain of binary_op dispatches through temporaries; Mean divides by the
 * input count at the end, a lone input is copied. */
static int emit_binary_chain(struct ctx *c, size_t ni, const struct m2w_onnx_node *n, int op, bool mean, int y)
{
	size_t k = n->ninputs;
	for (size_t i = 0; i < k; i++) {
		int t = in_t(c, n, i);
		if (t < 0)
			return stub(c, (int)ni, stubf(n, "an empty input"));
		if (c->t[t].dt != M2W_ONNX_FLOAT && c->t[t].dt != M2W_ONNX_UNDEFINED)
			return stub(c, (int)ni, stubf(n, "a non-float operand has no library shader"));
		if (c->t[t].rank > 8)
			return stub(c, (int)ni, stubf(n, "rank above 8"));
	}
	if (c->t[y].rank > 8)
		return stub(c, (int)ni, stubf(n, "rank above 8"));
	int acc = in_t(c, n, 0);
	if (k == 1 && !mean)
		return unary_op(c, (int)ni, U_IDENTITY, 0, 0, 0, acc, y);
	for (size_t i = 1; i < k; i++) {
		int b = in_t(c, n, i), o = y;
		if (i + 1 < k || mean) {
			char what[32];
			snprintf(what, sizeof what, "%s%zu", mean ? "sum" : "acc", i);
			if ((o = temp(c, y, what, (int)ni)) < 0)
				return -1;
			if (!broadcast(&c->t[acc], &c->t[b], &c->t[o]))
				return stub(c, (int)ni, stubf(n, "shapes do not broadcast"));
		}
		if (binary_x(c, (int)ni, "binary_op", op, acc, b, o) < 0)
			return -1;
		acc = o;
	}
	if (!mean)
		return 0;
	int cnt = scalar_const(c, y, "count", (double)k);
	return cnt < 0 ? -1 : binary_x(c, (int)ni, "binary_op", B_DIV, acc, cnt, y);
}

/* rows = product of dims before axis, cols = after (inclusive). */
static void rows_cols(const struct ten *t, int ax, uint64_t *rows, uint64_t *cols)
{
	*rows = *cols = 1;
	for (int i = 0; i < t->rank; i++)
		*(i < ax ? rows : cols) *= (uint64_t)t->shape[i];
}

static int emit_node(struct ctx *c, size_t ni)
{
	const struct m2w_onnx_node *n = &c->g->nodes[ni];
	int x = in_t(c, n, 0), y = out_t(c, n, 0), w = in_t(c, n, 1);
	const struct ten *X = x >= 0 ? &c->t[x] : NULL;
	uint64_t cnt = y >= 0 ? count_of(&c->t[y]) : 0;

	for (size_t i = 0; i < n->noutputs; i++) {
		int k = out_t(c, n, i);
		if (k >= 0 && !c->t[k].known)
			return m2w_err(c->d, n->off,
				"node %zu (%.*s) output '%s': shape unknown; static shapes are required "
				"(give value_info, e.g. onnx.shape_inference, or --const for shape inputs)",
				ni, (int)(n->op_type.n > 100 ? 100 : n->op_type.n), n->op_type.p, c->t[k].name);
	}
	if (n->domain.n && !m2w_pbstr_eq(n->domain, "ai.onnx"))
		return stub(c, (int)ni, stubf(n, "custom domain"));
	/* every tensor the shaders touch is f32, or u32 indices */
	for (size_t i = 0; i < n->ninputs + n->noutputs; i++) {
		int k = i < n->ninputs ? in_t(c, n, i) : out_t(c, n, i - n->ninputs);
		if (k < 0)
			continue;
		int32_t dt = c->t[k].dt;
		if (dt != M2W_ONNX_FLOAT && !is_int_dt(dt) && dt != M2W_ONNX_UNDEFINED)
			return stub(c, (int)ni, stubf(n, "the library shaders run f32 (this node has another float type)"));
	}
	if (x < 0 || y < 0)
		return stub(c, (int)ni, stubf(n, "no library shader"));
	bool fin = c->t[x].dt == M2W_ONNX_FLOAT || c->t[x].dt == M2W_ONNX_UNDEFINED;

	static const struct { const char *op, *shader; } UNARY[] = {
		{"Relu", "relu"}, {"Sigmoid", "sigmoid"}, {"Tanh", "tanh"},
	};
	for (size_t i = 0; i < sizeof UNARY / sizeof UNARY[0]; i++)
		if (op_is(n, UNARY[i].op) && fin)
			return dispatch(c, (int)ni, UNARY[i].shader, fmt("{ n: %llu }", (unsigned long long)cnt),
				       (cnt + 255) / 256, "x", x, "y", y, NULL)
				       ? 0
				       : -1;
	if (op_is(n, "LeakyRelu") && fin)
		return dispatch(c, (int)ni, "leaky_relu",
			       fmt("{ n: %llu, alpha: %.9g }", (unsigned long long)cnt, afloat(n, "alpha", 0.01)),
			       (cnt + 255) / 256, "x", x, "y", y, NULL)
			       ? 0
			       : -1;
	if (op_is(n, "Gelu") && fin)
		return dispatch(c, (int)ni, "gelu",
			       fmt("{ n: %llu, approximate: %d }", (unsigned long long)cnt, astr(n, "approximate", "tanh")),
			       (cnt + 255) / 256, "x", x, "y", y, NULL)
			       ? 0
			       : -1;
	if (op_is(n, "PRelu") && fin && w >= 0) {
		/* slope broadcast to x: its non-1 dims must be one contiguous run */
		const struct ten *S = &c->t[w];
		int off = X->rank - S->rank, lo = -1, hi = -1;
		for (int i = 0; i < S->rank; i++)
			if (S->shape[i] != 1) {
				if (lo < 0)
					lo = i + off;
				hi = i + off + 1;
			}
		uint64_t C = 1, inner = 1;
		for (int i = 0; i < X->rank; i++) {
			if (lo >= 0 && i >= lo && i < hi)
				C *= (uint64_t)X->shape[i];
			else if (lo >= 0 && i >= hi)
				inner *= (uint64_t)X->shape[i];
		}
		if (count_of(S) != C || off < 0) {
			/* any other broadcast slope: binary_op's prelu */
			if (off < 0 || X->rank > 8 || (S->dt != M2W_ONNX_FLOAT && S->dt != M2W_ONNX_UNDEFINED))
				return stub(c, (int)ni, stubf(n, "slope does not broadcast to the input"));
			return binary_x(c, (int)ni, "binary_op", B_PRELU, x, w, y);
		}
		return dispatch(c, (int)ni, "prelu",
			       fmt("{ n: %llu, C: %llu, inner: %llu }", (unsigned long long)cnt, (unsigned long long)C,
				       (unsigned long long)inner),
			       (cnt + 255) / 256, "x", x, "slope", w, "y", y, NULL)
			       ? 0
			       : -1;
	}
	for (size_t i = 0; i < sizeof UNARY_OPS / sizeof UNARY_OPS[0]; i++)
		if (op_is(n, UNARY_OPS[i].op) && fin)
			return emit_unary(c, ni, n, UNARY_OPS[i].code, x, y);
	if (fin && (op_is(n, "Sub") || op_is(n, "Div") || op_is(n, "Pow") || op_is(n, "Max") || op_is(n, "Min") ||
		    op_is(n, "Sum") || op_is(n, "Mean") || (op_is(n, "Mod") && aint(n, "fmod", 0) == 1))) {
		int op = op_is(n, "Sub") ? B_SUB
			 : op_is(n, "Div") ? B_DIV
			 : op_is(n, "Pow") ? B_POW
			 : op_is(n, "Max") ? B_MAX
			 : op_is(n, "Min") ? B_MIN
			 : op_is(n, "Mod") ? B_FMOD
					   : B_ADD;
		return emit_binary_chain(c, ni, n, op, op_is(n, "Mean"), y);
	}
	if ((op_is(n, "Add") || op_is(n, "Mul")) && fin && w >= 0 && n->ninputs == 2) {
		if (c->t[y].rank > 8)
			return stub(c, (int)ni, stubf(n, "rank above 8"));
		return binary(c, (int)ni, op_is(n, "Add") ? "add" : "mul", x, w, y);
	}
	if (op_is(n, "MatMul") && fin && w >= 0) {
		/* MatMul + Add(bias [N]) + Gelu: the fused matmulGelu */
		int j = sole_next(c, ni, y), yy = y, bias = -1, gelu = -1;
		if (j >= 0 && op_is(&c->g->nodes[j], "Add")) {
			const struct m2w_onnx_node *an = &c->g->nodes[j];
			int bt = in_t(c, an, 0) == y ? in_t(c, an, 1) : in_t(c, an, 0);
			int ao = out_t(c, an, 0);
			int k = sole_next(c, (size_t)j, ao);
			if (bt >= 0 && c->t[bt].rank == 1 && c->t[y].rank >= 1 &&
			    c->t[bt].shape[0] == c->t[y].shape[c->t[y].rank - 1] && k >= 0 &&
			    op_is(&c->g->nodes[k], "Gelu")) {
				bias = bt;
				gelu = astr(&c->g->nodes[k], "approximate", "tanh");
				yy = out_t(c, &c->g->nodes[k], 0);
				c->fused[j] = c->fused[k] = true;
				sbf(&c->report_fused, "%s\n    {\"into\": \"matmul_gelu\", \"node\": %zu, \"fused\": "
					"\"MatMul + Add + Gelu\"}", c->first_fused ? "" : ",", ni);
				c->first_fused = false;
			}
		}
		int rc = emit_matmul_into(c, ni, x, w, yy, bias, gelu);
		return rc > 0 ? stub(c, (int)ni, stubf(n, "mixed batch broadcasting")) : rc;
	}
	if (op_is(n, "Gemm") && fin && w >= 0)
		return emit_gemm(c, ni, n, x, w, in_t(c, n, 2), y);
	if (op_is(n, "Conv") && fin && w >= 0)
		return emit_conv(c, ni, n, x, w, in_t(c, n, 2), y);
	if (op_is(n, "ConvTranspose") && fin && w >= 0) {
		const struct ten *W = &c->t[w], *Y = &c->t[y];
		if (X->rank != 3 || W->rank != 3)
			return stub(c, (int)ni, stubf(n, "only 1-D transposed convolution has a library shader"));
		int64_t k = W->shape[2], s = 1, dil = 1, pads[2] = {0, 0}, v[2];
		if (aints(n, "strides", v, 1) == 1)
			s = v[0];
		if (aints(n, "dilations", v, 1) == 1)
			dil = v[0];
		if (aints(n, "pads", pads, 2) != 2)
			pads[0] = pads[1] = 0;
		int64_t full = (X->shape[2] - 1) * s + dil * (k - 1) + 1 + aint(n, "output_padding", 0);
		if (attr(n, "output_shape") || attr(n, "auto_pad")) {
			int64_t total = full - Y->shape[2];
			if (total < 0)
				total = 0;
			pads[0] = astr(n, "auto_pad", "SAME_UPPER") ? total / 2 : total - total / 2;
		}
		int b = in_t(c, n, 2);
		int64_t groups = aint(n, "group", 1);
		char *p = fmt("{ N: %lld, Cin: %lld, L: %lld, Cout: %lld, OL: %lld, K: %lld, stride: %lld, dilation: %lld, "
			      "padLeft: %lld, groups: %lld, hasBias: %d }",
			(long long)X->shape[0], (long long)X->shape[1], (long long)X->shape[2], (long long)Y->shape[1],
			(long long)Y->shape[2], (long long)k, (long long)s, (long long)dil, (long long)pads[0],
			(long long)groups, b >= 0);
		return dispatch(c, (int)ni, "conv_transpose1d", p, (cnt + 255) / 256, "x", x, "w", w, "bias",
			       b >= 0 ? b : w, "y", y, NULL)
			       ? 0
			       : -1;
	}
	if ((op_is(n, "MaxPool") || op_is(n, "AveragePool")) && fin)
		return emit_pool(c, ni, n, x, y, op_is(n, "AveragePool"), false);
	if ((op_is(n, "GlobalMaxPool") || op_is(n, "GlobalAveragePool")) && fin)
		return emit_pool(c, ni, n, x, y, op_is(n, "GlobalAveragePool"), true);
	if (op_is(n, "Softmax") && fin) {
		int ax = norm_axis(aint(n, "axis", c->opset < 13 ? 1 : -1), X->rank);
		if (c->opset >= 13 && ax != X->rank - 1) {
			/* move the axis last, softmax, move it back */
			int64_t perm[MAXR], inv[MAXR];
			int r = X->rank, k = 0;
			for (int i = 0; i < r; i++)
				if (i != ax)
					perm[k++] = i;
			perm[k] = ax;
			for (int i = 0; i < r; i++)
				inv[perm[i]] = i;
			int a = temp(c, x, "T", (int)ni), b = a >= 0 ? temp(c, x, "softmax", (int)ni) : -1;
			if (b < 0)
				return -1;
			c->t[a].rank = c->t[b].rank = r;
			for (int i = 0; i < r; i++)
				c->t[a].shape[i] = c->t[b].shape[i] = X->shape[perm[i]];
			uint64_t cols = (uint64_t)X->shape[ax], rows = count_of(X) / (cols ? cols : 1);
			if (emit_transpose(c, (int)ni, x, a, perm) < 0)
				return -1;
			struct step *s = dispatch(c, (int)ni, "softmax",
				fmt("{ rows: %llu, cols: %llu }", (unsigned long long)rows, (unsigned long long)cols), 1,
				"x", a, "y", b, NULL);
			if (!s)
				return -1;
			flat(rows, s->wg);
			return emit_transpose(c, (int)ni, b, y, inv);
		}
		uint64_t rows, cols;
		rows_cols(X, ax, &rows, &cols);
		struct step *s = dispatch(c, (int)ni, "softmax",
			fmt("{ rows: %llu, cols: %llu }", (unsigned long long)rows, (unsigned long long)cols), 1, "x",
			x, "y", y, NULL);
		if (s)
			flat(rows, s->wg);
		return s ? 0 : -1;
	}
	if (op_is(n, "LayerNormalization") && fin && w >= 0) {
		int ax = norm_axis(aint(n, "axis", -1), X->rank);
		if (out_t(c, n, 1) >= 0 || out_t(c, n, 2) >= 0)
			return stub(c, (int)ni, stubf(n, "Mean / InvStdDev outputs have no library shader"));
		uint64_t rows, cols;
		rows_cols(X, ax, &rows, &cols);
		if (count_of(&c->t[w]) != cols)
			return stub(c, (int)ni, stubf(n, "scale not of the normalised shape"));
		int b = in_t(c, n, 2);
		struct step *s = dispatch(c, (int)ni, "layer_norm",
			fmt("{ rows: %llu, cols: %llu, eps: %.9g, hasBias: %d }", (unsigned long long)rows,
				(unsigned long long)cols, afloat(n, "epsilon", 1e-5), b >= 0),
			1, "x", x, "gamma", w, "beta", b >= 0 ? b : w, "y", y, NULL);
		if (s)
			flat(rows, s->wg);
		return s ? 0 : -1;
	}
	if (op_is(n, "InstanceNormalization") && fin && w >= 0 && X->rank >= 3) {
		uint64_t planes = (uint64_t)(X->shape[0] * X->shape[1]), hw = count_of(X) / (planes ? planes : 1);
		if (hw > 4096)
			return stub(c, (int)ni, stubf(n, "planes above 4096 elements need the two-pass entries"));
		struct step *s = dispatch(c, (int)ni, "instance_norm",
			fmt("{ planes: %llu, C: %lld, HW: %llu, eps: %.9g, chunks: 1 }", (unsigned long long)planes,
				(long long)X->shape[1], (unsigned long long)hw, afloat(n, "epsilon", 1e-5)),
			1, "x", x, "scale", w, "bias", in_t(c, n, 2), "y", y, NULL);
		if (s) {
			flat(planes, s->wg);
			s->entry = "main";
		}
		return s ? 0 : -1;
	}
	if (op_is(n, "Transpose") && X->rank <= 8) {
		int64_t perm[MAXR];
		if (aints(n, "perm", perm, MAXR) != X->rank)
			for (int i = 0; i < X->rank; i++)
				perm[i] = X->rank - 1 - i;
		return emit_transpose(c, (int)ni, x, y, perm);
	}
	if (op_is(n, "Concat")) {
		const struct ten *Y = &c->t[y];
		int ax = norm_axis(aint(n, "axis", 0), Y->rank);
		uint64_t outer = 1, inner = 1, at = 0;
		for (int i = 0; i < Y->rank; i++)
			if (i < ax)
				outer *= (uint64_t)Y->shape[i];
			else if (i > ax)
				inner *= (uint64_t)Y->shape[i];
		for (size_t i = 0; i < n->ninputs; i++) {
			int k = in_t(c, n, i);
			if (k < 0)
				continue;
			uint64_t len = (uint64_t)c->t[k].shape[ax];
			if (len == 0)
				continue;
			char *p = fmt("{ outer: %llu, inBlock: %llu, outBlock: %llu, offset: %llu }",
				(unsigned long long)outer, (unsigned long long)(len * inner),
				(unsigned long long)((uint64_t)Y->shape[ax] * inner), (unsigned long long)(at * inner));
			if (!dispatch(c, (int)ni, "concat", p, (outer * len * inner + 255) / 256, "x", k, "out", y, NULL))
				return -1;
			at += len;
		}
		return 0;
	}
	if (op_is(n, "Pad") && fin)
		return emit_pad(c, ni, n, x, y);
	if (op_is(n, "Resize") && fin)
		return emit_resize(c, ni, n, x, y);
	if (op_is(n, "ArgMax") && fin) {
		int ax = norm_axis(aint(n, "axis", 0), X->rank);
		if (ax != X->rank - 1 || aint(n, "select_last_index", 0))
			return stub(c, (int)ni, stubf(n, "only the last axis, first index, has a library shader"));
		uint64_t rows, cols;
		rows_cols(X, ax, &rows, &cols);
		struct step *s = dispatch(c, (int)ni, "argmax",
			fmt("{ rows: %llu, cols: %llu }", (unsigned long long)rows, (unsigned long long)cols), 1, "x",
			x, "out", y, NULL);
		if (s)
			flat(rows, s->wg);
		return s ? 0 : -1;
	}
	if (op_is(n, "TopK") && fin && w >= 0) {
		int ax = norm_axis(aint(n, "axis", -1), X->rank), yi = out_t(c, n, 1);
		if (ax != X->rank - 1 || !aint(n, "largest", 1) || yi < 0)
			return stub(c, (int)ni, stubf(n, "only the largest k along the last axis has a library shader"));
		if (!c->t[w].val)
			return stub(c, (int)ni, stubf(n, "k is not a constant (pass --const)"));
		uint64_t rows, cols;
		rows_cols(X, ax, &rows, &cols);
		struct step *s = dispatch(c, (int)ni, "top_k",
			fmt("{ rows: %llu, cols: %llu, k: %lld }", (unsigned long long)rows, (unsigned long long)cols,
				(long long)c->t[w].val[0]),
			1, "x", x, "values", y, "indices", yi, NULL);
		if (s)
			flat(rows, s->wg);
		return s ? 0 : -1;
	}
	if (op_is(n, "Gather") && fin && w >= 0 && norm_axis(aint(n, "axis", 0), X->rank) == 0 && X->rank >= 1) {
		uint64_t T = count_of(&c->t[w]), V = (uint64_t)X->shape[0], D = count_of(X) / (V ? V : 1);
		struct ten *I = &c->t[w];
		if (I->val) /* negative indices count from the end */
			for (uint64_t i = 0; i < I->nval; i++)
				if (I->val[i] < 0)
					I->val[i] += (double)V;
		return dispatch(c, (int)ni, "embedding_lookup",
			       fmt("{ T: %llu, V: %llu, D: %llu }", (unsigned long long)T, (unsigned long long)V,
				       (unsigned long long)D),
			       (T * D + 255) / 256, "ids", w, "table", x, "out", y, NULL)
			       ? 0
			       : -1;
	}
	return stub(c, (int)ni, stubf(n, "no library shader"));
}

static bool is_view(const struct m2w_onnx_node *n)
{
	return op_is(n, "Reshape") || op_is(n, "Flatten") || op_is(n, "Squeeze") || op_is(n, "Unsqueeze") ||
	       op_is(n, "Identity") || op_is(n, "Dropout");
}

/* Dropout is the identity unless training_mode is set (or unknown) and the ratio is not 0. */
static bool dropout_identity(struct ctx *c, const struct m2w_onnx_node *n)
{
	int tm = in_t(c, n, 2), r = in_t(c, n, 1);
	if (out_t(c, n, 1) >= 0)
		return false; /* the mask output */
	if (tm < 0 || (c->t[tm].val && c->t[tm].val[0] == 0))
		return true;
	return r >= 0 && c->t[r].val && c->t[r].val[0] == 0;
}

/* ---- printing ---- */

/* A JS string literal (JSON escaping is valid JS). */
static void jstr(struct sb *s, const char *z)
{
	sbf(s, "'");
	for (; *z; z++) {
		unsigned char ch = (unsigned char)*z;
		if (ch == '\'' || ch == '\\')
			sbf(s, "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			sbf(s, "\\x%02x", ch);
		else
			sbf(s, "%c", ch);
	}
	sbf(s, "'");
}

static void json_str(struct sb *s, const char *z)
{
	sbf(s, "\"");
	for (; *z; z++) {
		unsigned char ch = (unsigned char)*z;
		if (ch == '"' || ch == '\\')
			sbf(s, "\\%c", ch);
		else if (ch < 0x20)
			sbf(s, "\\u%04x", ch);
		else
			sbf(s, "%c", ch);
	}
	sbf(s, "\"");
}

/* Comments must not hold a line break or close a block comment. */
static void cstr(struct sb *s, const char *z, size_t len)
{
	for (size_t i = 0; i < len && z[i]; i++)
		sbf(s, "%c", (unsigned char)z[i] < 0x20 ? ' ' : z[i]);
}

static void camel(struct sb *s, const char *stem)
{
	for (const char *q = stem; *q; q++) {
		if (*q == '_' && q[1]) {
			q++;
			sbf(s, "%c", *q >= 'a' && *q <= 'z' ? *q - 32 : *q);
		} else {
			sbf(s, "%c", *q);
		}
	}
}

static void shape_js(struct sb *s, const struct ten *t)
{
	sbf(s, "[");
	for (int i = 0; i < t->rank; i++)
		sbf(s, "%s%lld", i ? ", " : "", (long long)t->shape[i]);
	sbf(s, "]");
}

static bool is_inline(const struct ten *t)
{
	return t->kind == K_CONST || (t->kind == K_WEIGHT && t->val && is_int_dt(t->dt));
}

static void buf_expr(struct ctx *c, struct sb *s, int ti)
{
	const struct ten *t = &c->t[ti];
	if (t->kind == K_INPUT && !t->val) {
		sbf(s, "this.inputs[");
		jstr(s, t->name);
		sbf(s, "]!");
	} else if (is_inline(t)) {
		sbf(s, "this.constants[");
		jstr(s, t->name);
		sbf(s, "]!");
	} else if (t->kind == K_WEIGHT) {
		sbf(s, "weight(");
		jstr(s, t->name);
		sbf(s, ")");
	} else if (t->output) {
		sbf(s, "this.outputs[");
		jstr(s, t->name);
		sbf(s, "]!");
	} else {
		sbf(s, "work[%d]", t->slot);
	}
}

static const char *dtype_js(int32_t dt)
{
	return is_int_dt(dt) ? "u32" : "f32";
}

static void print_engine(struct ctx *c, struct sb *e, const bool *used)
{
	const struct m2w_onnx_graph *g = c->g;
	sbf(e, "// engine.ts — drafted by m2w-scaffold from ");
	cstr(e, c->o->model_name, strlen(c->o->model_name));
	sbf(e, " (ONNX opset %lld, %zu nodes): a first draft to read and refine.\n", (long long)c->opset, g->nnodes);
	sbf(e, "//\n"
	       "// Every GPU object is made once, in the constructor, which reads as the\n"
	       "// dispatch list: one block per graph node, in graph order, naming the node,\n"
	       "// with the exact dims in each shader's Params.  record() replays it on a\n"
	       "// Batcher; with a DebugCapture each materialised tensor is captured under its\n"
	       "// ONNX name right after the node that writes it.  Work buffers are shared by\n"
	       "// tensors whose lifetimes do not overlap (%d buffers).  Views (Reshape,\n"
	       "// Flatten, Squeeze, Unsqueeze, Identity) share their input's buffer.\n",
		c->nslots);
	if (c->nstubs)
		sbf(e, "// %d node(s) have no library shader: their stubs throw (see report.json).\n", c->nstubs);
	sbf(e, "import { Batcher, createParamsBuffer, createPipeline, readBuffer } from "
	       "'./runtime/index.js';\n"
	       "import type { DebugCapture, Kernel, ParamValue, Weights } from './runtime/index.js';\n"
	       "import * as shaders from './shaders.js';\n"
	       "import { CHECKPOINTS, INPUTS, OUTPUTS } from './types.js';\n"
	       "import type { EngineInputs, EngineOutputs } from './types.js';\n\n"
	       "export { CHECKPOINTS, INPUTS, OUTPUTS };\n\n"
	       "type Step =\n"
	       "  | { kind: 'dispatch'; label: string; kernel: Kernel; groups: GPUBindGroup[]; wg: [number, number, number] }\n"
	       "  | { kind: 'capture'; name: string; buffer: GPUBuffer; shape: number[]; dtype: 'f32' | 'u32' }\n"
	       "  | { kind: 'stub'; label: string };\n\n"
	       "export interface EngineOptions {\n"
	       "  /** Run the f16 shader variants where the module has them (needs a shader-f16 device). */\n"
	       "  f16?: boolean;\n"
	       "}\n\n"
	       "export class Engine {\n"
	       "  readonly device: GPUDevice;\n"
	       "  /** Graph inputs the GPU reads; write them with write(). */\n"
	       "  readonly inputs: Record<string, GPUBuffer> = {};\n"
	       "  /** Graph outputs, valid after record() and a flush. */\n"
	       "  readonly outputs: Record<string, GPUBuffer> = {};\n"
	       "  /** Values fixed at scaffold time (inline constants, integer weights). */\n"
	       "  readonly constants: Record<string, GPUBuffer> = {};\n"
	       "  private readonly steps: Step[] = [];\n"
	       "  private readonly owned: GPUBuffer[] = [];\n\n"
	       "  constructor(device: GPUDevice, weights: Weights, opts: EngineOptions = {}) {\n"
	       "    this.device = device;\n"
	       "    const f16 = Boolean(opts.f16);\n"
	       "    const weight = (name: string): GPUBuffer => {\n"
	       "      const t = weights.get(name);\n"
	       "      if (!t) throw new Error(`engine: weights.json has no tensor ${name}`);\n"
	       "      return t.buffer;\n"
	       "    };\n"
	       "    void weight;\n"
	       "    // one pipeline per library shader\n"
	       "    const k = {\n");
	for (size_t i = 0; i < NLIB; i++)
		if (used[i]) {
			sbf(e, "      ");
			camel(e, LIB_SHADERS[i]);
			sbf(e, ": createPipeline(device, shaders, '");
			camel(e, LIB_SHADERS[i]);
			sbf(e, "', { f16%s }),\n", strcmp(LIB_SHADERS[i], "instance_norm") == 0 ? ", entryPoint: 'main'" : "");
		}
	sbf(e, "    };\n    void k;\n");
	/* buffers */
	sbf(e, "    // graph inputs\n");
	for (size_t i = 0; i < c->nt; i++) {
		const struct ten *t = &c->t[i];
		if (t->kind != K_INPUT || t->val || t->alias >= 0 || !t->gpu)
			continue;
		sbf(e, "    this.inputs[");
		jstr(e, t->name);
		sbf(e, "] = this.buffer(%llu, ", (unsigned long long)count_of(t));
		jstr(e, t->name);
		sbf(e, "); // ");
		shape_js(e, t);
		sbf(e, " %s\n", dtype_js(t->dt));
	}
	bool anyc = false;
	for (size_t i = 0; i < c->nt; i++) {
		const struct ten *t = &c->t[i];
		if (!is_inline(t) || !t->gpu || t->alias >= 0)
			continue;
		if (!anyc)
			sbf(e, "    // constants fixed at scaffold time\n");
		anyc = true;
		sbf(e, "    this.constants[");
		jstr(e, t->name);
		sbf(e, "] = this.constant(new %s([", is_int_dt(t->dt) ? "Uint32Array" : "Float32Array");
		for (uint64_t j = 0; j < t->nval; j++) {
			double v = t->val[j];
			if (is_int_dt(t->dt))
				sbf(e, "%s%lld", j ? ", " : "", (long long)(v < 0 ? (int64_t)(uint32_t)(int32_t)v : (int64_t)v));
			else if (isnan(v))
				sbf(e, "%sNaN", j ? ", " : "");
			else if (isinf(v))
				sbf(e, "%s%sInfinity", j ? ", " : "", v < 0 ? "-" : "");
			else
				sbf(e, "%s%.9g", j ? ", " : "", v);
		}
		sbf(e, "]), ");
		jstr(e, t->name);
		sbf(e, ");\n");
	}
	sbf(e, "    // graph outputs\n");
	for (size_t i = 0; i < c->nt; i++) {
		const struct ten *t = &c->t[i];
		if (!t->output)
			continue;
		sbf(e, "    this.outputs[");
		jstr(e, t->name);
		sbf(e, "] = ");
		int r = root(c, (int)i);
		if (r != (int)i || t->kind != K_VALUE) {
			buf_expr(c, e, r);
			sbf(e, "; // a view of ");
			cstr(e, c->t[r].name, 200);
			sbf(e, "\n");
		} else {
			sbf(e, "this.buffer(%llu, ", (unsigned long long)count_of(t));
			jstr(e, t->name);
			sbf(e, "); // ");
			shape_js(e, t);
			sbf(e, " %s\n", dtype_js(t->dt));
		}
	}
	sbf(e, "    // work buffers, elements each (shared by tensors with disjoint lifetimes)\n"
	       "    const work = [");
	for (int i = 0; i < c->nslots; i++)
		sbf(e, "%s%llu", i ? ", " : "", (unsigned long long)c->slot_elems[i]);
	sbf(e, "].map((n, i) => this.buffer(n, `work ${i}`));\n    void work;\n");
	/* the dispatch list */
	for (size_t si = 0; si < c->ns; si++) {
		const struct step *s = &c->s[si];
		switch (s->kind) {
		case S_NODE:
			sbf(e, "\n    // %s\n", s->text);
			break;
		case S_ALIAS:
			sbf(e, "    // ");
			cstr(e, c->t[s->t].name, 200);
			sbf(e, " is a view of ");
			cstr(e, c->t[root(c, s->t)].name, 200);
			sbf(e, " (no dispatch)\n");
			break;
		case S_STUB:
			sbf(e, "    this.stub(");
			jstr(e, s->text);
			sbf(e, ");\n");
			break;
		case S_CAPTURE:
			sbf(e, "    this.checkpoint(");
			jstr(e, c->t[s->t].name);
			sbf(e, ", ");
			buf_expr(c, e, root(c, s->t));
			sbf(e, ", ");
			shape_js(e, &c->t[s->t]);
			sbf(e, ", '%s');\n", dtype_js(c->t[s->t].dt));
			break;
		case S_DISPATCH:
			sbf(e, "    this.dispatch(k.");
			camel(e, s->shader);
			sbf(e, ", { ");
			for (int r = 0; r < s->nres; r++) {
				sbf(e, "%s%s: ", r ? ", " : "", s->res[r].binding);
				buf_expr(c, e, s->res[r].t);
			}
			sbf(e, " },\n      %s,\n      [%llu, %llu, %llu], ", s->text, (unsigned long long)s->wg[0],
				(unsigned long long)s->wg[1], (unsigned long long)s->wg[2]);
			{
				const struct m2w_onnx_node *n = &c->g->nodes[s->node];
				char *lab = fmt("%.*s %zu", (int)(n->op_type.n > 60 ? 60 : n->op_type.n), n->op_type.p,
					(size_t)s->node);
				jstr(e, lab ? lab : "");
				free(lab);
			}
			if (strcmp(s->shader, "instance_norm") == 0) {
				/* 'main' does not use the two-pass scratch; auto layout drops it */
			}
			sbf(e, ");\n");
			break;
		}
	}
	sbf(e, "  }\n\n"
	       "  /** Dispatches per forward pass. */\n"
	       "  get dispatches(): number {\n"
	       "    return this.steps.filter((s) => s.kind === 'dispatch').length;\n"
	       "  }\n\n"
	       "  /** Copies the graph inputs into their buffers (4-byte elements: f32, or integers as u32). */\n"
	       "  write(inputs: EngineInputs): void {\n"
	       "    for (const [name, buffer] of Object.entries(this.inputs)) {\n"
	       "      const data = inputs[name];\n"
	       "      if (!data) throw new Error(`engine: input ${name} missing`);\n"
	       "      const bytes = data instanceof Float32Array || data instanceof Int32Array || data instanceof Uint32Array\n"
	       "        ? data : Float32Array.from(data as ArrayLike<number>);\n"
	       "      this.device.queue.writeBuffer(buffer, 0, bytes.buffer, bytes.byteOffset, bytes.byteLength);\n"
	       "    }\n"
	       "  }\n\n"
	       "  /** Records the forward pass in graph order; captures checkpoints when `capture` is enabled. */\n"
	       "  record(batcher: Batcher, capture?: DebugCapture): void {\n"
	       "    const cap = capture?.enabled ? capture : undefined;\n"
	       "    for (const s of this.steps) {\n"
	       "      if (s.kind === 'dispatch') batcher.dispatch(s.kernel.pipeline, s.groups, s.wg[0], s.wg[1], s.wg[2], s.label);\n"
	       "      else if (s.kind === 'capture') cap?.capture(s.name, s.buffer, s.shape, { dtype: s.dtype });\n"
	       "      else throw new Error(`engine: ${s.label}; write its shader`);\n"
	       "    }\n"
	       "  }\n\n"
	       "  /** write(), record(), then the graph outputs read back. */\n"
	       "  async run(inputs: EngineInputs, opts: { capture?: DebugCapture; flushEvery?: number } = {}): "
	       "Promise<EngineOutputs> {\n"
	       "    this.write(inputs);\n"
	       "    const batcher = new Batcher(this.device, { flushEvery: opts.flushEvery ?? %u, label: 'engine' });\n"
	       "    this.record(batcher, opts.capture);\n"
	       "    await batcher.done();\n"
	       "    const out: EngineOutputs = {};\n"
	       "    for (const o of OUTPUTS) {\n"
	       "      const bytes = o.shape.reduce((a, b) => a * b, 1) * 4;\n"
	       "      const ab = await readBuffer(this.device, this.outputs[o.name]!, 0, bytes);\n"
	       "      out[o.name] = o.dtype === 'f32' ? new Float32Array(ab) : new Uint32Array(ab);\n"
	       "    }\n"
	       "    return out;\n"
	       "  }\n\n"
	       "  destroy(): void {\n"
	       "    for (const b of this.owned) b.destroy();\n"
	       "    this.owned.length = 0;\n"
	       "  }\n\n"
	       "  private buffer(elements: number, label: string): GPUBuffer {\n"
	       "    const b = this.device.createBuffer({ size: Math.max(4, elements * 4), label,\n"
	       "      usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST });\n"
	       "    this.owned.push(b);\n"
	       "    return b;\n"
	       "  }\n\n"
	       "  private constant(data: Float32Array | Uint32Array, label: string): GPUBuffer {\n"
	       "    const b = this.buffer(data.length, label);\n"
	       "    this.device.queue.writeBuffer(b, 0, data);\n"
	       "    return b;\n"
	       "  }\n\n"
	       "  private dispatch(kernel: Kernel, resources: Record<string, GPUBuffer>, params: Record<string, ParamValue>,\n"
	       "    wg: [number, number, number], label: string): void {\n"
	       "    const uniform = createParamsBuffer(this.device, kernel.info, params, label);\n"
	       "    this.owned.push(uniform);\n"
	       "    const res: Record<string, GPUBuffer> = { ...resources, params: uniform };\n"
	       "    // bindings this entry point leaves out (no resource given) stay out of the group\n"
	       "    const entries = kernel.info.bindings.filter((b) => res[b.name]).map((b) => ({ binding: b.binding, resource: { buffer: res[b.name]! } }));\n"
	       "    const groups = [this.device.createBindGroup({ layout: kernel.pipeline.getBindGroupLayout(0), entries, label })];\n"
	       "    this.steps.push({ kind: 'dispatch', label, kernel, groups, wg });\n"
	       "  }\n\n"
	       "  private checkpoint(name: string, buffer: GPUBuffer, shape: number[], dtype: 'f32' | 'u32'): void {\n"
	       "    this.steps.push({ kind: 'capture', name, buffer, shape, dtype });\n"
	       "  }\n\n"
	       "  private stub(label: string): void {\n"
	       "    this.steps.push({ kind: 'stub', label });\n"
	       "  }\n"
	       "}\n",
		c->o->flush ? c->o->flush : 64);
}

static void tensor_json_list(struct ctx *c, struct sb *s, bool outputs, bool ts)
{
	bool first = true;
	const struct m2w_onnx_graph *g = c->g;
	size_t n = outputs ? g->noutputs : g->ninputs;
	for (size_t i = 0; i < n; i++) {
		int k = find_t(c, outputs ? g->outputs[i].name : g->inputs[i].name);
		if (k < 0)
			continue;
		const struct ten *t = &c->t[k];
		if (!outputs && (t->kind != K_INPUT || t->val || !t->gpu))
			continue;
		sbf(s, "%s", first ? "" : ",");
		first = false;
		if (ts) {
			sbf(s, "\n  { name: ");
			jstr(s, t->name);
			sbf(s, ", shape: ");
			shape_js(s, t);
			sbf(s, ", dtype: '%s' }", dtype_js(t->dt));
		} else {
			sbf(s, "\n    {\"name\": ");
			json_str(s, t->name);
			sbf(s, ", \"shape\": ");
			shape_js(s, t);
			sbf(s, ", \"dtype\": \"%s\"}", dtype_js(t->dt));
		}
	}
}

static void print_types(struct ctx *c, struct sb *s)
{
	sbf(s, "// types.ts — drafted by m2w-scaffold from ");
	cstr(s, c->o->model_name, strlen(c->o->model_name));
	sbf(s, ": the model's static config.\n"
	       "// Shapes are the concrete ones the engine was drafted for (symbolic dims\n"
	       "// bound with --dim); dtype is the GPU element type (integers as u32).\n\n"
	       "export interface TensorSpec {\n"
	       "  name: string;\n"
	       "  shape: number[];\n"
	       "  dtype: 'f32' | 'u32';\n"
	       "}\n\n"
	       "/** Graph inputs the engine reads at run time. */\n"
	       "export const INPUTS: TensorSpec[] = [");
	tensor_json_list(c, s, false, true);
	sbf(s, "\n];\n\n/** Graph outputs. */\nexport const OUTPUTS: TensorSpec[] = [");
	tensor_json_list(c, s, true, true);
	sbf(s, "\n];\n\n/** Activation checkpoints, in the order DebugCapture records them (m2w-check --order). */\n"
	       "export const CHECKPOINTS: string[] = [");
	bool first = true;
	for (size_t i = 0; i < c->ns; i++)
		if (c->s[i].kind == S_CAPTURE) {
			sbf(s, "%s\n  ", first ? "" : ",");
			jstr(s, c->t[c->s[i].t].name);
			first = false;
		}
	sbf(s, "\n];\n\n"
	       "export type EngineInputs = Record<string, Float32Array | Int32Array | Uint32Array | ArrayLike<number>>;\n"
	       "export type EngineOutputs = Record<string, Float32Array | Uint32Array>;\n");
}

static void print_report(struct ctx *c, struct sb *s, const bool *used)
{
	sbf(s, "{\n  \"model\": ");
	json_str(s, c->o->model_name);
	sbf(s, ",\n  \"format\": \"onnx\",\n  \"opset\": %lld,\n  \"nodes\": %zu,\n", (long long)c->opset, c->g->nnodes);
	int nd = 0;
	for (size_t i = 0; i < c->ns; i++)
		nd += c->s[i].kind == S_DISPATCH;
	sbf(s, "  \"dispatches\": %d,\n  \"work_buffers\": %d,\n  \"stubs\": %d,\n  \"shaders\": [", nd, c->nslots,
		c->nstubs);
	bool first = true;
	for (size_t i = 0; i < NLIB; i++)
		if (used[i]) {
			sbf(s, "%s\"%s\"", first ? "" : ", ", LIB_SHADERS[i]);
			first = false;
		}
	sbf(s, "],\n  \"inputs\": [");
	tensor_json_list(c, s, false, false);
	sbf(s, "\n  ],\n  \"outputs\": [");
	tensor_json_list(c, s, true, false);
	sbf(s, "\n  ],\n  \"ops\": [");
	/* per node: shaders, stub, view or fused */
	for (size_t ni = 0; ni < c->g->nnodes; ni++) {
		const struct m2w_onnx_node *n = &c->g->nodes[ni];
		sbf(s, "%s\n    {\"node\": %zu, \"op\": ", ni ? "," : "", ni);
		char *op = m2w_pbstr_dup(n->op_type), *nm = m2w_pbstr_dup(n->name);
		json_str(s, op ? op : "");
		sbf(s, ", \"name\": ");
		json_str(s, nm ? nm : "");
		free(op);
		free(nm);
		const char *how = c->fused[ni] ? "fused" : "view";
		bool stubbed = false;
		struct sb sh = {0};
		for (size_t k = 0; k < c->ns; k++) {
			if (c->s[k].node != (int)ni)
				continue;
			if (c->s[k].kind == S_STUB) {
				stubbed = true;
				sbf(s, ", \"stub\": ");
				json_str(s, c->s[k].text);
			} else if (c->s[k].kind == S_DISPATCH) {
				sbf(&sh, "%s\"%s\"", sh.n ? ", " : "", c->s[k].shader);
				how = "shader";
			} else if (c->s[k].kind == S_NODE && strstr(c->s[k].text, "constant")) {
				how = "constant";
			}
		}
		if (stubbed)
			how = "stub";
		sbf(s, ", \"as\": \"%s\"", how);
		if (sh.n)
			sbf(s, ", \"shaders\": [%s]", sh.p);
		free(sh.p);
		sbf(s, "}");
	}
	sbf(s, "\n  ],\n  \"fusions\": [%s\n  ]\n}\n", c->report_fused.p ? c->report_fused.p : "");
}

/* ---- the passes ---- */

static int load_tensors(struct ctx *c)
{
	const struct m2w_onnx_graph *g = c->g;
	for (size_t i = 0; i < g->ninits; i++) {
		const struct m2w_onnx_tensor *it = &g->inits[i];
		int k = t_of(c, it->name, it->off);
		if (k < 0)
			return -1;
		struct ten *t = &c->t[k];
		t->kind = K_WEIGHT;
		t->dt = it->data_type;
		if (set_shape_dims(c, t, it->ndim, it->dims, it->off) < 0 || read_value(c, c->m, it, t, M2W_SCAFFOLD_MAX_INLINE) < 0)
			return -1;
	}
	for (size_t i = 0; i < g->ninputs; i++) {
		const struct m2w_onnx_value_info *vi = &g->inputs[i];
		int k = t_of(c, vi->name, vi->off);
		if (k < 0)
			return -1;
		struct ten *t = &c->t[k];
		if (t->kind == K_WEIGHT)
			continue; /* IR < 4: initializers are listed as inputs too */
		t->kind = K_INPUT;
		for (size_t j = 0; j < c->o->nconsts; j++) {
			const struct m2w_scaffold_const *sc = &c->o->consts[j];
			if (strcmp(sc->name, t->name) != 0)
				continue;
			struct m2w_onnx_model *cm = NULL;
			struct m2w_diag cd;
			m2w_diag_init(&cd, sc->file);
			if (m2w_onnx_parse_tensorpb(sc->pb, sc->len, NULL, &cm, &cd) < 0) {
				*c->d = cd;
				return -1;
			}
			t->dt = cm->tensor->data_type;
			int rc = set_shape_dims(c, t, cm->tensor->ndim, cm->tensor->dims, 0);
			if (rc == 0)
				rc = read_value(c, cm, cm->tensor, t, M2W_SCAFFOLD_MAX_CONST);
			if (rc == 0 && !t->val)
				rc = m2w_err(c->d, 0, "--const %s: %llu elements of %s, limit %d plain numbers", sc->name,
					(unsigned long long)cm->tensor->count, m2w_onnx_dtype_name(cm->tensor->data_type),
					M2W_SCAFFOLD_MAX_CONST);
			m2w_onnx_free(cm);
			if (rc < 0)
				return -1;
			t->kind = K_CONST;
		}
		if (vi_shape(c, t, vi, !t->val) < 0)
			return -1;
	}
	for (size_t i = 0; i < g->nvalue_info; i++) {
		int k = t_of(c, g->value_info[i].name, g->value_info[i].off);
		if (k < 0 || vi_shape(c, &c->t[k], &g->value_info[i], false) < 0)
			return -1;
	}
	for (size_t i = 0; i < g->noutputs; i++) {
		int k = t_of(c, g->outputs[i].name, g->outputs[i].off);
		if (k < 0 || vi_shape(c, &c->t[k], &g->outputs[i], false) < 0)
			return -1;
		c->t[k].output = true;
	}
	/* node outputs (Constant nodes: weights named after their output, as m2w-extract names them) */
	for (size_t ni = 0; ni < g->nnodes; ni++) {
		const struct m2w_onnx_node *n = &g->nodes[ni];
		for (size_t i = 0; i < n->ninputs; i++) {
			if (!n->inputs[i].n)
				continue;
			int k = find_t(c, n->inputs[i]);
			if (k < 0) {
				char *z = m2w_pbstr_dup(n->inputs[i]);
				m2w_err(c->d, n->off, "node %zu reads '%s', which nothing defines before it", ni,
					z ? z : "?");
				free(z);
				return -1;
			}
		}
		for (size_t i = 0; i < n->noutputs; i++) {
			if (!n->outputs[i].n)
				continue;
			int k = t_of(c, n->outputs[i], n->off);
			if (k < 0)
				return -1;
			if (c->t[k].kind != K_VALUE || c->t[k].first >= 0)
				return m2w_err(c->d, n->off, "tensor '%s' is defined twice (node %zu)", c->t[k].name, ni);
			c->t[k].first = (int)ni; /* marks it defined; reset before lifetimes */
		}
		if (op_is(n, "Constant") && n->noutputs == 1) {
			int k = out_t(c, n, 0);
			const struct m2w_onnx_attr *a = attr(n, "value");
			struct ten *t = &c->t[k];
			t->kind = K_WEIGHT;
			if (a && a->t) {
				t->dt = a->t->data_type;
				if (set_shape_dims(c, t, a->t->ndim, a->t->dims, a->off) < 0 || read_value(c, c->m, a->t, t, M2W_SCAFFOLD_MAX_INLINE) < 0)
					return -1;
			} else if ((a = attr(n, "value_float")) || (a = attr(n, "value_int"))) {
				t->dt = a->type == M2W_ONNX_ATTR_FLOAT ? M2W_ONNX_FLOAT : M2W_ONNX_INT64;
				t->val = malloc(sizeof *t->val);
				if (!t->val)
					return -1;
				t->val[0] = a->type == M2W_ONNX_ATTR_FLOAT ? a->f : (double)a->i;
				t->nval = 1;
				t->rank = 0;
				t->known = true;
			} else if ((a = attr(n, "value_floats")) || (a = attr(n, "value_ints"))) {
				bool fl = a->type == M2W_ONNX_ATTR_FLOATS;
				size_t cnt = fl ? a->nfloats : a->nints;
				t->dt = fl ? M2W_ONNX_FLOAT : M2W_ONNX_INT64;
				t->val = malloc((cnt ? cnt : 1) * sizeof *t->val);
				if (!t->val)
					return -1;
				for (size_t j = 0; j < cnt; j++)
					t->val[j] = fl ? a->floats[j] : (double)a->ints[j];
				t->nval = cnt;
				t->rank = 1;
				t->shape[0] = (int64_t)cnt;
				t->known = true;
			}
		}
		infer(c, n);
	}
	for (size_t i = 0; i < c->nt; i++)
		c->t[i].first = -1;
	return 0;
}

static int plan(struct ctx *c)
{
	const struct m2w_onnx_graph *g = c->g;
	c->fused = calloc(g->nnodes ? g->nnodes : 1, sizeof *c->fused);
	c->uses = calloc(c->nt ? c->nt : 1, sizeof *c->uses);
	if (!c->fused || !c->uses)
		return -1;
	for (size_t ni = 0; ni < g->nnodes; ni++)
		for (size_t i = 0; i < g->nodes[ni].ninputs; i++) {
			int k = in_t(c, &g->nodes[ni], i);
			if (k >= 0)
				c->uses[k]++;
		}
	for (size_t ni = 0; ni < g->nnodes; ni++) {
		const struct m2w_onnx_node *n = &g->nodes[ni];
		if (c->fused[ni])
			continue;
		struct sb h = {0};
		sbf(&h, "node %zu: ", ni);
		cstr(&h, n->op_type.p, n->op_type.n > 60 ? 60 : n->op_type.n);
		if (n->name.n) {
			sbf(&h, " '");
			cstr(&h, n->name.p, n->name.n > 120 ? 120 : n->name.n);
			sbf(&h, "'");
		}
		sbf(&h, " (");
		for (size_t i = 0; i < n->ninputs; i++) {
			sbf(&h, "%s", i ? ", " : "");
			cstr(&h, n->inputs[i].p, n->inputs[i].n > 120 ? 120 : n->inputs[i].n);
		}
		sbf(&h, ") -> ");
		for (size_t i = 0; i < n->noutputs; i++) {
			sbf(&h, "%s", i ? ", " : "");
			cstr(&h, n->outputs[i].p, n->outputs[i].n > 120 ? 120 : n->outputs[i].n);
		}
		if (op_is(n, "Constant"))
			sbf(&h, ": a constant (weights.json)");
		int hk = new_step(c, S_NODE, (int)ni);
		if (hk < 0 || h.oom) {
			free(h.p);
			return -1;
		}
		c->s[hk].text = h.p;
		size_t before = c->ns;
		if (op_is(n, "Constant")) {
			/* its value is a weight; a checkpoint only when the graph returns it */
			int y = out_t(c, n, 0);
			if (y >= 0 && c->t[y].output) {
				int k = new_step(c, S_CAPTURE, (int)ni);
				if (k < 0)
					return -1;
				c->s[k].t = y;
				c->t[y].gpu = true;
			}
			continue;
		}
		if (is_view(n) && (!op_is(n, "Dropout") || dropout_identity(c, n)) && in_t(c, n, 0) >= 0 &&
		    out_t(c, n, 0) >= 0) {
			int x = in_t(c, n, 0), y = out_t(c, n, 0);
			if (count_of(&c->t[x]) != count_of(&c->t[y]))
				return m2w_err(c->d, n->off, "node %zu: %s has %llu elements, its input %llu", ni,
					c->t[y].name, (unsigned long long)count_of(&c->t[y]),
					(unsigned long long)count_of(&c->t[x]));
			c->t[y].alias = x;
			int k = new_step(c, S_ALIAS, (int)ni);
			if (k < 0)
				return -1;
			c->s[k].t = y;
		} else if (emit_node(c, ni) < 0) {
			return -1;
		}
		if (c->oom)
			return -1;
		bool stubbed = false;
		for (size_t k = before; k < c->ns; k++)
			stubbed |= c->s[k].kind == S_STUB;
		if (stubbed)
			continue;
		/* checkpoints: this node's outputs, or the fused node's */
		int last = (int)ni;
		while ((size_t)last + 1 < g->nnodes && c->fused[last + 1])
			last++;
		const struct m2w_onnx_node *ln = &g->nodes[last];
		for (size_t i = 0; i < ln->noutputs; i++) {
			int y = out_t(c, ln, i);
			if (y < 0)
				continue;
			int k = new_step(c, S_CAPTURE, (int)ni);
			if (k < 0)
				return -1;
			c->s[k].t = y;
			c->t[root(c, y)].gpu = true;
		}
	}
	return 0;
}

static int allocate(struct ctx *c)
{
	for (size_t si = 0; si < c->ns; si++) {
		const struct step *s = &c->s[si];
		int refs[7], nr = 0;
		for (int r = 0; r < s->nres; r++)
			refs[nr++] = s->res[r].t;
		if (s->kind == S_CAPTURE)
			refs[nr++] = root(c, s->t);
		for (int r = 0; r < nr; r++) {
			struct ten *t = &c->t[refs[r]];
			if (t->first < 0)
				t->first = (int)si;
			t->last = (int)si;
		}
	}
	/* a root that a graph output views lives to the end */
	for (size_t i = 0; i < c->nt; i++)
		if (c->t[i].output && root(c, (int)i) != (int)i)
			c->t[root(c, (int)i)].output = c->t[root(c, (int)i)].kind == K_VALUE ? true : c->t[root(c, (int)i)].output;
	int *slot_last = calloc(c->nt + 1, sizeof *slot_last);
	c->slot_elems = calloc(c->nt + 1, sizeof *c->slot_elems);
	if (!slot_last || !c->slot_elems) {
		free(slot_last);
		return -1;
	}
	/* first fit in order of first use */
	for (size_t si = 0; si < c->ns; si++)
		for (size_t i = 0; i < c->nt; i++) {
			struct ten *t = &c->t[i];
			if (t->first != (int)si || t->alias >= 0 || t->output || !t->gpu ||
			    (t->kind != K_VALUE && t->kind != K_TEMP))
				continue;
			int sl = 0;
			while (sl < c->nslots && slot_last[sl] >= t->first)
				sl++;
			if (sl == c->nslots)
				c->nslots++;
			t->slot = sl;
			slot_last[sl] = t->last;
			uint64_t n = count_of(t);
			if (n > c->slot_elems[sl])
				c->slot_elems[sl] = n;
		}
	free(slot_last);
	return 0;
}

int m2w_scaffold_onnx(const uint8_t *p, size_t n, const char *dir, const struct m2w_scaffold_opts *o,
	struct m2w_scaffold_result *r, struct m2w_diag *d)
{
	struct m2w_onnx_model *m = NULL;
	struct ctx c = {0};
	int rc = -1;
	memset(r, 0, sizeof *r);
	if (m2w_onnx_parse(p, n, dir, &m, d) < 0)
		return -1;
	if (!m->graph) {
		m2w_err(d, 0, "the model has no graph");
		goto out;
	}
	c.m = m;
	c.g = m->graph;
	c.o = o;
	c.d = d;
	c.first_op = c.first_fused = true;
	c.opset = 1;
	for (size_t i = 0; i < m->nopsets; i++)
		if (m->opsets[i].domain.n == 0 || m2w_pbstr_eq(m->opsets[i].domain, "ai.onnx"))
			c.opset = m->opsets[i].version;
	if (load_tensors(&c) < 0 || plan(&c) < 0 || allocate(&c) < 0) {
		if (d->msg[0] == 0)
			m2w_err(d, M2W_NO_OFFSET, "out of memory");
		goto out;
	}
	bool used[NLIB] = {false};
	for (size_t i = 0; i < c.ns; i++)
		for (size_t k = 0; c.s[i].kind == S_DISPATCH && k < NLIB; k++)
			used[k] |= strcmp(c.s[i].shader, LIB_SHADERS[k]) == 0;
	struct sb e = {0}, t = {0}, rep = {0};
	print_engine(&c, &e, used);
	print_types(&c, &t);
	print_report(&c, &rep, used);
	if (e.oom || t.oom || rep.oom || c.report_fused.oom) {
		free(e.p);
		free(t.p);
		free(rep.p);
		m2w_err(d, M2W_NO_OFFSET, "out of memory");
		goto out;
	}
	r->engine_ts = e.p;
	r->types_ts = t.p;
	r->report_json = rep.p;
	rc = 0;
out:
	for (size_t i = 0; i < c.nt; i++) {
		free(c.t[i].name);
		free(c.t[i].val);
	}
	for (size_t i = 0; i < c.ns; i++)
		free(c.s[i].text);
	free(c.t);
	free(c.s);
	free(c.fused);
	free(c.uses);
	free(c.slot_elems);
	free(c.report_ops.p);
	free(c.report_fused.p);
	m2w_onnx_free(m);
	return rc;
}

void m2w_scaffold_result_free(struct m2w_scaffold_result *r)
{
	free(r->engine_ts);
	free(r->types_ts);
	free(r->report_json);
	memset(r, 0, sizeof *r);
}
