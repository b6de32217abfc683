/* extract_tflite: the TFLite front-end of m2w-extract.
 *
 * Every tensor of every subgraph whose buffer holds bytes is a constant
 * and is extracted, in subgraph then tensor order.  An integer tensor with
 * affine quantization (scale present, no custom details) is dequantized
 * to (float(q) - float(zero_point)) * scale, per tensor or per channel
 * along quantized_dimension; int32/int64 biases of quantized ops are
 * dequantized the same way (their scale is input_scale * filter_scale).
 * f16 / bf16 / f64 / float8 constants become f32 (or f16 with --dtype f16).
 *
 * Layout (--layout nchw, the default): a constant read as a filter, by
 * the op itself or through DEQUANTIZE / DENSIFY, is permuted:
 *   CONV_2D, TRANSPOSE_CONV    [O,H,W,I]   -> [O,I,H,W]    (0,3,1,2)
 *   DEPTHWISE_CONV_2D          [1,H,W,C]   -> [C,1,H,W]    (3,0,1,2)
 *   CONV_3D                    [D,H,W,I,O] -> [O,I,D,H,W]  (4,3,0,1,2)
 *   CONV_3D_TRANSPOSE          [D,H,W,O,I] -> [O,I,D,H,W]  (3,4,0,1,2)
 * FULLY_CONNECTED weights stay [out,in]; other constants keep their shape.
 *
 * Sparse constants (Tensor.sparsity) are densified as TFLite does:
 * SparsityParameters { traversal_order: [int], block_map: [int],
 * dim_metadata: [DimensionMetadata { format: DENSE | SPARSE_CSR,
 * dense_size, array_segments, array_indices (int32/uint16/uint8
 * vectors) }] } describes a walk over the n original dims in
 * traversal_order, then k block dims (block_map[b] is the original dim
 * block b subdivides, its dense_size the block size).  A DENSE level
 * visits 0..dense_size-1, a SPARSE_CSR level the indices
 * array_indices[segments[p] .. segments[p+1]) of its parent position p;
 * each leaf takes the next stored value.  The dense tensor is built in
 * memory (one tensor, limited to M2W_XT_MAX_DENSIFY times the stored
 * values) when it is streamed.
 * The first op (in execution order) that reads a tensor decides.  The
 * manifest keeps the source shape, the permutation and the quantization
 * in source terms (axis = quantized_dimension of the source shape).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extract_int.h"
#include "tflite.h"

#ifndef M2W_XT_MAX_DENSIFY
#define M2W_XT_MAX_DENSIFY 4096 /* dense elements per stored value, at most */
#endif

struct layout {
	const char *op;
	int ndim;
	int perm[5];
	const char *note;
};

static const struct layout layouts[] = {
	{"CONV_2D", 4, {0, 3, 1, 2}, "CONV_2D filter [O,H,W,I] -> [O,I,H,W]"},
	{"TRANSPOSE_CONV", 4, {0, 3, 1, 2}, "TRANSPOSE_CONV filter [O,H,W,I] -> [O,I,H,W]"},
	{"DEPTHWISE_CONV_2D", 4, {3, 0, 1, 2}, "DEPTHWISE_CONV_2D filter [1,H,W,C] -> [C,1,H,W]"},
	{"CONV_3D", 5, {4, 3, 0, 1, 2}, "CONV_3D filter [D,H,W,I,O] -> [O,I,D,H,W]"},
	{"CONV_3D_TRANSPOSE", 5, {3, 4, 0, 1, 2}, "CONV_3D_TRANSPOSE filter [D,H,W,O,I] -> [O,I,D,H,W]"},
};

static int oom(struct m2w_diag *d) { return m2w_err(d, M2W_NO_OFFSET, "out of memory"); }

/* ---- sparsity ---- */

enum { SP_TRAVERSAL, SP_BLOCK_MAP, SP_DIM_METADATA };
enum { DM_FORMAT, DM_DENSE_SIZE, DM_SEGMENTS_TYPE, DM_SEGMENTS, DM_INDICES_TYPE, DM_INDICES };
#define T_SPARSITY 6
#define MAX_LEVELS (2 * M2W_MAX_DIMS)

struct level {
	bool sparse;
	uint64_t size;             /* DENSE: dense_size */
	struct m2w_fb_vec seg, idx; /* SPARSE_CSR */
	uint8_t seg_t, idx_t;      /* 1 int32, 2 uint16, 3 uint8 */
};

