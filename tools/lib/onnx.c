/* onnx: protobuf wire format and the ONNX messages, read from a mapping.
 *
 * Wire format.  A message is a run of fields, each a varint tag
 * (field number << 3 | wire type) and then, by wire type: 0 a varint
 * (1-10 bytes, 7 bits each, least significant group first), 1 eight
 * little-endian bytes, 2 a varint length and that many bytes (strings,
 * bytes, nested messages, packed repeated scalars), 5 four bytes.  Types 3
 * and 4 (groups) are not used by ONNX and are rejected, as are 6 and 7.
 * Fields come in any order and may repeat: a scalar keeps the last value, a
 * repeated scalar may be packed (one wire-type-2 field of concatenated
 * values), unpacked (one field per value) or both.  Unknown fields are
 * skipped.  Nothing in the file is trusted: every length is checked against
 * the enclosing message, every count against the bytes holding it, nesting
 * against M2W_MAX_NESTING.
 *
 * ONNX (onnx.proto): ModelProto {1 ir_version, 2 producer_name,
 * 3 producer_version, 4 domain, 5 model_version, 6 doc_string, 7 graph,
 * 8 opset_import, 14 metadata_props, 20 training_info, 25 functions}.
 * GraphProto {1 node, 2 name, 5 initializer, 10 doc_string, 11 input,
 * 12 output, 13 value_info, 15 sparse_initializer, 16 metadata_props}.
 * NodeProto {1 input, 2 output, 3 name, 4 op_type, 5 attribute,
 * 6 doc_string, 7 domain, 8 overload, 9 metadata_props}.  AttributeProto
 * {1 name, 2 f, 3 i, 4 s, 5 t, 6 g, 7 floats, 8 ints, 9 strings,
 * 10 tensors, 11 graphs, 13 doc_string, 14 tp, 15 type_protos, 20 type,
 * 21 ref_attr_name, 22 sparse_tensor, 23 sparse_tensors}; g and graphs hold
 * the bodies of If / Loop / Scan, parsed recursively.  TensorProto {1 dims,
 * 2 data_type, 3 segment, 4 float_data, 5 int32_data, 6 string_data,
 * 7 int64_data, 8 name, 9 raw_data, 10 double_data, 11 uint64_data,
 * 12 doc_string, 13 external_data, 14 data_location}.  raw_data is the
 * little-endian element bytes (4-bit types two to a byte, low nibble
 * first); the typed fields hold one value per entry, int32_data also
 * carrying 8/16-bit and float16 bit patterns (one byte of two 4-bit
 * values).  External data: keys location (relative to the model's folder),
 * offset, length.
 */
#define _XOPEN_SOURCE 700 /* realpath, strdup */

#include "onnx.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef M2W_ONNX_MAX_RANK
#define M2W_ONNX_MAX_RANK 64 /* dims of one tensor or shape */
#endif
/* The tree may take at most this many bytes per file byte, and never more
 * than the file's size plus M2W_ONNX_TREE_CAP, plus the floor: a file of
 * empty messages cannot make us allocate gigabytes, and whatever the file,
 * the tree stays within its size + a fixed bound (72 MiB by default: a graph
 * of some 150,000 nodes; weights are views into the file, not copies). */
#ifndef M2W_ONNX_TREE_RATIO
#define M2W_ONNX_TREE_RATIO 32
#endif
#ifndef M2W_ONNX_TREE_CAP
#define M2W_ONNX_TREE_CAP ((size_t)64 << 20)
#endif
#ifndef M2W_ONNX_TREE_FLOOR
#define M2W_ONNX_TREE_FLOOR (8u << 20)
#endif

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_I32 = 5 };

/* One field as read by pb_next. */
struct pbf {
	uint32_t num;
	uint8_t wt;
	uint64_t v;    /* VARINT, I64, I32 */
	size_t tag;    /* offset of the tag */
	size_t off;    /* payload offset (LEN, I64, I32) */
	size_t len;    /* payload length */
};

struct arena_block {
	struct arena_block *next;
	size_t used, cap;
	max_align_t data[];
};

struct m2w_onnx_arena {
	struct arena_block *head;
	size_t total, budget;
};

struct ctx {
	const uint8_t *base;
	size_t size;
	struct m2w_diag *d;
	struct m2w_onnx_arena *arena;
	int depth;
};

/* ---- strings ---- */

bool m2w_pbstr_eq(struct m2w_pbstr s, const char *z)
{
	size_t n = strlen(z);
	return s.n == n && (n == 0 || memcmp(s.p, z, n) == 0);
}

char *m2w_pbstr_dup(struct m2w_pbstr s)
{
	char *r = malloc(s.n + 1);
	if (!r)
		return NULL;
	if (s.n)
		memcpy(r, s.p, s.n);
	r[s.n] = 0;
	return r;
}

/* ---- dtypes ---- */

static const struct {
	const char *name;
	unsigned bits;
	enum m2w_dtype m2w;
} dtypes[M2W_ONNX_DT__COUNT] = {
	[M2W_ONNX_FLOAT] = {"f32", 32, M2W_DT_F32},
	[M2W_ONNX_UINT8] = {"u8", 8, M2W_DT_U8},
	[M2W_ONNX_INT8] = {"i8", 8, M2W_DT_I8},
	[M2W_ONNX_UINT16] = {"u16", 16, M2W_DT_U16},
	[M2W_ONNX_INT16] = {"i16", 16, M2W_DT_I16},
	[M2W_ONNX_INT32] = {"i32", 32, M2W_DT_I32},
	[M2W_ONNX_INT64] = {"i64", 64, M2W_DT_I64},
	[M2W_ONNX_STRING] = {"string", 0, M2W_DT_STRING},
	[M2W_ONNX_BOOL] = {"bool", 8, M2W_DT_BOOL},
	[M2W_ONNX_FLOAT16] = {"f16", 16, M2W_DT_F16},
	[M2W_ONNX_DOUBLE] = {"f64", 64, M2W_DT_F64},
	[M2W_ONNX_UINT32] = {"u32", 32, M2W_DT_U32},
	[M2W_ONNX_UINT64] = {"u64", 64, M2W_DT_U64},
	[M2W_ONNX_COMPLEX64] = {"c64", 64, M2W_DT_C64},
	[M2W_ONNX_COMPLEX128] = {"c128", 128, M2W_DT_C128},
	[M2W_ONNX_BFLOAT16] = {"bf16", 16, M2W_DT_BF16},
	[M2W_ONNX_FLOAT8E4M3FN] = {"f8e4m3fn", 8, M2W_DT_UNKNOWN},
	[M2W_ONNX_FLOAT8E4M3FNUZ] = {"f8e4m3fnuz", 8, M2W_DT_UNKNOWN},
	[M2W_ONNX_FLOAT8E5M2] = {"f8e5m2", 8, M2W_DT_UNKNOWN},
	[M2W_ONNX_FLOAT8E5M2FNUZ] = {"f8e5m2fnuz", 8, M2W_DT_UNKNOWN},
	[M2W_ONNX_UINT4] = {"u4", 4, M2W_DT_U4},
	[M2W_ONNX_INT4] = {"i4", 4, M2W_DT_I4},
	[M2W_ONNX_FLOAT4E2M1] = {"f4e2m1", 4, M2W_DT_UNKNOWN},
	[M2W_ONNX_FLOAT8E8M0] = {"f8e8m0", 8, M2W_DT_UNKNOWN},
	[M2W_ONNX_UINT2] = {"u2", 2, M2W_DT_UNKNOWN},
	[M2W_ONNX_INT2] = {"i2", 2, M2W_DT_UNKNOWN},
};

static bool dt_known(int32_t dt)
{
	return dt > 0 && dt < M2W_ONNX_DT__COUNT;
}

const char *m2w_onnx_dtype_name(int32_t dt)
{
	return dt_known(dt) ? dtypes[dt].name : NULL;
}

unsigned m2w_onnx_dtype_bits(int32_t dt)
{
	return dt_known(dt) ? dtypes[dt].bits : 0;
}

enum m2w_dtype m2w_onnx_dtype_to_m2w(int32_t dt)
{
	return dt_known(dt) ? dtypes[dt].m2w : M2W_DT_UNKNOWN;
}

