/* inspect_render: the readable summary and the "Model Architecture"
 * document, both built from a format-independent description. */
#define _POSIX_C_SOURCE 200809L
#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inspect_render.h"

/* A growable string; allocation failure makes it sticky-NULL. */
struct sb {
	char *s;
	size_t len, cap;
	bool oom;
};

static void sb_printf(struct sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(struct sb *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->oom)
		return;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (b->len + (size_t)n + 1 > b->cap) {
		size_t cap = (b->cap ? b->cap * 2 : 4096) + (size_t)n;
		char *s = realloc(b->s, cap);
		if (!s) {
			b->oom = true;
			return;
		}
		b->s = s;
		b->cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void inspect_strip_private(cJSON *j)
{
	cJSON *c = j ? j->child : NULL;

	while (c) {
		cJSON *next = c->next;
		if (c->string && c->string[0] == '_')
			cJSON_Delete(cJSON_DetachItemViaPointer(j, c));
		else
			inspect_strip_private(c);
		c = next;
	}
}

static const char *str(const cJSON *j, const char *key)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(j, key));
	return s ? s : "";
}

static double num(const cJSON *j, const char *key)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(j, key);
	return cJSON_IsNumber(n) ? n->valuedouble : 0;
}

/* "[1, 128, 128, 3]" with symbolic dims as their names and unknown as ? */
static void shape_str(const cJSON *shape, char *buf, size_t n)
{
	size_t len = 0;
	const cJSON *d;

	if (!cJSON_IsArray(shape)) {
		snprintf(buf, n, "(unknown)");
		return;
	}
	len += (size_t)snprintf(buf, n, "[");
	cJSON_ArrayForEach(d, shape) {
		if (len >= n)
			break;
		const char *sep = d->prev && d != shape->child ? ", " : "";
		if (cJSON_IsNumber(d))
			len += (size_t)snprintf(buf + len, n - len, "%s%.0f", sep, d->valuedouble);
		else if (cJSON_IsString(d))
			len += (size_t)snprintf(buf + len, n - len, "%s%s", sep, d->valuestring);
		else
			len += (size_t)snprintf(buf + len, n - len, "%s?", sep);
	}
	if (len < n)
		snprintf(buf + len, n - len, "]");
}

static void human_bytes(double b, char *buf, size_t n)
{
	static const char *unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	int u = 0;

	while (b >= 1024 && u < 4) {
		b /= 1024;
		u++;
	}
	snprintf(buf, n, u ? "%.1f %s" : "%.0f %s", b, unit[u]);
}

static double weight_bytes(const cJSON *j)
{
	double total = 0;
	const cJSON *t;

	cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(j, "tensors"))
		total += num(t, "bytes");
	return total;
}

static void version_line(const cJSON *j, char *buf, size_t n)
{
	const cJSON *opset = cJSON_GetObjectItemCaseSensitive(j, "opset");
	const cJSON *ver = cJSON_GetObjectItemCaseSensitive(j, "version");
	size_t len = 0;

	buf[0] = '\0';
	if (cJSON_IsObject(opset)) {
		const cJSON *o;
		cJSON_ArrayForEach(o, opset) {
			if (len < n)
				len += (size_t)snprintf(buf + len, n - len, "%s%s %.0f",
					len ? ", " : "opset ", o->string, o->valuedouble);
		}
	} else if (cJSON_IsNumber(opset)) {
		snprintf(buf, n, "opset %.0f", opset->valuedouble);
	} else if (cJSON_IsNumber(ver)) {
		snprintf(buf, n, "version %.0f", ver->valuedouble);
	}
}

