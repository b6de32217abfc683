/* One libFuzzer target per parser: the same file is built five times with
 * FUZZ_FORMAT set to the reader under test.  Every input must give a
 * description or a clean error with an in-range offset, never a crash. */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "describe.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_diag(const struct m2w_diag *d, size_t size)
{
	/* an offset may point one past the end (truncation), never further */
	if (d->off != M2W_NO_OFFSET && d->off > size)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
#if FUZZ_FORMAT != 5
	struct m2w_describe_opts o = {.hash_tensors = true};
#endif
	struct m2w_diag d;
	cJSON *j = NULL;
	int r;

	m2w_diag_init(&d, "fuzz");
#if FUZZ_FORMAT == 1
	r = m2w_describe_onnx(data, size, NULL, &o, &j, &d);
	if (r == 0) {
		char path[64];
		snprintf(path, sizeof path, "/tmp/m2w-fuzz-onnx.%ld", (long)getpid());
		if (m2w_expose_onnx(data, size, path, &d) < 0)
			check_diag(&d, size);
		unlink(path);
	}
	if (r < 0)
		check_diag(&d, size);
	cJSON_Delete(j);
	j = NULL;
	r = m2w_describe_tensorpb(data, size, &o, &j, &d);
#elif FUZZ_FORMAT == 2
	r = m2w_describe_gguf(data, size, &o, &j, &d);
#elif FUZZ_FORMAT == 3
	r = m2w_describe_tflite(data, size, &o, &j, &d);
	if (r == 0) {
		char path[64];
		snprintf(path, sizeof path, "/tmp/m2w-fuzz-tflite.%ld", (long)getpid());
		if (m2w_expose_tflite(data, size, path, &d) < 0)
			check_diag(&d, size);
		unlink(path);
	}
#elif FUZZ_FORMAT == 4
	r = m2w_describe_task(data, size, &o, &j, &d);
#elif FUZZ_FORMAT == 5
	struct m2w_npy n;
	r = m2w_npy_parse(data, size, &n, &d);
#endif
	if (r < 0)
		check_diag(&d, size);
	if (j) {
		char *s = cJSON_PrintUnformatted(j);
		free(s);
		cJSON_Delete(j);
	}
	return 0;
}

#ifdef FUZZ_STANDALONE
/* Without libFuzzer (gcc builds): replay the given files, so the seed and
 * crash corpora run as ordinary regression tests. */
int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		struct m2w_file f;
		struct m2w_diag d;
		m2w_diag_init(&d, argv[i]);
		if (m2w_file_map(&f, argv[i], &d) < 0) {
			fprintf(stderr, "%s: cannot read\n", argv[i]);
			return 1;
		}
		LLVMFuzzerTestOneInput(f.data, f.size);
		m2w_file_unmap(&f);
	}
	printf("replayed %d inputs\n", argc - 1);
	return 0;
}
#endif
