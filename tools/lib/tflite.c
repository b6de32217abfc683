/* tflite: TensorFlow Lite models (format notes in tflite.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flatbuf.h"
#include "tflite.h"

/* schema.fbs field ids (a union takes two ids: type, then value) */
enum { MODEL_VERSION, MODEL_OPCODES, MODEL_SUBGRAPHS, MODEL_DESCRIPTION, MODEL_BUFFERS,
	MODEL_METADATA_BUFFER, MODEL_METADATA, MODEL_SIGNATURES };
enum { OPCODE_DEPRECATED, OPCODE_CUSTOM, OPCODE_VERSION, OPCODE_BUILTIN };
enum { SG_TENSORS, SG_INPUTS, SG_OUTPUTS, SG_OPERATORS, SG_NAME };
enum { T_SHAPE, T_TYPE, T_BUFFER, T_NAME, T_QUANT, T_VARIABLE, T_SPARSITY, T_SHAPE_SIG,
	T_HAS_RANK };
enum { Q_MIN, Q_MAX, Q_SCALE, Q_ZERO, Q_DETAILS_TYPE, Q_DETAILS, Q_DIM };
enum { OP_OPCODE, OP_INPUTS, OP_OUTPUTS, OP_OPTIONS_TYPE, OP_OPTIONS, OP_CUSTOM,
	OP_CUSTOM_FORMAT, OP_MUTATING, OP_INTERMEDIATES, OP_LARGE_OFF, OP_LARGE_SIZE,
	OP_OPTIONS2_TYPE, OP_OPTIONS2 };
enum { BUF_DATA, BUF_OFFSET, BUF_SIZE };
enum { META_NAME, META_BUFFER };
enum { SIG_INPUTS, SIG_OUTPUTS, SIG_KEY, SIG_TAG, SIG_SUBGRAPH };
enum { TMAP_NAME, TMAP_TENSOR };

