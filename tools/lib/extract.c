/* extract: the format-independent part of m2w-extract.
 *
 * A front-end (extract_onnx.c, extract_tflite.c, extract_gguf.c) lists the
 * model's tensors with their source shape, element encoding, optional
 * dequantization and optional permutation.  This file names them (unique,
 * --names, --only), lays them out in the blob (16-byte aligned offsets, in
 * source order), converts each through a small reused buffer into the
 * atomic output, and writes the manifest; it also verifies a written blob
 * against the source with an independent scalar path, and writes a bare
 * TensorProto as .npy.
 *
 * Per tensor the conversion runs in chunks of CHUNK elements:
 *   decode (f16/bf16/f64/f8/int -> f32, ggml blocks -> f32)
 *   dequantize ((q - zp) * scale, the scale entry found by an odometer
 *     over the source coordinates)
 *   encode (f32 or f16) and append to the blob.
 * A permuted tensor is staged whole in source order, then gathered in
 * output order.  f32 -> f32 and raw integer copies skip every stage.
 */
#define _DEFAULT_SOURCE
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "dequant.h"
#include "describe.h"
#include "extract_int.h"

#define CHUNK 65536            /* elements converted per step */
#define RELEASE (4u << 20)     /* hand converted source pages back every 4 MiB */
#define ALIGN 16
#define MAX_INLINE_QUANT 65536 /* quant params listed in the manifest up to this many */

/* ---- small helpers ---- */

char *xt_strndup(const char *s, size_t n)
{
	char *r = malloc(n + 1);
	if (r) {
		memcpy(r, s, n);
		r[n] = '\0';
	}
	return r;
}

char *xt_shape_str(const uint64_t *dims, int ndim)
{
	char buf[M2W_MAX_DIMS * 21 + 8];
	size_t k = 0;

	if (ndim == 0)
		return strdup("scalar");
	for (int i = 0; i < ndim; i++)
		k += (size_t)snprintf(buf + k, sizeof buf - k, i ? "x%llu" : "%llu",
			(unsigned long long)dims[i]);
	return strdup(buf);
}

struct xt_tensor *xt_add(struct xt_ctx *x)
{
	if (x->n == x->cap) {
		size_t cap = x->cap ? 2 * x->cap : 64;
		struct xt_tensor *t = realloc(x->t, cap * sizeof *t);
		if (!t)
			return NULL;
		x->t = t;
		x->cap = cap;
	}
	memset(&x->t[x->n], 0, sizeof x->t[0]);
	return &x->t[x->n++];
}

int xt_add_skip(struct xt_ctx *x, const char *name, const char *dtype, const char *why)
{
	if (x->nskip == x->skipcap) {
		size_t cap = x->skipcap ? 2 * x->skipcap : 16;
		struct xt_skip *s = realloc(x->skip, cap * sizeof *s);
		if (!s)
			return -1;
		x->skip = s;
		x->skipcap = cap;
	}
	struct xt_skip *s = &x->skip[x->nskip];
	s->name = strdup(name);
	s->dtype = strdup(dtype);
	s->why = strdup(why);
	if (!s->name || !s->dtype || !s->why) {
		free(s->name), free(s->dtype), free(s->why);
		return -1;
	}
	x->nskip++;
	return 0;
}

int xt_add_dep(struct xt_ctx *x, const char *path)
{
	for (size_t i = 0; i < x->ndeps; i++)
		if (!strcmp(x->deps[i], path))
			return 0;
	char **d = realloc(x->deps, (x->ndeps + 1) * sizeof *d);
	if (!d)
		return -1;
	x->deps = d;
	if (!(d[x->ndeps] = strdup(path)))
		return -1;
	x->ndeps++;
	return 0;
}

void xt_warn(struct xt_ctx *x, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	if (!x->o || !x->o->warn)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	x->o->warn(x->o->warn_ctx, buf);
}

void xt_quant_free(struct xt_quant *q)
{
	if (!q)
		return;
	free(q->scale);
	free(q->zp);
	free(q->scale_name);
	free(q->zp_name);
	free(q->note);
	free(q);
}

int xt_quant_axis(const struct xt_tensor *t, struct xt_quant *q, int axis, uint64_t off,
	struct m2w_diag *d)
{
	for (int k = 0; k < M2W_MAX_DIMS; k++)
		q->sdim[k] = q->block[k] = 1;
	if (q->n == 1) {
		q->axis = -1;
		return 0;
	}
	if (axis < 0 || axis >= t->ndim)
		return m2w_err(d, off, "tensor '%s': %s quantization axis %d is out of range for %d dims",
			t->source, q->op, axis, t->ndim);
	if (t->dims[axis] != q->n)
		return m2w_err(d, off, "tensor '%s': %s has %llu scales for axis %d of size %llu",
			t->source, q->op, (unsigned long long)q->n, axis,
			(unsigned long long)t->dims[axis]);
	q->axis = axis;
	q->sdim[axis] = q->n;
	return 0;
}

int xt_quant_check(const struct xt_tensor *t, const struct xt_quant *q, uint64_t scale_off,
	uint64_t zp_off, struct m2w_diag *d)
{
	int64_t lo, hi;

	for (uint64_t i = 0; i < q->n; i++) {
		if (q->scale[i] == 0.0f)
			return m2w_err(d, scale_off, "tensor '%s': %s scale[%llu] is 0, must be non-zero",
				t->source, q->op, (unsigned long long)i);
		if (!isfinite(q->scale[i]))
			return m2w_err(d, scale_off, "tensor '%s': %s scale[%llu] is %g, must be finite",
				t->source, q->op, (unsigned long long)i, (double)q->scale[i]);
	}
	if (!q->zp)
		return 0;
	enum m2w_dtype st = t->sdt;
	switch (t->codec) {
	case XT_I4: lo = -8, hi = 7; break;
	case XT_U4: lo = 0, hi = 15; break;
	case XT_I2: lo = -2, hi = 1; break;
	case XT_U2: lo = 0, hi = 3; break;
	case XT_PLAIN:
		switch (st) {
		case M2W_DT_I8: lo = INT8_MIN, hi = INT8_MAX; break;
		case M2W_DT_U8: lo = 0, hi = UINT8_MAX; break;
		case M2W_DT_I16: lo = INT16_MIN, hi = INT16_MAX; break;
		case M2W_DT_U16: lo = 0, hi = UINT16_MAX; break;
		case M2W_DT_I32: lo = INT32_MIN, hi = INT32_MAX; break;
		case M2W_DT_U32: lo = 0, hi = UINT32_MAX; break;
		case M2W_DT_U64: lo = 0, hi = INT64_MAX; break;
		default: lo = INT64_MIN, hi = INT64_MAX; break;
		}
		break;
	default: lo = hi = 0; break; /* float quantized types: zero point must be 0 */
	}
	for (uint64_t i = 0; i < q->n; i++)
		if (q->zp[i] < lo || q->zp[i] > hi)
			return m2w_err(d, zp_off, "tensor '%s': %s zero point[%llu] is %lld, out of range "
				"[%lld, %lld] for %s", t->source, q->op, (unsigned long long)i,
				(long long)q->zp[i], (long long)lo, (long long)hi, t->src_dtype);
	return 0;
}

/* ---- a string -> index map (names) ---- */

struct strmap {
	size_t cap, n;
	const char **k;
	size_t *v;
};

static size_t sm_slot(const struct strmap *m, const char *k)
{
	size_t i = (size_t)m2w_xxh3(k, strlen(k)) & (m->cap - 1);
	while (m->k[i] && strcmp(m->k[i], k))
		i = (i + 1) & (m->cap - 1);
	return i;
}

