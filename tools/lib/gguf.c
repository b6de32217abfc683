/* gguf: the GGUF container (ggml/llama.cpp), header only.
 *
 * Layout, all little-endian (ggml's docs/gguf.md and gguf.cpp):
 *
 *   u32 magic "GGUF"   u32 version (2 or 3; v1 stored u32 counts and is
 *                      refused; a version with zero low 16 bits is a
 *                      byte-swapped, big-endian file, also refused)
 *   u64 n_tensors      u64 n_kv
 *   n_kv × { string key, u32 type, value }
 *   n_tensors × { string name, u32 n_dims, u64 ne[n_dims], u32 ggml type,
 *                 u64 offset }
 *   padding to `alignment`, then the data section
 *
 * string = u64 length + bytes (UTF-8, no NUL).  value = a scalar of the
 * type's size, a string, or an array: u32 element type, u64 count, count
 * values (arrays of arrays and of strings are walked element by element).
 * `alignment` is general.alignment (a u32, a non-zero power of two) or 32.
 * Tensor offsets are relative to the data section and must be exactly the
 * running sum of the previous tensors' sizes each padded to `alignment`
 * (what ggml writes and requires); each tensor's bytes are
 * ne[0]/block * type_size * ne[1] * ne[2] * ne[3] and must lie in the file.
 *
 * Keys and tensor names must be valid UTF-8 without NUL (gguf-py decodes
 * them strictly too); string values may hold any bytes.
 *
 * Trusted: nothing.  Every count is checked against the bytes left before
 * anything is allocated; the only allocations are the kv and tensor tables
 * and a hash set for duplicate keys and tensor names, all bounded by the
 * file size.  Tensor data is never touched.
 */
#include <stdlib.h>
#include <string.h>

#include "gguf.h"

static const struct {
	const char *name;
	uint8_t size; /* 0: variable */
} vtypes[M2W_GGUF_VTYPE_COUNT] = {
	{"u8", 1}, {"i8", 1}, {"u16", 2}, {"i16", 2}, {"u32", 4}, {"i32", 4},
	{"f32", 4}, {"bool", 1}, {"string", 0}, {"array", 0}, {"u64", 8},
	{"i64", 8}, {"f64", 8},
};

const char *m2w_gguf_vtype_name(uint32_t t)
{
	return t < M2W_GGUF_VTYPE_COUNT ? vtypes[t].name : "unknown";
}

size_t m2w_gguf_vtype_size(uint32_t t)
{
	return t < M2W_GGUF_VTYPE_COUNT ? vtypes[t].size : 0;
}

size_t m2w_utf8_seq(const uint8_t *p, size_t n)
{
	uint32_t cp, min;
	size_t len;

	if (!n)
		return 0;
	if (p[0] < 0x80)
		return p[0] ? 1 : 0;
	if ((p[0] & 0xe0) == 0xc0)
		len = 2, cp = p[0] & 0x1f, min = 0x80;
	else if ((p[0] & 0xf0) == 0xe0)
		len = 3, cp = p[0] & 0x0f, min = 0x800;
	else if ((p[0] & 0xf8) == 0xf0)
		len = 4, cp = p[0] & 0x07, min = 0x10000;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	/* overlong forms, UTF-16 surrogates and code points past U+10FFFF */
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* Offset of the first byte that is not valid UTF-8 (or is NUL), or n. */
static size_t utf8_bad(const char *s, uint64_t n)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t i = 0, k;

	while (i < n && (k = m2w_utf8_seq(p + i, n - i)))
		i += k;
	return i;
}

/* Fewest bytes one value of type t can occupy: bounds a count before any
 * walk (a string is at least its length, an array its type and count). */
static uint64_t min_size(uint32_t t)
{
	return t == M2W_GGUF_STRING ? 8 : t == M2W_GGUF_ARRAY ? 12 : vtypes[t].size;
}

/* How many of `count` entries of at least `min` bytes can be read (or
 * fail) in `left` bytes: what the tables and name sets are sized for. */
