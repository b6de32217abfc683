/* pack: the model's tensors into per-layer shards of GPU-ready layouts.
 *
 * Inputs.  A GGUF (header read by gguf.c through the mapping) or an
 * m2w-extract manifest, weights.json, whose tensors lie in a
 * blob beside it (weights.bin): {"tensors": [{"name", "shape", "dtype",
 * "offset", "bytes"}, ...]}; each entry is checked against the blob (bytes
 * = elements * dtype size, offset + bytes within the blob) before use.
 *
 * Plan.  Each tensor gets a source kind (Q8_0 / Q4_0 blocks to repack,
 * another ggml block type to dequantize, a float to keep or cast, an
 * integer to copy), a shard (its layer, parsed from "blk.N." or
 * "layers.N." at a name-component boundary, or "other"), a 256-aligned
 * offset in that shard and, past max_binding bytes, row-aligned chunks,
 * each 256-aligned.  A tensor whose type, shape and bytes equal an earlier
 * one's is stored once: it becomes an alias.  So is a GGUF's missing
 * output.weight when token_embd.weight exists (tied embeddings).
 *
 * Write.  Shards are written in order (other, then layers ascending), each
 * tensor read with pread in pieces of IN_BUF bytes and converted through
 * reused buffers (Q8_0 / Q4_0 repacking and copies a whole piece at a
 * time, float conversions in pieces of at most STEP elements), so resident
 * memory is a few MiB whatever the model's size (the mapping serves only
 * the header and the alias comparisons, whose pages are handed back).
 * m2w_out hashes the bytes (a shard's xxh3 in shards.json is its file's,
 * or with --one-file hashed here too) and compares them with an existing
 * shard file, writing nothing while they agree.  shards.json is written
 * last.
 */
#define _DEFAULT_SOURCE
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>
#if defined(__x86_64__) && defined(__has_include)
#if __has_include(<xxh_x86dispatch.h>)
/* XXH3_64bits_update becomes libxxhash's runtime dispatch to its AVX2 /
 * AVX-512 code (the same hash, several times faster than the SSE2 default) */
#include <xxh_x86dispatch.h>
#endif
#endif

#include "dequant.h"
#include "gguf.h"
#include "pack.h"
#include "quant.h"
#include "tokenizer.h"

#define STEP 65536          /* elements converted per piece (a multiple of 256) */
#define RELEASE (8u << 20)  /* bytes compared between page hand-backs */
#define MAX_LAYER 1000000u  /* a larger "blk.N" is not a layer index */
/* Source bytes read per piece: 512 KiB keeps a piece and its conversion
 * in L2 for the hash and the write, and the writes near cp's size (4 MiB
 * writes took up to 3x the kernel time in this VM's page cache). */
#define IN_BUF (512u << 10)
/* converted bytes of a piece: IN_BUF of Q4_0 (18 -> 20 bytes a block) or
 * STEP elements (f32, or packed Q8_0 at 36/32 bytes a weight) */
#define OUT_BYTES (IN_BUF / 18 * 20 > STEP * 4 + 1024 ? IN_BUF / 18 * 20 : STEP * 4 + 1024)

void m2w_pack_opts_init(struct m2w_pack_opts *o)
{
	memset(o, 0, sizeof *o);
	o->fl = M2W_PACK_KEEP;
	o->max_binding = M2W_PACK_DEFAULT_MAX_BINDING;
}

static uint64_t align_up(uint64_t v)
{
	return (v + M2W_PACK_ALIGN - 1) / M2W_PACK_ALIGN * M2W_PACK_ALIGN;
}