static int sm_init(struct strmap *m, size_t n)
{
	m->cap = 16;
	while (m->cap < 2 * n + 2)
		m->cap *= 2;
	m->n = 0;
	m->k = calloc(m->cap, sizeof *m->k);
	m->v = calloc(m->cap, sizeof *m->v);
	return m->k && m->v ? 0 : -1;
}

static void sm_free(struct strmap *m)
{
	free(m->k);
	free(m->v);
}

static bool sm_get(const struct strmap *m, const char *k, size_t *v)
{
	size_t i = sm_slot(m, k);
	if (!m->k[i])
		return false;
	if (v)
		*v = m->v[i];
	return true;
}

/* Caller sized the map for every key it will add. */
static void sm_put(struct strmap *m, const char *k, size_t v)
{
	size_t i = sm_slot(m, k);
	if (!m->k[i])
		m->n++;
	m->k[i] = k;
	m->v[i] = v;
}

/* ---- plan: names, selection, dtypes, offsets ---- */

static bool is_float_codec(const struct xt_tensor *t)
{
	switch (t->codec) {
	case XT_PLAIN:
		return t->sdt == M2W_DT_F32 || t->sdt == M2W_DT_F16 || t->sdt == M2W_DT_BF16 ||
		       t->sdt == M2W_DT_F64;
	case XT_I4: case XT_U4: case XT_I2: case XT_U2:
		return false;
	default:
		return true;
	}
}
/* An error about the --names map, at KEY's place in its text (the quoted
 * key followed by ':'), when the tool kept the text. */
