/* io: mapped input and atomic, write-if-changed output.
 *
 * Outputs are compared, while they are produced, with what an existing
 * PATH holds, and nothing is written while they agree: when every byte and
 * the size agree, PATH keeps its bytes and its mtime (no temp file was
 * ever made), which is what lets Ninja's restat prune everything
 * downstream.  From the first difference on (or from the start, when there
 * is no PATH) the output goes to PATH.tmp.PID, which on commit is
 * fsync-free renamed over PATH (rename is atomic on POSIX, so a reader
 * sees the old or the new file, never half of one).  Small writes gather
 * in a buffer; large ones are compared or written straight from the
 * caller's memory.
 *
 * A tool killed while it writes leaves its PATH.tmp.PID behind (PATH itself
 * is intact).  Opening an output sweeps them: a sibling PATH.tmp.N whose
 * process N is gone (kill(N, 0) fails with ESRCH) and that was last
 * modified more than STALE_TMP_S seconds ago is removed.  A live writer's
 * temp file (its pid exists, or it is younger) is never touched.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#define XXH_STATIC_LINKING_ONLY /* XXH3_state_t's size, to embed one */
#include <xxhash.h>
#if defined(__x86_64__) && defined(__has_include)
#if __has_include(<xxh_x86dispatch.h>)
/* XXH3_64bits_update becomes libxxhash's runtime dispatch to its AVX2 /
 * AVX-512 code (the same hash, several times faster than the SSE2 default) */
#include <xxh_x86dispatch.h>
#endif
#endif

#include "m2w.h"

#define OUT_BUF (1u << 20)
#define STALE_TMP_S 5 /* a dead writer's temp file this old is swept */

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

/* ---- output ----
 *
 * o->hash_state points to this struct's first member, the xxHash3 of
 * every byte written (callers read its digest for their manifests); the
 * rest is io's own.  An existing PATH is compared byte for byte, so a hash
 * collision cannot keep a stale file.  While it is compared, nothing is
 * written: `pos` bytes of it are known equal to the output so far.  At the
 * first difference (or when PATH is shorter) the temp file is created,
 * those `pos` equal bytes are copied into it from PATH, and the rest of
 * the output is written after them. */
struct out_state {
	XXH3_state_t hash; /* first: o->hash_state points here */
	int old_fd;        /* PATH while it is compared; -1: none, or it differed */
	uint64_t old_size;
	uint64_t pos;      /* bytes handed to emit() so far */
	char *cbuf;        /* OUT_BUF bytes: PATH read back (only while there is one) */
	char msg[256];     /* emit()'s error */
};

static struct out_state *state_of(const struct m2w_out *o)
{
	return o->hash_state;
}

