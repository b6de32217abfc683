/* check: element-wise comparison of .npy activation checkpoints.
 *
 * Inputs are NumPy .npy files (headers parsed by npy.c on the mapping, data
 * streamed, see "streaming"); any of f32 f16 bf16 f64 i8..u64 bool on either
 * side, converted to double a block at a time, so a pair of huge arrays
 * costs a few small buffers whatever its size.  The rule is
 * NumPy's allclose per element: |act - ref| <= atol + rtol * |ref|, NaN never
 * equal, an infinity equal only to the same infinity.  Statistics (max/mean
 * abs, max rel) cover the pairs where both sides are finite.
 *
 * Ordering sources, first that applies: an order file (one name a line,
 * '#' comments, ".npy" optional); every name starting with digits (sorted
 * by that number); ACT_DIR/manifest.json {"checkpoints": ["name", ...]};
 * the byte order of the names.
 */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "check.h"

#define NONE UINT64_MAX
#define BLOCK 2048 /* elements converted per step: two 16 KiB buffers */
#define MAX_PERMS 64 /* axis permutations tried for "transposed-equal" */

/* Hint thresholds (see m2w_check_hint). */
#define FIT_RESID 0.05   /* scale fit explains the data: residual < 5% */
#define OFFSET_SPREAD 0.1 /* constant offset: std(diff) < 10% of |mean(diff)| */
#define NEAR 0.02        /* a ratio "is" 2 or sqrt(d) within 2% */
#define BIG_RATIO 50.0   /* "about 100x or more" starts here */
#define UNCORRELATED 0.3 /* |Pearson r| below this */
#define SAME_SCALE 0.005 /* a fitted scale within 0.5% of 1 is no scale bug */
#define FEW 0.1          /* "a few elements": under 10% fail */

const char *m2w_check_order_name(enum m2w_check_order o)
{
	static const char *const names[] = {"order-file", "numeric-prefix", "manifest", "name"};
	return (unsigned)o < 4 ? names[o] : "?";
}

const char *m2w_check_status_name(enum m2w_check_status s)
{
	static const char *const names[] = {"pass", "fail", "error", "missing", "skipped"};
	return (unsigned)s < 5 ? names[s] : "?";
}

/* ---- elements ---- */

static bool comparable(enum m2w_dtype t)
{
	switch (t) {
	case M2W_DT_F32: case M2W_DT_F16: case M2W_DT_BF16: case M2W_DT_F64:
	case M2W_DT_I8: case M2W_DT_U8: case M2W_DT_I16: case M2W_DT_U16:
	case M2W_DT_I32: case M2W_DT_U32: case M2W_DT_I64: case M2W_DT_U64:
	case M2W_DT_BOOL:
		return true;
	default:
		return false;
	}
}

/* Byte-wise little-endian loads: compilers turn these into plain loads on
 * little-endian hosts, and they stay correct on big-endian ones. */
static inline uint16_t ld16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}
static inline uint32_t ld32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t ld64(const uint8_t *p)
{
	return (uint64_t)ld32(p) | (uint64_t)ld32(p + 4) << 32;
}

/* n elements of type t at p as doubles. */
static void convert(enum m2w_dtype t, const uint8_t *p, size_t n, double *out)
{
	switch (t) {
	case M2W_DT_F32:
		for (size_t i = 0; i < n; i++) {
			uint32_t u = ld32(p + 4 * i);
			float f;
			memcpy(&f, &u, 4);
			out[i] = f;
		}
		break;
	case M2W_DT_F64:
		for (size_t i = 0; i < n; i++) {
			uint64_t u = ld64(p + 8 * i);
			memcpy(&out[i], &u, 8);
		}
		break;
	case M2W_DT_F16:
		for (size_t i = 0; i < n; i++)
			out[i] = m2w_f16_to_f32(ld16(p + 2 * i));
		break;
	case M2W_DT_BF16:
		for (size_t i = 0; i < n; i++)
			out[i] = m2w_bf16_to_f32(ld16(p + 2 * i));
		break;
	case M2W_DT_I8:
		for (size_t i = 0; i < n; i++)
			out[i] = (int8_t)p[i];
		break;
	case M2W_DT_U8:
	case M2W_DT_BOOL:
		for (size_t i = 0; i < n; i++)
			out[i] = p[i];
		break;
	case M2W_DT_I16:
		for (size_t i = 0; i < n; i++)
			out[i] = (int16_t)ld16(p + 2 * i);
		break;
	case M2W_DT_U16:
		for (size_t i = 0; i < n; i++)
			out[i] = ld16(p + 2 * i);
		break;
	case M2W_DT_I32:
		for (size_t i = 0; i < n; i++)
			out[i] = (int32_t)ld32(p + 4 * i);
		break;
	case M2W_DT_U32:
		for (size_t i = 0; i < n; i++)
			out[i] = ld32(p + 4 * i);
		break;
	case M2W_DT_I64:
		for (size_t i = 0; i < n; i++)
			out[i] = (double)(int64_t)ld64(p + 8 * i);
		break;
	case M2W_DT_U64:
		for (size_t i = 0; i < n; i++)
			out[i] = (double)ld64(p + 8 * i);
		break;
	default:
		for (size_t i = 0; i < n; i++)
			out[i] = NAN;
		break;
	}
}

/* Elements [start, start+n) of a mapped array. */
static void load_block(const struct m2w_npy *x, uint64_t start, size_t n, double *out)
{
	convert(x->dtype, x->data + start * m2w_dtype_size(x->dtype), n, out);
}

static double load_one(const struct m2w_npy *x, uint64_t i)
{
	double v;
	load_block(x, i, 1, &v);
	return v;
}

/* ---- streaming ---- */

/* The sweeps read element bytes a chunk at a time with pread into a buffer
 * that stays in cache, rather than through the mapping: one pass over a
 * mapping pays for a page-table entry per page, set up and torn down, which
 * measured 4x slower than pread on the paravirtualised 2-vCPU build machine
 * (page-table updates trap there) and is no faster on bare metal.  The
 * mapping still serves the header, the few random reads (worst element,
 * first values, the transposed test) and callers that pass no fd. */
#define CHUNK (256u << 10) /* bytes per side per read */

struct src {
	const struct m2w_npy *a;
	int fd;       /* -1: read the mapping */
	uint8_t *buf; /* CHUNK bytes when fd >= 0 */
};

static const uint8_t *src_get(struct src *s, uint64_t start, size_t n)
{
	size_t es = m2w_dtype_size(s->a->dtype), len = n * es;
	off_t off = (off_t)(s->a->data_off + start * es);

	if (s->fd < 0)
		return s->a->data + start * es;
	for (size_t got = 0; got < len;) {
		ssize_t r = pread(s->fd, s->buf + got, len - got, off + (off_t)got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			if (r == 0)
				errno = EIO; /* the file shrank under us */
			return NULL;
		}
		got += (size_t)r;
	}
	return s->buf;
}

typedef void (*sweep_fn)(void *ctx, const uint8_t *rp, const uint8_t *ap, uint64_t base,
	size_t n);

/* fn over consecutive chunks of r and a (a may be NULL), each a whole
 * number of BLOCKs so block boundaries fall where they would in one pass.
 * Returns -1 with *failed = 0 (r) or 1 (a) when a read fails (errno set). */
static int sweep(struct src *r, struct src *a, uint64_t count, sweep_fn fn, void *ctx,
	int *failed)
{
	size_t es = m2w_dtype_size(r->a->dtype);
	if (a && m2w_dtype_size(a->a->dtype) > es)
		es = m2w_dtype_size(a->a->dtype);
	size_t step = CHUNK / es / BLOCK * BLOCK;

	for (uint64_t at = 0; at < count; at += step) {
		size_t n = count - at < step ? (size_t)(count - at) : step;
		const uint8_t *rp = src_get(r, at, n), *ap = NULL;
		if (!rp) {
			*failed = 0;
			return -1;
		}
		if (a && !(ap = src_get(a, at, n))) {
			*failed = 1;
			return -1;
		}
		fn(ctx, rp, ap, at, n);
	}
	return 0;
}

/* ---- shapes ---- */

static bool same_shape(const struct m2w_check_side *a, const struct m2w_check_side *b)
{
	if (a->ndim != b->ndim)
		return false;
	for (int i = 0; i < a->ndim; i++)
		if (a->shape[i] != b->shape[i])
			return false;
	return true;
}

/* NumPy broadcasting: right-aligned dims equal or one of them 1. */
static bool broadcastable(const struct m2w_check_side *a, const struct m2w_check_side *b)
{
	for (int i = 1; i <= a->ndim && i <= b->ndim; i++) {
		uint64_t x = a->shape[a->ndim - i], y = b->shape[b->ndim - i];
		if (x != y && x != 1 && y != 1)
			return false;
	}
	return true;
}

static int fmt_dims(char *buf, size_t n, const uint64_t *v, int nd, const char *sep,
	const char *open, const char *close)
{
	int len = snprintf(buf, n, "%s", open);
	for (int i = 0; i < nd && (size_t)len < n; i++)
		len += snprintf(buf + len, n - (size_t)len, "%s%llu", i ? sep : "",
			(unsigned long long)v[i]);
	if ((size_t)len < n)
		len += snprintf(buf + len, n - (size_t)len, "%s", close);
	return len;
}

/* Flat index -> "[i, j, k]" in the given shape. */
static void fmt_index(char *buf, size_t n, uint64_t flat, const struct m2w_check_side *s)
{
	uint64_t idx[M2W_MAX_DIMS] = {0};

	for (int i = s->ndim - 1; i >= 0; i--) {
		uint64_t dim = s->shape[i] ? s->shape[i] : 1;
		idx[i] = flat % dim;
		flat /= dim;
	}
	fmt_dims(buf, n, idx, s->ndim, ", ", "[", "]");
}