struct sparse {
	struct m2w_fb fb;
	const struct xt_tensor *t;
	int nlev, n;
	int trav[MAX_LEVELS];
	int bmap[M2W_MAX_DIMS];
	uint64_t bsize[M2W_MAX_DIMS];
	uint64_t extent[MAX_LEVELS];  /* coordinate limit per level */
	struct level lev[MAX_LEVELS];
	const uint8_t *src;
	uint64_t nsrc, used;
	uint8_t *dst;
	size_t es;
	uint64_t coord[MAX_LEVELS];
	struct m2w_diag *d;
};

static uint64_t sp_at(const struct sparse *s, const struct m2w_fb_vec *v, uint8_t type, uint64_t i)
{
	const uint8_t *p = m2w_fb_vec_at(&s->fb, v, (uint32_t)i);
	return type == 1 ? (uint64_t)(uint32_t)m2w_le32(p) : type == 2 ? m2w_le16(p) : *p;
}

static int sp_walk(struct sparse *s, int l, uint64_t prev)
{
	const struct xt_tensor *t = s->t;
	if (l == s->nlev) {
		uint64_t oc[M2W_MAX_DIMS], flat = 0;
		int i = 0;
		for (; i < s->n; i++)
			oc[s->trav[i]] = s->coord[i];
		for (; i < s->nlev; i++) {
			int b = s->trav[i] - s->n;
			oc[s->bmap[b]] = oc[s->bmap[b]] * s->bsize[b] + s->coord[i];
		}
		for (i = 0; i < s->n; i++)
			flat = flat * t->dims[i] + oc[i];
		if (s->used >= s->nsrc)
			return m2w_err(s->d, t->doff, "tensor '%s': sparse walk needs more than the %llu stored values",
				t->source, (unsigned long long)s->nsrc);
		memcpy(s->dst + flat * s->es, s->src + s->used * s->es, s->es);
		s->used++;
		return 0;
	}
	const struct level *lv = &s->lev[l];
	if (!lv->sparse) {
		for (uint64_t i = 0; i < lv->size; i++) {
			s->coord[l] = i;
			if (sp_walk(s, l + 1, prev * lv->size + i))
				return -1;
		}
		return 0;
	}
	if (prev + 1 >= lv->seg.len)
		return m2w_err(s->d, m2w_fb_abs(&s->fb, lv->seg.pos), "tensor '%s': sparse level %d has %u segments, "
			"position %llu needs %llu", t->source, l, lv->seg.len, (unsigned long long)prev,
			(unsigned long long)prev + 2);
	uint64_t a = sp_at(s, &lv->seg, lv->seg_t, prev), b = sp_at(s, &lv->seg, lv->seg_t, prev + 1);
	if (a > b || b > lv->idx.len)
		return m2w_err(s->d, m2w_fb_abs(&s->fb, lv->seg.pos), "tensor '%s': sparse level %d segment "
			"[%llu, %llu) outside its %u indices", t->source, l, (unsigned long long)a,
			(unsigned long long)b, lv->idx.len);
	for (uint64_t j = a; j < b; j++) {
		uint64_t c = sp_at(s, &lv->idx, lv->idx_t, j);
		if (c >= s->extent[l])
			return m2w_err(s->d, m2w_fb_abs(&s->fb, lv->idx.pos), "tensor '%s': sparse index %llu at "
				"level %d, limit %llu", t->source, (unsigned long long)c, l,
				(unsigned long long)s->extent[l]);
		s->coord[l] = c;
		if (sp_walk(s, l + 1, j))
			return -1;
	}
	return 0;
}

/* The Tensor table at file offset `off` (the parser checked it). */
static int table_at(const struct m2w_fb *fb, uint64_t off, struct m2w_fb_table *t, struct m2w_diag *d)
{
	if (off + 4 > fb->n)
		return m2w_err(d, off, "table past the end");
	int32_t so = (int32_t)m2w_le32(fb->p + off);
	int64_t vt = (int64_t)off - so;
	if (vt < 0 || (uint64_t)vt + 4 > fb->n)
		return m2w_err(d, off, "vtable outside the file");
	t->pos = (size_t)off;
	t->vt = (size_t)vt;
	t->vt_size = m2w_le16(fb->p + vt);
	t->size = m2w_le16(fb->p + vt + 2);
	t->depth = 2;
	if (t->vt_size < 4 || t->vt + t->vt_size > fb->n || t->pos + t->size > fb->n)
		return m2w_err(d, off, "table or vtable outside the file");
	return 0;
}