static void warnf(const struct m2w_pack_opts *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void warnf(const struct m2w_pack_opts *o, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!o->warn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	o->warn(o->warn_ctx, msg);
}

/* ---- tensors and their kinds ---- */

enum pk_src {
	SRC_Q8_0, SRC_Q4_0, /* repacked, stay quantized */
	SRC_DEQ,            /* other ggml block types: dequantized */
	SRC_F32, SRC_F16, SRC_BF16, SRC_F64,
	SRC_RAW,            /* integers and bools: copied */
};

struct pk_tensor {
	char *name;
	int ndim;
	uint64_t shape[M2W_MAX_DIMS]; /* row-major, outermost first */
	uint64_t ne[M2W_MAX_DIMS];    /* GGUF only: ggml order, for alias matching */
	uint64_t nelem, row, nrows;   /* row = innermost dim */
	enum pk_src src;
	uint32_t ggml_id;             /* SRC_DEQ */
	bool requant;                 /* SRC_DEQ stored as packed Q8_0 */
	uint32_t unit, unit_bytes;    /* elements / source bytes of one unit (block or element) */
	const char *src_dtype;        /* name in the source */
	enum m2w_dtype odt;           /* stored dtype (SRC_RAW, floats) */
	uint32_t ounit_bytes;         /* stored bytes of one unit */
	const uint8_t *data;
	uint64_t bytes, file_off;
	/* plan */
	long layer;                   /* from the name; -1: none */
	int alias;                    /* index of the stored tensor, or -1 */
	bool tied;                    /* implicit alias (no output.weight) */
	size_t shard;
	uint64_t offset;              /* from the shard's start */
	uint64_t pbytes, prow;        /* stored bytes, of one row */
	uint64_t chunk_rows;          /* rows per chunk */
	uint64_t nchunks;
	uint64_t f16_overflow;
};

struct pk_shard {
	char *name; /* "other", "layer.N" */
	char *file;
	long layer; /* -1: other */
	uint64_t offset, bytes;
	uint64_t hash;
};

struct pk_ctx {
	const struct m2w_pack_opts *o;
	const char *input;
	struct m2w_file in, blob;
	bool is_gguf;
	struct m2w_gguf g;
	cJSON *wj; /* weights.json */
	struct pk_tensor *t;
	size_t n, cap;
	struct pk_shard *s;
	size_t ns;
	float *fbuf;
	uint8_t *obuf;
	uint8_t *ibuf;           /* IN_BUF bytes of source */
	int data_fd;             /* the file tensor data is read from */
	const uint8_t *map_base; /* mapping the tensor data lives in */
};

static const char *packed_name(const struct pk_tensor *t)
{
	if (t->src == SRC_Q8_0 || t->requant)
		return "q8_0";
	if (t->src == SRC_Q4_0)
		return "q4_0";
	return m2w_dtype_name(t->odt);
}

static struct pk_tensor *add_tensor(struct pk_ctx *x, struct m2w_diag *d)
{
	if (x->n == x->cap) {
		size_t c = x->cap ? 2 * x->cap : 64;
		struct pk_tensor *nt = realloc(x->t, c * sizeof *nt);
		if (!nt) {
			m2w_err(d, M2W_NO_OFFSET, "out of memory");
			return NULL;
		}
		x->t = nt;
		x->cap = c;
	}
	struct pk_tensor *t = &x->t[x->n++];
	memset(t, 0, sizeof *t);
	t->alias = -1;
	return t;
}

/* Stored dtype of a float source under --float. */
static enum m2w_dtype float_out(const struct m2w_pack_opts *o, enum pk_src s)
{
	if (o->fl == M2W_PACK_F16)
		return M2W_DT_F16;
	if (o->fl == M2W_PACK_KEEP && s == SRC_F16)
		return M2W_DT_F16;
	return M2W_DT_F32;
}

static void set_out(struct pk_ctx *x, struct pk_tensor *t)
{
	switch (t->src) {
	case SRC_Q8_0:
		t->ounit_bytes = 4 * M2W_PACK_Q8_0_WORDS;
		t->odt = M2W_DT_UNKNOWN;
		break;
	case SRC_Q4_0:
		t->ounit_bytes = 4 * M2W_PACK_Q4_0_WORDS;
		t->odt = M2W_DT_UNKNOWN;
		break;
	case SRC_RAW:
		t->ounit_bytes = t->unit_bytes;
		break;
	case SRC_DEQ:
		if (x->o->requant_q8_0) {
			/* k-quant super-blocks and 32-element blocks are whole Q8_0 blocks */
			t->requant = true;
			t->odt = M2W_DT_UNKNOWN;
			t->ounit_bytes = t->unit / 32 * 4 * M2W_PACK_Q8_0_WORDS;
			break;
		}
		/* fall through */
	default:
		t->odt = float_out(x->o, t->src);
		t->ounit_bytes = t->unit * (uint32_t)m2w_dtype_size(t->odt);
		break;
	}
}

/* ---- GGUF input ---- */

static int load_gguf(struct pk_ctx *x, struct m2w_diag *d)
{
	if (m2w_gguf_parse(x->in.data, x->in.size, &x->g, d) < 0)
		return -1;
	x->map_base = x->in.data;
	for (uint64_t i = 0; i < x->g.n_tensors; i++) {
		const struct m2w_gguf_tensor *gt = &x->g.tensors[i];
		const struct m2w_ggml_type *ty = gt->type;
		struct pk_tensor *t = add_tensor(x, d);
		if (!t)
			return -1;
		t->name = strndup(gt->name, gt->name_len);
		if (!t->name)
			return m2w_err(d, M2W_NO_OFFSET, "out of memory");
		t->ndim = (int)gt->n_dims;
		for (int k = 0; k < M2W_GGUF_MAX_DIMS; k++)
			t->ne[k] = gt->ne[k];
		for (int k = 0; k < t->ndim; k++)
			t->shape[k] = gt->ne[t->ndim - 1 - k];
		t->nelem = gt->n_elements;
		t->row = gt->ne[0];
		t->data = gt->data;
		t->bytes = gt->bytes;
		t->file_off = gt->offset;
		t->src_dtype = ty->name;
		t->unit = ty->block;
		t->unit_bytes = ty->type_size;
		switch (ty->id) {
		case M2W_GGML_Q8_0: t->src = SRC_Q8_0; break;
		case M2W_GGML_Q4_0: t->src = SRC_Q4_0; break;
		case M2W_GGML_F32: t->src = SRC_F32; break;
		case M2W_GGML_F16: t->src = SRC_F16; break;
		case M2W_GGML_BF16: t->src = SRC_BF16; break;
		case M2W_GGML_F64: t->src = SRC_F64; break;
		case M2W_GGML_I8: case M2W_GGML_I16: case M2W_GGML_I32: case M2W_GGML_I64:
			t->src = SRC_RAW;
			t->odt = ty->dtype;
			break;
		default:
			if (!ty->quantized || !m2w_ggml_dequant_supported(ty->id))
				return m2w_err(d, gt->info_off,
					"tensor '%s' has type %s, which m2w-pack cannot convert; supported: "
					"q8_0 q4_0 (packed), f32 f16 bf16 f64 i8 i16 i32 i64, and dequantized "
					"to the float type: %s",
					t->name, ty->name, m2w_ggml_dequant_list());
			t->src = SRC_DEQ;
			t->ggml_id = ty->id;
			break;
		}
		set_out(x, t);
	}
	return 0;
}

/* ---- weights.json input ---- */

static bool json_u64(const cJSON *j, uint64_t *v)
{
	if (!cJSON_IsNumber(j) || !(j->valuedouble >= 0) || j->valuedouble > 9007199254740992.0 ||
	    j->valuedouble != floor(j->valuedouble))
		return false;
	*v = (uint64_t)j->valuedouble;
	return true;
}

static enum m2w_dtype dtype_by_name(const char *s)
{
	for (int i = 1; i < M2W_DT__COUNT; i++)
		if (!strcmp(m2w_dtype_name((enum m2w_dtype)i), s))
			return (enum m2w_dtype)i;
	return M2W_DT_UNKNOWN;
}

static char *blob_path_for(const char *json)
{
	size_t n = strlen(json);
	const char *slash = strrchr(json, '/'), *dot = strrchr(json, '.');
	char *p = malloc(n + 8);

	if (!p)
		return NULL;
	if (dot && (!slash || dot > slash))
		n = (size_t)(dot - json);
	memcpy(p, json, n);
	strcpy(p + n, ".bin");
	return p;
}

/* Offset in weights.json of the value at the printf-style path. */
static uint64_t wj_pos(const struct pk_ctx *x, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static uint64_t wj_pos(const struct pk_ctx *x, const char *fmt, ...)
{
	char path[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(path, sizeof path, fmt, ap);
	va_end(ap);
	return m2w_json_pos(x->in.data, x->in.size, path);
}

static int load_weights_json(struct pk_ctx *x, struct m2w_pack_result *r, struct m2w_diag *d)
{
	const cJSON *ts, *e;
	char *bp;

	x->wj = cJSON_ParseWithLength((const char *)x->in.data, x->in.size);
	if (!x->wj) {
		const char *at = cJSON_GetErrorPtr();
		const char *b = (const char *)x->in.data;
		return m2w_err(d, at && b && at >= b && at <= b + x->in.size ? (uint64_t)(at - b)
			: 0, "not a GGUF and not valid JSON");
	}
	ts = cJSON_GetObjectItemCaseSensitive(x->wj, "tensors");
	if (!cJSON_IsArray(ts))
		return m2w_err(d, wj_pos(x, "tensors"), "not a weights.json manifest: no \"tensors\" array");
	bp = x->o->blob ? strdup(x->o->blob) : blob_path_for(x->input);
	if (!bp)
		return m2w_err(d, M2W_NO_OFFSET, "out of memory");
	struct m2w_diag bd;
	m2w_diag_init(&bd, bp);
	if (m2w_file_map(&x->blob, bp, &bd) < 0) {
		m2w_err(d, wj_pos(x, "bytes"), "blob %s: %s", bp, bd.msg);
		free(bp);
		return -1;
	}
	r->deps[r->ndeps++] = bp;
	uint64_t want;
	const cJSON *jb = cJSON_GetObjectItemCaseSensitive(x->wj, "bytes");
	if (jb && !json_u64(jb, &want))
		return m2w_err(d, wj_pos(x, "bytes"), "\"bytes\" must be a whole number of at most 2^53");
	if (jb && want != x->blob.size)
		return m2w_err(d, wj_pos(x, "bytes"), "blob %s has %zu bytes, the manifest says %llu",
			bp, x->blob.size, (unsigned long long)want);
	x->map_base = x->blob.data;

	size_t idx = 0;
	cJSON_ArrayForEach(e, ts) {
		const char *nm = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "name"));
		const char *dt = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "dtype"));
		const cJSON *sh = cJSON_GetObjectItemCaseSensitive(e, "shape"), *dim;
		uint64_t off, bytes, nelem = 1, need;
		enum m2w_dtype ty;

		if (!nm || !dt || !cJSON_IsArray(sh) ||
		    !json_u64(cJSON_GetObjectItemCaseSensitive(e, "offset"), &off) ||
		    !json_u64(cJSON_GetObjectItemCaseSensitive(e, "bytes"), &bytes))
			return m2w_err(d, wj_pos(x, "tensors/%zu", idx),
				"tensor %zu: needs name, shape, dtype, offset and bytes (whole numbers "
				"of at most 2^53)", idx);
		ty = dtype_by_name(dt);
		if (!m2w_dtype_size(ty) || ty == M2W_DT_I4 || ty == M2W_DT_U4 || ty == M2W_DT_C64 ||
		    ty == M2W_DT_C128)
			return m2w_err(d, wj_pos(x, "tensors/%zu/dtype", idx),
				"tensor '%s': dtype %s is not supported "
				"(f32 f16 bf16 f64 and 8- to 64-bit integers and bool are)", nm, dt);
		for (size_t k = 0; k < x->n; k++)
			if (!strcmp(x->t[k].name, nm))
				return m2w_err(d, wj_pos(x, "tensors/%zu/name", idx),
					"tensor name '%s' is listed twice (tensors %zu and %zu)", nm, k, idx);
		struct pk_tensor *t = add_tensor(x, d);
		if (!t)
			return -1;
		if (!(t->name = strdup(nm)))
			return m2w_err(d, M2W_NO_OFFSET, "out of memory");
		if (cJSON_GetArraySize(sh) > M2W_MAX_DIMS)
			return m2w_err(d, wj_pos(x, "tensors/%zu/shape", idx),
				"tensor '%s' has %d dims, limit %d", nm,
				cJSON_GetArraySize(sh), M2W_MAX_DIMS);
		cJSON_ArrayForEach(dim, sh) {
			uint64_t v;
			if (!json_u64(dim, &v) || !m2w_mul_u64(nelem, v, &nelem))
				return m2w_err(d, wj_pos(x, "tensors/%zu/shape/%d", idx, t->ndim),
					"tensor '%s': bad shape (dims are whole numbers, product under 2^64)", nm);
			t->shape[t->ndim++] = v;
		}
		size_t es = m2w_dtype_size(ty);
		if (!m2w_mul_u64(nelem, es, &need) || need != bytes)
			return m2w_err(d, wj_pos(x, "tensors/%zu/bytes", idx),
				"tensor '%s': %llu bytes, its shape and dtype need %llu", nm, (unsigned long long)bytes, (unsigned long long)need);
		if (off > x->blob.size || bytes > x->blob.size - off)
			return m2w_err(d, wj_pos(x, "tensors/%zu/offset", idx),
				"tensor '%s' ends at %llu, past the blob's %zu bytes",
				nm, (unsigned long long)(off + bytes), x->blob.size);
		t->nelem = nelem;
		t->row = t->ndim ? t->shape[t->ndim - 1] : 1;
		t->data = x->blob.data + off;
		t->bytes = bytes;
		t->file_off = off;
		t->src_dtype = m2w_dtype_name(ty);
		t->unit = 1;
		t->unit_bytes = (uint32_t)es;
		switch (ty) {
		case M2W_DT_F32: t->src = SRC_F32; break;
		case M2W_DT_F16: t->src = SRC_F16; break;
		case M2W_DT_BF16: t->src = SRC_BF16; break;
		case M2W_DT_F64: t->src = SRC_F64; break;
		default: t->src = SRC_RAW; t->odt = ty; break;
		}
		set_out(x, t);
		idx++;
	}
	return 0;
}