bool m2w_onnx_dtype_bytes(int32_t dt, uint64_t count, uint64_t *bytes)
{
	unsigned bits = m2w_onnx_dtype_bits(dt);
	if (bits == 0)
		return false;
	if (bits >= 8)
		return m2w_mul_u64(count, bits / 8, bytes);
	/* sub-byte types are packed, the last byte padded */
	uint64_t per = 8 / bits;
	*bytes = count / per + (count % per != 0);
	return true;
}

/* ---- arena: the whole tree, freed at once ---- */

static max_align_t arena_empty; /* what a zero-length array points at */

static void *arena_alloc(struct ctx *c, size_t n, size_t size, size_t at)
{
	struct m2w_onnx_arena *a = c->arena;
	const size_t align = sizeof(max_align_t);
	if (n == 0)
		return &arena_empty;
	if (n > SIZE_MAX / size || n * size > SIZE_MAX - align) {
		m2w_err(c->d, at, "%zu elements of %zu bytes overflow size_t", n, size);
		return NULL;
	}
	size_t bytes = (n * size + align - 1) / align * align;
	if (bytes > a->budget - a->total) {
		m2w_err(c->d, at, "model structure needs more than %zu bytes of memory, limit %zu (%d per file byte)",
			a->total + bytes, a->budget, M2W_ONNX_TREE_RATIO);
		return NULL;
	}
	struct arena_block *b = a->head;
	if (!b || b->cap - b->used < bytes) {
		size_t cap = bytes > (64u << 10) ? bytes : (64u << 10);
		b = malloc(sizeof *b + cap);
		if (!b) {
			m2w_err(c->d, at, "out of memory allocating %zu bytes", cap);
			return NULL;
		}
		b->used = 0;
		b->cap = cap;
		b->next = a->head;
		a->head = b;
	}
	void *p = (char *)b->data + b->used;
	b->used += bytes;
	a->total += bytes;
	memset(p, 0, bytes);
	return p;
}

#define NEW_ARRAY(ptr, n, at) ((ptr) = arena_alloc(c, (n), sizeof *(ptr), (at)))

static void arena_free(struct m2w_onnx_arena *a)
{
	if (!a)
		return;
	for (struct arena_block *b = a->head, *nx; b; b = nx) {
		nx = b->next;
		free(b);
	}
	free(a);
}

/* ---- wire format ---- */

static int rd_varint(struct ctx *c, size_t *off, size_t end, uint64_t *v)
{
	size_t at = *off;
	uint64_t r = 0;
	for (unsigned i = 0;; i++) {
		if (*off >= end)
			return m2w_err(c->d, at, "truncated varint, %u bytes read, end of message at 0x%zx", i, end);
		uint8_t b = c->base[(*off)++];
		/* the 10th byte holds bit 63 only */
		if (i == 9 && b > 1)
			return m2w_err(c->d, at, "varint overflows 64 bits, 10th byte 0x%02x vs limit 0x01", b);
		r |= (uint64_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80))
			break;
	}
	*v = r;
	return 0;
}

/* 1: a field in *f; 0: end of the message; -1: error. */
static int pb_next(struct ctx *c, size_t *off, size_t end, struct pbf *f)
{
	if (*off >= end)
		return 0;
	f->tag = *off;
	uint64_t tag, len;
	if (rd_varint(c, off, end, &tag))
		return -1;
	if (tag > UINT32_MAX || (tag >> 3) == 0)
		return m2w_err(c->d, f->tag, "bad field tag 0x%llx, field number must be 1 to 2^29-1",
			(unsigned long long)tag);
	f->num = (uint32_t)(tag >> 3);
	f->wt = tag & 7;
	f->v = 0;
	f->len = 0;
	switch (f->wt) {
	case WT_VARINT:
		f->off = *off;
		return rd_varint(c, off, end, &f->v) ? -1 : 1;
	case WT_I64:
	case WT_I32:
		f->len = f->wt == WT_I64 ? 8 : 4;
		if (end - *off < f->len)
			return m2w_err(c->d, *off, "field %u: truncated %zu-byte value, %zu bytes left",
				f->num, f->len, end - *off);
		f->off = *off;
		f->v = f->len == 8 ? m2w_le64(c->base + *off) : m2w_le32(c->base + *off);
		*off += f->len;
		return 1;
	case WT_LEN:
		if (rd_varint(c, off, end, &len))
			return -1;
		if (len > end - *off)
			return m2w_err(c->d, f->tag, "field %u length %llu runs past the end of its message, %zu bytes left",
				f->num, (unsigned long long)len, end - *off);
		f->off = *off;
		f->len = (size_t)len;
		*off += f->len;
		return 1;
	default:
		return m2w_err(c->d, f->tag, "field %u has wire type %u, ONNX uses only 0, 1, 2 and 5",
			f->num, f->wt);
	}
}

static int want(struct ctx *c, const struct pbf *f, int wt, const char *what)
{
	if (f->wt == wt)
		return 0;
	return m2w_err(c->d, f->tag, "%s (field %u) has wire type %u, expected %d", what, f->num, f->wt, wt);
}

static int get_str(struct ctx *c, const struct pbf *f, const char *what, size_t limit, struct m2w_pbstr *s)
{
	if (want(c, f, WT_LEN, what))
		return -1;
	if (f->len > limit)
		return m2w_err(c->d, f->off, "%s is %zu bytes, limit %zu", what, f->len, limit);
	s->p = (const char *)c->base + f->off;
	s->n = f->len;
	return 0;
}

static int get_name(struct ctx *c, const struct pbf *f, const char *what, struct m2w_pbstr *s)
{
	return get_str(c, f, what, M2W_MAX_NAME, s);
}

static int get_text(struct ctx *c, const struct pbf *f, const char *what, struct m2w_pbstr *s)
{
	return get_str(c, f, what, SIZE_MAX, s);
}

static int get_u64(struct ctx *c, const struct pbf *f, const char *what, uint64_t *v)
{
	if (want(c, f, WT_VARINT, what))
		return -1;
	*v = f->v;
	return 0;
}

static int get_i64(struct ctx *c, const struct pbf *f, const char *what, int64_t *v)
{
	uint64_t u;
	if (get_u64(c, f, what, &u))
		return -1;
	*v = (int64_t)u;
	return 0;
}

/* int32 and enums travel as sign-extended 64-bit varints */
static int get_i32(struct ctx *c, const struct pbf *f, const char *what, int32_t *v)
{
	uint64_t u;
	if (get_u64(c, f, what, &u))
		return -1;
	*v = (int32_t)(uint32_t)u;
	return 0;
}

static int enter(struct ctx *c, size_t at, const char *what)
{
	if (++c->depth > M2W_MAX_NESTING)
		return m2w_err(c->d, at, "%s nested %d deep, limit %d", what, c->depth, M2W_MAX_NESTING);
	return 0;
}

/* Counting pass: how many entries each repeated field will need, so each
 * array is allocated once at its exact size. */
enum { K_SKIP, K_LEN, K_VARINTS, K_FIX32S, K_FIX64S };
#define NKIND 32

static int pb_count(struct ctx *c, size_t off, size_t end, const uint8_t kind[NKIND], size_t cnt[NKIND])
{
	struct pbf f;
	int r;
	memset(cnt, 0, NKIND * sizeof *cnt);
	while ((r = pb_next(c, &off, end, &f)) == 1) {
		if (f.num >= NKIND)
			continue;
		switch (kind[f.num]) {
		case K_LEN:
			cnt[f.num] += f.wt == WT_LEN;
			break;
		case K_VARINTS:
			if (f.wt == WT_VARINT) {
				cnt[f.num]++;
			} else if (f.wt == WT_LEN) {
				const uint8_t *p = c->base + f.off;
				if (f.len && (p[f.len - 1] & 0x80))
					return m2w_err(c->d, f.off + f.len - 1, "field %u: packed varints end in a truncated varint",
						f.num);
				for (size_t i = 0; i < f.len; i++)
					cnt[f.num] += !(p[i] & 0x80);
			}
			break;
		case K_FIX32S:
		case K_FIX64S: {
			size_t w = kind[f.num] == K_FIX32S ? 4 : 8;
			if (f.wt == (w == 4 ? WT_I32 : WT_I64)) {
				cnt[f.num]++;
			} else if (f.wt == WT_LEN) {
				if (f.len % w)
					return m2w_err(c->d, f.off, "field %u: packed %zu-byte values, length %zu not a multiple",
						f.num, w, f.len);
				cnt[f.num] += f.len / w;
			}
			break;
		}
		default:
			break;
		}
	}
	return r;
}

