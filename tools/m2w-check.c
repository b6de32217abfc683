/* m2w-check: layer-by-layer activation matching.  Compares the .npy
 * checkpoints of a reference run (REF_DIR) with those of the engine under
 * test (ACT_DIR), in pipeline order, and names the first failing checkpoint
 * the root, with a hint drawn from the data; later failures are downstream.
 *
 * Pairing: REF_DIR/NAME.npy with ACT_DIR/NAME.npy.  Order, first that
 * applies:
 *   --order FILE     one NAME a line (".npy" optional, '#' comments); every
 *                    listed name must exist on both sides, else "missing"
 *   numeric prefix   every name starts with digits (012_conv): by number
 *   manifest.json    in ACT_DIR, written by a debug capture:
 *                      {"checkpoints": ["input", "conv1", "relu1", ...]}
 *                    every listed name must exist in ACT_DIR
 *   name             byte order of the names
 * Names not listed follow the listed ones in name order; a name present on
 * one side only is "skipped" (not a failure).
 *
 * Rule per element (NumPy's allclose): |act - ref| <= atol + rtol*|ref|; NaN
 * never passes, an infinity only against the same infinity.  Defaults atol =
 * rtol = 0.01; --f16 0.1 / 0.05.  --tolerances FILE.json (Polygraphy style):
 *   {"default": {"atol": 0.02, "rtol": 0.01}, "012_conv": {"atol": 0.5}}
 * Precedence, lowest first: built-in (or --f16), "default", --atol/--rtol,
 * the checkpoint's own entry.
 *
 * --json REPORT writes (atomically, only when changed) one object:
 *   { "tool": "m2w-check", "version": "X.Y.Z",     (the only unstable line)
 *     "ref": REF_DIR, "act": ACT_DIR,
 *     "order": "order-file" | "numeric-prefix" | "manifest" | "name",
 *     "atol": A, "rtol": R,                          base tolerance
 *     "result": "pass" | "fail", "root": NAME | null,
 *     "counts": {"checkpoints", "passed", "failed", "skipped"},
 *     "checkpoints": [ {                             in pipeline order
 *       "name", "status": "pass"|"fail"|"error"|"missing"|"skipped",
 *       "role": "root" | "downstream" | null, "atol", "rtol",
 *       "ref", "act": {"dtype", "shape": [..], "nan", "inf"} | null,
 *                                                   (nan/inf null: not counted)
 *       "shape_match": bool, "relation": null | "transposed-equal" |
 *         "reshape-equal" | "broadcastable" | "incompatible",
 *       "relation_detail": "...",                    when relation is set
 *       -- when both sides have the same element count:
 *       "elements", "failing", "first_fail": [i, j, ..] | null,
 *       "max_abs", "mean_abs", "max_rel",            over finite pairs
 *       "atol_needed",                               smallest passing atol
 *       "worst": {"index": [..], "ref", "act"} | null,
 *       -- failures: "values": [[ref, act], ...]     the first 20
 *       -- root: "hint": {"kind", "text", "check"}   kind: weights, scale,
 *            sign, precision, offset, stride, binding, unwritten,
 *            nonfinite, shape, layout, missing, unreadable, unknown
 *       -- status error: "error": "FILE:0xOFF: error: ..."
 *     } ] }
 * Numbers have at most 9 significant digits; NaN and infinities are the
 * strings "nan", "inf", "-inf".  Indices are in the reference's shape.
 *
 * Exit: 0 every compared checkpoint passes, 1 any failure or bad input,
 * 2 usage error.
 */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

static const char *prog = "m2w-check";

static void usage(FILE *fp)
{
	fprintf(fp,
		"Usage: %s [OPTION]... REF_DIR ACT_DIR\n"
		"Compare the .npy activation checkpoints of a reference run (REF_DIR) with\n"
		"those of the engine under test (ACT_DIR), in pipeline order; the first\n"
		"failing checkpoint is the root, with a hint from the data.\n"
		"\n"
		"  -O, --order FILE        pipeline order, one checkpoint name a line\n"
		"                          (default: numeric name prefix, else\n"
		"                          ACT_DIR/manifest.json {\"checkpoints\": [...]},\n"
		"                          else name order)\n"
		"  -a, --atol A            absolute tolerance (default 0.01, --f16 0.1)\n"
		"  -r, --rtol R            relative tolerance (default 0.01, --f16 0.05)\n"
		"      --f16               defaults for an f16 engine\n"
		"  -t, --tolerances FILE   per-checkpoint overrides, JSON:\n"
		"                          {\"default\": {\"atol\": A, \"rtol\": R}, \"NAME\": {...}}\n"
		"  -j, --json REPORT       also write the report as JSON\n"
		"  -h, --help              show this help and exit\n"
		"  -V, --version           show the version and exit\n"
		"\n"
		"An element passes when |act - ref| <= atol + rtol*|ref|.\n"
		"Exit status: 0 all pass, 1 a checkpoint fails or bad input, 2 usage error.\n",
		prog);
}