static int names_err(struct m2w_diag *d, const struct m2w_extract_opts *o, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static int names_err(struct m2w_diag *d, const struct m2w_extract_opts *o, const char *key, const char *fmt, ...)
{
	char msg[sizeof d->msg];
	uint64_t off = M2W_NO_OFFSET;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (o->names_text) {
		off = 0;
		size_t kn = key ? strlen(key) : 0;
		for (size_t i = 0; key && i + kn + 2 <= o->names_len; i++) {
			if (o->names_text[i] != '"' || memcmp(o->names_text + i + 1, key, kn) ||
			    o->names_text[i + 1 + kn] != '"')
				continue;
			size_t j = i + kn + 2;
			while (j < o->names_len && strchr(" \t\r\n", o->names_text[j]))
				j++;
			if (j < o->names_len && o->names_text[j] == ':') {
				off = i;
				break;
			}
		}
	}
	if (o->names_path)
		d->file = o->names_path;
	return m2w_err(d, off, "%s", msg);
}


static int name_tensors(struct xt_ctx *x, struct m2w_diag *d)
{
	const struct m2w_extract_opts *o = x->o;
	struct strmap seen;
	int rc = -1;

	if (sm_init(&seen, x->n))
		return m2w_err(d, M2W_NO_OFFSET, "out of memory");
	/* unique names: the first keeps the source name, repeats get "#shape"
	 * then "#shape#2", "#shape#3" ... */
	for (size_t i = 0; i < x->n; i++) {
		struct xt_tensor *t = &x->t[i];
		char *u = strdup(t->source);
		if (u && sm_get(&seen, u, NULL)) {
			char *shape = xt_shape_str(t->dims, t->ndim);
			size_t len = strlen(t->source) + (shape ? strlen(shape) : 0) + 32;
			free(u);
			u = malloc(len);
			if (u && shape) {
				snprintf(u, len, "%s#%s", t->source, shape);
				for (unsigned k = 2; sm_get(&seen, u, NULL); k++)
					snprintf(u, len, "%s#%s#%u", t->source, shape, k);
			} else {
				free(u);
				u = NULL;
			}
			free(shape);
		}
		if (!u) {
			m2w_err(d, M2W_NO_OFFSET, "out of memory");
			goto out;
		}
		t->uname = u;
		sm_put(&seen, u, i);
	}
	/* --names: every key must name a tensor; the results must stay unique */
	for (size_t i = 0; i < x->n; i++)
		x->t[i].name = NULL;
	if (o && o->names) {
		if (!cJSON_IsObject(o->names)) {
			names_err(d, o, NULL, "the names map must be a JSON object {\"old\": \"new\"}");
			goto out;
		}
		const cJSON *kv;
		cJSON_ArrayForEach(kv, o->names) {
			size_t idx;
			if (!cJSON_IsString(kv) || !kv->valuestring[0]) {
				names_err(d, o, kv->string, "the new name for '%s' must be a non-empty string",
					kv->string);
				goto out;
			}
			if (!sm_get(&seen, kv->string, &idx)) {
				names_err(d, o, kv->string, "key '%s' names no tensor of %s", kv->string, x->path);
				goto out;
			}
			free(x->t[idx].name);
			if (!(x->t[idx].name = strdup(kv->valuestring))) {
				m2w_err(d, M2W_NO_OFFSET, "out of memory");
				goto out;
			}
		}
	}
	for (size_t i = 0; i < x->n; i++)
		if (!x->t[i].name && !(x->t[i].name = strdup(x->t[i].uname))) {
			m2w_err(d, M2W_NO_OFFSET, "out of memory");
			goto out;
		}
	sm_free(&seen);
	if (sm_init(&seen, x->n))
		return m2w_err(d, M2W_NO_OFFSET, "out of memory");
	for (size_t i = 0; i < x->n; i++) {
		size_t j;
		if (sm_get(&seen, x->t[i].name, &j)) {
			if (o && o->names) {
				const cJSON *kv;
				const char *key = NULL; /* the map entry that made the second name */
				cJSON_ArrayForEach(kv, o->names)
					if (cJSON_IsString(kv) && !strcmp(kv->valuestring, x->t[i].name))
						key = kv->string;
				names_err(d, o, key, "tensors '%s' and '%s' would both be named '%s'",
					x->t[j].uname, x->t[i].uname, x->t[i].name);
			} else {
				m2w_err(d, M2W_NO_OFFSET, "tensors '%s' and '%s' would both be named '%s'",
					x->t[j].uname, x->t[i].uname, x->t[i].name);
			}
			goto out;
		}
		sm_put(&seen, x->t[i].name, i);
	}
	rc = 0;
out:
	sm_free(&seen);
	return rc;
}

static bool selected(const struct m2w_extract_opts *o, const struct xt_tensor *t)
{
	if (!o || !o->nonly)
		return true;
	for (size_t i = 0; i < o->nonly; i++)
		if (!fnmatch(o->only[i], t->name, 0) || !fnmatch(o->only[i], t->uname, 0) ||
		    !fnmatch(o->only[i], t->source, 0))
			return true;
	return false;
}

static int plan(struct xt_ctx *x, struct m2w_diag *d)
{
	const struct m2w_extract_opts *o = x->o;
	uint64_t off = 0;

	if (name_tensors(x, d))
		return -1;
	for (size_t p = 0; o && p < o->nonly; p++) {
		size_t hits = 0;
		for (size_t i = 0; i < x->n; i++)
			hits += selected(&(struct m2w_extract_opts){.only = &o->only[p], .nonly = 1}, &x->t[i]);
		if (!hits)
			xt_warn(x, "--only '%s' matches no tensor", o->only[p]);
	}
	for (size_t i = 0; i < x->n; i++) {
		struct xt_tensor *t = &x->t[i];
		t->selected = selected(o, t);
		if (t->selected && t->unsupported)
			return m2w_err(d, t->doff, "tensor '%s' is of type %s: %s (supported: %s); leave it out "
				"with --only", t->source, t->src_dtype, t->unsupported, m2w_ggml_dequant_list());
		if (!t->selected)
			continue;
		t->is_float = t->q || is_float_codec(t);
		if (t->is_float) {
			enum m2w_extract_dtype want = o ? o->dtype : M2W_EXTRACT_F32;
			if (want == M2W_EXTRACT_F16)
				t->odt = M2W_DT_F16;
			else if (want == M2W_EXTRACT_KEEP && !t->q && t->codec == XT_PLAIN &&
				 (t->sdt == M2W_DT_F32 || t->sdt == M2W_DT_F16 || t->sdt == M2W_DT_F64))
				t->odt = t->sdt;
			else
				t->odt = M2W_DT_F32;
		} else {
			t->odt = t->codec == XT_I4 || t->codec == XT_I2 ? M2W_DT_I8
			       : t->codec == XT_U4 || t->codec == XT_U2 ? M2W_DT_U8 : t->sdt;
		}
		if (!m2w_mul_u64(t->count, m2w_dtype_size(t->odt), &t->out_bytes))
			return m2w_err(d, t->doff, "tensor '%s': output size overflows", t->source);
		if (!t->selected)
			continue;
		off = (off + ALIGN - 1) / ALIGN * ALIGN;
		t->offset = off;
		if (!m2w_add_u64(off, t->out_bytes, &off))
			return m2w_err(d, t->doff, "blob size overflows");
	}
	return 0;
}

/* ---- conversion ---- */

struct conv {
	struct xt_ctx *x;
	struct xt_tensor *t;
	struct m2w_out *o;
	uint64_t done;       /* source elements consumed */
	uint64_t bytes_in;   /* source bytes received */
	uint64_t unit_elems;
	size_t unit_bytes;
	uint8_t carry[512];  /* a unit split across chunks */
	size_t ncarry;
	float *fbuf;         /* CHUNK floats */
	uint8_t *obuf;       /* CHUNK elements of up to 16 bytes */
	uint8_t *whole;      /* permuted: the tensor in source order */
	bool direct, f32_to_f16, round_odd;
	uint64_t written;
	/* dequantization odometer */
	uint64_t coord[M2W_MAX_DIMS], qstride[M2W_MAX_DIMS], qidx;
};

static void release(struct xt_ctx *x, const uint8_t *a, const uint8_t *b)
{
	long pg = sysconf(_SC_PAGESIZE);
	uintptr_t lo = (uintptr_t)a, hi = (uintptr_t)b, ms = (uintptr_t)x->map,
		  me = (uintptr_t)x->map + x->map_size;

	if (!x->map || pg <= 0 || lo < ms || hi > me || hi <= lo)
		return;
	lo = (lo + (uintptr_t)pg - 1) & ~((uintptr_t)pg - 1);
	if (hi != me)
		hi &= ~((uintptr_t)pg - 1);
	if (hi > lo)
		madvise((void *)lo, hi - lo, MADV_DONTNEED);
}

static int out_write(struct conv *c, const void *p, size_t n, struct m2w_diag *d)
{
	c->written += n;
	return m2w_out_write(c->o, p, n, d);
}

static int encode_write(struct conv *c, const float *v, uint64_t n, struct m2w_diag *d)
{
	if (c->t->odt == M2W_DT_F16) {
		xt_f32_to_f16(v, (uint16_t *)(void *)c->obuf, n, &c->t->overflow);
		return out_write(c, c->obuf, n * 2, d);
	}
	return out_write(c, v, n * 4, d);
}

static void q_reset(struct conv *c)
{
	const struct xt_tensor *t = c->t;
	uint64_t s = 1;

	for (int k = t->ndim - 1; k >= 0; k--) {
		c->coord[k] = 0;
		c->qstride[k] = t->q->sdim[k] > 1 ? s : 0;
		s *= t->q->sdim[k];
	}
	c->qidx = 0;
}

static void dequant(struct conv *c, float *v, uint64_t n)
{
	const struct xt_tensor *t = c->t;
	const struct xt_quant *q = t->q;

	if (q->n == 1 || t->ndim == 0) {
		float s = q->scale[0], z = q->zp ? (float)q->zp[0] : 0.0f;
		for (uint64_t i = 0; i < n; i++)
			v[i] = (v[i] - z) * s;
		return;
	}
	int last = t->ndim - 1;
	for (uint64_t i = 0; i < n; i++) {
		float z = q->zp ? (float)q->zp[c->qidx] : 0.0f;
		v[i] = (v[i] - z) * q->scale[c->qidx];
		/* advance the odometer over the source coordinates */
		int k = last;
		if (++c->coord[k] < t->dims[k]) {
			if (c->coord[k] % q->block[k] == 0)
				c->qidx += c->qstride[k];
			continue;
		}
		while (k > 0 && c->coord[k] >= t->dims[k]) {
			c->coord[k] = 0;
			++c->coord[--k];
		}
		c->qidx = 0;
		for (int j = 0; j <= last; j++)
			c->qidx += c->coord[j] / q->block[j] * c->qstride[j];
	}
}

/* n elements (whole units) at p. */
static int convert(struct conv *c, const uint8_t *p, uint64_t n, struct m2w_diag *d)
{
	struct xt_tensor *t = c->t;

	if (c->direct)
		return out_write(c, p, n * m2w_dtype_size(t->sdt), d);
	if (c->f32_to_f16) {
		xt_f32_to_f16(p, (uint16_t *)(void *)c->obuf, n, &t->overflow);
		return out_write(c, c->obuf, n * 2, d);
	}
	if (t->is_float) {
		xt_decode_float(t, p, n, c->fbuf, c->round_odd);
		if (t->q)
			dequant(c, c->fbuf, n);
		if (t->permuted) {
			memcpy(c->whole + c->done * 4, c->fbuf, n * 4);
			return 0;
		}
		return encode_write(c, c->fbuf, n, d);
	}
	if (t->permuted) {
		xt_decode_int(t, p, n, c->whole + c->done * m2w_dtype_size(t->odt));
		return 0;
	}
	xt_decode_int(t, p, n, c->obuf);
	return out_write(c, c->obuf, n * m2w_dtype_size(t->odt), d);
}

/* Whole units at p (nunits of them): in pieces of at most CHUNK elements.
 * `mapped`: p is in the model's mapping, whose pages are handed back as
 * they are converted (peak memory stays a few MiB, whatever the tensor). */
static int feed_units(struct conv *c, const uint8_t *p, uint64_t nunits, bool mapped,
	struct m2w_diag *d)
{
	uint64_t per = c->direct ? (RELEASE / c->unit_bytes ? RELEASE / c->unit_bytes : 1)
				 : CHUNK / c->unit_elems;
	const uint8_t *rel = p;

	while (nunits) {
		uint64_t k = nunits < per ? nunits : per;
		uint64_t n = k * c->unit_elems, left = c->t->count - c->done;
		if (n > left) {
			/* the last packed byte / block may hold fewer elements */
			if ((k - 1) * c->unit_elems >= left)
				return m2w_err(d, c->t->doff, "tensor '%s': more data than %llu elements",
					c->t->source, (unsigned long long)c->t->count);
			n = left;
		}
		const uint8_t *src = p;
		if (mapped && c->x->fd >= 0 && c->x->bounce) {
			/* copy from the page cache instead of faulting the mapping in:
			 * page faults cost more than the copy, and RSS stays flat */
			size_t want = (size_t)(k * c->unit_bytes), got = 0;
			off_t at = (off_t)(p - c->x->map);
			while (got < want) {
				ssize_t r = pread(c->x->fd, c->x->bounce + got, want - got, at + (off_t)got);
				if (r <= 0)
					break;
				got += (size_t)r;
			}
			if (got == want)
				src = c->x->bounce;
		}
		if (convert(c, src, n, d))
			return -1;
		c->done += n;
		p += k * c->unit_bytes;
		nunits -= k;
		if (mapped && (size_t)(p - rel) >= RELEASE) {
			release(c->x, rel, p);
			rel = p;
		}
	}
	if (mapped)
		release(c->x, rel, p);
	return 0;
}

static int conv_sink(void *ctx, const void *pv, size_t n, struct m2w_diag *d)
{
	struct conv *c = ctx;
	const uint8_t *p = pv;

	c->bytes_in += n;
	if (c->bytes_in > c->t->src_bytes)
		return m2w_err(d, c->t->doff, "tensor '%s': data runs past %llu bytes", c->t->source,
			(unsigned long long)c->t->src_bytes);
	if (c->ncarry) {
		size_t k = c->unit_bytes - c->ncarry;
		if (k > n)
			k = n;
		memcpy(c->carry + c->ncarry, p, k);
		c->ncarry += k;
		p += k;
		n -= k;
		if (c->ncarry < c->unit_bytes)
			return 0;
		c->ncarry = 0;
		if (feed_units(c, c->carry, 1, false, d))
			return -1;
	}
	uint64_t units = n / c->unit_bytes;
	if (feed_units(c, p, units, true, d))
		return -1;
	p += units * c->unit_bytes;
	n -= units * c->unit_bytes;
	memcpy(c->carry, p, n);
	c->ncarry = n;
	return 0;
}

/* Output order: gather the staged tensor through the permutation. */
static int gather(struct conv *c, struct m2w_diag *d)
{
	const struct xt_tensor *t = c->t;
	size_t es = t->is_float ? 4 : m2w_dtype_size(t->odt);
	uint64_t od[M2W_MAX_DIMS], sst[M2W_MAX_DIMS], step[M2W_MAX_DIMS], oc[M2W_MAX_DIMS] = {0};
	uint64_t s = 1, soff = 0, n = 0;
	int nd = t->ndim;
	uint8_t *dst = t->is_float ? (uint8_t *)c->fbuf : c->obuf;

	for (int k = nd - 1; k >= 0; k--) {
		sst[k] = s;
		s *= t->dims[k];
	}
	for (int k = 0; k < nd; k++) {
		od[k] = t->dims[t->perm[k]];
		step[k] = sst[t->perm[k]];
	}
	for (uint64_t i = 0; i < t->count; i++) {
		memcpy(dst + n * es, c->whole + soff * es, es);
		if (++n == CHUNK || i + 1 == t->count) {
			int rc = t->is_float ? encode_write(c, c->fbuf, n, d) : out_write(c, c->obuf, n * es, d);
			if (rc)
				return -1;
			n = 0;
		}
		int k = nd - 1;
		oc[k]++;
		soff += step[k];
		while (k > 0 && oc[k] == od[k]) {
			soff -= od[k] * step[k];
			oc[k] = 0;
			k--;
			oc[k]++;
			soff += step[k];
		}
	}
	return 0;
}

static int convert_tensor(struct xt_ctx *x, struct xt_tensor *t, struct m2w_out *o, float *fbuf,
	uint8_t *obuf, struct m2w_diag *d)
{
	struct conv c = {.x = x, .t = t, .o = o, .fbuf = fbuf, .obuf = obuf};
	int rc = -1;

	xt_codec_unit(t, &c.unit_elems, &c.unit_bytes);
	if (c.unit_bytes == 0 || c.unit_bytes > sizeof c.carry)
		return m2w_err(d, t->doff, "tensor '%s': unsupported element encoding", t->source);
	c.direct = !t->permuted && t->codec == XT_PLAIN && !t->q && t->odt == t->sdt;
	c.f32_to_f16 = !t->permuted && t->codec == XT_PLAIN && !t->q && t->sdt == M2W_DT_F32 &&
		       t->odt == M2W_DT_F16;
	c.round_odd = t->codec == XT_PLAIN && t->sdt == M2W_DT_F64 && t->odt == M2W_DT_F16;
	t->overflow = 0;
	if (t->q)
		q_reset(&c);
	if (t->permuted) {
		size_t es = t->is_float ? 4 : m2w_dtype_size(t->odt);
		uint64_t sz;
		if (!m2w_mul_u64(t->count, es, &sz) || sz > SIZE_MAX ||
		    !(c.whole = malloc(sz ? (size_t)sz : 1)))
			return m2w_err(d, t->doff, "tensor '%s': out of memory for %llu elements", t->source,
				(unsigned long long)t->count);
	}
	if (t->count && x->stream(x, t, conv_sink, &c, d))
		goto out;
	if (c.ncarry || c.done != t->count) {
		m2w_err(d, t->doff, "tensor '%s': data holds %llu of %llu elements", t->source,
			(unsigned long long)c.done, (unsigned long long)t->count);
		goto out;
	}
	if (t->permuted && t->count && gather(&c, d))
		goto out;
	if (c.written != t->out_bytes) {
		m2w_err(d, t->doff, "tensor '%s': wrote %llu bytes, expected %llu", t->source,
			(unsigned long long)c.written, (unsigned long long)t->out_bytes);
		goto out;
	}
	if (t->overflow)
		xt_warn(x, "tensor '%s': %llu value%s beyond the f16 range became inf", t->name,
			(unsigned long long)t->overflow, t->overflow == 1 ? "" : "s");
	rc = 0;
out:
	free(c.whole);
	return rc;
}

/* True when path holds exactly `bytes` bytes hashing to h; read in chunks,
 * not mapped, so that comparing a large old output costs no memory. */
static bool same_file(const char *path, uint64_t bytes, uint64_t h)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool same = false;

	if (fd < 0)
		return false;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (uint64_t)st.st_size == bytes) {
		XXH3_state_t *s = XXH3_createState();
		char *buf = malloc(1u << 20);
		ssize_t r = 0;
		if (s && buf) {
			XXH3_64bits_reset(s);
			while ((r = read(fd, buf, 1u << 20)) > 0)
				XXH3_64bits_update(s, buf, (size_t)r);
			same = r == 0 && XXH3_64bits_digest(s) == h;
		}
		free(buf);
		XXH3_freeState(s);
	}
	close(fd);
	return same;
}

