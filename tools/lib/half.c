/* half: IEEE binary16 and bfloat16 <-> binary32.  Narrowing rounds to
 * nearest, ties to even; infinities stay infinities and NaNs stay NaNs
 * (quiet, sign and top payload bits kept). */
#include <string.h>

#include "m2w.h"

static uint32_t bits_of(float f)
{
	uint32_t u;
	memcpy(&u, &f, 4);
	return u;
}

static float float_of(uint32_t u)
{
	float f;
	memcpy(&f, &u, 4);
	return f;
}

float m2w_f16_to_f32(uint16_t h)
{
	uint32_t sign = (uint32_t)(h & 0x8000) << 16;
	uint32_t exp = (h >> 10) & 0x1f;
	uint32_t man = h & 0x3ff;

	if (exp == 0x1f) /* inf / nan */
		return float_of(sign | 0x7f800000u | man << 13);
	if (exp == 0) {
		if (man == 0)
			return float_of(sign);
		/* subnormal: value = man * 2^-24, exact in f32 */
		float v = (float)man * float_of(0x33800000u);
		return sign ? -v : v;
	}
	return float_of(sign | (exp + 112) << 23 | man << 13);
}

uint16_t m2w_f32_to_f16(float f)
{
	uint32_t u = bits_of(f);
	uint16_t sign = (uint16_t)(u >> 16 & 0x8000);
	uint32_t abs = u & 0x7fffffffu;

	if (abs >= 0x7f800000u) { /* inf or nan */
		if (abs == 0x7f800000u)
			return sign | 0x7c00;
		return (uint16_t)(sign | 0x7e00 | (abs >> 13 & 0x3ff));
	}
	if (abs >= 0x477ff000u) /* rounds to >= 65520: overflow to inf */
		return sign | 0x7c00;
	if (abs < 0x38800000u) { /* below the smallest normal f16, 2^-14 */
		/* scale so the f16 subnormal unit (2^-24) becomes 1, then let the
		 * FPU's default round-to-nearest-even do the rounding */
		float v = float_of(abs) * float_of(0x4b800000u); /* * 2^24 */
		uint32_t m = (uint32_t)v;
		float frac = v - (float)m;
		if (frac > 0.5f || (frac == 0.5f && (m & 1)))
			m++;
		return (uint16_t)(sign | m);
	}
	/* normal: rebias exponent, round the 13 dropped bits to nearest even */
	uint32_t r = abs - 0x38000000u; /* exponent 127 -> 15 */
	uint32_t half = (r >> 13) & 1;
	r += 0xfffu + half;
	return (uint16_t)(sign | r >> 13);
}

float m2w_bf16_to_f32(uint16_t h) { return float_of((uint32_t)h << 16); }

uint16_t m2w_f32_to_bf16(float f)
{
	uint32_t u = bits_of(f);

	if ((u & 0x7fffffffu) > 0x7f800000u) /* nan: keep it a (quiet) nan */
		return (uint16_t)(u >> 16 | 0x40);
	u += 0x7fffu + (u >> 16 & 1);
	return (uint16_t)(u >> 16);
}
