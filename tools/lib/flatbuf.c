/* flatbuf: bounded FlatBuffers reads (format notes in flatbuf.h). */
#include <string.h>

#include "flatbuf.h"

/* A table at `pos`: its soffset, vtable and inline size must all fit. */
static int table_at(const struct m2w_fb *fb, size_t pos, int depth, struct m2w_fb_table *t)
{
	if (depth > M2W_MAX_NESTING)
		return m2w_err(fb->d, m2w_fb_abs(fb, pos), "flatbuffer tables nest %d deep, limit %d",
			depth, M2W_MAX_NESTING);
	if (pos > fb->n || fb->n - pos < 4)
		return m2w_err(fb->d, m2w_fb_abs(fb, pos), "table at 0x%zx past the end (0x%zx)",
			pos, fb->n);
	/* soffset is signed: the vtable may sit before or after the table */
	int32_t so = (int32_t)m2w_le32(fb->p + pos);
	int64_t vt = (int64_t)pos - so;
	if (vt < 0 || (uint64_t)vt > fb->n || fb->n - (size_t)vt < 4)
		return m2w_err(fb->d, m2w_fb_abs(fb, pos),
			"soffset %d puts the vtable outside the buffer (0 .. 0x%zx)", (int)so, fb->n);
	uint16_t vsize = m2w_le16(fb->p + vt), tsize = m2w_le16(fb->p + vt + 2);
	if (vsize < 4 || vsize & 1 || vsize > fb->n - (size_t)vt)
		return m2w_err(fb->d, m2w_fb_abs(fb, (size_t)vt),
			"vtable size %u is odd, under 4 or past the end (0x%zx)", vsize, fb->n);
	if (tsize < 4 || tsize > fb->n - pos)
		return m2w_err(fb->d, m2w_fb_abs(fb, (size_t)vt),
			"table size %u under 4 or past the end (0x%zx)", tsize, fb->n - pos);
	t->pos = pos;
	t->vt = (size_t)vt;
	t->vt_size = vsize;
	t->size = tsize;
	t->depth = depth;
	return 0;
}

/* Follows the uoffset at `at`; the target must lie inside the buffer. */
static int follow(const struct m2w_fb *fb, size_t at, size_t *target)
{
	if (at > fb->n || fb->n - at < 4)
		return m2w_err(fb->d, m2w_fb_abs(fb, at), "offset field past the end");
	uint32_t u = m2w_le32(fb->p + at);
	/* builders write children before parents, so 0 (a self-reference) never occurs */
	if (u == 0 || u > fb->n - at)
		return m2w_err(fb->d, m2w_fb_abs(fb, at),
			"uoffset %u points to 0x%llx, outside the buffer (0x%zx)", u,
			(unsigned long long)at + u, fb->n);
	*target = at + u;
	return 0;
}

int m2w_fb_root(const struct m2w_fb *fb, const char *ident, struct m2w_fb_table *t)
{
	size_t pos;

	if (fb->n < 8)
		return m2w_err(fb->d, m2w_fb_abs(fb, 0), "flatbuffer of %zu bytes, need 8", fb->n);
	if (ident && memcmp(fb->p + 4, ident, 4))
		return m2w_err(fb->d, m2w_fb_abs(fb, 4), "file identifier is not \"%.4s\"", ident);
	if (follow(fb, 0, &pos))
		return -1;
	return table_at(fb, pos, 0, t);
}

int m2w_fb_field(const struct m2w_fb *fb, const struct m2w_fb_table *t, unsigned id,
	size_t size, uint16_t *off)
{
	size_t slot = 4 + 2 * (size_t)id;

	*off = 0;
	if (slot + 2 > t->vt_size)
		return 0; /* older writer: field beyond the vtable is absent */
	uint16_t o = m2w_le16(fb->p + t->vt + slot);
	if (o == 0)
		return 0;
	if (o < 4 || size > t->size || o > t->size - size)
		return m2w_err(fb->d, m2w_fb_abs(fb, t->vt + slot),
			"field %u at +%u (%zu bytes) outside its table of %u bytes", id, o, size, t->size);
	*off = o;
	return 0;
}

#define SCALAR(fn, type, sz, load)                                                      \
	int fn(const struct m2w_fb *fb, const struct m2w_fb_table *t, unsigned id, type def, \
		type *v)                                                                     \
	{                                                                                   \
		uint16_t o;                                                                 \
		if (m2w_fb_field(fb, t, id, sz, &o))                                        \
			return -1;                                                          \
		*v = o ? (type)(load(fb->p + t->pos + o)) : def;                           \
		return 0;                                                                   \
	}

static uint8_t ld8(const uint8_t *p) { return p[0]; }

SCALAR(m2w_fb_u8, uint8_t, 1, ld8)
SCALAR(m2w_fb_i8, int8_t, 1, ld8)
SCALAR(m2w_fb_u16, uint16_t, 2, m2w_le16)
SCALAR(m2w_fb_u32, uint32_t, 4, m2w_le32)
SCALAR(m2w_fb_i32, int32_t, 4, m2w_le32)
SCALAR(m2w_fb_u64, uint64_t, 8, m2w_le64)
SCALAR(m2w_fb_i64, int64_t, 8, m2w_le64)

