/* onnx: the protobuf wire format and the ONNX messages (onnx.proto, IR 3-11)
 * as a read-only C tree over a mapped model.
 *
 * m2w_onnx_parse() walks the bytes once per message level and builds the
 * tree in one arena.  Nothing is copied out of the mapping: strings are
 * (pointer, length) pairs into it (not NUL-terminated), tensor data stays
 * where it is and is read later through m2w_onnx_tensor_stream(), which
 * decodes raw_data, the typed fields (packed or not) and external data into
 * plain little-endian elements.  The mapping must outlive the model.
 *
 * Every allocation is sized from a count taken from the bytes themselves
 * (a repeated field's occurrences, a packed field's elements), so the tree
 * is never larger than a small multiple of the file.
 */
#ifndef M2W_ONNX_H
#define M2W_ONNX_H

#include "m2w.h"

/* A string or bytes field: points into the mapping, n bytes, no NUL. */
struct m2w_pbstr {
	const char *p;
	size_t n;
};

bool m2w_pbstr_eq(struct m2w_pbstr s, const char *z);
/* malloc'd NUL-terminated copy (NULL on allocation failure). */
char *m2w_pbstr_dup(struct m2w_pbstr s);

/* TensorProto.DataType */
enum m2w_onnx_dt {
	M2W_ONNX_UNDEFINED = 0, M2W_ONNX_FLOAT = 1, M2W_ONNX_UINT8 = 2,
	M2W_ONNX_INT8 = 3, M2W_ONNX_UINT16 = 4, M2W_ONNX_INT16 = 5,
	M2W_ONNX_INT32 = 6, M2W_ONNX_INT64 = 7, M2W_ONNX_STRING = 8,
	M2W_ONNX_BOOL = 9, M2W_ONNX_FLOAT16 = 10, M2W_ONNX_DOUBLE = 11,
	M2W_ONNX_UINT32 = 12, M2W_ONNX_UINT64 = 13, M2W_ONNX_COMPLEX64 = 14,
	M2W_ONNX_COMPLEX128 = 15, M2W_ONNX_BFLOAT16 = 16,
	M2W_ONNX_FLOAT8E4M3FN = 17, M2W_ONNX_FLOAT8E4M3FNUZ = 18,
	M2W_ONNX_FLOAT8E5M2 = 19, M2W_ONNX_FLOAT8E5M2FNUZ = 20,
	M2W_ONNX_UINT4 = 21, M2W_ONNX_INT4 = 22, M2W_ONNX_FLOAT4E2M1 = 23,
	M2W_ONNX_FLOAT8E8M0 = 24, M2W_ONNX_UINT2 = 25, M2W_ONNX_INT2 = 26,
	M2W_ONNX_DT__COUNT
};

/* "f32", "i64", "f8e4m3fn", "u4" ... (DESIGN.md names); NULL if unknown. */
const char *m2w_onnx_dtype_name(int32_t dt);
/* Bits per element: 4 for int4/uint4/float4, 2 for int2/uint2, 0 for
 * string/undefined/unknown. */
unsigned m2w_onnx_dtype_bits(int32_t dt);
/* The shared enum where one exists, else M2W_DT_UNKNOWN. */
enum m2w_dtype m2w_onnx_dtype_to_m2w(int32_t dt);
/* Bytes of count elements (sub-byte types packed, rounded up); false on
 * overflow or for string/unknown types. */
bool m2w_onnx_dtype_bytes(int32_t dt, uint64_t count, uint64_t *bytes);

struct m2w_kv {
	struct m2w_pbstr key, value;
};

enum m2w_onnx_store {
	M2W_ONNX_STORE_NONE,     /* no data field at all (valid only if count == 0) */
	M2W_ONNX_STORE_RAW,      /* raw_data, in the mapping */
	M2W_ONNX_STORE_TYPED,    /* float_data, int32_data, ... (typed_field) */
	M2W_ONNX_STORE_EXTERNAL, /* data_location EXTERNAL */
};