static bool elem_pass(double a, double b, double atol, double rtol)
{
	if (isnan(a) || isnan(b))
		return false;
	if (isinf(a) || isinf(b))
		return a == b;
	return fabs(a - b) <= atol + rtol * fabs(b);
}

/* Does act, its axes read in the order perm, equal ref element-wise?
 * rshape/ashape are the shapes without size-1 axes (which do not move
 * data), nd long.  Walks ref in order and act with permuted strides;
 * stops at the first miss. */
static bool perm_equal(const struct m2w_npy *ref, const struct m2w_npy *act, int nd,
	const uint64_t *rshape, const uint64_t *ashape, const int *perm, double atol, double rtol)
{
	uint64_t astride[M2W_MAX_DIMS], idx[M2W_MAX_DIMS] = {0}, off = 0;

	for (int i = nd - 1; i >= 0; i--)
		astride[i] = i == nd - 1 ? 1 : astride[i + 1] * ashape[i + 1];
	for (uint64_t k = 0; k < ref->count; k++) {
		if (!elem_pass(load_one(act, off), load_one(ref, k), atol, rtol))
			return false;
		for (int i = nd - 1; i >= 0; i--) { /* odometer over ref's index */
			off += astride[perm[i]];
			if (++idx[i] < rshape[i])
				break;
			off -= astride[perm[i]] * idx[i];
			idx[i] = 0;
		}
	}
	return true;
}

/* Shape without its size-1 axes; axis[] gets their original numbers. */
static int squeeze(const struct m2w_npy *x, uint64_t *shape, int *axis)
{
	int n = 0;
	for (int i = 0; i < x->ndim; i++)
		if (x->shape[i] != 1)
			axis[n] = i, shape[n++] = x->shape[i];
	return n;
}

/* Next permutation in lexicographic order; false after the last. */
static bool next_perm(int *p, int n)
{
	int i = n - 2, j = n - 1;

	while (i >= 0 && p[i] >= p[i + 1])
		i--;
	if (i < 0)
		return false;
	while (p[j] <= p[i])
		j--;
	int t = p[i];
	p[i] = p[j], p[j] = t;
	for (int a = i + 1, b = n - 1; a < b; a++, b--)
		t = p[a], p[a] = p[b], p[b] = t;
	return true;
}

static void relate_shapes(const struct m2w_npy *ref, const struct m2w_npy *act,
	struct m2w_check_item *it)
{
	char rs[96], as[96];

	fmt_dims(rs, sizeof rs, it->ref.shape, it->ref.ndim, "x", "", "");
	fmt_dims(as, sizeof as, it->act.shape, it->act.ndim, "x", "", "");
	if (it->compared && it->failing == 0) {
		it->relation = "reshape-equal";
		snprintf(it->relation_detail, sizeof it->relation_detail,
			"same values in the same order, ACT shape %s instead of %s", as, rs);
		return;
	}
	uint64_t rsq[M2W_MAX_DIMS], asq[M2W_MAX_DIMS];
	int raxis[M2W_MAX_DIMS], aaxis[M2W_MAX_DIMS];
	int nd = squeeze(ref, rsq, raxis);
	if (ref->count == act->count && ref->count > 0 && nd == squeeze(act, asq, aaxis) &&
	    nd > 1) {
		int perm[M2W_MAX_DIMS], tried = 0;
		for (int i = 0; i < nd; i++)
			perm[i] = i;
		while (next_perm(perm, nd) && tried < MAX_PERMS) {
			bool fits = true;
			for (int i = 0; i < nd; i++)
				fits = fits && asq[perm[i]] == rsq[i];
			if (!fits)
				continue;
			tried++;
			if (perm_equal(ref, act, nd, rsq, asq, perm, it->atol, it->rtol)) {
				uint64_t p64[M2W_MAX_DIMS];
				char ps[64];
				for (int i = 0; i < nd; i++)
					p64[i] = (uint64_t)aaxis[perm[i]];
				fmt_dims(ps, sizeof ps, p64, nd, ", ", "(", ")");
				it->relation = "transposed-equal";
				snprintf(it->relation_detail, sizeof it->relation_detail,
					"ACT %s transposed with axes %s%s equals REF %s", as, ps,
					nd < act->ndim || nd < ref->ndim ? " (size-1 axes aside)" : "",
					rs);
				return;
			}
		}
	}
	if (broadcastable(&it->ref, &it->act)) {
		it->relation = "broadcastable";
		snprintf(it->relation_detail, sizeof it->relation_detail,
			"ACT %s and REF %s broadcast together but are not the same shape", as, rs);
		return;
	}
	it->relation = "incompatible";
	snprintf(it->relation_detail, sizeof it->relation_detail, "ACT %s vs REF %s%s", as, rs,
		ref->count == act->count ? " (same element count, values differ)" : "");
}

/* ---- the per-element pass ---- */

struct acc {
	double atol, rtol;
	uint64_t failing, slow, first_fail, first_bad, worst;
	uint64_t ref_nan, ref_inf, act_nan, act_inf;
	double sum_abs, max_abs, max_rel, max_excess;
};

/* A pair where one side is NaN or Inf (or a - b overflows). */
static void acc_slow(struct acc *s, double a, double b, uint64_t idx)
{
	bool an = isnan(a), bn = isnan(b), ai = isinf(a), bi = isinf(b);

	s->act_nan += an, s->ref_nan += bn, s->act_inf += ai, s->ref_inf += bi;
	s->slow++;
	if (ai && bi && a == b)
		return;
	s->failing++;
	if (s->first_fail == NONE)
		s->first_fail = idx;
	if (s->first_bad == NONE)
		s->first_bad = idx;
}

/* Block statistics before they are folded into struct acc.  Lane k sums
 * the elements whose index has parity k, in index order, in every code
 * path, so the SSE2 and the plain C paths give bit-identical results. */
struct lanes {
	double sum[2], mabs, mex, mrel;
	uint64_t fails;
};

static void lane_one(struct lanes *L, double b, double a, int k, double atol, double rtol)
{
	double ad = fabs(a - b), ab = fabs(b), ex = ad - rtol * ab;

	L->sum[k] += ad;
	L->fails += ad > atol + rtol * ab;
	L->mex = ex > L->mex ? ex : L->mex;
	L->mabs = ad > L->mabs ? ad : L->mabs;
	if (ad > L->mrel * ab && ab > 0) /* ad/ab > mrel: divide only then */
		L->mrel = ad / ab;
}

/* Finite pairs, two at a time; stops before the first pair holding a NaN or
 * Inf (seen as d - d != 0) and returns how many elements it consumed. */
static size_t fast_dbl(struct lanes *L, const double *b, const double *a, size_t n,
	double atol, double rtol)
{
	double s0 = L->sum[0], s1 = L->sum[1], mabs0 = L->mabs, mabs1 = L->mabs;
	double mex0 = L->mex, mex1 = L->mex, mrel = L->mrel;
	uint64_t f0 = 0, f1 = 0;
	size_t i = 0;

	for (; i + 2 <= n; i += 2) {
		double d0 = a[i] - b[i], d1 = a[i + 1] - b[i + 1];
		if (d0 - d0 != 0 || d1 - d1 != 0)
			break;
		double ad0 = fabs(d0), ab0 = fabs(b[i]), ad1 = fabs(d1), ab1 = fabs(b[i + 1]);
		s0 += ad0, s1 += ad1;
		f0 += ad0 > atol + rtol * ab0;
		f1 += ad1 > atol + rtol * ab1;
		double e0 = ad0 - rtol * ab0, e1 = ad1 - rtol * ab1;
		mex0 = e0 > mex0 ? e0 : mex0;
		mex1 = e1 > mex1 ? e1 : mex1;
		mabs0 = ad0 > mabs0 ? ad0 : mabs0;
		mabs1 = ad1 > mabs1 ? ad1 : mabs1;
		if (ad0 > mrel * ab0 && ab0 > 0)
			mrel = ad0 / ab0;
		if (ad1 > mrel * ab1 && ab1 > 0)
			mrel = ad1 / ab1;
	}
	L->sum[0] = s0, L->sum[1] = s1;
	L->mabs = mabs0 > mabs1 ? mabs0 : mabs1;
	L->mex = mex0 > mex1 ? mex0 : mex1;
	L->mrel = mrel;
	L->fails += f0 + f1;
	return i;
}

#ifdef __SSE2__
/* The same for two f32 arrays read straight from the mapping: the common
 * case (f32 reference vs f32 engine) without the conversion buffers, two
 * doubles per instruction.  Must match fast_dbl exactly. */
