/* check: compare activation checkpoints (.npy) of a reference run with
 * those of the engine under test and point at the first real divergence.
 *
 * A run pairs REF_DIR/NAME.npy with ACT_DIR/NAME.npy, orders the pairs the
 * way the pipeline ran (order file, numeric name prefix, ACT_DIR's
 * manifest.json, else name order), compares each pair element by element
 * and names the first failing checkpoint the root; for the root it also
 * derives a hint from the data (scale, offset, prefix, correlation ...).
 *
 * Library code: nothing here prints or exits.  Errors in the inputs that
 * stop the whole run (unreadable folder, bad order/tolerance file) return -1
 * with the diag filled; a bad .npy only fails its own checkpoint and keeps
 * its formatted diag in the item.
 */
#ifndef M2W_CHECK_H
#define M2W_CHECK_H

#include "m2w.h"

#ifndef M2W_CHECK_SHOW
#define M2W_CHECK_SHOW 20 /* values shown side by side for a failure */
#endif

/* Where the pipeline order came from. */
enum m2w_check_order {
	M2W_CHECK_ORDER_FILE,     /* --order FILE */
	M2W_CHECK_ORDER_PREFIX,   /* every name starts with digits: 012_conv */
	M2W_CHECK_ORDER_MANIFEST, /* ACT_DIR/manifest.json {"checkpoints": [...]} */
	M2W_CHECK_ORDER_NAME,     /* fallback: byte order of the names */
};

enum m2w_check_status {
	M2W_CHECK_PASS,
	M2W_CHECK_FAIL,    /* data or shape differ */
	M2W_CHECK_ERROR,   /* a file could not be read or parsed */
	M2W_CHECK_MISSING, /* named by the order file / manifest, absent */
	M2W_CHECK_SKIPPED, /* present on one side only: nothing to compare */
};

struct m2w_check_tols; /* per-checkpoint tolerance overrides (JSON file) */

struct m2w_check_side {
	bool present;
	bool parsed; /* header read: dtype/shape valid */
	enum m2w_dtype dtype;
	int ndim;
	uint64_t shape[M2W_MAX_DIMS];
	uint64_t count;
	bool counted; /* nan/inf below are valid */
	uint64_t nan, inf;
};

struct m2w_check_hint {
	const char *kind; /* "weights", "scale", "offset", "stride", "binding", ... */
	char text[256];   /* what it probably is */
	char check[640];  /* which measurement triggered it, with its figures */
};

struct m2w_check_item {
	char *name;
	enum m2w_check_status status;
	bool root, downstream;
	struct m2w_check_side ref, act;
	double atol, rtol;

	bool shape_match;
	const char *relation; /* shapes differ: "transposed-equal", "reshape-equal",
	                         "broadcastable" or "incompatible"; NULL when equal */
	char relation_detail[320];

	bool compared;            /* counts agree: the statistics below are valid */
	uint64_t n;               /* elements compared */
	uint64_t failing;         /* elements failing the per-element rule */
	uint64_t finite;          /* pairs where both sides are finite */
	uint64_t first_fail;      /* flat index, UINT64_MAX when none */
	double max_abs, mean_abs, max_rel; /* over finite pairs */
	double atol_needed;       /* smallest atol passing at rtol; INFINITY if NaN/Inf differ */
	uint64_t worst;           /* flat index of the element farthest from passing */
	double worst_ref, worst_act;
	int nshow;                /* failures: the first values, side by side */
	double show_ref[M2W_CHECK_SHOW], show_act[M2W_CHECK_SHOW];

	struct m2w_check_hint hint; /* root only (kind NULL otherwise) */
	char error[640];            /* status ERROR: "file:0xOFF: error: ..." */
};

struct m2w_check_opts {
	double atol, rtol;                  /* base tolerance */
	struct m2w_check_tols *tols;        /* may be NULL; marks the entries used */
	const char *order_file;             /* may be NULL */
};

struct m2w_check_run {
	const char *ref_dir, *act_dir; /* borrowed */
	enum m2w_check_order order;
	double atol, rtol;
	size_t n;
	struct m2w_check_item *items;
	size_t root; /* index of the root item, SIZE_MAX when all pass */
	size_t passed, failed, skipped;
	char *manifest; /* ACT_DIR/manifest.json when read (diags may name it) */
};

/* Defaults: f32 activations; --f16 switches to the wider pair. */
#define M2W_CHECK_ATOL 0.01
#define M2W_CHECK_RTOL 0.01
#define M2W_CHECK_F16_ATOL 0.1
#define M2W_CHECK_F16_RTOL 0.05

const char *m2w_check_order_name(enum m2w_check_order o);
const char *m2w_check_status_name(enum m2w_check_status s);

/* Tolerance overrides, Polygraphy style:
 *   {"default": {"atol": 0.02, "rtol": 0.01}, "012_conv": {"atol": 0.5}}
 * Keys are checkpoint names (".npy" optional); a missing field keeps the
 * value it would have had.  Precedence, lowest first: built-in defaults
 * (or --f16), "default", --atol/--rtol, the checkpoint's own entry. */
int m2w_check_tols_load(struct m2w_check_tols **t, const char *path, struct m2w_diag *d);
void m2w_check_tols_free(struct m2w_check_tols *t);
/* Fills *base with "default" where the file sets it. */
void m2w_check_tols_default(const struct m2w_check_tols *t, double *atol, double *rtol);
/* Names in the file that matched no checkpoint of the run (typos), one per
 * call: returns the i-th, NULL past the end. */
const char *m2w_check_tols_unused(const struct m2w_check_tols *t, size_t i);

/* Lists both folders, pairs and orders the checkpoints, then compares every
 * pair and marks root / downstream.  Returns -1 only when the run cannot
 * start (diag says why); per-checkpoint problems are in the items.  The
 * diag may point into r either way: call m2w_check_run_free after it. */
int m2w_check_run(struct m2w_check_run *r, const char *ref_dir, const char *act_dir,
	const struct m2w_check_opts *o, struct m2w_diag *d);
void m2w_check_run_free(struct m2w_check_run *r);

/* Compares two parsed arrays into it (it->atol/rtol set by the caller).
 * Element counts must agree for statistics; shapes are related either way. */
void m2w_check_arrays(const struct m2w_npy *ref, const struct m2w_npy *act,
	struct m2w_check_item *it);
/* Fills it->hint from the data; meant for the root. */
void m2w_check_hint(const struct m2w_npy *ref, const struct m2w_npy *act,
	struct m2w_check_item *it);

/* Reports, malloc'd NUL-terminated text (NULL when out of memory). */
char *m2w_check_text(const struct m2w_check_run *r);
char *m2w_check_json(const struct m2w_check_run *r);

#endif
