/* pack_layout: ggml's Q8_0 and Q4_0 blocks re-laid as u32 words for WGSL.
 *
 * ggml blocks (ggml-common.h), little-endian, unaligned in the file:
 *   block_q8_0: f16 d, int8 qs[32]                  34 bytes, x[e] = d * qs[e]
 *   block_q4_0: f16 d, uint8 qs[16]                 18 bytes,
 *               x[e] = d * ((qs[e] & 15) - 8) for e < 16,
 *               x[e] = d * ((qs[e - 16] >> 4) - 8) for e >= 16
 *
 * WGSL reads storage buffers as array<u32> (no f16, no bytes, no unaligned
 * loads), so each block becomes whole little-endian u32 words:
 *   Q8_0 -> 9 words:  word 0 = the f32 bits of d (the f16 widened exactly);
 *                     words 1..8 = qs, byte e of the block's quants in byte
 *                     e % 4 of word 1 + e / 4 (sign-extend to read).
 *   Q4_0 -> 5 words:  word 0 = the f32 bits of d; words 1..4 = qs, byte j in
 *                     byte j % 4 of word 1 + j / 4.  Element e < 16 is bits
 *                     8*(e%4) .. +3 of word 1 + e/4; element e >= 16 is
 *                     bits 8*(e%4) + 4 .. +7 of word 1 + (e-16)/4.
 * The unpackers compute d * q in f32 with one rounding, as ggml's
 * dequantize_row_q8_0 / _q4_0 and gguf-py's gguf.quants do.  --requant
 * q8_0 quantizes f32 rows with ggml's reference Q8_0 quantizer (no FMA
 * contraction: ISO C mode, so the f32 operations round as ggml's do).
 */
#include <math.h>
#include <string.h>

#include "pack.h"

static void put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static uint32_t f32_bits(float f)
{
	uint32_t u;
	memcpy(&u, &f, 4);
	return u;
}

/* The f32 bits of a little-endian f16 at p: m2w_f16_to_f32 (half.c), here
 * where the packing loops can inline it (the widening is exact). */
static uint32_t scale_bits(const uint8_t *p)
{
	uint32_t h = (uint32_t)p[0] | (uint32_t)p[1] << 8;
	uint32_t sign = (h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff;

	if (exp == 0x1f)
		return sign | 0x7f800000u | man << 13;
	if (exp == 0 && man == 0)
		return sign;
	if (exp == 0) /* subnormal: man * 2^-24, normal in f32 */
		return f32_bits(m2w_f16_to_f32((uint16_t)h));
	return sign | (exp + 112) << 23 | man << 13;
}

static float bits_f32(uint32_t u)
{
	float f;
	memcpy(&f, &u, 4);
	return f;
}

void m2w_pack_q8_0(const uint8_t *src, uint64_t nblocks, uint8_t *dst)
{
	for (uint64_t b = 0; b < nblocks; b++, src += 34, dst += 36) {
		put_le32(dst, scale_bits(src));
		memcpy(dst + 4, src + 2, 32);
	}
}

void m2w_pack_q4_0(const uint8_t *src, uint64_t nblocks, uint8_t *dst)
{
	for (uint64_t b = 0; b < nblocks; b++, src += 18, dst += 20) {
		put_le32(dst, scale_bits(src));
		memcpy(dst + 4, src + 2, 16);
	}
}

/* The unpackers read the packed words the way the shaders do (through
 * u32 loads and shifts), not the ggml bytes, so a layout slip shows up. */
void m2w_unpack_q8_0(const uint8_t *src, uint64_t nblocks, float *dst)
{
	for (uint64_t b = 0; b < nblocks; b++, src += 36, dst += 32) {
		float d = bits_f32(m2w_le32(src));
		for (uint32_t e = 0; e < 32; e++) {
			uint32_t w = m2w_le32(src + 4 + 4 * (e / 4));
			int8_t q = (int8_t)(uint8_t)(w >> (8 * (e % 4)));
			dst[e] = d * (float)q;
		}
	}
}

void m2w_unpack_q4_0(const uint8_t *src, uint64_t nblocks, float *dst)
{
	for (uint64_t b = 0; b < nblocks; b++, src += 20, dst += 32) {
		float d = bits_f32(m2w_le32(src));
		for (uint32_t e = 0; e < 32; e++) {
			uint32_t j = e % 16;
			uint32_t w = m2w_le32(src + 4 + 4 * (j / 4));
			uint32_t nib = (w >> (8 * (j % 4) + (e < 16 ? 0 : 4))) & 15;
			dst[e] = d * (float)((int)nib - 8);
		}
	}
}

/* ggml's quantize_row_q8_0_ref, written straight into the packed layout:
 * d = amax / 127 and id = 1 / d in f32, q = roundf(x * id) (half away from
 * zero), the stored scale is d rounded to f16 (then widened, as above). */
void m2w_pack_q8_0_from_f32(const float *x, uint64_t nblocks, uint8_t *dst)
{
	for (uint64_t b = 0; b < nblocks; b++, x += 32, dst += 36) {
		float amax = 0.0f;
		for (int j = 0; j < 32; j++)
			amax = fmaxf(amax, fabsf(x[j]));
		const float d = amax / 127;
		const float id = d != 0.0f ? 1.0f / d : 0.0f;
		put_le32(dst, f32_bits(m2w_f16_to_f32(m2w_f32_to_f16(d))));
		for (int j = 0; j < 32; j++)
			dst[4 + j] = (uint8_t)(int8_t)roundf(x[j] * id);
	}
}