/* ---- plan ---- */

/* The layer of "blk.N.", "layers.N." or "layers.N/" starting a name or
 * following '.', '/' or '_'; -1 for none. */
static long layer_of(const char *name)
{
	static const char *const pre[] = {"blk.", "layers."};
	for (const char *p = name; *p; p++) {
		if (p != name && p[-1] != '.' && p[-1] != '/' && p[-1] != '_')
			continue;
		for (size_t k = 0; k < sizeof pre / sizeof pre[0]; k++) {
			size_t n = strlen(pre[k]);
			if (strncmp(p, pre[k], n))
				continue;
			const char *q = p + n;
			unsigned long v = 0;
			if (*q < '0' || *q > '9')
				continue;
			while (*q >= '0' && *q <= '9' && v <= MAX_LAYER)
				v = v * 10 + (unsigned long)(*q++ - '0');
			if (v <= MAX_LAYER && (*q == '.' || *q == '/' || *q == 0))
				return (long)v;
		}
	}
	return -1;
}

static void release(const struct pk_ctx *x, const uint8_t *lo, const uint8_t *hi)
{
	uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t a = (uintptr_t)lo / pg * pg, b = (uintptr_t)hi / pg * pg;

	if ((uintptr_t)x->map_base > a)
		a = ((uintptr_t)x->map_base + pg - 1) / pg * pg;
	if (b > a)
		madvise((void *)a, b - a, MADV_DONTNEED);
}

/* Same bytes, compared in RELEASE pieces so that two large identical
 * tensors do not stay resident.  Different tensors differ within their
 * first bytes: that common case touches a page or two and hands nothing
 * back (a madvise per pair would cost more than the compare). */
