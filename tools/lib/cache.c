/* cache: the content-addressed result store behind --cache-dir (format,
 * layout and concurrency rules in cache.h).
 *
 * Every file is read through one reused 1 MiB buffer, so hashing a
 * multi-GB model or copying a large blob costs no memory beyond it.
 */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "cache.h"

#define CACHE_BUF (1u << 20)
#define CACHE_FORMAT "m2w-cache"
#define CACHE_VERSION 1
#define CACHE_TAG "m2w-cache 1" /* first key part: bump with the key's recipe */

struct extra {
	char *path;   /* as the tool named it, or as resolved now (after a hit) */
	char *stored; /* relative to the input's directory when rel */
	bool rel;
	uint64_t bytes, hash;
};

struct output {
	char *name, *path;
};

struct m2w_cache {
	char *dir, *tool, *tooldir, *anchor, *base;
	XXH3_state_t *key;
	char *buf; /* CACHE_BUF bytes */
	char *entry;
	char note[600];
	struct extra *ex;
	size_t nex;
	const char **expaths; /* after a hit */
	struct output *out;
	size_t nout;
};

static int oom(struct m2w_diag *d) { return m2w_err(d, M2W_NO_OFFSET, "out of memory"); }

static char *join(const char *a, const char *b)
{
	size_t n = strlen(a) + strlen(b) + 2;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s/%s", a, b);
	return p;
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

/* mkdir -p; EEXIST is fine (another process may be making it too). */
static int mkdirs(const char *path)
{
	char *p = strdup(path);
	if (!p)
		return -1;
	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST) {
			free(p);
			return -1;
		}
		*s = '/';
	}
	int r = mkdir(p, 0755) < 0 && errno != EEXIST ? -1 : 0;
	free(p);
	return r;
}

/* A name unique among concurrent processes: pid, clocks and a counter
 * hashed; mkdir/rename refuse a clash anyway. */
static uint64_t rand64(void)
{
	static uint64_t counter;
	struct timespec a, b;
	uint64_t v[5];

	clock_gettime(CLOCK_REALTIME, &a);
	clock_gettime(CLOCK_MONOTONIC, &b);
	v[0] = (uint64_t)getpid();
	v[1] = (uint64_t)a.tv_sec * 1000000000u + (uint64_t)a.tv_nsec;
	v[2] = (uint64_t)b.tv_sec * 1000000000u + (uint64_t)b.tv_nsec;
	v[3] = ++counter;
	v[4] = (uint64_t)(uintptr_t)&a;
	return XXH3_64bits(v, sizeof v);
}

static char *private_name(const char *tooldir, const char *what)
{
	char name[64], hex[17];
	m2w_xxh3_hex(rand64(), hex);
	snprintf(name, sizeof name, ".%s.%ld.%s", what, (long)getpid(), hex);
	return join(tooldir, name);
}

/* Entries hold plain files only. */
static void rmtree(const char *dir)
{
	DIR *dp = opendir(dir);
	struct dirent *e;

	if (dp) {
		while ((e = readdir(dp))) {
			if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
				continue;
			char *p = join(dir, e->d_name);
			if (p)
				unlink(p);
			free(p);
		}
		closedir(dp);
	}
	rmdir(dir);
}

/* Takes an entry out of sight first (rename is atomic), then empties it. */
static void remove_entry(struct m2w_cache *c, const char *vdir)
{
	char *trash = private_name(c->tooldir, "del");
	if (trash && rename(vdir, trash) == 0)
		rmtree(trash);
	free(trash);
}

