/* zip: zip archives in memory (format notes in zip.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "zip.h"

#define SIG_LOCAL 0x04034b50u
#define SIG_CENTRAL 0x02014b50u
#define SIG_END 0x06054b50u
#define SIG_END64 0x06064b50u
#define SIG_LOC64 0x07064b50u
#define END_SIZE 22
#define LOC64_SIZE 20
#define END64_SIZE 56
#define CENTRAL_SIZE 46
#define LOCAL_SIZE 30

static uint64_t at(const struct m2w_zip *z, uint64_t off) { return z->base + off; }

/* The end record must end exactly at the end of the file: a signature found
 * inside the comment would otherwise be taken for it. */
static int find_end(const struct m2w_zip *z, size_t *pos, struct m2w_diag *d)
{
	if (z->n < END_SIZE)
		return m2w_err(d, at(z, 0), "zip of %zu bytes, need %d", z->n, END_SIZE);
	size_t lo = z->n - END_SIZE > 0xffff ? z->n - END_SIZE - 0xffff : 0;
	for (size_t i = z->n - END_SIZE + 1; i-- > lo;) {
		if (m2w_le32(z->p + i) == SIG_END && m2w_le16(z->p + i + 20) == z->n - i - END_SIZE) {
			*pos = i;
			return 0;
		}
	}
	return m2w_err(d, at(z, z->n), "no end-of-central-directory record in the last %zu bytes",
		z->n - lo);
}

/* Dots and slashes: a member name must stay inside the folder it unpacks to. */
static int check_name(const struct m2w_zip *z, uint64_t off, const uint8_t *s, size_t len,
	struct m2w_diag *d)
{
	if (len == 0)
		return m2w_err(d, at(z, off), "member with an empty name");
	if (memchr(s, 0, len))
		return m2w_err(d, at(z, off), "member name '%.*s' holds a NUL byte", (int)len, s);
	if (s[0] == '/' || s[0] == '\\' || (len >= 2 && s[1] == ':'))
		return m2w_err(d, at(z, off), "member name '%.*s' is an absolute path", (int)len, s);
	for (size_t i = 0, start = 0; i <= len; i++) {
		if (i < len && s[i] != '/' && s[i] != '\\')
			continue;
		if (i - start == 2 && s[start] == '.' && s[start + 1] == '.')
			return m2w_err(d, at(z, off), "member name '%.*s' climbs out with '..'", (int)len,
				s);
		start = i + 1;
	}
	return 0;
}

/* zip64 extended information (extra id 1): only the saturated fields are
 * there, in this order. */
static int zip64_extra(const struct m2w_zip *z, uint64_t off, const uint8_t *e, size_t elen,
	struct m2w_zip_member *m, uint16_t disk, struct m2w_diag *d)
{
	bool need_u = m->usize == 0xffffffffu, need_c = m->csize == 0xffffffffu,
	     need_o = m->header_off == 0xffffffffu;

	for (size_t i = 0; i + 4 <= elen;) {
		uint16_t id = m2w_le16(e + i), sz = m2w_le16(e + i + 2);
		if (sz > elen - i - 4)
			return m2w_err(d, at(z, off), "extra field %#x of %u bytes runs past its block",
				id, sz);
		if (id == 1) {
			struct m2w_cursor c = {e + i + 4, sz, 0};
			uint32_t dsk;
			if ((need_u && !m2w_cur_u64(&c, &m->usize)) ||
				(need_c && !m2w_cur_u64(&c, &m->csize)) ||
				(need_o && !m2w_cur_u64(&c, &m->header_off)) ||
				(disk == 0xffff && !m2w_cur_u32(&c, &dsk)))
				return m2w_err(d, at(z, off), "zip64 extra field of %u bytes is short", sz);
			return 0;
		}
		i += 4 + (size_t)sz;
	}
	if (need_u || need_c || need_o)
		return m2w_err(d, at(z, off), "saturated size or offset without a zip64 extra field");
	return 0;
}

static int by_offset(const void *a, const void *b)
{
	const struct m2w_zip_member *x = *(const struct m2w_zip_member *const *)a,
				    *y = *(const struct m2w_zip_member *const *)b;
	return x->header_off < y->header_off ? -1 : x->header_off > y->header_off;
}

static int by_name(const void *a, const void *b)
{
	return strcmp((*(const struct m2w_zip_member *const *)a)->name,
		(*(const struct m2w_zip_member *const *)b)->name);
}

/* Local header: same name, data inside the archive before the directory. */
static int check_local(const struct m2w_zip *z, struct m2w_zip_member *m, uint64_t cd_off,
	struct m2w_diag *d)
{
	uint64_t h = m->header_off;