static bool same_bytes(const struct pk_ctx *x, const struct pk_tensor *a, const struct pk_tensor *b)
{
	size_t head = a->bytes < 4096 ? (size_t)a->bytes : 4096;

	if (memcmp(a->data, b->data, head))
		return false;
	for (uint64_t off = 0; off < a->bytes; off += RELEASE) {
		uint64_t n = a->bytes - off < RELEASE ? a->bytes - off : RELEASE;
		int c = memcmp(a->data + off, b->data + off, (size_t)n);
		release(x, a->data + off, a->data + off + n);
		release(x, b->data + off, b->data + off + n);
		if (c)
			return false;
	}
	return true;
}

static void find_aliases(struct pk_ctx *x)
{
	for (size_t i = 0; i < x->n; i++) {
		struct pk_tensor *t = &x->t[i];
		for (size_t j = 0; j < i; j++) {
			const struct pk_tensor *u = &x->t[j];
			if (u->alias >= 0 || u->src != t->src || u->ggml_id != t->ggml_id ||
			    u->odt != t->odt || strcmp(u->src_dtype, t->src_dtype) ||
			    u->ndim != t->ndim || u->bytes != t->bytes || !t->bytes ||
			    memcmp(u->shape, t->shape, sizeof t->shape))
				continue;
			if (same_bytes(x, t, u)) {
				t->alias = (int)j;
				break;
			}
		}
	}
}

static bool has_tensor(const struct pk_ctx *x, const char *name)
{
	for (size_t i = 0; i < x->n; i++)
		if (!strcmp(x->t[i].name, name))
			return true;
	return false;
}

/* A GGUF LLM without output.weight ties it to token_embd.weight. */
static int add_tied(struct pk_ctx *x, struct m2w_diag *d)
{
	size_t e;

	if (!x->is_gguf || has_tensor(x, "output.weight"))
		return 0;
	for (e = 0; e < x->n && strcmp(x->t[e].name, "token_embd.weight"); e++)
		;
	if (e == x->n)
		return 0;
	struct pk_tensor *t = add_tensor(x, d);
	if (!t)
		return -1;
	struct pk_tensor *emb = &x->t[e]; /* after add_tensor: it may have moved */
	*t = *emb;
	t->name = strdup("output.weight");
	if (!t->name)
		return m2w_err(d, M2W_NO_OFFSET, "out of memory");
	t->alias = emb->alias >= 0 ? emb->alias : (int)e;
	t->tied = true;
	return 0;
}

static int shard_for(struct pk_ctx *x, long layer, struct m2w_diag *d)
{
	char buf[64];

	for (size_t i = 0; i < x->ns; i++)
		if (x->s[i].layer == layer)
			return (int)i;
	struct pk_shard *ns = realloc(x->s, (x->ns + 1) * sizeof *ns);
	if (!ns)
		return m2w_err(d, M2W_NO_OFFSET, "out of memory");
	x->s = ns;
	struct pk_shard *s = &x->s[x->ns];
	memset(s, 0, sizeof *s);
	s->layer = layer;
	if (layer < 0)
		snprintf(buf, sizeof buf, "other");
	else
		snprintf(buf, sizeof buf, "layer.%ld", layer);
	s->name = strdup(buf);
	if (x->o->one_file)
		s->file = strdup("model.bin");
	else {
		strcat(buf, ".bin");
		s->file = strdup(buf);
	}
	if (!s->name || !s->file)
		return m2w_err(d, M2W_NO_OFFSET, "out of memory");
	return (int)x->ns++;
}

static int cmp_shard(const void *a, const void *b)
{
	const struct pk_shard *p = a, *q = b;
	return (p->layer > q->layer) - (p->layer < q->layer);
}

static int plan(struct pk_ctx *x, struct m2w_diag *d)
{
	const struct m2w_pack_opts *o = x->o;

	for (size_t i = 0; i < x->n; i++) {
		struct pk_tensor *t = &x->t[i];
		t->layer = layer_of(t->name);
		if (t->alias < 0 && shard_for(x, t->layer, d) < 0)
			return -1;
	}
	/* other first (layer -1), then layers ascending */
	if (x->ns)
		qsort(x->s, x->ns, sizeof *x->s, cmp_shard);

	uint64_t base = 0;
	for (size_t s = 0; s < x->ns; s++) {
		uint64_t cur = 0;
		x->s[s].offset = base;
		for (size_t i = 0; i < x->n; i++) {
			struct pk_tensor *t = &x->t[i];
			if (t->alias >= 0 || t->layer != x->s[s].layer)
				continue;
			t->shard = s;
			t->nrows = t->row ? t->nelem / t->row : 0;
			/* rows are whole units: ggml checked ne[0] % block == 0 */
			if (!m2w_mul_u64(t->row / t->unit, t->ounit_bytes, &t->prow) ||
			    !m2w_mul_u64(t->prow, t->nrows, &t->pbytes))
				return m2w_err(d, M2W_NO_OFFSET, "tensor '%s' is too large", t->name);
			t->offset = align_up(cur);
			if (t->src == SRC_DEQ && !t->requant && t->pbytes >= (64u << 20))
				warnf(o, "tensor '%s': %s dequantized to %s takes %llu MiB; --requant q8_0 "
					"keeps it quantized", t->name, t->src_dtype, m2w_dtype_name(t->odt),
					(unsigned long long)(t->pbytes >> 20));
			if (t->pbytes <= o->max_binding) {
				t->chunk_rows = t->nrows;
				t->nchunks = 1;
				cur = t->offset + t->pbytes;
			} else {
				if (t->prow > o->max_binding)
					return m2w_err(d, M2W_NO_OFFSET, "tensor '%s': one row is %llu bytes, "
						"more than --max-binding %llu; it cannot be split by rows",
						t->name, (unsigned long long)t->prow,
						(unsigned long long)o->max_binding);
				t->chunk_rows = o->max_binding / t->prow;
				t->nchunks = (t->nrows + t->chunk_rows - 1) / t->chunk_rows;
				uint64_t last = t->nrows - (t->nchunks - 1) * t->chunk_rows;
				cur = t->offset + (t->nchunks - 1) * align_up(t->chunk_rows * t->prow) +
				      last * t->prow;
			}
		}
		x->s[s].bytes = align_up(cur);
		if (o->one_file)
			base += x->s[s].bytes;
	}
	return 0;
}

/* ---- write ---- */

struct pk_sink {
	struct m2w_out out;
	XXH3_state_t *h;     /* the current shard's hash (--one-file; else out's own) */
	uint64_t written;    /* bytes of the current shard */
	uint64_t total;
};

static int sink_write(struct pk_sink *k, const void *p, size_t n, struct m2w_diag *d)
{
	if (k->h)
		XXH3_64bits_update(k->h, p, n);
	k->written += n;
	k->total += n;
	return m2w_out_write(&k->out, p, n, d);
}

