/* Unit checks of m2w-extract's library parts that the model-level tests
 * can't reach exhaustively:
 *   - f32 -> f16 (the F16C path where the CPU has it) equals libm2w's
 *     scalar m2w_f32_to_f16 for all 2^32 inputs, overflow counts included
 *   - f64 -> f16 through round-to-odd equals the correctly rounded value
 *   - every f8 / f4 code decodes as the independent reference says
 *   - ggml block dequantization agrees with the per-element double
 *     reference (within the f32 rounding bound) on random blocks
 *   - m2w_extract_verify finds a flipped byte in a written blob
 * Usage: test-extract [TMPDIR]
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dequant.h"
#include "extract_int.h"

static int failures;

#define CHECK(c, ...) do { if (!(c)) { failures++; fprintf(stderr, "FAIL: " __VA_ARGS__); fputc('\n', stderr); } } while (0)

static uint64_t rng = 0x9e3779b97f4a7c15u;
static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void f16_exhaustive(void)
{
	enum { N = 1 << 20 };
	uint32_t *in = malloc(N * 4);
	uint16_t *out = malloc(N * 2);
	uint64_t bad = 0;

	for (uint64_t base = 0; base < (1ull << 32); base += N) {
		uint64_t ovf = 0, want_ovf = 0;
		for (uint32_t i = 0; i < N; i++)
			in[i] = (uint32_t)(base + i);
		xt_f32_to_f16(in, out, N, &ovf);
		for (uint32_t i = 0; i < N; i++) {
			float f;
			memcpy(&f, &in[i], 4);
			uint16_t w = m2w_f32_to_f16(f);
			want_ovf += isfinite(f) && fabsf(f) >= 65520.0f;
			if (out[i] != w && bad++ < 5)
				fprintf(stderr, "f32 %08x -> f16 %04x, scalar %04x\n", in[i], out[i], w);
		}
		CHECK(ovf == want_ovf, "overflow count %llu vs %llu at %llx", (unsigned long long)ovf,
			(unsigned long long)want_ovf, (unsigned long long)base);
	}
	CHECK(bad == 0, "%llu f32 -> f16 conversions differ from m2w_f32_to_f16", (unsigned long long)bad);
	printf("f32 -> f16: 2^32 inputs, %llu differ\n", (unsigned long long)bad);
	free(in);
	free(out);
}

/* correctly rounded f16 of a double, ties to even */
static uint16_t cr_f16(double x)
{
	uint16_t s = signbit(x) ? 0x8000 : 0;
	double a = fabs(x);
	if (isnan(x))
		return s | 0x7e00;
	if (a >= 65520.0)
		return s | 0x7c00;
	if (a < ldexp(1, -14))
		return s | (uint16_t)nearbyint(ldexp(a, 24));
	int e;
	frexp(a, &e);
	double m = nearbyint(ldexp(a, 11 - e));
	int E = e - 1;
	if (m == 2048)
		m = 1024, E++;
	return E > 15 ? s | 0x7c00 : (uint16_t)(s | (E + 15) << 10 | (uint16_t)(m - 1024));
}

static void f64_odd(void)
{
	struct xt_tensor t = {.codec = XT_PLAIN, .sdt = M2W_DT_F64};
	enum { N = 1 << 20 };
	double *v = malloc(N * sizeof *v);
	float *f = malloc(N * sizeof *f);
	uint16_t h;
	uint64_t bad = 0, ovf = 0;

	for (int i = 0; i < N; i++) {
		uint64_t r = next();
		if (i % 4 == 0) {
			/* near f16 ties: an f16 value plus half an ulp, nudged */
			uint16_t b = (uint16_t)(r & 0x7bff);
			double x = m2w_f16_to_f32(b), up = m2w_f16_to_f32((uint16_t)(b + 1));
			v[i] = (x + (up - x) / 2) * (1 + ((int)(r >> 20 & 3) - 1) * ldexp(1, -40));
		} else {
			v[i] = ldexp((double)(r >> 11) / ldexp(1, 53), (int)(r % 50) - 30) * (r & 1 ? -1 : 1);
		}
	}
	xt_decode_float(&t, (const uint8_t *)v, N, f, true);
	for (int i = 0; i < N; i++) {
		xt_f32_to_f16(&f[i], &h, 1, &ovf);
		if (h != cr_f16(v[i]) && bad++ < 5)
			fprintf(stderr, "f64 %.17g -> %04x, correctly rounded %04x\n", v[i], h, cr_f16(v[i]));
	}
	CHECK(bad == 0, "%llu f64 -> f16 conversions are not correctly rounded", (unsigned long long)bad);
	printf("f64 -> f16 via round-to-odd: %d inputs, %llu differ\n", N, (unsigned long long)bad);
	free(v);
	free(f);
}