static const char *const builtin_names[] = {
	"ADD", "AVERAGE_POOL_2D", "CONCATENATION", "CONV_2D", "DEPTHWISE_CONV_2D",
	"DEPTH_TO_SPACE", "DEQUANTIZE", "EMBEDDING_LOOKUP", "FLOOR", "FULLY_CONNECTED",
	"HASHTABLE_LOOKUP", "L2_NORMALIZATION", "L2_POOL_2D", "LOCAL_RESPONSE_NORMALIZATION",
	"LOGISTIC", "LSH_PROJECTION", "LSTM", "MAX_POOL_2D", "MUL", "RELU", "RELU_N1_TO_1",
	"RELU6", "RESHAPE", "RESIZE_BILINEAR", "RNN", "SOFTMAX", "SPACE_TO_DEPTH", "SVDF",
	"TANH", "CONCAT_EMBEDDINGS", "SKIP_GRAM", "CALL", "CUSTOM", "EMBEDDING_LOOKUP_SPARSE",
	"PAD", "UNIDIRECTIONAL_SEQUENCE_RNN", "GATHER", "BATCH_TO_SPACE_ND",
	"SPACE_TO_BATCH_ND", "TRANSPOSE", "MEAN", "SUB", "DIV", "SQUEEZE",
	"UNIDIRECTIONAL_SEQUENCE_LSTM", "STRIDED_SLICE", "BIDIRECTIONAL_SEQUENCE_RNN", "EXP",
	"TOPK_V2", "SPLIT", "LOG_SOFTMAX", "DELEGATE", "BIDIRECTIONAL_SEQUENCE_LSTM", "CAST",
	"PRELU", "MAXIMUM", "ARG_MAX", "MINIMUM", "LESS", "NEG", "PADV2", "GREATER",
	"GREATER_EQUAL", "LESS_EQUAL", "SELECT", "SLICE", "SIN", "TRANSPOSE_CONV",
	"SPARSE_TO_DENSE", "TILE", "EXPAND_DIMS", "EQUAL", "NOT_EQUAL", "LOG", "SUM", "SQRT",
	"RSQRT", "SHAPE", "POW", "ARG_MIN", "FAKE_QUANT", "REDUCE_PROD", "REDUCE_MAX", "PACK",
	"LOGICAL_OR", "ONE_HOT", "LOGICAL_AND", "LOGICAL_NOT", "UNPACK", "REDUCE_MIN",
	"FLOOR_DIV", "REDUCE_ANY", "SQUARE", "ZEROS_LIKE", "FILL", "FLOOR_MOD", "RANGE",
	"RESIZE_NEAREST_NEIGHBOR", "LEAKY_RELU", "SQUARED_DIFFERENCE", "MIRROR_PAD", "ABS",
	"SPLIT_V", "UNIQUE", "CEIL", "REVERSE_V2", "ADD_N", "GATHER_ND", "COS", "WHERE", "RANK",
	"ELU", "REVERSE_SEQUENCE", "MATRIX_DIAG", "QUANTIZE", "MATRIX_SET_DIAG", "ROUND",
	"HARD_SWISH", "IF", "WHILE", "NON_MAX_SUPPRESSION_V4", "NON_MAX_SUPPRESSION_V5",
	"SCATTER_ND", "SELECT_V2", "DENSIFY", "SEGMENT_SUM", "BATCH_MATMUL",
	"PLACEHOLDER_FOR_GREATER_OP_CODES", "CUMSUM", "CALL_ONCE", "BROADCAST_TO", "RFFT2D",
	"CONV_3D", "IMAG", "REAL", "COMPLEX_ABS", "HASHTABLE", "HASHTABLE_FIND",
	"HASHTABLE_IMPORT", "HASHTABLE_SIZE", "REDUCE_ALL", "CONV_3D_TRANSPOSE", "VAR_HANDLE",
	"READ_VARIABLE", "ASSIGN_VARIABLE", "BROADCAST_ARGS", "RANDOM_STANDARD_NORMAL",
	"BUCKETIZE", "RANDOM_UNIFORM", "MULTINOMIAL", "GELU", "DYNAMIC_UPDATE_SLICE",
	"RELU_0_TO_1", "UNSORTED_SEGMENT_PROD", "UNSORTED_SEGMENT_MAX", "UNSORTED_SEGMENT_SUM",
	"ATAN2", "UNSORTED_SEGMENT_MIN", "SIGN", "BITCAST", "BITWISE_XOR", "RIGHT_SHIFT",
	"STABLEHLO_LOGISTIC", "STABLEHLO_ADD", "STABLEHLO_DIVIDE", "STABLEHLO_MULTIPLY",
	"STABLEHLO_MAXIMUM", "STABLEHLO_RESHAPE", "STABLEHLO_CLAMP", "STABLEHLO_CONCATENATE",
	"STABLEHLO_BROADCAST_IN_DIM", "STABLEHLO_CONVOLUTION", "STABLEHLO_SLICE",
	"STABLEHLO_CUSTOM_CALL", "STABLEHLO_REDUCE", "STABLEHLO_ABS", "STABLEHLO_AND",
	"STABLEHLO_COSINE", "STABLEHLO_EXPONENTIAL", "STABLEHLO_FLOOR", "STABLEHLO_LOG",
	"STABLEHLO_MINIMUM", "STABLEHLO_NEGATE", "STABLEHLO_OR", "STABLEHLO_POWER",
	"STABLEHLO_REMAINDER", "STABLEHLO_RSQRT", "STABLEHLO_SELECT", "STABLEHLO_SUBTRACT",
	"STABLEHLO_TANH", "STABLEHLO_SCATTER", "STABLEHLO_COMPARE", "STABLEHLO_CONVERT",
	"STABLEHLO_DYNAMIC_SLICE", "STABLEHLO_DYNAMIC_UPDATE_SLICE", "STABLEHLO_PAD",
	"STABLEHLO_IOTA", "STABLEHLO_DOT_GENERAL", "STABLEHLO_REDUCE_WINDOW", "STABLEHLO_SORT",
	"STABLEHLO_WHILE", "STABLEHLO_GATHER", "STABLEHLO_TRANSPOSE", "DILATE",
	"STABLEHLO_RNG_BIT_GENERATOR", "REDUCE_WINDOW", "STABLEHLO_COMPOSITE",
	"STABLEHLO_SHIFT_LEFT", "STABLEHLO_CBRT", "STABLEHLO_CASE",
};
#define NBUILTIN (sizeof builtin_names / sizeof builtin_names[0])

const char *m2w_tflite_builtin_name(int32_t code)
{
	if (code >= 0 && (size_t)code < NBUILTIN)
		return builtin_names[code];
	if (code == 225)
		return "TEMP_STREAMING_CONV_2D";
	return NULL;
}