static void io_lines(struct sb *b, const cJSON *arr, const char *what, bool md)
{
	const cJSON *v;
	char shape[256];

	cJSON_ArrayForEach(v, arr) {
		shape_str(cJSON_GetObjectItemCaseSensitive(v, "shape"), shape, sizeof shape);
		if (md)
			sb_printf(b, "| %s | `%s` | %s | %s |\n", what, str(v, "name"), shape,
				str(v, "dtype"));
		else
			sb_printf(b, "  %-7s %-40s %-24s %s\n", what, str(v, "name"), shape,
				str(v, "dtype"));
	}
}

static int cmp_count_desc(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
	if (x->valuedouble != y->valuedouble)
		return x->valuedouble < y->valuedouble ? 1 : -1;
	return strcmp(x->string, y->string);
}

/* ops sorted by count, most frequent first; caller frees */
static const cJSON **sorted_ops(const cJSON *ops, size_t *n)
{
	size_t k = (size_t)cJSON_GetArraySize(ops), i = 0;
	const cJSON **v = calloc(k ? k : 1, sizeof *v), *o;

	if (!v) {
		*n = 0;
		return NULL;
	}
	cJSON_ArrayForEach(o, ops) v[i++] = o;
	qsort(v, k, sizeof *v, cmp_count_desc);
	*n = k;
	return v;
}

void inspect_summary(const cJSON *j, const char *model, FILE *fp)
{
	struct sb b = {0};
	char tmp[256], wb[64], fb[64];
	size_t nops;
	const cJSON **ops = sorted_ops(cJSON_GetObjectItemCaseSensitive(j, "ops"), &nops);

	version_line(j, tmp, sizeof tmp);
	human_bytes(num(j, "bytes"), fb, sizeof fb);
	human_bytes(weight_bytes(j), wb, sizeof wb);
	sb_printf(&b, "%s: %s model, %s%s%s%s\n", model, str(j, "format"), fb,
		*str(j, "producer") ? ", from " : "", str(j, "producer"), "");
	if (tmp[0])
		sb_printf(&b, "  %s\n", tmp);
	sb_printf(&b, "  %.0f parameters in %d weight tensors (%s), %.0f graph(s)\n",
		num(j, "params"), cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "tensors")),
		wb, num(j, "graphs"));
	io_lines(&b, cJSON_GetObjectItemCaseSensitive(j, "inputs"), "input", false);
	io_lines(&b, cJSON_GetObjectItemCaseSensitive(j, "outputs"), "output", false);
	if (nops) {
		sb_printf(&b, "  ops:");
		for (size_t i = 0; i < nops; i++)
			sb_printf(&b, "%s %s×%.0f", i ? "," : "", ops[i]->string, ops[i]->valuedouble);
		sb_printf(&b, "\n");
	}
	const cJSON *members = cJSON_GetObjectItemCaseSensitive(j, "members"), *m;
	cJSON_ArrayForEach(m, members)
		sb_printf(&b, "  member  %-40s %.0f bytes (%s)\n", str(m, "name"), num(m, "bytes"),
			str(m, "format"));
	const cJSON *tok = cJSON_GetObjectItemCaseSensitive(j, "_tokenizer");
	if (tok)
		sb_printf(&b, "  tokenizer: %s, %.0f tokens%s\n", str(tok, "model"), num(tok, "vocab"),
			cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(tok, "chat_template"))
				? ", chat template" : "");
	free(ops);
	if (b.s)
		fputs(b.s, fp);
	free(b.s);
}

/* ---- markdown ---- */

/* Block pattern of a tensor name: the name up to and including its first
 * all-digit segment, with that segment replaced by N ("blk.N",
 * "model.layers.N", "encoder/layer_N"...).  Without one: the first
 * segment.  Returns the index through *idx (-1 when none). */
static void block_of(const char *name, char *pat, size_t n, long *idx)
{
	size_t len = strlen(name), start = 0;

	*idx = -1;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && !strchr("./:_", name[i]))
			continue;
		size_t seg = i - start;
		bool digits = seg > 0 && seg < 10;
		for (size_t k = start; k < i && digits; k++)
			digits = name[k] >= '0' && name[k] <= '9';
		if (digits) {
			*idx = strtol(name + start, NULL, 10);
			snprintf(pat, n, "%.*sN", (int)start, name);
			return;
		}
		start = i + 1;
	}
	/* no numbered segment: group by the first path segment */
	size_t k = strcspn(name, "./:");
	snprintf(pat, n, "%.*s", (int)k, name);
}