static int sink_pad(struct pk_sink *k, uint64_t to, struct m2w_diag *d)
{
	static const uint8_t zeros[M2W_PACK_ALIGN];
	while (k->written < to) {
		uint64_t n = to - k->written;
		if (n > sizeof zeros)
			n = sizeof zeros;
		if (sink_write(k, zeros, (size_t)n, d) < 0)
			return -1;
	}
	return 0;
}

/* nunits units of t starting at src -> the sink. */
static int convert(struct pk_ctx *x, struct pk_tensor *t, struct pk_sink *k, const uint8_t *src,
	uint64_t nunits, struct m2w_diag *d)
{
	bool direct = t->src == SRC_RAW || (t->src == SRC_F32 && t->odt == M2W_DT_F32) ||
		      (t->src == SRC_F16 && t->odt == M2W_DT_F16);
	uint64_t per = STEP / t->unit; /* units per piece */

	/* whole pieces (at most IN_BUF source bytes): one write each */
	if (direct)
		return sink_write(k, src, (size_t)(nunits * t->unit_bytes), d);
	if (t->src == SRC_Q8_0 || t->src == SRC_Q4_0) {
		if (t->src == SRC_Q8_0)
			m2w_pack_q8_0(src, nunits, x->obuf);
		else
			m2w_pack_q4_0(src, nunits, x->obuf);
		return sink_write(k, x->obuf, (size_t)(nunits * t->ounit_bytes), d);
	}
	while (nunits) {
		uint64_t n = nunits < per ? nunits : per;
		size_t in = (size_t)(n * t->unit_bytes), cnt = (size_t)(n * t->unit);
		float *f = x->fbuf;
		switch (t->src) {
		case SRC_F32: memcpy(f, src, cnt * 4); break;
		case SRC_F16:
			for (size_t i = 0; i < cnt; i++)
				f[i] = m2w_f16_to_f32(m2w_le16(src + 2 * i));
			break;
		case SRC_BF16:
			for (size_t i = 0; i < cnt; i++)
				f[i] = m2w_bf16_to_f32(m2w_le16(src + 2 * i));
			break;
		case SRC_F64:
			for (size_t i = 0; i < cnt; i++) {
				double v;
				memcpy(&v, src + 8 * i, 8);
				f[i] = (float)v;
			}
			break;
		case SRC_DEQ: m2w_ggml_dequant(t->ggml_id, src, n, f); break;
		default: break;
		}
		if (t->requant) {
			m2w_pack_q8_0_from_f32(f, cnt / 32, x->obuf);
			if (sink_write(k, x->obuf, cnt / 32 * 4 * M2W_PACK_Q8_0_WORDS, d) < 0)
				return -1;
		} else if (t->odt == M2W_DT_F16) {
			uint8_t *h = x->obuf;
			for (size_t i = 0; i < cnt; i++) {
				uint16_t v = m2w_f32_to_f16(f[i]);
				if ((v & 0x7fff) == 0x7c00 && !isinf(f[i]))
					t->f16_overflow++;
				h[2 * i] = (uint8_t)v;
				h[2 * i + 1] = (uint8_t)(v >> 8);
			}
			if (sink_write(k, h, cnt * 2, d) < 0)
				return -1;
		} else if (sink_write(k, f, cnt * 4, d) < 0) {
			return -1;
		}
		src += in;
		nunits -= n;
	}
	return 0;
}

/* nunits units of t at file offset off: read (pread, not the mapping: no
 * page faults, no TLB flushes to hand pages back, nothing resident) in
 * pieces of at most IN_BUF bytes and converted. */
static int feed(struct pk_ctx *x, struct pk_tensor *t, struct pk_sink *k, uint64_t off,
	uint64_t nunits, struct m2w_diag *d)
{
	uint64_t per = IN_BUF / t->unit_bytes;

	while (nunits) {
		uint64_t n = nunits < per ? nunits : per;
		size_t len = (size_t)(n * t->unit_bytes), got = 0;
		while (got < len) {
			ssize_t r = pread(x->data_fd, x->ibuf + got, len - got, (off_t)(off + got));
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				return m2w_err(d, off + got, "read: %s", r < 0 ? strerror(errno)
					: "the file shrank while being read");
			got += (size_t)r;
		}
		if (convert(x, t, k, x->ibuf, n, d) < 0)
			return -1;
		off += len;
		nunits -= n;
	}
	return 0;
}

static int write_tensor(struct pk_ctx *x, struct pk_tensor *t, struct pk_sink *k,
	struct m2w_diag *d)
{
	uint64_t upr = t->row / t->unit; /* units per row */

	for (uint64_t c = 0; c < t->nchunks; c++) {
		uint64_t r0 = c * t->chunk_rows;
		uint64_t nr = t->nrows - r0 < t->chunk_rows ? t->nrows - r0 : t->chunk_rows;
		if (sink_pad(k, t->offset + c * align_up(t->chunk_rows * t->prow), d) < 0)
			return -1;
		if (feed(x, t, k, t->file_off + r0 * upr * t->unit_bytes, nr * upr, d) < 0)
			return -1;
	}
	if (t->f16_overflow)
		warnf(x->o, "tensor '%s': %llu values overflowed to inf in f16", t->name,
			(unsigned long long)t->f16_overflow);
	return 0;
}

static char *join(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s/%s", dir, name);
	return p;
}

static int commit(struct pk_sink *k, const char *path, struct m2w_pack_result *r,
	struct m2w_diag *d)
{
	bool changed;
	if (m2w_out_commit(&k->out, &changed, d) < 0) {
		char msg[sizeof d->msg];
		memcpy(msg, d->msg, sizeof msg);
		return m2w_err(d, M2W_NO_OFFSET, "%s: %s", path, msg);
	}
	r->nchanged += changed;
	return 0;
}

static int write_shards(struct pk_ctx *x, const char *dir, struct m2w_pack_result *r,
	struct m2w_diag *d)
{
	struct pk_sink k;
	char *path = NULL;
	int rc = -1;

	memset(&k, 0, sizeof k);
	k.out.fd = -1;
	/* one shard a file: the file's hash (m2w_out keeps it) is the shard's */
	if (x->o->one_file && !(k.h = XXH3_createState()))
		return m2w_err(d, M2W_NO_OFFSET, "out of memory");
	for (size_t s = 0; s < x->ns; s++) {
		struct pk_shard *sh = &x->s[s];
		if (s == 0 || !x->o->one_file) {
			free(path);
			if (!(path = join(dir, sh->file))) {
				m2w_err(d, M2W_NO_OFFSET, "out of memory");
				goto out;
			}
			if (m2w_out_open(&k.out, path, d) < 0)
				goto out;
		}
		if (k.h)
			XXH3_64bits_reset(k.h);
		k.written = 0;
		for (size_t i = 0; i < x->n; i++) {
			struct pk_tensor *t = &x->t[i];
			if (t->alias < 0 && t->shard == s) {
				if (write_tensor(x, t, &k, d) < 0)
					goto out;
				r->in_bytes += t->bytes;
			}
		}
		if (sink_pad(&k, sh->bytes, d) < 0)
			goto out;
		sh->hash = XXH3_64bits_digest(k.h ? k.h : (XXH3_state_t *)k.out.hash_state);
		if ((s + 1 == x->ns || !x->o->one_file) && commit(&k, path, r, d) < 0)
			goto out;
	}
	r->out_bytes = k.total;
	rc = 0;
out:
	if (rc < 0 && k.out.path)
		m2w_out_abort(&k.out);
	if (k.h)
		XXH3_freeState(k.h);
	free(path);
	return rc;
}

