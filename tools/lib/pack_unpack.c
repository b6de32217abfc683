/* pack_unpack: one tensor of a packed directory back to f32 (for checks).
 *
 * Reads DIR/shards.json (as m2w_pack writes it, but trusted no further than
 * its JSON: every offset, size and shape is checked against the shard file
 * and the dtype's row size before use), follows an alias to the stored
 * tensor, and decodes each chunk: q8_0 / q4_0 through the unpackers of
 * pack_layout.c, f16 widened, f32 and integers copied.  The tensor is held
 * whole: this is a checking tool, not a streaming one.
 */
#define _DEFAULT_SOURCE
#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pack.h"

static bool ju64(const cJSON *j, uint64_t *v)
{
	if (!cJSON_IsNumber(j) || !(j->valuedouble >= 0) || j->valuedouble > 9007199254740992.0 ||
	    j->valuedouble != floor(j->valuedouble))
		return false;
	*v = (uint64_t)j->valuedouble;
	return true;
}

static const cJSON *item(const cJSON *o, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(o, k);
}

static const cJSON *find(const cJSON *ts, const char *name)
{
	const cJSON *e;
	cJSON_ArrayForEach(e, ts) {
		const char *n = cJSON_GetStringValue(item(e, "name"));
		if (n && !strcmp(n, name))
			return e;
	}
	return NULL;
}

static enum m2w_dtype dtype_named(const char *s)
{
	for (int i = 1; i < M2W_DT__COUNT; i++)
		if (!strcmp(m2w_dtype_name((enum m2w_dtype)i), s))
			return (enum m2w_dtype)i;
	return M2W_DT_UNKNOWN;
}

/* "PATH: <the message m2w_file_map left>" */
static void reason(struct m2w_diag *d, const char *path)
{
	char msg[sizeof d->msg];
	memcpy(msg, d->msg, sizeof msg);
	m2w_err(d, M2W_NO_OFFSET, "%s: %s", path, msg);
}

struct up {
	const char *mpath;
	const struct m2w_file *mf; /* shards.json's text, for error offsets */
	char at[96];               /* JSON path of the chunk being read */
	struct m2w_file shard;
	uint64_t base;           /* the shard's offset in its file */
	uint64_t shard_bytes;
	uint64_t nelem, row;
	enum m2w_dtype odt;      /* what the .npy holds */
	int kind;                /* 0 q8_0, 1 q4_0, 2 f16, 3 plain copy */
	uint64_t ubytes, uelems; /* one stored unit */
	uint8_t *out;
};