const char *m2w_tflite_op_name(const struct m2w_tflite *m, uint32_t opcode_index, char *buf,
	size_t n)
{
	if (opcode_index >= m->nopcodes)
		return "?";
	const struct m2w_tfl_opcode *c = &m->opcodes[opcode_index];
	if (c->builtin == M2W_TFL_OP_CUSTOM && c->custom && *c->custom)
		return c->custom;
	const char *s = m2w_tflite_builtin_name(c->builtin);
	if (s)
		return s;
	snprintf(buf, n, "BUILTIN_%d", (int)c->builtin);
	return buf;
}

static const struct {
	enum m2w_dtype dt;
	const char *name; /* only where dt can't name it */
} types[M2W_TFL_TYPE__COUNT] = {
	[M2W_TFL_FLOAT32] = {M2W_DT_F32, NULL},     [M2W_TFL_FLOAT16] = {M2W_DT_F16, NULL},
	[M2W_TFL_INT32] = {M2W_DT_I32, NULL},       [M2W_TFL_UINT8] = {M2W_DT_U8, NULL},
	[M2W_TFL_INT64] = {M2W_DT_I64, NULL},       [M2W_TFL_STRING] = {M2W_DT_STRING, NULL},
	[M2W_TFL_BOOL] = {M2W_DT_BOOL, NULL},       [M2W_TFL_INT16] = {M2W_DT_I16, NULL},
	[M2W_TFL_COMPLEX64] = {M2W_DT_C64, NULL},   [M2W_TFL_INT8] = {M2W_DT_I8, NULL},
	[M2W_TFL_FLOAT64] = {M2W_DT_F64, NULL},     [M2W_TFL_COMPLEX128] = {M2W_DT_C128, NULL},
	[M2W_TFL_UINT64] = {M2W_DT_U64, NULL},      [M2W_TFL_RESOURCE] = {M2W_DT_UNKNOWN, "resource"},
	[M2W_TFL_VARIANT] = {M2W_DT_UNKNOWN, "variant"}, [M2W_TFL_UINT32] = {M2W_DT_U32, NULL},
	[M2W_TFL_UINT16] = {M2W_DT_U16, NULL},      [M2W_TFL_INT4] = {M2W_DT_I4, NULL},
	[M2W_TFL_BFLOAT16] = {M2W_DT_BF16, NULL},   [M2W_TFL_INT2] = {M2W_DT_UNKNOWN, "i2"},
	[M2W_TFL_UINT4] = {M2W_DT_U4, NULL},
	[M2W_TFL_FLOAT8_E4M3FN] = {M2W_DT_UNKNOWN, "f8e4m3"},
	[M2W_TFL_FLOAT8_E5M2] = {M2W_DT_UNKNOWN, "f8e5m2"},
};

enum m2w_dtype m2w_tflite_dtype(uint8_t type)
{
	return type < M2W_TFL_TYPE__COUNT ? types[type].dt : M2W_DT_UNKNOWN;
}

const char *m2w_tflite_dtype_name(uint8_t type)
{
	if (type >= M2W_TFL_TYPE__COUNT)
		return "unknown";
	return types[type].name ? types[type].name : m2w_dtype_name(types[type].dt);
}

bool m2w_tflite_tensor_bytes(const struct m2w_tfl_tensor *t, uint64_t *bytes)
{
	enum m2w_dtype dt = m2w_tflite_dtype(t->type);
	uint64_t count = 1;

	if (dt == M2W_DT_UNKNOWN || dt == M2W_DT_STRING || dt == M2W_DT_I4 || dt == M2W_DT_U4 ||
		t->sparse)
		return false;
	for (int i = 0; i < t->ndim; i++)
		if (t->shape[i] < 0 || !m2w_mul_u64(count, (uint64_t)t->shape[i], &count))
			return false;
	return m2w_mul_u64(count, m2w_dtype_size(dt), bytes);
}

int32_t m2w_tfl_i32(const struct m2w_tfl_vec *v, uint32_t i)
{
	return (int32_t)m2w_le32(v->p + (size_t)i * 4);
}

int64_t m2w_tfl_i64(const struct m2w_tfl_vec *v, uint32_t i)
{
	return (int64_t)m2w_le64(v->p + (size_t)i * 8);
}

