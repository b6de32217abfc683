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
 * Everything is 4 bytes an element on the GPU: floats as f32 (float64 and
 * float16 values narrowed / widened), integer tensors as their low 32 bits
 * (u32 words, read as i32 where signed), bools as 0 / 1.
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
	"unary_op", "gather", "reduce", "strided_copy", "typed_op", "grid_sample",
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

/* Float types the GPU holds as f32: float64 and float16 values are narrowed / widened. */
static bool f32_on_gpu(int32_t dt)
{
	return dt == M2W_ONNX_FLOAT || dt == M2W_ONNX_UNDEFINED || dt == M2W_ONNX_DOUBLE || dt == M2W_ONNX_FLOAT16;
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

/* Window geometry a node's attributes give (Conv, pooling, ConvTranspose,
 * LRN ...): every size after infer() multiplies these freely, so absurd
 * values are refused here, at the attribute, instead of wrapping. */
static int check_geometry(struct ctx *c, const struct m2w_onnx_node *n)
{
	static const struct {
		const char *name;
		int64_t lo, hi;
	} lim[] = {
		{"kernel_shape", 1, (int64_t)1 << 20}, {"strides", 1, (int64_t)1 << 20},
		{"dilations", 1, (int64_t)1 << 20}, {"pads", -((int64_t)1 << 31), (int64_t)1 << 31},
		{"output_padding", 0, (int64_t)1 << 20}, {"group", 1, (int64_t)1 << 31},
		{"blocksize", 1, (int64_t)1 << 20}, {"size", 1, (int64_t)1 << 20},
	};
	for (size_t i = 0; i < n->nattrs; i++) {
		const struct m2w_onnx_attr *a = &n->attrs[i];
		for (size_t k = 0; k < sizeof lim / sizeof lim[0]; k++) {
			if (a->name.n != strlen(lim[k].name) || memcmp(a->name.p, lim[k].name, a->name.n))
				continue;
			size_t cnt = a->nints ? a->nints : 1;
			for (size_t j = 0; j < cnt; j++) {
				int64_t v = a->nints ? a->ints[j] : a->i;
				if (v < lim[k].lo || v >= lim[k].hi)
					return m2w_err(c->d, a->off,
						"%.*s attribute '%s' value %zu is %lld, outside [%lld, %lld)",
						(int)n->op_type.n, (const char *)n->op_type.p, lim[k].name, j,
						(long long)v, (long long)lim[k].lo, (long long)lim[k].hi);
			}
		}
	}
	return 0;
}

/* An inferred shape: the same limits as a declared one (set_shape_dims). */
static int check_shape(struct ctx *c, const struct ten *t, size_t off)
{
	uint64_t count = 1;
	for (int i = 0; i < t->rank; i++)
		if (t->shape[i] < 0 || t->shape[i] > (int64_t)1 << 40 ||
		    !m2w_mul_u64(count, (uint64_t)t->shape[i], &count) || count > (uint64_t)1 << 40)
			return m2w_err(c->d, off, "tensor '%s' comes out with dim %d = %lld (or over 2^40 elements): "
				"the node's attributes or inputs are absurd", t->name, i, (long long)t->shape[i]);
	return 0;
}

static int set_shape_dims(struct ctx *c, struct ten *t, size_t ndim, const int64_t *dims, size_t off)
{
	if (ndim > MAXR)
		return m2w_err(c->d, off, "tensor '%s' has %zu dims, limit %d", t->name, ndim, MAXR);
	t->rank = (int)ndim;
	uint64_t count = 1;
	for (size_t i = 0; i < ndim; i++) {
		if (dims[i] < 0 || dims[i] > (int64_t)1 << 40)
			return m2w_err(c->d, off, "tensor '%s' dim %zu is %lld, limit 2^40", t->name, i,
				(long long)dims[i]);
		/* the element count too: count_of() and every size after it multiply freely */
		if (!m2w_mul_u64(count, (uint64_t)dims[i], &count) || count > (uint64_t)1 << 40)
			return m2w_err(c->d, off, "tensor '%s' has over 2^40 elements (dims 0..%zu)",
				t->name, i);
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

static void infer_words(struct ctx *c, const struct m2w_onnx_node *n, struct ten *x, struct ten *y, bool set_dt);

static void infer(struct ctx *c, const struct m2w_onnx_node *n)
{
	int yi = out_t(c, n, 0), xi = in_t(c, n, 0);
	if (yi < 0 || c->t[yi].known || xi < 0 || !c->t[xi].known)
		return;
	struct ten *y = &c->t[yi], *x = &c->t[xi];
	int wi = in_t(c, n, 1);
	struct ten *w = wi >= 0 ? &c->t[wi] : NULL;
	bool undeclared = y->dt == M2W_ONNX_UNDEFINED;
	if (y->dt == M2W_ONNX_UNDEFINED)
		y->dt = x->dt;
	infer_words(c, n, x, y, undeclared); /* bool / index results, reductions, data movement */
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
	if (op_is(n, "Upsample"))
		nearest = 2; /* Upsample's nearest is floor(x / scale) */
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
		if (!f32_on_gpu(c->t[t].dt))
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

/* ---- ops on 32-bit words: typed_op, reduce, strided_copy, gather ---- */

/* typed_op.wgsl / reduce.wgsl's kind: 0 f32, 1 i32 (signed integers), 2 u32 (unsigned, bool). */
static int kind_of(int32_t dt)
{
	switch (dt) {
	case M2W_ONNX_INT8: case M2W_ONNX_INT16: case M2W_ONNX_INT32: case M2W_ONNX_INT64: return 1;
	case M2W_ONNX_UINT8: case M2W_ONNX_UINT16: case M2W_ONNX_UINT32: case M2W_ONNX_UINT64: case M2W_ONNX_BOOL:
		return 2;
	default: return 0;
	}
}

/* Element strides of t broadcast to y's dims (0 where t is broadcast). */
static void bstrides(const struct ten *t, const struct ten *y, int64_t *st)
{
	int64_t s[MAXR];
	strides_of(t, s);
	for (int i = 0; i < y->rank; i++) {
		int it = i - (y->rank - t->rank);
		st[i] = it >= 0 && t->shape[it] != 1 ? s[it] : 0;
	}
}

/* typed_op.wgsl: y = f(a, b, cc) broadcast (b, cc: -1 when unused). */
static int typed(struct ctx *c, int node, int op, int kind, int flags, int a, int b, int cc, int y)
{
	const struct ten *Y = &c->t[y];
	int64_t as[MAXR] = {0}, bs[MAXR] = {0}, cs[MAXR] = {0}, one = 1;
	int r = Y->rank ? Y->rank : 1;
	bstrides(&c->t[a], Y, as);
	if (b >= 0)
		bstrides(&c->t[b], Y, bs);
	if (cc >= 0)
		bstrides(&c->t[cc], Y, cs);
	struct sb p = {0};
	uint64_t n = count_of(Y);
	sbf(&p, "{ n: %llu, rank: %d, op: %d, kind: %d, flags: %d, shape: ", (unsigned long long)n, r, op, kind, flags);
	dims8(&p, Y->rank ? Y->shape : &one, r, 1);
	sbf(&p, ", aStrides: ");
	dims8(&p, as, Y->rank, 0);
	sbf(&p, ", bStrides: ");
	dims8(&p, bs, Y->rank, 0);
	sbf(&p, ", cStrides: ");
	dims8(&p, cs, Y->rank, 0);
	sbf(&p, " }");
	if (p.oom)
		return -1;
	return dispatch(c, node, "typed_op", p.p, (n + 255) / 256, "a", a, "b", b >= 0 ? b : a, "c", cc >= 0 ? cc : a,
		       "out", y, NULL)
		       ? 0
		       : -1;
}

/* reduce.wgsl over x's dims marked in red (ops < 16 write one word per group). */
static int reduce_x(struct ctx *c, int node, int op, int kind, int flags, double eps, int x, int y, const bool *red)
{
	const struct ten *X = &c->t[x];
	int64_t st[MAXR], os[MAXR], ost[MAXR], rs[MAXR], rst[MAXR];
	int no = 0, nr = 0;
	uint64_t groups = 1, count = 1;
	strides_of(X, st);
	for (int i = 0; i < X->rank; i++) {
		if (red[i]) {
			rs[nr] = X->shape[i];
			rst[nr++] = st[i];
			count *= (uint64_t)X->shape[i];
		} else {
			os[no] = X->shape[i];
			ost[no++] = st[i];
			groups *= (uint64_t)X->shape[i];
		}
	}
	struct sb p = {0};
	sbf(&p, "{ groups: %llu, count: %llu, op: %d, kind: %d, flags: %d, outRank: %d, redRank: %d, eps: %.9g, "
		"outShape: ", (unsigned long long)groups, (unsigned long long)count, op, kind, flags, no, nr, eps);
	dims8(&p, os, no, 1);
	sbf(&p, ", outStrides: ");
	dims8(&p, ost, no, 0);
	sbf(&p, ", redShape: ");
	dims8(&p, rs, nr, 1);
	sbf(&p, ", redStrides: ");
	dims8(&p, rst, nr, 0);
	sbf(&p, " }");
	if (p.oom)
		return -1;
	return dispatch(c, node, "reduce", p.p, (groups + 63) / 64, "x", x, "out", y, NULL) ? 0 : -1;
}

/* strided_copy.wgsl: y[coord] = x[base + Σ (coord mod mods) · strides] (mods NULL: shape). */
static int copy_x(struct ctx *c, int node, int x, int y, int r, const int64_t *shape, const int64_t *strides,
	const int64_t *mods, int64_t base, int mask, int64_t k)
{
	int64_t one = 1, zero = 0;
	if (r == 0) {
		r = 1;
		shape = mods = &one;
		strides = &zero;
	}
	uint64_t n = 1;
	for (int i = 0; i < r; i++)
		n *= (uint64_t)shape[i];
	struct sb p = {0};
	sbf(&p, "{ n: %llu, rank: %d, base: %lld, mask: %d, k: %lld, shape: ", (unsigned long long)n, r, (long long)base,
		mask, (long long)k);
	dims8(&p, shape, r, 1);
	sbf(&p, ", mods: ");
	dims8(&p, mods ? mods : shape, r, 1);
	sbf(&p, ", strides: ");
	dims8(&p, strides, r, 0);
	sbf(&p, " }");
	if (p.oom)
		return -1;
	return dispatch(c, node, "strided_copy", p.p, (n + 255) / 256, "x", x, "out", y, NULL) ? 0 : -1;
}

/* y = x word for word (same element count). */
static int copy_all(struct ctx *c, int node, int x, int y)
{
	int64_t n = (int64_t)count_of(&c->t[y]), one = 1;
	return copy_x(c, node, x, y, 1, &n, &one, NULL, 0, 0, 0);
}

/* A constant of n values (dt, shape of `like` or [n]), inline in engine.ts. */
static int const_t(struct ctx *c, int like, const char *what, int32_t dt, double *v, uint64_t n)
{
	int t = temp(c, like, what, -1);
	if (t < 0) {
		free(v);
		return -1;
	}
	c->t[t].kind = K_CONST;
	c->t[t].dt = dt;
	c->t[t].rank = 1;
	c->t[t].shape[0] = (int64_t)n;
	c->t[t].val = v;
	c->t[t].nval = n;
	return t;
}

/* A temporary like y's dims with rank/shape given. */
static int temp_shaped(struct ctx *c, int like, const char *what, int node, int32_t dt, int r, const int64_t *shape)
{
	int t = temp(c, like, what, node);
	if (t < 0)
		return -1;
	c->t[t].dt = dt;
	c->t[t].rank = r;
	for (int i = 0; i < r; i++)
		c->t[t].shape[i] = shape[i];
	return t;
}

/* A view of tensor t with another shape (same elements): shares t's buffer. */
static int view_t(struct ctx *c, int t, const char *what, int node, int r, const int64_t *shape)
{
	int v = temp_shaped(c, t, what, node, c->t[t].dt, r, shape);
	if (v < 0)
		return -1;
	c->t[v].alias = t;
	return v;
}

/* Constant integer list from input i (when read) or attribute `name`: count, or -1. */
static int ints_of(struct ctx *c, const struct m2w_onnx_node *n, size_t i, const char *name, int64_t *v, int max)
{
	int k = in_t(c, n, i);
	if (k >= 0) {
		if (!c->t[k].val || c->t[k].nval > (uint64_t)max)
			return -2;
		for (uint64_t j = 0; j < c->t[k].nval; j++)
			v[j] = ival(&c->t[k], j);
		return (int)c->t[k].nval;
	}
	return name ? aints(n, name, v, max) : -1;
}

static const struct {
	const char *op;
	int code;
} REDUCE_OPS[] = {
	{"ReduceSum", 0}, {"ReduceMean", 1}, {"ReduceMax", 2}, {"ReduceMin", 3}, {"ReduceProd", 4}, {"ReduceL1", 5},
	{"ReduceL2", 6}, {"ReduceLogSum", 7}, {"ReduceLogSumExp", 8}, {"ReduceSumSquare", 9},
};

static const struct {
	const char *op;
	int code;
} TYPED_OPS[] = {
	{"Equal", 0}, {"Less", 1}, {"Greater", 2}, {"LessOrEqual", 3}, {"GreaterOrEqual", 4}, {"And", 5}, {"Or", 6},
	{"Xor", 7}, {"Not", 8}, {"Where", 11}, {"IsNaN", 24}, {"IsInf", 25},
};

/* A float copy of integer tensor t through typed_op's cast (t itself when float). */
static int as_float(struct ctx *c, int node, int t, const char *what)
{
	if (kind_of(c->t[t].dt) == 0)
		return t;
	int f = temp_shaped(c, t, what, node, M2W_ONNX_FLOAT, c->t[t].rank, c->t[t].shape);
	if (f < 0 || typed(c, node, 26, kind_of(c->t[t].dt), 0, t, -1, -1, f) < 0)
		return -1;
	return f;
}

/* Folds a node whose output is known at scaffold time into an inline constant copied to y. */
static int fold(struct ctx *c, size_t ni, int y, int32_t dt, double *v, uint64_t n)
{
	if (n != count_of(&c->t[y])) {
		free(v);
		return stub(c, (int)ni, stubf(&c->g->nodes[ni], "folded value does not match the output shape"));
	}
	if (n == 0) {
		free(v);
		return 0;
	}
	int k = const_t(c, y, "value", dt, v, n);
	return k < 0 ? -1 : copy_all(c, (int)ni, k, y);
}

/* Axes to reduce: from the attribute or input 1; all when absent (or empty and noop is off). */
static int reduce_axes(struct ctx *c, const struct m2w_onnx_node *n, int rank, bool *red, bool *noop)
{
	int64_t axes[MAXR];
	int na = ints_of(c, n, 1, "axes", axes, MAXR);
	*noop = false;
	if (na == -2)
		return -1;
	for (int i = 0; i < rank; i++)
		red[i] = na <= 0;
	if (na == 0 && aint(n, "noop_with_empty_axes", 0))
		*noop = true;
	for (int i = 0; i < na; i++) {
		int a = norm_axis(axes[i], rank);
		if (a < 0 || a >= rank)
			return -1;
		red[a] = true;
	}
	return 0;
}

/* (q − zero point) · scale as a new f32 temporary (per-tensor scale and zero point). */
static int dequant(struct ctx *c, int node, int q, int scale, int zp)
{
	int qf = as_float(c, node, q, "f32"), zf = zp >= 0 && qf >= 0 ? as_float(c, node, zp, "f32") : -1;
	const struct ten *Q = &c->t[q];
	int t1 = qf >= 0 ? temp_shaped(c, q, "centred", node, M2W_ONNX_FLOAT, Q->rank, Q->shape) : -1;
	int t2 = t1 >= 0 ? temp_shaped(c, q, "dequantized", node, M2W_ONNX_FLOAT, Q->rank, Q->shape) : -1;
	if (t2 < 0 || (zp >= 0 && (zf < 0 || binary_x(c, node, "binary_op", B_SUB, qf, zf, t1) < 0)) ||
	    binary_x(c, node, "binary_op", B_MUL, zp >= 0 ? t1 : qf, scale, t2) < 0)
		return -1;
	return t2;
}

/* y = saturate(round(f / scale) + zero point) in y's 8-bit type. */
static int requant(struct ctx *c, int node, int f, int scale, int zp, int y)
{
	const struct ten *F = &c->t[f];
	bool u8 = c->t[y].dt == M2W_ONNX_UINT8;
	int t1 = temp_shaped(c, f, "scaled", node, M2W_ONNX_FLOAT, F->rank, F->shape);
	int t2 = t1 >= 0 ? temp_shaped(c, f, "rounded", node, M2W_ONNX_FLOAT, F->rank, F->shape) : -1;
	int zf = zp >= 0 ? as_float(c, node, zp, "f32") : -1;
	if (t2 < 0 || (zp >= 0 && zf < 0) || binary_x(c, node, "binary_op", B_DIV, f, scale, t1) < 0 ||
	    unary_op(c, node, 9, 0, 0, 0, t1, t2) < 0 || (zp >= 0 && binary_x(c, node, "binary_op", B_ADD, t2, zf, t1) < 0) ||
	    unary_op(c, node, U_CLIP, u8 ? 0 : -128, u8 ? 255 : 127, 0, zp >= 0 ? t1 : t2, zp >= 0 ? t2 : t1) < 0)
		return -1;
	return typed(c, node, 26, 0, kind_of(c->t[y].dt), zp >= 0 ? t2 : t1, -1, -1, y);
}

/* The element type a graph input declares (a --const value may carry another). */
static int32_t declared_dt(const struct ctx *c, int t)
{
	for (size_t i = 0; i < c->g->ninputs; i++) {
		const struct m2w_onnx_value_info *vi = &c->g->inputs[i];
		if (vi->has_type && vi->type.kind == M2W_ONNX_TYPE_TENSOR && m2w_pbstr_eq(vi->name, c->t[t].name))
			return vi->type.elem_type;
	}
	return c->t[t].dt;
}

/* Ops on 32-bit words; 1 when the node is not one of them. */
static int emit_words(struct ctx *c, size_t ni, const struct m2w_onnx_node *n, int x, int y, bool fin)
{
	const struct ten *X = &c->t[x], *Y = &c->t[y];
	int w = in_t(c, n, 1), kx = kind_of(X->dt);
	if (X->rank > 8 || Y->rank > 8)
		return 1;
	for (size_t i = 0; i < sizeof TYPED_OPS / sizeof TYPED_OPS[0]; i++)
		if (op_is(n, TYPED_OPS[i].op)) {
			int code = TYPED_OPS[i].code, flags = 0;
			if (code == 25)
				flags = (aint(n, "detect_positive", 1) ? 1 : 0) | (aint(n, "detect_negative", 1) ? 2 : 0);
			if (code == 11) /* Where(cond, x, y) */
				return typed(c, (int)ni, code, 2, 0, x, w, in_t(c, n, 2), y);
			return typed(c, (int)ni, code, kx, flags, x, code == 8 || code >= 24 ? -1 : w, -1, y);
		}
	if (op_is(n, "BitShift") && w >= 0)
		return typed(c, (int)ni, astr(n, "direction", "LEFT") ? 9 : 10, 2, 0, x, w, -1, y);
	if (op_is(n, "Cast") || (op_is(n, "CastLike") && w >= 0)) {
		int32_t to = op_is(n, "Cast") ? (int32_t)aint(n, "to", X->dt) : c->t[w].dt;
		int32_t from = declared_dt(c, x);
		if (!(f32_on_gpu(to) || is_int_dt(to)) || to == M2W_ONNX_UNDEFINED || !(f32_on_gpu(from) || is_int_dt(from)))
			return stub(c, (int)ni, stubf(n, "casts to other than f32 / f64 / f16 / integers / bool have no library shader"));
		int tk = to == M2W_ONNX_BOOL ? 3 : to == M2W_ONNX_FLOAT16 ? 4 : kind_of(to);
		return typed(c, (int)ni, 26, kx, tk, x, -1, -1, y);
	}
	if (op_is(n, "Pow") && w >= 0 && (!fin || kind_of(c->t[w].dt) != 0)) {
		/* through f32: integer operands cast, the result cast back */
		int a = as_float(c, (int)ni, x, "f32"), b = a >= 0 ? as_float(c, (int)ni, w, "f32") : -1;
		if (b < 0)
			return -1;
		int o = kind_of(Y->dt) == 0 ? y : temp_shaped(c, y, "f32", (int)ni, M2W_ONNX_FLOAT, Y->rank, Y->shape);
		if (o < 0 || binary_x(c, (int)ni, "binary_op", B_POW, a, b, o) < 0)
			return -1;
		return o == y ? 0 : typed(c, (int)ni, 26, 0, kind_of(Y->dt), o, -1, -1, y);
	}
	if (!fin && kx != 0) {
		/* integer arithmetic */
		static const struct {
			const char *op;
			int code;
		} INT_OPS[] = {
			{"Add", 12}, {"Sub", 13}, {"Mul", 14}, {"Div", 15}, {"Max", 18}, {"Min", 19}, {"Abs", 21},
			{"Neg", 22}, {"Sign", 23},
		};
		int code = -1;
		for (size_t i = 0; i < sizeof INT_OPS / sizeof INT_OPS[0]; i++)
			if (op_is(n, INT_OPS[i].op))
				code = INT_OPS[i].code;
		if (op_is(n, "Mod"))
			code = aint(n, "fmod", 0) ? 17 : 16;
		if (code >= 0 && code < 21 && (w < 0 || n->ninputs != 2))
			return stub(c, (int)ni, stubf(n, "integer ops take two inputs here"));
		if (code >= 0)
			return typed(c, (int)ni, code, kx, 0, x, code < 21 ? w : -1, -1, y);
	}
	for (size_t i = 0; i < sizeof REDUCE_OPS / sizeof REDUCE_OPS[0]; i++)
		if (op_is(n, REDUCE_OPS[i].op)) {
			int code = REDUCE_OPS[i].code;
			bool red[MAXR], noop;
			if (reduce_axes(c, n, X->rank, red, &noop) < 0)
				return stub(c, (int)ni, stubf(n, "axes are not a constant (pass --const)"));
			if (noop)
				return copy_all(c, (int)ni, x, y);
			if (kx != 0 && code != 0 && code != 2 && code != 3 && code != 4)
				return stub(c, (int)ni, stubf(n, "integer input has no library shader for this reduction"));
			return reduce_x(c, (int)ni, code, kx ? 1 : 0, 0, 0, x, y, red);
		}
	if (op_is(n, "ArgMin") ||
	    (op_is(n, "ArgMax") && (!fin || norm_axis(aint(n, "axis", 0), X->rank) != X->rank - 1 ||
				    aint(n, "select_last_index", 0)))) {
		bool red[MAXR] = {false};
		int ax = norm_axis(aint(n, "axis", 0), X->rank);
		if (ax < 0 || ax >= X->rank)
			return stub(c, (int)ni, stubf(n, "axis out of range"));
		red[ax] = true;
		return reduce_x(c, (int)ni, op_is(n, "ArgMax") ? 10 : 11, kx ? 1 : 0, aint(n, "select_last_index", 0) ? 1 : 0, 0,
			x, y, red);
	}
	if ((op_is(n, "LogSoftmax") || op_is(n, "Hardmax")) && fin) {
		bool red[MAXR] = {false};
		int ax = norm_axis(aint(n, "axis", c->opset < 13 ? 1 : -1), X->rank);
		for (int i = 0; i < X->rank; i++)
			red[i] = c->opset < 13 ? i >= ax : i == ax;
		return reduce_x(c, (int)ni, op_is(n, "LogSoftmax") ? 17 : 18, 0, 0, 0, x, y, red);
	}
	if (op_is(n, "CumSum") && w >= 0) {
		int64_t a;
		if (ints_of(c, n, 1, NULL, &a, 1) != 1)
			return stub(c, (int)ni, stubf(n, "axis is not a constant (pass --const)"));
		bool red[MAXR] = {false};
		red[norm_axis(a, X->rank)] = true;
		int flags = (aint(n, "exclusive", 0) ? 1 : 0) | (aint(n, "reverse", 0) ? 2 : 0);
		return reduce_x(c, (int)ni, 19, kx ? 1 : 0, flags, 0, x, y, red);
	}
	if ((op_is(n, "LpNormalization") && (aint(n, "p", 2) == 1 || aint(n, "p", 2) == 2)) && fin) {
		bool red[MAXR] = {false};
		red[norm_axis(aint(n, "axis", -1), X->rank)] = true;
		return reduce_x(c, (int)ni, aint(n, "p", 2) == 1 ? 20 : 21, 0, 0, 0, x, y, red);
	}
	if (op_is(n, "MeanVarianceNormalization") && fin) {
		bool red[MAXR] = {false};
		int64_t axes[MAXR] = {0, 2, 3};
		int na = aints(n, "axes", axes, MAXR);
		if (na < 0)
			na = 3;
		for (int i = 0; i < na; i++)
			if (norm_axis(axes[i], X->rank) < X->rank)
				red[norm_axis(axes[i], X->rank)] = true;
		return reduce_x(c, (int)ni, 22, 0, 0, 1e-9, x, y, red);
	}
	if (op_is(n, "LayerNormalization") && fin && w >= 0 && (out_t(c, n, 1) >= 0 || out_t(c, n, 2) >= 0)) {
		/* Mean and InvStdDev (reduce), then (x − mean) · invStdDev · scale + bias */
		int ax = norm_axis(aint(n, "axis", -1), X->rank), b = in_t(c, n, 2);
		bool red[MAXR] = {false};
		int64_t st[MAXR];
		for (int i = 0; i < X->rank; i++) {
			red[i] = i >= ax;
			st[i] = i >= ax ? 1 : X->shape[i];
		}
		int mean = out_t(c, n, 1), inv = out_t(c, n, 2);
		if (mean < 0 && (mean = temp_shaped(c, x, "mean", (int)ni, M2W_ONNX_FLOAT, X->rank, st)) < 0)
			return -1;
		if (inv < 0 && (inv = temp_shaped(c, x, "invStdDev", (int)ni, M2W_ONNX_FLOAT, X->rank, st)) < 0)
			return -1;
		if (reduce_x(c, (int)ni, 1, 0, 0, 0, x, mean, red) < 0 ||
		    reduce_x(c, (int)ni, 12, 0, 0, afloat(n, "epsilon", 1e-5), x, inv, red) < 0)
			return -1;
		int t1 = temp_shaped(c, x, "centred", (int)ni, M2W_ONNX_FLOAT, X->rank, X->shape);
		int t2 = t1 >= 0 ? temp_shaped(c, x, "normed", (int)ni, M2W_ONNX_FLOAT, X->rank, X->shape) : -1;
		int t3 = t2 >= 0 && b >= 0 ? temp_shaped(c, x, "scaled", (int)ni, M2W_ONNX_FLOAT, X->rank, X->shape) : y;
		if (t1 < 0 || t2 < 0 || t3 < 0 || binary_x(c, (int)ni, "binary_op", B_SUB, x, mean, t1) < 0 ||
		    binary_x(c, (int)ni, "binary_op", B_MUL, t1, inv, t2) < 0 ||
		    binary_x(c, (int)ni, "binary_op", B_MUL, t2, w, t3) < 0)
			return -1;
		return b >= 0 ? binary_x(c, (int)ni, "binary_op", B_ADD, t3, b, y) : 0;
	}
	if (op_is(n, "BatchNormalization") && fin && n->ninputs == 5 && out_t(c, n, 1) < 0 && X->rank >= 2 &&
	    !aint(n, "training_mode", 0)) {
		/* (x − mean) / sqrt(var + eps) · scale + B, the [C] vectors viewed as [C, 1, ...] */
		int sc = in_t(c, n, 1), bb = in_t(c, n, 2), mu = in_t(c, n, 3), va = in_t(c, n, 4);
		int64_t C = X->shape[1], cs[MAXR];
		int r = X->rank - 1;
		for (int i = 0; i < r; i++)
			cs[i] = i ? 1 : C;
		if (sc < 0 || bb < 0 || mu < 0 || va < 0)
			return stub(c, (int)ni, stubf(n, "an input is missing"));
		int eps = scalar_const(c, y, "eps", afloat(n, "epsilon", 1e-5));
		int ve = eps >= 0 ? temp_shaped(c, va, "plusEps", (int)ni, M2W_ONNX_FLOAT, 1, &C) : -1;
		int sd = ve >= 0 ? temp_shaped(c, va, "std", (int)ni, M2W_ONNX_FLOAT, 1, &C) : -1;
		if (sd < 0 || binary_x(c, (int)ni, "binary_op", B_ADD, va, eps, ve) < 0 ||
		    unary_op(c, (int)ni, 5, 0, 0, 0, ve, sd) < 0)
			return -1;
		int vm = view_t(c, mu, "C11", (int)ni, r, cs), vs = view_t(c, sd, "C11", (int)ni, r, cs);
		int vsc = view_t(c, sc, "C11", (int)ni, r, cs), vb = view_t(c, bb, "C11", (int)ni, r, cs);
		int t1 = temp_shaped(c, x, "centred", (int)ni, M2W_ONNX_FLOAT, X->rank, X->shape);
		int t2 = temp_shaped(c, x, "normed", (int)ni, M2W_ONNX_FLOAT, X->rank, X->shape);
		int t3 = temp_shaped(c, x, "scaled", (int)ni, M2W_ONNX_FLOAT, X->rank, X->shape);
		if (vm < 0 || vs < 0 || vsc < 0 || vb < 0 || t1 < 0 || t2 < 0 || t3 < 0 ||
		    binary_x(c, (int)ni, "binary_op", B_SUB, x, vm, t1) < 0 ||
		    binary_x(c, (int)ni, "binary_op", B_DIV, t1, vs, t2) < 0 ||
		    binary_x(c, (int)ni, "binary_op", B_MUL, t2, vsc, t3) < 0)
			return -1;
		return binary_x(c, (int)ni, "binary_op", B_ADD, t3, vb, y);
	}
	int64_t xs[MAXR];
	strides_of(X, xs);
	if (op_is(n, "Slice")) {
		int64_t st[MAXR], en[MAXR], ax[MAXR], sp[MAXR], steps[MAXR], base = 0, ss[MAXR];
		int ns, ne, na, nst;
		if (c->opset < 10) {
			ns = aints(n, "starts", st, MAXR);
			ne = aints(n, "ends", en, MAXR);
			na = aints(n, "axes", ax, MAXR);
			nst = -1;
		} else {
			ns = ints_of(c, n, 1, NULL, st, MAXR);
			ne = ints_of(c, n, 2, NULL, en, MAXR);
			na = ints_of(c, n, 3, NULL, ax, MAXR);
			nst = ints_of(c, n, 4, NULL, sp, MAXR);
		}
		if (ns < 0 || ne != ns || na == -2 || nst == -2 || (na >= 0 && na != ns) || (nst >= 0 && nst != ns))
			return stub(c, (int)ni, stubf(n, "starts / ends / axes / steps are not constants (pass --const)"));
		for (int i = 0; i < X->rank; i++)
			steps[i] = 1;
		for (int i = 0; i < ns; i++) {
			int a = norm_axis(na >= 0 ? ax[i] : i, X->rank);
			int64_t dim = X->shape[a], s = st[i], step = nst >= 0 ? sp[i] : 1;
			if (a < 0 || a >= X->rank || step == 0)
				return stub(c, (int)ni, stubf(n, "bad axes or steps"));
			if (s < 0)
				s += dim;
			if (step > 0)
				s = s < 0 ? 0 : s > dim ? dim : s;
			else
				s = s < 0 ? 0 : s > dim - 1 ? dim - 1 : s;
			steps[a] = step;
			base += s * xs[a];
		}
		for (int i = 0; i < X->rank; i++)
			ss[i] = steps[i] * xs[i];
		return count_of(Y) ? copy_x(c, (int)ni, x, y, Y->rank, Y->shape, ss, NULL, count_of(Y) ? base : 0, 0, 0) : 0;
	}
	if (op_is(n, "Split")) {
		int ax = norm_axis(aint(n, "axis", 0), X->rank);
		int64_t at = 0;
		for (size_t i = 0; i < n->noutputs; i++) {
			int o = out_t(c, n, i);
			if (o < 0)
				continue;
			if (c->t[o].rank != X->rank)
				return stub(c, (int)ni, stubf(n, "output rank differs"));
			if (count_of(&c->t[o]) && copy_x(c, (int)ni, x, o, X->rank, c->t[o].shape, xs, NULL, at * xs[ax], 0, 0) < 0)
				return -1;
			at += c->t[o].shape[ax];
		}
		return 0;
	}
	if (op_is(n, "Expand")) {
		int64_t bs[MAXR];
		bstrides(X, Y, bs);
		return copy_x(c, (int)ni, x, y, Y->rank, Y->shape, bs, NULL, 0, 0, 0);
	}
	if (op_is(n, "Tile") && Y->rank == X->rank)
		return copy_x(c, (int)ni, x, y, Y->rank, Y->shape, xs, X->shape, 0, 0, 0);
	if (op_is(n, "Trilu") && X->rank >= 2) {
		int64_t k = 0;
		if (w >= 0 && ints_of(c, n, 1, NULL, &k, 1) != 1)
			return stub(c, (int)ni, stubf(n, "k is not a constant (pass --const)"));
		return copy_x(c, (int)ni, x, y, Y->rank, Y->shape, xs, NULL, 0, aint(n, "upper", 1) ? 1 : 2, k);
	}
	if ((op_is(n, "DepthToSpace") || op_is(n, "SpaceToDepth")) && X->rank == 4) {
		int64_t bs = aint(n, "blocksize", 1), N = X->shape[0], C = X->shape[1], H = X->shape[2], W = X->shape[3];
		int64_t shape[6], st[6];
		if (op_is(n, "DepthToSpace")) {
			int64_t Co = C / (bs * bs), HW = H * W;
			bool crd = astr(n, "mode", "CRD");
			/* out [N, Co, H, bs, W, bs] <- in [N, bs, bs, Co, H, W] (DCR) or [N, Co, bs, bs, H, W] (CRD) */
			int64_t v[6] = {N, Co, H, bs, W, bs};
			int64_t s[6] = {C * HW, crd ? bs * bs * HW : HW, W, crd ? bs * HW : bs * Co * HW, 1,
				crd ? HW : Co * HW};
			memcpy(shape, v, sizeof v);
			memcpy(st, s, sizeof s);
		} else {
			/* out [N, bs, bs, C, H/bs, W/bs] <- in [N, C, H, W] */
			int64_t v[6] = {N, bs, bs, C, H / bs, W / bs};
			int64_t s[6] = {C * H * W, W, 1, H * W, bs * W, bs};
			memcpy(shape, v, sizeof v);
			memcpy(st, s, sizeof s);
		}
		return copy_x(c, (int)ni, x, y, 6, shape, st, NULL, 0, 0, 0);
	}
	if (op_is(n, "Shape") || op_is(n, "Size")) {
		uint64_t k = 0;
		double *v = malloc((MAXR + 1) * sizeof *v);
		if (!v)
			return -1;
		if (op_is(n, "Size")) {
			v[k++] = (double)count_of(X);
		} else {
			int64_t s = aint(n, "start", 0), e = aint(n, "end", X->rank);
			s = s < 0 ? s + X->rank : s;
			e = e < 0 ? e + X->rank : e;
			s = s < 0 ? 0 : s > X->rank ? X->rank : s;
			e = e < 0 ? 0 : e > X->rank ? X->rank : e;
			for (int64_t i = s; i < e; i++)
				v[k++] = (double)X->shape[i];
		}
		return fold(c, ni, y, M2W_ONNX_INT64, v, k);
	}
	if (op_is(n, "Range")) {
		int s = x, l = w, d = in_t(c, n, 2);
		if (l < 0 || d < 0 || !c->t[s].val || !c->t[l].val || !c->t[d].val)
			return stub(c, (int)ni, stubf(n, "start / limit / delta are not constants (pass --const for every input)"));
		double a = c->t[s].val[0], lim = c->t[l].val[0], dl = c->t[d].val[0];
		double cntd = ceil((lim - a) / dl);
		uint64_t cnt2 = cntd > 0 ? (uint64_t)cntd : 0;
		if (cnt2 != count_of(Y))
			return stub(c, (int)ni, stubf(n, "the range's length differs from the output's"));
		double *v = malloc((cnt2 ? cnt2 : 1) * sizeof *v);
		if (!v)
			return -1;
		for (uint64_t i = 0; i < cnt2; i++)
			v[i] = Y->dt == M2W_ONNX_FLOAT ? (double)(float)(a + (double)i * dl) : a + (double)i * dl;
		return fold(c, ni, y, Y->dt, v, cnt2);
	}
	if (op_is(n, "ConstantOfShape")) {
		const struct m2w_onnx_attr *va = attr(n, "value");
		double fill = 0;
		if (va && va->t) {
			struct ten tmp = {0};
			if (read_value(c, c->m, va->t, &tmp, 1) < 0)
				return -1;
			if (!tmp.val)
				return stub(c, (int)ni, stubf(n, "value of an unsupported type"));
			fill = tmp.val[0];
			free(tmp.val);
		}
		uint64_t cnt2 = count_of(Y);
		double *v = malloc((cnt2 ? cnt2 : 1) * sizeof *v);
		if (!v)
			return -1;
		for (uint64_t i = 0; i < cnt2; i++)
			v[i] = fill;
		return fold(c, ni, y, Y->dt, v, cnt2);
	}
	if (op_is(n, "EyeLike") && X->rank == 2) {
		uint64_t cnt2 = count_of(Y);
		int64_t k = aint(n, "k", 0);
		double *v = calloc(cnt2 ? cnt2 : 1, sizeof *v);
		if (!v)
			return -1;
		for (int64_t i = 0; i < Y->shape[0]; i++)
			if (i + k >= 0 && i + k < Y->shape[1])
				v[i * Y->shape[1] + i + k] = 1;
		return fold(c, ni, y, Y->dt, v, cnt2);
	}
	if (op_is(n, "Gather") && w >= 0 && !(fin && norm_axis(aint(n, "axis", 0), X->rank) == 0)) {
		int ax = norm_axis(aint(n, "axis", 0), X->rank);
		uint64_t outer = 1, inner = 1;
		for (int i = 0; i < X->rank; i++)
			if (i < ax)
				outer *= (uint64_t)X->shape[i];
			else if (i > ax)
				inner *= (uint64_t)X->shape[i];
		uint64_t cnt2 = count_of(Y);
		return dispatch(c, (int)ni, "gather",
			       fmt("{ n: %llu, mode: 0, outer: %llu, nIdx: %llu, inner: %llu, axisLen: %lld, rank: 1, axis: 0, "
				   "shape: [1, 1, 1, 1, 1, 1, 1, 1], strides: [0, 0, 0, 0, 0, 0, 0, 0] }",
				       (unsigned long long)cnt2, (unsigned long long)outer,
				       (unsigned long long)count_of(&c->t[w]), (unsigned long long)inner,
				       (long long)X->shape[ax]),
			       (cnt2 + 255) / 256, "x", x, "idx", w, "upd", w, "out", y, NULL)
			       ? 0
			       : -1;
	}
	if ((op_is(n, "GatherElements") || op_is(n, "ScatterElements") || op_is(n, "Scatter")) && w >= 0) {
		bool scatter = !op_is(n, "GatherElements"); /* Scatter: ScatterElements' opset 9 name */
		int ax = norm_axis(aint(n, "axis", 0), X->rank), u = in_t(c, n, 2);
		if (scatter && (u < 0 || (attr(n, "reduction") && !astr(n, "reduction", "none"))))
			return stub(c, (int)ni, stubf(n, "only reduction 'none' has a library shader"));
		const struct ten *I = &c->t[w];
		if (I->rank != X->rank)
			return stub(c, (int)ni, stubf(n, "indices of another rank"));
		if (scatter && copy_all(c, (int)ni, x, y) < 0)
			return -1;
		uint64_t cnt2 = count_of(I);
		struct sb p = {0};
		sbf(&p, "{ n: %llu, mode: %d, outer: 1, nIdx: 1, inner: 1, axisLen: %lld, rank: %d, axis: %d, shape: ",
			(unsigned long long)cnt2, scatter ? 2 : 1, (long long)X->shape[ax], X->rank, ax);
		dims8(&p, I->shape, I->rank, 1);
		sbf(&p, ", strides: ");
		dims8(&p, xs, X->rank, 0);
		sbf(&p, " }");
		if (p.oom)
			return -1;
		return dispatch(c, (int)ni, "gather", p.p, (cnt2 + 255) / 256, "x", x, "idx", w, "upd", scatter ? u : w,
			       "out", y, NULL)
			       ? 0
			       : -1;
	}
	if (op_is(n, "Compress") || op_is(n, "OneHot") || op_is(n, "GatherND")) {
		/* gather mode 0 with indices worked out here from constant inputs */
		bool onehot = op_is(n, "OneHot");
		const struct ten *I = onehot ? X : w >= 0 ? &c->t[w] : NULL;
		uint64_t outer = 1, inner = 1, axisLen = 0, nidx = 0;
		double *v = NULL;
		int data = x;
		if (!I || !I->val)
			return stub(c, (int)ni, stubf(n, onehot ? "indices are not constants (pass --const for every input)"
							: "indices / condition are not constants (pass --const)"));
		if (op_is(n, "Compress")) {
			const struct m2w_onnx_attr *aa = attr(n, "axis");
			int ax = aa ? norm_axis(aa->i, X->rank) : -1;
			axisLen = aa ? (uint64_t)X->shape[ax] : count_of(X);
			for (int i = 0; aa && i < X->rank; i++)
				*(i < ax ? &outer : &inner) *= i == ax ? 1 : (uint64_t)X->shape[i];
			if (!(v = malloc((I->nval ? I->nval : 1) * sizeof *v)))
				return -1;
			for (uint64_t i = 0; i < I->nval && i < axisLen; i++)
				if (I->val[i] != 0)
					v[nidx++] = (double)i;
		} else if (onehot) {
			int dt = w, vals = in_t(c, n, 2);
			if (dt < 0 || vals < 0 || !c->t[dt].val || count_of(&c->t[vals]) != 2)
				return stub(c, (int)ni, stubf(n, "depth is not a constant (pass --const)"));
			int64_t depth = (int64_t)c->t[dt].val[0];
			int ax = norm_axis(aint(n, "axis", -1), Y->rank);
			uint64_t in_n = 1;
			for (int i = ax; i < I->rank; i++)
				in_n *= (uint64_t)I->shape[i];
			nidx = count_of(Y);
			if (!(v = malloc((nidx ? nidx : 1) * sizeof *v)))
				return -1;
			for (uint64_t i = 0; i < nidx; i++) {
				uint64_t in = i % in_n, d = (i / in_n) % (uint64_t)depth, o = i / (in_n * (uint64_t)depth);
				double k = I->val[o * in_n + in];
				if (k < 0)
					k += (double)depth;
				v[i] = k == (double)d ? 1 : 0;
			}
			data = vals;
			axisLen = 2;
		} else {
			int b = (int)aint(n, "batch_dims", 0), k = (int)I->shape[I->rank - 1];
			if (I->rank < 1 || b + k > X->rank)
				return stub(c, (int)ni, stubf(n, "bad indices shape"));
			uint64_t B = 1, P = 1, T = count_of(I) / (uint64_t)(k ? k : 1), per;
			for (int i = 0; i < X->rank; i++)
				*(i < b ? &B : i < b + k ? &P : &inner) *= (uint64_t)X->shape[i];
			per = T / (B ? B : 1);
			axisLen = B * P;
			nidx = T;
			if (!(v = malloc((T ? T : 1) * sizeof *v)))
				return -1;
			for (uint64_t t = 0; t < T; t++) {
				double f = 0;
				for (int j = 0; j < k; j++) {
					double q = I->val[t * (uint64_t)k + (uint64_t)j];
					int64_t dim = X->shape[b + j];
					f = f * (double)dim + (q < 0 ? q + (double)dim : q);
				}
				v[t] = (double)(t / (per ? per : 1)) * (double)P + f;
			}
		}
		int idx = const_t(c, y, "indices", M2W_ONNX_INT64, v, nidx ? nidx : 1);
		if (idx < 0)
			return -1;
		if (nidx == 0)
			c->t[idx].val[0] = 0;
		uint64_t cnt2 = count_of(Y);
		if (cnt2 != outer * nidx * inner)
			return stub(c, (int)ni, stubf(n, "output size differs from the gathered size"));
		return dispatch(c, (int)ni, "gather",
			       fmt("{ n: %llu, mode: 0, outer: %llu, nIdx: %llu, inner: %llu, axisLen: %llu, rank: 1, axis: 0, "
				   "shape: [1, 1, 1, 1, 1, 1, 1, 1], strides: [0, 0, 0, 0, 0, 0, 0, 0] }",
				       (unsigned long long)cnt2, (unsigned long long)outer, (unsigned long long)nidx,
				       (unsigned long long)inner, (unsigned long long)axisLen),
			       (cnt2 + 255) / 256, "x", data, "idx", idx, "upd", idx, "out", y, NULL)
			       ? 0
			       : -1;
	}
	if ((op_is(n, "NegativeLogLikelihoodLoss") || op_is(n, "SoftmaxCrossEntropyLoss")) && fin && w >= 0 &&
	    X->rank >= 2) {
		/* loss = −input[n, target, d…] · weight[target] (0 where ignored): the picks are
		 * gathers at indices worked out from the constant target, then sum / mean */
		const struct ten *T = &c->t[w];
		int wt = in_t(c, n, 2), inp = x;
		if (!T->val)
			return stub(c, (int)ni, stubf(n, "target is not a constant (pass --const)"));
		uint64_t N = (uint64_t)X->shape[0], C = (uint64_t)X->shape[1], NC = N * C, D = count_of(X) / (NC ? NC : 1);
		uint64_t K = N * D;
		if (T->nval != K || K == 0)
			return stub(c, (int)ni, stubf(n, "target does not match the input"));
		if (op_is(n, "SoftmaxCrossEntropyLoss")) {
			/* log_softmax over the class axis first (the second output, when asked for) */
			bool red[MAXR] = {false};
			red[1] = true;
			inp = out_t(c, n, 1);
			if (inp < 0 && (inp = temp_shaped(c, x, "logProb", (int)ni, M2W_ONNX_FLOAT, X->rank, X->shape)) < 0)
				return -1;
			if (reduce_x(c, (int)ni, 17, 0, 0, 0, x, inp, red) < 0)
				return -1;
		}
		const struct m2w_onnx_attr *ig = attr(n, "ignore_index");
		double *flat = malloc(K * sizeof *flat), *cls = malloc(K * sizeof *cls), *mask = malloc(K * sizeof *mask);
		if (!flat || !cls || !mask) {
			free(flat);
			free(cls);
			free(mask);
			return -1;
		}
		bool masked = false;
		for (uint64_t k = 0; k < K; k++) {
			int64_t t = (int64_t)T->val[k];
			bool off = (ig && t == ig->i) || t < 0 || (uint64_t)t >= C;
			masked |= off;
			cls[k] = off ? 0 : (double)t;
			mask[k] = off ? 0 : 1;
			flat[k] = (double)(((k / D) * C + (uint64_t)cls[k]) * D + k % D);
		}
		int64_t k1 = (int64_t)K;
		int fi = const_t(c, y, "pick", M2W_ONNX_INT64, flat, K);
		int picked = fi >= 0 ? temp_shaped(c, y, "picked", (int)ni, M2W_ONNX_FLOAT, 1, &k1) : -1;
		int mk = picked >= 0 ? const_t(c, y, "mask", M2W_ONNX_FLOAT, mask, K) : -1;
		if (mk < 0) {
			if (fi < 0 || picked < 0)
				free(mask); /* const_t frees what it was given */
			free(cls);
			return -1;
		}
		if (!dispatch(c, (int)ni, "gather",
			    fmt("{ n: %llu, mode: 0, outer: 1, nIdx: %llu, inner: 1, axisLen: %llu, rank: 1, axis: 0, "
				"shape: [1, 1, 1, 1, 1, 1, 1, 1], strides: [0, 0, 0, 0, 0, 0, 0, 0] }",
				    (unsigned long long)K, (unsigned long long)K, (unsigned long long)count_of(X)),
			    (K + 255) / 256, "x", inp, "idx", fi, "upd", fi, "out", picked, NULL)) {
			free(cls);
			return -1;
		}
		/* per-element weights: weight[target] · mask, or the mask alone */
		int wm = mk;
		if (wt >= 0) {
			int ci = const_t(c, y, "class", M2W_ONNX_INT64, cls, K);
			int wg = ci >= 0 ? temp_shaped(c, y, "classWeight", (int)ni, M2W_ONNX_FLOAT, 1, &k1) : -1;
			if (wg < 0 ||
			    !dispatch(c, (int)ni, "gather",
				    fmt("{ n: %llu, mode: 0, outer: 1, nIdx: %llu, inner: 1, axisLen: %llu, rank: 1, axis: 0, "
					"shape: [1, 1, 1, 1, 1, 1, 1, 1], strides: [0, 0, 0, 0, 0, 0, 0, 0] }",
					    (unsigned long long)K, (unsigned long long)K, (unsigned long long)C),
				    (K + 255) / 256, "x", wt, "idx", ci, "upd", ci, "out", wg, NULL))
				return -1;
			wm = wg;
			if (masked) {
				if ((wm = temp_shaped(c, y, "weight", (int)ni, M2W_ONNX_FLOAT, 1, &k1)) < 0 ||
				    binary_x(c, (int)ni, "binary_op", B_MUL, wg, mk, wm) < 0)
					return -1;
			}
		} else {
			free(cls);
		}
		int prod = temp_shaped(c, y, "weighted", (int)ni, M2W_ONNX_FLOAT, 1, &k1);
		if (prod < 0 || binary_x(c, (int)ni, "binary_op", B_MUL, picked, wm, prod) < 0)
			return -1;
		bool all[MAXR] = {true};
		if (astr(n, "reduction", "none"))
			return unary_op(c, (int)ni, 2, 0, 0, 0, prod, y);
		int64_t one = 1;
		int s = temp_shaped(c, y, "sum", (int)ni, M2W_ONNX_FLOAT, 1, &one);
		if (s < 0 || reduce_x(c, (int)ni, 0, 0, 0, 0, prod, s, all) < 0)
			return -1;
		if (astr(n, "reduction", "sum"))
			return unary_op(c, (int)ni, 2, 0, 0, 0, s, y);
		int ws = temp_shaped(c, y, "weightSum", (int)ni, M2W_ONNX_FLOAT, 1, &one);
		int q = ws >= 0 ? temp_shaped(c, y, "mean", (int)ni, M2W_ONNX_FLOAT, 1, &one) : -1;
		if (q < 0 || reduce_x(c, (int)ni, 0, 0, 0, 0, wm, ws, all) < 0 ||
		    binary_x(c, (int)ni, "binary_op", B_DIV, s, ws, q) < 0)
			return -1;
		return unary_op(c, (int)ni, 2, 0, 0, 0, q, y);
	}
	if ((op_is(n, "QuantizeLinear") || op_is(n, "DequantizeLinear")) && w >= 0) {
		/* per tensor or per axis (the [C] scale / zero point viewed as [C, 1, …]) */
		bool quant = op_is(n, "QuantizeLinear");
		int zp = in_t(c, n, 2), out_f = quant ? -1 : y;
		int32_t qdt = quant ? (zp >= 0 ? c->t[zp].dt : M2W_ONNX_UINT8) : X->dt;
		if (kind_of(qdt) == 0 || (quant && !fin) || (!quant && kx == 0) ||
		    (qdt != M2W_ONNX_UINT8 && qdt != M2W_ONNX_INT8))
			return stub(c, (int)ni, stubf(n, "only int8 / uint8 quantisation has a library shader"));
		int ax = norm_axis(aint(n, "axis", 1), X->rank), sc = w;
		int64_t vs[MAXR];
		int vr = 0;
		if (count_of(&c->t[w]) > 1) {
			vr = X->rank - ax;
			for (int i = 0; i < vr; i++)
				vs[i] = i ? 1 : X->shape[ax];
			if ((sc = view_t(c, w, "axis", (int)ni, vr, vs)) < 0)
				return -1;
		}
		int zf = -1;
		if (zp >= 0) {
			int z = as_float(c, (int)ni, zp, "f32");
			if (z < 0 || (vr && (z = view_t(c, z, "axis", (int)ni, vr, vs)) < 0))
				return -1;
			zf = z;
		}
		if (!quant) {
			int xf = as_float(c, (int)ni, x, "f32");
			int t1 = zf >= 0 ? temp_shaped(c, x, "centred", (int)ni, M2W_ONNX_FLOAT, X->rank, X->shape) : xf;
			if (xf < 0 || t1 < 0 || (zf >= 0 && binary_x(c, (int)ni, "binary_op", B_SUB, xf, zf, t1) < 0))
				return -1;
			return binary_x(c, (int)ni, "binary_op", B_MUL, t1, sc, out_f);
		}
		int t1 = temp_shaped(c, x, "scaled", (int)ni, M2W_ONNX_FLOAT, X->rank, X->shape);
		int t2 = t1 >= 0 ? temp_shaped(c, x, "rounded", (int)ni, M2W_ONNX_FLOAT, X->rank, X->shape) : -1;
		int t3 = t2 >= 0 ? temp_shaped(c, x, "shifted", (int)ni, M2W_ONNX_FLOAT, X->rank, X->shape) : -1;
		if (t3 < 0 || binary_x(c, (int)ni, "binary_op", B_DIV, x, sc, t1) < 0 ||
		    unary_op(c, (int)ni, 9, 0, 0, 0, t1, t2) < 0 ||
		    (zf >= 0 && binary_x(c, (int)ni, "binary_op", B_ADD, t2, zf, t3) < 0))
			return -1;
		bool u8 = qdt == M2W_ONNX_UINT8;
		if (unary_op(c, (int)ni, U_CLIP, u8 ? 0 : -128, u8 ? 255 : 127, 0, zf >= 0 ? t3 : t2, t1) < 0)
			return -1;
		return typed(c, (int)ni, 26, 0, kind_of(Y->dt), t1, -1, -1, y);
	}
	if (op_is(n, "MatMulInteger") && w >= 0 && X->rank == 2 && c->t[w].rank == 2) {
		/* through f32 (exact while the sums stay below 2^24), the result cast to int32 */
		int za = in_t(c, n, 2), zb = in_t(c, n, 3), a = as_float(c, (int)ni, x, "f32");
		int b = a >= 0 ? as_float(c, (int)ni, w, "f32") : -1;
		if ((za >= 0 && count_of(&c->t[za]) != 1) || (zb >= 0 && count_of(&c->t[zb]) != 1))
			return stub(c, (int)ni, stubf(n, "only per-tensor zero points have a library shader"));
		if (b < 0)
			return -1;
		if (za >= 0) {
			int zf = as_float(c, (int)ni, za, "f32"), t = temp_shaped(c, x, "centred", (int)ni, M2W_ONNX_FLOAT, 2, X->shape);
			if (zf < 0 || t < 0 || binary_x(c, (int)ni, "binary_op", B_SUB, a, zf, t) < 0)
				return -1;
			a = t;
		}
		if (zb >= 0) {
			int zf = as_float(c, (int)ni, zb, "f32"), t = temp_shaped(c, w, "centred", (int)ni, M2W_ONNX_FLOAT, 2, c->t[w].shape);
			if (zf < 0 || t < 0 || binary_x(c, (int)ni, "binary_op", B_SUB, b, zf, t) < 0)
				return -1;
			b = t;
		}
		int o = temp_shaped(c, y, "f32", (int)ni, M2W_ONNX_FLOAT, Y->rank, Y->shape);
		if (o < 0 || emit_matmul_into(c, ni, a, b, o, -1, -1) != 0)
			return -1;
		return typed(c, (int)ni, 26, 0, kind_of(Y->dt), o, -1, -1, y);
	}
	if (op_is(n, "ReverseSequence") && w >= 0 && X->rank >= 2) {
		/* gather with the flat source index of every output element (constant lengths) */
		const struct ten *L = &c->t[w];
		int ba = (int)aint(n, "batch_axis", 1), ta = (int)aint(n, "time_axis", 0);
		if (!L->val)
			return stub(c, (int)ni, stubf(n, "sequence_lens are not a constant (pass --const)"));
		uint64_t cnt2 = count_of(X);
		double *v = malloc((cnt2 ? cnt2 : 1) * sizeof *v);
		if (!v)
			return -1;
		for (uint64_t i = 0; i < cnt2; i++) {
			int64_t co[MAXR];
			uint64_t rem = i;
			for (int d = X->rank - 1; d >= 0; d--) {
				co[d] = (int64_t)(rem % (uint64_t)X->shape[d]);
				rem /= (uint64_t)X->shape[d];
			}
			int64_t len = (int64_t)L->val[co[ba]];
			if (co[ta] < len)
				co[ta] = len - 1 - co[ta];
			int64_t f = 0;
			for (int d = 0; d < X->rank; d++)
				f = f * X->shape[d] + co[d];
			v[i] = (double)f;
		}
		int idx = const_t(c, y, "source", M2W_ONNX_INT64, v, cnt2 ? cnt2 : 1);
		return idx < 0 ? -1
			       : dispatch(c, (int)ni, "gather",
					 fmt("{ n: %llu, mode: 0, outer: 1, nIdx: %llu, inner: 1, axisLen: %llu, rank: 1, axis: 0, "
					     "shape: [1, 1, 1, 1, 1, 1, 1, 1], strides: [0, 0, 0, 0, 0, 0, 0, 0] }",
						 (unsigned long long)cnt2, (unsigned long long)cnt2, (unsigned long long)cnt2),
					 (cnt2 + 255) / 256, "x", x, "idx", idx, "upd", idx, "out", y, NULL)
			       ? 0
			       : -1;
	}
	if (op_is(n, "HannWindow") || op_is(n, "HammingWindow") || op_is(n, "BlackmanWindow")) {
		/* a generator: its values depend only on the constant size, folded like Range */
		if (!X->val)
			return stub(c, (int)ni, stubf(n, "size is not a constant (pass --const)"));
		uint64_t cnt2 = count_of(Y);
		double N = (double)cnt2 - (aint(n, "periodic", 1) ? 0 : 1), pi = 3.14159265358979323846;
		double *v = malloc((cnt2 ? cnt2 : 1) * sizeof *v);
		if (!v)
			return -1;
		for (uint64_t i = 0; i < cnt2; i++) {
			double t = 2 * pi * (double)i / N;
			v[i] = op_is(n, "HannWindow")	   ? 0.5 - 0.5 * cos(t)
			       : op_is(n, "HammingWindow") ? 25.0 / 46 - 21.0 / 46 * cos(t)
							   : 0.42 - 0.5 * cos(t) + 0.08 * cos(2 * t);
		}
		return fold(c, ni, y, Y->dt, v, cnt2);
	}
	if (op_is(n, "ConvInteger") && w >= 0 && X->rank == 4 && c->t[w].rank == 4) {
		/* through f32 like MatMulInteger: (x − x_zero_point) ⊛ (w − w_zero_point), cast to int32 */
		int zx = in_t(c, n, 2), zw = in_t(c, n, 3), a = as_float(c, (int)ni, x, "f32");
		int b = a >= 0 ? as_float(c, (int)ni, w, "f32") : -1;
		const struct ten *W = &c->t[w];
		if ((zx >= 0 && count_of(&c->t[zx]) != 1) || (zw >= 0 && count_of(&c->t[zw]) != 1))
			return stub(c, (int)ni, stubf(n, "only per-tensor zero points have a library shader"));
		if (b < 0)
			return -1;
		if (zx >= 0) {
			int zf = as_float(c, (int)ni, zx, "f32"), t = temp_shaped(c, x, "centred", (int)ni, M2W_ONNX_FLOAT, 4, X->shape);
			if (zf < 0 || t < 0 || binary_x(c, (int)ni, "binary_op", B_SUB, a, zf, t) < 0)
				return -1;
			a = t;
		}
		if (zw >= 0) {
			int zf = as_float(c, (int)ni, zw, "f32"), t = temp_shaped(c, w, "centred", (int)ni, M2W_ONNX_FLOAT, 4, W->shape);
			if (zf < 0 || t < 0 || binary_x(c, (int)ni, "binary_op", B_SUB, b, zf, t) < 0)
				return -1;
			b = t;
		}
		struct spatial sp;
		int64_t kernel[2] = {W->shape[2], W->shape[3]};
		spatial_of(n, X, kernel, 2, &sp);
		int o = temp_shaped(c, y, "f32", (int)ni, M2W_ONNX_FLOAT, Y->rank, Y->shape);
		if (o < 0 || !dispatch(c, (int)ni, "conv2d",
				   fmt("{ N: %lld, Cin: %lld, H: %lld, W: %lld, Cout: %lld, OH: %lld, OW: %lld, KH: %lld, KW: %lld, "
				       "strideH: %lld, strideW: %lld, dilationH: %lld, dilationW: %lld, padTop: %lld, padLeft: %lld, "
				       "groups: %lld, hasBias: 0, activation: 0 }",
					   (long long)X->shape[0], (long long)X->shape[1], (long long)X->shape[2],
					   (long long)X->shape[3], (long long)W->shape[0], (long long)Y->shape[2],
					   (long long)Y->shape[3], (long long)sp.k[0], (long long)sp.k[1], (long long)sp.s[0],
					   (long long)sp.s[1], (long long)sp.dil[0], (long long)sp.dil[1], (long long)sp.pb[0],
					   (long long)sp.pb[1], (long long)aint(n, "group", 1)),
				   (count_of(Y) + 255) / 256, "x", a, "w", b, "bias", b, "y", o, NULL))
			return -1;
		return typed(c, (int)ni, 26, 0, kind_of(Y->dt), o, -1, -1, y);
	}
	if (op_is(n, "DynamicQuantizeLinear") && fin && out_t(c, n, 1) >= 0 && out_t(c, n, 2) >= 0) {
		/* scale = (max(0, max x) − min(0, min x)) / 255, zero point = saturate(round(−min / scale)),
		 * y = saturate(round(x / scale) + zero point), all as uint8 */
		int ys = out_t(c, n, 1), yz = out_t(c, n, 2);
		bool all[MAXR];
		for (int i = 0; i < MAXR; i++)
			all[i] = true;
		int s[8];
		static const char *const NAMES[8] = {"min", "max", "min0", "max0", "range", "negMinOverScale", "zero", "zeroClipped"};
		for (int i = 0; i < 8; i++)
			if ((s[i] = temp_shaped(c, y, NAMES[i], (int)ni, M2W_ONNX_FLOAT, 0, NULL)) < 0)
				return -1;
		int k0 = scalar_const(c, y, "zero", 0), k255 = scalar_const(c, y, "qmax", 255);
		int t1 = temp_shaped(c, x, "scaled", (int)ni, M2W_ONNX_FLOAT, X->rank, X->shape);
		int t2 = t1 >= 0 ? temp_shaped(c, x, "rounded", (int)ni, M2W_ONNX_FLOAT, X->rank, X->shape) : -1;
		if (k0 < 0 || k255 < 0 || t2 < 0 || reduce_x(c, (int)ni, 3, 0, 0, 0, x, s[0], all) < 0 ||
		    reduce_x(c, (int)ni, 2, 0, 0, 0, x, s[1], all) < 0 ||
		    binary_x(c, (int)ni, "binary_op", B_MIN, s[0], k0, s[2]) < 0 ||
		    binary_x(c, (int)ni, "binary_op", B_MAX, s[1], k0, s[3]) < 0 ||
		    binary_x(c, (int)ni, "binary_op", B_SUB, s[3], s[2], s[4]) < 0 ||
		    binary_x(c, (int)ni, "binary_op", B_DIV, s[4], k255, ys) < 0 ||
		    binary_x(c, (int)ni, "binary_op", B_DIV, s[2], ys, s[5]) < 0 ||
		    unary_op(c, (int)ni, 2, 0, 0, 0, s[5], s[6]) < 0 || unary_op(c, (int)ni, 9, 0, 0, 0, s[6], s[5]) < 0 ||
		    unary_op(c, (int)ni, U_CLIP, 0, 255, 0, s[5], s[7]) < 0 ||
		    typed(c, (int)ni, 26, 0, 2, s[7], -1, -1, yz) < 0 ||
		    binary_x(c, (int)ni, "binary_op", B_DIV, x, ys, t1) < 0 || unary_op(c, (int)ni, 9, 0, 0, 0, t1, t2) < 0 ||
		    binary_x(c, (int)ni, "binary_op", B_ADD, t2, s[7], t1) < 0 ||
		    unary_op(c, (int)ni, U_CLIP, 0, 255, 0, t1, t2) < 0)
			return -1;
		return typed(c, (int)ni, 26, 0, 2, t2, -1, -1, y);
	}
	if ((op_is(n, "QLinearMatMul") || op_is(n, "QLinearConv")) && n->ninputs >= 8) {
		/* dequantize both operands, matmul / conv2d in f32, quantize the result */
		int t[8];
		for (int i = 0; i < 8; i++)
			t[i] = in_t(c, n, (size_t)i);
		for (int i = 0; i < 8; i++)
			if (t[i] < 0 || (i != 0 && i != 3 && count_of(&c->t[t[i]]) != 1))
				return stub(c, (int)ni, stubf(n, "only per-tensor scales and zero points have a library shader"));
		if ((Y->dt != M2W_ONNX_UINT8 && Y->dt != M2W_ONNX_INT8) || in_t(c, n, 8) >= 0)
			return stub(c, (int)ni, stubf(n, "only 8-bit results without a bias have a library shader"));
		int a = dequant(c, (int)ni, t[0], t[1], t[2]), b = a >= 0 ? dequant(c, (int)ni, t[3], t[4], t[5]) : -1;
		int o = b >= 0 ? temp_shaped(c, y, "f32", (int)ni, M2W_ONNX_FLOAT, Y->rank, Y->shape) : -1;
		if (o < 0)
			return -1;
		if (op_is(n, "QLinearMatMul")) {
			int rc = emit_matmul_into(c, ni, a, b, o, -1, -1);
			if (rc != 0)
				return rc > 0 ? stub(c, (int)ni, stubf(n, "mixed batch broadcasting")) : -1;
		} else {
			const struct ten *W = &c->t[t[3]];
			if (X->rank != 4 || W->rank != 4)
				return stub(c, (int)ni, stubf(n, "only 2-D convolution has a library shader"));
			struct spatial sp;
			int64_t kernel[2] = {W->shape[2], W->shape[3]};
			spatial_of(n, X, kernel, 2, &sp);
			if (!dispatch(c, (int)ni, "conv2d",
				    fmt("{ N: %lld, Cin: %lld, H: %lld, W: %lld, Cout: %lld, OH: %lld, OW: %lld, KH: %lld, KW: %lld, "
					"strideH: %lld, strideW: %lld, dilationH: %lld, dilationW: %lld, padTop: %lld, padLeft: %lld, "
					"groups: %lld, hasBias: 0, activation: 0 }",
					    (long long)X->shape[0], (long long)X->shape[1], (long long)X->shape[2],
					    (long long)X->shape[3], (long long)W->shape[0], (long long)Y->shape[2],
					    (long long)Y->shape[3], (long long)sp.k[0], (long long)sp.k[1], (long long)sp.s[0],
					    (long long)sp.s[1], (long long)sp.dil[0], (long long)sp.dil[1], (long long)sp.pb[0],
					    (long long)sp.pb[1], (long long)aint(n, "group", 1)),
				    (count_of(Y) + 255) / 256, "x", a, "w", b, "bias", b, "y", o, NULL))
				return -1;
		}
		return requant(c, (int)ni, o, t[6], t[7], y);
	}
	if (op_is(n, "MaxUnpool") && fin && w >= 0) {
		/* zeros (one constant 0 broadcast by strided_copy), then the values scattered to
		 * their flat MaxPool indices */
		int64_t total = (int64_t)count_of(Y), zero_st = 0, ni1 = (int64_t)count_of(&c->t[w]);
		int z = scalar_const(c, y, "zero", 0);
		if (z < 0 || copy_x(c, (int)ni, z, y, 1, &total, &zero_st, NULL, 0, 0, 0) < 0)
			return -1;
		if (ni1 != (int64_t)count_of(X))
			return stub(c, (int)ni, stubf(n, "indices do not match the input"));
		int idx = w;
		if (in_t(c, n, 2) >= 0) {
			/* indices count in the default unpooled shape ((in − 1) · stride + kernel − pads):
			 * re-flatten them into the requested output shape */
			int64_t k[MAXR], st[MAXR], pads[2 * MAXR] = {0}, def[MAXR];
			int nd = X->rank - 2;
			const struct ten *I = &c->t[w];
			if (!I->val || nd < 1 || aints(n, "kernel_shape", k, MAXR) != nd || Y->rank != X->rank)
				return stub(c, (int)ni, stubf(n, "indices are not a constant (pass --const)"));
			if (aints(n, "strides", st, MAXR) != nd)
				for (int i = 0; i < nd; i++)
					st[i] = 1;
			aints(n, "pads", pads, 2 * MAXR);
			def[0] = X->shape[0];
			def[1] = X->shape[1];
			for (int i = 0; i < nd; i++)
				def[2 + i] = (X->shape[2 + i] - 1) * st[i] + k[i] - pads[i] - pads[nd + i];
			double *v = malloc((size_t)ni1 * sizeof *v);
			if (!v)
				return -1;
			for (int64_t i = 0; i < ni1; i++) {
				int64_t rem = (int64_t)I->val[i], co[MAXR], f = 0;
				for (int d = X->rank - 1; d >= 0; d--) {
					co[d] = rem % def[d];
					rem /= def[d];
				}
				for (int d = 0; d < Y->rank; d++)
					f = f * Y->shape[d] + co[d];
				v[i] = (double)f;
			}
			if ((idx = const_t(c, y, "outputIndices", M2W_ONNX_INT64, v, (uint64_t)ni1)) < 0)
				return -1;
		}
		struct sb p = {0};
		sbf(&p, "{ n: %lld, mode: 2, outer: 1, nIdx: 1, inner: 1, axisLen: %lld, rank: 1, axis: 0, shape: ", (long long)ni1,
			(long long)total);
		dims8(&p, &ni1, 1, 1);
		sbf(&p, ", strides: [1, 0, 0, 0, 0, 0, 0, 0] }");
		if (p.oom)
			return -1;
		return dispatch(c, (int)ni, "gather", p.p, ((uint64_t)ni1 + 255) / 256, "x", x, "idx", idx, "upd", x, "out", y, NULL)
			       ? 0
			       : -1;
	}
	if (op_is(n, "DFT") && fin && X->rank >= 3 && in_t(c, n, 1) < 0 && c->opset >= 17) {
		/* a matmul with the constant DFT matrix: x as [outer, n, inner, c] moved to
		 * [outer, n·c, inner], M [2m, n·c] times it, [outer, m, 2, inner] moved back */
		int ax = norm_axis(aint(n, "axis", 1), X->rank), inv = (int)aint(n, "inverse", 0);
		int64_t cc = X->shape[X->rank - 1], N = X->shape[ax], outer = 1, inner = 1;
		int64_t m = aint(n, "onesided", 0) ? N / 2 + 1 : N;
		if (ax == X->rank - 1 || (cc != 1 && cc != 2) || Y->shape[ax] != m)
			return stub(c, (int)ni, stubf(n, "axis / shape has no library lowering"));
		for (int i = 0; i < X->rank - 1; i++)
			if (i < ax)
				outer *= X->shape[i];
			else if (i > ax)
				inner *= X->shape[i];
		if ((uint64_t)(2 * m * N * cc) > M2W_SCAFFOLD_MAX_INLINE)
			return stub(c, (int)ni, stubf(n, "DFT matrix above the inline limit"));
		double *mv = malloc((size_t)(2 * m * N * cc) * sizeof *mv), pi = 3.14159265358979323846;
		if (!mv)
			return -1;
		for (int64_t k = 0; k < m; k++)
			for (int64_t j = 0; j < N; j++) {
				double th = 2 * pi * (double)((j * k) % N) / (double)N, s = inv ? 1.0 / (double)N : 1;
				double re = cos(th) * s, im = (inv ? 1 : -1) * sin(th) * s;
				/* (a + ib)(re + i im): real row a·re − b·im, imaginary row a·im + b·re */
				mv[(2 * k) * N * cc + j * cc] = re;
				mv[(2 * k + 1) * N * cc + j * cc] = im;
				if (cc == 2) {
					mv[(2 * k) * N * cc + j * cc + 1] = -im;
					mv[(2 * k + 1) * N * cc + j * cc + 1] = re;
				}
			}
		int M = const_t(c, y, "dftMatrix", M2W_ONNX_FLOAT, mv, (uint64_t)(2 * m * N * cc));
		if (M < 0)
			return -1;
		c->t[M].rank = 2;
		c->t[M].shape[0] = 2 * m;
		c->t[M].shape[1] = N * cc;
		int64_t xt[3] = {outer, N * cc, inner}, yo[3] = {outer, 2 * m, inner};
		int64_t st4[4] = {N * inner * cc, inner * cc, cc, 1};
		int64_t tsh[4] = {outer, N, cc, inner}, tst[4] = {st4[0], st4[1], st4[3], st4[2]};
		int t = temp_shaped(c, x, "signalRows", (int)ni, M2W_ONNX_FLOAT, 3, xt);
		int o = t >= 0 ? temp_shaped(c, y, "spectrumRows", (int)ni, M2W_ONNX_FLOAT, 3, yo) : -1;
		if (o < 0 || copy_x(c, (int)ni, x, t, 4, tsh, tst, NULL, 0, 0, 0) < 0 || emit_matmul_into(c, ni, M, t, o, -1, -1) != 0)
			return -1;
		/* [outer, m, 2, inner] -> [outer, m, inner, 2] */
		int64_t ysh[4] = {outer, m, inner, 2}, yst[4] = {2 * m * inner, 2 * inner, 1, inner};
		return copy_x(c, (int)ni, o, y, 4, ysh, yst, NULL, 0, 0, 0);
	}
	if (op_is(n, "GridSample") && fin && w >= 0 && X->rank == 4 && c->t[w].rank == 4 && Y->rank == 4) {
		int mode = astr(n, "mode", "nearest") ? 1 : astr(n, "mode", "bicubic") || astr(n, "mode", "cubic") ? 2 : 0;
		int pad = astr(n, "padding_mode", "border") ? 1 : astr(n, "padding_mode", "reflection") ? 2 : 0;
		return dispatch(c, (int)ni, "grid_sample",
			       fmt("{ N: %lld, C: %lld, H: %lld, W: %lld, Ho: %lld, Wo: %lld, mode: %d, padding: %d, alignCorners: %d }",
				       (long long)X->shape[0], (long long)X->shape[1], (long long)X->shape[2],
				       (long long)X->shape[3], (long long)Y->shape[2], (long long)Y->shape[3], mode, pad,
				       aint(n, "align_corners", 0) ? 1 : 0),
			       (count_of(Y) + 255) / 256, "x", x, "grid", w, "y", y, NULL)
			       ? 0
			       : -1;
	}
	if (op_is(n, "Einsum") && fin && n->ninputs >= 1 && n->ninputs <= 2) {
		/* each operand copied onto the union of its letters (repeated letters: the
		 * diagonal, summed strides; absent letters: stride 0), multiplied, summed over
		 * the letters the output drops, then moved into the output's order */
		const struct m2w_onnx_attr *eq = attr(n, "equation");
		char sub[3][MAXR + 1] = {{0}}, all[2 * MAXR + 1] = {0};
		int nsub = 0, len = 0, nall = 0, nell = 0;
		bool arrow = false;
		if (!eq || eq->s.n > 200)
			return stub(c, (int)ni, stubf(n, "equation missing"));
		for (size_t i = 0; i < eq->s.n; i++) {
			char ch = eq->s.p[i];
			if (ch == ' ')
				continue;
			if (ch == ',' || (ch == '-' && i + 1 < eq->s.n && eq->s.p[i + 1] == '>')) {
				if (ch == '-') {
					i++;
					arrow = true;
				}
				nsub++;
				len = 0;
				if (nsub > 2)
					return stub(c, (int)ni, stubf(n, "more than two operands"));
				continue;
			}
			if (ch == '.' && i + 2 < eq->s.n && eq->s.p[i + 1] == '.' && eq->s.p[i + 2] == '.') {
				i += 2;
				/* ellipsis dims are right-aligned: '0' + MAXR − k … '0' + MAXR − 1 */
				if (nsub >= (int)n->ninputs) {
					for (int k = 0; k < nell && len < MAXR; k++)
						sub[nsub][len++] = (char)('0' + MAXR - nell + k);
					continue;
				}
				const struct ten *T = &c->t[in_t(c, n, (size_t)nsub)];
				int letters = 0;
				for (size_t j = i + 1; j < eq->s.n && eq->s.p[j] != ',' && eq->s.p[j] != '-'; j++)
					letters += eq->s.p[j] != ' ';
				int k = T->rank - len - letters;
				if (k < 0 || k > MAXR)
					return stub(c, (int)ni, stubf(n, "bad ellipsis"));
				for (int q = 0; q < k && len < MAXR; q++)
					sub[nsub][len++] = (char)('0' + MAXR - k + q);
				nell = k > nell ? k : nell;
				continue;
			}
			if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')) || len >= MAXR)
				return stub(c, (int)ni, stubf(n, "equation not understood"));
			sub[nsub][len++] = ch;
		}
		int nin = (int)n->ninputs;
		if (nsub != (arrow ? nin : nin - 1))
			return stub(c, (int)ni, stubf(n, "operand count differs from the equation"));
		if (!arrow) {
			/* implicit output: the letters that appear once, in alphabetical order */
			int cnt[128] = {0};
			for (int k = 0; k < nin; k++)
				for (const char *q = sub[k]; *q; q++)
					cnt[(int)*q]++;
			len = 0;
			for (int q = 0; q < nell; q++)
				sub[2][len++] = (char)('0' + MAXR - nell + q);
			for (int ch = 'A'; ch <= 'z' && len < MAXR; ch++)
				if (cnt[ch] == 1)
					sub[2][len++] = (char)ch;
		}
		const char *osub = sub[arrow ? nin : 2];
		/* the union of letters, in order of first appearance; each one's size */
		int64_t usz[2 * MAXR];
		for (int k = 0; k < nin; k++) {
			const struct ten *T = &c->t[in_t(c, n, (size_t)k)];
			if ((int)strlen(sub[k]) != T->rank)
				return stub(c, (int)ni, stubf(n, "subscripts do not match an operand's rank"));
			for (int d = 0; d < T->rank; d++) {
				char *f = strchr(all, sub[k][d]);
				if (!f) {
					all[nall] = sub[k][d];
					usz[nall++] = T->shape[d];
				} else if (usz[f - all] == 1) {
					usz[f - all] = T->shape[d];
				}
			}
		}
		if (nall > MAXR)
			return stub(c, (int)ni, stubf(n, "more than 8 distinct letters"));
		int ops[2];
		for (int k = 0; k < nin; k++) {
			int t = in_t(c, n, (size_t)k);
			const struct ten *T = &c->t[t];
			int64_t ts[MAXR], st[MAXR] = {0};
			strides_of(T, ts);
			for (int d = 0; d < T->rank; d++)
				if (T->shape[d] != 1)
					st[strchr(all, sub[k][d]) - all] += ts[d];
			if ((ops[k] = temp_shaped(c, y, k ? "rhs" : "lhs", (int)ni, M2W_ONNX_FLOAT, nall, usz)) < 0 ||
			    copy_x(c, (int)ni, t, ops[k], nall, usz, st, NULL, 0, 0, 0) < 0)
				return -1;
		}
		int prod = ops[0];
		if (nin == 2) {
			if ((prod = temp_shaped(c, y, "product", (int)ni, M2W_ONNX_FLOAT, nall, usz)) < 0 ||
			    binary_x(c, (int)ni, "binary_op", B_MUL, ops[0], ops[1], prod) < 0)
				return -1;
		}
		bool red[MAXR] = {false};
		int64_t ksz[MAXR];
		char kept[MAXR + 1] = {0};
		int nk = 0;
		for (int d = 0; d < nall; d++) {
			red[d] = !strchr(osub, all[d]);
			if (!red[d]) {
				kept[nk] = all[d];
				ksz[nk++] = usz[d];
			}
		}
		int summed = prod;
		if (nk < nall && ((summed = temp_shaped(c, y, "summed", (int)ni, M2W_ONNX_FLOAT, nk, ksz)) < 0 ||
				  reduce_x(c, (int)ni, 0, 0, 0, 0, prod, summed, red) < 0))
			return -1;
		if ((int)strlen(osub) != nk || Y->rank != nk)
			return stub(c, (int)ni, stubf(n, "output subscripts not understood"));
		int64_t kst[MAXR], ost[MAXR];
		struct ten kt = {0};
		kt.rank = nk;
		memcpy(kt.shape, ksz, sizeof ksz);
		strides_of(&kt, kst);
		for (int d = 0; d < nk; d++) {
			const char *f = strchr(kept, osub[d]);
			if (!f)
				return stub(c, (int)ni, stubf(n, "output letter not among the inputs'"));
			ost[d] = kst[f - kept];
		}
		return copy_x(c, (int)ni, summed, y, nk, Y->shape, ost, NULL, 0, 0, 0);
	}
	if (op_is(n, "ScatterND") && w >= 0 && in_t(c, n, 2) >= 0) {
		const struct ten *I = &c->t[w];
		int u = in_t(c, n, 2), k = I->rank ? (int)I->shape[I->rank - 1] : 0;
		if (attr(n, "reduction") && !astr(n, "reduction", "none"))
			return stub(c, (int)ni, stubf(n, "only reduction 'none' has a library shader"));
		if (!I->val || k < 1 || k > X->rank)
			return stub(c, (int)ni, stubf(n, "indices are not a constant (pass --const)"));
		uint64_t inner = 1, T = count_of(I) / (uint64_t)k;
		for (int i = k; i < X->rank; i++)
			inner *= (uint64_t)X->shape[i];
		uint64_t tn = T * inner;
		double *v = malloc((tn ? tn : 1) * sizeof *v);
		if (!v)
			return -1;
		for (uint64_t t = 0; t < T; t++) {
			double f = 0;
			for (int j = 0; j < k; j++) {
				double q = I->val[t * (uint64_t)k + (uint64_t)j];
				f = f * (double)X->shape[j] + (q < 0 ? q + (double)X->shape[j] : q);
			}
			for (uint64_t i = 0; i < inner; i++)
				v[t * inner + i] = f;
		}
		int idx = const_t(c, y, "indices", M2W_ONNX_INT64, v, tn ? tn : 1);
		if (idx < 0 || copy_all(c, (int)ni, x, y) < 0)
			return -1;
		return dispatch(c, (int)ni, "gather",
			       fmt("{ n: %llu, mode: 2, outer: 1, nIdx: 1, inner: 1, axisLen: %llu, rank: 2, axis: 0, "
				   "shape: [%llu, %llu, 1, 1, 1, 1, 1, 1], strides: [%llu, 1, 0, 0, 0, 0, 0, 0] }",
				       (unsigned long long)(T * inner), (unsigned long long)(count_of(X) / inner),
				       (unsigned long long)T, (unsigned long long)inner, (unsigned long long)inner),
			       (T * inner + 255) / 256, "x", x, "idx", idx, "upd", u, "out", y, NULL)
			       ? 0
			       : -1;
	}
	if (op_is(n, "LRN") && fin && X->rank == 4) {
		/* x / (bias + alpha / size · Σ_window x²)^beta, the channel window sum as a 1×1
		 * convolution with a banded constant weight */
		int64_t C = X->shape[1], size = aint(n, "size", 1), lo = (size - 1) / 2, hi = size - 1 - lo;
		if ((uint64_t)(C * C) > M2W_SCAFFOLD_MAX_INLINE)
			return stub(c, (int)ni, stubf(n, "more channels than the inline band allows"));
		double *band = calloc((size_t)(C * C), sizeof *band);
		if (!band)
			return -1;
		for (int64_t o = 0; o < C; o++)
			for (int64_t i = o - lo; i <= o + hi; i++)
				if (i >= 0 && i < C)
					band[o * C + i] = 1;
		int wt = const_t(c, y, "band", M2W_ONNX_FLOAT, band, (uint64_t)(C * C));
		if (wt < 0)
			return -1;
		c->t[wt].rank = 4;
		c->t[wt].shape[0] = c->t[wt].shape[1] = C;
		c->t[wt].shape[2] = c->t[wt].shape[3] = 1;
		int sq = temp_shaped(c, x, "sq", (int)ni, M2W_ONNX_FLOAT, 4, X->shape);
		int sum = sq >= 0 ? temp_shaped(c, x, "windowSum", (int)ni, M2W_ONNX_FLOAT, 4, X->shape) : -1;
		int sc = sum >= 0 ? temp_shaped(c, x, "scaled", (int)ni, M2W_ONNX_FLOAT, 4, X->shape) : -1;
		int dn = sc >= 0 ? temp_shaped(c, x, "denominator", (int)ni, M2W_ONNX_FLOAT, 4, X->shape) : -1;
		int ka = scalar_const(c, y, "alphaOverSize", afloat(n, "alpha", 1e-4) / (double)size);
		int kb = scalar_const(c, y, "bias", afloat(n, "bias", 1.0)), ke = scalar_const(c, y, "beta", afloat(n, "beta", 0.75));
		if (dn < 0 || ka < 0 || kb < 0 || ke < 0 || binary_x(c, (int)ni, "binary_op", B_MUL, x, x, sq) < 0)
			return -1;
		struct step *s = dispatch(c, (int)ni, "conv2d",
			fmt("{ N: %lld, Cin: %lld, H: %lld, W: %lld, Cout: %lld, OH: %lld, OW: %lld, KH: 1, KW: 1, strideH: 1, "
			    "strideW: 1, dilationH: 1, dilationW: 1, padTop: 0, padLeft: 0, groups: 1, hasBias: 0, activation: 0 }",
				(long long)X->shape[0], (long long)C, (long long)X->shape[2], (long long)X->shape[3], (long long)C,
				(long long)X->shape[2], (long long)X->shape[3]),
			(count_of(X) + 255) / 256, "x", sq, "w", wt, "bias", wt, "y", sum, NULL);
		if (!s || binary_x(c, (int)ni, "binary_op", B_MUL, sum, ka, sc) < 0 ||
		    binary_x(c, (int)ni, "binary_op", B_ADD, sc, kb, sum) < 0 ||
		    binary_x(c, (int)ni, "binary_op", B_POW, sum, ke, dn) < 0)
			return -1;
		return binary_x(c, (int)ni, "binary_op", B_DIV, x, dn, y);
	}
	return 1;
}

/* Output types and shapes of the ops on 32-bit words (reduce, slice, gather, ...). */
static void infer_words(struct ctx *c, const struct m2w_onnx_node *n, struct ten *x, struct ten *y, bool set_dt)
{
	static const char *const BOOLS[] = {
		"Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or", "Xor", "Not", "IsNaN", "IsInf",
	};
	int wi = in_t(c, n, 1);
	struct ten *w = wi >= 0 ? &c->t[wi] : NULL;
	if (set_dt && in_list(n, BOOLS, sizeof BOOLS / sizeof BOOLS[0]))
		y->dt = M2W_ONNX_BOOL;
	if (set_dt && op_is(n, "Where") && w)
		y->dt = w->dt;
	if (set_dt && (op_is(n, "Shape") || op_is(n, "Size") || op_is(n, "ArgMax") || op_is(n, "ArgMin")))
		y->dt = M2W_ONNX_INT64;
	if (y->known)
		return;
	bool red[MAXR] = {false}, noop = false, isred = op_is(n, "ArgMax") || op_is(n, "ArgMin");
	if (isred)
		red[norm_axis(aint(n, "axis", 0), x->rank) % (x->rank ? x->rank : 1)] = true;
	for (size_t i = 0; i < sizeof REDUCE_OPS / sizeof REDUCE_OPS[0]; i++)
		if (op_is(n, REDUCE_OPS[i].op)) {
			if (reduce_axes(c, n, x->rank, red, &noop) < 0)
				return;
			isred = true;
		}
	if (isred) {
		int r = 0;
		bool keep = aint(n, "keepdims", 1) != 0;
		for (int i = 0; i < x->rank; i++)
			if (noop || !red[i])
				y->shape[r++] = x->shape[i];
			else if (keep)
				y->shape[r++] = 1;
		y->rank = r;
		y->known = true;
	} else if (op_is(n, "Shape") || op_is(n, "Size")) {
		int64_t s = aint(n, "start", 0), e = aint(n, "end", x->rank);
		s = s < 0 ? s + x->rank : s;
		e = e < 0 ? e + x->rank : e;
		s = s < 0 ? 0 : s > x->rank ? x->rank : s;
		e = e < 0 ? 0 : e > x->rank ? x->rank : e;
		y->rank = op_is(n, "Size") ? 0 : 1;
		y->shape[0] = e > s ? e - s : 0;
		y->known = true;
	} else if (op_is(n, "Gather") && w && x->rank + w->rank - 1 <= MAXR) {
		int ax = norm_axis(aint(n, "axis", 0), x->rank), r = 0;
		for (int i = 0; i < ax; i++)
			y->shape[r++] = x->shape[i];
		for (int i = 0; i < w->rank; i++)
			y->shape[r++] = w->shape[i];
		for (int i = ax + 1; i < x->rank; i++)
			y->shape[r++] = x->shape[i];
		y->rank = r;
		y->known = true;
	} else if ((op_is(n, "Expand") || op_is(n, "Tile")) && w && w->val && w->nval <= MAXR) {
		struct ten s = {0};
		s.rank = (int)w->nval;
		for (int i = 0; i < s.rank; i++)
			s.shape[i] = ival(w, (uint64_t)i);
		if (op_is(n, "Tile")) {
			if (s.rank != x->rank)
				return;
			for (int i = 0; i < s.rank; i++)
				y->shape[i] = x->shape[i] * s.shape[i];
			y->rank = s.rank;
			y->known = true;
		} else if (broadcast(x, &s, &s)) {
			y->rank = s.rank;
			memcpy(y->shape, s.shape, sizeof y->shape);
			y->known = true;
		}
	} else if ((op_is(n, "DepthToSpace") || op_is(n, "SpaceToDepth")) && x->rank == 4) {
		int64_t bs = aint(n, "blocksize", 1);
		bool d2s = op_is(n, "DepthToSpace");
		if (bs < 1)
			return;
		y->rank = 4;
		y->shape[0] = x->shape[0];
		y->shape[1] = d2s ? x->shape[1] / (bs * bs) : x->shape[1] * bs * bs;
		y->shape[2] = d2s ? x->shape[2] * bs : x->shape[2] / bs;
		y->shape[3] = d2s ? x->shape[3] * bs : x->shape[3] / bs;
		y->known = true;
	} else if (op_is(n, "Slice") && c->opset >= 10) {
		int64_t st[MAXR], en[MAXR], ax[MAXR], sp[MAXR];
		int ns = ints_of(c, n, 1, NULL, st, MAXR), ne = ints_of(c, n, 2, NULL, en, MAXR);
		int na = ints_of(c, n, 3, NULL, ax, MAXR), nst = ints_of(c, n, 4, NULL, sp, MAXR);
		if (ns < 0 || ne != ns || na == -2 || nst == -2 || (na >= 0 && na != ns) || (nst >= 0 && nst != ns))
			return;
		y->rank = x->rank;
		memcpy(y->shape, x->shape, sizeof y->shape);
		for (int i = 0; i < ns; i++) {
			int a = norm_axis(na >= 0 ? ax[i] : i, x->rank);
			int64_t dim = x->shape[a], s = st[i], e = en[i], step = nst >= 0 ? sp[i] : 1;
			if (a < 0 || a >= x->rank || step == 0)
				return;
			s = s < 0 ? s + dim : s;
			e = e < 0 ? e + dim : e;
			if (step > 0) {
				s = s < 0 ? 0 : s > dim ? dim : s;
				e = e < 0 ? 0 : e > dim ? dim : e;
				y->shape[a] = e > s ? (e - s + step - 1) / step : 0;
			} else {
				s = s < 0 ? -1 : s > dim - 1 ? dim - 1 : s;
				e = e < -1 ? -1 : e > dim - 1 ? dim - 1 : e;
				y->shape[a] = s > e ? (s - e - step - 1) / -step : 0;
			}
		}
		y->known = true;
	} else if (op_is(n, "Trilu") || op_is(n, "CumSum") || op_is(n, "LRN") || op_is(n, "ScatterElements") ||
		   op_is(n, "ScatterND") || op_is(n, "Scatter")) {
		y->rank = x->rank;
		memcpy(y->shape, x->shape, sizeof y->shape);
		y->known = true;
	} else if (op_is(n, "GatherElements") && w) {
		y->rank = w->rank;
		memcpy(y->shape, w->shape, sizeof y->shape);
		y->known = true;
	}
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
	/* every tensor the shaders touch is f32, or 32-bit integer words; float64 and
	 * float16 inputs, constants and results run as f32 (WebGPU has no f64), but their
	 * weights would be uploaded as stored */
	for (size_t i = 0; i < n->ninputs + n->noutputs; i++) {
		int k = i < n->ninputs ? in_t(c, n, i) : out_t(c, n, i - n->ninputs);
		if (k < 0)
			continue;
		int32_t dt = c->t[k].dt;
		if (!f32_on_gpu(dt) && !is_int_dt(dt))
			return stub(c, (int)ni, stubf(n, "the library shaders run f32 (this node has another float type)"));
		if (dt != M2W_ONNX_FLOAT && !is_int_dt(dt) && c->t[k].kind == K_WEIGHT)
			return stub(c, (int)ni, stubf(n, "float64 / float16 weights are uploaded as stored: convert them to f32"));
	}
	if (x < 0 || y < 0)
		return stub(c, (int)ni, stubf(n, "no library shader"));
	bool fin = f32_on_gpu(c->t[x].dt);
	int wr = emit_words(c, ni, n, x, y, fin);
	if (wr <= 0)
		return wr;

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
	if ((op_is(n, "Resize") || op_is(n, "Upsample")) && fin)
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
	if (c->o->format)
		sbf(e, " (%s, lowered to %zu ONNX-shaped nodes): a first draft to read and refine.\n", c->o->format,
			g->nnodes);
	else
		sbf(e, " (ONNX opset %lld, %zu nodes): a first draft to read and refine.\n", (long long)c->opset, g->nnodes);
	if (c->o->note)
		sbf(e, "//\n%s", c->o->note);
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
	/* two passes: outputs with their own buffer first, then the views of them */
	for (int pass = 0; pass < 2; pass++)
	for (size_t i = 0; i < c->nt; i++) {
		const struct ten *t = &c->t[i];
		int r = root(c, (int)i);
		bool view = r != (int)i || t->kind != K_VALUE;
		if (!t->output || view != (pass == 1))
			continue;
		sbf(e, "    this.outputs[");
		jstr(e, t->name);
		sbf(e, "] = ");
		if (view) {
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
	/* a tuple type, so work[i] is a GPUBuffer under noUncheckedIndexedAccess */
	sbf(e, "].map((n, i) => this.buffer(n, `work ${i}`)) as [");
	for (int i = 0; i < c->nslots; i++)
		sbf(e, "%sGPUBuffer", i ? ", " : "");
	sbf(e, "];\n    void work;\n");
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
	       "      else if (s.kind === 'capture') {\n"
	       "        if (!cap) continue;\n"
	       "        batcher.flush(); // the copy must see every dispatch recorded so far\n"
	       "        cap.capture(s.name, s.buffer, s.shape, { dtype: s.dtype });\n"
	       "      } else throw new Error(`engine: ${s.label}; write its shader`);\n"
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
	       "    this.device.queue.writeBuffer(b, 0, data.buffer as ArrayBuffer, data.byteOffset, data.byteLength);\n"
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
	sbf(s, ",\n  \"format\": \"%s\",\n  \"opset\": %lld,\n  \"nodes\": %zu,\n", c->o->format ? c->o->format : "onnx",
		(long long)c->opset, c->g->nnodes);
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
	/* a --dim that names no symbolic input dim is a typo, not a no-op */
	for (size_t k = 0; k < c->o->ndims; k++) {
		bool named = false;
		for (size_t i = 0; i < g->ninputs && !named; i++)
			for (size_t j = 0; g->inputs[i].has_type && j < g->inputs[i].type.ndim && !named; j++)
				named = g->inputs[i].type.dims[j].kind == M2W_ONNX_DIM_PARAM &&
					m2w_pbstr_eq(g->inputs[i].type.dims[j].param, c->o->dim_names[k]);
		if (!named)
			return m2w_err(c->d, g->ninputs ? g->inputs[0].off : 0,
				"--dim %s: no graph input has a symbolic dim of that name", c->o->dim_names[k]);
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
			/* a graph output exists from the start: it is defined only once a node made it
			 * (else a node reading it closes a cycle) */
			if (k >= 0 && c->t[k].kind == K_VALUE && c->t[k].first < 0)
				k = -1;
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
		if (check_geometry(c, n) < 0)
			return -1;
		infer(c, n);
		int yi = out_t(c, n, 0);
		if (yi >= 0 && c->t[yi].known && check_shape(c, &c->t[yi], n->off) < 0)
			return -1;
	}
	for (size_t i = 0; i < g->noutputs; i++) {
		int k = find_t(c, g->outputs[i].name);
		if (k >= 0 && c->t[k].kind == K_VALUE && c->t[k].first < 0)
			return m2w_err(c->d, g->outputs[i].off, "graph output '%s' is made by no node",
				c->t[k].name);
	}
	for (size_t i = 0; i < c->nt; i++)
		c->t[i].first = -1;
	return 0;
}

/* A tensor the front end introduced (m2w_scaffold_opts.hidden): no checkpoint. */
static bool is_hidden(const struct ctx *c, int t)
{
	for (size_t i = 0; i < c->o->nhidden; i++)
		if (strcmp(c->o->hidden[i], c->t[t].name) == 0)
			return true;
	return false;
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
			if (y < 0 || is_hidden(c, y))
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
	memset(r, 0, sizeof *r);
	if (m2w_onnx_parse(p, n, dir, &m, d) < 0)
		return -1;
	int rc = m2w_scaffold_graph(m, o, r, d);
	m2w_onnx_free(m);
	return rc;
}

int m2w_scaffold_graph(const struct m2w_onnx_model *m, const struct m2w_scaffold_opts *o,
	struct m2w_scaffold_result *r, struct m2w_diag *d)
{
	struct ctx c = {0};
	int rc = -1;
	memset(r, 0, sizeof *r);
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
		/* names quoted from the file may hold control bytes: keep the message one line */
		for (char *q = d->msg; *q; q++)
			if ((unsigned char)*q < 0x20 || *q == 0x7f)
				*q = '?';
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
	return rc;
}

void m2w_scaffold_result_free(struct m2w_scaffold_result *r)
{
	free(r->engine_ts);
	free(r->types_ts);
	free(r->report_json);
	memset(r, 0, sizeof *r);
}
