/* gguf: a validating reader of GGUF headers (llama.cpp / ggml model files).
 *
 * m2w_gguf_parse() reads the header of a mapped file and checks all of it;
 * afterwards every view it hands out (keys, strings, array elements, tensor
 * data) points into the mapping and is known to lie inside it, so the
 * accessors below cannot fail on bounds.  Tensor data is never read by the
 * parser: a multi-GB model costs only its header pages.
 *
 * Typical use (m2w-pack):
 *
 *	struct m2w_gguf g;
 *	if (m2w_gguf_parse(f.data, f.size, &g, &d) < 0) ...
 *	for (uint64_t i = 0; i < g.n_tensors; i++) {
 *		const struct m2w_gguf_tensor *t = &g.tensors[i];
 *		... t->type->name, t->ne[0..n_dims), t->data, t->bytes ...
 *	}
 *	const struct m2w_gguf_kv *kv = m2w_gguf_find(&g, "tokenizer.ggml.tokens");
 *	struct m2w_gguf_iter it; struct m2w_gguf_value tok;
 *	m2w_gguf_iter_init(&it, &kv->value);
 *	while (m2w_gguf_iter_next(&it, &tok)) ... tok.p, tok.len ...
 *	m2w_gguf_free(&g);
 */
#ifndef M2W_GGUF_H
#define M2W_GGUF_H

#include "m2w.h"
#include "quant.h"

/* ggml's GGML_MAX_DIMS: a GGUF tensor has at most 4 dims. */
#ifndef M2W_GGUF_MAX_DIMS
#define M2W_GGUF_MAX_DIMS 4
#endif
/* ggml's GGML_MAX_NAME: tensor names are shorter than 64 bytes. */
#ifndef M2W_GGUF_MAX_TENSOR_NAME
#define M2W_GGUF_MAX_TENSOR_NAME 64
#endif
#define M2W_GGUF_DEFAULT_ALIGNMENT 32

/* Metadata value types, numbered as in the file. */
enum m2w_gguf_vtype {
	M2W_GGUF_U8 = 0, M2W_GGUF_I8 = 1, M2W_GGUF_U16 = 2, M2W_GGUF_I16 = 3,
	M2W_GGUF_U32 = 4, M2W_GGUF_I32 = 5, M2W_GGUF_F32 = 6, M2W_GGUF_BOOL = 7,
	M2W_GGUF_STRING = 8, M2W_GGUF_ARRAY = 9, M2W_GGUF_U64 = 10, M2W_GGUF_I64 = 11,
	M2W_GGUF_F64 = 12,
	M2W_GGUF_VTYPE_COUNT
};

/* "u8" "i8" ... "f32" "bool" "string" "array" "u64" "i64" "f64"; "unknown". */
const char *m2w_gguf_vtype_name(uint32_t t);
/* Bytes of one scalar; 0 for string and array (variable size). */
size_t m2w_gguf_vtype_size(uint32_t t);

/* A value in the mapping.
 *   scalar:  p = its little-endian bytes, len = m2w_gguf_vtype_size(type)
 *   string:  p = the bytes (UTF-8, not NUL-terminated), len = their count
 *   array:   p = its first element's encoding, len = bytes of all elements,
 *            elem_type, count; fixed-size elements can be indexed directly
 *            (p + i * m2w_gguf_vtype_size(elem_type)), others iterated. */
struct m2w_gguf_value {
	uint32_t type;
	uint32_t elem_type;
	uint64_t count;
	const uint8_t *p;
	uint64_t len;
	uint64_t off; /* file offset of p */
};

struct m2w_gguf_kv {
	const char *key; /* not NUL-terminated */
	uint64_t key_len;
	uint64_t off; /* file offset of the entry */
	struct m2w_gguf_value value;
};

struct m2w_gguf_tensor {
	const char *name; /* not NUL-terminated */
	uint64_t name_len;
	uint32_t n_dims;
	uint64_t ne[M2W_GGUF_MAX_DIMS]; /* ggml order (ne[0] = row length); 1 past n_dims */
	const struct m2w_ggml_type *type;
	uint64_t n_elements;
	uint64_t bytes;       /* unpadded */
	uint64_t offset;      /* absolute file offset of the data */
	const uint8_t *data;  /* base + offset */
	uint64_t info_off;    /* file offset of the tensor info */
};

struct m2w_gguf {
	const uint8_t *base;
	size_t size;
	uint32_t version;  /* 2 or 3 */
	uint32_t alignment;
	uint64_t n_kv;
	struct m2w_gguf_kv *kv;
	uint64_t n_tensors;
	struct m2w_gguf_tensor *tensors;
	uint64_t data_off;  /* absolute start of the data section */
	uint64_t data_size; /* sum of padded tensor sizes */
};

/* 0, or -1 with d filled and g left empty (nothing to free). */
int m2w_gguf_parse(const uint8_t *p, size_t n, struct m2w_gguf *g, struct m2w_diag *d);
void m2w_gguf_free(struct m2w_gguf *g);

const struct m2w_gguf_kv *m2w_gguf_find(const struct m2w_gguf *g, const char *key);
const struct m2w_gguf_tensor *m2w_gguf_find_tensor(const struct m2w_gguf *g,
	const char *name);

/* Scalar getters: false when the value's type does not fit the request
 * (a string, an array, a negative number as u64, a u64 above INT64_MAX as
 * i64).  _f64 takes any number; bools read as 0/1 through the integer ones. */
bool m2w_gguf_get_u64(const struct m2w_gguf_value *v, uint64_t *out);
bool m2w_gguf_get_i64(const struct m2w_gguf_value *v, int64_t *out);
bool m2w_gguf_get_f64(const struct m2w_gguf_value *v, double *out);
/* Strings only. */
bool m2w_gguf_get_str(const struct m2w_gguf_value *v, const char **s, uint64_t *len);

/* Length of the valid UTF-8 sequence at p (n bytes left); 0 for an invalid
 * one or a NUL byte. */
size_t m2w_utf8_seq(const uint8_t *p, size_t n);

/* Walks an array's elements in order (nested arrays come out as array
 * values to iterate in turn).  Only for values of a parsed m2w_gguf. */
struct m2w_gguf_iter {
	const struct m2w_gguf_value *arr;
	uint64_t i;
	uint64_t off; /* offset of the next element, relative to arr->p */
};
void m2w_gguf_iter_init(struct m2w_gguf_iter *it, const struct m2w_gguf_value *arr);
bool m2w_gguf_iter_next(struct m2w_gguf_iter *it, struct m2w_gguf_value *elem);

#endif
