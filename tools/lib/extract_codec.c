/* extract_codec: element encodings of model tensors to f32 / integers.
 *
 *   plain      little-endian elements of an m2w dtype
 *   f8e4m3fn   1 sign, 4 exponent (bias 7), 3 mantissa; no inf, S.1111.111 is NaN
 *   f8e4m3fnuz bias 8, no inf, no -0: 0x80 is the only NaN
 *   f8e5m2     bias 15, IEEE-like (the top byte of an f16)
 *   f8e5m2fnuz bias 16, no inf, 0x80 is the only NaN
 *   f8e8m0     unsigned power of two 2^(e-127); 0xff is NaN
 *   f4e2m1     1 sign, 2 exponent (bias 1), 1 mantissa; two per byte
 *   i4 u4      two per byte, i2 u2 four per byte, first element in the
 *              lowest bits
 *   ggml       blocks (dequant.c)
 *
 * The f16 narrowing uses the CPU's F16C conversion when it has one; it
 * rounds to nearest even like m2w_f32_to_f16 (same NaN quieting, same
 * overflow threshold 65520), so results do not depend on the machine.
 * Assumes a little-endian host, as the rest of libm2w.
 */
#include <math.h>
#include <string.h>

#include "dequant.h"
#include "extract_int.h"

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>
#define XT_X86 1
#endif

void xt_codec_unit(const struct xt_tensor *t, uint64_t *elems, size_t *bytes)
{
	switch (t->codec) {
	case XT_PLAIN:
		*elems = 1;
		*bytes = m2w_dtype_size(t->sdt);
		return;
	case XT_F4E2M1: case XT_I4: case XT_U4:
		*elems = 2;
		*bytes = 1;
		return;
	case XT_I2: case XT_U2:
		*elems = 4;
		*bytes = 1;
		return;
	case XT_GGML:
		*elems = t->ggml->block;
		*bytes = t->ggml->type_size;
		return;
	default:
		*elems = 1;
		*bytes = 1;
		return;
	}
}

float xt_f8_to_f32(enum xt_codec c, uint8_t v)
{
	int s = v >> 7, e, m;
	float r;

	switch (c) {
	case XT_F8E4M3FN:
		e = v >> 3 & 15, m = v & 7;
		if (e == 15 && m == 7)
			return s ? -NAN : NAN;
		r = e ? ldexpf((float)(8 + m), e - 10) : ldexpf((float)m, -9);
		break;
	case XT_F8E4M3FNUZ:
		if (v == 0x80)
			return NAN;
		e = v >> 3 & 15, m = v & 7;
		r = e ? ldexpf((float)(8 + m), e - 11) : ldexpf((float)m, -10);
		break;
	case XT_F8E5M2:
		return m2w_f16_to_f32((uint16_t)(v << 8));
	case XT_F8E5M2FNUZ:
		if (v == 0x80)
			return NAN;
		e = v >> 2 & 31, m = v & 3;
		r = e ? ldexpf((float)(4 + m), e - 18) : ldexpf((float)m, -17);
		break;
	case XT_F8E8M0:
		return v == 0xff ? NAN : ldexpf(1.0f, (int)v - 127);
	case XT_F4E2M1: {
		static const float f4[8] = {0, 0.5f, 1, 1.5f, 2, 3, 4, 6};
		r = f4[v & 7];
		s = v >> 3 & 1;
		break;
	}
	default:
		return NAN;
	}
	return s ? -r : r;
}

/* double -> float rounding to odd: truncate, then set the last bit when
 * inexact; a later RNE to f16 then equals RNE of the double. */
static float f64_to_f32_odd(double x)
{
	float f = (float)x;
	uint32_t u;

	if (isnan(x) || (double)f == x)
		return f;
	if (fabs((double)f) > fabs(x))
		f = nextafterf(f, 0.0f);
	memcpy(&u, &f, 4);
	u |= 1;
	memcpy(&f, &u, 4);
	return f;
}

#ifdef XT_X86
__attribute__((target("avx,f16c"))) static void f16_to_f32_f16c(const uint8_t *p, float *out, uint64_t n)
{
	uint64_t i = 0;
	for (; i + 8 <= n; i += 8)
		_mm256_storeu_ps(out + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(const void *)(p + 2 * i))));
	for (; i < n; i++)
		out[i] = m2w_f16_to_f32(m2w_le16(p + 2 * i));
}

__attribute__((target("avx,f16c"))) static void f32_to_f16_f16c(const uint8_t *p, uint16_t *dst, size_t n,
	uint64_t *overflow)
{
	const __m256 lim = _mm256_set1_ps(65520.0f), inf = _mm256_set1_ps(INFINITY);
	const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
	uint64_t o = 0;
	size_t i = 0;

	for (; i + 8 <= n; i += 8) {
		__m256 v = _mm256_loadu_ps((const float *)(const void *)(p + 4 * i));
		_mm_storeu_si128((__m128i *)(void *)(dst + i), _mm256_cvtps_ph(v, _MM_FROUND_TO_NEAREST_INT));
		__m256 a = _mm256_and_ps(v, absmask);
		__m256 big = _mm256_and_ps(_mm256_cmp_ps(a, lim, _CMP_GE_OQ), _mm256_cmp_ps(a, inf, _CMP_LT_OQ));
		o += (uint64_t)__builtin_popcount((unsigned)_mm256_movemask_ps(big));
	}
	for (; i < n; i++) {
		float f;
		memcpy(&f, p + 4 * i, 4);
		dst[i] = m2w_f32_to_f16(f);
		o += isfinite(f) && fabsf(f) >= 65520.0f;
	}
	*overflow += o;
}