/* ---- shards.json ---- */

/* The shortest decimal that reads back as the same f32, as a double. */
static double f32_json(float f)
{
	char buf[32];
	for (int p = 6; p <= 9; p++) {
		snprintf(buf, sizeof buf, "%.*g", p, (double)f);
		if ((float)strtod(buf, NULL) == f)
			break;
	}
	return strtod(buf, NULL);
}

static cJSON *value_json(const struct m2w_gguf_value *v, int depth)
{
	uint64_t u;
	int64_t i;
	double f;
	const char *s;
	uint64_t n;

	switch (v->type) {
	case M2W_GGUF_BOOL:
		return cJSON_CreateBool(v->p[0] != 0);
	case M2W_GGUF_F32: {
		float x;
		memcpy(&x, v->p, 4);
		return isfinite(x) ? cJSON_CreateNumber(f32_json(x)) : cJSON_CreateNull();
	}
	case M2W_GGUF_F64:
		m2w_gguf_get_f64(v, &f);
		return isfinite(f) ? cJSON_CreateNumber(f) : cJSON_CreateNull();
	case M2W_GGUF_STRING: {
		m2w_gguf_get_str(v, &s, &n);
		char *c = strndup(s, n);
		cJSON *j = c ? cJSON_CreateString(c) : NULL;
		free(c);
		return j;
	}
	case M2W_GGUF_ARRAY: {
		/* short numeric arrays only (per-layer head counts ...) */
		if (depth > 0 || v->count > 4096 || v->elem_type == M2W_GGUF_STRING ||
		    v->elem_type == M2W_GGUF_ARRAY)
			return NULL;
		cJSON *a = cJSON_CreateArray();
		struct m2w_gguf_iter it;
		struct m2w_gguf_value e;
		m2w_gguf_iter_init(&it, v);
		while (a && m2w_gguf_iter_next(&it, &e))
			cJSON_AddItemToArray(a, value_json(&e, depth + 1));
		return a;
	}
	default:
		if (m2w_gguf_get_u64(v, &u))
			return cJSON_CreateNumber((double)u);
		if (m2w_gguf_get_i64(v, &i))
			return cJSON_CreateNumber((double)i);
		return NULL;
	}
}

static const struct m2w_gguf_kv *arch_kv(const struct pk_ctx *x, const char *arch,
	const char *suffix)
{
	char key[256];
	snprintf(key, sizeof key, "%s.%s", arch, suffix);
	return m2w_gguf_find(&x->g, key);
}

static bool kv_u64(const struct m2w_gguf_kv *kv, uint64_t *v)
{
	return kv && m2w_gguf_get_u64(&kv->value, v);
}

/* The model config, named for the engine; llama.cpp's defaults fill what
 * the file leaves out, and "defaults" lists which. */
static cJSON *config_json(const struct pk_ctx *x)
{
	cJSON *c = cJSON_CreateObject(), *def = cJSON_CreateArray(), *raw = cJSON_CreateObject();
	const struct m2w_gguf_kv *kv = m2w_gguf_find(&x->g, "general.architecture");
	const char *s;
	uint64_t n, hidden = 0, heads = 0, head_dim = 0;
	char arch[128];

	if (!c || !def || !raw || !kv || !m2w_gguf_get_str(&kv->value, &s, &n) || n >= sizeof arch) {
		cJSON_Delete(def);
		cJSON_Delete(raw);
		return c;
	}
	memcpy(arch, s, n);
	arch[n] = 0;
	cJSON_AddStringToObject(c, "arch", arch);

	static const struct { const char *name, *key; } direct[] = {
		{"hidden_size", "embedding_length"},
		{"layers", "block_count"},
		{"heads", "attention.head_count"},
		{"kv_heads", "attention.head_count_kv"},
		{"head_dim", "attention.key_length"},
		{"value_dim", "attention.value_length"},
		{"ffn_size", "feed_forward_length"},
		{"context_length", "context_length"},
		{"rope_base", "rope.freq_base"},
		{"rope_dims", "rope.dimension_count"},
		{"norm_eps", "attention.layer_norm_rms_epsilon"},
		{"vocab_size", "vocab_size"},
	};
	for (size_t i = 0; i < sizeof direct / sizeof direct[0]; i++) {
		kv = arch_kv(x, arch, direct[i].key);
		cJSON *v = kv ? value_json(&kv->value, 0) : NULL;
		if (v)
			cJSON_AddItemToObject(c, direct[i].name, v);
	}
	if (cJSON_GetObjectItemCaseSensitive(c, "norm_eps"))
		cJSON_AddStringToObject(c, "norm", "rms");
	else if ((kv = arch_kv(x, arch, "attention.layer_norm_epsilon"))) {
		cJSON_AddItemToObject(c, "norm_eps", value_json(&kv->value, 0));
		cJSON_AddStringToObject(c, "norm", "layer");
	}
	kv_u64(arch_kv(x, arch, "embedding_length"), &hidden);
	kv_u64(arch_kv(x, arch, "attention.head_count"), &heads);
	if (!cJSON_GetObjectItemCaseSensitive(c, "kv_heads") && heads) {
		cJSON_AddNumberToObject(c, "kv_heads", (double)heads);
		cJSON_AddItemToArray(def, cJSON_CreateString("kv_heads"));
	}
	if (!kv_u64(arch_kv(x, arch, "attention.key_length"), &head_dim) && hidden && heads) {
		head_dim = hidden / heads;
		cJSON_AddNumberToObject(c, "head_dim", (double)head_dim);
		cJSON_AddItemToArray(def, cJSON_CreateString("head_dim"));
	}
	if (!cJSON_GetObjectItemCaseSensitive(c, "rope_base")) {
		cJSON_AddNumberToObject(c, "rope_base", 10000);
		cJSON_AddItemToArray(def, cJSON_CreateString("rope_base"));
	}
	if (!cJSON_GetObjectItemCaseSensitive(c, "rope_dims") && head_dim) {
		cJSON_AddNumberToObject(c, "rope_dims", (double)head_dim);
		cJSON_AddItemToArray(def, cJSON_CreateString("rope_dims"));
	}
	if (!cJSON_GetObjectItemCaseSensitive(c, "vocab_size")) {
		const struct m2w_gguf_kv *tk = m2w_gguf_find(&x->g, "tokenizer.ggml.tokens");
		const struct m2w_gguf_tensor *e = m2w_gguf_find_tensor(&x->g, "token_embd.weight");
		if (tk && tk->value.type == M2W_GGUF_ARRAY)
			cJSON_AddNumberToObject(c, "vocab_size", (double)tk->value.count);
		else if (e && e->n_dims >= 2)
			cJSON_AddNumberToObject(c, "vocab_size", (double)e->ne[1]);
	}
	cJSON_AddItemToObject(c, "defaults", def);

	/* every scalar "<arch>.*" key as is, for what the names above miss */
	size_t al = strlen(arch);
	for (uint64_t i = 0; i < x->g.n_kv; i++) {
		const struct m2w_gguf_kv *e = &x->g.kv[i];
		if (e->key_len <= al + 1 || memcmp(e->key, arch, al) || e->key[al] != '.' ||
		    e->key_len >= 256)
			continue;
		cJSON *v = value_json(&e->value, 0);
		if (!v)
			continue;
		char key[256];
		memcpy(key, e->key, e->key_len);
		key[e->key_len] = 0;
		cJSON_AddItemToObject(raw, key, v);
	}
	cJSON_AddItemToObject(c, "metadata", raw);
	return c;
}

