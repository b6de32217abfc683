/* dequant: ggml block layouts (ggml-common.h), all little-endian, f16 "d"
 * scales in IEEE half:
 *
 *   q4_0  32 elems, 18 B: d, qs[16]      e<16: qs[e]&15, else qs[e-16]>>4;  d*(q-8)
 *   q4_1  32 elems, 20 B: d, m, qs[16]   same nibbles;                      d*q + m
 *   q5_0  32 elems, 22 B: d, qh u32, qs[16]  q = nibble | (qh>>e & 1)<<4;   d*(q-16)
 *   q5_1  32 elems, 24 B: d, m, qh u32, qs[16];                             d*q + m
 *   q8_0  32 elems, 34 B: d, qs i8[32];                                     q*d
 *   q2_k 256 elems, 84 B: scales[16] (lo nibble scale, hi nibble min), qs[64], d, dmin
 *        e = h*128 + s*32 + l: q = qs[h*32+l] >> 2s & 3, sub = e/16
 *        (d*sc)*q - (dmin*m)
 *   q3_k 256 elems, 110 B: hmask[32], qs[64], scales[12] (16 x 6 bits), d
 *        scale j: low 4 bits scales[j%8] >> 4*(j/8), high 2 bits
 *        scales[8+j%4] >> 2*(j/4); minus 32
 *        e = h*128 + s*32 + l: q = (qs[h*32+l] >> 2s & 3) - (hmask[l] >> e/32 & 1 ? 0 : 4)
 *        (d*scale)*q
 *   q4_k 256 elems, 144 B: d, dmin, scales[12] (8 scales + 8 mins, 6 bits), qs[128]
 *        sub j = e/32: q = qs[(j/2)*32 + e%32] >> 4*(j%2) & 15
 *        (d*sc)*q - (dmin*m)
 *   q5_k 256 elems, 176 B: d, dmin, scales[12], qh[32], qs[128]
 *        q4_k's nibble | (qh[e%32] >> j & 1) << 4
 *   q6_k 256 elems, 210 B: ql[128], qh[64], scales i8[16], d
 *        e = h*128 + r: lo = ql[h*64 + r%64] >> 4*(r/64) & 15,
 *        hi = qh[h*32 + r%32] >> 2*(r/32) & 3; q = (lo | hi<<4) - 32
 *        (d*scale[e/16])*q
 *
 * k-quant 6-bit scale packing (q4_k, q5_k), bytes s[0..12), j < 8:
 *   j < 4: sc = s[j]&63, m = s[j+4]&63
 *   j >= 4: sc = s[j+4]&15 | (s[j-4]>>6)<<4, m = s[j+4]>>4 | (s[j]>>6)<<4
 *
 * Every product and sum below is a separate f32 operation: this file must
 * not be compiled with FMA contraction (ISO C mode, no -mfma: neither is).
 */
#include <math.h>
#include <string.h>

#include "dequant.h"
#include "quant.h"

bool m2w_ggml_dequant_supported(uint32_t id)
{
	switch (id) {
	case M2W_GGML_F32: case M2W_GGML_F16: case M2W_GGML_BF16:
	case M2W_GGML_Q4_0: case M2W_GGML_Q4_1: case M2W_GGML_Q5_0: case M2W_GGML_Q5_1:
	case M2W_GGML_Q8_0: case M2W_GGML_Q2_K: case M2W_GGML_Q3_K: case M2W_GGML_Q4_K:
	case M2W_GGML_Q5_K: case M2W_GGML_Q6_K:
		return true;
	default:
		return false;
	}
}

const char *m2w_ggml_dequant_list(void)
{
	return "f32 f16 bf16 q4_0 q4_1 q5_0 q5_1 q8_0 q2_k q3_k q4_k q5_k q6_k";
}

static float h2f(const uint8_t *p) { return m2w_f16_to_f32(m2w_le16(p)); }

static void kscale(const uint8_t *s, int j, uint8_t *sc, uint8_t *m)
{
	if (j < 4) {
		*sc = s[j] & 63;
		*m = s[j + 4] & 63;
	} else {
		*sc = (uint8_t)((s[j + 4] & 15) | (s[j - 4] >> 6) << 4);
		*m = (uint8_t)((s[j + 4] >> 4) | (s[j] >> 6) << 4);
	}
}

static void q4_0(const uint8_t *b, float *y)
{
	float d = h2f(b);
	for (int j = 0; j < 16; j++) {
		y[j] = d * (float)((b[2 + j] & 15) - 8);
		y[j + 16] = d * (float)((b[2 + j] >> 4) - 8);
	}
}

static void q4_1(const uint8_t *b, float *y)
{
	float d = h2f(b), m = h2f(b + 2);
	for (int j = 0; j < 16; j++) {
		float lo = d * (float)(b[4 + j] & 15), hi = d * (float)(b[4 + j] >> 4);
		y[j] = lo + m;
		y[j + 16] = hi + m;
	}
}