struct group {
	char pat[128];
	long min_idx, max_idx;
	size_t tensors;
	double params, bytes;
	bool numbered;
};

static void markdown_components(struct sb *b, const cJSON *tensors)
{
	size_t cap = 64, n = 0;
	struct group *g = calloc(cap, sizeof *g);
	const cJSON *t;

	if (!g)
		return;
	cJSON_ArrayForEach(t, tensors) {
		char pat[128];
		long idx;
		size_t i;
		double elems = 1;
		const cJSON *d;

		block_of(str(t, "name"), pat, sizeof pat, &idx);
		for (i = 0; i < n && strcmp(g[i].pat, pat); i++)
			;
		if (i == n) {
			if (n == cap) {
				struct group *ng = realloc(g, 2 * cap * sizeof *g);
				if (!ng)
					break;
				g = ng;
				cap *= 2;
			}
			memset(&g[n], 0, sizeof g[n]);
			snprintf(g[n].pat, sizeof g[n].pat, "%s", pat);
			g[n].min_idx = g[n].max_idx = idx;
			g[n].numbered = idx >= 0;
			n++;
		}
		cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(t, "shape"))
			elems *= cJSON_IsNumber(d) ? d->valuedouble : 1;
		g[i].tensors++;
		g[i].params += elems;
		g[i].bytes += num(t, "bytes");
		if (idx >= 0 && idx < g[i].min_idx)
			g[i].min_idx = idx;
		if (idx > g[i].max_idx)
			g[i].max_idx = idx;
	}
	if (n) {
		sb_printf(b, "## Components\n\nWeights grouped by name structure "
			"(a numbered segment becomes `N`).\n\n"
			"| component | instances | tensors | parameters | bytes |\n"
			"|---|---|---|---|---|\n");
		for (size_t i = 0; i < n; i++) {
			char hb[64];
			human_bytes(g[i].bytes, hb, sizeof hb);
			if (g[i].numbered)
				sb_printf(b, "| `%s` | %ld..%ld | %zu | %.0f | %s |\n", g[i].pat,
					g[i].min_idx, g[i].max_idx, g[i].tensors, g[i].params, hb);
			else
				sb_printf(b, "| `%s` | 1 | %zu | %.0f | %s |\n",
					g[i].pat[0] ? g[i].pat : "(unnamed)", g[i].tensors, g[i].params, hb);
		}
		sb_printf(b, "\n");
	}
	free(g);
}

static void list_strings(struct sb *b, const cJSON *arr)
{
	const cJSON *s;
	cJSON_ArrayForEach(s, arr) sb_printf(b, "%s`%s`", s == arr->child ? "" : ", ",
		cJSON_IsString(s) ? s->valuestring : "");
}

#define MD_MAX_ROWS 2000

static void markdown_flow(struct sb *b, const cJSON *nodes)
{
	const cJSON *n;
	size_t i = 0, total = (size_t)cJSON_GetArraySize(nodes);

	if (!total)
		return;
	sb_printf(b, "## Data flow\n\nThe main graph's %zu nodes in execution order, "
		"inputs → outputs.\n\n", total);
	cJSON_ArrayForEach(n, nodes) {
		if (++i > MD_MAX_ROWS) {
			sb_printf(b, "\n... and %zu more nodes.\n", total - MD_MAX_ROWS);
			break;
		}
		const char *dom = str(n, "domain");
		sb_printf(b, "%zu. **%s%s%s**", i, *dom ? dom : "", *dom ? "::" : "", str(n, "op"));
		if (*str(n, "name"))
			sb_printf(b, " `%s`", str(n, "name"));
		sb_printf(b, ": ");
		list_strings(b, cJSON_GetObjectItemCaseSensitive(n, "inputs"));
		sb_printf(b, " → ");
		list_strings(b, cJSON_GetObjectItemCaseSensitive(n, "outputs"));
		sb_printf(b, "\n");
	}
	sb_printf(b, "\n");
}