static size_t fast_f32_sse2(struct lanes *L, const uint8_t *bp, const uint8_t *ap, size_t n,
	double atol, double rtol)
{
	const __m128d absmask = _mm_castsi128_pd(_mm_set1_epi64x(INT64_MAX));
	const __m128d vat = _mm_set1_pd(atol), vrt = _mm_set1_pd(rtol), zero = _mm_setzero_pd();
	__m128d sum = _mm_set_pd(L->sum[1], L->sum[0]);
	__m128d mabs = _mm_set1_pd(L->mabs), mex = _mm_set1_pd(L->mex);
	__m128d vrel = _mm_set1_pd(L->mrel);
	__m128i fails = _mm_setzero_si128();
	double mrel = L->mrel, t[2], u[2];
	uint64_t f[2];
	size_t i = 0;

	for (; i + 2 <= n; i += 2) {
		__m128d vb = _mm_cvtps_pd(_mm_castsi128_ps(_mm_loadl_epi64((const void *)(bp + 4 * i))));
		__m128d va = _mm_cvtps_pd(_mm_castsi128_ps(_mm_loadl_epi64((const void *)(ap + 4 * i))));
		__m128d d = _mm_sub_pd(va, vb);
		if (_mm_movemask_pd(_mm_cmpneq_pd(_mm_sub_pd(d, d), zero)))
			break;
		__m128d ad = _mm_and_pd(d, absmask), ab = _mm_and_pd(vb, absmask);
		__m128d rb = _mm_mul_pd(vrt, ab);
		sum = _mm_add_pd(sum, ad);
		fails = _mm_sub_epi64(fails, _mm_castpd_si128(_mm_cmpgt_pd(ad, _mm_add_pd(vat, rb))));
		mex = _mm_max_pd(_mm_sub_pd(ad, rb), mex);
		mabs = _mm_max_pd(ad, mabs);
		if (_mm_movemask_pd(_mm_cmpgt_pd(ad, _mm_mul_pd(vrel, ab)))) {
			_mm_storeu_pd(t, ad);
			_mm_storeu_pd(u, ab);
			for (int k = 0; k < 2; k++)
				if (t[k] > mrel * u[k] && u[k] > 0)
					mrel = t[k] / u[k];
			vrel = _mm_set1_pd(mrel);
		}
	}
	_mm_storeu_pd(L->sum, sum);
	_mm_storeu_pd(t, mabs);
	L->mabs = t[0] > t[1] ? t[0] : t[1];
	_mm_storeu_pd(t, mex);
	L->mex = t[0] > t[1] ? t[0] : t[1];
	L->mrel = mrel;
	_mm_storeu_si128((void *)f, fails);
	L->fails += f[0] + f[1];
	return i;
}
#endif

/* One block [base, base+n): the fast path while pairs are finite, then a
 * careful loop for the rest; indices (first failure, worst element) come
 * from a rescan of the rare block that changes them, which keeps them equal
 * to a plain in-order scan.  rb/ab are BLOCK-sized scratch buffers. */
static void acc_block(struct acc *s, enum m2w_dtype rt, const uint8_t *rp, enum m2w_dtype at_,
	const uint8_t *ap, uint64_t base, size_t n, double *rb, double *ab)
{
	const double atol = s->atol, rtol = s->rtol;
	struct lanes L = {.mex = -INFINITY, .mrel = s->max_rel};
	bool loaded = false;
	size_t i;

#ifdef __SSE2__
	if (rt == M2W_DT_F32 && at_ == M2W_DT_F32)
		i = fast_f32_sse2(&L, rp, ap, n, atol, rtol);
	else
#endif
	{
		convert(rt, rp, n, rb);
		convert(at_, ap, n, ab);
		loaded = true;
		i = fast_dbl(&L, rb, ab, n, atol, rtol);
	}
	if (i < n && !loaded) {
		convert(rt, rp, n, rb);
		convert(at_, ap, n, ab);
		loaded = true;
	}
	for (; i < n; i++) {
		double d = ab[i] - rb[i];
		if (d - d != 0)
			acc_slow(s, ab[i], rb[i], base + i);
		else
			lane_one(&L, rb[i], ab[i], (int)(i & 1), atol, rtol);
	}
	s->sum_abs += L.sum[0] + L.sum[1];
	s->max_abs = L.mabs > s->max_abs ? L.mabs : s->max_abs;
	s->max_rel = L.mrel;
	s->failing += L.fails;

	/* rescans: the first finite failure when no earlier block had one, and
	 * the block's argmax of the excess when it beats every earlier block */
	bool need_first = L.fails && (s->first_fail == NONE || s->first_fail >= base);
	bool need_worst = L.mex > s->max_excess;
	if (!need_first && !need_worst)
		return;
	if (!loaded) {
		convert(rt, rp, n, rb);
		convert(at_, ap, n, ab);
	}
	double best = -INFINITY;
	uint64_t at = NONE;
	for (size_t j = 0; j < n; j++) {
		double d = ab[j] - rb[j];
		if (d - d != 0)
			continue;
		double ad = fabs(d), ax = fabs(rb[j]), ex = ad - rtol * ax;
		if (need_first && ad > atol + rtol * ax) {
			if (base + j < s->first_fail)
				s->first_fail = base + j;
			need_first = false;
		}
		if (ex > best)
			best = ex, at = base + j;
	}
	if (need_worst && best > s->max_excess)
		s->max_excess = best, s->worst = at;
}

struct acc_ctx {
	struct acc *s;
	enum m2w_dtype rt, at;
};

static void acc_chunk(void *ctx, const uint8_t *rp, const uint8_t *ap, uint64_t base, size_t n)
{
	struct acc_ctx *c = ctx;
	double rb[BLOCK], ab[BLOCK];
	size_t rs = m2w_dtype_size(c->rt), as = m2w_dtype_size(c->at);

	for (size_t i = 0; i < n; i += BLOCK) {
		size_t m = n - i < BLOCK ? n - i : BLOCK;
		acc_block(c->s, c->rt, rp + i * rs, c->at, ap + i * as, base + i, m, rb, ab);
	}
}

struct count_ctx {
	enum m2w_dtype t;
	uint64_t nan, inf;
};

static void count_chunk(void *ctx, const uint8_t *p, const uint8_t *unused, uint64_t base,
	size_t n)
{
	struct count_ctx *c = ctx;
	double b[BLOCK];
	size_t es = m2w_dtype_size(c->t);

	(void)unused, (void)base;
	for (size_t i = 0; i < n; i += BLOCK) {
		size_t m = n - i < BLOCK ? n - i : BLOCK;
		convert(c->t, p + i * es, m, b);
		for (size_t j = 0; j < m; j++)
			c->nan += isnan(b[j]), c->inf += isinf(b[j]);
	}
}

/* m2w_check_arrays over sources; -1 when a read fails (*failed: side). */
static int compare(struct src *rs, struct src *as, struct m2w_check_item *it, int *failed)
{
	const struct m2w_npy *ref = rs->a, *act = as->a;
	struct acc s = {
		.atol = it->atol, .rtol = it->rtol, .first_fail = NONE, .first_bad = NONE,
		.worst = NONE, .max_excess = -INFINITY,
	};
	struct m2w_check_side *sides[2] = {&it->ref, &it->act};
	struct src *srcs[2] = {rs, as};

	for (int k = 0; k < 2; k++) {
		const struct m2w_npy *x = srcs[k]->a;
		sides[k]->parsed = true;
		sides[k]->dtype = x->dtype;
		sides[k]->ndim = x->ndim;
		memcpy(sides[k]->shape, x->shape, sizeof x->shape);
		sides[k]->count = x->count;
		sides[k]->nan = sides[k]->inf = 0;
		sides[k]->counted = false;
	}
	it->shape_match = same_shape(&it->ref, &it->act);
	it->compared = ref->count == act->count;
	it->first_fail = NONE;
	it->worst = NONE;
	if (it->compared) {
		struct acc_ctx c = {&s, ref->dtype, act->dtype};
		if (sweep(rs, as, ref->count, acc_chunk, &c, failed) < 0)
			return -1;
		it->n = ref->count;
		it->failing = s.failing;
		it->finite = ref->count - s.slow;
		it->first_fail = s.first_fail;
		it->max_abs = s.max_abs;
		it->max_rel = s.max_rel;
		it->mean_abs = it->finite ? s.sum_abs / (double)it->finite : 0;
		if (s.first_bad != NONE) {
			it->atol_needed = INFINITY;
			it->worst = s.first_bad;
		} else {
			it->atol_needed = s.max_excess > 0 ? s.max_excess : 0;
			it->worst = s.max_abs > 0 ? s.worst : NONE; /* all equal: none */
		}
		if (it->worst != NONE) {
			it->worst_ref = load_one(ref, it->worst);
			it->worst_act = load_one(act, it->worst);
		}
		it->ref.nan = s.ref_nan, it->ref.inf = s.ref_inf;
		it->act.nan = s.act_nan, it->act.inf = s.act_inf;
	} else {
		/* counts differ: still count NaN/Inf on each side */
		for (int k = 0; k < 2; k++) {
			struct count_ctx c = {srcs[k]->a->dtype, 0, 0};
			if (sweep(srcs[k], NULL, srcs[k]->a->count, count_chunk, &c, failed) < 0) {
				*failed = k;
				return -1;
			}
			sides[k]->nan = c.nan, sides[k]->inf = c.inf;
		}
	}
	it->ref.counted = it->act.counted = true;
	bool fail = !it->shape_match || it->failing > 0;
	it->status = fail ? M2W_CHECK_FAIL : M2W_CHECK_PASS;
	if (!it->shape_match)
		relate_shapes(ref, act, it);
	if (fail) {
		uint64_t n = ref->count < act->count ? ref->count : act->count;
		it->nshow = n < M2W_CHECK_SHOW ? (int)n : M2W_CHECK_SHOW;
		load_block(ref, 0, (size_t)it->nshow, it->show_ref);
		load_block(act, 0, (size_t)it->nshow, it->show_act);
	}
	return 0;
}

void m2w_check_arrays(const struct m2w_npy *ref, const struct m2w_npy *act,
	struct m2w_check_item *it)
{
	struct src rs = {ref, -1, NULL}, as = {act, -1, NULL};
	int failed;

	compare(&rs, &as, it, &failed); /* reads from memory cannot fail */
}

/* ---- hints for the root ---- */

static bool near(double x, double target)
{
	return fabs(x - target) <= NEAR * fabs(target);
}

