/* io: mapped input and atomic, write-if-changed output.
 *
 * Outputs stream into PATH.tmp.PID through a buffer while their xxHash3 is
 * computed.  On commit, an existing PATH of the same size is hashed too; when
 * the hashes agree the temp file is removed and PATH keeps its bytes and its
 * mtime, which is what lets Ninja's restat prune everything downstream.
 * Otherwise the temp file is fsync'd-free renamed over PATH (rename is atomic
 * on POSIX, so a reader sees the old or the new file, never half of one).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "m2w.h"

#define OUT_BUF (1u << 20)

int m2w_file_map(struct m2w_file *f, const char *path, struct m2w_diag *d)
{
	struct stat st;
	int fd;

	memset(f, 0, sizeof *f);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return m2w_err(d, M2W_NO_OFFSET, "cannot open: %s", strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return m2w_err(d, M2W_NO_OFFSET, "not a regular file");
	}
	if ((uint64_t)st.st_size > SIZE_MAX) {
		close(fd);
		return m2w_err(d, M2W_NO_OFFSET, "file too large to map");
	}
	f->size = (size_t)st.st_size;
	if (f->size) {
		void *p = mmap(NULL, f->size, PROT_READ, MAP_PRIVATE, fd, 0);
		if (p == MAP_FAILED) {
			close(fd);
			return m2w_err(d, M2W_NO_OFFSET, "cannot map: %s", strerror(errno));
		}
		f->data = p;
	}
	close(fd);
	f->path = strdup(path);
	return 0;
}

void m2w_file_unmap(struct m2w_file *f)
{
	if (f->data)
		munmap((void *)f->data, f->size);
	free(f->path);
	memset(f, 0, sizeof *f);
}

int m2w_out_open(struct m2w_out *o, const char *path, struct m2w_diag *d)
{
	size_t n = strlen(path) + 32;

	memset(o, 0, sizeof *o);
	o->fd = -1;
	o->path = strdup(path);
	o->tmp = malloc(n);
	o->buf = malloc(OUT_BUF);
	o->hash_state = XXH3_createState();
	if (!o->path || !o->tmp || !o->buf || !o->hash_state) {
		m2w_out_abort(o);
		return m2w_err(d, M2W_NO_OFFSET, "out of memory");
	}
	XXH3_64bits_reset(o->hash_state);
	snprintf(o->tmp, n, "%s.tmp.%ld", path, (long)getpid());
	o->fd = open(o->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (o->fd < 0) {
		int e = errno;
		m2w_out_abort(o);
		return m2w_err(d, M2W_NO_OFFSET, "cannot create %s.tmp: %s", path, strerror(e));
	}
	return 0;
}

static int flush(struct m2w_out *o, struct m2w_diag *d)
{
	size_t done = 0;

	while (done < o->buf_len) {
		ssize_t w = write(o->fd, o->buf + done, o->buf_len - done);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			o->failed = true;
			return m2w_err(d, M2W_NO_OFFSET, "write %s: %s", o->tmp, strerror(errno));
		}
		done += (size_t)w;
	}
	o->buf_len = 0;
	return 0;
}

int m2w_out_write(struct m2w_out *o, const void *p, size_t n, struct m2w_diag *d)
{
	const char *s = p;

	if (o->failed)
		return -1;
	XXH3_64bits_update(o->hash_state, p, n);
	o->bytes += n;
	if (o->buf_len == 0 && n >= OUT_BUF) {
		/* large writes skip the copy into the buffer */
		while (n) {
			ssize_t w = write(o->fd, s, n);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				o->failed = true;
				return m2w_err(d, M2W_NO_OFFSET, "write %s: %s", o->tmp, strerror(errno));
			}
			s += w;
			n -= (size_t)w;
		}
		return 0;
	}
	while (n) {
		size_t k = OUT_BUF - o->buf_len;
		if (k > n)
			k = n;
		memcpy(o->buf + o->buf_len, s, k);
		o->buf_len += k;
		s += k;
		n -= k;
		if (o->buf_len == OUT_BUF && flush(o, d) < 0)
			return -1;
	}
	return 0;
}

int m2w_out_printf(struct m2w_out *o, struct m2w_diag *d, const char *fmt, ...)
{
	char small[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0)
		return m2w_err(d, M2W_NO_OFFSET, "format error");
	if ((size_t)n < sizeof small)
		return m2w_out_write(o, small, (size_t)n, d);
	char *big = malloc((size_t)n + 1);
	if (!big)
		return m2w_err(d, M2W_NO_OFFSET, "out of memory");
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	int r = m2w_out_write(o, big, (size_t)n, d);
	free(big);
	return r;
}