/* Offset in shards.json of the value at the printf-style path. */
static uint64_t jpos(const struct m2w_file *mf, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static uint64_t jpos(const struct m2w_file *mf, const char *fmt, ...)
{
	char path[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof path, fmt, ap);
	va_end(ap);
	return m2w_json_pos(mf->data, mf->size, path);
}

/* Rows [row0, row0 + rows) stored at off (relative to the shard). */
static int chunk(struct up *u, uint64_t off, uint64_t bytes, uint64_t row0, uint64_t rows,
	struct m2w_diag *d)
{
	uint64_t elems, units, need, end;

	if (!m2w_mul_u64(rows, u->row, &elems) || !m2w_add_u64(row0 * u->row, elems, &end) ||
	    end > u->nelem || elems % u->uelems)
		return m2w_err(d, jpos(u->mf, "%s/rows", u->at), "chunk rows %llu+%llu outside the tensor",
			(unsigned long long)row0, (unsigned long long)rows);
	units = elems / u->uelems;
	if (!m2w_mul_u64(units, u->ubytes, &need) || need != bytes)
		return m2w_err(d, jpos(u->mf, "%s/bytes", u->at), "chunk of %llu rows has %llu bytes, needs %llu",
			(unsigned long long)rows, (unsigned long long)bytes,
			(unsigned long long)need);
	if (off > u->shard_bytes || bytes > u->shard_bytes - off ||
	    u->base + off + bytes > u->shard.size)
		return m2w_err(d, jpos(u->mf, "%s/offset", u->at), "bytes %llu..%llu lie outside the shard",
			(unsigned long long)off, (unsigned long long)(off + bytes));
	if (!bytes)
		return 0;
	const uint8_t *src = u->shard.data + u->base + off;
	size_t osz = m2w_dtype_size(u->odt);
	uint8_t *dst = u->out + row0 * u->row * osz;
	switch (u->kind) {
	case 0: m2w_unpack_q8_0(src, units, (float *)(void *)dst); break;
	case 1: m2w_unpack_q4_0(src, units, (float *)(void *)dst); break;
	case 2:
		for (uint64_t i = 0; i < elems; i++) {
			float f = m2w_f16_to_f32(m2w_le16(src + 2 * i));
			memcpy(dst + 4 * i, &f, 4);
		}
		break;
	default: memcpy(dst, src, (size_t)bytes); break;
	}
	return 0;
}

int m2w_pack_unpack(const char *dir, const char *name, const char *npy, struct m2w_diag *d)
{
	struct m2w_file mf;
	struct up u;
	cJSON *j = NULL;
	char *mpath, *spath = NULL;
	struct stat st;
	int rc = -1;

	memset(&u, 0, sizeof u);
	memset(&mf, 0, sizeof mf);
	if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode)) {
		size_t n = strlen(dir) + 16;
		if ((mpath = malloc(n)))
			snprintf(mpath, n, "%s/shards.json", dir);
	} else {
		mpath = strdup(dir);
	}
	if (!mpath)
		return m2w_err(d, M2W_NO_OFFSET, "out of memory");
	u.mpath = mpath;
	u.mf = &mf;
	/* errors name shards.json (d->file outlives mpath) */
	static char mfile[4096];
	snprintf(mfile, sizeof mfile, "%s", mpath);
	d->file = mfile;
	if (m2w_file_map(&mf, mpath, d) < 0) {
		reason(d, mpath);
		goto out;
	}
	if (!(j = cJSON_ParseWithLength((const char *)mf.data, mf.size))) {
		const char *at = cJSON_GetErrorPtr(), *b = (const char *)mf.data;
		m2w_err(d, at && b && at >= b && at <= b + mf.size ? (uint64_t)(at - b) : 0,
			"not valid JSON");
		goto out;
	}
	const cJSON *ts = item(j, "tensors"), *sh = item(j, "shards"), *t = NULL;
	if (!cJSON_IsArray(ts) || !cJSON_IsArray(sh)) {
		m2w_err(d, jpos(&mf, cJSON_IsArray(ts) ? "shards" : "tensors"),
			"not an m2w-pack manifest (needs \"tensors\" and \"shards\" arrays)");
		goto out;
	}
	const char *want = name;
	for (int hop = 0; hop < 2 && (t = find(ts, want)); hop++) {
		const char *a = cJSON_GetStringValue(item(t, "alias"));
		if (!a)
			break;
		want = a;
		t = NULL;
	}
	if (!t || item(t, "alias")) {
		m2w_err(d, jpos(&mf, "tensors"), "no tensor '%s'%s", want,
			want != name ? " (alias target)" : "");
		goto out;
	}

	uint64_t si, off, bytes, shape[M2W_MAX_DIMS];
	int ndim = 0, ti = 0;
	for (const cJSON *e = ts->child; e && e != t; e = e->next)
		ti++;
	const cJSON *dim, *sj = item(t, "shape");
	const char *dt = cJSON_GetStringValue(item(t, "dtype"));
	if (!ju64(item(t, "shard"), &si) || !ju64(item(t, "offset"), &off) ||
	    !ju64(item(t, "bytes"), &bytes) || !cJSON_IsArray(sj) || !dt ||
	    cJSON_GetArraySize(sj) > M2W_MAX_DIMS || si >= (uint64_t)cJSON_GetArraySize(sh)) {
		m2w_err(d, jpos(&mf, "tensors/%d", ti), "tensor '%s' lacks shard, offset, bytes, shape "
			"or dtype (or its shard index is past the shards)", want);
		goto out;
	}
	u.nelem = 1;
	cJSON_ArrayForEach(dim, sj) {
		if (!ju64(dim, &shape[ndim]) || !m2w_mul_u64(u.nelem, shape[ndim], &u.nelem)) {
			m2w_err(d, jpos(&mf, "tensors/%d/shape/%d", ti, ndim), "tensor '%s' has a bad shape",
				want);
			goto out;
		}
		ndim++;
	}
	u.row = ndim ? shape[ndim - 1] : 1;
	u.odt = M2W_DT_F32;
	if (!strcmp(dt, "q8_0"))
		u.kind = 0, u.uelems = 32, u.ubytes = 4 * M2W_PACK_Q8_0_WORDS;
	else if (!strcmp(dt, "q4_0"))
		u.kind = 1, u.uelems = 32, u.ubytes = 4 * M2W_PACK_Q4_0_WORDS;
	else if (!strcmp(dt, "f16"))
		u.kind = 2, u.uelems = 1, u.ubytes = 2;
	else {
		u.odt = dtype_named(dt);
		u.kind = 3, u.uelems = 1, u.ubytes = m2w_dtype_size(u.odt);
		if (!u.ubytes || u.odt == M2W_DT_STRING) {
			m2w_err(d, jpos(&mf, "tensors/%d/dtype", ti), "tensor '%s' has unknown dtype %s",
				want, dt);
			goto out;
		}
	}
	if (u.row % u.uelems) {
		m2w_err(d, jpos(&mf, "tensors/%d/shape", ti), "tensor '%s': rows of %llu are not whole "
			"%s blocks", want, (unsigned long long)u.row, dt);
		goto out;
	}

	const cJSON *s = cJSON_GetArrayItem(sh, (int)si);
	const char *file = cJSON_GetStringValue(item(s, "file"));
	if (!file || strchr(file, '/') || !strcmp(file, "..") || !ju64(item(s, "offset"), &u.base) ||
	    !ju64(item(s, "bytes"), &u.shard_bytes)) {
		m2w_err(d, jpos(&mf, "shards/%llu", (unsigned long long)si),
			"shard %llu lacks a plain file name, offset or bytes", (unsigned long long)si);
		goto out;
	}
	/* the shard lies beside the manifest */
	const char *slash = strrchr(mpath, '/');
	size_t dl = slash ? (size_t)(slash - mpath) + 1 : 0;
	if (!(spath = malloc(dl + strlen(file) + 1))) {
		m2w_err(d, M2W_NO_OFFSET, "out of memory");
		goto out;
	}
	memcpy(spath, mpath, dl);
	strcpy(spath + dl, file);
	if (m2w_file_map(&u.shard, spath, d) < 0) {
		reason(d, spath);
		d->off = jpos(&mf, "shards/%llu/file", (unsigned long long)si);
		goto out;
	}
	if (u.base > u.shard.size || u.shard_bytes > u.shard.size - u.base) {
		m2w_err(d, jpos(&mf, "shards/%llu/bytes", (unsigned long long)si),
			"shard %s is %zu bytes, the manifest says %llu at %llu", spath, u.shard.size, (unsigned long long)u.shard_bytes,
			(unsigned long long)u.base);
		goto out;
	}
	/* the stored units must fit in the shard before the output is allocated */
	uint64_t obytes, sbytes;
	if (!m2w_mul_u64(u.nelem / u.uelems, u.ubytes, &sbytes) || sbytes > u.shard_bytes) {
		m2w_err(d, jpos(&mf, "tensors/%d/shape", ti), "tensor '%s': %llu elements need more "
			"than the shard's %llu bytes", want, (unsigned long long)u.nelem,
			(unsigned long long)u.shard_bytes);
		goto out;
	}
	if (!m2w_mul_u64(u.nelem, m2w_dtype_size(u.odt), &obytes) || obytes > SIZE_MAX ||
	    !(u.out = malloc(obytes ? (size_t)obytes : 1))) {
		m2w_err(d, jpos(&mf, "tensors/%d/shape", ti), "tensor '%s': cannot hold %llu elements",
			want, (unsigned long long)u.nelem);
		goto out;
	}

	const cJSON *cs = item(t, "chunks"), *c;
	uint64_t rows = u.row ? u.nelem / u.row : 0, next = 0;
	if (!cs) {
		snprintf(u.at, sizeof u.at, "tensors/%d", ti);
		if (chunk(&u, off, bytes, 0, rows, d) < 0)
			goto out;
		next = rows;
	} else {
		int ci = 0;
		cJSON_ArrayForEach(c, cs) {
			uint64_t co, cb, r0, nr;
			snprintf(u.at, sizeof u.at, "tensors/%d/chunks/%d", ti, ci++);
			if (!ju64(item(c, "offset"), &co) || !ju64(item(c, "bytes"), &cb) ||
			    !ju64(item(c, "row"), &r0) || !ju64(item(c, "rows"), &nr) || r0 != next) {
				m2w_err(d, jpos(&mf, "%s", u.at), "tensor '%s': chunks must list offset, "
					"bytes, row and rows, in row order", want);
				goto out;
			}
			if (chunk(&u, co, cb, r0, nr, d) < 0)
				goto out;
			next = r0 + nr;
		}
	}
	if (next != rows) {
		m2w_err(d, jpos(&mf, "tensors/%d", ti), "tensor '%s': chunks cover %llu of %llu rows",
			want, (unsigned long long)next, (unsigned long long)rows);
		goto out;
	}
	rc = m2w_npy_write(npy, u.odt, shape, ndim, u.out, NULL, d);
out:
	free(u.out);
	m2w_file_unmap(&u.shard);
	free(spath);
	cJSON_Delete(j);
	m2w_file_unmap(&mf);
	free(mpath);
	return rc;
}