static void hint(struct m2w_check_item *it, const char *kind, const char *text,
	const char *check)
{
	it->hint.kind = kind;
	snprintf(it->hint.text, sizeof it->hint.text, "%s", text);
	snprintf(it->hint.check, sizeof it->hint.check, "%s", check);
}

/* Names a ratio act/ref: 2, 0.5, sqrt 2, 1/sqrt 2, or sqrt(d) / 1/sqrt(d)
 * for d a dim of the tensor or a common head size.  Returns false when the
 * ratio is none of them. */
static bool known_factor(double s, const struct m2w_check_side *sh, char *buf, size_t n)
{
	static const struct { double v; const char *name; } simple[] = {
		{2, "2"}, {0.5, "1/2"}, {1.4142135623730951, "sqrt(2)"},
		{0.7071067811865476, "1/sqrt(2)"},
	};
	static const uint64_t heads[] = {16, 32, 64, 80, 96, 128, 256};
	uint64_t cand[M2W_MAX_DIMS + 7];
	int nc = 0;

	for (size_t i = 0; i < sizeof simple / sizeof simple[0]; i++)
		if (near(s, simple[i].v)) {
			snprintf(buf, n, "%s", simple[i].name);
			return true;
		}
	for (int i = sh->ndim - 1; i >= 0; i--) /* innermost dim first */
		if (sh->shape[i] >= 3)
			cand[nc++] = sh->shape[i];
	for (size_t i = 0; i < sizeof heads / sizeof heads[0]; i++)
		cand[nc++] = heads[i];
	for (int i = 0; i < nc; i++) {
		double r = sqrt((double)cand[i]);
		if (near(s, r) || near(s, 1 / r)) {
			snprintf(buf, n, "%ssqrt(%llu)", near(s, r) ? "" : "1/",
				(unsigned long long)cand[i]);
			return true;
		}
	}
	return false;
}

struct moments {
	enum m2w_dtype rt, at;
	double sa, sb, saa, sbb, sab, sd, sdd;
	uint64_t nf;
};

static void moments_chunk(void *ctx, const uint8_t *rp, const uint8_t *ap, uint64_t base,
	size_t n)
{
	struct moments *m = ctx;
	double rb[BLOCK], ab[BLOCK];
	size_t rs = m2w_dtype_size(m->rt), as = m2w_dtype_size(m->at);

	(void)base;
	for (size_t i = 0; i < n; i += BLOCK) {
		size_t k = n - i < BLOCK ? n - i : BLOCK;
		convert(m->rt, rp + i * rs, k, rb);
		convert(m->at, ap + i * as, k, ab);
		for (size_t j = 0; j < k; j++) {
			double a = ab[j], b = rb[j], d = a - b;
			if (!isfinite(d))
				continue;
			m->nf++;
			m->sa += a, m->sb += b, m->saa += a * a, m->sbb += b * b, m->sab += a * b;
			m->sd += d, m->sdd += d * d;
		}
	}
}

/* m2w_check_hint over sources (NULL for error/missing items). */
static int hint_src(struct src *rs, struct src *as, struct m2w_check_item *it, int *failed)
{
	const struct m2w_npy *ref = rs ? rs->a : NULL, *act = as ? as->a : NULL;
	char check[640], text[256];

	memset(&it->hint, 0, sizeof it->hint);
	if (it->status == M2W_CHECK_ERROR) {
		hint(it, "unreadable", "the checkpoint file cannot be read; fix the dump first",
			it->error);
		return 0;
	}
	if (it->status == M2W_CHECK_MISSING) {
		hint(it, "missing",
			it->act.present ? "no reference for a checkpoint the pipeline names"
					: "the engine never wrote this checkpoint (capture not reached "
					  "or named differently)",
			it->act.present ? "REF file absent" : "ACT file absent");
		return 0;
	}
	if (!ref || !act || it->status != M2W_CHECK_FAIL)
		return 0;

	uint64_t nb_ref = it->ref.nan + it->ref.inf, nb_act = it->act.nan + it->act.inf;
	snprintf(check, sizeof check, "NaN/Inf counts: REF %llu/%llu, ACT %llu/%llu",
		(unsigned long long)it->ref.nan, (unsigned long long)it->ref.inf,
		(unsigned long long)it->act.nan, (unsigned long long)it->act.inf);
	if (nb_act > nb_ref) {
		hint(it, "nonfinite", "ACT has NaN/Inf where REF is finite: overflow (f16 range "
				      "is 65504), division by zero, sqrt/log of a negative, or an "
				      "uninitialised buffer", check);
		return 0;
	}
	if (nb_ref > nb_act) {
		hint(it, "nonfinite", "REF has NaN/Inf that ACT does not: the reference dump "
				      "itself overflows or is broken", check);
		return 0;
	}
	if (!it->shape_match) {
		const char *why = "the output size is wrong (wrong dims or a missing op)";
		const char *kind = "shape";
		if (!strcmp(it->relation, "transposed-equal")) {
			why = "a layout bug: the data is right but transposed (NHWC vs NCHW, a "
			      "missing or extra transpose)";
			kind = "layout";
		} else if (!strcmp(it->relation, "reshape-equal")) {
			why = "the values are right, only the declared shape differs (a reshape "
			      "or squeeze in the capture)";
		} else if (!strcmp(it->relation, "broadcastable")) {
			why = "the shapes broadcast: a missing broadcast, reduction or keepdims";
		}
		snprintf(check, sizeof check, "shape relation %s: %s", it->relation,
			it->relation_detail);
		hint(it, kind, why, check);
		return 0;
	}

	/* Moments over the pairs where both sides are finite; a second pass,
	 * done for the root only so the main loop stays lean. */
	struct moments m = {.rt = ref->dtype, .at = act->dtype};
	if (sweep(rs, as, ref->count, moments_chunk, &m, failed) < 0)
		return -1;
	double sa = m.sa, sb = m.sb, saa = m.saa, sbb = m.sbb, sab = m.sab, sd = m.sd, sdd = m.sdd;
	uint64_t nf = m.nf;
	if (!nf) {
		hint(it, "nonfinite", "no finite pairs to analyse", check);
		return 0;
	}
	double n = (double)nf;
	if (saa == 0 && sbb > 0) {
		snprintf(check, sizeof check,
			"sum of ACT^2 is 0 over %llu elements, REF's is %.6g",
			(unsigned long long)nf, sbb);
		hint(it, "unwritten", "ACT is all zeros: the buffer was never written (missing "
				      "dispatch, wrong binding, or a readback of the wrong buffer)",
			check);
		return 0;
	}

	double mean_d = sd / n, var_d = sdd / n - mean_d * mean_d;
	double sd_d = var_d > 0 ? sqrt(var_d) : 0;
	if (fabs(mean_d) > it->atol && sd_d <= OFFSET_SPREAD * fabs(mean_d)) {
		snprintf(check, sizeof check,
			"mean(ACT-REF) = %.6g with std %.3g (< %.0f%% of |mean|)", mean_d, sd_d,
			OFFSET_SPREAD * 100);
		snprintf(text, sizeof text,
			"constant offset ACT = REF %c %.6g: an activation or padding difference "
			"(bias added twice or missing, pad value, activation's constant term)",
			mean_d < 0 ? '-' : '+', fabs(mean_d));
		hint(it, "offset", text, check);
		return 0;
	}

	double k = saa > 0 ? sab / saa : 0; /* least squares: REF ~ k * ACT */
	double res2 = sbb - k * sab, resid = sbb > 0 && res2 > 0 ? sqrt(res2 / sbb) : 0;
	bool fits = saa > 0 && sbb > 0 && k != 0 && resid < FIT_RESID;
	double s = fits ? 1 / k : 0; /* ACT / REF */
	if (fits && fabs(s - 1) > SAME_SCALE) {
		char f[64];
		snprintf(check, sizeof check,
			"least-squares fit REF ~ k*ACT: k = %.6g, residual %.3g%% of |REF| (< %.0f%%)",
			k, resid * 100, FIT_RESID * 100);
		if (fabs(s) >= BIG_RATIO || fabs(s) <= 1 / BIG_RATIO) {
			snprintf(text, sizeof text,
				"ACT is %.4g x REF (about 100x or more): wrong weights or a missing "
				"dequantization (quantized values used raw, scale or zero point "
				"missing)", s);
			hint(it, "weights", text, check);
		} else if (near(s, -1)) {
			hint(it, "sign", "ACT is -REF: a sign flip (negated weight, subtraction in the "
					 "wrong order)", check);
		} else if (known_factor(fabs(s), &it->ref, f, sizeof f)) {
			snprintf(text, sizeof text,
				"ACT is %s%s x REF: a missing scale factor (x2 / 0.5 / sqrt 2, or "
				"1/sqrt(d) as in attention)", s < 0 ? "-" : "", f);
			hint(it, "scale", text, check);
		} else {
			snprintf(text, sizeof text,
				"ACT is %.4g x REF: a wrong constant scale (normalisation, "
				"dequantization scale, epsilon)", s);
			hint(it, "scale", text, check);
		}
		return 0;
	}

	uint64_t f = it->first_fail;
	double frac = (double)it->failing / (double)it->n;
	char idx[128];
	fmt_index(idx, sizeof idx, f == NONE ? 0 : f, &it->ref);
	if (f != NONE && f >= 8 && f >= it->n / 100 &&
	    (double)it->failing >= 0.5 * (double)(it->n - f)) {
		snprintf(check, sizeof check,
			"elements 0..%llu pass, then %.3g%% of the rest fail from flat index %llu %s",
			(unsigned long long)(f - 1),
			100.0 * (double)it->failing / (double)(it->n - f), (unsigned long long)f,
			idx);
		hint(it, "stride", "a correct prefix, then garbage: a size or stride bug (wrong "
				   "dims, row pitch, offset, or dispatch bounds)", check);
		return 0;
	}
	if (fits) { /* ACT ~ 1 x REF overall */
		snprintf(check, sizeof check,
			"fit REF ~ k*ACT: k = %.6g, residual %.3g%%; %llu of %llu elements fail "
			"(%.3g%%), first at %s",
			k, resid * 100, (unsigned long long)it->failing, (unsigned long long)it->n,
			frac * 100, idx);
		if (frac < FEW)
			hint(it, "localized", "ACT matches REF except a few elements: boundary "
					      "handling (image border, padding, the last partial tile "
					      "or workgroup, masking)", check);
		else
			hint(it, "precision", "ACT follows REF (scale 1) but misses the tolerance "
					      "broadly: accumulated rounding (f16, reduction order) or a "
					      "tolerance too tight for this op", check);
		return 0;
	}

	double cov = sab / n - (sa / n) * (sb / n);
	double va = saa / n - (sa / n) * (sa / n), vb = sbb / n - (sb / n) * (sb / n);
	double r = va > 0 && vb > 0 ? cov / sqrt(va * vb) : 0;
	if (fabs(r) < UNCORRELATED) {
		snprintf(check, sizeof check, "Pearson correlation r = %.3g (|r| < %.2g)", r,
			UNCORRELATED);
		hint(it, "binding", "ACT is uncorrelated with REF: a wrong buffer or binding "
				    "(another tensor, a stale or unwritten buffer)", check);
		return 0;
	}
	snprintf(check, sizeof check,
		"r = %.3g, scale fit residual %.3g%%, mean(ACT-REF) = %.3g with std %.3g, "
		"first failure at %s",
		r, resid * 100, mean_d, sd_d, idx);
	hint(it, "unknown", "no single pattern: correlated but not a scale, an offset or a "
			    "prefix; suspect the op itself (formula, axis, layout inside the op)",
		check);
	return 0;
}

