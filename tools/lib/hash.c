/* hash: xxHash3-64, the content hash behind write-if-changed and manifests. */
#include <xxhash.h>

#include "m2w.h"

uint64_t m2w_xxh3(const void *p, size_t n) { return XXH3_64bits(p, n); }

void m2w_xxh3_hex(uint64_t h, char out[17])
{
	static const char hex[] = "0123456789abcdef";

	/* canonical form is big-endian: most significant nibble first */
	for (int i = 15; i >= 0; i--, h >>= 4)
		out[i] = hex[h & 15];
	out[16] = '\0';
}