/* Appends the values of a repeated varint field (packed or not). */
static int take_varints(struct ctx *c, const struct pbf *f, const char *what, int64_t *dst, size_t *i, size_t cap)
{
	if (f->wt == WT_VARINT) {
		if (*i < cap)
			dst[(*i)++] = (int64_t)f->v;
		return 0;
	}
	if (want(c, f, WT_LEN, what))
		return -1;
	size_t off = f->off, end = f->off + f->len;
	while (off < end) {
		uint64_t v;
		if (rd_varint(c, &off, end, &v))
			return -1;
		if (*i < cap)
			dst[(*i)++] = (int64_t)v;
	}
	return 0;
}

static int take_floats(struct ctx *c, const struct pbf *f, const char *what, float *dst, size_t *i, size_t cap)
{
	uint32_t u;
	if (f->wt == WT_I32) {
		if (*i < cap) {
			u = (uint32_t)f->v;
			memcpy(&dst[(*i)++], &u, 4);
		}
		return 0;
	}
	if (want(c, f, WT_LEN, what))
		return -1;
	for (size_t k = 0; k + 4 <= f->len && *i < cap; k += 4) {
		u = m2w_le32(c->base + f->off + k);
		memcpy(&dst[(*i)++], &u, 4);
	}
	return 0;
}

/* ---- messages ---- */

static int parse_graph(struct ctx *c, size_t off, size_t end, struct m2w_onnx_graph *g);
static int parse_type(struct ctx *c, size_t off, size_t end, struct m2w_onnx_type *t);

static int parse_kv(struct ctx *c, size_t off, size_t end, struct m2w_kv *kv)
{
	struct pbf f;
	int r;
	while ((r = pb_next(c, &off, end, &f)) == 1) {
		if (f.num == 1 && get_name(c, &f, "StringStringEntryProto.key", &kv->key))
			return -1;
		if (f.num == 2 && get_text(c, &f, "StringStringEntryProto.value", &kv->value))
			return -1;
	}
	return r;
}

/* Decimal as written by onnx's external data helpers. */
static bool parse_decimal(struct m2w_pbstr s, uint64_t *v)
{
	uint64_t r = 0;
	if (s.n == 0)
		return false;
	for (size_t i = 0; i < s.n; i++) {
		unsigned dg = (unsigned char)s.p[i] - '0';
		if (dg > 9 || r > (UINT64_MAX - dg) / 10)
			return false;
		r = r * 10 + dg;
	}
	*v = r;
	return true;
}

/* Relative, no NUL, never climbing above the model's folder. */
static bool location_ok(struct m2w_pbstr s)
{
	if (s.n == 0 || memchr(s.p, 0, s.n) || s.p[0] == '/' || s.p[0] == '\\')
		return false;
	if (s.n >= 2 && s.p[1] == ':') /* C:\... */
		return false;
	long depth = 0;
	size_t i = 0;
	while (i < s.n) {
		size_t j = i;
		while (j < s.n && s.p[j] != '/' && s.p[j] != '\\')
			j++;
		size_t len = j - i;
		if (len == 2 && s.p[i] == '.' && s.p[i + 1] == '.') {
			if (--depth < 0)
				return false;
		} else if (len > 0 && !(len == 1 && s.p[i] == '.')) {
			depth++;
		}
		i = j + 1;
	}
	return true;
}

/* Checks a parsed TensorProto and works out where its data is. */
static int finish_tensor(struct ctx *c, struct m2w_onnx_tensor *t, const size_t cnt[NKIND], int32_t location,
	bool has_raw, size_t raw_len)
{
	static const int typed[] = {4, 5, 6, 7, 10, 11};
	const int nm = (int)(t->name.n > 200 ? 200 : t->name.n);
	const char *name = t->name.p ? t->name.p : "";

	t->count = 1;
	for (size_t i = 0; i < t->ndim; i++) {
		if (t->dims[i] < 0)
			return m2w_err(c->d, t->off, "tensor '%.*s' dim %zu is %lld, must be >= 0", nm, name, i,
				(long long)t->dims[i]);
		if (!m2w_mul_u64(t->count, (uint64_t)t->dims[i], &t->count))
			return m2w_err(c->d, t->off, "tensor '%.*s': element count overflows 64 bits", nm, name);
	}

	int nfields = 0;
	for (size_t k = 0; k < sizeof typed / sizeof typed[0]; k++) {
		if (cnt[typed[k]]) {
			nfields++;
			t->typed_field = typed[k];
			t->typed_count = cnt[typed[k]];
		}
	}
	if (nfields > 1)
		return m2w_err(c->d, t->off, "tensor '%.*s' has data in %d typed fields, at most 1", nm, name, nfields);
	if (location == 1) {
		if (has_raw || nfields)
			return m2w_err(c->d, t->off, "tensor '%.*s' is external but also holds data in the file", nm, name);
		t->store = M2W_ONNX_STORE_EXTERNAL;
	} else if (location != 0) {
		return m2w_err(c->d, t->off, "tensor '%.*s' data_location is %d, expected 0 or 1", nm, name, location);
	} else if (has_raw) {
		if (nfields)
			return m2w_err(c->d, t->off, "tensor '%.*s' has both raw_data and typed field %d", nm, name,
				t->typed_field);
		t->store = M2W_ONNX_STORE_RAW;
	} else if (nfields) {
		t->store = M2W_ONNX_STORE_TYPED;
	} else {
		t->store = M2W_ONNX_STORE_NONE;
	}
	if (t->store != M2W_ONNX_STORE_TYPED)
		t->typed_field = 0, t->typed_count = 0;

	if (t->data_type == M2W_ONNX_STRING) {
		if (t->store == M2W_ONNX_STORE_RAW || t->store == M2W_ONNX_STORE_EXTERNAL)
			return m2w_err(c->d, t->off, "string tensor '%.*s' must use string_data", nm, name);
		if (t->store == M2W_ONNX_STORE_TYPED && t->typed_field != 6)
			return m2w_err(c->d, t->off, "string tensor '%.*s' holds data in field %d", nm, name, t->typed_field);
		if (t->typed_count != t->count)
			return m2w_err(c->d, t->off, "string tensor '%.*s' has %llu strings for %llu elements", nm, name,
				(unsigned long long)t->typed_count, (unsigned long long)t->count);
		return 0; /* nbytes summed while parsing */
	}
	if (!m2w_onnx_dtype_bytes(t->data_type, t->count, &t->nbytes)) {
		if (t->count == 0 && t->store == M2W_ONNX_STORE_NONE)
			return 0;
		return m2w_err(c->d, t->off, "tensor '%.*s' has data_type %d, not a known fixed-size type", nm, name,
			t->data_type);
	}

	switch (t->store) {
	case M2W_ONNX_STORE_NONE:
		if (t->count)
			return m2w_err(c->d, t->off, "tensor '%.*s' has %llu elements and no data", nm, name,
				(unsigned long long)t->count);
		break;
	case M2W_ONNX_STORE_RAW:
		if (raw_len != t->nbytes)
			return m2w_err(c->d, t->data_off, "tensor '%.*s' raw_data is %zu bytes, shape and type need %llu",
				nm, name, raw_len, (unsigned long long)t->nbytes);
		break;
	case M2W_ONNX_STORE_TYPED: {
		int need = 0;
		uint64_t entries = t->count;
		unsigned bits = m2w_onnx_dtype_bits(t->data_type);
		switch (t->data_type) {
		case M2W_ONNX_FLOAT: need = 4; break;
		case M2W_ONNX_COMPLEX64: need = 4; entries = t->count * 2; break; /* no overflow: nbytes fit */
		case M2W_ONNX_DOUBLE: need = 10; break;
		case M2W_ONNX_COMPLEX128: need = 10; entries = t->count * 2; break;
		case M2W_ONNX_INT64: need = 7; break;
		case M2W_ONNX_UINT32: case M2W_ONNX_UINT64: need = 11; break;
		default:
			need = 5;
			if (bits < 8) /* one byte of packed values per entry */
				entries = t->nbytes;
			break;
		}
		if (t->typed_field != need)
			return m2w_err(c->d, t->data_off, "tensor '%.*s' of type %s holds data in field %d, expected %d",
				nm, name, m2w_onnx_dtype_name(t->data_type), t->typed_field, need);
		if (t->typed_count != entries)
			return m2w_err(c->d, t->data_off, "tensor '%.*s' has %llu values, shape and type need %llu", nm,
				name, (unsigned long long)t->typed_count, (unsigned long long)entries);
		break;
	}
	case M2W_ONNX_STORE_EXTERNAL: {
		bool have_loc = false;
		for (size_t i = 0; i < t->nexternal; i++) {
			struct m2w_kv *kv = &t->external[i];
			if (m2w_pbstr_eq(kv->key, "location")) {
				t->ext_location = kv->value;
				have_loc = true;
			} else if (m2w_pbstr_eq(kv->key, "offset")) {
				if (!parse_decimal(kv->value, &t->ext_offset))
					return m2w_err(c->d, t->off, "tensor '%.*s' external offset '%.*s' is not a decimal number",
						nm, name, (int)(kv->value.n > 40 ? 40 : kv->value.n), kv->value.p);
			} else if (m2w_pbstr_eq(kv->key, "length")) {
				if (!parse_decimal(kv->value, &t->ext_length))
					return m2w_err(c->d, t->off, "tensor '%.*s' external length '%.*s' is not a decimal number",
						nm, name, (int)(kv->value.n > 40 ? 40 : kv->value.n), kv->value.p);
				t->ext_has_length = true;
			}
		}
		if (!have_loc)
			return m2w_err(c->d, t->off, "external tensor '%.*s' has no location", nm, name);
		if (!location_ok(t->ext_location))
			return m2w_err(c->d, t->off, "tensor '%.*s' external location '%.*s' is absolute or leaves the model's folder",
				nm, name, (int)(t->ext_location.n > 200 ? 200 : t->ext_location.n), t->ext_location.p);
		if (t->ext_has_length && t->ext_length != t->nbytes)
			return m2w_err(c->d, t->off, "tensor '%.*s' external length is %llu, shape and type need %llu", nm,
				name, (unsigned long long)t->ext_length, (unsigned long long)t->nbytes);
		uint64_t e;
		if (!m2w_add_u64(t->ext_offset, t->nbytes, &e))
			return m2w_err(c->d, t->off, "tensor '%.*s' external offset + length overflows", nm, name);
		break;
	}
	}
	return 0;
}