static uint64_t reachable(uint64_t count, uint64_t left, uint64_t min)
{
	uint64_t most = left / min + 1;
	return count < most ? (count ? count : 1) : most;
}

/* Names in messages are clipped so one bad key can't fill the message. */
#define NAME_FMT "'%.*s%s'"
#define NAME_ARG(p, n) (int)((n) > 80 ? 80 : (n)), (p), ((n) > 80 ? "..." : "")

/* Reads one value of type `type` at the cursor into v.  The parser calls it
 * with a diag; the iterator calls it again on validated bytes with d NULL. */
static int read_value(struct m2w_cursor *c, uint32_t type, int depth,
	struct m2w_gguf_value *v, const char *key, uint64_t key_len, struct m2w_diag *d)
{
	size_t start = c->off;
	uint64_t len;

	memset(v, 0, sizeof *v);
	v->type = type;
	if (type >= M2W_GGUF_VTYPE_COUNT)
		return m2w_err(d, start, "key " NAME_FMT " has value type %u, limit %d",
			NAME_ARG(key, key_len), type, M2W_GGUF_VTYPE_COUNT - 1);
	if (type == M2W_GGUF_STRING) {
		if (!m2w_cur_u64(c, &len))
			return m2w_err(d, start, "key " NAME_FMT ": truncated string length",
				NAME_ARG(key, key_len));
		v->off = c->off;
		/* compare as u64 first: m2w_cur_bytes takes a size_t */
		if (len > c->len - c->off || !m2w_cur_bytes(c, (size_t)len, &v->p))
			return m2w_err(d, start,
				"key " NAME_FMT ": string of %llu bytes, %zu left in the file",
				NAME_ARG(key, key_len), (unsigned long long)len, c->len - c->off);
		v->len = len;
		return 0;
	}
	if (type != M2W_GGUF_ARRAY) {
		v->off = c->off;
		v->len = vtypes[type].size;
		if (!m2w_cur_bytes(c, v->len, &v->p))
			return m2w_err(d, start, "key " NAME_FMT ": truncated %s value",
				NAME_ARG(key, key_len), vtypes[type].name);
		return 0;
	}

	/* array */
	if (depth >= M2W_MAX_NESTING)
		return m2w_err(d, start, "key " NAME_FMT ": arrays nested %d deep, limit %d",
			NAME_ARG(key, key_len), depth + 1, M2W_MAX_NESTING);
	if (!m2w_cur_u32(c, &v->elem_type) || !m2w_cur_u64(c, &v->count))
		return m2w_err(d, start, "key " NAME_FMT ": truncated array header",
			NAME_ARG(key, key_len));
	if (v->elem_type >= M2W_GGUF_VTYPE_COUNT)
		return m2w_err(d, start, "key " NAME_FMT " has array element type %u, limit %d",
			NAME_ARG(key, key_len), v->elem_type, M2W_GGUF_VTYPE_COUNT - 1);
	v->off = c->off;
	v->p = c->base + c->off;
	if (v->count > (c->len - c->off) / min_size(v->elem_type))
		return m2w_err(d, start,
			"key " NAME_FMT ": array of %llu %s values, at least %llu bytes each, "
			"%zu bytes left in the file",
			NAME_ARG(key, key_len), (unsigned long long)v->count,
			vtypes[v->elem_type].name, (unsigned long long)min_size(v->elem_type),
			c->len - c->off);
	if (vtypes[v->elem_type].size) {
		v->len = v->count * vtypes[v->elem_type].size; /* bounded just above */
		c->off += v->len;
		return 0;
	}
	for (uint64_t i = 0; i < v->count; i++) {
		struct m2w_gguf_value e;
		if (read_value(c, v->elem_type, depth + 1, &e, key, key_len, d) < 0)
			return -1;
	}
	v->len = c->off - v->off;
	return 0;
}

/* A set of names (keys or tensor names) hashed with xxh3, to find
 * duplicates in linear time. */