float m2w_tfl_f32(const struct m2w_tfl_vec *v, uint32_t i)
{
	uint32_t bits = m2w_le32(v->p + (size_t)i * 4);
	float f;
	memcpy(&f, &bits, sizeof f);
	return f;
}

/* ---- parsing ---- */

struct parser {
	struct m2w_fb fb;
	struct m2w_diag *d;
	struct m2w_tflite *m;
	uint64_t referenced, budget; /* bytes reached through shared offsets */
};

static int charge(struct parser *ps, uint64_t bytes, size_t pos)
{
	ps->referenced += bytes;
	if (ps->referenced > ps->budget)
		return m2w_err(ps->d, m2w_fb_abs(&ps->fb, pos),
			"vectors shared through offsets reach %llu bytes, limit %llu (%dx the file)",
			(unsigned long long)ps->referenced, (unsigned long long)ps->budget,
			M2W_TFL_MAX_AMPLIFY);
	return 0;
}

static int vec(struct parser *ps, const struct m2w_fb_table *t, unsigned id, size_t elem,
	struct m2w_tfl_vec *out)
{
	struct m2w_fb_vec v;

	if (m2w_fb_vector(&ps->fb, t, id, elem, &v, NULL) || charge(ps, (uint64_t)v.len * elem, v.pos))
		return -1;
	out->p = ps->fb.p + v.pos;
	out->n = v.len;
	out->off = m2w_fb_abs(&ps->fb, v.pos);
	return 0;
}

static int str(struct parser *ps, const struct m2w_fb_table *t, unsigned id, const char **s)
{
	uint32_t len;

	if (m2w_fb_string(&ps->fb, t, id, s, &len) || charge(ps, len, t->pos))
		return -1;
	if (!*s)
		*s = "";
	return 0;
}

/* Table vector `id` of `t`: its length, checked before the caller allocates. */
static int table_vec(struct parser *ps, const struct m2w_fb_table *t, unsigned id,
	struct m2w_fb_vec *v)
{
	return m2w_fb_vector(&ps->fb, t, id, 4, v, NULL);
}

static void *alloc(struct parser *ps, size_t count, size_t size, size_t pos)
{
	void *p = calloc(count ? count : 1, size);
	if (!p)
		m2w_err(ps->d, m2w_fb_abs(&ps->fb, pos), "out of memory for %zu entries", count);
	return p;
}

/* Indices into a table of `limit` entries; -1 allowed when `optional`. */
static int check_indices(struct parser *ps, const struct m2w_tfl_vec *v, uint32_t limit,
	bool optional, const char *what)
{
	for (uint32_t i = 0; i < v->n; i++) {
		int32_t x = m2w_tfl_i32(v, i);
		if ((x == -1 && optional) || (x >= 0 && (uint32_t)x < limit))
			continue;
		return m2w_err(ps->d, v->off + (uint64_t)i * 4, "%s %u is tensor %d, limit %u", what, i,
			(int)x, limit);
	}
	return 0;
}

static int read_dims(struct parser *ps, const struct m2w_fb_table *t, unsigned id, int *ndim,
	int32_t *dims, bool signature)
{
	struct m2w_tfl_vec v;
	bool present;
	struct m2w_fb_vec fv;

	if (m2w_fb_vector(&ps->fb, t, id, 4, &fv, &present))
		return -1;
	if (!present && signature) {
		*ndim = -1;
		return 0;
	}
	if (vec(ps, t, id, 4, &v))
		return -1;
	if (v.n > M2W_MAX_DIMS)
		return m2w_err(ps->d, v.off - 4, "tensor has %u dims, limit %d", v.n, M2W_MAX_DIMS);
	for (uint32_t i = 0; i < v.n; i++) {
		dims[i] = m2w_tfl_i32(&v, i);
		if (dims[i] < (signature ? -1 : 0))
			return m2w_err(ps->d, v.off + 4 * (uint64_t)i, "dim %u is %d, limit %d", i,
				(int)dims[i], signature ? -1 : 0);
	}
	*ndim = (int)v.n;
	return 0;
}

