/* Unit tests of libm2w's core: cursor bounds, overflow checks, f16/bf16
 * edge cases, .npy round trips and refusals, write-if-changed (the mtime of
 * an unchanged output must not move) and depfile escaping.  Exhaustive
 * half-precision agreement with NumPy is in check_half.py. */
#define _POSIX_C_SOURCE 200809L
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "m2w.h"

static int failures;

#define CHECK(cond)                                                              \
	do {                                                                     \
		if (!(cond)) {                                                   \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, \
				#cond);                                          \
			failures++;                                              \
		}                                                                \
	} while (0)

static void test_cursor(void)
{
	const uint8_t buf[6] = {1, 2, 3, 4, 5, 6};
	struct m2w_cursor c = {buf, sizeof buf, 0};
	uint32_t v32;
	uint64_t v64, r;
	uint16_t v16;

	CHECK(m2w_cur_u32(&c, &v32) && v32 == 0x04030201u);
	CHECK(!m2w_cur_u32(&c, &v32) && c.off == 4); /* 2 left: refused, not moved */
	CHECK(m2w_cur_u16(&c, &v16) && v16 == 0x0605);
	CHECK(!m2w_cur_u64(&c, &v64));
	c.off = 7; /* past the end must never wrap */
	CHECK(!m2w_cur_can(&c, 0) && !m2w_cur_skip(&c, 1));
	c.off = 0;
	CHECK(!m2w_cur_skip(&c, SIZE_MAX));
	CHECK(!m2w_mul_u64(1ull << 32, 1ull << 32, &r));
	CHECK(m2w_mul_u64(1ull << 31, 1ull << 32, &r) && r == 1ull << 63);
	CHECK(!m2w_add_u64(UINT64_MAX, 1, &r));
}

static void test_half(void)
{
	CHECK(m2w_f32_to_f16(1.0f) == 0x3c00);
	CHECK(m2w_f32_to_f16(-2.0f) == 0xc000);
	CHECK(m2w_f32_to_f16(65504.0f) == 0x7bff);
	CHECK(m2w_f32_to_f16(65519.99f) == 0x7bff);
	CHECK(m2w_f32_to_f16(65520.0f) == 0x7c00); /* tie rounds to even: inf */
	CHECK(m2w_f32_to_f16(INFINITY) == 0x7c00);
	CHECK(m2w_f32_to_f16(-INFINITY) == 0xfc00);
	CHECK((m2w_f32_to_f16(NAN) & 0x7c00) == 0x7c00 && (m2w_f32_to_f16(NAN) & 0x3ff));
	CHECK(m2w_f32_to_f16(5.9604645e-8f) == 0x0001); /* smallest subnormal */
	CHECK(m2w_f32_to_f16(2.9802322e-8f) == 0x0000); /* half of it: tie to even 0 */
	CHECK(m2w_f32_to_f16(2.9802326e-8f) == 0x0001); /* just above the tie */
	CHECK(m2w_f32_to_f16(1.0f + 1.0f / 2048) == 0x3c00); /* tie: even stays */
	CHECK(m2w_f32_to_f16(1.0f + 3.0f / 2048) == 0x3c02); /* tie: odd rounds up */
	CHECK(m2w_f16_to_f32(0x0001) == 5.9604645e-8f);
	CHECK(isinf(m2w_f16_to_f32(0x7c00)) && isnan(m2w_f16_to_f32(0x7e00)));
	CHECK(signbit(m2w_f16_to_f32(0x8000)));
	CHECK(m2w_f32_to_bf16(1.0f) == 0x3f80);
	CHECK(m2w_f32_to_bf16(1.00390625f) == 0x3f80); /* tie to even */
	CHECK(m2w_f32_to_bf16(1.01171875f) == 0x3f82); /* tie to even, upward */
	CHECK(isnan(m2w_bf16_to_f32(m2w_f32_to_bf16(NAN))));
	CHECK(m2w_f32_to_bf16(INFINITY) == 0x7f80);
	CHECK(m2w_f32_to_bf16(3.4028235e38f) == 0x7f80); /* rounds past max: inf */
	/* every f16 survives f16 -> f32 -> f16 */
	for (uint32_t h = 0; h < 0x10000; h++) {
		float f = m2w_f16_to_f32((uint16_t)h);
		if (!isnan(f) && m2w_f32_to_f16(f) != h) {
			CHECK(!"f16 round trip");
			break;
		}
	}
}