void m2w_check_hint(const struct m2w_npy *ref, const struct m2w_npy *act,
	struct m2w_check_item *it)
{
	struct src rs = {ref, -1, NULL}, as = {act, -1, NULL};
	int failed;

	hint_src(ref ? &rs : NULL, act ? &as : NULL, it, &failed);
}


/* ---- tolerance overrides ---- */

struct tol_entry {
	char *name;
	double atol, rtol;
	bool has_atol, has_rtol, used;
};

struct m2w_check_tols {
	struct tol_entry def;
	struct tol_entry *e;
	size_t n;
};

static char *strip_npy(const char *s)
{
	size_t n = strlen(s);
	if (n > 4 && !strcmp(s + n - 4, ".npy"))
		n -= 4;
	return strndup(s, n);
}

static int tol_field(const cJSON *o, const char *key, double *v, bool *has, const char *name,
	const struct m2w_file *f, struct m2w_diag *d)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!x)
		return 0;
	if (!cJSON_IsNumber(x) || !(x->valuedouble >= 0) || isinf(x->valuedouble)) {
		char at[300];
		snprintf(at, sizeof at, "%s/%s", name, key);
		return m2w_err(d, m2w_json_pos(f->data, f->size, at),
			"\"%s\": \"%s\" must be a finite number >= 0", name, key);
	}
	*v = x->valuedouble;
	*has = true;
	return 0;
}

int m2w_check_tols_load(struct m2w_check_tols **out, const char *path, struct m2w_diag *d)
{
	struct m2w_file f;
	const char *end = NULL;
	struct m2w_check_tols *t;
	cJSON *root, *o;

	*out = NULL;
	if (m2w_file_map(&f, path, d) < 0)
		return -1;
	root = cJSON_ParseWithLengthOpts((const char *)f.data, f.size, &end, false);
	if (!root) {
		uint64_t off = end ? (uint64_t)(end - (const char *)f.data) : 0;
		m2w_file_unmap(&f);
		return m2w_err(d, off, "not valid JSON");
	}
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		m2w_file_unmap(&f);
		return m2w_err(d, 0, "tolerances must be a JSON object of checkpoint names");
	}
	t = calloc(1, sizeof *t);
	size_t cap = (size_t)cJSON_GetArraySize(root);
	if (t)
		t->e = calloc(cap ? cap : 1, sizeof *t->e);
	if (!t || !t->e) {
		free(t);
		cJSON_Delete(root);
		m2w_file_unmap(&f);
		return m2w_err(d, M2W_NO_OFFSET, "out of memory");
	}
	cJSON_ArrayForEach(o, root) {
		if (!cJSON_IsObject(o)) {
			m2w_err(d, m2w_json_pos(f.data, f.size, o->string),
				"\"%s\" must be an object like {\"atol\": 0.01}", o->string);
			goto fail;
		}
		struct tol_entry *e = !strcmp(o->string, "default") ? &t->def : &t->e[t->n++];
		if (e != &t->def && !(e->name = strip_npy(o->string))) {
			m2w_err(d, M2W_NO_OFFSET, "out of memory");
			goto fail;
		}
		if (tol_field(o, "atol", &e->atol, &e->has_atol, o->string, &f, d) < 0 ||
		    tol_field(o, "rtol", &e->rtol, &e->has_rtol, o->string, &f, d) < 0)
			goto fail;
	}
	cJSON_Delete(root);
	m2w_file_unmap(&f);
	*out = t;
	return 0;
fail:
	cJSON_Delete(root);
	m2w_file_unmap(&f);
	m2w_check_tols_free(t);
	return -1;
}

void m2w_check_tols_free(struct m2w_check_tols *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		free(t->e[i].name);
	free(t->e);
	free(t);
}

void m2w_check_tols_default(const struct m2w_check_tols *t, double *atol, double *rtol)
{
	if (t && t->def.has_atol)
		*atol = t->def.atol;
	if (t && t->def.has_rtol)
		*rtol = t->def.rtol;
}

const char *m2w_check_tols_unused(const struct m2w_check_tols *t, size_t i)
{
	for (size_t k = 0; t && k < t->n; k++)
		if (!t->e[k].used && i-- == 0)
			return t->e[k].name;
	return NULL;
}

static void tols_for(struct m2w_check_tols *t, const char *name, double *atol,
	double *rtol)
{
	for (size_t k = 0; t && k < t->n; k++)
		if (!strcmp(t->e[k].name, name)) {
			t->e[k].used = true;
			if (t->e[k].has_atol)
				*atol = t->e[k].atol;
			if (t->e[k].has_rtol)
				*rtol = t->e[k].rtol;
		}
}

/* ---- listing and ordering ---- */

struct entry {
	char *name;
	bool in_ref, in_act, need_ref, need_act;
	long pos; /* position from the order source, -1 when not listed */
};

struct listing {
	struct entry *e;
	size_t n, cap;
};

static struct entry *find_entry(struct listing *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->e[i].name, name))
			return &l->e[i];
	return NULL;
}

static struct entry *add_entry(struct listing *l, const char *name)
{
	struct entry *e = find_entry(l, name);
	if (e)
		return e;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct entry *p = realloc(l->e, cap * sizeof *p);
		if (!p)
			return NULL;
		l->e = p, l->cap = cap;
	}
	e = &l->e[l->n];
	memset(e, 0, sizeof *e);
	e->pos = -1;
	if (!(e->name = strdup(name)))
		return NULL;
	l->n++;
	return e;
}

static void listing_free(struct listing *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->e[i].name);
	free(l->e);
}

static int list_dir(struct listing *l, const char *dir, bool act, struct m2w_diag *d)
{
	DIR *dp = opendir(dir);
	struct dirent *de;

	if (!dp) {
		d->file = dir;
		return m2w_err(d, M2W_NO_OFFSET, "cannot open folder: %s", strerror(errno));
	}
	while ((de = readdir(dp))) {
		size_t n = strlen(de->d_name);
		if (n <= 4 || strcmp(de->d_name + n - 4, ".npy") || de->d_name[0] == '.')
			continue;
		char *name = strndup(de->d_name, n - 4);
		struct entry *e = name ? add_entry(l, name) : NULL;
		free(name);
		if (!e) {
			closedir(dp);
			return m2w_err(d, M2W_NO_OFFSET, "out of memory");
		}
		if (act)
			e->in_act = true;
		else
			e->in_ref = true;
	}
	closedir(dp);
	return 0;
}

/* Leading digits without their leading zeros: compared by length, then bytes. */
static size_t digits(const char *s, const char **start)
{
	while (*s == '0' && s[1] >= '0' && s[1] <= '9')
		s++;
	*start = s;
	size_t n = 0;
	while (s[n] >= '0' && s[n] <= '9')
		n++;
	return n;
}

static int cmp_entry(const void *x, const void *y)
{
	const struct entry *a = x, *b = y;

	if (a->pos >= 0 || b->pos >= 0) { /* listed ones first, in list order */
		if (a->pos < 0)
			return 1;
		if (b->pos < 0)
			return -1;
		return a->pos < b->pos ? -1 : a->pos > b->pos;
	}
	return strcmp(a->name, b->name);
}

static int cmp_prefix(const void *x, const void *y)
{
	const struct entry *a = x, *b = y;
	const char *da, *db;
	size_t na = digits(a->name, &da), nb = digits(b->name, &db);

	if (na != nb)
		return na < nb ? -1 : 1;
	int c = memcmp(da, db, na);
	return c ? c : strcmp(a->name, b->name);
}

static void sort_listing(struct listing *l, int (*cmp)(const void *, const void *))
{
	if (l->n) /* qsort(NULL, 0, ...) is undefined */
		qsort(l->e, l->n, sizeof *l->e, cmp);
}