static void markdown_tied(struct sb *b, const cJSON *j)
{
	const cJSON *tensors = cJSON_GetObjectItemCaseSensitive(j, "tensors");
	const cJSON *notes = cJSON_GetObjectItemCaseSensitive(j, "_notes"), *t, *u;
	size_t found = 0;

	sb_printf(b, "## Tied weights\n\n");
	/* quadratic only over tensors sharing size; fine for the few hundred to
	 * few thousand tensors models have */
	cJSON_ArrayForEach(t, tensors) {
		const char *h = str(t, "_xxh3");
		bool first = true;
		if (!*h || num(t, "bytes") < 64)
			continue;
		for (u = tensors->child; u != t; u = u->next)
			if (!strcmp(str(u, "_xxh3"), h) && num(u, "bytes") == num(t, "bytes"))
				break;
		if (u != t)
			continue; /* reported with its first occurrence */
		for (u = t->next; u; u = u->next) {
			if (strcmp(str(u, "_xxh3"), h) || num(u, "bytes") != num(t, "bytes"))
				continue;
			if (first)
				sb_printf(b, "- `%s`", str(t, "name"));
			sb_printf(b, " = `%s`", str(u, "name"));
			first = false;
		}
		if (!first) {
			sb_printf(b, " (identical %.0f bytes)\n", num(t, "bytes"));
			found++;
		}
	}
	/* format-level facts about tying (GGUF without output.weight ...) */
	cJSON_ArrayForEach(t, notes) {
		const char *s = cJSON_GetStringValue(t);
		if (s && (strstr(s, "tied") || strstr(s, "Tied"))) {
			sb_printf(b, "- %s\n", s);
			found++;
		}
	}
	if (!found)
		sb_printf(b, "None found (no two tensors of 64 bytes or more with identical bytes).\n");
	sb_printf(b, "\n");
}

static bool is_quant_op(const char *op)
{
	static const char *const q[] = {"QLinear", "DequantizeLinear", "QuantizeLinear",
		"DynamicQuantize", "MatMulInteger", "ConvInteger", "QUANTIZE", "DEQUANTIZE",
		"QGemm", "QAttention", "MatMulNBits"};
	for (size_t i = 0; i < sizeof q / sizeof q[0]; i++)
		if (strstr(op, q[i]))
			return true;
	return false;
}