	/* an offset outside the archive is reported where it is stored */
	if (h > cd_off || cd_off - h < LOCAL_SIZE)
		return m2w_err(d, at(z, m->central_off + 42),
			"member '%s': local header offset 0x%llx is not before the central directory (0x%llx)",
			m->name, (unsigned long long)h, (unsigned long long)cd_off);
	if (m2w_le32(z->p + h) != SIG_LOCAL)
		return m2w_err(d, at(z, h), "member '%s': no local header here", m->name);
	uint16_t nl = m2w_le16(z->p + h + 26), el = m2w_le16(z->p + h + 28);
	if ((uint64_t)LOCAL_SIZE + nl + el > cd_off - h)
		return m2w_err(d, at(z, h), "member '%s': local header runs into the directory",
			m->name);
	if (nl != strlen(m->name) || memcmp(z->p + h + LOCAL_SIZE, m->name, nl))
		return m2w_err(d, at(z, h + LOCAL_SIZE),
			"member '%s': local header names '%.*s'", m->name, (int)nl,
			(const char *)z->p + h + LOCAL_SIZE);
	m->data_off = h + LOCAL_SIZE + nl + el;
	if (m->csize > cd_off - m->data_off)
		return m2w_err(d, at(z, m->data_off),
			"member '%s': %llu compressed bytes run into the directory at 0x%llx", m->name,
			(unsigned long long)m->csize, (unsigned long long)at(z, cd_off));
	return 0;
}

static int read_directory(struct m2w_zip *z, uint64_t cd_off, uint64_t cd_size, uint64_t count,
	struct m2w_diag *d)
{
	uint64_t pos = cd_off, end = cd_off + cd_size;

	/* cd_off + cd_size was checked to equal the end record's position */
	if (count > cd_size / CENTRAL_SIZE || count > M2W_ZIP_MAX_MEMBERS)
		return m2w_err(d, at(z, cd_off), "%llu members in a %llu-byte directory, limit %llu",
			(unsigned long long)count, (unsigned long long)cd_size,
			(unsigned long long)(cd_size / CENTRAL_SIZE < M2W_ZIP_MAX_MEMBERS
							? cd_size / CENTRAL_SIZE
							: M2W_ZIP_MAX_MEMBERS));
	if (!(z->members = calloc(count ? count : 1, sizeof *z->members)))
		return m2w_err(d, M2W_NO_OFFSET, "out of memory");
	for (uint64_t i = 0; i < count; i++) {
		struct m2w_zip_member *m = &z->members[i];
		const uint8_t *h = z->p + pos;
		if (end - pos < CENTRAL_SIZE || m2w_le32(h) != SIG_CENTRAL)
			return m2w_err(d, at(z, pos), "central header %llu missing",
				(unsigned long long)i);
		uint16_t nl = m2w_le16(h + 28), el = m2w_le16(h + 30), cl = m2w_le16(h + 32);
		uint16_t disk = m2w_le16(h + 34);
		if ((uint64_t)CENTRAL_SIZE + nl + el + cl > end - pos)
			return m2w_err(d, at(z, pos), "central header %llu runs past the directory",
				(unsigned long long)i);
		if (check_name(z, pos + CENTRAL_SIZE, h + CENTRAL_SIZE, nl, d))
			return -1;
		if (!(m->name = malloc((size_t)nl + 1)))
			return m2w_err(d, M2W_NO_OFFSET, "out of memory");
		z->count = i + 1; /* so close() frees the name */
		memcpy(m->name, h + CENTRAL_SIZE, nl);
		m->name[nl] = 0;
		m->flags = m2w_le16(h + 8);
		m->method = m2w_le16(h + 10);
		m->crc = m2w_le32(h + 16);
		m->csize = m2w_le32(h + 20);
		m->usize = m2w_le32(h + 24);
		m->header_off = m2w_le32(h + 42);
		m->central_off = pos;
		m->is_dir = m->name[nl - 1] == '/';
		if (zip64_extra(z, pos, h + CENTRAL_SIZE + nl, el, m, disk, d))
			return -1;
		if (disk != 0 && disk != 0xffff)
			return m2w_err(d, at(z, pos), "member '%s' starts on disk %u", m->name, disk);
		if (m->method == 0 && m->csize != m->usize)
			return m2w_err(d, at(z, pos), "stored member '%s': %llu bytes stored, %llu declared",
				m->name, (unsigned long long)m->csize, (unsigned long long)m->usize);
		if (check_local(z, m, cd_off, d))
			return -1;
		pos += CENTRAL_SIZE + (uint64_t)nl + el + cl;
	}
	if (pos != end)
		return m2w_err(d, at(z, pos), "%llu stray bytes after the last central header",
			(unsigned long long)(end - pos));