static int parse_quant(struct parser *ps, const struct m2w_fb_table *t, struct m2w_tfl_tensor *x)
{
	struct m2w_fb_table q;
	struct m2w_tfl_quant *qp = &x->quant;
	bool present;

	if (m2w_fb_table_ref(&ps->fb, t, T_QUANT, &q, &present))
		return -1;
	if (!present)
		return 0;
	qp->present = true;
	if (vec(ps, &q, Q_MIN, 4, &qp->min) || vec(ps, &q, Q_MAX, 4, &qp->max) ||
		vec(ps, &q, Q_SCALE, 4, &qp->scale) || vec(ps, &q, Q_ZERO, 8, &qp->zero_point) ||
		m2w_fb_u8(&ps->fb, &q, Q_DETAILS_TYPE, 0, &qp->details_type) ||
		m2w_fb_i32(&ps->fb, &q, Q_DIM, 0, &qp->quantized_dimension))
		return -1;
	if (qp->details_type)
		return 0; /* custom quantization: the affine fields are ignored by TFLite too */
	if (qp->zero_point.n && qp->zero_point.n != qp->scale.n)
		return m2w_err(ps->d, qp->zero_point.off - 4, "tensor '%s': %u zero points for %u scales",
			x->name, qp->zero_point.n, qp->scale.n);
	if (qp->scale.n > 1) {
		int32_t dim = qp->quantized_dimension;
		if (dim < 0 || dim >= x->ndim)
			return m2w_err(ps->d, m2w_fb_abs(&ps->fb, q.pos),
				"tensor '%s': quantized_dimension %d, tensor has %d dims", x->name, (int)dim,
				x->ndim);
		if ((uint32_t)x->shape[dim] != qp->scale.n)
			return m2w_err(ps->d, qp->scale.off - 4, "tensor '%s': %u scales for dim %d of size %d",
				x->name, qp->scale.n, (int)dim, (int)x->shape[dim]);
	}
	return 0;
}

static int parse_tensor(struct parser *ps, const struct m2w_fb_table *t, struct m2w_tfl_tensor *x)
{
	struct m2w_fb_table sp;

	x->off = m2w_fb_abs(&ps->fb, t->pos);
	if (read_dims(ps, t, T_SHAPE, &x->ndim, x->shape, false) ||
		read_dims(ps, t, T_SHAPE_SIG, &x->sig_ndim, x->shape_signature, true) ||
		m2w_fb_u8(&ps->fb, t, T_TYPE, 0, &x->type) ||
		m2w_fb_u32(&ps->fb, t, T_BUFFER, 0, &x->buffer) || str(ps, t, T_NAME, &x->name) ||
		m2w_fb_table_ref(&ps->fb, t, T_SPARSITY, &sp, &x->sparse))
		return -1;
	uint8_t b;
	if (m2w_fb_u8(&ps->fb, t, T_VARIABLE, 0, &b))
		return -1;
	x->is_variable = b != 0;
	if (m2w_fb_u8(&ps->fb, t, T_HAS_RANK, 0, &b))
		return -1;
	x->has_rank = b != 0;
	if (x->sig_ndim >= 0 && x->sig_ndim != x->ndim)
		return m2w_err(ps->d, x->off, "tensor '%s': shape_signature has %d dims, shape %d",
			x->name, x->sig_ndim, x->ndim);
	if (x->buffer >= ps->m->nbuffers && !(x->buffer == 0 && ps->m->nbuffers == 0))
		return m2w_err(ps->d, x->off, "tensor '%s' uses buffer %u, limit %u", x->name,
			x->buffer, ps->m->nbuffers);
	if (parse_quant(ps, t, x))
		return -1;
	/* a constant's bytes must match its shape, or later readers overrun it */
	uint64_t want;
	if (x->buffer < ps->m->nbuffers && ps->m->buffers[x->buffer].size &&
		m2w_tflite_tensor_bytes(x, &want) && want != ps->m->buffers[x->buffer].size)
		return m2w_err(ps->d, x->off, "tensor '%s' needs %llu bytes, its buffer %u has %llu",
			x->name, (unsigned long long)want, x->buffer,
			(unsigned long long)ps->m->buffers[x->buffer].size);
	return 0;
}