static int read_full(int fd, char *buf, size_t n, size_t *got)
{
	*got = 0;
	while (*got < n) {
		ssize_t r = read(fd, buf + *got, n - *got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		*got += (size_t)r;
	}
	return 0;
}

static int write_full(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Streams FD's bytes into the callback in CACHE_BUF pieces; returns the
 * byte count through *bytes; -1 with errno on a read error. */
typedef int (*sink_fn)(void *ctx, const char *p, size_t n);

static int stream_fd(int fd, char *buf, sink_fn sink, void *ctx, uint64_t *bytes)
{
	*bytes = 0;
	for (;;) {
		size_t got;
		if (read_full(fd, buf, CACHE_BUF, &got) < 0)
			return -1;
		if (got == 0)
			return 0;
		if (sink(ctx, buf, got) < 0)
			return -2;
		*bytes += got;
		if (got < CACHE_BUF)
			return 0;
	}
}

static int sink_hash64(void *ctx, const char *p, size_t n)
{
	return XXH3_64bits_update(ctx, p, n) == XXH_OK ? 0 : -1;
}

/* xxh3-64 and size of a file; -1 when it cannot be read. */
static int hash_file(const char *path, char *buf, uint64_t *bytes, uint64_t *hash)
{
	XXH3_state_t *s = XXH3_createState();
	int fd = open(path, O_RDONLY | O_CLOEXEC), r = -1;

	if (s && fd >= 0) {
		XXH3_64bits_reset(s);
		if (stream_fd(fd, buf, sink_hash64, s, bytes) == 0) {
			*hash = XXH3_64bits_digest(s);
			r = 0;
		}
	}
	if (fd >= 0)
		close(fd);
	XXH3_freeState(s);
	return r;
}

static bool parse_hex64(const char *s, uint64_t *v)
{
	*v = 0;
	if (!s || strlen(s) != 16)
		return false;
	for (int i = 0; i < 16; i++) {
		int c = s[i], x = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
		if (x < 0)
			return false;
		*v = *v << 4 | (uint64_t)x;
	}
	return true;
}

/* ---- the executable's identity ---- */

static void hash_skipping(XXH3_state_t *s, const uint8_t *base, uint64_t a, uint64_t b,
	const uint64_t (*cut)[2], size_t ncut)
{
	/* cut[] is sorted by start; hash [a, b) minus the cuts */
	for (size_t i = 0; i < ncut && a < b; i++) {
		if (cut[i][1] <= a || cut[i][0] >= b)
			continue;
		if (cut[i][0] > a)
			XXH3_128bits_update(s, base + a, (size_t)(cut[i][0] - a));
		if (cut[i][1] > a)
			a = cut[i][1];
	}
	if (a < b)
		XXH3_128bits_update(s, base + a, (size_t)(b - a));
}

/* ELF64 little-endian: the bytes the loader maps (PT_LOAD), without the
 * notes (the build id hashes debug info, which names the build directory)
 * and without the header's section-table fields (their offsets move with
 * the size of the debug info).  What runs is hashed; where it was built is
 * not.  False when the file is not such an ELF. */
static bool hash_elf(XXH3_state_t *s, const uint8_t *p, size_t n)
{
	enum { EHDR = 64, PHDR = 56, PT_LOAD_ = 1, PT_NOTE_ = 4, MAX_CUT = 32 };
	uint64_t cut[MAX_CUT][2];
	size_t ncut = 0;

	if (n < EHDR || memcmp(p, "\177ELF", 4) || p[4] != 2 || p[5] != 1)
		return false;
	uint64_t phoff = m2w_le64(p + 0x20);
	uint16_t phentsize = m2w_le16(p + 0x36), phnum = m2w_le16(p + 0x38);
	if (phentsize < PHDR || phoff > n || (uint64_t)phnum * phentsize > n - phoff)
		return false;
	cut[ncut][0] = 0;
	cut[ncut++][1] = EHDR;
	for (uint16_t i = 0; i < phnum; i++) {
		const uint8_t *ph = p + phoff + (uint64_t)i * phentsize;
		uint64_t off = m2w_le64(ph + 8), sz = m2w_le64(ph + 32);
		if (off > n || sz > n - off)
			return false;
		if (m2w_le32(ph) == PT_NOTE_ && ncut < MAX_CUT) {
			size_t k = ncut++;
			/* insertion sort by start */
			while (k > 0 && cut[k - 1][0] > off) {
				cut[k][0] = cut[k - 1][0];
				cut[k][1] = cut[k - 1][1];
				k--;
			}
			cut[k][0] = off;
			cut[k][1] = off + sz;
		}
	}
	uint8_t h[EHDR];
	memcpy(h, p, EHDR);
	memset(h + 0x28, 0, 8); /* e_shoff */
	memset(h + 0x3c, 0, 4); /* e_shnum, e_shstrndx */
	XXH3_128bits_update(s, h, EHDR);
	for (uint16_t i = 0; i < phnum; i++) {
		const uint8_t *ph = p + phoff + (uint64_t)i * phentsize;
		if (m2w_le32(ph) != PT_LOAD_)
			continue;
		uint64_t off = m2w_le64(ph + 8), sz = m2w_le64(ph + 32);
		XXH3_128bits_update(s, ph, PHDR);
		hash_skipping(s, p, off, off + sz, (const uint64_t (*)[2])cut, ncut);
	}
	return true;
}

/* Once a process: the executable's hash, or the version alone. */
static XXH128_hash_t exe_identity(void)
{
	static XXH128_hash_t id;
	static bool done;
	struct m2w_file f;
	struct m2w_diag d;
	XXH3_state_t *s;

	if (done)
		return id;
	done = true;
	m2w_diag_init(&d, "/proc/self/exe");
	if (!(s = XXH3_createState()))
		return id;
	XXH3_128bits_reset(s);
	XXH3_128bits_update(s, M2W_VERSION, sizeof M2W_VERSION);
	if (m2w_file_map(&f, "/proc/self/exe", &d) == 0) {
		if (!hash_elf(s, f.data, f.size)) {
			XXH3_128bits_reset(s);
			XXH3_128bits_update(s, M2W_VERSION, sizeof M2W_VERSION);
			XXH3_128bits_update(s, "file", 4);
			if (f.size)
				XXH3_128bits_update(s, f.data, f.size);
		}
		m2w_file_unmap(&f);
	}
	id = XXH3_128bits_digest(s);
	XXH3_freeState(s);
	return id;
}

/* ---- key ---- */

static void key_part(struct m2w_cache *c, char tag, const char *s, size_t n)
{
	uint64_t len = n;
	XXH3_128bits_update(c->key, &tag, 1);
	XXH3_128bits_update(c->key, &len, sizeof len);
	XXH3_128bits_update(c->key, s, n);
}

struct m2w_cache *m2w_cache_create(const char *dir, const char *tool, const char *input,
	struct m2w_diag *d)
{
	struct m2w_cache *c = calloc(1, sizeof *c);
	const char *slash = strrchr(input, '/');
	size_t alen = slash ? (size_t)(slash - input) + 1 : 0;

	if (!c || !(c->dir = strdup(dir)) || !(c->tool = strdup(tool)) ||
	    !(c->tooldir = join(dir, tool)) || !(c->base = strdup(base_name(input))) ||
	    !(c->anchor = malloc(alen + 1)) || !(c->key = XXH3_createState()) ||
	    !(c->buf = malloc(CACHE_BUF))) {
		m2w_cache_free(c);
		oom(d);
		return NULL;
	}
	memcpy(c->anchor, input, alen);
	c->anchor[alen] = '\0';
	if (mkdirs(c->tooldir) < 0) {
		m2w_err(d, M2W_NO_OFFSET, "cache directory %s: %s", c->tooldir, strerror(errno));
		m2w_cache_free(c);
		return NULL;
	}
	XXH128_hash_t id = exe_identity();
	XXH3_128bits_reset(c->key);
	key_part(c, 'T', CACHE_TAG, strlen(CACHE_TAG));
	key_part(c, 'T', tool, strlen(tool));
	key_part(c, 'V', M2W_VERSION, strlen(M2W_VERSION));
	key_part(c, 'X', (const char *)&id, sizeof id);
	return c;
}

void m2w_cache_free(struct m2w_cache *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->nex; i++) {
		free(c->ex[i].path);
		free(c->ex[i].stored);
	}
	for (size_t i = 0; i < c->nout; i++) {
		free(c->out[i].name);
		free(c->out[i].path);
	}
	free(c->ex);
	free(c->expaths);
	free(c->out);
	XXH3_freeState(c->key);
	free(c->dir);
	free(c->tool);
	free(c->tooldir);
	free(c->anchor);
	free(c->base);
	free(c->buf);
	free(c->entry);
	free(c);
}

int m2w_cache_key_str(struct m2w_cache *c, const char *name, const char *value)
{
	key_part(c, 'N', name, strlen(name));
	key_part(c, 'S', value, strlen(value));
	return 0;
}

static int sink_key(void *ctx, const char *p, size_t n)
{
	return XXH3_128bits_update(ctx, p, n) == XXH_OK ? 0 : -1;
}

int m2w_cache_key_file(struct m2w_cache *c, const char *name, const char *path,
	struct m2w_diag *d)
{
	struct stat st;
	uint64_t got;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return m2w_err(d, M2W_NO_OFFSET, "cache key: cannot open %s: %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return m2w_err(d, M2W_NO_OFFSET, "cache key: %s is not a regular file", path);
	}
	uint64_t size = (uint64_t)st.st_size;
	key_part(c, 'N', name, strlen(name));
	key_part(c, 'F', (const char *)&size, sizeof size);
	int r = stream_fd(fd, c->buf, sink_key, c->key, &got);
	close(fd);
	if (r < 0)
		return m2w_err(d, M2W_NO_OFFSET, "cache key: read %s: %s", path, strerror(errno));
	if (got != size)
		return m2w_err(d, M2W_NO_OFFSET, "cache key: %s changed while being read", path);
	return 0;
}

void m2w_cache_key_hex(struct m2w_cache *c, char out[33])
{
	XXH128_canonical_t k;
	static const char hex[] = "0123456789abcdef";

	XXH128_canonicalFromHash(&k, XXH3_128bits_digest(c->key));
	for (int i = 0; i < 16; i++) {
		out[2 * i] = hex[k.digest[i] >> 4];
		out[2 * i + 1] = hex[k.digest[i] & 15];
	}
	out[32] = '\0';
}

const char *m2w_cache_entry(const struct m2w_cache *c) { return c->entry; }

const char *m2w_cache_note(const struct m2w_cache *c) { return c->note[0] ? c->note : NULL; }

size_t m2w_cache_extras(const struct m2w_cache *c, const char *const **paths)
{
	*paths = c->expaths;
	return c->expaths ? c->nex : 0;
}

/* ---- lookup ---- */

static void log_line(struct m2w_cache *c, bool hit, const char *key)
{
	char line[1024], base[256];
	size_t i;

	/* one field: no blanks or control characters in the input's name */
	for (i = 0; c->base[i] && i + 1 < sizeof base; i++) {
		unsigned char ch = (unsigned char)c->base[i];
		base[i] = ch <= ' ' || ch == 127 ? '?' : (char)ch;
	}
	base[i] = '\0';
	int n = snprintf(line, sizeof line, "%s %s %s %s\n", hit ? "hit" : "miss", c->tool, key,
		i ? base : "-");
	if (n < 0 || (size_t)n >= sizeof line)
		return;
	char *path = join(c->dir, "log");
	int fd = path ? open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644) : -1;
	if (fd >= 0) {
		/* one write(): O_APPEND makes concurrent lines land whole */
		if (write(fd, line, (size_t)n) != n) {
			/* the log is a record, not a contract: a short write is ignored */
		}
		close(fd);
	}
	free(path);
}