static int have_f16c(void)
{
	static int cached = -1;
	if (cached < 0) {
		/* cpuid, not __builtin_cpu_supports("f16c"), which clang 14 lacks:
		 * AVX + F16C, and the OS saves the YMM registers (OSXSAVE, XCR0) */
		unsigned a, b, c, dx, lo, hi;
		cached = 0;
		if (__get_cpuid(1, &a, &b, &c, &dx) && (c & bit_AVX) && (c & bit_F16C) &&
		    (c & bit_OSXSAVE)) {
			__asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
			cached = (lo & 6u) == 6u;
		}
	}
	return cached;
}
#endif

void xt_f32_to_f16(const void *src, uint16_t *dst, size_t n, uint64_t *overflow)
{
	const uint8_t *p = src;
#ifdef XT_X86
	if (have_f16c()) {
		f32_to_f16_f16c(p, dst, n, overflow);
		return;
	}
#endif
	for (size_t i = 0; i < n; i++) {
		float f;
		memcpy(&f, p + 4 * i, 4);
		dst[i] = m2w_f32_to_f16(f);
		*overflow += isfinite(f) && fabsf(f) >= 65520.0f;
	}
}

void xt_decode_float(const struct xt_tensor *t, const uint8_t *p, uint64_t n, float *out, bool round_odd)
{
	uint64_t i;

	switch (t->codec) {
	case XT_PLAIN:
		switch (t->sdt) {
		case M2W_DT_F32: memcpy(out, p, n * 4); return;
		case M2W_DT_F16:
#ifdef XT_X86
			if (have_f16c()) {
				f16_to_f32_f16c(p, out, n);
				return;
			}
#endif
			for (i = 0; i < n; i++)
				out[i] = m2w_f16_to_f32(m2w_le16(p + 2 * i));
			return;
		case M2W_DT_BF16:
			for (i = 0; i < n; i++)
				out[i] = m2w_bf16_to_f32(m2w_le16(p + 2 * i));
			return;
		case M2W_DT_F64:
			for (i = 0; i < n; i++) {
				double v;
				memcpy(&v, p + 8 * i, 8);
				out[i] = round_odd ? f64_to_f32_odd(v) : (float)v;
			}
			return;
		case M2W_DT_I8: for (i = 0; i < n; i++) out[i] = (float)(int8_t)p[i]; return;
		case M2W_DT_U8: case M2W_DT_BOOL: for (i = 0; i < n; i++) out[i] = (float)p[i]; return;
		case M2W_DT_I16: for (i = 0; i < n; i++) out[i] = (float)(int16_t)m2w_le16(p + 2 * i); return;
		case M2W_DT_U16: for (i = 0; i < n; i++) out[i] = (float)m2w_le16(p + 2 * i); return;
		case M2W_DT_I32: for (i = 0; i < n; i++) out[i] = (float)(int32_t)m2w_le32(p + 4 * i); return;
		case M2W_DT_U32: for (i = 0; i < n; i++) out[i] = (float)m2w_le32(p + 4 * i); return;
		case M2W_DT_I64: for (i = 0; i < n; i++) out[i] = (float)(int64_t)m2w_le64(p + 8 * i); return;
		case M2W_DT_U64: for (i = 0; i < n; i++) out[i] = (float)m2w_le64(p + 8 * i); return;
		default: memset(out, 0, n * 4); return;
		}
	case XT_F8E4M3FN: case XT_F8E4M3FNUZ: case XT_F8E5M2: case XT_F8E5M2FNUZ: case XT_F8E8M0:
		for (i = 0; i < n; i++)
			out[i] = xt_f8_to_f32(t->codec, p[i]);
		return;
	case XT_F4E2M1:
		for (i = 0; i < n; i++)
			out[i] = xt_f8_to_f32(XT_F4E2M1, (uint8_t)(p[i / 2] >> (4 * (i & 1)) & 15));
		return;
	case XT_I4:
		for (i = 0; i < n; i++)
			out[i] = (float)(((int)(p[i / 2] >> (4 * (i & 1)) & 15) ^ 8) - 8);
		return;
	case XT_U4:
		for (i = 0; i < n; i++)
			out[i] = (float)(p[i / 2] >> (4 * (i & 1)) & 15);
		return;
	case XT_I2:
		for (i = 0; i < n; i++)
			out[i] = (float)(((int)(p[i / 4] >> (2 * (i & 3)) & 3) ^ 2) - 2);
		return;
	case XT_U2:
		for (i = 0; i < n; i++)
			out[i] = (float)(p[i / 4] >> (2 * (i & 3)) & 3);
		return;
	case XT_GGML:
		m2w_ggml_dequant(t->ggml->id, p, n / t->ggml->block, out);
		return;
	}
}