/* Commits o unless the file already holds the same bytes. */
static int commit(struct m2w_out *o, uint64_t *hash, bool *changed, struct m2w_diag *d)
{
	uint64_t h = XXH3_64bits_digest(o->hash_state);

	*hash = h;
	if (same_file(o->path, o->bytes, h)) {
		m2w_out_abort(o);
		*changed = false;
		return 0;
	}
	return m2w_out_commit(o, changed, d);
}

static int write_blob(struct xt_ctx *x, const char *path, uint64_t *hash, uint64_t *size, bool *changed,
	struct m2w_diag *d)
{
	static const uint8_t zeros[ALIGN];
	struct m2w_out o;
	float *fbuf = malloc(CHUNK * sizeof *fbuf);
	uint8_t *obuf = malloc(CHUNK * 16);
	int rc = -1;

	if (!fbuf || !obuf) {
		free(fbuf), free(obuf);
		return m2w_err(d, M2W_NO_OFFSET, "out of memory");
	}
	if (m2w_out_open(&o, path, d)) {
		free(fbuf), free(obuf);
		return -1;
	}
	for (size_t i = 0; i < x->n; i++) {
		struct xt_tensor *t = &x->t[i];
		if (!t->selected)
			continue;
		if (t->offset > o.bytes && m2w_out_write(&o, zeros, (size_t)(t->offset - o.bytes), d))
			goto fail;
		if (convert_tensor(x, t, &o, fbuf, obuf, d))
			goto fail;
	}
	*size = o.bytes;
	rc = commit(&o, hash, changed, d);
	free(fbuf);
	free(obuf);
	return rc;
fail:
	m2w_out_abort(&o);
	free(fbuf);
	free(obuf);
	return -1;
}