static bool valid_name(const char *s)
{
	if (!s || !*s || *s == '.' || strlen(s) > 255)
		return false;
	for (; *s; s++)
		if (*s == '/' || (unsigned char)*s < ' ')
			return false;
	return true;
}

static const char *str_item(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool u64_item(const cJSON *o, const char *k, uint64_t *v)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, k);
	if (!cJSON_IsNumber(j) || j->valuedouble < 0 || j->valuedouble > 9007199254740992.0 ||
	    j->valuedouble != (double)(uint64_t)j->valuedouble)
		return false;
	*v = (uint64_t)j->valuedouble;
	return true;
}

struct copy_sink {
	struct m2w_out *o;
	XXH3_state_t *h;
	struct m2w_diag *d;
};

static int sink_copy(void *ctx, const char *p, size_t n)
{
	struct copy_sink *k = ctx;
	XXH3_64bits_update(k->h, p, n);
	return m2w_out_write(k->o, p, n, k->d);
}

enum { V_HIT = 1, V_OTHER = 0, V_ERROR = -1, V_CORRUPT = -2, V_GONE = -3 };

/* Copies stored file SRC to DEST (write-if-changed) if it has BYTES bytes
 * hashing to HASH. */
static int restore_file(struct m2w_cache *c, const char *src, const char *dest, uint64_t bytes,
	uint64_t hash, size_t *nchanged, struct m2w_diag *d)
{
	struct m2w_out o;
	struct stat st;
	uint64_t got;
	bool changed;
	int fd = open(src, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		/* a file missing from a listed entry: corrupt (if the whole entry
		 * went meanwhile, removing it again is a no-op) */
		snprintf(c->note, sizeof c->note, "%s: %s", src, strerror(errno));
		return V_CORRUPT;
	}
	if (fstat(fd, &st) < 0)
		st.st_size = -1;
	if ((uint64_t)st.st_size != bytes) {
		close(fd);
		snprintf(c->note, sizeof c->note, "%s has %lld bytes, the entry says %llu", src,
			(long long)st.st_size, (unsigned long long)bytes);
		return V_CORRUPT;
	}
	XXH3_state_t *h = XXH3_createState();
	if (!h) {
		close(fd);
		return oom(d);
	}
	XXH3_64bits_reset(h);
	if (m2w_out_open(&o, dest, d) < 0) {
		XXH3_freeState(h);
		close(fd);
		return V_ERROR;
	}
	struct copy_sink k = {&o, h, d};
	int r = stream_fd(fd, c->buf, sink_copy, &k, &got);
	close(fd);
	uint64_t sum = XXH3_64bits_digest(h);
	XXH3_freeState(h);
	if (r == -2) {
		m2w_out_abort(&o);
		return V_ERROR;
	}
	if (r < 0 || got != bytes || sum != hash) {
		m2w_out_abort(&o);
		char want[17], have[17];
		m2w_xxh3_hex(hash, want);
		m2w_xxh3_hex(sum, have);
		snprintf(c->note, sizeof c->note, "%s hashes to %s, the entry says %s", src, have, want);
		return V_CORRUPT;
	}
	if (m2w_out_commit(&o, &changed, d) < 0)
		return V_ERROR;
	*nchanged += changed;
	return V_HIT;
}

