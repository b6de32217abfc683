/* diag: errors that name the file and the byte offset where input went wrong. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "m2w.h"

void m2w_diag_init(struct m2w_diag *d, const char *file)
{
	d->file = file;
	d->off = M2W_NO_OFFSET;
	d->msg[0] = '\0';
}

int m2w_err(struct m2w_diag *d, uint64_t off, const char *fmt, ...)
{
	va_list ap;

	if (!d)
		return -1;
	d->off = off;
	va_start(ap, fmt);
	vsnprintf(d->msg, sizeof d->msg, fmt, ap);
	va_end(ap);
	return -1;
}

void m2w_diag_format(const struct m2w_diag *d, char *buf, size_t n)
{
	const char *file = d->file ? d->file : "<input>";

	if (d->off == M2W_NO_OFFSET)
		snprintf(buf, n, "%s: error: %s", file, d->msg);
	else
		snprintf(buf, n, "%s:0x%llx: error: %s", file, (unsigned long long)d->off,
			d->msg);
}

/* ---- m2w_json_pos: a minimal scanner over JSON text cJSON has accepted ---- */

static size_t js_ws(const char *s, size_t n, size_t i)
{
	while (i < n && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
		i++;
	return i;
}

/* s[i] is '"': the index just past the closing quote */
static size_t js_str(const char *s, size_t n, size_t i)
{
	for (i++; i < n && s[i] != '"'; i++)
		if (s[i] == '\\')
			i++;
	return i < n ? i + 1 : n;
}

/* past the value at i (no recursion: nesting is counted) */
static size_t js_skip(const char *s, size_t n, size_t i)
{
	size_t depth = 0;

	i = js_ws(s, n, i);
	if (i < n && s[i] == '"')
		return js_str(s, n, i);
	if (i < n && (s[i] == '{' || s[i] == '[')) {
		while (i < n) {
			char c = s[i];
			if (c == '"') {
				i = js_str(s, n, i);
				continue;
			}
			if (c == '{' || c == '[')
				depth++;
			else if ((c == '}' || c == ']') && !--depth)
				return i + 1;
			i++;
		}
		return n;
	}
	while (i < n && !strchr(",]} \t\r\n", s[i]))
		i++;
	return i;
}

/* past the separator after a member/element, at the next one (or the close) */
static size_t js_next(const char *s, size_t n, size_t i)
{
	i = js_ws(s, n, js_skip(s, n, i));
	if (i < n && s[i] == ',')
		i = js_ws(s, n, i + 1);
	return i;
}

uint64_t m2w_json_pos(const void *text, size_t len, const char *path)
{
	const char *s = text, *p = path;
	size_t i = js_ws(s, len, 0), best = i < len ? i : 0;

	while (p && *p && i < len) {
		const char *slash = strchr(p, '/');
		size_t cl = slash ? (size_t)(slash - p) : strlen(p);

		if (s[i] == '{') {
			bool found = false;
			i = js_ws(s, len, i + 1);
			while (i < len && s[i] == '"') {
				size_t ke = js_str(s, len, i);
				bool match = ke - i - 2 == cl && !memcmp(s + i + 1, p, cl);
				i = js_ws(s, len, ke);
				if (i < len && s[i] == ':')
					i = js_ws(s, len, i + 1);
				if (match) {
					found = true;
					break;
				}
				i = js_next(s, len, i);
			}
			if (!found)
				return best;
		} else if (s[i] == '[') {
			unsigned long k = strtoul(p, NULL, 10);
			i = js_ws(s, len, i + 1);
			for (unsigned long e = 0; e < k && i < len && s[i] != ']'; e++)
				i = js_next(s, len, i);
			if (i >= len || s[i] == ']')
				return best;
		} else {
			return best;
		}
		best = i;
		p = slash ? slash + 1 : NULL;
	}
	return best;
}