static cJSON *u64_array(const uint64_t *v, int n)
{
	cJSON *a = cJSON_CreateArray();
	for (int i = 0; a && i < n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateNumber((double)v[i]));
	return a;
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

static int write_manifest(struct pk_ctx *x, const char *dir, const char *tokenizer_xxh3,
	struct m2w_pack_result *r, struct m2w_diag *d)
{
	cJSON *j = cJSON_CreateObject(), *a, *l;
	char hex[17];

	if (!j)
		return m2w_err(d, M2W_NO_OFFSET, "out of memory");
	cJSON_AddStringToObject(j, "format", "m2w-pack");
	cJSON_AddNumberToObject(j, "version", 1);
	cJSON_AddStringToObject(j, "source", base_name(x->input));
	cJSON_AddStringToObject(j, "source_format", x->is_gguf ? "gguf" : "weights.json");
	cJSON_AddNumberToObject(j, "alignment", M2W_PACK_ALIGN);
	cJSON_AddNumberToObject(j, "max_binding", (double)x->o->max_binding);
	cJSON_AddStringToObject(j, "float", x->o->fl == M2W_PACK_F16 ? "f16"
		: x->o->fl == M2W_PACK_F32 ? "f32" : "keep");
	cJSON_AddStringToObject(j, "requant", x->o->requant_q8_0 ? "q8_0" : "none");
	l = cJSON_AddObjectToObject(j, "layouts");
	a = cJSON_AddObjectToObject(l, "q8_0");
	cJSON_AddNumberToObject(a, "block", 32);
	cJSON_AddNumberToObject(a, "words", M2W_PACK_Q8_0_WORDS);
	cJSON_AddStringToObject(a, "doc",
		"each ggml block of 32 weights is 9 little-endian u32: word 0 = scale d as f32 bits; "
		"words 1..8 = the 32 int8 quants, quant e in byte e%4 (bits 8*(e%4)..+7) of word "
		"1+e/4, sign-extended; weight e = d * quant e. A row of K weights is K/32 "
		"consecutive blocks; rows follow each other.");
	a = cJSON_AddObjectToObject(l, "q4_0");
	cJSON_AddNumberToObject(a, "block", 32);
	cJSON_AddNumberToObject(a, "words", M2W_PACK_Q4_0_WORDS);
	cJSON_AddStringToObject(a, "doc",
		"each ggml block of 32 weights is 5 little-endian u32: word 0 = scale d as f32 bits; "
		"words 1..4 = ggml's 16 bytes of nibbles, byte j in byte j%4 of word 1+j/4; weight "
		"e < 16 is bits 8*(e%4)..+3 of word 1+e/4, weight e >= 16 is bits 8*(e%4)+4..+7 of "
		"word 1+(e-16)/4 (the high nibble of byte e-16); weight e = d * (nibble - 8). A row "
		"of K weights is K/32 consecutive blocks; rows follow each other.");
	a = cJSON_AddObjectToObject(l, "float");
	cJSON_AddStringToObject(a, "doc",
		"f32 / f16 / integers: little-endian elements in row-major order of shape");
	if (x->is_gguf)
		cJSON_AddItemToObject(j, "config", config_json(x));
	if (tokenizer_xxh3) {
		/* its hash, so `m2w-pack --verify` finds an old tokenizer.json
		 * beside a newer shards.json (a build killed between the two) */
		cJSON_AddStringToObject(j, "tokenizer", "tokenizer.json");
		cJSON_AddStringToObject(j, "tokenizer_xxh3", tokenizer_xxh3);
	}

	a = cJSON_AddArrayToObject(j, "shards");
	for (size_t s = 0; s < x->ns; s++) {
		cJSON *e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "name", x->s[s].name);
		if (x->s[s].layer >= 0)
			cJSON_AddNumberToObject(e, "layer", (double)x->s[s].layer);
		cJSON_AddStringToObject(e, "file", x->s[s].file);
		cJSON_AddNumberToObject(e, "offset", (double)x->s[s].offset);
		cJSON_AddNumberToObject(e, "bytes", (double)x->s[s].bytes);
		m2w_xxh3_hex(x->s[s].hash, hex);
		cJSON_AddStringToObject(e, "xxh3", hex);
		cJSON_AddItemToArray(a, e);
	}
	a = cJSON_AddArrayToObject(j, "tensors");
	for (size_t i = 0; i < x->n; i++) {
		const struct pk_tensor *t = &x->t[i];
		cJSON *e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "name", t->name);
		if (t->alias >= 0) {
			cJSON_AddStringToObject(e, "alias", x->t[t->alias].name);
			if (t->tied)
				cJSON_AddBoolToObject(e, "tied", true);
			cJSON_AddItemToArray(a, e);
			r->naliases++;
			continue;
		}
		r->ntensors++;
		cJSON_AddNumberToObject(e, "shard", (double)t->shard);
		cJSON_AddNumberToObject(e, "offset", (double)t->offset);
		cJSON_AddNumberToObject(e, "bytes", (double)t->pbytes);
		cJSON_AddItemToObject(e, "shape", u64_array(t->shape, t->ndim));
		cJSON_AddStringToObject(e, "dtype", packed_name(t));
		cJSON_AddStringToObject(e, "source_dtype", t->src_dtype);
		if (t->requant)
			cJSON_AddBoolToObject(e, "requantized", true);
		if (t->nchunks > 1) {
			cJSON *cs = cJSON_AddArrayToObject(e, "chunks");
			for (uint64_t c = 0; c < t->nchunks; c++) {
				uint64_t r0 = c * t->chunk_rows;
				uint64_t nr = t->nrows - r0 < t->chunk_rows ? t->nrows - r0 : t->chunk_rows;
				cJSON *ce = cJSON_CreateObject();
				cJSON_AddNumberToObject(ce, "offset",
					(double)(t->offset + c * align_up(t->chunk_rows * t->prow)));
				cJSON_AddNumberToObject(ce, "bytes", (double)(nr * t->prow));
				cJSON_AddNumberToObject(ce, "row", (double)r0);
				cJSON_AddNumberToObject(ce, "rows", (double)nr);
				cJSON_AddItemToArray(cs, ce);
			}
		}
		if (t->f16_overflow)
			cJSON_AddNumberToObject(e, "f16_overflow", (double)t->f16_overflow);
		cJSON_AddItemToArray(a, e);
	}

	char *text = cJSON_Print(j);
	cJSON_Delete(j);
	char *path = join(dir, "shards.json");
	if (!text || !path) {
		free(text);
		free(path);
		return m2w_err(d, M2W_NO_OFFSET, "out of memory");
	}
	size_t n = strlen(text);
	text[n] = '\n'; /* replaces the NUL: written with its length */
	bool changed;
	int rc = m2w_write_if_changed(path, text, n + 1, &changed, d);
	if (rc == 0)
		r->nchanged += changed;
	free(text);
	free(path);
	return rc;
}