static int parse_tensor(struct ctx *c, size_t off, size_t end, struct m2w_onnx_tensor *t)
{
	static const uint8_t kind[NKIND] = {[1] = K_VARINTS, [4] = K_FIX32S, [5] = K_VARINTS, [6] = K_LEN,
		[7] = K_VARINTS, [10] = K_FIX64S, [11] = K_VARINTS, [13] = K_LEN};
	size_t cnt[NKIND], ndims = 0, next = 0;
	struct pbf f;
	int r;
	int32_t location = 0;
	bool has_raw = false, have_data_off = false;
	size_t raw_len = 0;

	if (enter(c, off, "TensorProto"))
		return -1;
	t->off = off;
	t->end = end;
	if (pb_count(c, off, end, kind, cnt))
		return -1;
	if (cnt[1] > M2W_ONNX_MAX_RANK)
		return m2w_err(c->d, off, "tensor has %zu dims, limit %d", cnt[1], M2W_ONNX_MAX_RANK);
	if (!NEW_ARRAY(t->dims, cnt[1], off) || !NEW_ARRAY(t->external, cnt[13], off))
		return -1;
	while ((r = pb_next(c, &off, end, &f)) == 1) {
		switch (f.num) {
		case 1:
			if (take_varints(c, &f, "TensorProto.dims", t->dims, &ndims, cnt[1]))
				return -1;
			break;
		case 2:
			if (get_i32(c, &f, "TensorProto.data_type", &t->data_type))
				return -1;
			break;
		case 3:
			if (want(c, &f, WT_LEN, "TensorProto.segment"))
				return -1;
			t->has_segment = true;
			break;
		case 4: case 5: case 6: case 7: case 10: case 11: {
			static const char *const names[] = {[4] = "float_data", [5] = "int32_data", [6] = "string_data",
				[7] = "int64_data", [10] = "double_data", [11] = "uint64_data"};
			int ok = f.wt == WT_LEN || (f.num == 4 && f.wt == WT_I32) || (f.num == 10 && f.wt == WT_I64) ||
				((f.num == 5 || f.num == 7 || f.num == 11) && f.wt == WT_VARINT);
			if (!ok)
				return m2w_err(c->d, f.tag, "TensorProto.%s (field %u) has wire type %u", names[f.num], f.num,
					f.wt);
			if (f.num == 6) {
				if (!m2w_add_u64(t->nbytes, f.len, &t->nbytes))
					return m2w_err(c->d, f.tag, "string tensor size overflows");
			}
			if (!have_data_off)
				t->data_off = f.off, have_data_off = true;
			break;
		}
		case 8:
			if (get_name(c, &f, "TensorProto.name", &t->name))
				return -1;
			break;
		case 9:
			if (want(c, &f, WT_LEN, "TensorProto.raw_data"))
				return -1;
			has_raw = true;
			t->raw = c->base + f.off;
			raw_len = f.len;
			t->data_off = f.off;
			have_data_off = true;
			break;
		case 12:
			if (get_text(c, &f, "TensorProto.doc_string", &t->doc_string))
				return -1;
			break;
		case 13:
			if (want(c, &f, WT_LEN, "TensorProto.external_data") ||
				parse_kv(c, f.off, f.off + f.len, &t->external[next++]))
				return -1;
			break;
		case 14:
			if (get_i32(c, &f, "TensorProto.data_location", &location))
				return -1;
			break;
		default:
			break;
		}
	}
	if (r)
		return -1;
	t->ndim = ndims;
	t->nexternal = next;
	if (finish_tensor(c, t, cnt, location, has_raw, raw_len))
		return -1;
	c->depth--;
	return 0;
}

static int parse_sparse(struct ctx *c, size_t off, size_t end, struct m2w_onnx_sparse *s)
{
	static const uint8_t kind[NKIND] = {[3] = K_VARINTS};
	size_t cnt[NKIND], ndims = 0;
	struct pbf f;
	int r;
	if (enter(c, off, "SparseTensorProto"))
		return -1;
	s->off = off;
	if (pb_count(c, off, end, kind, cnt))
		return -1;
	if (cnt[3] > M2W_ONNX_MAX_RANK)
		return m2w_err(c->d, off, "sparse tensor has %zu dims, limit %d", cnt[3], M2W_ONNX_MAX_RANK);
	if (!NEW_ARRAY(s->dims, cnt[3], off))
		return -1;
	while ((r = pb_next(c, &off, end, &f)) == 1) {
		if (f.num == 1 || f.num == 2) {
			bool *has = f.num == 1 ? &s->has_values : &s->has_indices;
			if (want(c, &f, WT_LEN, f.num == 1 ? "SparseTensorProto.values" : "SparseTensorProto.indices"))
				return -1;
			if (*has)
				return m2w_err(c->d, f.tag, "SparseTensorProto field %u appears twice", f.num);
			*has = true;
			if (parse_tensor(c, f.off, f.off + f.len, f.num == 1 ? &s->values : &s->indices))
				return -1;
		} else if (f.num == 3) {
			if (take_varints(c, &f, "SparseTensorProto.dims", s->dims, &ndims, cnt[3]))
				return -1;
		}
	}
	if (r)
		return -1;
	s->ndim = ndims;
	s->count = 1;
	for (size_t i = 0; i < ndims; i++) {
		if (s->dims[i] < 0 || !m2w_mul_u64(s->count, (uint64_t)s->dims[i], &s->count))
			return m2w_err(c->d, s->off, "sparse tensor dim %zu is %lld, negative or overflowing", i,
				(long long)s->dims[i]);
	}
	c->depth--;
	return 0;
}

static int parse_dim(struct ctx *c, size_t off, size_t end, struct m2w_onnx_dim *dm)
{
	struct pbf f;
	int r;
	while ((r = pb_next(c, &off, end, &f)) == 1) {
		if (f.num == 1) {
			if (get_i64(c, &f, "Dimension.dim_value", &dm->value))
				return -1;
			dm->kind = M2W_ONNX_DIM_VALUE;
		} else if (f.num == 2) {
			if (get_name(c, &f, "Dimension.dim_param", &dm->param))
				return -1;
			dm->kind = M2W_ONNX_DIM_PARAM;
		} else if (f.num == 3) {
			if (get_name(c, &f, "Dimension.denotation", &dm->denotation))
				return -1;
		}
	}
	return r;
}