static char *resolve_extra(struct m2w_cache *c, const char *stored, bool rel)
{
	if (!rel)
		return strdup(stored);
	size_t n = strlen(c->anchor) + strlen(stored) + 1;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s%s", c->anchor, stored);
	return p;
}

/* One VARIANT dir: its extras must match the files as they are now. */
static int try_variant(struct m2w_cache *c, const char *vdir, const char *key,
	const struct m2w_cache_dest *dest, size_t ndest, const char *dest_dir, size_t *nchanged,
	struct m2w_diag *d)
{
	char *mp = join(vdir, "meta.json");
	struct m2w_file mf;
	struct m2w_diag md;
	cJSON *j = NULL;
	int r = V_CORRUPT;
	char **dpaths = NULL;
	size_t nfiles = 0;

	if (!mp)
		return oom(d);
	m2w_diag_init(&md, mp);
	if (m2w_file_map(&mf, mp, &md) < 0) {
		r = access(vdir, F_OK) < 0 ? V_GONE : V_CORRUPT;
		snprintf(c->note, sizeof c->note, "%s: %s", mp, md.msg);
		free(mp);
		return r;
	}
	j = cJSON_ParseWithLength((const char *)mf.data, mf.size);
	m2w_file_unmap(&mf);
	snprintf(c->note, sizeof c->note, "%s is not a valid entry manifest", mp);
	const cJSON *files = cJSON_GetObjectItemCaseSensitive(j, "files");
	const cJSON *extras = cJSON_GetObjectItemCaseSensitive(j, "extras");
	uint64_t version;
	if (!j || !str_item(j, "format") || strcmp(str_item(j, "format"), CACHE_FORMAT) ||
	    !u64_item(j, "version", &version) || version != CACHE_VERSION ||
	    !str_item(j, "tool") || strcmp(str_item(j, "tool"), c->tool) ||
	    !str_item(j, "key") || strcmp(str_item(j, "key"), key) ||
	    !cJSON_IsArray(files) || !cJSON_IsArray(extras) || !cJSON_GetArraySize(files))
		goto out;