/* True when PATH exists with exactly `bytes` bytes hashing to `h`.  Read
 * through a small buffer rather than mapped, so checking a multi-GB output
 * costs no more memory than writing it. */
static bool same_as_existing(const char *path, uint64_t bytes, uint64_t h, char *buf)
{
	struct stat st;
	XXH3_state_t *state;
	bool same = false;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size != bytes ||
	    !(state = XXH3_createState())) {
		close(fd);
		return false;
	}
	XXH3_64bits_reset(state);
	for (uint64_t done = 0;;) {
		ssize_t r = read(fd, buf, OUT_BUF);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			break;
		if (r == 0) {
			same = done == bytes && XXH3_64bits_digest(state) == h;
			break;
		}
		XXH3_64bits_update(state, buf, (size_t)r);
		done += (uint64_t)r;
	}
	XXH3_freeState(state);
	close(fd);
	return same;
}

int m2w_out_commit(struct m2w_out *o, bool *changed, struct m2w_diag *d)
{
	int r = -1;

	if (changed)
		*changed = false;
	if (o->failed || flush(o, d) < 0)
		goto out;
	if (close(o->fd) < 0) {
		o->fd = -1;
		m2w_err(d, M2W_NO_OFFSET, "close %s: %s", o->tmp, strerror(errno));
		goto out;
	}
	o->fd = -1;
	uint64_t h = XXH3_64bits_digest(o->hash_state);
	if (same_as_existing(o->path, o->bytes, h, o->buf)) {
		unlink(o->tmp);
		r = 0;
		goto out;
	}
	if (rename(o->tmp, o->path) < 0) {
		m2w_err(d, M2W_NO_OFFSET, "rename to %s: %s", o->path, strerror(errno));
		goto out;
	}
	if (changed)
		*changed = true;
	r = 0;
out:
	m2w_out_abort(o);
	return r;
}

void m2w_out_abort(struct m2w_out *o)
{
	if (o->fd >= 0) {
		close(o->fd);
		o->fd = -1;
	}
	if (o->tmp)
		unlink(o->tmp); /* no-op after a successful rename */
	free(o->path);
	free(o->tmp);
	free(o->buf);
	if (o->hash_state)
		XXH3_freeState(o->hash_state);
	memset(o, 0, sizeof *o);
	o->fd = -1;
}

int m2w_write_if_changed(const char *path, const void *p, size_t n, bool *changed,
	struct m2w_diag *d)
{
	struct m2w_out o;

	if (m2w_out_open(&o, path, d) < 0)
		return -1;
	if (m2w_out_write(&o, p, n, d) < 0) {
		m2w_out_abort(&o);
		return -1;
	}
	return m2w_out_commit(&o, changed, d);
}

char *m2w_depfile_escape(const char *path)
{
	size_t n = strlen(path);
	char *s = malloc(2 * n + 1), *q = s;

	if (!s)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		char c = path[i];
		if (c == ' ' || c == '\t') {
			/* backslashes right before a blank are doubled, then the blank escaped */
			for (char *b = q; b > s && b[-1] == '\\'; b--)
				*q++ = '\\';
			*q++ = '\\';
		} else if (c == '#') {
			*q++ = '\\';
		} else if (c == '$') {
			*q++ = '$';
		}
		*q++ = c;
	}
	*q = '\0';
	return s;
}

int m2w_depfile_write(const char *path, const char *target, const char *const *deps,
	size_t ndeps, struct m2w_diag *d)
{
	struct m2w_out o;
	char *e;
	int r = 0;

	if (m2w_out_open(&o, path, d) < 0)
		return -1;
	e = m2w_depfile_escape(target);
	r |= e ? m2w_out_printf(&o, d, "%s:", e) : -1;
	free(e);
	for (size_t i = 0; i < ndeps && r == 0; i++) {
		e = m2w_depfile_escape(deps[i]);
		r |= e ? m2w_out_printf(&o, d, " \\\n %s", e) : -1;
		free(e);
	}
	if (r == 0)
		r = m2w_out_write(&o, "\n", 1, d);
	if (r < 0) {
		m2w_out_abort(&o);
		return -1;
	}
	return m2w_out_commit(&o, NULL, d);
}