/* TypeProto.Tensor and TypeProto.SparseTensor: {1 elem_type, 2 shape}. */
static int parse_tensor_type(struct ctx *c, size_t off, size_t end, struct m2w_onnx_type *t)
{
	static const uint8_t kind[NKIND] = {[1] = K_LEN};
	size_t cnt[NKIND], n = 0;
	struct pbf f;
	int r;
	while ((r = pb_next(c, &off, end, &f)) == 1) {
		if (f.num == 1) {
			if (get_i32(c, &f, "TypeProto.Tensor.elem_type", &t->elem_type))
				return -1;
		} else if (f.num == 2) {
			if (want(c, &f, WT_LEN, "TypeProto.Tensor.shape"))
				return -1;
			if (t->has_shape)
				return m2w_err(c->d, f.tag, "TypeProto.Tensor.shape appears twice");
			t->has_shape = true;
			if (enter(c, f.off, "TensorShapeProto") || pb_count(c, f.off, f.off + f.len, kind, cnt))
				return -1;
			if (cnt[1] > M2W_ONNX_MAX_RANK)
				return m2w_err(c->d, f.off, "shape has %zu dims, limit %d", cnt[1], M2W_ONNX_MAX_RANK);
			if (!NEW_ARRAY(t->dims, cnt[1], f.off))
				return -1;
			size_t so = f.off, se = f.off + f.len;
			struct pbf g;
			int rr;
			while ((rr = pb_next(c, &so, se, &g)) == 1) {
				if (g.num != 1)
					continue;
				if (want(c, &g, WT_LEN, "TensorShapeProto.dim") || enter(c, g.off, "Dimension") ||
					parse_dim(c, g.off, g.off + g.len, &t->dims[n++]))
					return -1;
				c->depth--;
			}
			if (rr)
				return -1;
			t->ndim = n;
			c->depth--;
		}
	}
	return r;
}

/* A nested TypeProto field (sequence / optional element, map value). */
static int sub_type(struct ctx *c, const struct pbf *f, const char *what, struct m2w_onnx_type **out)
{
	if (want(c, f, WT_LEN, what))
		return -1;
	if (!*out && !NEW_ARRAY(*out, 1, f->off))
		return -1;
	memset(*out, 0, sizeof **out);
	return parse_type(c, f->off, f->off + f->len, *out);
}

static int parse_type(struct ctx *c, size_t off, size_t end, struct m2w_onnx_type *t)
{
	struct pbf f;
	int r;
	if (enter(c, off, "TypeProto"))
		return -1;
	while ((r = pb_next(c, &off, end, &f)) == 1) {
		size_t so = f.off, se = f.off + f.len;
		struct pbf g;
		int rr = 0;
		switch (f.num) {
		case 1: /* tensor_type */
		case 8: /* sparse_tensor_type */
			if (want(c, &f, WT_LEN, "TypeProto.tensor_type") || enter(c, f.off, "TypeProto.Tensor"))
				return -1;
			/* oneof: the last member present wins */
			memset(t, 0, offsetof(struct m2w_onnx_type, denotation));
			t->kind = f.num == 1 ? M2W_ONNX_TYPE_TENSOR : M2W_ONNX_TYPE_SPARSE;
			if (parse_tensor_type(c, so, se, t))
				return -1;
			c->depth--;
			break;
		case 4: /* sequence_type {1 elem_type} */
		case 9: /* optional_type {1 elem_type} */
		case 5: /* map_type {1 key_type, 2 value_type} */
			if (want(c, &f, WT_LEN, "TypeProto.sequence/map/optional") || enter(c, f.off, "TypeProto member"))
				return -1;
			memset(t, 0, offsetof(struct m2w_onnx_type, denotation));
			t->kind = f.num == 4 ? M2W_ONNX_TYPE_SEQUENCE : f.num == 9 ? M2W_ONNX_TYPE_OPTIONAL : M2W_ONNX_TYPE_MAP;
			while ((rr = pb_next(c, &so, se, &g)) == 1) {
				if (f.num == 5 && g.num == 1) {
					if (get_i32(c, &g, "TypeProto.Map.key_type", &t->elem_type))
						return -1;
				} else if (g.num == (f.num == 5 ? 2u : 1u)) {
					if (sub_type(c, &g, "TypeProto element type", &t->elem))
						return -1;
				}
			}
			if (rr)
				return -1;
			c->depth--;
			break;
		case 7: /* opaque_type {1 domain, 2 name} */
			if (want(c, &f, WT_LEN, "TypeProto.opaque_type"))
				return -1;
			memset(t, 0, offsetof(struct m2w_onnx_type, denotation));
			t->kind = M2W_ONNX_TYPE_OPAQUE;
			while ((rr = pb_next(c, &so, se, &g)) == 1) {
				if (g.num == 1 && get_name(c, &g, "TypeProto.Opaque.domain", &t->opaque_domain))
					return -1;
				if (g.num == 2 && get_name(c, &g, "TypeProto.Opaque.name", &t->opaque_name))
					return -1;
			}
			if (rr)
				return -1;
			break;
		case 6:
			if (get_name(c, &f, "TypeProto.denotation", &t->denotation))
				return -1;
			break;
		default:
			break;
		}
	}
	if (r)
		return -1;
	c->depth--;
	return 0;
}

static int parse_value_info(struct ctx *c, size_t off, size_t end, struct m2w_onnx_value_info *v)
{
	struct pbf f;
	int r;
	if (enter(c, off, "ValueInfoProto"))
		return -1;
	v->off = off;
	v->end = end;
	while ((r = pb_next(c, &off, end, &f)) == 1) {
		if (f.num == 1) {
			if (get_name(c, &f, "ValueInfoProto.name", &v->name))
				return -1;
		} else if (f.num == 2) {
			if (want(c, &f, WT_LEN, "ValueInfoProto.type"))
				return -1;
			if (v->has_type)
				return m2w_err(c->d, f.tag, "ValueInfoProto.type appears twice");
			v->has_type = true;
			if (parse_type(c, f.off, f.off + f.len, &v->type))
				return -1;
		} else if (f.num == 3) {
			if (get_text(c, &f, "ValueInfoProto.doc_string", &v->doc_string))
				return -1;
		}
	}
	if (r)
		return -1;
	c->depth--;
	return 0;
}

/* A singular message field that may appear once. */
#define ONCE(ptr, what)                                                                  \
	do {                                                                             \
		if (want(c, &f, WT_LEN, what))                                           \
			return -1;                                                       \
		if (ptr)                                                                 \
			return m2w_err(c->d, f.tag, "%s appears twice", what);          \
		if (!NEW_ARRAY(ptr, 1, f.off))                                           \
			return -1;                                                       \
	} while (0)