void xt_decode_int(const struct xt_tensor *t, const uint8_t *p, uint64_t n, uint8_t *out)
{
	uint64_t i;

	switch (t->codec) {
	case XT_I4:
		for (i = 0; i < n; i++)
			out[i] = (uint8_t)(int8_t)((((int)(p[i / 2] >> (4 * (i & 1)) & 15)) ^ 8) - 8);
		return;
	case XT_U4:
		for (i = 0; i < n; i++)
			out[i] = (uint8_t)(p[i / 2] >> (4 * (i & 1)) & 15);
		return;
	case XT_I2:
		for (i = 0; i < n; i++)
			out[i] = (uint8_t)(int8_t)((((int)(p[i / 4] >> (2 * (i & 3)) & 3)) ^ 2) - 2);
		return;
	case XT_U2:
		for (i = 0; i < n; i++)
			out[i] = (uint8_t)(p[i / 4] >> (2 * (i & 3)) & 3);
		return;
	default:
		memcpy(out, p, n * m2w_dtype_size(t->sdt));
		return;
	}
}

/* ---- verify reference: one element, exact, by other means ---- */

static double ref_half_bits(unsigned h)
{
	int e = (int)(h >> 10 & 31);
	double m = (double)(h & 1023), v;
	if (e == 31)
		v = m ? NAN : INFINITY;
	else if (e == 0)
		v = ldexp(m, -24);
	else
		v = ldexp(1024.0 + m, e - 25);
	return h & 0x8000 ? -v : v;
}

/* minifloat with `eb` exponent bits, `mb` mantissa bits, `bias` */
static double ref_mini(unsigned v, int eb, int mb, int bias)
{
	unsigned e = v >> mb & ((1u << eb) - 1), m = v & ((1u << mb) - 1);
	double r = e ? ldexp((double)((1u << mb) + m), (int)e - bias - mb)
		     : ldexp((double)m, 1 - bias - mb);
	return v >> (eb + mb) & 1 ? -r : r;
}

double xt_ref_element(const struct xt_tensor *t, const uint8_t *src, uint64_t i)
{
	const uint8_t *p;
	unsigned v;

	switch (t->codec) {
	case XT_PLAIN:
		p = src + i * m2w_dtype_size(t->sdt);
		switch (t->sdt) {
		case M2W_DT_F32: {
			float f;
			memcpy(&f, p, 4);
			return f;
		}
		case M2W_DT_F16: return ref_half_bits(m2w_le16(p));
		case M2W_DT_BF16: {
			uint32_t u = (uint32_t)m2w_le16(p) << 16;
			float f;
			memcpy(&f, &u, 4);
			return f;
		}
		case M2W_DT_F64: {
			double x;
			memcpy(&x, p, 8);
			return x;
		}
		case M2W_DT_I8: return (int8_t)*p;
		case M2W_DT_U8: case M2W_DT_BOOL: return *p;
		case M2W_DT_I16: return (int16_t)m2w_le16(p);
		case M2W_DT_U16: return m2w_le16(p);
		case M2W_DT_I32: return (int32_t)m2w_le32(p);
		case M2W_DT_U32: return m2w_le32(p);
		case M2W_DT_I64: return (double)(int64_t)m2w_le64(p);
		case M2W_DT_U64: return (double)m2w_le64(p);
		default: return NAN;
		}
	case XT_F8E4M3FN:
		v = src[i];
		return (v & 0x7f) == 0x7f ? NAN : ref_mini(v, 4, 3, 7);
	case XT_F8E4M3FNUZ:
		v = src[i];
		return v == 0x80 ? NAN : ref_mini(v, 4, 3, 8);
	case XT_F8E5M2:
		return ref_half_bits((unsigned)src[i] << 8);
	case XT_F8E5M2FNUZ:
		v = src[i];
		return v == 0x80 ? NAN : ref_mini(v, 5, 2, 16);
	case XT_F8E8M0:
		v = src[i];
		return v == 0xff ? NAN : ldexp(1.0, (int)v - 127);
	case XT_F4E2M1:
		return ref_mini((src[i / 2] >> (i % 2 ? 4 : 0)) & 15u, 2, 1, 1);
	case XT_I4:
		v = (src[i / 2] >> (i % 2 ? 4 : 0)) & 15u;
		return v >= 8 ? (double)v - 16 : v;
	case XT_U4:
		return (src[i / 2] >> (i % 2 ? 4 : 0)) & 15u;
	case XT_I2:
		v = (src[i / 4] >> (2 * (i % 4))) & 3u;
		return v >= 2 ? (double)v - 4 : v;
	case XT_U2:
		return (src[i / 4] >> (2 * (i % 4))) & 3u;
	case XT_GGML: {
		double mag;
		uint64_t blk = i / t->ggml->block;
		return m2w_ggml_ref(t->ggml->id, src + blk * t->ggml->type_size,
			(uint32_t)(i % t->ggml->block), &mag);
	}
	}
	return NAN;
}