static void markdown_quant(struct sb *b, const cJSON *j)
{
	const cJSON *t, *o;
	size_t nq = 0, nops = 0;
	/* count tensors per dtype/scheme */
	cJSON *by = cJSON_CreateObject();

	sb_printf(b, "## Quantization\n\n");
	cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(j, "tensors")) {
		const cJSON *q = cJSON_GetObjectItemCaseSensitive(t, "quant");
		char key[96];
		if (!q || cJSON_IsNull(q))
			continue;
		const cJSON *sc = cJSON_GetObjectItemCaseSensitive(q, "scale");
		const char *qt = str(q, "type");
		if (*qt)
			snprintf(key, sizeof key, "%s blocks", qt);
		else
			snprintf(key, sizeof key, "%s, %s scale", str(t, "dtype"),
				cJSON_GetArraySize(sc) > 1 ? "per-channel" : "per-tensor");
		cJSON *c = cJSON_GetObjectItemCaseSensitive(by, key);
		if (c)
			cJSON_SetNumberValue(c, c->valuedouble + 1);
		else
			cJSON_AddNumberToObject(by, key, 1);
		nq++;
	}
	cJSON_ArrayForEach(o, by)
		sb_printf(b, "- %.0f tensors: %s\n", o->valuedouble, o->string);
	/* storage types of the weights: f16 storage feeding DEQUANTIZE nodes is
	 * a common "quantization" of TFLite models */
	cJSON *dt = cJSON_CreateObject();
	cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(j, "tensors")) {
		const char *name = str(t, "dtype");
		cJSON *c = cJSON_GetObjectItemCaseSensitive(dt, *name ? name : "?");
		if (c)
			cJSON_SetNumberValue(c, c->valuedouble + 1);
		else
			cJSON_AddNumberToObject(dt, *name ? name : "?", 1);
	}
	if (cJSON_GetArraySize(dt)) {
		sb_printf(b, "- weight storage:");
		cJSON_ArrayForEach(o, dt)
			sb_printf(b, "%s %s×%.0f", o == dt->child ? "" : ",", o->string, o->valuedouble);
		sb_printf(b, "\n");
	}
	cJSON_Delete(dt);
	cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(j, "ops")) {
		if (!is_quant_op(o->string))
			continue;
		sb_printf(b, "%s`%s`×%.0f", nops ? ", " : "- quantized ops: ", o->string, o->valuedouble);
		nops++;
	}
	if (nops)
		sb_printf(b, "\n");
	if (!nq && !nops)
		sb_printf(b, "- no quantized tensors and no quantization ops\n");
	sb_printf(b, "\n");
	cJSON_Delete(by);
}

