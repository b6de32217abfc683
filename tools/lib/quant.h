/* quant: ggml's tensor types, by the numeric id GGUF files store.
 *
 * A ggml tensor row is a run of blocks: `block` elements packed into
 * `type_size` bytes (1 and sizeof(element) for the plain types).  The ids,
 * block sizes and byte sizes follow ggml.h's enum ggml_type and the block
 * structs of ggml-common.h in the llama.cpp shipped with node-llama-cpp
 * 3.22.1.  Ids whose support ggml removed (4, 5: q4_2, q4_3; 31..33 and
 * 36..38: the interleaved q4_0 / iq4_nl repackings) and ids past the end are
 * unknown: m2w_ggml_type() returns NULL and m2w_ggml_removed() says why.
 *
 * Names are lowercase (q4_k, not ggml's q4_K) as DESIGN.md spells dtypes.
 */
#ifndef M2W_QUANT_H
#define M2W_QUANT_H

#include "m2w.h"

enum m2w_ggml_type_id {
	M2W_GGML_F32 = 0, M2W_GGML_F16 = 1, M2W_GGML_Q4_0 = 2, M2W_GGML_Q4_1 = 3,
	M2W_GGML_Q5_0 = 6, M2W_GGML_Q5_1 = 7, M2W_GGML_Q8_0 = 8, M2W_GGML_Q8_1 = 9,
	M2W_GGML_Q2_K = 10, M2W_GGML_Q3_K = 11, M2W_GGML_Q4_K = 12, M2W_GGML_Q5_K = 13,
	M2W_GGML_Q6_K = 14, M2W_GGML_Q8_K = 15,
	M2W_GGML_IQ2_XXS = 16, M2W_GGML_IQ2_XS = 17, M2W_GGML_IQ3_XXS = 18,
	M2W_GGML_IQ1_S = 19, M2W_GGML_IQ4_NL = 20, M2W_GGML_IQ3_S = 21,
	M2W_GGML_IQ2_S = 22, M2W_GGML_IQ4_XS = 23,
	M2W_GGML_I8 = 24, M2W_GGML_I16 = 25, M2W_GGML_I32 = 26, M2W_GGML_I64 = 27,
	M2W_GGML_F64 = 28, M2W_GGML_IQ1_M = 29, M2W_GGML_BF16 = 30,
	M2W_GGML_TQ1_0 = 34, M2W_GGML_TQ2_0 = 35,
	M2W_GGML_MXFP4 = 39, M2W_GGML_NVFP4 = 40, M2W_GGML_Q1_0 = 41, M2W_GGML_Q2_0 = 42,
	M2W_GGML_TYPE_COUNT = 43
};

struct m2w_ggml_type {
	uint32_t id;
	const char *name;    /* "q8_0", "f32", "iq4_xs" ... */
	uint32_t block;      /* elements per block */
	uint32_t type_size;  /* bytes per block */
	bool quantized;      /* false for f32 f16 bf16 f64 and the integer types */
	enum m2w_dtype dtype; /* the plain dtype of a non-quantized type, else UNKNOWN */
};

/* NULL for removed or unknown ids. */
const struct m2w_ggml_type *m2w_ggml_type(uint32_t id);
/* For a removed id: what it was and what replaced it; NULL otherwise. */
const char *m2w_ggml_removed(uint32_t id);
/* By name ("q8_0"; ggml's "q4_K" spelling is accepted too); NULL if none. */
const struct m2w_ggml_type *m2w_ggml_type_by_name(const char *name);

/* Bytes of `nelem` elements whose rows are `row` elements long: false when
 * `row` is not a multiple of the block size or the size overflows. */
bool m2w_ggml_nbytes(const struct m2w_ggml_type *t, uint64_t row, uint64_t nelem,
	uint64_t *bytes);

#endif