static int fail(const struct m2w_diag *d)
{
	char buf[768];

	m2w_diag_format(d, buf, sizeof buf);
	fprintf(stderr, "%s: %s\n", prog, buf);
	return 1;
}

static bool parse_tol(const char *s, double *v)
{
	char *end;
	double x = strtod(s, &end);

	if (end == s || *end || !(x >= 0) || isinf(x))
		return false;
	*v = x;
	return true;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"order", required_argument, NULL, 'O'},
		{"atol", required_argument, NULL, 'a'},
		{"rtol", required_argument, NULL, 'r'},
		{"f16", no_argument, NULL, 'F'},
		{"tolerances", required_argument, NULL, 't'},
		{"json", required_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	const char *order = NULL, *tolfile = NULL, *json = NULL;
	double atol = NAN, rtol = NAN;
	bool f16 = false;
	int c;

	while ((c = getopt_long(argc, argv, "O:a:r:t:j:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'O': order = optarg; break;
		case 'a':
		case 'r':
			if (!parse_tol(optarg, c == 'a' ? &atol : &rtol)) {
				fprintf(stderr, "%s: --%s wants a finite number >= 0, got '%s'\n", prog,
					c == 'a' ? "atol" : "rtol", optarg);
				return 2;
			}
			break;
		case 'F': f16 = true; break;
		case 't': tolfile = optarg; break;
		case 'j': json = optarg; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("%s %s\n", prog, M2W_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind + 2 != argc) {
		fprintf(stderr, "%s: expected REF_DIR and ACT_DIR, got %d operands; see --help\n",
			prog, argc - optind);
		return 2;
	}

	struct m2w_check_opts o = {
		.atol = f16 ? M2W_CHECK_F16_ATOL : M2W_CHECK_ATOL,
		.rtol = f16 ? M2W_CHECK_F16_RTOL : M2W_CHECK_RTOL,
		.order_file = order,
	};
	struct m2w_diag d;
	struct m2w_check_run r;
	int rc = 1;

	if (tolfile) {
		m2w_diag_init(&d, tolfile);
		if (m2w_check_tols_load(&o.tols, tolfile, &d) < 0)
			return fail(&d);
		m2w_check_tols_default(o.tols, &o.atol, &o.rtol);
	}
	if (!isnan(atol))
		o.atol = atol;
	if (!isnan(rtol))
		o.rtol = rtol;

	m2w_diag_init(&d, order ? order : argv[optind]);
	if (m2w_check_run(&r, argv[optind], argv[optind + 1], &o, &d) < 0) {
		fail(&d);
		m2w_check_run_free(&r);
		m2w_check_tols_free(o.tols);
		return 1;
	}
	for (size_t i = 0; i < r.n; i++) /* bad .npy files, as file:0xOFF */
		if (r.items[i].status == M2W_CHECK_ERROR)
			fprintf(stderr, "%s: %s\n", prog, r.items[i].error);
	for (size_t i = 0; tolfile && m2w_check_tols_unused(o.tols, i); i++)
		fprintf(stderr, "%s: %s: warning: \"%s\" matches no checkpoint\n", prog, tolfile,
			m2w_check_tols_unused(o.tols, i));

	char *text = m2w_check_text(&r);
	if (!text) {
		fprintf(stderr, "%s: out of memory\n", prog);
		goto out;
	}
	fputs(text, stdout);
	free(text);
	if (json) {
		char *s = m2w_check_json(&r);
		m2w_diag_init(&d, json);
		if (!s) {
			fprintf(stderr, "%s: out of memory\n", prog);
			goto out;
		}
		if (m2w_write_if_changed(json, s, strlen(s), NULL, &d) < 0) {
			free(s);
			fail(&d);
			goto out;
		}
		free(s);
	}
	rc = r.failed ? 1 : 0;
out:
	if (fflush(stdout) != 0 && rc == 0)
		rc = 1;
	m2w_check_run_free(&r);
	m2w_check_tols_free(o.tols);
	return rc;
}