/* One name a line; '#' starts a comment; blank lines skipped. */
static int read_order_file(struct listing *l, const char *path, struct m2w_diag *d)
{
	struct m2w_file f;
	long pos = 0;

	d->file = path;
	if (m2w_file_map(&f, path, d) < 0)
		return -1;
	for (size_t at = 0; at < f.size;) {
		const char *line = (const char *)f.data + at;
		const char *nl = memchr(line, '\n', f.size - at);
		size_t len = nl ? (size_t)(nl - line) : f.size - at, off = at;
		at += len + 1;
		while (len && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t'))
			len--;
		while (len && (*line == ' ' || *line == '\t'))
			line++, len--, off++;
		if (!len || *line == '#')
			continue;
		if (memchr(line, '\0', len) || memchr(line, '/', len)) {
			m2w_file_unmap(&f);
			return m2w_err(d, off, "a checkpoint name holds '/' or NUL");
		}
		char *raw = strndup(line, len), *name = raw ? strip_npy(raw) : NULL;
		struct entry *e = name ? add_entry(l, name) : NULL;
		free(raw);
		free(name);
		if (!e) {
			m2w_file_unmap(&f);
			return m2w_err(d, M2W_NO_OFFSET, "out of memory");
		}
		if (e->pos >= 0) {
			m2w_err(d, off, "checkpoint \"%s\" listed twice (first on entry %ld)", e->name,
				e->pos + 1);
			m2w_file_unmap(&f);
			return -1;
		}
		e->pos = pos++;
		e->need_ref = e->need_act = true;
	}
	m2w_file_unmap(&f);
	return 0;
}

/* ACT_DIR/manifest.json: {"checkpoints": ["name", ...]}.  Returns 1 when
 * read, 0 when there is no manifest. */
static int read_manifest(struct listing *l, const char *act_dir, char **pathp,
	struct m2w_diag *d)
{
	size_t n = strlen(act_dir) + 16;
	char *path = malloc(n);
	struct m2w_file f;
	const char *end = NULL;
	cJSON *root, *list, *x;
	long pos = 0;
	int rc = -1;

	if (!path)
		return m2w_err(d, M2W_NO_OFFSET, "out of memory");
	snprintf(path, n, "%s/manifest.json", act_dir);
	FILE *probe = fopen(path, "rb");
	if (!probe) {
		free(path);
		return 0;
	}
	fclose(probe);
	*pathp = path; /* the diag names it; freed with the run */
	d->file = path;
	if (m2w_file_map(&f, path, d) < 0)
		return -1;
	root = cJSON_ParseWithLengthOpts((const char *)f.data, f.size, &end, false);
	if (!root) {
		m2w_err(d, end ? (uint64_t)(end - (const char *)f.data) : 0, "not valid JSON");
		m2w_file_unmap(&f);
		return -1;
	}
	list = cJSON_GetObjectItemCaseSensitive(root, "checkpoints");
	if (!cJSON_IsArray(list)) {
		m2w_err(d, m2w_json_pos(f.data, f.size, "checkpoints"),
			"needs {\"checkpoints\": [\"name\", ...]}");
		goto out;
	}
	cJSON_ArrayForEach(x, list) {
		char at[48];
		snprintf(at, sizeof at, "checkpoints/%ld", pos);
		if (!cJSON_IsString(x) || strchr(x->valuestring, '/')) {
			m2w_err(d, m2w_json_pos(f.data, f.size, at),
				"checkpoint %ld is not a plain name string", pos);
			goto out;
		}
		char *name = strip_npy(x->valuestring);
		struct entry *e = name ? add_entry(l, name) : NULL;
		free(name);
		if (!e) {
			m2w_err(d, M2W_NO_OFFSET, "out of memory");
			goto out;
		}
		if (e->pos >= 0) {
			m2w_err(d, m2w_json_pos(f.data, f.size, at), "checkpoint \"%s\" listed twice",
				e->name);
			goto out;
		}
		e->pos = pos++;
		e->need_act = true;
	}
	rc = 1;
out:
	cJSON_Delete(root);
	m2w_file_unmap(&f);
	return rc;
}

/* ---- the run ---- */

static char *join(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 6;
	char *p = malloc(n);
	if (p)
		snprintf(p, n, "%s/%s.npy", dir, name);
	return p;
}

/* One side of a pair: mapped and parsed, plus an fd for the sweeps. */
struct side_file {
	char *path;
	struct m2w_file f;
	struct m2w_npy a;
	struct src src;
};

static void close_side(struct side_file *sf)
{
	if (sf->src.fd >= 0)
		close(sf->src.fd);
	m2w_file_unmap(&sf->f);
	free(sf->path);
}

/* On failure the item turns ERROR with the diag, FILE:0xOFF when the
 * .npy itself is bad. */
static int open_side(struct m2w_check_item *it, const char *dir, struct m2w_check_side *side,
	struct side_file *sf, uint8_t *buf)
{
	struct m2w_diag d;
	struct stat st;

	memset(sf, 0, sizeof *sf);
	sf->src.fd = -1;
	sf->path = join(dir, it->name);
	m2w_diag_init(&d, sf->path);
	if (!sf->path) {
		snprintf(it->error, sizeof it->error, "out of memory");
		it->status = M2W_CHECK_ERROR;
		return -1;
	}
	if (m2w_file_map(&sf->f, sf->path, &d) < 0 ||
	    m2w_npy_parse(sf->f.data, sf->f.size, &sf->a, &d) < 0 ||
	    (!comparable(sf->a.dtype) &&
		    m2w_err(&d, M2W_NO_OFFSET, "dtype %s cannot be compared",
			    m2w_dtype_name(sf->a.dtype)) < 0) ||
	    (sf->src.fd = open(sf->path, O_RDONLY | O_CLOEXEC)) < 0 ||
	    fstat(sf->src.fd, &st) < 0 ||
	    ((uint64_t)st.st_size != sf->f.size &&
		    m2w_err(&d, M2W_NO_OFFSET, "changed size while being read") < 0)) {
		if (!d.msg[0])
			m2w_err(&d, M2W_NO_OFFSET, "cannot open: %s", strerror(errno));
		m2w_diag_format(&d, it->error, sizeof it->error);
		it->status = M2W_CHECK_ERROR;
		close_side(sf);
		return -1;
	}
	side->parsed = true;
	side->dtype = sf->a.dtype;
	side->ndim = sf->a.ndim;
	memcpy(side->shape, sf->a.shape, sizeof sf->a.shape);
	side->count = sf->a.count;
	sf->src.a = &sf->a;
	sf->src.buf = buf;
	posix_fadvise(sf->src.fd, 0, 0, POSIX_FADV_SEQUENTIAL); /* read ahead */
	return 0;
}

static void compare_item(struct m2w_check_run *r, struct m2w_check_item *it, uint8_t *bufs)
{
	struct side_file rf, af;
	bool ok_r = open_side(it, r->ref_dir, &it->ref, &rf, bufs) == 0;
	bool ok_a = ok_r && open_side(it, r->act_dir, &it->act, &af, bufs + CHUNK) == 0;
	int failed = 0, rc = 0;

	if (ok_r && ok_a) {
		rc = compare(&rf.src, &af.src, it, &failed);
		if (rc == 0 && it->status != M2W_CHECK_PASS && r->root == SIZE_MAX)
			rc = hint_src(&rf.src, &af.src, it, &failed);
		if (rc < 0) {
			snprintf(it->error, sizeof it->error, "%s: error: read failed: %s",
				failed ? af.path : rf.path, strerror(errno));
			it->status = M2W_CHECK_ERROR;
			it->compared = false;
			it->nshow = 0;
		}
	}
	if ((!ok_r || !ok_a || rc < 0) && r->root == SIZE_MAX)
		hint_src(NULL, NULL, it, &failed);
	if (ok_r)
		close_side(&rf);
	if (ok_a)
		close_side(&af);
}

static void free_items(struct m2w_check_run *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->items[i].name);
	free(r->items);
	r->items = NULL;
	r->n = 0;
}

