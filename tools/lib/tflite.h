/* tflite: the TensorFlow Lite model format (schema.fbs, file identifier
 * "TFL3") read into plain structs that point into the mapped file.
 *
 * A Model holds operator_codes, subgraphs (0 is the main graph), buffers
 * (buffer 0 is the empty sentinel), a description string, metadata
 * (name -> buffer index) and signature_defs.  A SubGraph lists tensors, its
 * input/output tensor indices and its operators in execution order.  A
 * Tensor names a buffer by index; a Buffer either holds `data` inside the
 * flatbuffer or, in models over 2 GB, `offset`/`size` of bytes stored after
 * the flatbuffer (offset counted from the file start, meaningful when > 1).
 *
 * Everything is validated when parsed: tensor, buffer, opcode, subgraph and
 * metadata indices are in range (-1 allowed where the schema says optional),
 * shapes have at most M2W_MAX_DIMS non-negative dims (shape_signature may use
 * -1), a constant tensor's buffer holds exactly shape x element size bytes
 * (dense, fixed-size types), external buffers lie inside the file.  Vectors
 * shared through flatbuffer offsets could make a small file describe huge
 * data; the bytes referenced are limited to M2W_TFL_MAX_AMPLIFY times the
 * file size.
 */
#ifndef M2W_TFLITE_H
#define M2W_TFLITE_H

#include "flatbuf.h"
#include "m2w.h"

#ifndef M2W_TFL_MAX_AMPLIFY
#define M2W_TFL_MAX_AMPLIFY 8
#endif

/* schema.fbs TensorType */
enum m2w_tfl_type {
	M2W_TFL_FLOAT32 = 0, M2W_TFL_FLOAT16 = 1, M2W_TFL_INT32 = 2, M2W_TFL_UINT8 = 3,
	M2W_TFL_INT64 = 4, M2W_TFL_STRING = 5, M2W_TFL_BOOL = 6, M2W_TFL_INT16 = 7,
	M2W_TFL_COMPLEX64 = 8, M2W_TFL_INT8 = 9, M2W_TFL_FLOAT64 = 10, M2W_TFL_COMPLEX128 = 11,
	M2W_TFL_UINT64 = 12, M2W_TFL_RESOURCE = 13, M2W_TFL_VARIANT = 14, M2W_TFL_UINT32 = 15,
	M2W_TFL_UINT16 = 16, M2W_TFL_INT4 = 17, M2W_TFL_BFLOAT16 = 18, M2W_TFL_INT2 = 19,
	M2W_TFL_UINT4 = 20, M2W_TFL_FLOAT8_E4M3FN = 21, M2W_TFL_FLOAT8_E5M2 = 22,
	M2W_TFL_TYPE__COUNT
};

#define M2W_TFL_OP_CUSTOM 32
#define M2W_TFL_OP_PLACEHOLDER_FOR_GREATER 127

/* Little-endian elements in the file; read them with the accessors below. */
struct m2w_tfl_vec {
	const uint8_t *p;
	uint32_t n;
	uint64_t off; /* file offset of the first element */
};
int32_t m2w_tfl_i32(const struct m2w_tfl_vec *v, uint32_t i);
int64_t m2w_tfl_i64(const struct m2w_tfl_vec *v, uint32_t i);
float m2w_tfl_f32(const struct m2w_tfl_vec *v, uint32_t i);

struct m2w_tfl_quant {
	bool present;
	struct m2w_tfl_vec min, max, scale; /* f32 */
	struct m2w_tfl_vec zero_point;      /* i64 */
	int32_t quantized_dimension;
	uint8_t details_type; /* non-zero: custom quantization, the affine fields don't apply */
};

struct m2w_tfl_tensor {
	const char *name; /* NUL-terminated, in the file; "" when absent */
	int ndim;
	int32_t shape[M2W_MAX_DIMS];
	int sig_ndim; /* -1 when no shape_signature */
	int32_t shape_signature[M2W_MAX_DIMS];
	uint8_t type; /* enum m2w_tfl_type (unknown values kept) */
	uint32_t buffer;
	struct m2w_tfl_quant quant;
	bool is_variable;
	bool sparse; /* sparsity parameters present: buffer is compressed */
	bool has_rank;
	uint64_t off; /* file offset of the Tensor table */
};