struct name_slot {
	const char *p; /* NULL: empty */
	uint64_t len;
	uint64_t index;
};

struct nameset {
	struct name_slot *slots;
	uint64_t mask;
};

static bool nameset_init(struct nameset *s, uint64_t n)
{
	uint64_t cap = 16;

	while (cap < 2 * n)
		cap *= 2; /* n is bounded by the file size, so no overflow */
	s->slots = calloc(cap, sizeof *s->slots);
	s->mask = cap - 1;
	return s->slots != NULL;
}

/* Adds name number i; returns true and sets *prev to the number of an
 * equal name already there. */
static bool nameset_dup(struct nameset *s, const char *p, uint64_t len, uint64_t i,
	uint64_t *prev)
{
	for (uint64_t h = m2w_xxh3(p, len) & s->mask;; h = (h + 1) & s->mask) {
		struct name_slot *e = &s->slots[h];
		if (!e->p) {
			*e = (struct name_slot){p, len, i};
			return false;
		}
		if (e->len == len && !memcmp(e->p, p, len)) {
			*prev = e->index;
			return true;
		}
	}
}

/* A key or tensor name: u64 length + bytes.  `what` and i name it in the
 * message. */
static int read_name(struct m2w_cursor *c, const char **p, uint64_t *len,
	const char *what, uint64_t i, struct m2w_diag *d)
{
	size_t start = c->off;
	const uint8_t *b;

	if (!m2w_cur_u64(c, len))
		return m2w_err(d, start, "%s %llu: truncated name length", what,
			(unsigned long long)i);
	if (*len > c->len - c->off || !m2w_cur_bytes(c, (size_t)*len, &b))
		return m2w_err(d, start, "%s %llu: name of %llu bytes, %zu left in the file",
			what, (unsigned long long)i, (unsigned long long)*len, c->len - c->off);
	*p = (const char *)b;
	return 0;
}

static int parse_kv(struct m2w_cursor *c, struct m2w_gguf *g, struct m2w_diag *d)
{
	struct nameset set;

	if (!nameset_init(&set, reachable(g->n_kv, c->len - c->off, 14)))
		return m2w_err(d, M2W_NO_OFFSET, "out of memory for %llu keys",
			(unsigned long long)g->n_kv);
	for (uint64_t i = 0; i < g->n_kv; i++) {
		struct m2w_gguf_kv *kv = &g->kv[i];
		uint32_t type;
		uint64_t dup;
		size_t bad;

		kv->off = c->off;
		if (read_name(c, &kv->key, &kv->key_len, "key", i, d) < 0) {
			free(set.slots);
			return -1;
		}
		if (kv->key_len == 0 || kv->key_len > M2W_MAX_NAME) {
			free(set.slots);
			return m2w_err(d, kv->off, "key %llu has %llu bytes, limit 1..%u",
				(unsigned long long)i, (unsigned long long)kv->key_len,
				(unsigned)M2W_MAX_NAME);
		}
		/* gguf-py refuses such keys too; it keeps keys usable as JSON
		 * object names and C strings */
		if ((bad = utf8_bad(kv->key, kv->key_len)) < kv->key_len) {
			free(set.slots);
			return m2w_err(d, kv->off + 8 + bad, "key %llu: byte 0x%02x is not valid "
				"UTF-8 (or is NUL)", (unsigned long long)i,
				(unsigned char)kv->key[bad]);
		}
		if (nameset_dup(&set, kv->key, kv->key_len, i, &dup)) {
			free(set.slots);
			return m2w_err(d, kv->off, "duplicate key " NAME_FMT " (keys %llu and %llu)",
				NAME_ARG(kv->key, kv->key_len), (unsigned long long)dup,
				(unsigned long long)i);
		}
		size_t type_off = c->off;
		if (!m2w_cur_u32(c, &type) || type >= M2W_GGUF_VTYPE_COUNT) {
			free(set.slots);
			if (c->off == type_off)
				return m2w_err(d, type_off, "key " NAME_FMT ": truncated value type",
					NAME_ARG(kv->key, kv->key_len));
			return m2w_err(d, type_off, "key " NAME_FMT " has value type %u, limit %d",
				NAME_ARG(kv->key, kv->key_len), type, M2W_GGUF_VTYPE_COUNT - 1);
		}
		if (read_value(c, type, 0, &kv->value, kv->key, kv->key_len, d) < 0) {
			free(set.slots);
			return -1;
		}
	}
	free(set.slots);
	return 0;
}