int m2w_fb_f32(const struct m2w_fb *fb, const struct m2w_fb_table *t, unsigned id, float def,
	float *v)
{
	uint16_t o;

	if (m2w_fb_field(fb, t, id, 4, &o))
		return -1;
	if (!o) {
		*v = def;
		return 0;
	}
	uint32_t bits = m2w_le32(fb->p + t->pos + o);
	memcpy(v, &bits, sizeof *v);
	return 0;
}

int m2w_fb_table_ref(const struct m2w_fb *fb, const struct m2w_fb_table *t, unsigned id,
	struct m2w_fb_table *sub, bool *present)
{
	uint16_t o;
	size_t pos;

	if (present)
		*present = false;
	if (m2w_fb_field(fb, t, id, 4, &o))
		return -1;
	if (!o)
		return 0;
	if (follow(fb, t->pos + o, &pos) || table_at(fb, pos, t->depth + 1, sub))
		return -1;
	if (present)
		*present = true;
	return 0;
}

/* A vector whose length word is at `pos`. */
static int vector_at(const struct m2w_fb *fb, size_t pos, size_t elem, struct m2w_fb_vec *v)
{
	if (pos > fb->n || fb->n - pos < 4)
		return m2w_err(fb->d, m2w_fb_abs(fb, pos), "vector at 0x%zx past the end", pos);
	uint32_t len = m2w_le32(fb->p + pos);
	/* len * elem cannot overflow 64 bits: len < 2^32, elem is a small size */
	if ((uint64_t)len * elem > fb->n - pos - 4)
		return m2w_err(fb->d, m2w_fb_abs(fb, pos),
			"vector of %u x %zu bytes runs past the end (%zu bytes left)", len, elem,
			fb->n - pos - 4);
	v->pos = pos + 4;
	v->len = len;
	v->elem = elem;
	return 0;
}

int m2w_fb_vector(const struct m2w_fb *fb, const struct m2w_fb_table *t, unsigned id,
	size_t elem, struct m2w_fb_vec *v, bool *present)
{
	uint16_t o;
	size_t pos;

	v->pos = 0;
	v->len = 0;
	v->elem = elem;
	if (present)
		*present = false;
	if (m2w_fb_field(fb, t, id, 4, &o))
		return -1;
	if (!o)
		return 0;
	if (follow(fb, t->pos + o, &pos) || vector_at(fb, pos, elem, v))
		return -1;
	if (present)
		*present = true;
	return 0;
}

static int string_at(const struct m2w_fb *fb, size_t pos, const char **s, uint32_t *len)
{
	struct m2w_fb_vec v;

	if (vector_at(fb, pos, 1, &v))
		return -1;
	if (v.len > M2W_MAX_NAME)
		return m2w_err(fb->d, m2w_fb_abs(fb, pos), "string of %u bytes, limit %u", v.len,
			(unsigned)M2W_MAX_NAME);
	/* the terminating NUL is part of the format; callers rely on it */
	if (v.pos + v.len >= fb->n || fb->p[v.pos + v.len] != 0)
		return m2w_err(fb->d, m2w_fb_abs(fb, v.pos + v.len), "string not NUL-terminated");
	*s = (const char *)fb->p + v.pos;
	*len = v.len;
	return 0;
}

int m2w_fb_string(const struct m2w_fb *fb, const struct m2w_fb_table *t, unsigned id,
	const char **s, uint32_t *len)
{
	uint16_t o;
	size_t pos;

	*s = NULL;
	*len = 0;
	if (m2w_fb_field(fb, t, id, 4, &o))
		return -1;
	if (!o)
		return 0;
	if (follow(fb, t->pos + o, &pos))
		return -1;
	return string_at(fb, pos, s, len);
}

int m2w_fb_union(const struct m2w_fb *fb, const struct m2w_fb_table *t, unsigned id,
	uint8_t *type, struct m2w_fb_table *sub)
{
	bool present;

	if (m2w_fb_u8(fb, t, id, 0, type))
		return -1;
	if (*type == 0)
		return 0;
	if (m2w_fb_table_ref(fb, t, id + 1, sub, &present))
		return -1;
	if (!present)
		return m2w_err(fb->d, m2w_fb_abs(fb, t->pos), "union %u has type %u but no value", id,
			*type);
	return 0;
}

int m2w_fb_vec_table(const struct m2w_fb *fb, const struct m2w_fb_vec *v, uint32_t i,
	int parent_depth, struct m2w_fb_table *sub)
{
	size_t pos;

	if (i >= v->len || v->elem != 4)
		return m2w_err(fb->d, m2w_fb_abs(fb, v->pos), "vector element %u of %u", i, v->len);
	if (follow(fb, v->pos + (size_t)i * 4, &pos))
		return -1;
	return table_at(fb, pos, parent_depth + 1, sub);
}

int m2w_fb_vec_string(const struct m2w_fb *fb, const struct m2w_fb_vec *v, uint32_t i,
	const char **s, uint32_t *len)
{
	size_t pos;

	if (i >= v->len || v->elem != 4)
		return m2w_err(fb->d, m2w_fb_abs(fb, v->pos), "vector element %u of %u", i, v->len);
	if (follow(fb, v->pos + (size_t)i * 4, &pos))
		return -1;
	return string_at(fb, pos, s, len);
}

void m2w_fb_nested(const struct m2w_fb *fb, const struct m2w_fb_vec *v, struct m2w_fb *child)
{
	child->p = fb->p + v->pos;
	child->n = (size_t)v->len * v->elem;
	child->base = fb->base + v->pos;
	child->d = fb->d;
}