static int index_vec(struct sparse *s, const struct m2w_fb_table *dm, unsigned id, struct m2w_fb_vec *v,
	uint8_t *type)
{
	struct m2w_fb_table u;
	if (m2w_fb_union(&s->fb, dm, id, type, &u))
		return -1;
	if (*type < 1 || *type > 3)
		return m2w_err(s->d, m2w_fb_abs(&s->fb, dm->pos), "tensor '%s': sparse index vector type %u, "
			"expected 1..3", s->t->source, *type);
	return m2w_fb_vector(&s->fb, &u, 0, *type == 1 ? 4 : *type == 2 ? 2 : 1, v, NULL);
}

/* Reads and checks the sparsity parameters of t (whose Tensor table is at
 * tt->off) into s. */
static int sparse_open(const struct m2w_tflite *m, const struct xt_tensor *t, const struct m2w_tfl_tensor *tt,
	struct sparse *s, struct m2w_diag *d)
{
	struct m2w_fb_table tab, sp, dm;
	struct m2w_fb_vec trav, bmap, meta;
	bool present;

	memset(s, 0, sizeof *s);
	s->fb = (struct m2w_fb){m->p, m->n, m->base, d};
	s->t = t;
	s->d = d;
	s->n = t->ndim;
	if (table_at(&s->fb, tt->off - m->base, &tab, d) ||
	    m2w_fb_table_ref(&s->fb, &tab, T_SPARSITY, &sp, &present))
		return -1;
	if (!present ||
	    m2w_fb_vector(&s->fb, &sp, SP_TRAVERSAL, 4, &trav, NULL) ||
	    m2w_fb_vector(&s->fb, &sp, SP_BLOCK_MAP, 4, &bmap, NULL) ||
	    m2w_fb_vector(&s->fb, &sp, SP_DIM_METADATA, 4, &meta, NULL))
		return present ? -1 : m2w_err(d, tt->off, "tensor '%s': no sparsity parameters", t->source);
	uint64_t where = m2w_fb_abs(&s->fb, sp.pos);
	int k = (int)bmap.len;
	if (bmap.len > M2W_MAX_DIMS || trav.len != (uint32_t)(s->n + k) || meta.len != trav.len)
		return m2w_err(d, where, "tensor '%s': sparsity has %u traversal dims, %u block dims and %u "
			"dim metadata for %d dims", t->source, trav.len, bmap.len, meta.len, s->n);
	s->nlev = s->n + k;
	bool seen[MAX_LEVELS] = {false};
	for (int l = 0; l < s->nlev; l++) {
		int32_t v = (int32_t)m2w_le32(m2w_fb_vec_at(&s->fb, &trav, (uint32_t)l));
		/* original dims first, block dims after: the order TFLite's own walk assumes */
		if (v < 0 || v >= s->nlev || seen[v] || (l < s->n) != (v < s->n))
			return m2w_err(d, where, "tensor '%s': bad sparse traversal_order[%d] = %d", t->source, l, v);
		seen[v] = true;
		s->trav[l] = v;
	}
	for (int b = 0; b < k; b++) {
		int32_t v = (int32_t)m2w_le32(m2w_fb_vec_at(&s->fb, &bmap, (uint32_t)b));
		if (v < 0 || v >= s->n)
			return m2w_err(d, where, "tensor '%s': bad sparse block_map[%d] = %d", t->source, b, v);
		s->bmap[b] = v;
	}
	for (int l = 0; l < s->nlev; l++) {
		uint8_t fmt;
		int32_t dsz;
		if (m2w_fb_vec_table(&s->fb, &meta, (uint32_t)l, 1, &dm) ||
		    m2w_fb_u8(&s->fb, &dm, DM_FORMAT, 0, &fmt) || m2w_fb_i32(&s->fb, &dm, DM_DENSE_SIZE, 0, &dsz))
			return -1;
		if (fmt > 1 || dsz < 0)
			return m2w_err(d, m2w_fb_abs(&s->fb, dm.pos), "tensor '%s': sparse level %d format %u, dense_size %d",
				t->source, l, fmt, dsz);
		struct level *lv = &s->lev[l];
		lv->sparse = fmt == 1;
		lv->size = (uint64_t)dsz;
		if (s->trav[l] >= s->n)
			s->bsize[s->trav[l] - s->n] = (uint64_t)dsz;
		if (lv->sparse && (index_vec(s, &dm, DM_SEGMENTS_TYPE, &lv->seg, &lv->seg_t) ||
				   index_vec(s, &dm, DM_INDICES_TYPE, &lv->idx, &lv->idx_t)))
			return -1;
	}
	/* coordinate limits: an original dim split into blocks counts blocks */
	for (int l = 0; l < s->nlev; l++) {
		int v = s->trav[l];
		uint64_t e;
		if (v >= s->n) {
			e = s->bsize[v - s->n];
		} else {
			e = t->dims[v];
			for (int b = 0; b < k; b++)
				if (s->bmap[b] == v) {
					if (!s->bsize[b] || e % s->bsize[b])
						return m2w_err(d, where, "tensor '%s': block size %llu does not divide dim %d "
							"(%llu)", t->source, (unsigned long long)s->bsize[b], v,
							(unsigned long long)e);
					e /= s->bsize[b];
				}
		}
		s->extent[l] = e;
		if (!s->lev[l].sparse && s->lev[l].size != e)
			return m2w_err(d, where, "tensor '%s': dense level %d has size %llu, the shape says %llu",
				t->source, l, (unsigned long long)s->lev[l].size, (unsigned long long)e);
	}
	return 0;
}