/* ---- manifest ---- */

static cJSON *dims_json(const uint64_t *dims, int nd, const int *perm)
{
	cJSON *a = cJSON_CreateArray();
	for (int k = 0; k < nd; k++)
		cJSON_AddItemToArray(a, cJSON_CreateNumber((double)dims[perm ? perm[k] : k]));
	return a;
}

static cJSON *quant_json(const struct xt_tensor *t)
{
	const struct xt_quant *q = t->q;
	cJSON *j = cJSON_CreateObject();

	cJSON_AddStringToObject(j, "op", q->op);
	cJSON_AddStringToObject(j, "source_dtype", t->src_dtype);
	if (q->axis >= 0)
		cJSON_AddNumberToObject(j, "axis", q->axis);
	else
		cJSON_AddNullToObject(j, "axis");
	if (q->block_size)
		cJSON_AddNumberToObject(j, "block_size", (double)q->block_size);
	bool broadcast = false;
	for (int k = 0; k < t->ndim; k++)
		broadcast |= q->sdim[k] > 1 && (int)k != q->axis;
	if (broadcast || q->block_size)
		cJSON_AddItemToObject(j, "scale_shape", dims_json(q->sdim, t->ndim, NULL));
	cJSON_AddNumberToObject(j, "count", (double)q->n);
	if (q->n <= MAX_INLINE_QUANT) {
		cJSON *s = cJSON_AddArrayToObject(j, "scale");
		for (uint64_t i = 0; i < q->n; i++)
			cJSON_AddItemToArray(s, cJSON_CreateNumber((double)q->scale[i]));
		if (q->zp) {
			cJSON *z = cJSON_AddArrayToObject(j, "zero_point");
			for (uint64_t i = 0; i < q->n; i++)
				cJSON_AddItemToArray(z, cJSON_CreateNumber((double)q->zp[i]));
		}
	}
	if (!q->zp)
		cJSON_AddNumberToObject(j, "zero_point_value", 0);
	if (q->scale_name)
		cJSON_AddStringToObject(j, "scale_tensor", q->scale_name);
	if (q->zp_name)
		cJSON_AddStringToObject(j, "zero_point_tensor", q->zp_name);
	if (q->note)
		cJSON_AddStringToObject(j, "note", q->note);
	return j;
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

static int write_manifest(struct xt_ctx *x, const char *path, uint64_t hash, uint64_t size,
	struct m2w_diag *d)
{
	cJSON *j = cJSON_CreateObject(), *ts;
	char hex[17];
	const struct m2w_extract_opts *o = x->o;

	if (!j)
		return m2w_err(d, M2W_NO_OFFSET, "out of memory");
	m2w_xxh3_hex(hash, hex);
	cJSON_AddStringToObject(j, "dtype", o && o->dtype == M2W_EXTRACT_F16 ? "f16" : "f32");
	cJSON_AddNumberToObject(j, "bytes", (double)size);
	cJSON_AddStringToObject(j, "xxh3", hex);
	cJSON_AddStringToObject(j, "format", x->format);
	cJSON_AddStringToObject(j, "model", base_name(x->path));
	cJSON_AddStringToObject(j, "layout", o && o->layout_source ? "source" : "nchw");
	ts = cJSON_AddArrayToObject(j, "tensors");
	for (size_t i = 0; i < x->n; i++) {
		const struct xt_tensor *t = &x->t[i];
		if (!t->selected)
			continue;
		cJSON *e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "name", t->name);
		cJSON_AddItemToObject(e, "shape", dims_json(t->dims, t->ndim, t->permuted ? t->perm : NULL));
		cJSON_AddStringToObject(e, "dtype", m2w_dtype_name(t->odt));
		cJSON_AddNumberToObject(e, "offset", (double)t->offset);
		cJSON_AddNumberToObject(e, "bytes", (double)t->out_bytes);
		cJSON_AddStringToObject(e, "source", t->source);
		cJSON_AddStringToObject(e, "source_dtype", t->src_dtype);
		if (t->permuted) {
			cJSON_AddItemToObject(e, "source_shape", dims_json(t->dims, t->ndim, NULL));
			cJSON *p = cJSON_AddArrayToObject(e, "permutation");
			for (int k = 0; k < t->ndim; k++)
				cJSON_AddItemToArray(p, cJSON_CreateNumber(t->perm[k]));
		}
		if (t->layout)
			cJSON_AddStringToObject(e, "layout", t->layout);
		cJSON_AddStringToObject(e, "kind", t->kind);
		if (t->graph)
			cJSON_AddStringToObject(e, "graph", t->graph);
		if (t->q)
			cJSON_AddItemToObject(e, "quant", quant_json(t));
		if (t->overflow)
			cJSON_AddNumberToObject(e, "f16_overflow", (double)t->overflow);
		cJSON_AddItemToArray(ts, e);
	}
	if (x->nskip) {
		cJSON *s = cJSON_AddArrayToObject(j, "skipped");
		for (size_t i = 0; i < x->nskip; i++) {
			cJSON *e = cJSON_CreateObject();
			cJSON_AddStringToObject(e, "source", x->skip[i].name);
			cJSON_AddStringToObject(e, "source_dtype", x->skip[i].dtype);
			cJSON_AddStringToObject(e, "why", x->skip[i].why);
			cJSON_AddItemToArray(s, e);
		}
	}
	char *text = cJSON_Print(j);
	cJSON_Delete(j);
	if (!text)
		return m2w_err(d, M2W_NO_OFFSET, "out of memory");
	size_t n = strlen(text);
	text[n] = '\n'; /* replaces the NUL; written with its length */
	int rc = m2w_write_if_changed(path, text, n + 1, NULL, d);
	free(text);
	return rc;
}

/* ---- open / close ---- */

static void ctx_free(struct xt_ctx *x)
{
	if (x->fe_free)
		x->fe_free(x);
	for (size_t i = 0; i < x->n; i++) {
		struct xt_tensor *t = &x->t[i];
		free(t->uname);
		free(t->name);
		free(t->source);
		free(t->graph);
		free(t->layout);
		xt_quant_free(t->q);
	}
	free(x->t);
	for (size_t i = 0; i < x->nskip; i++) {
		free(x->skip[i].name);
		free(x->skip[i].dtype);
		free(x->skip[i].why);
	}
	free(x->skip);
	for (size_t i = 0; i < x->ndeps; i++)
		free(x->deps[i]);
	free(x->deps);
	if (x->fd >= 0)
		close(x->fd);
	free(x->bounce);
	memset(x, 0, sizeof *x);
	x->fd = -1;
}

/* The model's fd and bounce buffer for bulk reads (optional: the mapping
 * is used when they can't be had). */
static void bulk_open(struct xt_ctx *x, const char *path)
{
	x->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (x->fd >= 0 && !(x->bounce = malloc(RELEASE))) {
		close(x->fd);
		x->fd = -1;
	}
}

static int open_model(const char *model, const struct m2w_extract_opts *o, struct m2w_file *f,
	struct xt_ctx *x, struct m2w_diag *d)
{
	int rc;