static void q5_0(const uint8_t *b, float *y)
{
	float d = h2f(b);
	uint32_t qh = m2w_le32(b + 2);
	for (int j = 0; j < 16; j++) {
		int lo = (b[6 + j] & 15) | (int)((qh >> j) & 1) << 4;
		int hi = (b[6 + j] >> 4) | (int)((qh >> (j + 16)) & 1) << 4;
		y[j] = d * (float)(lo - 16);
		y[j + 16] = d * (float)(hi - 16);
	}
}

static void q5_1(const uint8_t *b, float *y)
{
	float d = h2f(b), m = h2f(b + 2);
	uint32_t qh = m2w_le32(b + 4);
	for (int j = 0; j < 16; j++) {
		int lo = (b[8 + j] & 15) | (int)((qh >> j) & 1) << 4;
		int hi = (b[8 + j] >> 4) | (int)((qh >> (j + 16)) & 1) << 4;
		float a = d * (float)lo, c = d * (float)hi;
		y[j] = a + m;
		y[j + 16] = c + m;
	}
}

static void q8_0(const uint8_t *b, float *y)
{
	float d = h2f(b);
	for (int j = 0; j < 32; j++)
		y[j] = (float)(int8_t)b[2 + j] * d;
}

static void q2_k(const uint8_t *b, float *y)
{
	const uint8_t *sc = b, *qs = b + 16;
	float d = h2f(b + 80), dmin = h2f(b + 82);
	for (int h = 0; h < 2; h++)
		for (int s = 0; s < 4; s++)
			for (int half = 0; half < 2; half++) {
				int sub = h * 8 + s * 2 + half;
				float dl = d * (float)(sc[sub] & 15), ml = dmin * (float)(sc[sub] >> 4);
				for (int l = half * 16; l < half * 16 + 16; l++) {
					float v = dl * (float)((qs[h * 32 + l] >> (2 * s)) & 3);
					y[h * 128 + s * 32 + l] = v - ml;
				}
			}
}

static void q3_k(const uint8_t *b, float *y)
{
	const uint8_t *hm = b, *qs = b + 32, *sb = b + 96;
	float d = h2f(b + 108), dl[16];
	for (int j = 0; j < 16; j++) {
		int lo = (sb[j % 8] >> (4 * (j / 8))) & 15;
		int hi = (sb[8 + j % 4] >> (2 * (j / 4))) & 3;
		dl[j] = d * (float)((lo | hi << 4) - 32);
	}
	for (int h = 0; h < 2; h++)
		for (int s = 0; s < 4; s++)
			for (int l = 0; l < 32; l++) {
				int e = h * 128 + s * 32 + l;
				int q = (qs[h * 32 + l] >> (2 * s)) & 3;
				if (!((hm[l] >> (e / 32)) & 1))
					q -= 4;
				y[e] = dl[e / 16] * (float)q;
			}
}

static void q45_k(const uint8_t *b, float *y, bool five)
{
	float d = h2f(b), dmin = h2f(b + 2);
	const uint8_t *s = b + 4, *qh = b + 16, *qs = five ? b + 48 : b + 16;
	for (int j = 0; j < 8; j++) {
		uint8_t sc, m;
		kscale(s, j, &sc, &m);
		float dl = d * (float)sc, ml = dmin * (float)m;
		for (int l = 0; l < 32; l++) {
			int q = (qs[(j / 2) * 32 + l] >> (4 * (j % 2))) & 15;
			if (five)
				q |= ((qh[l] >> j) & 1) << 4;
			float v = dl * (float)q;
			y[j * 32 + l] = v - ml;
		}
	}
}

static void q6_k(const uint8_t *b, float *y)
{
	const uint8_t *ql = b, *qh = b + 128, *sc = b + 192;
	float d = h2f(b + 208), dl[16];
	for (int j = 0; j < 16; j++)
		dl[j] = d * (float)(int8_t)sc[j];
	for (int h = 0; h < 2; h++)
		for (int r = 0; r < 128; r++) {
			int lo = (ql[h * 64 + r % 64] >> (4 * (r / 64))) & 15;
			int hi = (qh[h * 32 + r % 32] >> (2 * (r / 32))) & 3;
			int e = h * 128 + r;
			y[e] = dl[e / 16] * (float)((lo | hi << 4) - 32);
		}
}

