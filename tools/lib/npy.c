/* npy: NumPy's .npy format, versions 1, 2 and 3.
 *
 *   "\x93NUMPY" major minor
 *   header length: u16 LE (v1) or u32 LE (v2, v3)
 *   header: a Python dict literal, ASCII (v1/v2) or UTF-8 (v3),
 *           {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
 *           padded with spaces and a final '\n' so data starts 64-aligned
 *   data: count * itemsize bytes, C order.
 *
 * We accept little-endian and byte-order-free descrs only ('|' or '<', or
 * '=' which numpy writes on little-endian hosts for 1-byte types), and refuse
 * Fortran order with a message telling how to fix the file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "m2w.h"

static const struct {
	const char *descr; /* without the byte-order character */
	enum m2w_dtype t;
} descrs[] = {
	{"f4", M2W_DT_F32}, {"f2", M2W_DT_F16}, {"f8", M2W_DT_F64},
	{"i1", M2W_DT_I8},  {"u1", M2W_DT_U8},  {"i2", M2W_DT_I16},
	{"u2", M2W_DT_U16}, {"i4", M2W_DT_I32}, {"u4", M2W_DT_U32},
	{"i8", M2W_DT_I64}, {"u8", M2W_DT_U64}, {"b1", M2W_DT_BOOL},
};

static const char *skip_ws(const char *s, const char *e)
{
	while (s < e && (*s == ' ' || *s == '\t' || *s == '\n'))
		s++;
	return s;
}

/* Finds 'key' (quoted with ' or ") in the header and returns a pointer to
 * the text after its ':' */
static const char *find_key(const char *h, const char *e, const char *key)
{
	size_t k = strlen(key);

	for (const char *s = h; s + k + 2 <= e; s++) {
		if ((*s == '\'' || *s == '"') && s[k + 1] == *s && !memcmp(s + 1, key, k)) {
			const char *p = skip_ws(s + k + 2, e);
			if (p < e && *p == ':')
				return skip_ws(p + 1, e);
		}
	}
	return NULL;
}

int m2w_npy_parse(const uint8_t *buf, size_t len, struct m2w_npy *n, struct m2w_diag *d)
{
	size_t hlen, hoff;
	const char *h, *e, *p;

	memset(n, 0, sizeof *n);
	if (len < 10 || memcmp(buf, "\x93NUMPY", 6))
		return m2w_err(d, 0, "not a .npy file (bad magic); expected \\x93NUMPY");
	if (buf[6] == 1) {
		hlen = m2w_le16(buf + 8);
		hoff = 10;
	} else if (buf[6] == 2 || buf[6] == 3) {
		if (len < 12)
			return m2w_err(d, 8, "truncated header length");
		hlen = m2w_le32(buf + 8);
		hoff = 12;
	} else {
		return m2w_err(d, 6, "unsupported .npy version %u, supported 1..3", buf[6]);
	}
	if (hlen > len - hoff)
		return m2w_err(d, 8, "header length %zu runs past the end of the file (%zu bytes)",
			hlen, len);
	h = (const char *)buf + hoff;
	e = h + hlen;

	/* descr */
	p = find_key(h, e, "descr");
	if (!p || p >= e || (*p != '\'' && *p != '"'))
		return m2w_err(d, hoff, "header has no 'descr' string");
	{
		char q = *p++;
		const char *end = memchr(p, q, (size_t)(e - p));
		size_t dl;
		if (!end)
			return m2w_err(d, (uint64_t)(p - (const char *)buf), "unterminated 'descr'");
		dl = (size_t)(end - p);
		if (dl >= 2 && (*p == '<' || *p == '|' || *p == '=')) {
			p++;
			dl--;
		} else if (dl >= 2 && *p == '>') {
			if (!(dl == 3 && (p[2] == '1')))
				return m2w_err(d, (uint64_t)(p - (const char *)buf),
					"big-endian descr '%.*s' is not supported; save with "
					"arr.astype(arr.dtype.newbyteorder('<'))", (int)dl, p);
			p++;
			dl--;
		}
		n->dtype = M2W_DT_UNKNOWN;
		for (size_t i = 0; i < sizeof descrs / sizeof descrs[0]; i++)
			if (strlen(descrs[i].descr) == dl && !memcmp(descrs[i].descr, p, dl))
				n->dtype = descrs[i].t;
		if (dl == 1 && *p == '?')
			n->dtype = M2W_DT_BOOL;
		if (n->dtype == M2W_DT_UNKNOWN)
			return m2w_err(d, (uint64_t)(p - (const char *)buf),
				"unsupported dtype '%.*s'; supported: f4 f2 f8 i1 u1 i2 u2 i4 u4 i8 u8 b1",
				(int)dl, p);
	}

	p = find_key(h, e, "fortran_order");
	if (!p)
		return m2w_err(d, hoff, "header has no 'fortran_order'");
	if ((size_t)(e - p) >= 4 && !memcmp(p, "True", 4))
		return m2w_err(d, (uint64_t)(p - (const char *)buf),
			"Fortran-order arrays are not supported; save with np.ascontiguousarray(a)");
	if ((size_t)(e - p) < 5 || memcmp(p, "False", 5))
		return m2w_err(d, (uint64_t)(p - (const char *)buf), "bad 'fortran_order' value");

	p = find_key(h, e, "shape");
	if (!p || p >= e || *p != '(')
		return m2w_err(d, hoff, "header has no 'shape' tuple");
	p++;
	n->count = 1;
	for (;;) {
		p = skip_ws(p, e);
		if (p >= e)
			return m2w_err(d, (uint64_t)(p - (const char *)buf), "unterminated 'shape'");
		if (*p == ')')
			break;
		if (*p < '0' || *p > '9')
			return m2w_err(d, (uint64_t)(p - (const char *)buf),
				"bad character '%c' in 'shape'", *p);
		uint64_t v = 0;
		while (p < e && *p >= '0' && *p <= '9') {
			if (v > (UINT64_MAX - 9) / 10)
				return m2w_err(d, (uint64_t)(p - (const char *)buf), "dimension overflows");
			v = v * 10 + (uint64_t)(*p++ - '0');
		}
		if (n->ndim == M2W_MAX_DIMS)
			return m2w_err(d, (uint64_t)(p - (const char *)buf),
				"more than %d dims, limit %d", M2W_MAX_DIMS, M2W_MAX_DIMS);
		n->shape[n->ndim++] = v;
		if (!m2w_mul_u64(n->count, v, &n->count))
			return m2w_err(d, (uint64_t)(p - (const char *)buf),
				"element count overflows");
		p = skip_ws(p, e);
		if (p < e && *p == ',')
			p++;
	}
	n->data_off = hoff + hlen;
	uint64_t bytes;
	if (!m2w_mul_u64(n->count, m2w_dtype_size(n->dtype), &bytes) ||
	    bytes > len - n->data_off)
		return m2w_err(d, n->data_off,
			"data needs %llu elements of %zu bytes, file has %zu bytes after the header",
			(unsigned long long)n->count, m2w_dtype_size(n->dtype), len - n->data_off);
	n->data = buf + n->data_off;
	return 0;
}