	memset(x, 0, sizeof *x);
	x->fd = -1;
	x->path = model;
	x->o = o;
	if (m2w_file_map(f, model, d))
		return -1;
	bulk_open(x, model);
	x->map = f->data;
	x->map_size = f->size;
	switch (m2w_detect_format(f->data, f->size)) {
	case M2W_FMT_ONNX: rc = xt_onnx_open(x, f->data, f->size, d); break;
	case M2W_FMT_TFLITE: rc = xt_tflite_open(x, f->data, f->size, d); break;
	case M2W_FMT_GGUF: rc = xt_gguf_open(x, f->data, f->size, d); break;
	case M2W_FMT_TENSORPB:
		rc = m2w_err(d, M2W_NO_OFFSET, "this is a bare ONNX TensorProto: it converts to .npy "
			"(give -o FILE.npy)");
		break;
	case M2W_FMT_UNKNOWN:
		rc = m2w_err(d, 0, "unknown model format: not ONNX, TFLite or GGUF");
		break;
	default:
		rc = m2w_err(d, 0, "%s files hold no weights m2w-extract reads; give an ONNX, TFLite "
			"or GGUF model", m2w_format_name(m2w_detect_format(f->data, f->size)));
		break;
	}
	if (!rc)
		rc = plan(x, d);
	if (rc) {
		ctx_free(x);
		m2w_file_unmap(f);
	}
	return rc;
}

char *m2w_extract_manifest_path(const char *blob)
{
	const char *slash = strrchr(blob, '/'), *dot = strrchr(blob, '.');
	size_t stem = dot && (!slash || dot > slash + 1) ? (size_t)(dot - blob) : strlen(blob);
	char *r = malloc(stem + 6);
	if (r) {
		memcpy(r, blob, stem);
		memcpy(r + stem, ".json", 6);
	}
	return r;
}

static int move_result(struct xt_ctx *x, struct m2w_extract_result *r)
{
	size_t n = 0;
	for (size_t i = 0; i < x->n; i++)
		n += x->t[i].selected;
	r->ntensors = n;
	r->nskipped = x->nskip;
	r->deps = x->deps;
	r->ndeps = x->ndeps;
	x->deps = NULL;
	x->ndeps = 0;
	return 0;
}

int m2w_extract_model(const char *model, const char *out, const struct m2w_extract_opts *o,
	struct m2w_extract_result *r, struct m2w_diag *d)
{
	struct m2w_file f;
	struct xt_ctx x;
	uint64_t hash = 0, size = 0;
	char *manifest = NULL;
	int rc = -1;

	memset(r, 0, sizeof *r);
	if (open_model(model, o, &f, &x, d))
		return -1;
	manifest = o && o->manifest ? strdup(o->manifest) : m2w_extract_manifest_path(out);
	if (!manifest) {
		m2w_err(d, M2W_NO_OFFSET, "out of memory");
		goto out;
	}
	if (write_blob(&x, out, &hash, &size, &r->changed, d) ||
	    write_manifest(&x, manifest, hash, size, d))
		goto out;
	r->bytes = size;
	move_result(&x, r);
	rc = 0;
out:
	free(manifest);
	ctx_free(&x);
	m2w_file_unmap(&f);
	return rc;
}

void m2w_extract_result_free(struct m2w_extract_result *r)
{
	for (size_t i = 0; i < r->ndeps; i++)
		free(r->deps[i]);
	free(r->deps);
	memset(r, 0, sizeof *r);
}

/* ---- .pb -> .npy ---- */

static const char *npy_descr(enum m2w_dtype t)
{
	switch (t) {
	case M2W_DT_F32: return "<f4";
	case M2W_DT_F16: return "<f2";
	case M2W_DT_F64: return "<f8";
	case M2W_DT_I8: return "|i1";
	case M2W_DT_U8: return "|u1";
	case M2W_DT_I16: return "<i2";
	case M2W_DT_U16: return "<u2";
	case M2W_DT_I32: return "<i4";
	case M2W_DT_U32: return "<u4";
	case M2W_DT_I64: return "<i8";
	case M2W_DT_U64: return "<u8";
	case M2W_DT_BOOL: return "|b1";
	case M2W_DT_C64: return "<c8";
	case M2W_DT_C128: return "<c16";
	default: return NULL;
	}
}

static int npy_header(struct m2w_out *o, const char *descr, const struct xt_tensor *t, struct m2w_diag *d)
{
	char h[1024];
	int len = snprintf(h, sizeof h, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
	for (int k = 0; k < t->ndim; k++)
		len += snprintf(h + len, sizeof h - (size_t)len, "%llu,%s", (unsigned long long)t->dims[k],
			t->ndim == 1 || k + 1 == t->ndim ? "" : " ");
	if (t->ndim > 1)
		len--; /* (2, 3) but (3,) */
	len += snprintf(h + len, sizeof h - (size_t)len, "), }");
	size_t total = 10 + (size_t)len + 1, pad = (64 - total % 64) % 64;
	memset(h + len, ' ', pad);
	h[(size_t)len + pad] = '\n';
	size_t hlen = (size_t)len + pad + 1;
	uint8_t pre[10] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, (uint8_t)hlen, (uint8_t)(hlen >> 8)};
	if (m2w_out_write(o, pre, sizeof pre, d) || m2w_out_write(o, h, hlen, d))
		return -1;
	return 0;
}

/* Strings stream as u64 length + bytes; .npy wants fixed-width |S<max>. */
struct strs {
	struct m2w_out *o; /* NULL on the measuring pass */
	uint64_t width, max, need, len;
	uint8_t lenbuf[8];
	size_t nlen;
};

static int strs_sink(void *ctx, const void *pv, size_t n, struct m2w_diag *d)
{
	static const uint8_t zeros[64];
	struct strs *s = ctx;
	const uint8_t *p = pv;

	while (n) {
		if (s->need == 0 && s->nlen < 8) {
			s->lenbuf[s->nlen++] = *p++;
			n--;
			if (s->nlen == 8) {
				s->len = s->need = m2w_le64(s->lenbuf);
				if (s->len > s->max)
					s->max = s->len;
				if (s->need == 0)
					goto pad;
			}
			continue;
		}
		size_t k = n < s->need ? n : (size_t)s->need;
		if (s->o && m2w_out_write(s->o, p, k, d))
			return -1;
		p += k, n -= k, s->need -= k;
		if (s->need)
			continue;
pad:
		for (uint64_t r = s->o ? s->width - s->len : 0; r;) {
			size_t z = r < sizeof zeros ? (size_t)r : sizeof zeros;
			if (m2w_out_write(s->o, zeros, z, d))
				return -1;
			r -= z;
		}
		s->nlen = 0;
	}
	return 0;
}

int m2w_extract_tensorpb(const char *pb, const char *out, const struct m2w_extract_opts *o,
	struct m2w_extract_result *r, struct m2w_diag *d)
{
	struct m2w_file f;
	struct xt_ctx x;
	struct m2w_out w;
	bool opened = false;
	uint64_t hash;
	int rc = -1;