static int create_tmp(struct m2w_out *o, char *msg, size_t n)
{
	o->fd = open(o->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (o->fd < 0) {
		snprintf(msg, n, "cannot create %s.tmp: %s", o->path, strerror(errno));
		return -1;
	}
	return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* n bytes of PATH at off into p; false on a short read or an error. */
static bool read_old(int fd, char *p, size_t n, uint64_t off)
{
	while (n) {
		ssize_t r = pread(fd, p, n, (off_t)off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = 0;
			return false;
		}
		p += r;
		n -= (size_t)r;
		off += (uint64_t)r;
	}
	return true;
}

/* The output differs from PATH after its first s->pos bytes: the temp file
 * gets those bytes (copied from PATH) and from now on everything else. */
static int diverge(struct m2w_out *o, struct out_state *s)
{
	int old = s->old_fd, rc = -1;

	s->old_fd = -1;
	if (create_tmp(o, s->msg, sizeof s->msg) < 0)
		goto out;
	for (uint64_t off = 0; off < s->pos;) {
		size_t k = s->pos - off < OUT_BUF ? (size_t)(s->pos - off) : OUT_BUF;
		if (!read_old(old, s->cbuf, k, off)) {
			snprintf(s->msg, sizeof s->msg, "read %s: %s", o->path,
				errno ? strerror(errno) : "it shrank while being read");
			goto out;
		}
		if (write_all(o->fd, s->cbuf, k) < 0) {
			snprintf(s->msg, sizeof s->msg, "write %s: %s", o->tmp, strerror(errno));
			goto out;
		}
		off += k;
	}
	rc = 0;
out:
	close(old);
	return rc;
}

/* The next n bytes of the output: compared with PATH while they match it,
 * else written to the temp file. */
static int emit(struct m2w_out *o, const char *p, size_t n)
{
	struct out_state *s = state_of(o);

	if (s->old_fd >= 0) {
		bool same = s->old_size - s->pos >= n;
		for (size_t done = 0; same && done < n;) {
			size_t k = n - done < OUT_BUF ? n - done : OUT_BUF;
			same = read_old(s->old_fd, s->cbuf, k, s->pos + done) &&
			       !memcmp(s->cbuf, p + done, k);
			done += k;
		}
		if (same) {
			s->pos += n;
			return 0;
		}
		if (diverge(o, s) < 0)
			return -1;
	}
	if (write_all(o->fd, p, n) < 0) {
		snprintf(s->msg, sizeof s->msg, "write %s: %s", o->tmp, strerror(errno));
		return -1;
	}
	s->pos += n;
	return 0;
}

/* Removes PATH.tmp.N files left by dead processes (see the top). */
static void sweep_stale_tmp(const char *path)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	size_t blen = strlen(base);
	char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
	DIR *dp = dir ? opendir(dir) : NULL;
	struct dirent *e;
	time_t now = time(NULL);

	free(dir);
	if (!dp)
		return;
	while ((e = readdir(dp))) {
		const char *n = e->d_name, *q = n + blen + 5;
		struct stat st;
		char *end;
		long pid;

		if (strncmp(n, base, blen) || strncmp(n + blen, ".tmp.", 5) || *q < '1' || *q > '9')
			continue;
		errno = 0;
		pid = strtol(q, &end, 10);
		if (*end || errno || pid > INT_MAX || pid == (long)getpid())
			continue;
		if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue; /* alive (or not ours to signal): its writer may still be at it */
		if (fstatat(dirfd(dp), n, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode) ||
		    now - st.st_mtime < STALE_TMP_S)
			continue;
		unlinkat(dirfd(dp), n, 0);
	}
	closedir(dp);
}

int m2w_out_open(struct m2w_out *o, const char *path, struct m2w_diag *d)
{
	size_t n = strlen(path) + 32;
	struct out_state *s;
	struct stat st;

	memset(o, 0, sizeof *o);
	o->fd = -1;
	o->path = strdup(path);
	o->tmp = malloc(n);
	o->buf = malloc(OUT_BUF);
	/* sizeof is a multiple of the state's 64-byte alignment, as C11 wants */
	o->hash_state = s = aligned_alloc(_Alignof(struct out_state), sizeof *s);
	if (s) {
		memset(s, 0, sizeof *s);
		s->old_fd = -1;
		XXH3_64bits_reset(&s->hash);
	}
	if (!o->path || !o->tmp || !o->buf || !s) {
		m2w_out_abort(o);
		return m2w_err(d, M2W_NO_OFFSET, "out of memory");
	}
	snprintf(o->tmp, n, "%s.tmp.%ld", path, (long)getpid());
	sweep_stale_tmp(path);
	s->old_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (s->old_fd >= 0 && (fstat(s->old_fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    !(s->cbuf = malloc(OUT_BUF)))) {
		close(s->old_fd);
		s->old_fd = -1;
	}
	if (s->old_fd >= 0) {
		s->old_size = (uint64_t)st.st_size;
		posix_fadvise(s->old_fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	} else if (create_tmp(o, s->msg, sizeof s->msg) < 0) {
		m2w_err(d, M2W_NO_OFFSET, "%s", s->msg);
		m2w_out_abort(o);
		return -1;
	}
	return 0;
}

static int fail(struct m2w_out *o, struct m2w_diag *d)
{
	o->failed = true;
	return m2w_err(d, M2W_NO_OFFSET, "%s", state_of(o)->msg);
}

static int flush(struct m2w_out *o, struct m2w_diag *d)
{
	if (o->buf_len && emit(o, o->buf, o->buf_len) < 0)
		return fail(o, d);
	o->buf_len = 0;
	return 0;
}

int m2w_out_write(struct m2w_out *o, const void *p, size_t n, struct m2w_diag *d)
{
	const char *s = p;

	if (o->failed)
		return -1;
	XXH3_64bits_update(&state_of(o)->hash, p, n);
	o->bytes += n;
	if (n >= OUT_BUF / 4) {
		/* large writes skip the copy into the buffer */
		if (flush(o, d) < 0)
			return -1;
		if (emit(o, s, n) < 0)
			return fail(o, d);
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

int m2w_out_commit(struct m2w_out *o, bool *changed, struct m2w_diag *d)
{
	struct out_state *s = state_of(o);
	int r = -1;

	if (changed)
		*changed = false;
	if (o->failed || flush(o, d) < 0)
		goto out;
	if (s->old_fd >= 0) {
		if (s->pos == s->old_size) {
			/* every byte compared equal: PATH stays as it is */
			r = 0;
			goto out;
		}
		if (diverge(o, s) < 0) { /* PATH is longer: the output is a prefix of it */
			m2w_err(d, M2W_NO_OFFSET, "%s", s->msg);
			goto out;
		}
	}
	if (close(o->fd) < 0) {
		o->fd = -1;
		m2w_err(d, M2W_NO_OFFSET, "close %s: %s", o->tmp, strerror(errno));
		goto out;
	}
	o->fd = -1;
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
	struct out_state *s = state_of(o);

	if (o->fd >= 0) {
		close(o->fd);
		o->fd = -1;
	}
	if (o->tmp)
		unlink(o->tmp); /* no-op after a successful rename, or when none was made */
	if (s) {
		if (s->old_fd >= 0)
			close(s->old_fd);
		free(s->cbuf);
		free(s);
	}
	free(o->path);
	free(o->tmp);
	free(o->buf);
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