int m2w_check_run(struct m2w_check_run *r, const char *ref_dir, const char *act_dir,
	const struct m2w_check_opts *o, struct m2w_diag *d)
{
	struct listing l = {0};
	uint8_t *bufs = NULL;
	int m;

	memset(r, 0, sizeof *r);
	r->ref_dir = ref_dir, r->act_dir = act_dir;
	r->root = SIZE_MAX;
	r->atol = o->atol, r->rtol = o->rtol;
	if (list_dir(&l, ref_dir, false, d) < 0 || list_dir(&l, act_dir, true, d) < 0)
		goto fail;
	sort_listing(&l, cmp_entry); /* by name: readdir order is arbitrary */
	if (o->order_file) {
		if (read_order_file(&l, o->order_file, d) < 0)
			goto fail;
		r->order = M2W_CHECK_ORDER_FILE;
		sort_listing(&l, cmp_entry);
	} else {
		const char *dummy;
		bool prefixed = l.n > 0;
		for (size_t i = 0; i < l.n; i++)
			prefixed = prefixed && digits(l.e[i].name, &dummy) > 0;
		if (prefixed) {
			r->order = M2W_CHECK_ORDER_PREFIX;
			sort_listing(&l, cmp_prefix);
		} else if ((m = read_manifest(&l, act_dir, &r->manifest, d)) < 0) {
			goto fail;
		} else {
			r->order = m ? M2W_CHECK_ORDER_MANIFEST : M2W_CHECK_ORDER_NAME;
			sort_listing(&l, cmp_entry);
		}
	}
	if (!l.n) {
		d->file = ref_dir;
		m2w_err(d, M2W_NO_OFFSET, "no .npy checkpoints in %s or %s", ref_dir, act_dir);
		goto fail;
	}
	r->items = calloc(l.n, sizeof *r->items);
	bufs = malloc(2 * CHUNK);
	if (!r->items || !bufs) {
		m2w_err(d, M2W_NO_OFFSET, "out of memory");
		goto fail;
	}
	for (size_t i = 0; i < l.n; i++) {
		struct m2w_check_item *it = &r->items[i];
		struct entry *e = &l.e[i];
		it->name = e->name;
		e->name = NULL;
		r->n++;
		it->ref.present = e->in_ref, it->act.present = e->in_act;
		it->atol = r->atol, it->rtol = r->rtol;
		tols_for(o->tols, it->name, &it->atol, &it->rtol);
		if ((e->need_ref && !e->in_ref) || (e->need_act && !e->in_act)) {
			it->status = M2W_CHECK_MISSING;
			if (r->root == SIZE_MAX)
				m2w_check_hint(NULL, NULL, it);
		} else if (!e->in_ref || !e->in_act) {
			it->status = M2W_CHECK_SKIPPED;
		} else {
			compare_item(r, it, bufs);
		}
		switch (it->status) {
		case M2W_CHECK_PASS: r->passed++; break;
		case M2W_CHECK_SKIPPED: r->skipped++; break;
		default:
			r->failed++;
			if (r->root == SIZE_MAX) {
				r->root = i;
				it->root = true;
			} else {
				it->downstream = true;
			}
		}
	}
	listing_free(&l);
	free(bufs);
	if (!r->passed && !r->failed) {
		d->file = act_dir;
		m2w_err(d, M2W_NO_OFFSET, "no checkpoint is present in both %s and %s", ref_dir,
			act_dir);
		free_items(r); /* keeps r->manifest: d may name it */
		return -1;
	}
	return 0;
fail:
	listing_free(&l);
	free(bufs);
	free_items(r);
	return -1;
}

void m2w_check_run_free(struct m2w_check_run *r)
{
	free_items(r);
	free(r->manifest);
	r->manifest = NULL;
}

/* ---- text report ---- */

static void fmt_num(char *buf, size_t n, double v)
{
	if (isnan(v))
		snprintf(buf, n, "nan");
	else if (isinf(v))
		snprintf(buf, n, v < 0 ? "-inf" : "inf");
	else
		snprintf(buf, n, "%.6g", v == 0 ? 0 : v); /* no "-0" */
}

static void fmt_shape(char *buf, size_t n, const struct m2w_check_side *s)
{
	if (!s->parsed)
		snprintf(buf, n, "-");
	else if (!s->ndim)
		snprintf(buf, n, "scalar");
	else
		fmt_dims(buf, n, s->shape, s->ndim, "x", "", "");
}

static const char *status_word(const struct m2w_check_item *it)
{
	switch (it->status) {
	case M2W_CHECK_PASS: return "pass";
	case M2W_CHECK_SKIPPED: return it->ref.present ? "skipped (no ACT)" : "skipped (no REF)";
	case M2W_CHECK_FAIL: return it->root ? "FAIL root" : "FAIL downstream";
	case M2W_CHECK_ERROR: return it->root ? "ERROR root" : "ERROR downstream";
	case M2W_CHECK_MISSING: return it->root ? "MISSING root" : "MISSING downstream";
	}
	return "?";
}

static void text_side(FILE *fp, const char *label, const char *dir,
	const struct m2w_check_item *it, const struct m2w_check_side *s)
{
	char sh[128];

	if (!s->present) {
		fprintf(fp, "  %-10s %s/%s.npy absent\n", label, dir, it->name);
		return;
	}
	if (!s->parsed) {
		fprintf(fp, "  %-10s %s/%s.npy unreadable\n", label, dir, it->name);
		return;
	}
	fmt_dims(sh, sizeof sh, s->shape, s->ndim, ", ", "[", "]");
	fprintf(fp, "  %-10s %s/%s.npy %s %s", label, dir, it->name, m2w_dtype_name(s->dtype), sh);
	if (s->counted)
		fprintf(fp, ", NaN %llu, Inf %llu", (unsigned long long)s->nan,
			(unsigned long long)s->inf);
	fprintf(fp, "\n");
}

static void text_detail(FILE *fp, const struct m2w_check_run *r,
	const struct m2w_check_item *it)
{
	char a[64], b[64], c[64], idx[128];

	fprintf(fp, "\n%s: %s%s\n", it->root ? "root" : "downstream", it->name,
		it->root ? ", the first failing checkpoint"
			 : " (fails after the root; fix the root first)");
	text_side(fp, "ref", r->ref_dir, it, &it->ref);
	text_side(fp, "act", r->act_dir, it, &it->act);
	if (it->status == M2W_CHECK_ERROR)
		fprintf(fp, "  %-10s %s\n", "error", it->error);
	if (it->relation)
		fprintf(fp, "  %-10s %s: %s\n", "shape", it->relation, it->relation_detail);
	if (it->compared) {
		fmt_num(a, sizeof a, it->atol);
		fmt_num(b, sizeof b, it->rtol);
		fprintf(fp, "  %-10s atol %s, rtol %s (per element: |act - ref| <= atol + rtol*|ref|)\n",
			"tolerance", a, b);
		if (it->first_fail != NONE) {
			fmt_index(idx, sizeof idx, it->first_fail, &it->ref);
			fprintf(fp, "  %-10s %llu of %llu elements (%.3g%%), first at %s\n", "failing",
				(unsigned long long)it->failing, (unsigned long long)it->n,
				100.0 * (double)it->failing / (double)it->n, idx);
		} else {
			fprintf(fp, "  %-10s 0 of %llu elements\n", "failing",
				(unsigned long long)it->n);
		}
		if (it->worst != NONE) {
			fmt_index(idx, sizeof idx, it->worst, &it->ref);
			fmt_num(a, sizeof a, it->worst_ref);
			fmt_num(b, sizeof b, it->worst_act);
			fmt_num(c, sizeof c, fabs(it->worst_act - it->worst_ref));
			fprintf(fp, "  %-10s %s: ref %s, act %s, |diff| %s\n", "worst", idx, a, b, c);
		}
		fmt_num(a, sizeof a, it->max_abs);
		fmt_num(b, sizeof b, it->mean_abs);
		fmt_num(c, sizeof c, it->max_rel);
		fprintf(fp, "  %-10s max abs %s, mean abs %s, max rel %s\n", "error", a, b, c);
		fmt_num(a, sizeof a, it->atol_needed);
		fmt_num(b, sizeof b, it->rtol);
		fprintf(fp, "  %-10s atol >= %s at rtol %s\n", "passes at", a, b);
	}
	if (it->hint.kind) {
		fprintf(fp, "  %-10s %s: %s\n", "hint", it->hint.kind, it->hint.text);
		fprintf(fp, "  %-10s %s\n", "check", it->hint.check);
	}
	if (it->nshow) {
		const struct m2w_check_side *s = it->ref.parsed ? &it->ref : &it->act;
		fprintf(fp, "  first %d values:\n  %16s %14s %14s %14s\n", it->nshow, "index", "ref",
			"act", "|diff|");
		for (int i = 0; i < it->nshow; i++) {
			char dd[64];
			fmt_index(idx, sizeof idx, (uint64_t)i, s);
			fmt_num(a, sizeof a, it->show_ref[i]);
			fmt_num(b, sizeof b, it->show_act[i]);
			fmt_num(dd, sizeof dd, fabs(it->show_act[i] - it->show_ref[i]));
			fprintf(fp, "  %16s %14s %14s %14s%s\n", idx, a, b, dd,
				elem_pass(it->show_act[i], it->show_ref[i], it->atol, it->rtol)
					? "" : "  x");
		}
	}
}