	/* the extras first: a mismatch means another variant, not corruption */
	size_t nex = (size_t)cJSON_GetArraySize(extras);
	const char **ep = calloc(nex + 1, sizeof *ep);
	struct extra *ex = calloc(nex + 1, sizeof *ex);
	if (!ep || !ex) {
		free(ep);
		free(ex);
		r = oom(d);
		goto out;
	}
	size_t i = 0;
	const cJSON *e;
	bool ok = true;
	cJSON_ArrayForEach(e, extras) {
		const char *p = str_item(e, "path");
		const cJSON *rel = cJSON_GetObjectItemCaseSensitive(e, "rel");
		uint64_t bytes, want, have_bytes, have;
		if (!p || !cJSON_IsBool(rel) || !u64_item(e, "bytes", &bytes) ||
		    !parse_hex64(str_item(e, "xxh3"), &want)) {
			ok = false;
			break;
		}
		ex[i].rel = cJSON_IsTrue(rel);
		if (!(ex[i].path = resolve_extra(c, p, ex[i].rel))) {
			ok = false;
			break;
		}
		i++;
		if (hash_file(ex[i - 1].path, c->buf, &have_bytes, &have) < 0 || have_bytes != bytes ||
		    have != want) {
			r = V_OTHER;
			ok = false;
			break;
		}
	}
	if (!ok) {
		for (size_t k = 0; k < i; k++)
			free(ex[k].path);
		free(ep);
		free(ex);
		goto out;
	}