	memset(r, 0, sizeof *r);
	memset(&x, 0, sizeof x);
	x.fd = -1;
	x.path = pb;
	x.o = o;
	if (m2w_file_map(&f, pb, d))
		return -1;
	x.map = f.data;
	x.map_size = f.size;
	if (m2w_detect_format(f.data, f.size) != M2W_FMT_TENSORPB) {
		m2w_err(d, 0, "not a bare ONNX TensorProto (%s)", m2w_format_name(m2w_detect_format(f.data, f.size)));
		goto out;
	}
	if (xt_onnx_tensorpb_open(&x, f.data, f.size, d) || plan(&x, d))
		goto out;
	if (m2w_out_open(&w, out, d))
		goto out;
	opened = true;
	if (x.n == 1) {
		struct xt_tensor *t = &x.t[0];
		if (t->sdt == M2W_DT_STRING) {
			struct strs s = {0};
			char descr[32];
			if (x.stream(&x, t, strs_sink, &s, d))
				goto out;
			s.width = s.max ? s.max : 1;
			snprintf(descr, sizeof descr, "|S%llu", (unsigned long long)s.width);
			s = (struct strs){.o = &w, .width = s.width};
			if (npy_header(&w, descr, t, d) || x.stream(&x, t, strs_sink, &s, d))
				goto out;
		} else {
			const char *descr = npy_descr(t->odt);
			float *fbuf = malloc(CHUNK * sizeof *fbuf);
			uint8_t *obuf = malloc(CHUNK * 16);
			int r2 = -1;
			if (!descr)
				m2w_err(d, t->doff, "%s tensors cannot be written as .npy", t->src_dtype);
			else if (!fbuf || !obuf)
				m2w_err(d, M2W_NO_OFFSET, "out of memory");
			else if (!npy_header(&w, descr, t, d))
				r2 = convert_tensor(&x, t, &w, fbuf, obuf, d);
			free(fbuf);
			free(obuf);
			if (r2)
				goto out;
		}
	}
	opened = false;
	if (commit(&w, &hash, &r->changed, d))
		goto out;
	r->bytes = 0;
	move_result(&x, r);
	rc = 0;
out:
	if (opened)
		m2w_out_abort(&w);
	ctx_free(&x);
	m2w_file_unmap(&f);
	return rc;
}

/* ---- verify ---- */

struct fill {
	uint8_t *p;
	uint64_t cap, n;
};

static int fill_sink(void *ctx, const void *p, size_t n, struct m2w_diag *d)
{
	struct fill *f = ctx;
	if (n > f->cap - f->n)
		return m2w_err(d, M2W_NO_OFFSET, "source data longer than %llu bytes", (unsigned long long)f->cap);
	memcpy(f->p + f->n, p, n);
	f->n += n;
	return 0;
}

/* Correctly rounded f16 of a double (ties to even), by scaling. */
static uint16_t ref_f16(double x)
{
	uint16_t sign = signbit(x) ? 0x8000 : 0;
	double a = fabs(x);
	int e;

	if (isnan(x))
		return sign | 0x7e00;
	if (a >= 65520.0)
		return sign | 0x7c00;
	if (a < ldexp(1.0, -14))
		return (uint16_t)(sign | (uint16_t)nearbyint(ldexp(a, 24)));
	frexp(a, &e); /* a in [2^(e-1), 2^e) */
	double m = nearbyint(ldexp(a, 11 - e)); /* 1024..2048 */
	int E = e - 1;
	if (m == 2048.0)
		m = 1024.0, E++;
	if (E > 15)
		return sign | 0x7c00;
	return (uint16_t)(sign | (uint16_t)((E + 15) << 10) | (uint16_t)(m - 1024.0));
}

static double ref_half(unsigned h)
{
	int e = (int)(h >> 10 & 31);
	double m = (double)(h & 1023), v;
	if (e == 31)
		v = m ? NAN : INFINITY;
	else if (e == 0)
		v = ldexp(m, -24);
	else
		v = ldexp(1024.0 + m, e - 25);
	return h & 0x8000 ? -v : v;
}

static double ulp16(double a)
{
	int e;
	if (a < ldexp(1.0, -14))
		return ldexp(1.0, -24);
	frexp(a, &e);
	return ldexp(1.0, e - 11);
}

struct vt {
	struct xt_ctx *x;
	const struct xt_tensor *t;
	const uint8_t *src, *out;
	uint64_t odims[M2W_MAX_DIMS], sdims[M2W_MAX_DIMS];
	int perm[M2W_MAX_DIMS], nd;
	uint64_t ndiff;
};

static bool json_dims(const cJSON *a, uint64_t *dims, int *nd)
{
	int n = cJSON_GetArraySize(a);
	const cJSON *e;
	if (!cJSON_IsArray(a) || n > M2W_MAX_DIMS)
		return false;
	*nd = 0;
	cJSON_ArrayForEach(e, a) {
		if (!cJSON_IsNumber(e) || e->valuedouble < 0)
			return false;
		dims[(*nd)++] = (uint64_t)e->valuedouble;
	}
	return true;
}

