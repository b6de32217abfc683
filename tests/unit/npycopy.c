/* npycopy IN OUT: parse IN with libm2w's .npy reader and write its array
 * with libm2w's writer, so check_npy.py can hold both against NumPy. */
#include <stdio.h>

#include "m2w.h"

int main(int argc, char **argv)
{
	struct m2w_file f;
	struct m2w_npy n;
	struct m2w_diag d;
	char msg[768];

	if (argc != 3) {
		fprintf(stderr, "usage: npycopy IN OUT\n");
		return 2;
	}
	m2w_diag_init(&d, argv[1]);
	if (m2w_file_map(&f, argv[1], &d) < 0)
		goto fail;
	if (m2w_npy_parse(f.data, f.size, &n, &d) < 0 ||
	    m2w_npy_write(argv[2], n.dtype, n.shape, n.ndim, n.data, NULL, &d) < 0) {
		m2w_file_unmap(&f);
		goto fail;
	}
	m2w_file_unmap(&f);
	return 0;
fail:
	m2w_diag_format(&d, msg, sizeof msg);
	fprintf(stderr, "npycopy: %s\n", msg);
	return 1;
}