int m2w_npy_write(const char *path, enum m2w_dtype t, const uint64_t *shape, int ndim,
	const void *data, bool *changed, struct m2w_diag *d)
{
	const char *descr = NULL;
	char hdr[512];
	int len;
	uint64_t count = 1, bytes;

	for (size_t i = 0; i < sizeof descrs / sizeof descrs[0]; i++)
		if (descrs[i].t == t)
			descr = descrs[i].descr;
	if (!descr || ndim < 0 || ndim > M2W_MAX_DIMS)
		return m2w_err(d, M2W_NO_OFFSET, "cannot write %s with %d dims as .npy",
			m2w_dtype_name(t), ndim);
	len = snprintf(hdr, sizeof hdr, "{'descr': '%c%s', 'fortran_order': False, 'shape': (",
		m2w_dtype_size(t) == 1 ? '|' : '<', descr);
	for (int i = 0; i < ndim; i++) {
		len += snprintf(hdr + len, sizeof hdr - (size_t)len, "%llu%s",
			(unsigned long long)shape[i], ndim == 1 || i + 1 < ndim ? ", " : "");
		if (!m2w_mul_u64(count, shape[i], &count))
			return m2w_err(d, M2W_NO_OFFSET, "element count overflows");
	}
	if (ndim == 1)
		len -= 1; /* numpy writes (3,) */
	len += snprintf(hdr + len, sizeof hdr - (size_t)len, "), }");
	/* pad with spaces so that magic + 4 + header is a multiple of 64, end in \n */
	size_t total = 10 + (size_t)len + 1;
	size_t pad = (64 - total % 64) % 64;
	memset(hdr + len, ' ', pad);
	hdr[len + (int)pad] = '\n';
	size_t hlen = (size_t)len + pad + 1;
	if (!m2w_mul_u64(count, m2w_dtype_size(t), &bytes))
		return m2w_err(d, M2W_NO_OFFSET, "byte count overflows");

	uint8_t pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (uint8_t)hlen,
			   (uint8_t)(hlen >> 8)};
	struct m2w_out o;
	if (m2w_out_open(&o, path, d) < 0)
		return -1;
	if (m2w_out_write(&o, pre, sizeof pre, d) < 0 || m2w_out_write(&o, hdr, hlen, d) < 0 ||
	    m2w_out_write(&o, data, (size_t)bytes, d) < 0) {
		m2w_out_abort(&o);
		return -1;
	}
	return m2w_out_commit(&o, changed, d);
}