	struct m2w_zip_member **v = malloc((count ? count : 1) * sizeof *v);
	if (!v)
		return m2w_err(d, M2W_NO_OFFSET, "out of memory");
	for (size_t i = 0; i < count; i++)
		v[i] = &z->members[i];
	qsort(v, count, sizeof *v, by_offset);
	for (size_t i = 1; i < count; i++)
		if (v[i - 1]->data_off + v[i - 1]->csize > v[i]->header_off) {
			m2w_err(d, at(z, v[i]->header_off), "member '%s' overlaps member '%s'",
				v[i]->name, v[i - 1]->name);
			free(v);
			return -1;
		}
	qsort(v, count, sizeof *v, by_name);
	for (size_t i = 1; i < count; i++)
		if (!strcmp(v[i - 1]->name, v[i]->name)) {
			m2w_err(d, at(z, v[i]->header_off), "member name '%s' appears twice", v[i]->name);
			free(v);
			return -1;
		}
	free(v);
	return 0;
}

int m2w_zip_open(const uint8_t *p, size_t n, uint64_t base, struct m2w_zip *z,
	struct m2w_diag *d)
{
	size_t e = 0;

	memset(z, 0, sizeof *z);
	z->p = p;
	z->n = n;
	z->base = base;
	if (find_end(z, &e, d))
		return -1;
	const uint8_t *r = p + e;
	uint64_t count = m2w_le16(r + 10), cd_size = m2w_le32(r + 12), cd_off = m2w_le32(r + 16);
	uint64_t cd_end = e;
	if (m2w_le16(r + 4) != 0 || m2w_le16(r + 6) != 0 || m2w_le16(r + 8) != m2w_le16(r + 10))
		return m2w_err(d, at(z, e), "multi-disk archive (disk %u of %u)", m2w_le16(r + 4),
			m2w_le16(r + 6));
	if (e >= LOC64_SIZE && m2w_le32(p + e - LOC64_SIZE) == SIG_LOC64) {
		const uint8_t *l = p + e - LOC64_SIZE;
		uint64_t e64 = m2w_le64(l + 8);
		if (m2w_le32(l + 4) != 0 || m2w_le32(l + 16) > 1)
			return m2w_err(d, at(z, e - LOC64_SIZE), "multi-disk zip64 archive");
		if (e64 > e - LOC64_SIZE || e - LOC64_SIZE - e64 < END64_SIZE ||
			m2w_le32(p + e64) != SIG_END64)
			return m2w_err(d, at(z, e - LOC64_SIZE), "zip64 end record at 0x%llx missing",
				(unsigned long long)e64);
		const uint8_t *r64 = p + e64;
		if (m2w_le64(r64 + 4) != e - LOC64_SIZE - e64 - 12)
			return m2w_err(d, at(z, e64), "zip64 end record size %llu, %llu bytes before locator",
				(unsigned long long)m2w_le64(r64 + 4),
				(unsigned long long)(e - LOC64_SIZE - e64 - 12));
		if (m2w_le32(r64 + 16) != 0 || m2w_le32(r64 + 20) != 0 ||
			m2w_le64(r64 + 24) != m2w_le64(r64 + 32))
			return m2w_err(d, at(z, e64), "multi-disk zip64 archive");
		count = m2w_le64(r64 + 32);
		cd_size = m2w_le64(r64 + 40);
		cd_off = m2w_le64(r64 + 48);
		cd_end = e64;
		z->zip64 = true;
	} else if (count == 0xffff || cd_size == 0xffffffffu || cd_off == 0xffffffffu) {
		return m2w_err(d, at(z, e), "saturated end record without a zip64 locator");
	}
	if (cd_off > cd_end || cd_size != cd_end - cd_off)
		return m2w_err(d, at(z, e),
			"central directory at 0x%llx + %llu doesn't end at the end record (0x%llx): "
			"data prepended or truncated",
			(unsigned long long)cd_off, (unsigned long long)cd_size,
			(unsigned long long)cd_end);
	if (read_directory(z, cd_off, cd_size, count, d)) {
		m2w_zip_close(z);
		return -1;
	}
	return 0;
}

void m2w_zip_close(struct m2w_zip *z)
{
	for (size_t i = 0; i < z->count; i++)
		free(z->members[i].name);
	free(z->members);
	z->members = NULL;
	z->count = 0;
}

const char *m2w_zip_method_name(uint16_t method, char *buf, size_t n)
{
	if (method == 0)
		return "stored";
	if (method == 8)
		return "deflate";
	snprintf(buf, n, "method %u", method);
	return buf;
}

static uint32_t crc_of(const uint8_t *p, size_t n)
{
	uLong c = crc32(0L, Z_NULL, 0);
	while (n) {
		uInt k = n > (1u << 30) ? (1u << 30) : (uInt)n;
		c = crc32(c, p, k);
		p += k;
		n -= k;
	}
	return (uint32_t)c;
}

