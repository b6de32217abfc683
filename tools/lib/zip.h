/* zip: read-only access to a zip archive held in memory (PKWARE APPNOTE
 * 6.3), enough for MediaPipe .task bundles.
 *
 * The archive is read from its end: the end-of-central-directory record
 * (signature PK\5\6, 22 bytes plus a comment of up to 65535 bytes) is
 * searched backwards and must end exactly at the end of the file; when a
 * count, size or offset is saturated (0xffff / 0xffffffff) the zip64 locator
 * (PK\6\7, the 20 bytes before it) leads to the zip64 record (PK\6\6).  The
 * central directory (PK\1\2 headers of 46 bytes + name + extra + comment)
 * must end where the end record (or zip64 record) starts, so data prepended
 * to the archive is refused rather than guessed around.  Each member's local
 * header (PK\3\4, 30 bytes + name + extra) must repeat its central name;
 * sizes and CRC come from the central directory (local ones may be zero when
 * a data descriptor follows).
 *
 * Refused: multi-disk archives, encryption, names that are empty, absolute
 * ("/x", "\x", "C:x"), contain a ".." component, a NUL or a backslash used
 * to climb, duplicate names, members whose bytes overlap each other or the
 * central directory (overlap is how small files inflate to huge totals).
 * Methods: 0 (stored, returned in place) and 8 (deflate, through zlib into a
 * buffer of the declared size, which is limited by M2W_ZIP_MAX_INFLATE and,
 * past M2W_ZIP_RATIO_FLOOR, by M2W_ZIP_MAX_RATIO x the compressed size).  The
 * CRC-32 of every member read is checked.
 */
#ifndef M2W_ZIP_H
#define M2W_ZIP_H

#include "m2w.h"

#ifndef M2W_ZIP_MAX_INFLATE
#define M2W_ZIP_MAX_INFLATE (UINT64_C(1) << 31) /* one deflated member, in memory */
#endif
#ifndef M2W_ZIP_MAX_RATIO
#define M2W_ZIP_MAX_RATIO 200
#endif
#ifndef M2W_ZIP_RATIO_FLOOR
#define M2W_ZIP_RATIO_FLOOR (UINT64_C(1) << 24) /* members this small skip the ratio check */
#endif
#ifndef M2W_ZIP_MAX_MEMBERS
#define M2W_ZIP_MAX_MEMBERS 65536
#endif

struct m2w_zip_member {
	char *name; /* NUL-terminated copy */
	uint16_t method;
	uint16_t flags;
	uint32_t crc;
	uint64_t csize, usize;
	uint64_t header_off; /* local header */
	uint64_t central_off; /* its central directory entry */
	uint64_t data_off;   /* compressed bytes */
	bool is_dir;         /* name ends in '/' */
};

struct m2w_zip {
	const uint8_t *p;
	size_t n;
	uint64_t base; /* file offset of p[0] (a zip nested in a zip member) */
	struct m2w_zip_member *members;
	size_t count;
	bool zip64;
};

int m2w_zip_open(const uint8_t *p, size_t n, uint64_t base, struct m2w_zip *z,
	struct m2w_diag *d);
void m2w_zip_close(struct m2w_zip *z);

/* A member's bytes: stored ones point into the archive (*owned NULL), deflated
 * ones into a malloc'd buffer returned in *owned for the caller to free. */
int m2w_zip_read(const struct m2w_zip *z, size_t i, const uint8_t **data, size_t *len,
	uint8_t **owned, struct m2w_diag *d);

/* "stored", "deflate", or "method N". */
const char *m2w_zip_method_name(uint16_t method, char *buf, size_t n);

#endif
