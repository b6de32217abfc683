/* flatbuf: bounded, read-only access to a FlatBuffers binary.
 *
 * Layout (flatbuffers.dev "internals"): little-endian throughout.  Byte 0
 * holds a uoffset (u32) to the root table, bytes 4..8 an optional file
 * identifier.  A table starts with an soffset (i32): the table position
 * minus its vtable's position.  A vtable is u16s: its own size in bytes, the
 * table's inline size, then one slot per field id giving the field's offset
 * from the table start (0 = absent, take the schema default).  Reference
 * fields hold a uoffset relative to the field's own position and point
 * forward; a vector is a u32 length followed by its elements, a string a
 * byte vector followed by a NUL.  A union is two fields: a u8 type at id n
 * and a table reference at id n + 1.
 *
 * Nothing in the buffer is trusted: every position is checked against the
 * buffer length before it is read, vtables must be even-sized, at least 4
 * bytes and inside the buffer, every field must lie inside its table's inline
 * size, vector byte sizes are overflow-checked, strings must end in a NUL,
 * and table nesting is limited to M2W_MAX_NESTING.  Errors carry absolute
 * file offsets (`base` is where the buffer starts in the file, non-zero for a
 * flatbuffer nested in a zip member or in a byte vector).
 */
#ifndef M2W_FLATBUF_H
#define M2W_FLATBUF_H

#include "m2w.h"

struct m2w_fb {
	const uint8_t *p;
	size_t n;
	uint64_t base; /* file offset of p[0], for diagnostics */
	struct m2w_diag *d;
};

struct m2w_fb_table {
	size_t pos;      /* table start, from p */
	size_t vt;       /* vtable start */
	uint16_t vt_size;
	uint16_t size;   /* inline size of the table */
	int depth;
};

struct m2w_fb_vec {
	size_t pos;   /* first element, from p */
	uint32_t len; /* element count */
	size_t elem;  /* element size the caller asked for */
};

/* Reads the root offset; when `ident` is non-NULL the 4 bytes at 4 must match. */
int m2w_fb_root(const struct m2w_fb *fb, const char *ident, struct m2w_fb_table *t);

/* Offset of field `id` inside the table, 0 when absent.  Checks that
 * `size` bytes of the field fit in the table's inline size. */
int m2w_fb_field(const struct m2w_fb *fb, const struct m2w_fb_table *t, unsigned id,
	size_t size, uint16_t *off);

/* Scalars with the schema default when the field is absent. */
int m2w_fb_u8(const struct m2w_fb *fb, const struct m2w_fb_table *t, unsigned id,
	uint8_t def, uint8_t *v);
int m2w_fb_i8(const struct m2w_fb *fb, const struct m2w_fb_table *t, unsigned id,
	int8_t def, int8_t *v);
int m2w_fb_u16(const struct m2w_fb *fb, const struct m2w_fb_table *t, unsigned id,
	uint16_t def, uint16_t *v);
int m2w_fb_u32(const struct m2w_fb *fb, const struct m2w_fb_table *t, unsigned id,
	uint32_t def, uint32_t *v);
int m2w_fb_i32(const struct m2w_fb *fb, const struct m2w_fb_table *t, unsigned id,
	int32_t def, int32_t *v);
int m2w_fb_u64(const struct m2w_fb *fb, const struct m2w_fb_table *t, unsigned id,
	uint64_t def, uint64_t *v);
int m2w_fb_i64(const struct m2w_fb *fb, const struct m2w_fb_table *t, unsigned id,
	int64_t def, int64_t *v);
int m2w_fb_f32(const struct m2w_fb *fb, const struct m2w_fb_table *t, unsigned id,
	float def, float *v);

/* Reference fields.  *present (may be NULL) tells whether the field is set;
 * an absent vector reads as empty, an absent string as NULL. */
int m2w_fb_table_ref(const struct m2w_fb *fb, const struct m2w_fb_table *t, unsigned id,
	struct m2w_fb_table *sub, bool *present);
int m2w_fb_vector(const struct m2w_fb *fb, const struct m2w_fb_table *t, unsigned id,
	size_t elem, struct m2w_fb_vec *v, bool *present);
/* The string's bytes and length (without the NUL, which is checked). */
int m2w_fb_string(const struct m2w_fb *fb, const struct m2w_fb_table *t, unsigned id,
	const char **s, uint32_t *len);
/* Union at ids (id, id + 1): *type 0 = NONE, then *sub is untouched. */
int m2w_fb_union(const struct m2w_fb *fb, const struct m2w_fb_table *t, unsigned id,
	uint8_t *type, struct m2w_fb_table *sub);

/* Element i of a vector of tables / strings (elem must have been 4). */
int m2w_fb_vec_table(const struct m2w_fb *fb, const struct m2w_fb_vec *v, uint32_t i,
	int parent_depth, struct m2w_fb_table *sub);
int m2w_fb_vec_string(const struct m2w_fb *fb, const struct m2w_fb_vec *v, uint32_t i,
	const char **s, uint32_t *len);
/* Scalar element i; the vector was bounds-checked when it was read. */
static inline const uint8_t *m2w_fb_vec_at(const struct m2w_fb *fb,
	const struct m2w_fb_vec *v, uint32_t i)
{
	return fb->p + v->pos + (size_t)i * v->elem;
}

/* A flatbuffer stored in a [ubyte] vector (flatbuffers "nested_flatbuffer"). */
void m2w_fb_nested(const struct m2w_fb *fb, const struct m2w_fb_vec *v, struct m2w_fb *child);

/* Absolute file offset of a buffer position (for diagnostics). */
static inline uint64_t m2w_fb_abs(const struct m2w_fb *fb, size_t pos)
{
	return fb->base + pos;
}

#endif