static int parse_alignment(struct m2w_gguf *g, struct m2w_diag *d)
{
	const struct m2w_gguf_kv *kv = m2w_gguf_find(g, "general.alignment");
	uint32_t a;

	g->alignment = M2W_GGUF_DEFAULT_ALIGNMENT;
	if (!kv)
		return 0;
	/* ggml and gguf-py both insist on u32 */
	if (kv->value.type != M2W_GGUF_U32)
		return m2w_err(d, kv->off, "general.alignment is a %s, must be u32",
			m2w_gguf_vtype_name(kv->value.type));
	a = m2w_le32(kv->value.p);
	if (a == 0 || (a & (a - 1)))
		return m2w_err(d, kv->value.off,
			"general.alignment is %u, must be a non-zero power of two", a);
	g->alignment = a;
	return 0;
}

/* x rounded up to the alignment; false on overflow. */
static bool pad(uint64_t x, uint32_t align, uint64_t *r)
{
	if (!m2w_add_u64(x, align - 1, r))
		return false;
	*r &= ~(uint64_t)(align - 1);
	return true;
}

static int parse_tensor(struct m2w_cursor *c, struct m2w_gguf_tensor *t, uint64_t i,
	uint64_t *running, uint32_t align, struct m2w_diag *d)
{
	uint32_t type_id;
	uint64_t rel, padded, field;
	size_t bad;

	t->info_off = c->off;
	if (read_name(c, &t->name, &t->name_len, "tensor", i, d) < 0)
		return -1;
	if (t->name_len >= M2W_GGUF_MAX_TENSOR_NAME)
		return m2w_err(d, t->info_off, "tensor %llu name " NAME_FMT " has %llu bytes, "
			"limit %d (ggml's GGML_MAX_NAME - 1)", (unsigned long long)i,
			NAME_ARG(t->name, t->name_len), (unsigned long long)t->name_len,
			M2W_GGUF_MAX_TENSOR_NAME - 1);
	if ((bad = utf8_bad(t->name, t->name_len)) < t->name_len)
		return m2w_err(d, t->info_off + 8 + bad, "tensor %llu name: byte 0x%02x is not "
			"valid UTF-8 (or is NUL)", (unsigned long long)i,
			(unsigned char)t->name[bad]);
	field = c->off;
	if (!m2w_cur_u32(c, &t->n_dims))
		return m2w_err(d, field, "tensor " NAME_FMT ": truncated n_dims",
			NAME_ARG(t->name, t->name_len));
	if (t->n_dims > M2W_GGUF_MAX_DIMS)
		return m2w_err(d, field, "tensor " NAME_FMT " has %u dims, limit %d "
			"(GGML_MAX_DIMS)", NAME_ARG(t->name, t->name_len), t->n_dims,
			M2W_GGUF_MAX_DIMS);
	t->n_elements = 1;
	for (uint32_t k = 0; k < M2W_GGUF_MAX_DIMS; k++) {
		t->ne[k] = 1;
		if (k >= t->n_dims)
			continue;
		field = c->off;
		if (!m2w_cur_u64(c, &t->ne[k]))
			return m2w_err(d, field, "tensor " NAME_FMT ": truncated dims",
				NAME_ARG(t->name, t->name_len));
		/* ggml holds ne as int64_t */
		if (t->ne[k] > INT64_MAX)
			return m2w_err(d, field, "tensor " NAME_FMT " dim %u is %llu, limit %lld",
				NAME_ARG(t->name, t->name_len), k, (unsigned long long)t->ne[k],
				(long long)INT64_MAX);
		if (!m2w_mul_u64(t->n_elements, t->ne[k], &t->n_elements) ||
			t->n_elements > INT64_MAX)
			return m2w_err(d, field, "tensor " NAME_FMT ": element count overflows "
				"at dim %u (%llu), limit %lld", NAME_ARG(t->name, t->name_len), k,
				(unsigned long long)t->ne[k], (long long)INT64_MAX);
	}
	field = c->off;
	if (!m2w_cur_u32(c, &type_id))
		return m2w_err(d, field, "tensor " NAME_FMT ": truncated type",
			NAME_ARG(t->name, t->name_len));
	t->type = m2w_ggml_type(type_id);
	if (!t->type) {
		const char *why = m2w_ggml_removed(type_id);
		if (why)
			return m2w_err(d, field, "tensor " NAME_FMT " has ggml type %u: %s",
				NAME_ARG(t->name, t->name_len), type_id, why);
		return m2w_err(d, field, "tensor " NAME_FMT " has unknown ggml type %u, limit %d",
			NAME_ARG(t->name, t->name_len), type_id, M2W_GGML_TYPE_COUNT - 1);
	}
	if (t->ne[0] % t->type->block)
		return m2w_err(d, field, "tensor " NAME_FMT ": row of %llu elements is not a "
			"multiple of %s's block of %u", NAME_ARG(t->name, t->name_len),
			(unsigned long long)t->ne[0], t->type->name, t->type->block);
	if (!m2w_ggml_nbytes(t->type, t->ne[0], t->n_elements, &t->bytes))
		return m2w_err(d, field, "tensor " NAME_FMT ": size in bytes overflows",
			NAME_ARG(t->name, t->name_len));
	field = c->off;
	if (!m2w_cur_u64(c, &rel))
		return m2w_err(d, field, "tensor " NAME_FMT ": truncated offset",
			NAME_ARG(t->name, t->name_len));
	if (rel != *running)
		return m2w_err(d, field, "tensor " NAME_FMT " has data offset %llu, expected "
			"%llu (the previous tensors' sizes, each padded to %u)",
			NAME_ARG(t->name, t->name_len), (unsigned long long)rel,
			(unsigned long long)*running, align);
	if (!pad(t->bytes, align, &padded) || !m2w_add_u64(*running, padded, running))
		return m2w_err(d, field, "tensor " NAME_FMT ": data section size overflows",
			NAME_ARG(t->name, t->name_len));
	t->offset = rel; /* made absolute once the data section's start is known */
	return 0;
}