static int parse_attr(struct ctx *c, size_t off, size_t end, struct m2w_onnx_attr *a)
{
	static const uint8_t kind[NKIND] = {[7] = K_FIX32S, [8] = K_VARINTS, [9] = K_LEN, [10] = K_LEN,
		[11] = K_LEN, [15] = K_LEN, [23] = K_LEN};
	size_t cnt[NKIND], nf = 0, ni = 0, ns = 0, nt = 0, ng = 0, nsp = 0, ntp = 0;
	struct pbf f;
	int r;
	if (enter(c, off, "AttributeProto"))
		return -1;
	a->off = off;
	if (pb_count(c, off, end, kind, cnt))
		return -1;
	if (!NEW_ARRAY(a->floats, cnt[7], off) || !NEW_ARRAY(a->ints, cnt[8], off) ||
		!NEW_ARRAY(a->strings, cnt[9], off) || !NEW_ARRAY(a->tensors, cnt[10], off) ||
		!NEW_ARRAY(a->graphs, cnt[11], off) || !NEW_ARRAY(a->type_protos, cnt[15], off) ||
		!NEW_ARRAY(a->sparse_tensors, cnt[23], off))
		return -1;
	while ((r = pb_next(c, &off, end, &f)) == 1) {
		switch (f.num) {
		case 1:
			if (get_name(c, &f, "AttributeProto.name", &a->name))
				return -1;
			break;
		case 21:
			if (get_name(c, &f, "AttributeProto.ref_attr_name", &a->ref_attr_name))
				return -1;
			break;
		case 13:
			if (get_text(c, &f, "AttributeProto.doc_string", &a->doc_string))
				return -1;
			break;
		case 20:
			if (get_i32(c, &f, "AttributeProto.type", &a->type))
				return -1;
			break;
		case 2: {
			if (want(c, &f, WT_I32, "AttributeProto.f"))
				return -1;
			uint32_t u = (uint32_t)f.v;
			memcpy(&a->f, &u, 4);
			break;
		}
		case 3:
			if (get_i64(c, &f, "AttributeProto.i", &a->i))
				return -1;
			break;
		case 4:
			if (get_text(c, &f, "AttributeProto.s", &a->s))
				return -1;
			break;
		case 5:
			ONCE(a->t, "AttributeProto.t");
			if (parse_tensor(c, f.off, f.off + f.len, a->t))
				return -1;
			break;
		case 6:
			ONCE(a->g, "AttributeProto.g");
			if (parse_graph(c, f.off, f.off + f.len, a->g))
				return -1;
			break;
		case 22:
			ONCE(a->sparse_tensor, "AttributeProto.sparse_tensor");
			if (parse_sparse(c, f.off, f.off + f.len, a->sparse_tensor))
				return -1;
			break;
		case 14:
			ONCE(a->tp, "AttributeProto.tp");
			if (parse_type(c, f.off, f.off + f.len, a->tp))
				return -1;
			break;
		case 7:
			if (take_floats(c, &f, "AttributeProto.floats", a->floats, &nf, cnt[7]))
				return -1;
			break;
		case 8:
			if (take_varints(c, &f, "AttributeProto.ints", a->ints, &ni, cnt[8]))
				return -1;
			break;
		case 9:
			if (get_text(c, &f, "AttributeProto.strings", &a->strings[ns++]))
				return -1;
			break;
		case 10:
			if (want(c, &f, WT_LEN, "AttributeProto.tensors") ||
				parse_tensor(c, f.off, f.off + f.len, &a->tensors[nt++]))
				return -1;
			break;
		case 11:
			if (want(c, &f, WT_LEN, "AttributeProto.graphs") ||
				parse_graph(c, f.off, f.off + f.len, &a->graphs[ng++]))
				return -1;
			break;
		case 23:
			if (want(c, &f, WT_LEN, "AttributeProto.sparse_tensors") ||
				parse_sparse(c, f.off, f.off + f.len, &a->sparse_tensors[nsp++]))
				return -1;
			break;
		case 15:
			if (want(c, &f, WT_LEN, "AttributeProto.type_protos") ||
				parse_type(c, f.off, f.off + f.len, &a->type_protos[ntp++]))
				return -1;
			break;
		default:
			break;
		}
	}
	if (r)
		return -1;
	a->nfloats = nf, a->nints = ni, a->nstrings = ns, a->ntensors = nt, a->ngraphs = ng;
	a->nsparse_tensors = nsp, a->ntype_protos = ntp;
	c->depth--;
	return 0;
}

static int parse_node(struct ctx *c, size_t off, size_t end, struct m2w_onnx_node *n)
{
	static const uint8_t kind[NKIND] = {[1] = K_LEN, [2] = K_LEN, [5] = K_LEN, [9] = K_LEN};
	size_t cnt[NKIND], ni = 0, no = 0, na = 0, nm = 0;
	struct pbf f;
	int r;
	if (enter(c, off, "NodeProto"))
		return -1;
	n->off = off;
	if (pb_count(c, off, end, kind, cnt))
		return -1;
	if (!NEW_ARRAY(n->inputs, cnt[1], off) || !NEW_ARRAY(n->outputs, cnt[2], off) ||
		!NEW_ARRAY(n->attrs, cnt[5], off) || !NEW_ARRAY(n->metadata, cnt[9], off))
		return -1;
	while ((r = pb_next(c, &off, end, &f)) == 1) {
		switch (f.num) {
		case 1:
			if (get_name(c, &f, "NodeProto.input", &n->inputs[ni++]))
				return -1;
			break;
		case 2:
			if (get_name(c, &f, "NodeProto.output", &n->outputs[no++]))
				return -1;
			break;
		case 3:
			if (get_name(c, &f, "NodeProto.name", &n->name))
				return -1;
			break;
		case 4:
			if (get_name(c, &f, "NodeProto.op_type", &n->op_type))
				return -1;
			break;
		case 7:
			if (get_name(c, &f, "NodeProto.domain", &n->domain))
				return -1;
			break;
		case 8:
			if (get_name(c, &f, "NodeProto.overload", &n->overload))
				return -1;
			break;
		case 6:
			if (get_text(c, &f, "NodeProto.doc_string", &n->doc_string))
				return -1;
			break;
		case 5:
			if (want(c, &f, WT_LEN, "NodeProto.attribute") ||
				parse_attr(c, f.off, f.off + f.len, &n->attrs[na++]))
				return -1;
			break;
		case 9:
			if (want(c, &f, WT_LEN, "NodeProto.metadata_props") ||
				parse_kv(c, f.off, f.off + f.len, &n->metadata[nm++]))
				return -1;
			break;
		default:
			break;
		}
	}
	if (r)
		return -1;
	n->ninputs = ni, n->noutputs = no, n->nattrs = na, n->nmetadata = nm;
	c->depth--;
	return 0;
}

static int parse_graph(struct ctx *c, size_t off, size_t end, struct m2w_onnx_graph *g)
{
	static const uint8_t kind[NKIND] = {[1] = K_LEN, [5] = K_LEN, [11] = K_LEN, [12] = K_LEN, [13] = K_LEN,
		[15] = K_LEN, [16] = K_LEN};
	size_t cnt[NKIND], nn = 0, nin = 0, nsp = 0, ni = 0, no = 0, nv = 0, nm = 0;
	struct pbf f;
	int r;
	if (enter(c, off, "GraphProto"))
		return -1;
	g->off = off;
	g->end = end;
	if (pb_count(c, off, end, kind, cnt))
		return -1;
	if (!NEW_ARRAY(g->nodes, cnt[1], off) || !NEW_ARRAY(g->inits, cnt[5], off) ||
		!NEW_ARRAY(g->sparse, cnt[15], off) || !NEW_ARRAY(g->inputs, cnt[11], off) ||
		!NEW_ARRAY(g->outputs, cnt[12], off) || !NEW_ARRAY(g->value_info, cnt[13], off) ||
		!NEW_ARRAY(g->metadata, cnt[16], off))
		return -1;
	while ((r = pb_next(c, &off, end, &f)) == 1) {
		size_t fe = f.off + f.len;
		switch (f.num) {
		case 1:
			if (want(c, &f, WT_LEN, "GraphProto.node") || parse_node(c, f.off, fe, &g->nodes[nn++]))
				return -1;
			break;
		case 2:
			if (get_name(c, &f, "GraphProto.name", &g->name))
				return -1;
			break;
		case 5:
			if (want(c, &f, WT_LEN, "GraphProto.initializer") || parse_tensor(c, f.off, fe, &g->inits[nin++]))
				return -1;
			break;
		case 15:
			if (want(c, &f, WT_LEN, "GraphProto.sparse_initializer") ||
				parse_sparse(c, f.off, fe, &g->sparse[nsp++]))
				return -1;
			break;
		case 10:
			if (get_text(c, &f, "GraphProto.doc_string", &g->doc_string))
				return -1;
			break;
		case 11:
			if (want(c, &f, WT_LEN, "GraphProto.input") || parse_value_info(c, f.off, fe, &g->inputs[ni++]))
				return -1;
			break;
		case 12:
			if (want(c, &f, WT_LEN, "GraphProto.output") || parse_value_info(c, f.off, fe, &g->outputs[no++]))
				return -1;
			break;
		case 13:
			if (want(c, &f, WT_LEN, "GraphProto.value_info") ||
				parse_value_info(c, f.off, fe, &g->value_info[nv++]))
				return -1;
			break;
		case 16:
			if (want(c, &f, WT_LEN, "GraphProto.metadata_props") || parse_kv(c, f.off, fe, &g->metadata[nm++]))
				return -1;
			break;
		default:
			break;
		}
	}
	if (r)
		return -1;
	g->nnodes = nn, g->ninits = nin, g->nsparse = nsp, g->ninputs = ni, g->noutputs = no;
	g->nvalue_info = nv, g->nmetadata = nm;
	c->depth--;
	return 0;
}

static int parse_opset(struct ctx *c, size_t off, size_t end, struct m2w_onnx_opset *o)
{
	struct pbf f;
	int r;
	while ((r = pb_next(c, &off, end, &f)) == 1) {
		if (f.num == 1 && get_name(c, &f, "OperatorSetIdProto.domain", &o->domain))
			return -1;
		if (f.num == 2 && get_i64(c, &f, "OperatorSetIdProto.version", &o->version))
			return -1;
	}
	return r;
}

