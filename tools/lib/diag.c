/* diag: errors that name the file and the byte offset where input went wrong. */
#include <stdarg.h>
#include <stdio.h>
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