static int parse_operator(struct parser *ps, const struct m2w_fb_table *t,
	const struct m2w_tfl_subgraph *sg, struct m2w_tfl_operator *op)
{
	struct m2w_tfl_vec custom;
	uint64_t large_off, large_size;

	op->off = m2w_fb_abs(&ps->fb, t->pos);
	if (m2w_fb_u32(&ps->fb, t, OP_OPCODE, 0, &op->opcode_index) ||
		vec(ps, t, OP_INPUTS, 4, &op->inputs) || vec(ps, t, OP_OUTPUTS, 4, &op->outputs) ||
		vec(ps, t, OP_INTERMEDIATES, 4, &op->intermediates) ||
		m2w_fb_union(&ps->fb, t, OP_OPTIONS_TYPE, &op->builtin_options_type, &op->options) ||
		m2w_fb_union(&ps->fb, t, OP_OPTIONS2_TYPE, &op->builtin_options2_type, &op->options2) ||
		vec(ps, t, OP_CUSTOM, 1, &custom) ||
		m2w_fb_u64(&ps->fb, t, OP_LARGE_OFF, 0, &large_off) ||
		m2w_fb_u64(&ps->fb, t, OP_LARGE_SIZE, 0, &large_size))
		return -1;
	if (op->opcode_index >= ps->m->nopcodes)
		return m2w_err(ps->d, op->off, "operator uses opcode %u, limit %u", op->opcode_index,
			ps->m->nopcodes);
	if (large_off > 1 && (large_off > ps->fb.n || large_size > ps->fb.n - large_off))
		return m2w_err(ps->d, op->off, "custom options at 0x%llx + %llu past the end (0x%zx)",
			(unsigned long long)large_off, (unsigned long long)large_size, ps->fb.n);
	op->custom_options = custom.n > 0 || large_off > 1;
	if (check_indices(ps, &op->inputs, sg->ntensors, true, "operator input") ||
		check_indices(ps, &op->outputs, sg->ntensors, true, "operator output") ||
		check_indices(ps, &op->intermediates, sg->ntensors, true, "operator intermediate"))
		return -1;
	return 0;
}

static int parse_subgraph(struct parser *ps, const struct m2w_fb_table *t,
	struct m2w_tfl_subgraph *sg)
{
	struct m2w_fb_vec tv, ov;
	struct m2w_fb_table sub;

	sg->off = m2w_fb_abs(&ps->fb, t->pos);
	if (str(ps, t, SG_NAME, &sg->name) || table_vec(ps, t, SG_TENSORS, &tv) ||
		table_vec(ps, t, SG_OPERATORS, &ov) || vec(ps, t, SG_INPUTS, 4, &sg->inputs) ||
		vec(ps, t, SG_OUTPUTS, 4, &sg->outputs))
		return -1;
	if (!(sg->tensors = alloc(ps, tv.len, sizeof *sg->tensors, tv.pos)))
		return -1;
	sg->ntensors = tv.len;
	for (uint32_t i = 0; i < tv.len; i++)
		if (m2w_fb_vec_table(&ps->fb, &tv, i, t->depth, &sub) ||
			parse_tensor(ps, &sub, &sg->tensors[i]))
			return -1;
	if (check_indices(ps, &sg->inputs, sg->ntensors, false, "subgraph input") ||
		check_indices(ps, &sg->outputs, sg->ntensors, false, "subgraph output"))
		return -1;
	if (!(sg->operators = alloc(ps, ov.len, sizeof *sg->operators, ov.pos)))
		return -1;
	sg->noperators = ov.len;
	for (uint32_t i = 0; i < ov.len; i++)
		if (m2w_fb_vec_table(&ps->fb, &ov, i, t->depth, &sub) ||
			parse_operator(ps, &sub, sg, &sg->operators[i]))
			return -1;
	return 0;
}

static int parse_buffer(struct parser *ps, const struct m2w_fb_table *t, struct m2w_tfl_buffer *b)
{
	struct m2w_fb_vec data;
	uint64_t off, size;

	/* data isn't charged: it is read once, not through shared offsets */
	if (m2w_fb_vector(&ps->fb, t, BUF_DATA, 1, &data, NULL) ||
		m2w_fb_u64(&ps->fb, t, BUF_OFFSET, 0, &off) ||
		m2w_fb_u64(&ps->fb, t, BUF_SIZE, 0, &size))
		return -1;
	if (off > 1) {
		if (data.len)
			return m2w_err(ps->d, m2w_fb_abs(&ps->fb, t->pos),
				"buffer has both inline data and an offset");
		if (off > ps->fb.n || size > ps->fb.n - off)
			return m2w_err(ps->d, m2w_fb_abs(&ps->fb, t->pos),
				"buffer at 0x%llx + %llu bytes past the end of the file (0x%zx)",
				(unsigned long long)off, (unsigned long long)size, ps->fb.n);
		b->external = true;
		b->data = size ? ps->fb.p + off : NULL;
		b->size = size;
		b->off = m2w_fb_abs(&ps->fb, (size_t)off);
		return 0;
	}
	b->data = data.len ? ps->fb.p + data.pos : NULL;
	b->size = data.len;
	b->off = m2w_fb_abs(&ps->fb, data.pos);
	return 0;
}