static int tfl_stream(struct xt_ctx *x, const struct xt_tensor *t, xt_sink sink, void *sctx,
	struct m2w_diag *d)
{
	const struct m2w_tfl_buffer *b = t->h;
	if (t->hkind) {
		/* sparse: densify into one tensor-sized buffer */
		struct sparse s;
		const struct m2w_tflite *m = x->fe;
		unsigned v = (unsigned)t->hkind - 1;
		const struct m2w_tfl_tensor *tt = &m->subgraphs[v >> 20].tensors[v & 0xfffff];
		int rc;
		if (sparse_open(m, t, tt, &s, d))
			return -1;
		s.es = m2w_dtype_size(t->sdt);
		s.src = b->data;
		s.nsrc = b->size / s.es;
		if (!(s.dst = calloc(t->count ? (size_t)t->count : 1, s.es)))
			return m2w_err(d, t->doff, "tensor '%s': out of memory densifying %llu elements", t->source,
				(unsigned long long)t->count);
		rc = sp_walk(&s, 0, 0);
		if (!rc && t->src_bytes)
			rc = sink(sctx, s.dst, (size_t)t->src_bytes, d);
		free(s.dst);
		return rc;
	}
	return t->src_bytes ? sink(sctx, b->data, (size_t)t->src_bytes, d) : 0;
}

static void tfl_free(struct xt_ctx *x)
{
	m2w_tflite_free(x->fe);
	x->fe = NULL;
}

/* TensorType -> codec; false for what has no numeric data. */
static bool codec_of(uint8_t type, struct xt_tensor *t)
{
	t->codec = XT_PLAIN;
	t->src_dtype = m2w_tflite_dtype_name(type);
	switch (type) {
	case M2W_TFL_INT4: t->codec = XT_I4; t->sdt = M2W_DT_I8; return true;
	case M2W_TFL_UINT4: t->codec = XT_U4; t->sdt = M2W_DT_U8; return true;
	case M2W_TFL_INT2: t->codec = XT_I2; t->sdt = M2W_DT_I8; return true;
	case M2W_TFL_FLOAT8_E4M3FN: t->codec = XT_F8E4M3FN; t->sdt = M2W_DT_U8; return true;
	case M2W_TFL_FLOAT8_E5M2: t->codec = XT_F8E5M2; t->sdt = M2W_DT_U8; return true;
	case M2W_TFL_STRING: case M2W_TFL_RESOURCE: case M2W_TFL_VARIANT:
		return false;
	default:
		t->sdt = m2w_tflite_dtype(type);
		return t->sdt != M2W_DT_UNKNOWN && m2w_dtype_size(t->sdt) > 0;
	}
}

static bool is_int(const struct xt_tensor *t)
{
	if (t->codec != XT_PLAIN)
		return t->codec == XT_I4 || t->codec == XT_U4 || t->codec == XT_I2;
	switch (t->sdt) {
	case M2W_DT_I8: case M2W_DT_U8: case M2W_DT_I16: case M2W_DT_U16:
	case M2W_DT_I32: case M2W_DT_U32: case M2W_DT_I64: case M2W_DT_U64:
		return true;
	default:
		return false;
	}
}