static void diff(struct vt *v, uint64_t o, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void diff(struct vt *v, uint64_t o, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	if (v->ndiff++ >= 10)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	xt_warn(v->x, "verify: tensor '%s' element %llu: %s", v->t->name, (unsigned long long)o, buf);
}

static void verify_elem(struct vt *v, uint64_t o)
{
	const struct xt_tensor *t = v->t;
	uint64_t c[M2W_MAX_DIMS], s = 0, rem = o, stride = 1;

	/* output coordinates -> source index, by division */
	for (int k = v->nd - 1; k >= 0; k--) {
		c[k] = rem % v->odims[k];
		rem /= v->odims[k];
	}
	uint64_t sc[M2W_MAX_DIMS];
	for (int k = 0; k < v->nd; k++)
		sc[v->perm[k]] = c[k];
	for (int k = v->nd - 1; k >= 0; k--) {
		s += sc[k] * stride;
		stride *= v->sdims[k];
	}
	size_t es = m2w_dtype_size(t->odt);
	const uint8_t *op = v->out + o * es;

	if (!t->is_float) {
		if (t->codec == XT_PLAIN) {
			if (memcmp(op, v->src + s * es, es))
				diff(v, o, "integer bytes differ from source element %llu", (unsigned long long)s);
		} else {
			double want = xt_ref_element(t, v->src, s);
			double got = t->odt == M2W_DT_I8 ? (double)(int8_t)*op : (double)*op;
			if (got != want)
				diff(v, o, "%g, source says %g", got, want);
		}
		return;
	}
	double got;
	if (t->odt == M2W_DT_F32) {
		float f;
		memcpy(&f, op, 4);
		got = f;
	} else if (t->odt == M2W_DT_F16) {
		got = ref_half(m2w_le16(op));
	} else {
		memcpy(&got, op, 8);
	}
	double ref, tol;
	if (t->codec == XT_GGML) {
		double mag;
		uint64_t blk = s / t->ggml->block;
		ref = m2w_ggml_ref(t->ggml->id, v->src + blk * t->ggml->type_size,
			(uint32_t)(s % t->ggml->block), &mag);
		tol = mag * ldexp(1.0, -22);
	} else if (t->q) {
		const struct xt_quant *q = t->q;
		uint64_t qi = 0, qs = 1;
		for (int k = t->ndim - 1; k >= 0; k--) {
			if (q->sdim[k] > 1)
				qi += sc[k] / q->block[k] * qs;
			qs *= q->sdim[k];
		}
		double qv = xt_ref_element(t, v->src, s), zp = q->zp ? (double)q->zp[qi] : 0.0;
		double scale = q->scale[qi];
		ref = (qv - zp) * scale;
		tol = (fabs(qv) + fabs(zp)) * fabs(scale) * ldexp(1.0, -22) + fabs(ref) * ldexp(1.0, -23);
	} else {
		/* a pure conversion: exactly the correctly rounded value */
		ref = xt_ref_element(t, v->src, s);
		if (isnan(ref)) {
			if (!isnan(got))
				diff(v, o, "%g, source is NaN", got);
			return;
		}
		bool same = t->odt == M2W_DT_F16 ? m2w_le16(op) == ref_f16(ref)
			  : t->odt == M2W_DT_F32 ? got == (double)(float)ref &&
				  !signbit(got) == !signbit(ref)
			  : got == ref;
		if (!same)
			diff(v, o, "%.9g, source %.17g rounds to something else", got, ref);
		return;
	}
	if (isnan(ref)) {
		if (!isnan(got))
			diff(v, o, "%g, reference is NaN", got);
		return;
	}
	if (t->odt == M2W_DT_F16) {
		if (isinf(got) && fabs(ref) + tol >= 65504.0 && !signbit(got) == !signbit(ref))
			return;
		tol += ulp16(fabs(ref));
	}
	if (!(fabs(got - ref) <= tol))
		diff(v, o, "%.9g, reference %.9g (tolerance %.3g)", got, ref, tol);
}

int m2w_extract_verify(const char *model, const char *out, const struct m2w_extract_opts *o,
	uint64_t *ndiff, struct m2w_diag *d)
{
	struct m2w_file f, mf = {0};
	struct xt_ctx x;
	struct strmap names = {0};
	cJSON *j = NULL;
	char *manifest = NULL;
	int fd = -1, rc = -1;
	uint8_t *src = NULL, *dst = NULL;

	*ndiff = 0;
	if (open_model(model, o, &f, &x, d))
		return -1;
	manifest = o && o->manifest ? strdup(o->manifest) : m2w_extract_manifest_path(out);
	if (!manifest || sm_init(&names, x.n)) {
		m2w_err(d, M2W_NO_OFFSET, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < x.n; i++)
		if (x.t[i].selected)
			sm_put(&names, x.t[i].name, i);
	if (m2w_file_map(&mf, manifest, d))
		goto out;
	j = cJSON_ParseWithLength((const char *)mf.data, mf.size);
	const cJSON *ts = cJSON_GetObjectItemCaseSensitive(j, "tensors");
	const cJSON *jb = cJSON_GetObjectItemCaseSensitive(j, "bytes");
	const cJSON *jh = cJSON_GetObjectItemCaseSensitive(j, "xxh3");
	if (!cJSON_IsArray(ts) || !cJSON_IsNumber(jb) || !cJSON_IsString(jh)) {
		m2w_err(d, M2W_NO_OFFSET, "%s: not an m2w-extract manifest", manifest);
		goto out;
	}
	/* the blob: size and hash as the manifest says */
	struct stat st;
	fd = open(out, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		m2w_err(d, M2W_NO_OFFSET, "cannot open %s: %s", out, strerror(errno));
		goto out;
	}
	if ((uint64_t)st.st_size != (uint64_t)jb->valuedouble) {
		m2w_err(d, M2W_NO_OFFSET, "%s is %lld bytes, the manifest says %.0f", out,
			(long long)st.st_size, jb->valuedouble);
		goto out;
	}
	/* a hash mismatch is reported after the element comparison, which says where */
	bool hash_ok = same_file(out, (uint64_t)st.st_size, strtoull(jh->valuestring, NULL, 16));
	size_t listed = 0;
	const cJSON *e;
	cJSON_ArrayForEach(e, ts) {
		const char *nm = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "name"));
		const cJSON *jo = cJSON_GetObjectItemCaseSensitive(e, "offset");
		const cJSON *jn = cJSON_GetObjectItemCaseSensitive(e, "bytes");
		const char *dt = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "dtype"));
		const cJSON *jp = cJSON_GetObjectItemCaseSensitive(e, "permutation");
		const cJSON *jss = cJSON_GetObjectItemCaseSensitive(e, "source_shape");
		size_t idx;
		struct vt v = {.x = &x};
		listed++;
		if (!nm || !sm_get(&names, nm, &idx)) {
			m2w_err(d, M2W_NO_OFFSET, "%s: tensor '%s' is not one the model gives", manifest,
				nm ? nm : "?");
			goto out;
		}
		struct xt_tensor *t = &x.t[idx];
		v.t = t;
		int ond, snd;
		if (!cJSON_IsNumber(jo) || !cJSON_IsNumber(jn) || !dt ||
		    !json_dims(cJSON_GetObjectItemCaseSensitive(e, "shape"), v.odims, &ond)) {
			m2w_err(d, M2W_NO_OFFSET, "%s: tensor '%s' lacks offset, bytes, dtype or shape", manifest, nm);
			goto out;
		}
		if (jss ? !json_dims(jss, v.sdims, &snd) : !json_dims(cJSON_GetObjectItemCaseSensitive(e, "shape"),
								v.sdims, &snd)) {
			m2w_err(d, M2W_NO_OFFSET, "%s: tensor '%s' has a bad source_shape", manifest, nm);
			goto out;
		}
		v.nd = ond;
		for (int k = 0; k < ond; k++)
			v.perm[k] = k;
		if (jp) {
			int k = 0;
			const cJSON *pe;
			cJSON_ArrayForEach(pe, jp) {
				if (k < M2W_MAX_DIMS && cJSON_IsNumber(pe))
					v.perm[k] = pe->valueint;
				k++;
			}
		}
		uint64_t cnt = 1;
		bool ok = ond == snd && ond == t->ndim && !strcmp(dt, m2w_dtype_name(t->odt)) &&
			  (uint64_t)jn->valuedouble == t->out_bytes &&
			  (uint64_t)jo->valuedouble + t->out_bytes <= (uint64_t)st.st_size;
		for (int k = 0; ok && k < ond; k++) {
			ok = v.perm[k] >= 0 && v.perm[k] < ond && v.sdims[k] == t->dims[k] &&
			     v.odims[k] == v.sdims[v.perm[k]];
			cnt *= v.odims[k];
		}
		if (!ok || cnt != t->count) {
			m2w_err(d, M2W_NO_OFFSET, "%s: tensor '%s': shape, dtype, bytes or permutation "
				"disagree with the model", manifest, nm);
			goto out;
		}
		free(src);
		free(dst);
		src = malloc(t->src_bytes ? (size_t)t->src_bytes : 1);
		dst = malloc(t->out_bytes ? (size_t)t->out_bytes : 1);
		if (!src || !dst) {
			m2w_err(d, M2W_NO_OFFSET, "out of memory");
			goto out;
		}
		struct fill fl = {src, t->src_bytes, 0};
		if (t->count && x.stream(&x, t, fill_sink, &fl, d))
			goto out;
		if (fl.n != t->src_bytes) {
			m2w_err(d, t->doff, "tensor '%s': source holds %llu bytes, expected %llu", t->source,
				(unsigned long long)fl.n, (unsigned long long)t->src_bytes);
			goto out;
		}
		for (uint64_t got = 0; got < t->out_bytes;) {
			ssize_t r = pread(fd, dst + got, (size_t)(t->out_bytes - got),
				(off_t)((uint64_t)jo->valuedouble + got));
			if (r <= 0) {
				m2w_err(d, M2W_NO_OFFSET, "read %s: %s", out, r ? strerror(errno) : "short file");
				goto out;
			}
			got += (uint64_t)r;
		}
		v.src = src;
		v.out = dst;
		for (uint64_t i = 0; i < t->count; i++)
			verify_elem(&v, i);
		release(&x, x.map, x.map + x.map_size);
		*ndiff += v.ndiff;
	}
	size_t want = 0;
	for (size_t i = 0; i < x.n; i++)
		want += x.t[i].selected;
	if (listed != want) {
		m2w_err(d, M2W_NO_OFFSET, "%s lists %zu tensors, the model gives %zu", manifest, listed, want);
		goto out;
	}
	if (*ndiff) {
		m2w_err(d, M2W_NO_OFFSET, "%s: %llu element%s from %s beyond the conversion's rounding",
			out, (unsigned long long)*ndiff, *ndiff == 1 ? " differs" : "s differ", model);
		goto out;
	}
	if (!hash_ok) {
		m2w_err(d, M2W_NO_OFFSET, "%s: xxh3 differs from the manifest's %s", out, jh->valuestring);
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	free(src);
	free(dst);
	cJSON_Delete(j);
	if (mf.path)
		m2w_file_unmap(&mf);
	free(manifest);
	sm_free(&names);
	ctx_free(&x);
	m2w_file_unmap(&f);
	return rc;
}