static int parse_tensormaps(struct parser *ps, const struct m2w_fb_table *t, unsigned id,
	const struct m2w_tflite *m, uint32_t subgraph, struct m2w_tfl_tensormap **out, uint32_t *n)
{
	struct m2w_fb_vec v;
	struct m2w_fb_table sub;

	if (table_vec(ps, t, id, &v) || !(*out = alloc(ps, v.len, sizeof **out, v.pos)))
		return -1;
	*n = v.len;
	for (uint32_t i = 0; i < v.len; i++) {
		struct m2w_tfl_tensormap *tm = &(*out)[i];
		if (m2w_fb_vec_table(&ps->fb, &v, i, t->depth, &sub) ||
			str(ps, &sub, TMAP_NAME, &tm->name) ||
			m2w_fb_u32(&ps->fb, &sub, TMAP_TENSOR, 0, &tm->tensor))
			return -1;
		if (tm->tensor >= m->subgraphs[subgraph].ntensors)
			return m2w_err(ps->d, m2w_fb_abs(&ps->fb, sub.pos),
				"signature tensor '%s' is %u, limit %u", tm->name, tm->tensor,
				m->subgraphs[subgraph].ntensors);
	}
	return 0;
}

static int parse_model(struct parser *ps)
{
	struct m2w_tflite *m = ps->m;
	struct m2w_fb_table root, sub;
	struct m2w_fb_vec cv, sv, bv, mv, gv, mbv;

	/* metadata_buffer (deprecated, [int]) is not used, but its bounds are checked */
	if (m2w_fb_root(&ps->fb, "TFL3", &root) ||
		table_vec(ps, &root, MODEL_METADATA_BUFFER, &mbv) ||
		m2w_fb_u32(&ps->fb, &root, MODEL_VERSION, 0, &m->version) ||
		str(ps, &root, MODEL_DESCRIPTION, &m->description) ||
		table_vec(ps, &root, MODEL_OPCODES, &cv) || table_vec(ps, &root, MODEL_SUBGRAPHS, &sv) ||
		table_vec(ps, &root, MODEL_BUFFERS, &bv) || table_vec(ps, &root, MODEL_METADATA, &mv) ||
		table_vec(ps, &root, MODEL_SIGNATURES, &gv))
		return -1;
	if (m->version != 3)
		return m2w_err(ps->d, m2w_fb_abs(&ps->fb, root.pos), "schema version %u, expected 3",
			m->version);

	/* buffers and opcodes first: tensors and operators are checked against them */
	if (!(m->buffers = alloc(ps, bv.len, sizeof *m->buffers, bv.pos)))
		return -1;
	m->nbuffers = bv.len;
	for (uint32_t i = 0; i < bv.len; i++)
		if (m2w_fb_vec_table(&ps->fb, &bv, i, root.depth, &sub) ||
			parse_buffer(ps, &sub, &m->buffers[i]))
			return -1;

	if (!(m->opcodes = alloc(ps, cv.len, sizeof *m->opcodes, cv.pos)))
		return -1;
	m->nopcodes = cv.len;
	for (uint32_t i = 0; i < cv.len; i++) {
		struct m2w_tfl_opcode *c = &m->opcodes[i];
		int8_t dep;
		if (m2w_fb_vec_table(&ps->fb, &cv, i, root.depth, &sub) ||
			m2w_fb_i8(&ps->fb, &sub, OPCODE_DEPRECATED, 0, &dep) ||
			m2w_fb_i32(&ps->fb, &sub, OPCODE_BUILTIN, 0, &c->builtin) ||
			m2w_fb_i32(&ps->fb, &sub, OPCODE_VERSION, 1, &c->version))
			return -1;
		uint32_t len;
		if (m2w_fb_string(&ps->fb, &sub, OPCODE_CUSTOM, &c->custom, &len))
			return -1;
		/* schema.fbs: old writers fill only the byte field, new ones both */
		if (dep > c->builtin)
			c->builtin = dep;
		if (c->builtin < 0)
			return m2w_err(ps->d, m2w_fb_abs(&ps->fb, sub.pos), "builtin code %d, limit 0",
				(int)c->builtin);
	}

	if (!sv.len)
		return m2w_err(ps->d, m2w_fb_abs(&ps->fb, root.pos), "model has no subgraph");
	if (!(m->subgraphs = alloc(ps, sv.len, sizeof *m->subgraphs, sv.pos)))
		return -1;
	m->nsubgraphs = sv.len;
	for (uint32_t i = 0; i < sv.len; i++)
		if (m2w_fb_vec_table(&ps->fb, &sv, i, root.depth, &sub) ||
			parse_subgraph(ps, &sub, &m->subgraphs[i]))
			return -1;

	if (!(m->metadata = alloc(ps, mv.len, sizeof *m->metadata, mv.pos)))
		return -1;
	m->nmetadata = mv.len;
	for (uint32_t i = 0; i < mv.len; i++) {
		struct m2w_tfl_metadata *md = &m->metadata[i];
		if (m2w_fb_vec_table(&ps->fb, &mv, i, root.depth, &sub) ||
			str(ps, &sub, META_NAME, &md->name) ||
			m2w_fb_u32(&ps->fb, &sub, META_BUFFER, 0, &md->buffer))
			return -1;
		if (md->buffer >= m->nbuffers)
			return m2w_err(ps->d, m2w_fb_abs(&ps->fb, sub.pos),
				"metadata '%s' uses buffer %u, limit %u", md->name, md->buffer, m->nbuffers);
	}

	if (!(m->signatures = alloc(ps, gv.len, sizeof *m->signatures, gv.pos)))
		return -1;
	m->nsignatures = gv.len;
	for (uint32_t i = 0; i < gv.len; i++) {
		struct m2w_tfl_signature *s = &m->signatures[i];
		if (m2w_fb_vec_table(&ps->fb, &gv, i, root.depth, &sub) ||
			str(ps, &sub, SIG_KEY, &s->key) ||
			m2w_fb_u32(&ps->fb, &sub, SIG_SUBGRAPH, 0, &s->subgraph))
			return -1;
		if (s->subgraph >= m->nsubgraphs)
			return m2w_err(ps->d, m2w_fb_abs(&ps->fb, sub.pos),
				"signature '%s' names subgraph %u, limit %u", s->key, s->subgraph,
				m->nsubgraphs);
		if (parse_tensormaps(ps, &sub, SIG_INPUTS, m, s->subgraph, &s->inputs, &s->ninputs) ||
			parse_tensormaps(ps, &sub, SIG_OUTPUTS, m, s->subgraph, &s->outputs, &s->noutputs))
			return -1;
	}
	return 0;
}