static int add_quant(struct xt_ctx *x, struct xt_tensor *t, const struct m2w_tfl_tensor *tt,
	struct m2w_diag *d)
{
	const struct m2w_tfl_quant *qp = &tt->quant;
	struct xt_quant *q;

	if (!qp->present || !qp->scale.n || qp->details_type || !is_int(t))
		return 0;
	if (qp->zero_point.n && qp->zero_point.n != qp->scale.n)
		return m2w_err(d, qp->zero_point.off, "tensor '%s': %u scales and %u zero points",
			t->source, qp->scale.n, qp->zero_point.n);
	if (!(q = calloc(1, sizeof *q)))
		return oom(d);
	q->op = "tflite";
	q->n = qp->scale.n;
	q->scale = malloc(q->n * sizeof *q->scale);
	if (!q->scale || (qp->zero_point.n && !(q->zp = malloc(q->n * sizeof *q->zp)))) {
		xt_quant_free(q);
		return oom(d);
	}
	for (uint32_t i = 0; i < qp->scale.n; i++)
		q->scale[i] = m2w_tfl_f32(&qp->scale, i);
	for (uint32_t i = 0; i < qp->zero_point.n; i++)
		q->zp[i] = m2w_tfl_i64(&qp->zero_point, i);
	if (q->n > 1 && (qp->quantized_dimension < 0 || qp->quantized_dimension >= t->ndim)) {
		m2w_err(d, tt->off, "tensor '%s': quantized_dimension %d is out of range for %d dims",
			t->source, qp->quantized_dimension, t->ndim);
		xt_quant_free(q);
		return -1;
	}
	if (xt_quant_axis(t, q, qp->quantized_dimension, qp->scale.off, d) ||
	    xt_quant_check(t, q, qp->scale.off, qp->zero_point.off, d)) {
		xt_quant_free(q);
		return -1;
	}
	t->q = q;
	return 0;
}

/* Which layout each tensor of subgraph sg takes (index into layouts[], -1). */
static int find_layouts(const struct m2w_tflite *m, const struct m2w_tfl_subgraph *sg, int *lay,
	struct m2w_diag *d)
{
	int32_t *producer = malloc((sg->ntensors ? sg->ntensors : 1) * sizeof *producer);
	if (!producer)
		return oom(d);
	for (uint32_t i = 0; i < sg->ntensors; i++)
		lay[i] = -1, producer[i] = -1;
	for (uint32_t o = 0; o < sg->noperators; o++)
		for (uint32_t k = 0; k < sg->operators[o].outputs.n; k++) {
			int32_t ti = m2w_tfl_i32(&sg->operators[o].outputs, k);
			if (ti >= 0 && (uint32_t)ti < sg->ntensors && producer[ti] < 0)
				producer[ti] = (int32_t)o;
		}
	for (uint32_t o = 0; o < sg->noperators; o++) {
		const struct m2w_tfl_operator *op = &sg->operators[o];
		const char *name = op->opcode_index < m->nopcodes
			? m2w_tflite_builtin_name(m->opcodes[op->opcode_index].builtin) : NULL;
		int l = -1;
		for (size_t k = 0; name && k < sizeof layouts / sizeof layouts[0]; k++)
			if (!strcmp(name, layouts[k].op))
				l = (int)k;
		if (l < 0 || op->inputs.n < 2)
			continue;
		int32_t ti = m2w_tfl_i32(&op->inputs, 1);
		/* through DEQUANTIZE / DENSIFY to the stored constant */
		for (int hops = 0; hops < 8 && ti >= 0 && (uint32_t)ti < sg->ntensors && producer[ti] >= 0; hops++) {
			const struct m2w_tfl_operator *p = &sg->operators[producer[ti]];
			const char *pn = p->opcode_index < m->nopcodes
				? m2w_tflite_builtin_name(m->opcodes[p->opcode_index].builtin) : NULL;
			if (!pn || (strcmp(pn, "DEQUANTIZE") && strcmp(pn, "DENSIFY")) || !p->inputs.n)
				break;
			ti = m2w_tfl_i32(&p->inputs, 0);
		}
		if (ti >= 0 && (uint32_t)ti < sg->ntensors && lay[ti] < 0)
			lay[ti] = l;
	}
	free(producer);
	return 0;
}