char *m2w_check_text(const struct m2w_check_run *r)
{
	char *text = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&text, &len);
	int wname = 10, wshape = 5, wstat = 6;
	char a[64], b[64];

	if (!fp)
		return NULL;
	for (size_t i = 0; i < r->n; i++) {
		const struct m2w_check_item *it = &r->items[i];
		char sr[96], sa[96], sh[200];
		int n = (int)strlen(it->name), ns = (int)strlen(status_word(it));
		fmt_shape(sr, sizeof sr, &it->ref);
		fmt_shape(sa, sizeof sa, &it->act);
		int nsh = snprintf(sh, sizeof sh, "%s", it->shape_match ? sr : sa);
		if (!it->shape_match && it->ref.parsed && it->act.parsed)
			nsh = snprintf(sh, sizeof sh, "%s vs %s", sr, sa);
		wname = n > wname ? n : wname;
		wshape = nsh > wshape ? nsh : wshape;
		wstat = ns > wstat ? ns : wstat;
	}
	fmt_num(a, sizeof a, r->atol);
	fmt_num(b, sizeof b, r->rtol);
	fprintf(fp, "m2w-check: REF %s, ACT %s: %zu checkpoints in %s order\n", r->ref_dir,
		r->act_dir, r->n, m2w_check_order_name(r->order));
	fprintf(fp, "tolerance: |act - ref| <= atol + rtol*|ref| per element, atol %s, rtol %s\n\n",
		a, b);
	fprintf(fp, "%5s  %-*s  %-*s  %-*s  %11s %11s %11s  %-20s %11s\n", "#", wname, "checkpoint",
		wstat, "status", wshape, "shape", "max abs", "mean abs", "max rel", "failing",
		"atol needed");
	for (size_t i = 0; i < r->n; i++) {
		const struct m2w_check_item *it = &r->items[i];
		char sr[96], sa[96], sh[200], m1[64], m2[64], m3[64], fl[64], an[64];
		fmt_shape(sr, sizeof sr, &it->ref);
		fmt_shape(sa, sizeof sa, &it->act);
		if (!it->shape_match && it->ref.parsed && it->act.parsed)
			snprintf(sh, sizeof sh, "%s vs %s", sr, sa);
		else
			snprintf(sh, sizeof sh, "%s", it->ref.parsed ? sr : sa);
		if (it->compared) {
			fmt_num(m1, sizeof m1, it->max_abs);
			fmt_num(m2, sizeof m2, it->mean_abs);
			fmt_num(m3, sizeof m3, it->max_rel);
			fmt_num(an, sizeof an, it->atol_needed);
			if (it->failing)
				snprintf(fl, sizeof fl, "%llu/%llu (%.3g%%)",
					(unsigned long long)it->failing, (unsigned long long)it->n,
					100.0 * (double)it->failing / (double)it->n);
			else
				snprintf(fl, sizeof fl, "0/%llu", (unsigned long long)it->n);
		} else {
			strcpy(m1, "-"), strcpy(m2, "-"), strcpy(m3, "-"), strcpy(an, "-");
			strcpy(fl, "-");
		}
		fprintf(fp, "%5zu  %-*s  %-*s  %-*s  %11s %11s %11s  %-20s %11s\n", i, wname,
			it->name, wstat, status_word(it), wshape, sh, m1, m2, m3, fl, an);
	}
	for (size_t i = 0; i < r->n; i++) {
		const struct m2w_check_item *it = &r->items[i];
		if (it->status != M2W_CHECK_PASS && it->status != M2W_CHECK_SKIPPED)
			text_detail(fp, r, it);
	}
	fprintf(fp, "\n");
	if (r->failed)
		fprintf(fp, "result: FAIL, %zu of %zu checkpoints fail; root %s",
			r->failed, r->passed + r->failed, r->items[r->root].name);
	else
		fprintf(fp, "result: pass, %zu of %zu checkpoints pass", r->passed, r->passed);
	if (r->skipped)
		fprintf(fp, " (%zu skipped: present on one side only)", r->skipped);
	fprintf(fp, "\n");
	if (fclose(fp) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

/* ---- JSON report ---- */

/* Numbers rounded to 9 significant digits (stable across FMA / no FMA);
 * NaN and infinities as the strings "nan", "inf", "-inf". */
static cJSON *jnum(double v)
{
	char buf[64];

	if (!isfinite(v)) {
		fmt_num(buf, sizeof buf, v);
		return cJSON_CreateString(buf);
	}
	snprintf(buf, sizeof buf, "%.9g", v == 0 ? 0 : v);
	return cJSON_CreateNumber(strtod(buf, NULL));
}

/* A value from the data: shortest decimal that reads back as the same f32
 * when the source was f32 or narrower, else %.9g. */
static cJSON *jval(double v, enum m2w_dtype t)
{
	char buf[64];

	if (!isfinite(v) || (t != M2W_DT_F32 && t != M2W_DT_F16 && t != M2W_DT_BF16))
		return jnum(v);
	for (int p = 1; p <= 9; p++) {
		snprintf(buf, sizeof buf, "%.*g", p, v == 0 ? 0 : v);
		if ((float)strtod(buf, NULL) == (float)v)
			break;
	}
	return cJSON_CreateNumber(strtod(buf, NULL));
}

static cJSON *jindex(uint64_t flat, const struct m2w_check_side *s)
{
	uint64_t idx[M2W_MAX_DIMS] = {0};
	cJSON *a = cJSON_CreateArray();

	for (int i = s->ndim - 1; i >= 0; i--) {
		uint64_t dim = s->shape[i] ? s->shape[i] : 1;
		idx[i] = flat % dim;
		flat /= dim;
	}
	for (int i = 0; i < s->ndim; i++)
		cJSON_AddItemToArray(a, cJSON_CreateNumber((double)idx[i]));
	return a;
}

static cJSON *jside(const struct m2w_check_side *s)
{
	if (!s->parsed)
		return cJSON_CreateNull();
	cJSON *o = cJSON_CreateObject(), *sh = cJSON_CreateArray();
	cJSON_AddStringToObject(o, "dtype", m2w_dtype_name(s->dtype));
	for (int i = 0; i < s->ndim; i++)
		cJSON_AddItemToArray(sh, cJSON_CreateNumber((double)s->shape[i]));
	cJSON_AddItemToObject(o, "shape", sh);
	if (s->counted) {
		cJSON_AddNumberToObject(o, "nan", (double)s->nan);
		cJSON_AddNumberToObject(o, "inf", (double)s->inf);
	} else {
		cJSON_AddNullToObject(o, "nan");
		cJSON_AddNullToObject(o, "inf");
	}
	return o;
}

static cJSON *jitem(const struct m2w_check_item *it)
{
	cJSON *o = cJSON_CreateObject();
	const struct m2w_check_side *ix = it->ref.parsed ? &it->ref : &it->act;

	cJSON_AddStringToObject(o, "name", it->name);
	cJSON_AddStringToObject(o, "status", m2w_check_status_name(it->status));
	if (it->root || it->downstream)
		cJSON_AddStringToObject(o, "role", it->root ? "root" : "downstream");
	else
		cJSON_AddNullToObject(o, "role");
	cJSON_AddItemToObject(o, "atol", jnum(it->atol));
	cJSON_AddItemToObject(o, "rtol", jnum(it->rtol));
	cJSON_AddItemToObject(o, "ref", jside(&it->ref));
	cJSON_AddItemToObject(o, "act", jside(&it->act));
	if (it->ref.parsed && it->act.parsed) {
		cJSON_AddBoolToObject(o, "shape_match", it->shape_match);
		if (it->relation) {
			cJSON_AddStringToObject(o, "relation", it->relation);
			cJSON_AddStringToObject(o, "relation_detail", it->relation_detail);
		} else {
			cJSON_AddNullToObject(o, "relation");
		}
	}
	if (it->compared) {
		cJSON_AddNumberToObject(o, "elements", (double)it->n);
		cJSON_AddNumberToObject(o, "failing", (double)it->failing);
		cJSON_AddItemToObject(o, "first_fail", it->first_fail == NONE
			? cJSON_CreateNull() : jindex(it->first_fail, ix));
		cJSON_AddItemToObject(o, "max_abs", jnum(it->max_abs));
		cJSON_AddItemToObject(o, "mean_abs", jnum(it->mean_abs));
		cJSON_AddItemToObject(o, "max_rel", jnum(it->max_rel));
		cJSON_AddItemToObject(o, "atol_needed", jnum(it->atol_needed));
		if (it->worst != NONE) {
			cJSON *w = cJSON_AddObjectToObject(o, "worst");
			cJSON_AddItemToObject(w, "index", jindex(it->worst, ix));
			cJSON_AddItemToObject(w, "ref", jval(it->worst_ref, it->ref.dtype));
			cJSON_AddItemToObject(w, "act", jval(it->worst_act, it->act.dtype));
		} else {
			cJSON_AddNullToObject(o, "worst");
		}
	}
	if (it->nshow) {
		cJSON *v = cJSON_AddArrayToObject(o, "values");
		for (int i = 0; i < it->nshow; i++) {
			cJSON *p = cJSON_CreateArray();
			cJSON_AddItemToArray(p, jval(it->show_ref[i], it->ref.dtype));
			cJSON_AddItemToArray(p, jval(it->show_act[i], it->act.dtype));
			cJSON_AddItemToArray(v, p);
		}
	}
	if (it->hint.kind) {
		cJSON *h = cJSON_AddObjectToObject(o, "hint");
		cJSON_AddStringToObject(h, "kind", it->hint.kind);
		cJSON_AddStringToObject(h, "text", it->hint.text);
		cJSON_AddStringToObject(h, "check", it->hint.check);
	}
	if (it->status == M2W_CHECK_ERROR)
		cJSON_AddStringToObject(o, "error", it->error);
	return o;
}

char *m2w_check_json(const struct m2w_check_run *r)
{
	cJSON *j = cJSON_CreateObject(), *counts, *list;
	char *s, *out;

	if (!j)
		return NULL;
	cJSON_AddStringToObject(j, "tool", "m2w-check");
	cJSON_AddStringToObject(j, "version", M2W_VERSION);
	cJSON_AddStringToObject(j, "ref", r->ref_dir);
	cJSON_AddStringToObject(j, "act", r->act_dir);
	cJSON_AddStringToObject(j, "order", m2w_check_order_name(r->order));
	cJSON_AddItemToObject(j, "atol", jnum(r->atol));
	cJSON_AddItemToObject(j, "rtol", jnum(r->rtol));
	cJSON_AddStringToObject(j, "result", r->failed ? "fail" : "pass");
	if (r->root != SIZE_MAX)
		cJSON_AddStringToObject(j, "root", r->items[r->root].name);
	else
		cJSON_AddNullToObject(j, "root");
	counts = cJSON_AddObjectToObject(j, "counts");
	cJSON_AddNumberToObject(counts, "checkpoints", (double)r->n);
	cJSON_AddNumberToObject(counts, "passed", (double)r->passed);
	cJSON_AddNumberToObject(counts, "failed", (double)r->failed);
	cJSON_AddNumberToObject(counts, "skipped", (double)r->skipped);
	list = cJSON_AddArrayToObject(j, "checkpoints");
	for (size_t i = 0; i < r->n; i++)
		cJSON_AddItemToArray(list, jitem(&r->items[i]));
	s = cJSON_Print(j);
	cJSON_Delete(j);
	if (!s)
		return NULL;
	size_t n = strlen(s);
	out = malloc(n + 2);
	if (out) {
		memcpy(out, s, n);
		out[n] = '\n', out[n + 1] = '\0';
	}
	cJSON_free(s);
	return out;
}
