/* quant: the ggml type table (see quant.h).  Byte sizes are spelled as the
 * fields of each ggml-common.h block struct so a reader can check them
 * against that header: h = one f16 scale (2 bytes), K = QK_K = 256. */
#include <string.h>

#include "quant.h"

#define K 256

#define PLAIN(i, n, size, dt) [i] = {i, n, 1, size, false, dt}
#define QUANT(i, n, blk, size) [i] = {i, n, blk, size, true, M2W_DT_UNKNOWN}

static const struct m2w_ggml_type types[M2W_GGML_TYPE_COUNT] = {
	PLAIN(M2W_GGML_F32, "f32", 4, M2W_DT_F32),
	PLAIN(M2W_GGML_F16, "f16", 2, M2W_DT_F16),
	QUANT(M2W_GGML_Q4_0, "q4_0", 32, 2 + 32 / 2),          /* d, 4-bit quants */
	QUANT(M2W_GGML_Q4_1, "q4_1", 32, 2 + 2 + 32 / 2),      /* d, m, quants */
	QUANT(M2W_GGML_Q5_0, "q5_0", 32, 2 + 4 + 32 / 2),      /* d, high bits, quants */
	QUANT(M2W_GGML_Q5_1, "q5_1", 32, 2 + 2 + 4 + 32 / 2),
	QUANT(M2W_GGML_Q8_0, "q8_0", 32, 2 + 32),              /* d, int8 quants */
	QUANT(M2W_GGML_Q8_1, "q8_1", 32, 2 + 2 + 32),          /* d, s, quants */
	QUANT(M2W_GGML_Q2_K, "q2_k", K, 2 + 2 + K / 16 + K / 4),
	QUANT(M2W_GGML_Q3_K, "q3_k", K, 2 + K / 4 + K / 8 + 12),
	QUANT(M2W_GGML_Q4_K, "q4_k", K, 2 + 2 + 12 + K / 2),
	QUANT(M2W_GGML_Q5_K, "q5_k", K, 2 + 2 + 12 + K / 2 + K / 8),
	QUANT(M2W_GGML_Q6_K, "q6_k", K, 2 + K / 16 + 3 * K / 4),
	QUANT(M2W_GGML_Q8_K, "q8_k", K, 4 + K + K / 16 * 2),   /* f32 d, quants, bsums */
	QUANT(M2W_GGML_IQ2_XXS, "iq2_xxs", K, 2 + K / 8 * 2),
	QUANT(M2W_GGML_IQ2_XS, "iq2_xs", K, 2 + K / 8 * 2 + K / 32),
	QUANT(M2W_GGML_IQ3_XXS, "iq3_xxs", K, 2 + 3 * (K / 8)),
	QUANT(M2W_GGML_IQ1_S, "iq1_s", K, 2 + K / 8 + K / 16),
	QUANT(M2W_GGML_IQ4_NL, "iq4_nl", 32, 2 + 32 / 2),
	QUANT(M2W_GGML_IQ3_S, "iq3_s", K, 2 + 13 * (K / 32) + 4),
	QUANT(M2W_GGML_IQ2_S, "iq2_s", K, 2 + K / 4 + K / 16),
	QUANT(M2W_GGML_IQ4_XS, "iq4_xs", K, 2 + 2 + K / 64 + K / 2),
	PLAIN(M2W_GGML_I8, "i8", 1, M2W_DT_I8),
	PLAIN(M2W_GGML_I16, "i16", 2, M2W_DT_I16),
	PLAIN(M2W_GGML_I32, "i32", 4, M2W_DT_I32),
	PLAIN(M2W_GGML_I64, "i64", 8, M2W_DT_I64),
	PLAIN(M2W_GGML_F64, "f64", 8, M2W_DT_F64),
	QUANT(M2W_GGML_IQ1_M, "iq1_m", K, K / 8 + K / 16 + K / 32), /* no f16 d */
	PLAIN(M2W_GGML_BF16, "bf16", 2, M2W_DT_BF16),
	QUANT(M2W_GGML_TQ1_0, "tq1_0", K, 2 + K / 64 + (K - 4 * K / 64) / 5),
	QUANT(M2W_GGML_TQ2_0, "tq2_0", K, 2 + K / 4),
	QUANT(M2W_GGML_MXFP4, "mxfp4", 32, 1 + 32 / 2),          /* e8m0 scale */
	QUANT(M2W_GGML_NVFP4, "nvfp4", 64, 64 / 16 + 64 / 2),    /* 4 e4m3 scales */
	QUANT(M2W_GGML_Q1_0, "q1_0", 128, 2 + 128 / 8),
	QUANT(M2W_GGML_Q2_0, "q2_0", 64, 2 + 64 / 4),
};

const struct m2w_ggml_type *m2w_ggml_type(uint32_t id)
{
	/* removed ids are the table's holes (name NULL) */
	return id < M2W_GGML_TYPE_COUNT && types[id].name ? &types[id] : NULL;
}

const char *m2w_ggml_removed(uint32_t id)
{
	switch (id) {
	case 4: return "q4_2, removed from ggml";
	case 5: return "q4_3, removed from ggml";
	case 31: case 32: case 33:
		return "an interleaved q4_0 (q4_0_4_4/4_8/8_8), removed from GGUF files: "
		       "ggml repacks q4_0 at run time";
	case 36: case 37: case 38:
		return "an interleaved iq4_nl (iq4_nl_4_4/4_8/8_8), removed from GGUF files: "
		       "ggml repacks iq4_nl at run time";
	default: return NULL;
	}
}

const struct m2w_ggml_type *m2w_ggml_type_by_name(const char *name)
{
	for (uint32_t i = 0; i < M2W_GGML_TYPE_COUNT; i++) {
		const char *a = types[i].name, *b = name;
		if (!a)
			continue;
		/* ggml writes the k-quants as q4_K: compare case-insensitively */
		while (*a && (*a == *b || (*b >= 'A' && *b <= 'Z' && *a == *b + 32)))
			a++, b++;
		if (!*a && !*b)
			return &types[i];
	}
	return NULL;
}

bool m2w_ggml_nbytes(const struct m2w_ggml_type *t, uint64_t row, uint64_t nelem,
	uint64_t *bytes)
{
	if (row % t->block || nelem % t->block)
		return false;
	return m2w_mul_u64(nelem / t->block, t->type_size, bytes);
}
