/* extract_int: what the format front-ends (extract_onnx.c, extract_tflite.c,
 * extract_gguf.c) hand to the common engine (extract.c): a list of tensors,
 * each with its source shape, element encoding, optional dequantization
 * and optional permutation, and a function that streams its source bytes.
 */
#ifndef M2W_EXTRACT_INT_H
#define M2W_EXTRACT_INT_H

#include "extract.h"
#include "quant.h"

/* How the source bytes encode elements. */
enum xt_codec {
	XT_PLAIN,      /* little-endian elements of xt_tensor.sdt */
	XT_F8E4M3FN, XT_F8E4M3FNUZ, XT_F8E5M2, XT_F8E5M2FNUZ, XT_F8E8M0,
	XT_F4E2M1,     /* two per byte, low nibble first */
	XT_I4, XT_U4,  /* two per byte, low nibble first */
	XT_I2, XT_U2,  /* four per byte, low bits first */
	XT_GGML,       /* ggml blocks of xt_tensor.ggml */
};

/* value = (float(q) - float(zp)) * scale, in f32, with the scale entry
 * for source element coordinates c[] at sum_k (c[k] / block[k]) * stride[k]
 * where stride[k] is 0 along dims the scale is broadcast over. */
struct xt_quant {
	const char *op;        /* "DequantizeLinear", "QLinearConv", "tflite" ... */
	int axis;              /* source axis of per-axis params; -1 per-tensor */
	int64_t block_size;    /* blocked (DequantizeLinear opset 21); 0 otherwise */
	uint64_t n;            /* scale entries */
	uint64_t sdim[M2W_MAX_DIMS]; /* scale extent per source dim (1: broadcast) */
	uint64_t block[M2W_MAX_DIMS];
	float *scale;
	int64_t *zp;           /* NULL: zero */
	char *scale_name, *zp_name; /* ONNX: where they came from */
	char *note;            /* e.g. how a MatMulInteger scale was found */
};

struct xt_tensor {
	char *uname;   /* unique name (source name, disambiguated) */
	char *name;    /* manifest name (after --names) */
	char *source;  /* name in the model */
	const char *kind;  /* "initializer", "constant", "tensor" */
	char *graph;   /* ONNX subgraph path / TFLite subgraph; NULL: main */
	int ndim;
	uint64_t dims[M2W_MAX_DIMS]; /* source shape */
	int perm[M2W_MAX_DIMS];      /* output dim k is source dim perm[k] */
	bool permuted;
	char *layout;  /* note on the layout change, or NULL */
	enum xt_codec codec;
	enum m2w_dtype sdt;    /* PLAIN: element type; I4/U4/I2/U2: I8/U8 */
	const struct m2w_ggml_type *ggml;
	const char *src_dtype; /* manifest name of the source dtype */
	struct xt_quant *q;
	const char *unsupported; /* why it can't be converted (an error if selected) */
	uint64_t count;
	uint64_t src_bytes;    /* bytes the stream delivers */
	uint64_t doff;         /* file offset of the tensor, for messages */
	/* front-end handle */
	const void *h;
	int hkind;
	/* filled by the engine */
	bool selected, is_float;
	enum m2w_dtype odt;
	uint64_t offset, out_bytes, overflow;
};

struct xt_skip {
	char *name, *dtype, *why;
};

struct xt_ctx;
typedef int (*xt_sink)(void *ctx, const void *p, size_t n, struct m2w_diag *d);
typedef int (*xt_stream_fn)(struct xt_ctx *x, const struct xt_tensor *t, xt_sink sink,
	void *sctx, struct m2w_diag *d);

struct xt_ctx {
	const char *path;      /* the model, for messages */
	const struct m2w_extract_opts *o;
	const char *format;    /* "onnx", "tflite", "gguf" */
	struct xt_tensor *t;
	size_t n, cap;
	struct xt_skip *skip;
	size_t nskip, skipcap;
	char **deps;
	size_t ndeps;
	const uint8_t *map;    /* the mapped model: converted pages are released */
	size_t map_size;
	int fd;                /* the model, for pread of bulk data; -1 if none */
	uint8_t *bounce;       /* pread buffer (RELEASE bytes) */
	xt_stream_fn stream;
	void *fe;              /* front-end state */
	void (*fe_free)(struct xt_ctx *x);
};

/* Appends a zeroed tensor (NULL on allocation failure); pointers to earlier
 * tensors stay valid only until the next call. */
struct xt_tensor *xt_add(struct xt_ctx *x);
int xt_add_skip(struct xt_ctx *x, const char *name, const char *dtype, const char *why);
int xt_add_dep(struct xt_ctx *x, const char *path);
void xt_warn(struct xt_ctx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void xt_quant_free(struct xt_quant *q);
/* 0 when q's params fit tensor t (counts, zero scales, zero-point range
 * for the source integer type), else an error naming t at `off`. */
int xt_quant_check(const struct xt_tensor *t, const struct xt_quant *q, uint64_t scale_off,
	uint64_t zp_off, struct m2w_diag *d);
/* Sets q->sdim/block for per-tensor (axis < 0) or one axis; the count must
 * match.  Error (naming the tensor) when not. */
int xt_quant_axis(const struct xt_tensor *t, struct xt_quant *q, int axis, uint64_t off,
	struct m2w_diag *d);

/* Front-ends: fill x (tensors, stream function, deps). */
int xt_onnx_open(struct xt_ctx *x, const uint8_t *p, size_t n, struct m2w_diag *d);
int xt_tflite_open(struct xt_ctx *x, const uint8_t *p, size_t n, struct m2w_diag *d);
int xt_gguf_open(struct xt_ctx *x, const uint8_t *p, size_t n, struct m2w_diag *d);
/* A bare TensorProto: one tensor (strings kept, as M2W_DT_STRING). */
int xt_onnx_tensorpb_open(struct xt_ctx *x, const uint8_t *p, size_t n, struct m2w_diag *d);

/* ---- element codecs (extract_codec.c) ---- */

/* Source elements per unit and bytes per unit: a unit is the smallest
 * run of whole bytes holding whole elements (a ggml block, a packed byte). */
void xt_codec_unit(const struct xt_tensor *t, uint64_t *elems, size_t *bytes);
/* Decodes n elements starting at unit boundary p into floats.  For f64
 * sources headed for f16, round_odd rounds to odd so that the second
 * rounding (f32 -> f16) is correct. */
void xt_decode_float(const struct xt_tensor *t, const uint8_t *p, uint64_t n, float *out,
	bool round_odd);
/* Integer path: n elements to t->odt bytes (unpacks 4-/2-bit types). */
void xt_decode_int(const struct xt_tensor *t, const uint8_t *p, uint64_t n, uint8_t *out);
/* f32 (unaligned source) -> f16, RNE; *overflow += finite values that
 * became inf. */
void xt_f32_to_f16(const void *src, uint16_t *dst, size_t n, uint64_t *overflow);
/* Exact double value of one source element (the verify reference). */
double xt_ref_element(const struct xt_tensor *t, const uint8_t *src, uint64_t i);
/* f8/f4 decoders by codec. */
float xt_f8_to_f32(enum xt_codec c, uint8_t v);

/* small helpers */
char *xt_strndup(const char *s, size_t n);
char *xt_shape_str(const uint64_t *dims, int ndim); /* "3x3x16", "scalar" */

#endif