static int parse_tensors(struct m2w_cursor *c, struct m2w_gguf *g, struct m2w_diag *d)
{
	struct nameset set;
	uint64_t running = 0;

	if (!nameset_init(&set, reachable(g->n_tensors, c->len - c->off, 24)))
		return m2w_err(d, M2W_NO_OFFSET, "out of memory for %llu tensors",
			(unsigned long long)g->n_tensors);
	for (uint64_t i = 0; i < g->n_tensors; i++) {
		struct m2w_gguf_tensor *t = &g->tensors[i];
		uint64_t dup;
		if (parse_tensor(c, t, i, &running, g->alignment, d) < 0) {
			free(set.slots);
			return -1;
		}
		if (nameset_dup(&set, t->name, t->name_len, i, &dup)) {
			free(set.slots);
			return m2w_err(d, t->info_off, "duplicate tensor name " NAME_FMT
				" (tensors %llu and %llu)", NAME_ARG(t->name, t->name_len),
				(unsigned long long)dup, (unsigned long long)i);
		}
	}
	free(set.slots);
	g->data_size = running;

	/* the data section starts at the next multiple of the alignment
	 * (relative to the start of the file) */
	if (!pad(c->off, g->alignment, &g->data_off))
		return m2w_err(d, c->off, "data section offset overflows");
	for (uint64_t i = 0; i < g->n_tensors; i++) {
		struct m2w_gguf_tensor *t = &g->tensors[i];
		uint64_t start, end;
		if (!m2w_add_u64(g->data_off, t->offset, &start) ||
			!m2w_add_u64(start, t->bytes, &end) || end > g->size)
			return m2w_err(d, t->info_off, "tensor " NAME_FMT ": data at %llu + %llu "
				"bytes runs past the end of the file (%zu bytes)",
				NAME_ARG(t->name, t->name_len),
				(unsigned long long)g->data_off + t->offset,
				(unsigned long long)t->bytes, g->size);
		t->offset = start;
		t->data = g->base + start;
	}
	return 0;
}