/* Inflates exactly m->usize bytes; a stream that ends early or goes on
 * past the declared size is an error. */
static int inflate_member(const struct m2w_zip *z, const struct m2w_zip_member *m, uint8_t *out,
	struct m2w_diag *d)
{
	z_stream s;
	const uint8_t *in = z->p + m->data_off;
	uint64_t in_left = m->csize, out_done = 0;
	uint8_t spare;
	int ret;

	memset(&s, 0, sizeof s);
	if (inflateInit2(&s, -MAX_WBITS) != Z_OK)
		return m2w_err(d, M2W_NO_OFFSET, "zlib: inflateInit2 failed");
	for (;;) {
		if (s.avail_in == 0 && in_left) {
			s.next_in = (Bytef *)(uintptr_t)in;
			s.avail_in = in_left > (1u << 30) ? (1u << 30) : (uInt)in_left;
			in += s.avail_in;
			in_left -= s.avail_in;
		}
		uint64_t room = m->usize - out_done;
		if (room) {
			s.next_out = out + out_done;
			s.avail_out = room > (1u << 30) ? (1u << 30) : (uInt)room;
		} else {
			s.next_out = &spare; /* any byte landing here is one too many */
			s.avail_out = 1;
		}
		uInt before = s.avail_out;
		ret = inflate(&s, Z_NO_FLUSH);
		uInt produced = before - s.avail_out;
		if (!room && produced) {
			inflateEnd(&s);
			return m2w_err(d, at(z, m->data_off),
				"member '%s' inflates past its declared %llu bytes", m->name,
				(unsigned long long)m->usize);
		}
		out_done += produced;
		/* Z_BUF_ERROR: no progress; only more input (next round) can help */
		if (ret == Z_BUF_ERROR && s.avail_in == 0 && in_left)
			continue;
		if (ret != Z_OK)
			break;
	}
	const char *msg = s.msg;
	inflateEnd(&s);
	if (ret == Z_STREAM_END && out_done == m->usize)
		return 0;
	if (ret == Z_STREAM_END || ret == Z_BUF_ERROR || ret == Z_OK)
		return m2w_err(d, at(z, m->data_off),
			"member '%s' inflates to %llu bytes%s, declared %llu", m->name,
			(unsigned long long)out_done, ret == Z_STREAM_END ? "" : " then stops",
			(unsigned long long)m->usize);
	return m2w_err(d, at(z, m->data_off), "member '%s': corrupt deflate data (%s)", m->name,
		msg ? msg : "zlib error");
}

int m2w_zip_read(const struct m2w_zip *z, size_t i, const uint8_t **data, size_t *len,
	uint8_t **owned, struct m2w_diag *d)
{
	const struct m2w_zip_member *m = &z->members[i];
	char buf[32];

	*owned = NULL;
	*data = NULL;
	*len = 0;
	if (m->flags & 1)
		return m2w_err(d, at(z, m->header_off), "member '%s' is encrypted", m->name);
	if (m->method == 0) {
		*data = z->p + m->data_off;
		*len = (size_t)m->usize;
	} else if (m->method == 8) {
		if (m->usize > M2W_ZIP_MAX_INFLATE || m->usize > SIZE_MAX)
			return m2w_err(d, at(z, m->header_off),
				"member '%s' inflates to %llu bytes, limit %llu", m->name,
				(unsigned long long)m->usize, (unsigned long long)M2W_ZIP_MAX_INFLATE);
		if (m->usize > M2W_ZIP_RATIO_FLOOR && m->usize / M2W_ZIP_MAX_RATIO > m->csize)
			return m2w_err(d, at(z, m->header_off),
				"member '%s' inflates %llu bytes to %llu, ratio limit %d", m->name,
				(unsigned long long)m->csize, (unsigned long long)m->usize,
				M2W_ZIP_MAX_RATIO);
		if (!(*owned = malloc(m->usize ? (size_t)m->usize : 1)))
			return m2w_err(d, M2W_NO_OFFSET, "out of memory for %llu bytes",
				(unsigned long long)m->usize);
		if (inflate_member(z, m, *owned, d)) {
			free(*owned);
			*owned = NULL;
			return -1;
		}
		*data = *owned;
		*len = (size_t)m->usize;
	} else {
		return m2w_err(d, at(z, m->header_off), "member '%s': compression %s not supported",
			m->name, m2w_zip_method_name(m->method, buf, sizeof buf));
	}
	uint32_t crc = crc_of(*data, *len);
	if (crc != m->crc) {
		free(*owned);
		*owned = NULL;
		*data = NULL;
		*len = 0;
		return m2w_err(d, at(z, m->data_off), "member '%s': CRC-32 %08x, expected %08x", m->name,
			crc, m->crc);
	}
	return 0;
}