struct m2w_tfl_buffer {
	const uint8_t *data; /* NULL when empty */
	uint64_t size;
	uint64_t off;   /* file offset of the bytes */
	bool external;  /* stored after the flatbuffer (offset/size fields) */
};

struct m2w_tfl_opcode {
	int32_t builtin;     /* max(deprecated_builtin_code, builtin_code) */
	const char *custom;  /* NULL unless builtin == CUSTOM (or set anyway) */
	int32_t version;
};

struct m2w_tfl_operator {
	uint32_t opcode_index;
	struct m2w_tfl_vec inputs, outputs, intermediates; /* i32 tensor indices, -1 = none */
	uint8_t builtin_options_type, builtin_options2_type;
	/* the options tables (validated; size 0 when absent): read their fields
	 * with m2w_fb_* over m2w_tflite_fb(), ids as in schema.fbs */
	struct m2w_fb_table options, options2;
	bool custom_options;
	uint64_t off;
};

struct m2w_tfl_subgraph {
	const char *name;
	struct m2w_tfl_tensor *tensors;
	uint32_t ntensors;
	struct m2w_tfl_vec inputs, outputs; /* i32 tensor indices */
	struct m2w_tfl_operator *operators;
	uint32_t noperators;
	uint64_t off;
};

struct m2w_tfl_metadata {
	const char *name;
	uint32_t buffer;
};

struct m2w_tfl_tensormap {
	const char *name;
	uint32_t tensor;
};

struct m2w_tfl_signature {
	const char *key;
	uint32_t subgraph;
	struct m2w_tfl_tensormap *inputs, *outputs;
	uint32_t ninputs, noutputs;
};

struct m2w_tflite {
	const uint8_t *p;
	size_t n;
	uint64_t base; /* file offset of p[0] (a model inside a zip member) */
	uint32_t version;
	const char *description;
	struct m2w_tfl_opcode *opcodes;
	uint32_t nopcodes;
	struct m2w_tfl_subgraph *subgraphs;
	uint32_t nsubgraphs;
	struct m2w_tfl_buffer *buffers;
	uint32_t nbuffers;
	struct m2w_tfl_metadata *metadata;
	uint32_t nmetadata;
	struct m2w_tfl_signature *signatures;
	uint32_t nsignatures;
};

/* Parses p[0..n) (base: its offset in the file, for messages). */
int m2w_tflite_parse(const uint8_t *p, size_t n, uint64_t base, struct m2w_tflite **out,
	struct m2w_diag *d);
void m2w_tflite_free(struct m2w_tflite *m);
/* A flatbuffer view of the model's bytes, for fields this API doesn't copy. */
void m2w_tflite_fb(const struct m2w_tflite *m, struct m2w_diag *d, struct m2w_fb *fb);

/* "CONV_2D"...; NULL for a value this table doesn't know. */
const char *m2w_tflite_builtin_name(int32_t code);
/* The operator's name: builtin name, custom code, or "BUILTIN_<n>". */
const char *m2w_tflite_op_name(const struct m2w_tflite *m, uint32_t opcode_index, char *buf,
	size_t n);
/* m2w_dtype for a TensorType (UNKNOWN for resource, variant, int2, fp8). */
enum m2w_dtype m2w_tflite_dtype(uint8_t type);
/* DESIGN.md dtype name, or a name for the types m2w_dtype lacks ("i2",
 * "f8e4m3", "f8e5m2", "resource", "variant"), or "unknown". */
const char *m2w_tflite_dtype_name(uint8_t type);
/* Expected bytes of a dense tensor of fixed-size type; false when the size
 * can't be known (string, sub-byte, resource, dynamic dims) or overflows. */
bool m2w_tflite_tensor_bytes(const struct m2w_tfl_tensor *t, uint64_t *bytes);

#endif
