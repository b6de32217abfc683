/* cursor: every binary read in libm2w goes through a bounds check here. */
#include <string.h>

#include "m2w.h"

uint16_t m2w_le16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }

uint32_t m2w_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

uint64_t m2w_le64(const uint8_t *p)
{
	return (uint64_t)m2w_le32(p) | (uint64_t)m2w_le32(p + 4) << 32;
}

bool m2w_cur_u8(struct m2w_cursor *c, uint8_t *v)
{
	if (!m2w_cur_can(c, 1))
		return false;
	*v = c->base[c->off++];
	return true;
}

bool m2w_cur_u16(struct m2w_cursor *c, uint16_t *v)
{
	if (!m2w_cur_can(c, 2))
		return false;
	*v = m2w_le16(c->base + c->off);
	c->off += 2;
	return true;
}

bool m2w_cur_u32(struct m2w_cursor *c, uint32_t *v)
{
	if (!m2w_cur_can(c, 4))
		return false;
	*v = m2w_le32(c->base + c->off);
	c->off += 4;
	return true;
}

bool m2w_cur_u64(struct m2w_cursor *c, uint64_t *v)
{
	if (!m2w_cur_can(c, 8))
		return false;
	*v = m2w_le64(c->base + c->off);
	c->off += 8;
	return true;
}

bool m2w_cur_skip(struct m2w_cursor *c, size_t n)
{
	if (!m2w_cur_can(c, n))
		return false;
	c->off += n;
	return true;
}

bool m2w_cur_bytes(struct m2w_cursor *c, size_t n, const uint8_t **p)
{
	if (!m2w_cur_can(c, n))
		return false;
	*p = c->base + c->off;
	c->off += n;
	return true;
}

bool m2w_mul_u64(uint64_t a, uint64_t b, uint64_t *r)
{
	if (a && b > UINT64_MAX / a)
		return false;
	*r = a * b;
	return true;
}

bool m2w_add_u64(uint64_t a, uint64_t b, uint64_t *r)
{
	if (b > UINT64_MAX - a)
		return false;
	*r = a + b;
	return true;
}