	/* every file's destination before anything is written */
	nfiles = (size_t)cJSON_GetArraySize(files);
	if (!(dpaths = calloc(nfiles, sizeof *dpaths))) {
		for (size_t k = 0; k < i; k++)
			free(ex[k].path);
		free(ep);
		free(ex);
		r = oom(d);
		goto out;
	}
	size_t f = 0;
	cJSON_ArrayForEach(e, files) {
		const char *name = str_item(e, "name");
		uint64_t v;
		if (!ok || !valid_name(name) || !u64_item(e, "bytes", &v) ||
		    !parse_hex64(str_item(e, "xxh3"), &v)) {
			ok = false;
			break;
		}
		for (size_t k = 0; k < ndest && !dpaths[f]; k++)
			if (!strcmp(dest[k].name, name) && !(dpaths[f] = strdup(dest[k].path)))
				ok = false;
		if (!dpaths[f] && ok && (!dest_dir || !(dpaths[f] = join(dest_dir, name))))
			ok = false;
		f++;
	}
	if (ok && dest_dir && mkdirs(dest_dir) < 0) {
		r = m2w_err(d, M2W_NO_OFFSET, "output directory %s: %s", dest_dir, strerror(errno));
		ok = false;
	}
	if (ok) {
		f = 0;
		r = V_HIT;
		cJSON_ArrayForEach(e, files) {
			char idx[32];
			uint64_t bytes = 0, hash = 0;
			u64_item(e, "bytes", &bytes);
			parse_hex64(str_item(e, "xxh3"), &hash);
			snprintf(idx, sizeof idx, "%zu", f);
			char *src = join(vdir, idx);
			r = src ? restore_file(c, src, dpaths[f], bytes, hash, nchanged, d) : oom(d);
			free(src);
			if (r != V_HIT)
				break;
			f++;
		}
	}
	if (r == V_HIT) {
		for (size_t k = 0; k < i; k++)
			ep[k] = ex[k].path;
		c->ex = ex;
		c->nex = i;
		c->expaths = ep;
		c->note[0] = '\0';
	} else {
		for (size_t k = 0; k < i; k++)
			free(ex[k].path);
		free(ex);
		free(ep);
	}
out:
	if (dpaths)
		for (size_t k = 0; k < nfiles; k++)
			free(dpaths[k]);
	free(dpaths);
	cJSON_Delete(j);
	free(mp);
	return r;
}

int m2w_cache_lookup(struct m2w_cache *c, const struct m2w_cache_dest *dest, size_t ndest,
	const char *dest_dir, size_t *nchanged, struct m2w_diag *d)
{
	char key[33], corrupt[sizeof c->note] = "";
	int r = V_OTHER;
	struct dirent *e;

	*nchanged = 0;
	c->note[0] = '\0';
	m2w_cache_key_hex(c, key);
	free(c->entry);
	if (!(c->entry = join(c->tooldir, key)))
		return oom(d);
	DIR *dp = opendir(c->entry);
	if (dp) {
		while (r != V_HIT && r != V_ERROR && (e = readdir(dp))) {
			if (e->d_name[0] == '.')
				continue;
			char *vdir = join(c->entry, e->d_name);
			if (!vdir) {
				r = oom(d);
				break;
			}
			r = try_variant(c, vdir, key, dest, ndest, dest_dir, nchanged, d);
			if (r == V_CORRUPT) {
				remove_entry(c, vdir);
				snprintf(corrupt, sizeof corrupt, "corrupt entry removed: %.560s", c->note);
			}
			if (r == V_HIT) {
				free(c->entry);
				c->entry = vdir;
			} else {
				free(vdir);
			}
		}
		closedir(dp);
	}
	if (r != V_HIT)
		memcpy(c->note, corrupt, sizeof corrupt);
	log_line(c, r == V_HIT, key);
	return r == V_HIT ? 1 : r == V_ERROR ? -1 : 0;
}

/* ---- store ---- */

int m2w_cache_add_extra(struct m2w_cache *c, const char *path, struct m2w_diag *d)
{
	struct extra *n = realloc(c->ex, (c->nex + 1) * sizeof *n);
	size_t alen = strlen(c->anchor);

	if (!n)
		return oom(d);
	c->ex = n;
	struct extra *x = &c->ex[c->nex];
	memset(x, 0, sizeof *x);
	/* beside the input (or both relative to the working dir): store relative */
	x->rel = !strncmp(path, c->anchor, alen) && (alen > 0 || path[0] != '/');
	if (!(x->path = strdup(path)) || !(x->stored = strdup(x->rel ? path + alen : path))) {
		free(x->path);
		return oom(d);
	}
	c->nex++;
	if (hash_file(path, c->buf, &x->bytes, &x->hash) < 0)
		return m2w_err(d, M2W_NO_OFFSET, "cache: cannot read %s: %s", path, strerror(errno));
	return 0;
}