struct m2w_onnx_tensor {
	struct m2w_pbstr name, doc_string;
	int32_t data_type;
	size_t ndim;
	int64_t *dims;
	uint64_t count;  /* product of dims (1 for a scalar) */
	uint64_t nbytes; /* size of the decoded data; strings: sum of lengths */
	enum m2w_onnx_store store;
	const uint8_t *raw; /* RAW: raw_data */
	int typed_field;    /* TYPED: 4 float, 5 int32, 6 string, 7 int64, 10 double, 11 uint64 */
	uint64_t typed_count; /* TYPED: entries in that field (packed and unpacked) */
	struct m2w_pbstr ext_location; /* EXTERNAL */
	uint64_t ext_offset, ext_length;
	bool ext_has_length;
	size_t nexternal;
	struct m2w_kv *external;
	size_t off, end;  /* the TensorProto's bytes in the file */
	size_t data_off;  /* RAW: offset of raw_data; TYPED: first typed payload */
	bool has_segment;
};

struct m2w_onnx_sparse {
	struct m2w_onnx_tensor values, indices;
	bool has_values, has_indices;
	size_t ndim;
	int64_t *dims;
	uint64_t count; /* product of dims */
	size_t off;
};

struct m2w_onnx_type;

enum m2w_onnx_dim_kind { M2W_ONNX_DIM_UNKNOWN, M2W_ONNX_DIM_VALUE, M2W_ONNX_DIM_PARAM };
struct m2w_onnx_dim {
	enum m2w_onnx_dim_kind kind;
	int64_t value;
	struct m2w_pbstr param, denotation;
};

enum m2w_onnx_type_kind {
	M2W_ONNX_TYPE_NONE, M2W_ONNX_TYPE_TENSOR, M2W_ONNX_TYPE_SEQUENCE,
	M2W_ONNX_TYPE_MAP, M2W_ONNX_TYPE_OPTIONAL, M2W_ONNX_TYPE_SPARSE,
	M2W_ONNX_TYPE_OPAQUE,
};
struct m2w_onnx_type {
	enum m2w_onnx_type_kind kind;
	int32_t elem_type; /* TENSOR, SPARSE; MAP: key type */
	bool has_shape;    /* TENSOR, SPARSE: shape present (a scalar has ndim 0) */
	size_t ndim;
	struct m2w_onnx_dim *dims;
	struct m2w_onnx_type *elem; /* SEQUENCE, OPTIONAL: element; MAP: value */
	struct m2w_pbstr denotation, opaque_domain, opaque_name;
};

struct m2w_onnx_value_info {
	struct m2w_pbstr name, doc_string;
	bool has_type;
	struct m2w_onnx_type type;
	size_t off, end; /* the ValueInfoProto's payload (copied verbatim by expose) */
};

/* AttributeProto.AttributeType */
enum m2w_onnx_attr_type {
	M2W_ONNX_ATTR_UNDEFINED = 0, M2W_ONNX_ATTR_FLOAT = 1, M2W_ONNX_ATTR_INT = 2,
	M2W_ONNX_ATTR_STRING = 3, M2W_ONNX_ATTR_TENSOR = 4, M2W_ONNX_ATTR_GRAPH = 5,
	M2W_ONNX_ATTR_FLOATS = 6, M2W_ONNX_ATTR_INTS = 7, M2W_ONNX_ATTR_STRINGS = 8,
	M2W_ONNX_ATTR_TENSORS = 9, M2W_ONNX_ATTR_GRAPHS = 10,
	M2W_ONNX_ATTR_SPARSE_TENSOR = 11, M2W_ONNX_ATTR_SPARSE_TENSORS = 12,
	M2W_ONNX_ATTR_TYPE_PROTO = 13, M2W_ONNX_ATTR_TYPE_PROTOS = 14,
};

struct m2w_onnx_graph;

struct m2w_onnx_attr {
	struct m2w_pbstr name, ref_attr_name, doc_string;
	int32_t type; /* as stored; 0 if absent (IR 1) */
	float f;
	int64_t i;
	struct m2w_pbstr s;
	struct m2w_onnx_tensor *t;
	struct m2w_onnx_graph *g;
	struct m2w_onnx_sparse *sparse_tensor;
	struct m2w_onnx_type *tp;
	size_t nfloats, nints, nstrings, ntensors, ngraphs, nsparse_tensors, ntype_protos;
	float *floats;
	int64_t *ints;
	struct m2w_pbstr *strings;
	struct m2w_onnx_tensor *tensors;
	struct m2w_onnx_graph *graphs;
	struct m2w_onnx_sparse *sparse_tensors;
	struct m2w_onnx_type *type_protos;
	size_t off;
};