static void test_npy(const char *dir)
{
	char path[4096];
	float data[6] = {1, 2, 3, 4, 5, 6};
	uint64_t shape[2] = {2, 3};
	struct m2w_file f;
	struct m2w_npy n;
	struct m2w_diag d;
	bool changed;

	m2w_diag_init(&d, "t.npy");
	snprintf(path, sizeof path, "%s/t.npy", dir);
	unlink(path);
	CHECK(m2w_npy_write(path, M2W_DT_F32, shape, 2, data, &changed, &d) == 0 && changed);
	CHECK(m2w_file_map(&f, path, &d) == 0);
	CHECK(f.size % 64 == 0 + 24); /* 64-byte header + 24 data bytes */
	CHECK(m2w_npy_parse(f.data, f.size, &n, &d) == 0);
	CHECK(n.dtype == M2W_DT_F32 && n.ndim == 2 && n.shape[1] == 3 && n.count == 6);
	CHECK(n.data && !memcmp(n.data, data, sizeof data));
	size_t data_off = n.data_off;
	CHECK(data_off % 64 == 0);
	CHECK(m2w_npy_parse(f.data, f.size - 1, &n, &d) < 0 && d.off == data_off);
	m2w_file_unmap(&f);

	static const char fortran[] = "\x93NUMPY\x01\x00\x36\x00"
		"{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }   \n";
	CHECK(m2w_npy_parse((const uint8_t *)fortran, sizeof fortran - 1, &n, &d) < 0);
	CHECK(strstr(d.msg, "Fortran") != NULL);
	static const char obj[] = "\x93NUMPY\x01\x00\x36\x00"
		"{'descr': '|O', 'fortran_order': False, 'shape': (1,), }   \n";
	CHECK(m2w_npy_parse((const uint8_t *)obj, sizeof obj - 1, &n, &d) < 0);
	static const char huge[] = "\x93NUMPY\x01\x00\x46\x00"
		"{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }\n";
	CHECK(m2w_npy_parse((const uint8_t *)huge, sizeof huge - 1, &n, &d) < 0);
}

static void test_write_if_changed(const char *dir)
{
	char path[4096];
	struct stat a, b;
	struct m2w_diag d;
	bool changed;

	m2w_diag_init(&d, "out");
	snprintf(path, sizeof path, "%s/out.bin", dir);
	unlink(path);
	CHECK(m2w_write_if_changed(path, "hello", 5, &changed, &d) == 0 && changed);
	CHECK(stat(path, &a) == 0);
	/* back-date it so an accidental rewrite would show */
	struct timespec old[2] = {{1000000000, 0}, {1000000000, 0}};
	CHECK(utimensat(AT_FDCWD, path, old, 0) == 0);
	CHECK(m2w_write_if_changed(path, "hello", 5, &changed, &d) == 0 && !changed);
	CHECK(stat(path, &b) == 0 && b.st_mtim.tv_sec == 1000000000);
	CHECK(m2w_write_if_changed(path, "hellO", 5, &changed, &d) == 0 && changed);
	CHECK(stat(path, &b) == 0 && b.st_mtim.tv_sec != 1000000000);
	/* no temp file left behind */
	char tmp[4200];
	snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
	CHECK(access(tmp, F_OK) != 0);
	/* a large output (direct writes past the buffer, streamed comparison) */
	size_t big = 3u << 20;
	char *blob = malloc(big);
	CHECK(blob != NULL);
	if (blob) {
		for (size_t i = 0; i < big; i++)
			blob[i] = (char)(i * 2654435761u >> 24);
		CHECK(m2w_write_if_changed(path, blob, big, &changed, &d) == 0 && changed);
		CHECK(m2w_write_if_changed(path, blob, big, &changed, &d) == 0 && !changed);
		blob[big - 1] ^= 1;
		CHECK(m2w_write_if_changed(path, blob, big, &changed, &d) == 0 && changed);
		struct m2w_file f;
		CHECK(m2w_file_map(&f, path, &d) == 0 && f.size == big && !memcmp(f.data, blob, big));
		m2w_file_unmap(&f);
		free(blob);
	}
	/* an unwritable destination is an error, not a crash */
	CHECK(m2w_write_if_changed("/nonexistent-dir/x", "a", 1, NULL, &d) < 0);
}

static void test_depfile(const char *dir)
{
	char *e = m2w_depfile_escape("a b#c$d");
	CHECK(e && !strcmp(e, "a\\ b\\#c$$d"));
	free(e);
	e = m2w_depfile_escape("x\\ y");
	CHECK(e && !strcmp(e, "x\\\\\\ y"));
	free(e);

	char path[4096];
	const char *deps[] = {"in one.onnx", "w.bin"};
	struct m2w_diag d;
	struct m2w_file f;
	m2w_diag_init(&d, "dep");
	snprintf(path, sizeof path, "%s/x.d", dir);
	CHECK(m2w_depfile_write(path, "out.json", deps, 2, &d) == 0);
	CHECK(m2w_file_map(&f, path, &d) == 0);
	static const char want[] = "out.json: \\\n in\\ one.onnx \\\n w.bin\n";
	CHECK(f.size == sizeof want - 1 && !memcmp(f.data, want, f.size));
	m2w_file_unmap(&f);
}

static void test_hash(void)
{
	char hex[17];
	m2w_xxh3_hex(0x0123456789abcdefull, hex);
	CHECK(!strcmp(hex, "0123456789abcdef"));
	CHECK(m2w_xxh3("a", 1) != m2w_xxh3("b", 1));
	/* XXH3_64bits("") is a published constant */
	CHECK(m2w_xxh3("", 0) == 0x2D06800538D394C2ull);
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : ".";
	test_cursor();
	test_half();
	test_npy(dir);
	test_write_if_changed(dir);
	test_depfile(dir);
	test_hash();
	if (failures)
		fprintf(stderr, "%d check(s) failed\n", failures);
	else
		printf("all core checks passed\n");
	return failures ? 1 : 0;
}