static int parse_function(struct ctx *c, size_t off, size_t end, struct m2w_onnx_function *fn)
{
	static const uint8_t kind[NKIND] = {[4] = K_LEN, [5] = K_LEN, [7] = K_LEN, [9] = K_LEN};
	size_t cnt[NKIND], ni = 0, no = 0, nn = 0, nop = 0;
	struct pbf f;
	int r;
	if (enter(c, off, "FunctionProto") || pb_count(c, off, end, kind, cnt))
		return -1;
	if (!NEW_ARRAY(fn->inputs, cnt[4], off) || !NEW_ARRAY(fn->outputs, cnt[5], off) ||
		!NEW_ARRAY(fn->nodes, cnt[7], off) || !NEW_ARRAY(fn->opsets, cnt[9], off))
		return -1;
	while ((r = pb_next(c, &off, end, &f)) == 1) {
		switch (f.num) {
		case 1:
			if (get_name(c, &f, "FunctionProto.name", &fn->name))
				return -1;
			break;
		case 10:
			if (get_name(c, &f, "FunctionProto.domain", &fn->domain))
				return -1;
			break;
		case 13:
			if (get_name(c, &f, "FunctionProto.overload", &fn->overload))
				return -1;
			break;
		case 4:
			if (get_name(c, &f, "FunctionProto.input", &fn->inputs[ni++]))
				return -1;
			break;
		case 5:
			if (get_name(c, &f, "FunctionProto.output", &fn->outputs[no++]))
				return -1;
			break;
		case 7:
			if (want(c, &f, WT_LEN, "FunctionProto.node") || parse_node(c, f.off, f.off + f.len, &fn->nodes[nn++]))
				return -1;
			break;
		case 9:
			if (want(c, &f, WT_LEN, "FunctionProto.opset_import") ||
				parse_opset(c, f.off, f.off + f.len, &fn->opsets[nop++]))
				return -1;
			break;
		default:
			break;
		}
	}
	if (r)
		return -1;
	fn->ninputs = ni, fn->noutputs = no, fn->nnodes = nn, fn->nopsets = nop;
	c->depth--;
	return 0;
}

static int parse_model(struct ctx *c, struct m2w_onnx_model *m)
{
	static const uint8_t kind[NKIND] = {[8] = K_LEN, [14] = K_LEN, [20] = K_LEN, [25] = K_LEN};
	size_t cnt[NKIND], nop = 0, nm = 0, nfn = 0;
	size_t off = 0, end = c->size;
	struct pbf f;
	int r;
	if (enter(c, 0, "ModelProto") || pb_count(c, off, end, kind, cnt))
		return -1;
	if (!NEW_ARRAY(m->opsets, cnt[8], 0) || !NEW_ARRAY(m->metadata, cnt[14], 0) ||
		!NEW_ARRAY(m->functions, cnt[25], 0))
		return -1;
	m->ntraining_info = cnt[20];
	while ((r = pb_next(c, &off, end, &f)) == 1) {
		switch (f.num) {
		case 1:
			if (get_i64(c, &f, "ModelProto.ir_version", &m->ir_version))
				return -1;
			break;
		case 2:
			if (get_name(c, &f, "ModelProto.producer_name", &m->producer_name))
				return -1;
			break;
		case 3:
			if (get_name(c, &f, "ModelProto.producer_version", &m->producer_version))
				return -1;
			break;
		case 4:
			if (get_name(c, &f, "ModelProto.domain", &m->domain))
				return -1;
			break;
		case 5:
			if (get_i64(c, &f, "ModelProto.model_version", &m->model_version))
				return -1;
			break;
		case 6:
			if (get_text(c, &f, "ModelProto.doc_string", &m->doc_string))
				return -1;
			break;
		case 7:
			ONCE(m->graph, "ModelProto.graph");
			m->graph_field_off = f.tag;
			if (parse_graph(c, f.off, f.off + f.len, m->graph))
				return -1;
			break;
		case 8:
			if (want(c, &f, WT_LEN, "ModelProto.opset_import") ||
				parse_opset(c, f.off, f.off + f.len, &m->opsets[nop++]))
				return -1;
			break;
		case 14:
			if (want(c, &f, WT_LEN, "ModelProto.metadata_props") ||
				parse_kv(c, f.off, f.off + f.len, &m->metadata[nm++]))
				return -1;
			break;
		case 25:
			if (want(c, &f, WT_LEN, "ModelProto.functions") ||
				parse_function(c, f.off, f.off + f.len, &m->functions[nfn++]))
				return -1;
			break;
		default:
			break;
		}
	}
	if (r)
		return -1;
	m->nopsets = nop, m->nmetadata = nm, m->nfunctions = nfn;
	c->depth--;
	return 0;
}

static struct m2w_onnx_model *model_new(const uint8_t *p, size_t n, const char *dir, struct ctx *c,
	struct m2w_diag *d)
{
	struct m2w_onnx_model *m = calloc(1, sizeof *m);
	if (!m || !(m->arena = calloc(1, sizeof *m->arena)) || (dir && !(m->dir = strdup(dir)))) {
		m2w_onnx_free(m);
		m2w_err(d, M2W_NO_OFFSET, "out of memory");
		return NULL;
	}
	m->base = p;
	m->size = n;
	/* min(32 n, n + cap) + floor; n + cap first, so nothing overflows */
	size_t capped = n > SIZE_MAX - M2W_ONNX_TREE_CAP - M2W_ONNX_TREE_FLOOR ? SIZE_MAX - M2W_ONNX_TREE_FLOOR
									     : n + M2W_ONNX_TREE_CAP;
	m->arena->budget = (n <= capped / M2W_ONNX_TREE_RATIO ? n * M2W_ONNX_TREE_RATIO : capped) +
			   M2W_ONNX_TREE_FLOOR;
	*c = (struct ctx){.base = p, .size = n, .d = d, .arena = m->arena};
	return m;
}

int m2w_onnx_parse(const uint8_t *p, size_t n, const char *dir, struct m2w_onnx_model **out, struct m2w_diag *d)
{
	struct ctx cx, *c = &cx;
	*out = NULL;
	struct m2w_onnx_model *m = model_new(p, n, dir, c, d);
	if (!m)
		return -1;
	if (parse_model(c, m)) {
		m2w_onnx_free(m);
		return -1;
	}
	if (!m->graph && m->ir_version == 0 && m->nopsets == 0) {
		m2w_onnx_free(m);
		return m2w_err(d, 0, "not an ONNX model: no ir_version, opset_import or graph");
	}
	*out = m;
	return 0;
}

int m2w_onnx_parse_tensorpb(const uint8_t *p, size_t n, const char *dir, struct m2w_onnx_model **out,
	struct m2w_diag *d)
{
	struct ctx cx, *c = &cx;
	*out = NULL;
	struct m2w_onnx_model *m = model_new(p, n, dir, c, d);
	if (!m)
		return -1;
	if (!NEW_ARRAY(m->tensor, 1, 0) || parse_tensor(c, 0, n, m->tensor)) {
		m2w_onnx_free(m);
		return -1;
	}
	*out = m;
	return 0;
}

void m2w_onnx_free(struct m2w_onnx_model *m)
{
	if (!m)
		return;
	arena_free(m->arena);
	free(m->dir);
	free(m);
}

/* ---- external data ---- */

int m2w_onnx_external_path(const struct m2w_onnx_model *m, const struct m2w_onnx_tensor *t, char **path,
	struct m2w_diag *d)
{
	const int nm = (int)(t->name.n > 200 ? 200 : t->name.n);
	const int nl = (int)(t->ext_location.n > 200 ? 200 : t->ext_location.n);
	*path = NULL;
	if (t->store != M2W_ONNX_STORE_EXTERNAL)
		return m2w_err(d, t->off, "tensor '%.*s' is not external", nm, t->name.p);
	if (!m->dir)
		return m2w_err(d, t->off, "tensor '%.*s' is in '%.*s', and the model's folder is unknown", nm, t->name.p,
			nl, t->ext_location.p);
	if (!location_ok(t->ext_location))
		return m2w_err(d, t->off, "external location '%.*s' leaves the model's folder", nl, t->ext_location.p);
	size_t dl = strlen(m->dir);
	char *p = malloc(dl + 1 + t->ext_location.n + 1);
	if (!p)
		return m2w_err(d, M2W_NO_OFFSET, "out of memory");
	memcpy(p, m->dir, dl);
	p[dl] = '/';
	memcpy(p + dl + 1, t->ext_location.p, t->ext_location.n);
	p[dl + 1 + t->ext_location.n] = 0;