/* ---- entry points ---- */

/* mkdir -p: the output directory and missing parents. */
static int mkdirs(const char *dir)
{
	char *p = strdup(dir);
	int rc = 0;

	if (!p)
		return -1;
	for (char *q = p + 1; rc == 0; q++) {
		bool end = *q == 0;
		if (*q != '/' && !end)
			continue;
		*q = 0;
		if (mkdir(p, 0777) < 0 && errno != EEXIST)
			rc = -1;
		if (end)
			break;
		*q = '/';
	}
	free(p);
	return rc;
}

static void ctx_free(struct pk_ctx *x)
{
	for (size_t i = 0; i < x->n; i++)
		free(x->t[i].name);
	free(x->t);
	for (size_t i = 0; i < x->ns; i++) {
		free(x->s[i].name);
		free(x->s[i].file);
	}
	free(x->s);
	free(x->fbuf);
	free(x->obuf);
	free(x->ibuf);
	if (x->data_fd >= 0)
		close(x->data_fd);
	if (x->is_gguf)
		m2w_gguf_free(&x->g);
	cJSON_Delete(x->wj);
	m2w_file_unmap(&x->blob);
	m2w_file_unmap(&x->in);
}

int m2w_pack(const char *input, const char *dir, const struct m2w_pack_opts *o,
	struct m2w_pack_result *r, struct m2w_diag *d)
{
	struct pk_ctx x;
	int rc = -1;
	bool tok = false;
	char tok_hash[17] = "";

	memset(r, 0, sizeof *r);
	memset(&x, 0, sizeof x);
	x.data_fd = -1;
	x.o = o;
	x.input = input;
	if (o->max_binding < M2W_PACK_ALIGN)
		return m2w_err(d, M2W_NO_OFFSET, "--max-binding %llu is below %u",
			(unsigned long long)o->max_binding, M2W_PACK_ALIGN);
	r->deps = calloc(2, sizeof *r->deps);
	if (!r->deps || !(r->deps[0] = strdup(input)))
		return m2w_err(d, M2W_NO_OFFSET, "out of memory");
	r->ndeps = 1;
	if (m2w_file_map(&x.in, input, d) < 0)
		return -1;
	x.fbuf = malloc(STEP * sizeof *x.fbuf);
	x.obuf = malloc(OUT_BYTES);
	x.ibuf = malloc(IN_BUF);
	if (!x.fbuf || !x.obuf || !x.ibuf) {
		m2w_err(d, M2W_NO_OFFSET, "out of memory");
		goto out;
	}
	x.is_gguf = x.in.size >= 4 && !memcmp(x.in.data, "GGUF", 4);
	if ((x.is_gguf ? load_gguf(&x, d) : load_weights_json(&x, r, d)) < 0)
		goto out;
	const char *data_path = x.is_gguf ? input : r->deps[r->ndeps - 1];
	if ((x.data_fd = open(data_path, O_RDONLY | O_CLOEXEC)) < 0) {
		m2w_err(d, M2W_NO_OFFSET, "cannot open %s: %s", data_path, strerror(errno));
		goto out;
	}
	posix_fadvise(x.data_fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	find_aliases(&x);
	if (add_tied(&x, d) < 0 || plan(&x, d) < 0)
		goto out;
	struct stat st;
	if (stat(dir, &st) < 0 && (errno != ENOENT || mkdirs(dir) < 0 || stat(dir, &st) < 0)) {
		m2w_err(d, M2W_NO_OFFSET, "output directory %s: %s", dir, strerror(errno));
		goto out;
	}
	if (!S_ISDIR(st.st_mode)) {
		m2w_err(d, M2W_NO_OFFSET, "output %s is not a directory", dir);
		goto out;
	}
	if (write_shards(&x, dir, r, d) < 0)
		goto out;
	if (x.is_gguf && m2w_gguf_find(&x.g, "tokenizer.ggml.tokens")) {
		char *tp = join(dir, "tokenizer.json");
		bool changed;
		if (!tp) {
			m2w_err(d, M2W_NO_OFFSET, "out of memory");
			goto out;
		}
		int t = m2w_tokenizer_write(&x.g, tp, &changed, d);
		struct m2w_file tf;
		if (t >= 0 && (t = m2w_file_map(&tf, tp, d)) >= 0) {
			m2w_xxh3_hex(m2w_xxh3(tf.data ? tf.data : (const uint8_t *)"", tf.size), tok_hash);
			m2w_file_unmap(&tf);
		}
		free(tp);
		if (t < 0)
			goto out;
		r->nchanged += changed;
		tok = r->tokenizer = true;
	}
	if (write_manifest(&x, dir, tok ? tok_hash : NULL, r, d) < 0)
		goto out;
	r->nshards = x.ns;
	rc = 0;
out:
	ctx_free(&x);
	return rc;
}

void m2w_pack_result_free(struct m2w_pack_result *r)
{
	for (size_t i = 0; i < r->ndeps; i++)
		free(r->deps[i]);
	free(r->deps);
	memset(r, 0, sizeof *r);
}