struct m2w_onnx_node {
	struct m2w_pbstr name, op_type, domain, overload, doc_string;
	size_t ninputs, noutputs, nattrs, nmetadata;
	struct m2w_pbstr *inputs, *outputs;
	struct m2w_onnx_attr *attrs;
	struct m2w_kv *metadata;
	size_t off;
};

struct m2w_onnx_graph {
	struct m2w_pbstr name, doc_string;
	size_t nnodes, ninits, nsparse, ninputs, noutputs, nvalue_info, nmetadata;
	struct m2w_onnx_node *nodes;
	struct m2w_onnx_tensor *inits;
	struct m2w_onnx_sparse *sparse;
	struct m2w_onnx_value_info *inputs, *outputs, *value_info;
	struct m2w_kv *metadata;
	size_t off, end; /* payload bytes */
};

struct m2w_onnx_opset {
	struct m2w_pbstr domain; /* "" is the default domain, ai.onnx */
	int64_t version;
};

struct m2w_onnx_function {
	struct m2w_pbstr name, domain, overload;
	size_t ninputs, noutputs, nnodes, nopsets;
	struct m2w_pbstr *inputs, *outputs;
	struct m2w_onnx_node *nodes;
	struct m2w_onnx_opset *opsets;
};

struct m2w_onnx_arena;

struct m2w_onnx_model {
	const uint8_t *base;
	size_t size;
	char *dir; /* the model's folder (external data), or NULL */
	int64_t ir_version, model_version;
	struct m2w_pbstr producer_name, producer_version, domain, doc_string;
	size_t nopsets, nmetadata, nfunctions, ntraining_info;
	struct m2w_onnx_opset *opsets;
	struct m2w_kv *metadata;
	struct m2w_onnx_function *functions;
	struct m2w_onnx_graph *graph; /* NULL when the model has none */
	size_t graph_field_off;       /* the graph field's tag, in the file */
	/* m2w_onnx_parse_tensorpb: the one tensor of a bare TensorProto file */
	struct m2w_onnx_tensor *tensor;
	struct m2w_onnx_arena *arena;
};

/* Parses a mapped ModelProto.  dir (may be NULL) resolves external data;
 * it is copied.  On failure *out is NULL and d says where. */
int m2w_onnx_parse(const uint8_t *p, size_t n, const char *dir,
	struct m2w_onnx_model **out, struct m2w_diag *d);
/* Parses a bare TensorProto (ONNX test data input_0.pb); graph is NULL. */
int m2w_onnx_parse_tensorpb(const uint8_t *p, size_t n, const char *dir,
	struct m2w_onnx_model **out, struct m2w_diag *d);
void m2w_onnx_free(struct m2w_onnx_model *m);

/* The external data file of t as "dir/location", malloc'd, after checking
 * that location is relative, stays inside dir (no '..' above it, no
 * symlink out of it) and that offset + length fit in the file. */
int m2w_onnx_external_path(const struct m2w_onnx_model *m,
	const struct m2w_onnx_tensor *t, char **path, struct m2w_diag *d);

/* Receives decoded element bytes, in order, in chunks. */
typedef int (*m2w_onnx_sink)(void *ctx, const void *p, size_t n, struct m2w_diag *d);

/* Streams t's data as little-endian elements of its data_type (what
 * raw_data would hold): raw_data as one chunk from the mapping, external
 * data from its mapped file, typed fields converted in small batches.
 * STRING tensors stream each string as an 8-byte little-endian length
 * followed by its bytes. */
int m2w_onnx_tensor_stream(const struct m2w_onnx_model *m,
	const struct m2w_onnx_tensor *t, m2w_onnx_sink sink, void *ctx,
	struct m2w_diag *d);
/* Whole tensor into dst, which must hold exactly t->nbytes. */
int m2w_onnx_tensor_read(const struct m2w_onnx_model *m,
	const struct m2w_onnx_tensor *t, void *dst, size_t dst_len,
	struct m2w_diag *d);

/* Calls fn on g and every subgraph below it (attributes g and graphs),
 * pre-order, node by node; depth 0 is g.  Stops at the first non-zero. */
typedef int (*m2w_onnx_graph_fn)(void *ctx, const struct m2w_onnx_graph *g, int depth);
int m2w_onnx_walk_graphs(const struct m2w_onnx_graph *g, m2w_onnx_graph_fn fn, void *ctx);

#endif