static void minifloats(void)
{
	static const enum xt_codec c[] = {XT_F8E4M3FN, XT_F8E4M3FNUZ, XT_F8E5M2, XT_F8E5M2FNUZ, XT_F8E8M0};
	int bad = 0;
	for (size_t k = 0; k < sizeof c / sizeof c[0]; k++) {
		struct xt_tensor t = {.codec = c[k]};
		for (int v = 0; v < 256; v++) {
			uint8_t b = (uint8_t)v;
			float f;
			xt_decode_float(&t, &b, 1, &f, false);
			double r = xt_ref_element(&t, &b, 0);
			if (!(isnan(r) ? isnan(f) : (double)f == r && !signbit(f) == !signbit(r)) && bad++ < 5)
				fprintf(stderr, "codec %d byte %02x: %g vs reference %g\n", (int)c[k], v, f, r);
		}
	}
	struct xt_tensor t = {.codec = XT_F4E2M1};
	for (int v = 0; v < 256; v++) {
		uint8_t b = (uint8_t)v;
		float f[2];
		xt_decode_float(&t, &b, 2, f, false);
		for (int i = 0; i < 2; i++)
			if ((double)f[i] != xt_ref_element(&t, &b, (uint64_t)i) && bad++ < 5)
				fprintf(stderr, "f4e2m1 byte %02x[%d]: %g\n", v, i, f[i]);
	}
	CHECK(bad == 0, "%d f8/f4 codes decode wrongly", bad);
	printf("f8 / f4 codes: %d differ from the reference\n", bad);
}

static void ggml(void)
{
	static const uint32_t ids[] = {M2W_GGML_Q4_0, M2W_GGML_Q4_1, M2W_GGML_Q5_0, M2W_GGML_Q5_1, M2W_GGML_Q8_0,
		M2W_GGML_Q2_K, M2W_GGML_Q3_K, M2W_GGML_Q4_K, M2W_GGML_Q5_K, M2W_GGML_Q6_K};
	uint8_t blk[512];
	float y[256];
	int bad = 0;
	for (size_t k = 0; k < sizeof ids / sizeof ids[0]; k++) {
		const struct m2w_ggml_type *ty = m2w_ggml_type(ids[k]);
		for (int rep = 0; rep < 2000; rep++) {
			for (uint32_t i = 0; i < ty->type_size; i++)
				blk[i] = (uint8_t)next();
			/* keep the f16 scales finite: clear bit 14 of every pair (exponent < 16) */
			for (uint32_t i = 1; i < ty->type_size; i += 2)
				blk[i] &= 0xbf;
			m2w_ggml_dequant(ids[k], blk, 1, y);
			for (uint32_t e = 0; e < ty->block; e++) {
				double mag, r = m2w_ggml_ref(ids[k], blk, e, &mag);
				if (!(fabs((double)y[e] - r) <= mag * ldexp(1, -22)) && bad++ < 5)
					fprintf(stderr, "%s element %u: %g vs reference %g\n", ty->name, e, y[e], r);
			}
		}
	}
	CHECK(bad == 0, "%d ggml values disagree with the reference", bad);
	printf("ggml blocks: 10 types x 2000 random blocks, %d values off\n", bad);
}

/* A GGUF of one q8_0 tensor, extracted, then one blob byte flipped. */
static void verify_flip(const char *dir)
{
	char model[512], out[512];
	uint8_t f[4096];
	size_t n = 0;
	snprintf(model, sizeof model, "%s/test-extract.gguf", dir);
	snprintf(out, sizeof out, "%s/test-extract.bin", dir);
#define PUT(p, k) (memcpy(f + n, p, k), n += k)
	uint32_t u32;
	uint64_t u64;
	PUT("GGUF", 4);
	u32 = 3; PUT(&u32, 4);
	u64 = 1; PUT(&u64, 8);
	u64 = 0; PUT(&u64, 8);
	u64 = 1; PUT(&u64, 8);
	PUT("w", 1);
	u32 = 1; PUT(&u32, 4);
	u64 = 64; PUT(&u64, 8);
	u32 = M2W_GGML_Q8_0; PUT(&u32, 4);
	u64 = 0; PUT(&u64, 8);
	while (n % 32)
		f[n++] = 0;
	for (int b = 0; b < 2; b++) {
		uint16_t d = m2w_f32_to_f16(0.25f);
		PUT(&d, 2);
		for (int i = 0; i < 32; i++)
			f[n++] = (uint8_t)(i * 7 - 100);
	}
	FILE *fp = fopen(model, "wb");
	fwrite(f, 1, n, fp);
	fclose(fp);

	struct m2w_extract_opts o = {.dtype = M2W_EXTRACT_F32};
	struct m2w_extract_result r;
	struct m2w_diag d;
	uint64_t ndiff = 0;
	m2w_diag_init(&d, model);
	CHECK(m2w_extract_model(model, out, &o, &r, &d) == 0, "extract: %s", d.msg);
	m2w_extract_result_free(&r);
	CHECK(m2w_extract_verify(model, out, &o, &ndiff, &d) == 0 && ndiff == 0, "verify of a good blob: %s", d.msg);
	fp = fopen(out, "r+b");
	fseek(fp, 4 * 37 + 2, SEEK_SET);
	int c = fgetc(fp);
	fseek(fp, 4 * 37 + 2, SEEK_SET);
	fputc(c ^ 0x10, fp);
	fclose(fp);
	CHECK(m2w_extract_verify(model, out, &o, &ndiff, &d) == -1 && ndiff == 1 && strstr(d.msg, "1 element differs"),
		"verify of a flipped byte: ndiff %llu, %s", (unsigned long long)ndiff, d.msg);
	printf("verify: a flipped byte gives \"%s\"\n", d.msg);
	char man[520];
	snprintf(man, sizeof man, "%s/test-extract.json", dir);
	unlink(model), unlink(out), unlink(man);
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : "/tmp";
	minifloats();
	f64_odd();
	ggml();
	verify_flip(dir);
	f16_exhaustive();
	printf("%d failure(s)\n", failures);
	return failures != 0;
}