char *inspect_markdown(const cJSON *j, const char *model)
{
	struct sb b = {0};
	char tmp[256], fb[64], wb[64];
	const cJSON *tensors = cJSON_GetObjectItemCaseSensitive(j, "tensors"), *t, *o;
	size_t nops, i;
	const cJSON **ops = sorted_ops(cJSON_GetObjectItemCaseSensitive(j, "ops"), &nops);
	const char *base = strrchr(model, '/') ? strrchr(model, '/') + 1 : model;

	human_bytes(num(j, "bytes"), fb, sizeof fb);
	human_bytes(weight_bytes(j), wb, sizeof wb);
	version_line(j, tmp, sizeof tmp);
	sb_printf(&b, "# Model Architecture: %s\n\n", base);
	sb_printf(&b, "Generated by m2w-inspect from the model file alone; edit freely.\n\n");
	sb_printf(&b, "| | |\n|---|---|\n| format | %s |\n| file size | %.0f bytes (%s) |\n",
		str(j, "format"), num(j, "bytes"), fb);
	if (*str(j, "producer"))
		sb_printf(&b, "| producer | %s |\n", str(j, "producer"));
	if (tmp[0])
		sb_printf(&b, "| version | %s |\n", tmp);
	sb_printf(&b, "| parameters | %.0f |\n| weight bytes | %.0f (%s) |\n"
		"| weight tensors | %d |\n| graphs | %.0f |\n\n", num(j, "params"),
		weight_bytes(j), wb, cJSON_GetArraySize(tensors), num(j, "graphs"));

	sb_printf(&b, "## Inputs and outputs\n\n| | name | shape | dtype |\n|---|---|---|---|\n");
	io_lines(&b, cJSON_GetObjectItemCaseSensitive(j, "inputs"), "input", true);
	io_lines(&b, cJSON_GetObjectItemCaseSensitive(j, "outputs"), "output", true);
	sb_printf(&b, "\n");

	if (nops) {
		sb_printf(&b, "## Operators\n\n%zu distinct ops over every graph.\n\n"
			"| op | count |\n|---|---|\n", nops);
		for (i = 0; i < nops; i++)
			sb_printf(&b, "| `%s` | %.0f |\n", ops[i]->string, ops[i]->valuedouble);
		sb_printf(&b, "\n");
	}
	const cJSON *ns = cJSON_GetObjectItemCaseSensitive(j, "_nonstandard");
	sb_printf(&b, "## Non-standard ops\n\n");
	if (cJSON_GetArraySize(ns)) {
		cJSON_ArrayForEach(o, ns) sb_printf(&b, "- %s\n", cJSON_GetStringValue(o));
	} else {
		sb_printf(&b, "None: every op is a standard op of its format.\n");
	}
	sb_printf(&b, "\n");

	markdown_quant(&b, j);
	markdown_components(&b, tensors);
	markdown_tied(&b, j);

	const cJSON *tok = cJSON_GetObjectItemCaseSensitive(j, "_tokenizer");
	if (tok) {
		sb_printf(&b, "## Tokenizer\n\n- model: `%s`\n- vocabulary: %.0f tokens\n",
			str(tok, "model"), num(tok, "vocab"));
		const cJSON *sp = cJSON_GetObjectItemCaseSensitive(tok, "special");
		cJSON_ArrayForEach(o, sp) sb_printf(&b, "- %s token: %.0f\n", o->string, o->valuedouble);
		sb_printf(&b, "- chat template: %s\n\n",
			cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(tok, "chat_template")) ? "present"
											    : "absent");
	}

	const cJSON *notes = cJSON_GetObjectItemCaseSensitive(j, "_notes");
	if (cJSON_GetArraySize(notes)) {
		sb_printf(&b, "## Notes\n\n");
		cJSON_ArrayForEach(o, notes) sb_printf(&b, "- %s\n", cJSON_GetStringValue(o));
		sb_printf(&b, "\n");
	}

	markdown_flow(&b, cJSON_GetObjectItemCaseSensitive(j, "_nodes"));

	if (cJSON_GetArraySize(tensors)) {
		sb_printf(&b, "## Weights\n\n| # | name | shape | dtype | bytes | quant |\n"
			"|---|---|---|---|---|---|\n");
		i = 0;
		cJSON_ArrayForEach(t, tensors) {
			char shape[256];
			const cJSON *q = cJSON_GetObjectItemCaseSensitive(t, "quant");
			if (++i > MD_MAX_ROWS) {
				sb_printf(&b, "\n... and %d more tensors.\n",
					cJSON_GetArraySize(tensors) - MD_MAX_ROWS);
				break;
			}
			shape_str(cJSON_GetObjectItemCaseSensitive(t, "shape"), shape, sizeof shape);
			sb_printf(&b, "| %zu | `%s` | %s | %s | %.0f | %s |\n", i, str(t, "name"), shape,
				str(t, "dtype"), num(t, "bytes"),
				q && !cJSON_IsNull(q) ? (*str(q, "type") ? str(q, "type") : "affine") : "");
		}
		sb_printf(&b, "\n");
	}

	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(j, "metadata");
	if (cJSON_GetArraySize(meta)) {
		sb_printf(&b, "## Metadata\n\n");
		cJSON_ArrayForEach(o, meta) {
			if (cJSON_IsString(o))
				sb_printf(&b, "- `%s`: %.120s%s\n", o->string, o->valuestring,
					strlen(o->valuestring) > 120 ? "…" : "");
			else if (cJSON_IsNumber(o))
				sb_printf(&b, "- `%s`: %.17g\n", o->string, o->valuedouble);
			else if (cJSON_IsBool(o))
				sb_printf(&b, "- `%s`: %s\n", o->string, cJSON_IsTrue(o) ? "true" : "false");
			else if (cJSON_IsArray(o))
				sb_printf(&b, "- `%s`: array of %d\n", o->string, cJSON_GetArraySize(o));
			else
				sb_printf(&b, "- `%s`: (%s)\n", o->string,
					*str(o, "type") ? str(o, "type") : "value");
		}
		sb_printf(&b, "\n");
	}
	free(ops);
	if (b.oom) {
		free(b.s);
		return NULL;
	}
	return b.s;
}