int m2w_gguf_parse(const uint8_t *p, size_t n, struct m2w_gguf *g, struct m2w_diag *d)
{
	struct m2w_cursor c = {p, n, 0};
	uint32_t magic;

	memset(g, 0, sizeof *g);
	g->base = p;
	g->size = n;
	if (!m2w_cur_u32(&c, &magic) || magic != 0x46554747u) /* "GGUF" */
		return m2w_err(d, 0, "not a GGUF file: bad magic");
	if (!m2w_cur_u32(&c, &g->version))
		return m2w_err(d, 4, "truncated header: no version");
	if (g->version && !(g->version & 0xffff))
		return m2w_err(d, 4, "version 0x%08x looks byte-swapped: big-endian GGUF "
			"files are not supported", g->version);
	if (g->version == 1)
		return m2w_err(d, 4, "GGUF v1 is not supported (it has 32-bit counts), "
			"only v2 and v3");
	if (g->version < 2 || g->version > 3)
		return m2w_err(d, 4, "GGUF version %u, supported 2..3", g->version);
	if (!m2w_cur_u64(&c, &g->n_tensors) || !m2w_cur_u64(&c, &g->n_kv))
		return m2w_err(d, c.off, "truncated header: no tensor or key count");

	/* Counts beyond the bytes left are reported here; plausible ones are
	 * left to the entries, which fail exactly where the file runs out.
	 * The tables hold at most as many entries as the bytes left can:
	 * 14 bytes is the smallest key-value (8-byte length, 1-byte key, type,
	 * 1-byte value), 24 the smallest tensor info (empty name, no dims), so
	 * entry rem/14 (rem/24) is the last that can be reached. */
	if (g->n_tensors > n - c.off)
		return m2w_err(d, 8, "%llu tensors, at least 24 bytes each, %zu bytes left "
			"in the file", (unsigned long long)g->n_tensors, n - c.off);
	if (g->n_kv > n - c.off)
		return m2w_err(d, 16, "%llu keys, at least 14 bytes each, %zu bytes left "
			"in the file", (unsigned long long)g->n_kv, n - c.off);
	g->kv = calloc(reachable(g->n_kv, n - c.off, 14), sizeof *g->kv);
	g->tensors = calloc(reachable(g->n_tensors, n - c.off, 24), sizeof *g->tensors);
	if (!g->kv || !g->tensors) {
		m2w_gguf_free(g);
		return m2w_err(d, M2W_NO_OFFSET, "out of memory");
	}
	if (parse_kv(&c, g, d) < 0 || parse_alignment(g, d) < 0 ||
		parse_tensors(&c, g, d) < 0) {
		m2w_gguf_free(g);
		return -1;
	}
	return 0;
}

void m2w_gguf_free(struct m2w_gguf *g)
{
	free(g->kv);
	free(g->tensors);
	memset(g, 0, sizeof *g);
}

const struct m2w_gguf_kv *m2w_gguf_find(const struct m2w_gguf *g, const char *key)
{
	size_t len = strlen(key);

	for (uint64_t i = 0; i < g->n_kv; i++)
		if (g->kv[i].key_len == len && !memcmp(g->kv[i].key, key, len))
			return &g->kv[i];
	return NULL;
}