int xt_tflite_open(struct xt_ctx *x, const uint8_t *p, size_t n, struct m2w_diag *d)
{
	struct m2w_tflite *m;
	int *lay = NULL;

	x->format = "tflite";
	x->stream = tfl_stream;
	x->fe_free = tfl_free;
	if (m2w_tflite_parse(p, n, 0, &m, d))
		return -1;
	x->fe = m;
	for (uint32_t si = 0; si < m->nsubgraphs; si++) {
		const struct m2w_tfl_subgraph *sg = &m->subgraphs[si];
		char gname[64];
		free(lay);
		if (!(lay = malloc((sg->ntensors ? sg->ntensors : 1) * sizeof *lay)))
			return oom(d);
		if (find_layouts(m, sg, lay, d))
			goto fail;
		snprintf(gname, sizeof gname, "subgraph %u", si);
		for (uint32_t ti = 0; ti < sg->ntensors; ti++) {
			const struct m2w_tfl_tensor *tt = &sg->tensors[ti];
			const struct m2w_tfl_buffer *b = tt->buffer < m->nbuffers ? &m->buffers[tt->buffer] : NULL;
			struct xt_tensor tmp = {0};
			char fallback[64];
			const char *nm = tt->name;
			if (!b || !b->data || !b->size)
				continue;
			if (!nm[0]) {
				snprintf(fallback, sizeof fallback, "subgraph%u/tensor%u", si, ti);
				nm = fallback;
			}
			if (!codec_of(tt->type, &tmp) || (tt->sparse && tmp.codec != XT_PLAIN)) {
				if (xt_add_skip(x, nm, m2w_tflite_dtype_name(tt->type),
					tt->sparse ? "sparse tensor of a packed type (not densified)"
						   : "no numeric data"))
					goto nomem;
				continue;
			}
			struct xt_tensor *t = xt_add(x);
			if (!t || !(t->source = strdup(nm)))
				goto nomem;
			t->codec = tmp.codec;
			t->sdt = tmp.sdt;
			t->src_dtype = tmp.src_dtype;
			t->kind = "tensor";
			if (si && !(t->graph = strdup(sg->name && sg->name[0] ? sg->name : gname)))
				goto nomem;
			t->ndim = tt->ndim;
			t->count = 1;
			for (int k = 0; k < tt->ndim; k++) {
				t->dims[k] = (uint64_t)tt->shape[k];
				t->count *= t->dims[k]; /* the parser bounded it by the buffer */
			}
			uint64_t per, units;
			size_t ub;
			xt_codec_unit(t, &per, &ub);
			units = (t->count + per - 1) / per;
			t->src_bytes = units * ub;
			if (tt->sparse) {
				/* densified when streamed; the stored values bound the dense size */
				uint64_t stored = b->size / ub;
				if (ti >= 0xfffff || si > 0x7ff ||
				    t->count > (stored + 1) * (uint64_t)M2W_XT_MAX_DENSIFY) {
					m2w_err(d, tt->off, "tensor '%s': sparse tensor of %llu elements from %llu stored "
						"values, limit %u per value", t->source, (unsigned long long)t->count,
						(unsigned long long)stored, M2W_XT_MAX_DENSIFY);
					goto fail;
				}
				t->hkind = (int)((si << 20 | ti) + 1); /* 0: not sparse */
				t->kind = "tensor (sparse, densified)";
				struct sparse chk;
				if (sparse_open(m, t, tt, &chk, d))
					goto fail;
			} else if (t->src_bytes != b->size) {
				m2w_err(d, b->off, "tensor '%s': buffer holds %llu bytes, %s x %llu needs %llu",
					t->source, (unsigned long long)b->size, t->src_dtype,
					(unsigned long long)t->count, (unsigned long long)t->src_bytes);
				goto fail;
			}
			t->doff = tt->off;
			t->h = b;
			if (add_quant(x, t, tt, d))
				goto fail;
			int l = lay[ti];
			if (l >= 0 && !(x->o && x->o->layout_source) && t->ndim == layouts[l].ndim) {
				t->permuted = true;
				for (int k = 0; k < t->ndim; k++)
					t->perm[k] = layouts[l].perm[k];
				if (!(t->layout = strdup(layouts[l].note)))
					goto nomem;
			}
		}
	}
	free(lay);
	return 0;
nomem:
	oom(d);
fail:
	free(lay);
	return -1;
}
