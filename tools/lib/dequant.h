/* dequant: ggml's block types to f32.
 *
 * m2w_ggml_dequant() computes each value with the same f32 operations, in
 * the same order, as ggml's reference dequantize_row_* and gguf-py's
 * gguf.quants (one rounding per multiply and per add, never fused), so
 * the results are bit for bit theirs.  m2w_ggml_ref() is an independent
 * per-element formula in double precision for m2w-extract --verify.
 */
#ifndef M2W_DEQUANT_H
#define M2W_DEQUANT_H

#include "m2w.h"

/* f32 f16 bf16 q4_0 q4_1 q5_0 q5_1 q8_0 q2_k q3_k q4_k q5_k q6_k */
bool m2w_ggml_dequant_supported(uint32_t id);
const char *m2w_ggml_dequant_list(void);

/* nblocks blocks at src (type_size bytes each, unaligned) -> floats. */
void m2w_ggml_dequant(uint32_t id, const uint8_t *src, uint64_t nblocks, float *dst);

/* Element i of the block at blk, exact in double from the block's fields;
 * *mag is the sum of the magnitudes of the terms (for error bounds). */
double m2w_ggml_ref(uint32_t id, const uint8_t *blk, uint32_t i, double *mag);

#endif