	/* a symlink inside the folder must not lead out of it either */
	char *rdir = realpath(m->dir, NULL), *rfile = realpath(p, NULL);
	int rc = 0;
	struct stat st;
	size_t rl = rdir ? strlen(rdir) : 0;
	uint64_t end;
	if (!rdir || !rfile || stat(rfile, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = m2w_err(d, t->off, "tensor '%.*s': external data file '%s' is missing or not a file", nm, t->name.p, p);
	} else if (!(strncmp(rfile, rdir, rl) == 0 && (rfile[rl] == '/' || (rl == 1 && rdir[0] == '/')))) {
		rc = m2w_err(d, t->off, "tensor '%.*s': external data file '%s' resolves outside the model's folder", nm,
			t->name.p, p);
	} else if (!m2w_add_u64(t->ext_offset, t->nbytes, &end) || end > (uint64_t)st.st_size) {
		rc = m2w_err(d, t->off, "tensor '%.*s': external data ends at %llu, file '%s' has %lld bytes", nm,
			t->name.p, (unsigned long long)t->ext_offset + t->nbytes, p, (long long)st.st_size);
	}
	free(rdir);
	free(rfile);
	if (rc) {
		free(p);
		return rc;
	}
	*path = p;
	return 0;
}

/* ---- tensor data ---- */

struct emit {
	m2w_onnx_sink sink;
	void *ctx;
	struct m2w_diag *d;
	uint8_t buf[4096];
	size_t n;
	uint64_t total;
};

static int emit_flush(struct emit *e)
{
	int rc = e->n ? e->sink(e->ctx, e->buf, e->n, e->d) : 0;
	e->total += e->n;
	e->n = 0;
	return rc;
}

/* One element, w bytes, little-endian. */
static int emit_le(struct emit *e, uint64_t v, unsigned w)
{
	if (sizeof e->buf - e->n < w && emit_flush(e))
		return -1;
	for (unsigned i = 0; i < w; i++)
		e->buf[e->n++] = (uint8_t)(v >> (8 * i));
	return 0;
}

static int emit_bytes(struct emit *e, const void *p, size_t n)
{
	if (emit_flush(e))
		return -1;
	e->total += n;
	return n ? e->sink(e->ctx, p, n, e->d) : 0;
}

static int stream_typed(const struct m2w_onnx_model *m, const struct m2w_onnx_tensor *t, struct emit *e)
{
	struct ctx c = {.base = m->base, .size = m->size, .d = e->d};
	size_t off = t->off;
	struct pbf f;
	int r;
	unsigned w; /* output bytes per entry */
	switch (t->typed_field) {
	case 4: w = 4; break;
	case 7: case 10: w = 8; break;
	case 11: w = t->data_type == M2W_ONNX_UINT32 ? 4 : 8; break;
	case 5: {
		unsigned bits = m2w_onnx_dtype_bits(t->data_type);
		w = bits >= 8 ? bits / 8 : 1;
		break;
	}
	default: w = 0; break;
	}
	while ((r = pb_next(&c, &off, t->end, &f)) == 1) {
		if ((int)f.num != t->typed_field)
			continue;
		if (t->typed_field == 6) {
			if (emit_le(e, f.len, 8) || emit_bytes(e, c.base + f.off, f.len))
				return -1;
			continue;
		}
		bool fixed = t->typed_field == 4 || t->typed_field == 10;
		if (f.wt != WT_LEN) {
			uint64_t v = f.v;
			if (t->data_type == M2W_ONNX_BOOL)
				v = v != 0;
			if (emit_le(e, v, w))
				return -1;
			continue;
		}
		size_t po = f.off, pe = f.off + f.len;
		while (po < pe) {
			uint64_t v;
			if (fixed) {
				unsigned fw = t->typed_field == 4 ? 4 : 8;
				if (pe - po < fw)
					return m2w_err(e->d, po, "truncated packed value");
				v = fw == 4 ? m2w_le32(c.base + po) : m2w_le64(c.base + po);
				po += fw;
			} else if (rd_varint(&c, &po, pe, &v)) {
				return -1;
			}
			if (t->data_type == M2W_ONNX_BOOL)
				v = v != 0;
			if (emit_le(e, v, w))
				return -1;
		}
	}
	if (r || emit_flush(e))
		return -1;
	return 0;
}

int m2w_onnx_tensor_stream(const struct m2w_onnx_model *m, const struct m2w_onnx_tensor *t, m2w_onnx_sink sink,
	void *ctx, struct m2w_diag *d)
{
	struct emit *e;
	int rc;
	switch (t->store) {
	case M2W_ONNX_STORE_NONE:
		return 0;
	case M2W_ONNX_STORE_RAW:
		return t->nbytes ? sink(ctx, t->raw, t->nbytes, d) : 0;
	case M2W_ONNX_STORE_EXTERNAL: {
		char *path;
		struct m2w_file file;
		if (m2w_onnx_external_path(m, t, &path, d))
			return -1;
		rc = m2w_file_map(&file, path, d);
		free(path);
		if (rc)
			return -1;
		if (t->ext_offset > file.size || t->nbytes > file.size - t->ext_offset) /* changed under us */
			rc = m2w_err(d, t->off, "external data past the end of its file, %zu bytes", file.size);
		else if (t->nbytes)
			rc = sink(ctx, file.data + t->ext_offset, t->nbytes, d);
		m2w_file_unmap(&file);
		return rc;
	}
	case M2W_ONNX_STORE_TYPED:
		break;
	}
	e = malloc(sizeof *e);
	if (!e)
		return m2w_err(d, M2W_NO_OFFSET, "out of memory");
	e->sink = sink;
	e->ctx = ctx;
	e->d = d;
	e->n = 0;
	e->total = 0;
	rc = stream_typed(m, t, e);
	if (!rc && t->data_type != M2W_ONNX_STRING && e->total != t->nbytes)
		rc = m2w_err(d, t->data_off, "typed data decoded to %llu bytes, expected %llu",
			(unsigned long long)e->total, (unsigned long long)t->nbytes);
	free(e);
	return rc;
}

struct fill {
	uint8_t *dst;
	size_t cap, n;
};

static int fill_sink(void *ctx, const void *p, size_t n, struct m2w_diag *d)
{
	struct fill *f = ctx;
	if (n > f->cap - f->n)
		return m2w_err(d, M2W_NO_OFFSET, "tensor data overflows its %zu-byte buffer", f->cap);
	memcpy(f->dst + f->n, p, n);
	f->n += n;
	return 0;
}

int m2w_onnx_tensor_read(const struct m2w_onnx_model *m, const struct m2w_onnx_tensor *t, void *dst,
	size_t dst_len, struct m2w_diag *d)
{
	struct fill f = {dst, dst_len, 0};
	if (t->data_type == M2W_ONNX_STRING)
		return m2w_err(d, t->off, "string tensors have no fixed-size data; stream them");
	if (dst_len != t->nbytes)
		return m2w_err(d, t->off, "buffer is %zu bytes, tensor has %llu", dst_len, (unsigned long long)t->nbytes);
	if (m2w_onnx_tensor_stream(m, t, fill_sink, &f, d))
		return -1;
	if (f.n != dst_len)
		return m2w_err(d, t->off, "tensor data is %zu bytes, expected %zu", f.n, dst_len);
	return 0;
}

/* ---- traversal ---- */

static int walk(const struct m2w_onnx_graph *g, m2w_onnx_graph_fn fn, void *ctx, int depth)
{
	int rc = fn(ctx, g, depth);
	for (size_t i = 0; !rc && i < g->nnodes; i++) {
		const struct m2w_onnx_node *n = &g->nodes[i];
		for (size_t j = 0; !rc && j < n->nattrs; j++) {
			const struct m2w_onnx_attr *a = &n->attrs[j];
			if (a->g)
				rc = walk(a->g, fn, ctx, depth + 1);
			for (size_t k = 0; !rc && k < a->ngraphs; k++)
				rc = walk(&a->graphs[k], fn, ctx, depth + 1);
		}
	}
	return rc;
}

int m2w_onnx_walk_graphs(const struct m2w_onnx_graph *g, m2w_onnx_graph_fn fn, void *ctx)
{
	return g ? walk(g, fn, ctx, 0) : 0;
}