int m2w_tflite_parse(const uint8_t *p, size_t n, uint64_t base, struct m2w_tflite **out,
	struct m2w_diag *d)
{
	struct parser ps = {.fb = {p, n, base, d}, .d = d};

	*out = NULL;
	if (!(ps.m = calloc(1, sizeof *ps.m)))
		return m2w_err(d, M2W_NO_OFFSET, "out of memory");
	ps.m->p = p;
	ps.m->n = n;
	ps.m->base = base;
	ps.budget = (uint64_t)n * M2W_TFL_MAX_AMPLIFY + (1u << 20);
	if (parse_model(&ps)) {
		m2w_tflite_free(ps.m);
		return -1;
	}
	*out = ps.m;
	return 0;
}

void m2w_tflite_fb(const struct m2w_tflite *m, struct m2w_diag *d, struct m2w_fb *fb)
{
	*fb = (struct m2w_fb){m->p, m->n, m->base, d};
}

void m2w_tflite_free(struct m2w_tflite *m)
{
	if (!m)
		return;
	for (uint32_t i = 0; i < m->nsubgraphs; i++) {
		free(m->subgraphs[i].tensors);
		free(m->subgraphs[i].operators);
	}
	for (uint32_t i = 0; i < m->nsignatures; i++) {
		free(m->signatures[i].inputs);
		free(m->signatures[i].outputs);
	}
	free(m->subgraphs);
	free(m->opcodes);
	free(m->buffers);
	free(m->metadata);
	free(m->signatures);
	free(m);
}