int m2w_cache_add_output(struct m2w_cache *c, const char *name, const char *path,
	struct m2w_diag *d)
{
	if (!valid_name(name))
		return m2w_err(d, M2W_NO_OFFSET, "cache: bad output name '%s'", name);
	struct output *n = realloc(c->out, (c->nout + 1) * sizeof *n);
	if (!n)
		return oom(d);
	c->out = n;
	n[c->nout].name = strdup(name);
	n[c->nout].path = strdup(path);
	if (!n[c->nout].name || !n[c->nout].path) {
		free(n[c->nout].name);
		free(n[c->nout].path);
		return oom(d);
	}
	c->nout++;
	return 0;
}

struct copy_out {
	int fd;
	XXH3_state_t *h;
};

static int sink_store(void *ctx, const char *p, size_t n)
{
	struct copy_out *k = ctx;
	XXH3_64bits_update(k->h, p, n);
	return write_full(k->fd, p, n);
}

static int copy_in(struct m2w_cache *c, const char *src, const char *dst, uint64_t *bytes,
	uint64_t *hash, struct m2w_diag *d)
{
	int in = open(src, O_RDONLY | O_CLOEXEC), r = -1;
	int out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	struct copy_out k = {out, XXH3_createState()};

	if (in < 0 || out < 0 || !k.h) {
		m2w_err(d, M2W_NO_OFFSET, "cache: copy %s: %s", in < 0 ? src : dst, strerror(errno));
	} else {
		XXH3_64bits_reset(k.h);
		int s = stream_fd(in, c->buf, sink_store, &k, bytes);
		if (s < 0)
			m2w_err(d, M2W_NO_OFFSET, "cache: copy %s: %s", s == -1 ? src : dst, strerror(errno));
		else
			r = 0;
		*hash = XXH3_64bits_digest(k.h);
	}
	if (in >= 0)
		close(in);
	if (out >= 0 && close(out) < 0 && r == 0)
		r = m2w_err(d, M2W_NO_OFFSET, "cache: close %s: %s", dst, strerror(errno));
	XXH3_freeState(k.h);
	return r;
}

static cJSON *meta_json(struct m2w_cache *c, const char *key, const uint64_t *bytes,
	const uint64_t *hash)
{
	cJSON *j = cJSON_CreateObject(), *a;
	char hex[17];

	if (!j)
		return NULL;
	cJSON_AddStringToObject(j, "format", CACHE_FORMAT);
	cJSON_AddNumberToObject(j, "version", CACHE_VERSION);
	cJSON_AddStringToObject(j, "tool", c->tool);
	cJSON_AddStringToObject(j, "key", key);
	cJSON_AddStringToObject(j, "input", c->base);
	a = cJSON_AddArrayToObject(j, "files");
	for (size_t i = 0; a && i < c->nout; i++) {
		cJSON *e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "name", c->out[i].name);
		cJSON_AddNumberToObject(e, "bytes", (double)bytes[i]);
		m2w_xxh3_hex(hash[i], hex);
		cJSON_AddStringToObject(e, "xxh3", hex);
		cJSON_AddItemToArray(a, e);
	}
	a = cJSON_AddArrayToObject(j, "extras");
	for (size_t i = 0; a && i < c->nex; i++) {
		cJSON *e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "path", c->ex[i].stored);
		cJSON_AddBoolToObject(e, "rel", c->ex[i].rel);
		cJSON_AddNumberToObject(e, "bytes", (double)c->ex[i].bytes);
		m2w_xxh3_hex(c->ex[i].hash, hex);
		cJSON_AddStringToObject(e, "xxh3", hex);
		cJSON_AddItemToArray(a, e);
	}
	return j;
}

/* The variant: XXH3-64 over the extras as stored. */
static uint64_t variant_of(const struct m2w_cache *c)
{
	XXH3_state_t *s = XXH3_createState();
	uint64_t v = 0;

	if (!s)
		return 0;
	XXH3_64bits_reset(s);
	for (size_t i = 0; i < c->nex; i++) {
		const struct extra *x = &c->ex[i];
		uint64_t f[3] = {x->rel, x->bytes, x->hash}, n = strlen(x->stored);
		XXH3_64bits_update(s, &n, sizeof n);
		XXH3_64bits_update(s, x->stored, n);
		XXH3_64bits_update(s, f, sizeof f);
	}
	v = XXH3_64bits_digest(s);
	XXH3_freeState(s);
	return v;
}