void m2w_ggml_dequant(uint32_t id, const uint8_t *src, uint64_t nblocks, float *dst)
{
	const struct m2w_ggml_type *t = m2w_ggml_type(id);
	uint64_t i;

	switch (id) {
	case M2W_GGML_F32:
		memcpy(dst, src, nblocks * 4);
		return;
	case M2W_GGML_F16:
		for (i = 0; i < nblocks; i++)
			dst[i] = h2f(src + 2 * i);
		return;
	case M2W_GGML_BF16:
		for (i = 0; i < nblocks; i++)
			dst[i] = m2w_bf16_to_f32(m2w_le16(src + 2 * i));
		return;
	default:
		break;
	}
	for (i = 0; i < nblocks; i++, src += t->type_size, dst += t->block) {
		switch (id) {
		case M2W_GGML_Q4_0: q4_0(src, dst); break;
		case M2W_GGML_Q4_1: q4_1(src, dst); break;
		case M2W_GGML_Q5_0: q5_0(src, dst); break;
		case M2W_GGML_Q5_1: q5_1(src, dst); break;
		case M2W_GGML_Q8_0: q8_0(src, dst); break;
		case M2W_GGML_Q2_K: q2_k(src, dst); break;
		case M2W_GGML_Q3_K: q3_k(src, dst); break;
		case M2W_GGML_Q4_K: q45_k(src, dst, false); break;
		case M2W_GGML_Q5_K: q45_k(src, dst, true); break;
		case M2W_GGML_Q6_K: q6_k(src, dst); break;
		default: memset(dst, 0, (size_t)t->block * sizeof *dst); break;
		}
	}
}

/* ---- reference: element by element, in double ---- */

/* IEEE half from its fields, without the library's converter. */
static double ref_half(const uint8_t *p)
{
	unsigned h = (unsigned)p[0] | (unsigned)p[1] << 8;
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

static unsigned nib(const uint8_t *qs, unsigned e) /* q4_0/q4_1/q5_x nibble order */
{
	return e < 16 ? qs[e] & 15u : qs[e - 16] >> 4;
}

double m2w_ggml_ref(uint32_t id, const uint8_t *b, uint32_t e, double *mag)
{
	double d, m, v, a = 0, c = 0;
	unsigned q, j;
	uint8_t sc, mn;

	switch (id) {
	case M2W_GGML_F32: {
		float f;
		memcpy(&f, b + 4 * e, 4);
		*mag = fabs(f);
		return f;
	}
	case M2W_GGML_F16:
		v = ref_half(b + 2 * e);
		*mag = fabs(v);
		return v;
	case M2W_GGML_BF16: {
		uint32_t u = (uint32_t)b[2 * e] << 16 | (uint32_t)b[2 * e + 1] << 24;
		float f;
		memcpy(&f, &u, 4);
		*mag = fabs(f);
		return f;
	}
	case M2W_GGML_Q4_0:
		a = ref_half(b) * ((double)nib(b + 2, e) - 8);
		break;
	case M2W_GGML_Q4_1:
		a = ref_half(b) * nib(b + 4, e);
		c = ref_half(b + 2);
		break;
	case M2W_GGML_Q5_0:
		q = nib(b + 6, e) | (m2w_le32(b + 2) >> e & 1) << 4;
		a = ref_half(b) * ((double)q - 16);
		break;
	case M2W_GGML_Q5_1:
		q = nib(b + 8, e) | (m2w_le32(b + 4) >> e & 1) << 4;
		a = ref_half(b) * q;
		c = ref_half(b + 2);
		break;
	case M2W_GGML_Q8_0:
		a = ref_half(b) * (int8_t)b[2 + e];
		break;
	case M2W_GGML_Q2_K:
		j = e / 16;
		q = (b[16 + (e / 128) * 32 + e % 32] >> (2 * ((e % 128) / 32))) & 3;
		a = ref_half(b + 80) * (b[j] & 15) * q;
		c = -ref_half(b + 82) * (b[j] >> 4);
		break;
	case M2W_GGML_Q3_K: {
		j = e / 16;
		int s6 = (int)(((b[96 + j % 8] >> (4 * (j / 8))) & 15) |
			       ((b[104 + j % 4] >> (2 * (j / 4))) & 3) << 4) - 32;
		int qq = (int)((b[32 + (e / 128) * 32 + e % 32] >> (2 * ((e % 128) / 32))) & 3);
		if (!((b[e % 32] >> (e / 32)) & 1))
			qq -= 4;
		a = ref_half(b + 108) * s6 * qq;
		break;
	}
	case M2W_GGML_Q4_K:
	case M2W_GGML_Q5_K: {
		j = e / 32;
		kscale(b + 4, (int)j, &sc, &mn);
		const uint8_t *qs = b + (id == M2W_GGML_Q5_K ? 48 : 16);
		q = (qs[(j / 2) * 32 + e % 32] >> (4 * (j % 2))) & 15;
		if (id == M2W_GGML_Q5_K)
			q |= ((b[16 + e % 32] >> j) & 1u) << 4;
		a = ref_half(b) * sc * q;
		c = -ref_half(b + 2) * mn;
		break;
	}
	case M2W_GGML_Q6_K: {
		unsigned h = e / 128, r = e % 128;
		unsigned lo = (b[h * 64 + r % 64] >> (4 * (r / 64))) & 15;
		unsigned hi = (b[128 + h * 32 + r % 32] >> (2 * (r / 32))) & 3;
		a = ref_half(b + 208) * (int8_t)b[192 + e / 16] * ((double)(lo | hi << 4) - 32);
		break;
	}
	default:
		*mag = 0;
		return NAN;
	}
	m = fabs(a) + fabs(c);
	*mag = m;
	d = a + c;
	return d;
}