const struct m2w_gguf_tensor *m2w_gguf_find_tensor(const struct m2w_gguf *g,
	const char *name)
{
	size_t len = strlen(name);

	for (uint64_t i = 0; i < g->n_tensors; i++)
		if (g->tensors[i].name_len == len && !memcmp(g->tensors[i].name, name, len))
			return &g->tensors[i];
	return NULL;
}

/* Integer value of a scalar as sign + magnitude; false for non-integers. */
static bool int_value(const struct m2w_gguf_value *v, bool *neg, uint64_t *mag)
{
	int64_t s;

	*neg = false;
	switch (v->type) {
	case M2W_GGUF_U8: case M2W_GGUF_BOOL: *mag = v->p[0]; return true;
	case M2W_GGUF_U16: *mag = m2w_le16(v->p); return true;
	case M2W_GGUF_U32: *mag = m2w_le32(v->p); return true;
	case M2W_GGUF_U64: *mag = m2w_le64(v->p); return true;
	case M2W_GGUF_I8: s = (int8_t)v->p[0]; break;
	case M2W_GGUF_I16: s = (int16_t)m2w_le16(v->p); break;
	case M2W_GGUF_I32: s = (int32_t)m2w_le32(v->p); break;
	case M2W_GGUF_I64: s = (int64_t)m2w_le64(v->p); break;
	default: return false;
	}
	*neg = s < 0;
	/* magnitude without overflowing on INT64_MIN */
	*mag = *neg ? (uint64_t)0 - (uint64_t)s : (uint64_t)s;
	return true;
}

bool m2w_gguf_get_u64(const struct m2w_gguf_value *v, uint64_t *out)
{
	bool neg;

	if (!int_value(v, &neg, out) || neg)
		return false;
	if (v->type == M2W_GGUF_BOOL)
		*out = *out != 0;
	return true;
}

bool m2w_gguf_get_i64(const struct m2w_gguf_value *v, int64_t *out)
{
	bool neg;
	uint64_t mag;

	if (!int_value(v, &neg, &mag))
		return false;
	if (v->type == M2W_GGUF_BOOL)
		mag = mag != 0;
	if (neg) {
		*out = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
		return true;
	}
	if (mag > INT64_MAX)
		return false;
	*out = (int64_t)mag;
	return true;
}

bool m2w_gguf_get_f64(const struct m2w_gguf_value *v, double *out)
{
	bool neg;
	uint64_t mag;

	if (v->type == M2W_GGUF_F32) {
		uint32_t u = m2w_le32(v->p);
		float f;
		memcpy(&f, &u, sizeof f);
		*out = f;
		return true;
	}
	if (v->type == M2W_GGUF_F64) {
		uint64_t u = m2w_le64(v->p);
		memcpy(out, &u, sizeof *out);
		return true;
	}
	if (!int_value(v, &neg, &mag))
		return false;
	if (v->type == M2W_GGUF_BOOL)
		mag = mag != 0;
	*out = neg ? -(double)mag : (double)mag;
	return true;
}

bool m2w_gguf_get_str(const struct m2w_gguf_value *v, const char **s, uint64_t *len)
{
	if (v->type != M2W_GGUF_STRING)
		return false;
	*s = (const char *)v->p;
	*len = v->len;
	return true;
}

void m2w_gguf_iter_init(struct m2w_gguf_iter *it, const struct m2w_gguf_value *arr)
{
	it->arr = arr;
	it->i = 0;
	it->off = 0;
}

bool m2w_gguf_iter_next(struct m2w_gguf_iter *it, struct m2w_gguf_value *elem)
{
	const struct m2w_gguf_value *a = it->arr;

	if (a->type != M2W_GGUF_ARRAY || it->i >= a->count)
		return false;
	/* a cursor over just this array's bytes, offsets still absolute */
	struct m2w_cursor c = {a->p - a->off, a->off + a->len, a->off + it->off};
	if (read_value(&c, a->elem_type, 0, elem, "", 0, NULL) < 0)
		return false; /* only for values not from a parsed m2w_gguf */
	it->off = c.off - a->off;
	it->i++;
	return true;
}