/* .tmp and .del dirs left by a killed process: removed after an hour (a
 * live one is written in seconds, and losing it only loses that store). */
#ifndef M2W_CACHE_STALE_S
#define M2W_CACHE_STALE_S 3600
#endif
static void sweep(const struct m2w_cache *c)
{
	DIR *dp = opendir(c->tooldir);
	struct dirent *e;
	time_t now = time(NULL);

	if (!dp)
		return;
	while ((e = readdir(dp))) {
		struct stat st;
		if (strncmp(e->d_name, ".tmp.", 5) && strncmp(e->d_name, ".del.", 5))
			continue;
		char *p = join(c->tooldir, e->d_name);
		if (p && lstat(p, &st) == 0 && S_ISDIR(st.st_mode) && now - st.st_mtime > M2W_CACHE_STALE_S)
			rmtree(p);
		free(p);
	}
	closedir(dp);
}

int m2w_cache_store(struct m2w_cache *c, struct m2w_diag *d)
{
	char key[33], vhex[17];
	char *tmp = NULL, *keydir = NULL, *final = NULL, *text = NULL;
	uint64_t *bytes = calloc(c->nout + 1, sizeof *bytes);
	uint64_t *hash = calloc(c->nout + 1, sizeof *hash);
	cJSON *j = NULL;
	int r = -1;

	if (!bytes || !hash) {
		oom(d);
		goto out;
	}
	if (!c->nout) {
		m2w_err(d, M2W_NO_OFFSET, "cache: no outputs to store");
		goto out;
	}
	sweep(c);
	m2w_cache_key_hex(c, key);
	m2w_xxh3_hex(variant_of(c), vhex);
	if (!(keydir = join(c->tooldir, key)) || !(final = join(keydir, vhex))) {
		oom(d);
		goto out;
	}
	for (int tries = 0; !tmp || mkdir(tmp, 0755) < 0; tries++) {
		if (tmp && (errno != EEXIST || tries > 8)) {
			m2w_err(d, M2W_NO_OFFSET, "cache: mkdir %s: %s", tmp, strerror(errno));
			free(tmp);
			tmp = NULL;
			goto out;
		}
		free(tmp);
		if (!(tmp = private_name(c->tooldir, "tmp"))) {
			oom(d);
			goto out;
		}
	}
	for (size_t i = 0; i < c->nout; i++) {
		char idx[32];
		snprintf(idx, sizeof idx, "%zu", i);
		char *dst = join(tmp, idx);
		int k = dst ? copy_in(c, c->out[i].path, dst, &bytes[i], &hash[i], d) : oom(d);
		free(dst);
		if (k < 0)
			goto out;
	}
	char *mp = join(tmp, "meta.json");
	if (!mp || !(j = meta_json(c, key, bytes, hash)) || !(text = cJSON_Print(j))) {
		free(mp);
		oom(d);
		goto out;
	}
	int fd = open(mp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	size_t tl = strlen(text);
	text[tl] = '\n'; /* cJSON's NUL becomes the final newline */
	if (fd < 0 || write_full(fd, text, tl + 1) < 0 || close(fd) < 0) {
		m2w_err(d, M2W_NO_OFFSET, "cache: write %s: %s", mp, strerror(errno));
		if (fd >= 0)
			close(fd);
		free(mp);
		goto out;
	}
	free(mp);
	/* the entry appears whole, or not at all */
	for (int tries = 0;; tries++) {
		if (rename(tmp, final) == 0) {
			free(tmp);
			tmp = NULL;
			break;
		}
		if (errno == EEXIST || errno == ENOTEMPTY)
			break; /* another process stored it first: ours is removed below */
		if (errno != ENOENT || tries > 2 || mkdirs(keydir) < 0) {
			m2w_err(d, M2W_NO_OFFSET, "cache: rename to %s: %s", final, strerror(errno));
			goto out;
		}
	}
	free(c->entry);
	c->entry = final;
	final = NULL;
	r = 0;
out:
	if (tmp)
		rmtree(tmp);
	free(tmp);
	free(keydir);
	free(final);
	free(text);
	cJSON_Delete(j);
	free(bytes);
	free(hash);
	return r;
}

void m2w_cache_warn(const char *prog, const char *what, const struct m2w_diag *d, bool quiet)
{
	char buf[768];

	if (quiet)
		return;
	m2w_diag_format(d, buf, sizeof buf);
	fprintf(stderr, "%s: warning: %s: %s\n", prog, what, buf);
}
