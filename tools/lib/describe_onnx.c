/* describe_onnx: an ONNX model (or a bare TensorProto) as m2w-inspect's
 * JSON (see describe.h and DESIGN.md), and --expose-intermediates.
 *
 *   "producer"   producer_name and producer_version joined by a space
 *   "opset"      {domain: version}; the default domain "" is "ai.onnx"
 *   "inputs"     main-graph inputs that are not initializers (IR < 4 lists
 *                initializers as inputs too); "outputs" every output
 *   shape        ints (dim_value), strings (dim_param), null for a dim with
 *                neither; null when the type has no shape
 *   dtype        DESIGN.md names, f8e4m3fn f8e4m3fnuz f8e5m2 f8e5m2fnuz
 *                f8e8m0 f4e2m1 i4 u4 i2 u2 c64 c128 for the others; non-
 *                tensor values "seq(T)", "optional(T)", "map(K,V)",
 *                "sparse(T)", "opaque"; null when unknown
 *   "ops"        counts over the main graph and every subgraph (attributes
 *                g / graphs, recursively), keyed by op_type for the
 *                default domain ("" or "ai.onnx") and "domain.op_type"
 *                otherwise (com.microsoft.FusedConv), in first-seen order
 *   "graphs"     the main graph plus every subgraph
 *   "tensors"    per graph (pre-order): its initializers, then its sparse
 *                initializers (name and dtype of the values, shape of the
 *                dense tensor, bytes of values + indices)
 *   "params"     sum of the tensors' element counts (dense for sparse)
 *   "metadata"   metadata_props, file order, a repeated key keeps the last
 *   model-local functions and training_info graphs are not graphs here:
 *   they show in "_nonstandard" / "_notes", their nodes are not counted
 *
 * Strings with invalid UTF-8 or NUL bytes get U+FFFD for the bad bytes.
 */
#define _POSIX_C_SOURCE 200809L /* strdup */

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "describe.h"
#include "onnx.h"

/* ---- JSON helpers ---- */

/* Length of the valid UTF-8 sequence at p (0 if invalid or NUL). */
static size_t utf8_len(const uint8_t *p, size_t n)
{
	uint8_t b = p[0];
	size_t k;
	uint8_t lo = 0x80, hi = 0xbf;
	if (b >= 1 && b < 0x80)
		return 1;
	if (b >= 0xc2 && b <= 0xdf)
		k = 2;
	else if (b >= 0xe0 && b <= 0xef)
		k = 3, lo = b == 0xe0 ? 0xa0 : 0x80, hi = b == 0xed ? 0x9f : 0xbf;
	else if (b >= 0xf0 && b <= 0xf4)
		k = 4, lo = b == 0xf0 ? 0x90 : 0x80, hi = b == 0xf4 ? 0x8f : 0xbf;
	else
		return 0;
	if (n < k || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < k; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return k;
}

/* NUL-terminated valid UTF-8 copy of s (malloc'd), NULL when out of memory. */
static char *clean(struct m2w_pbstr s)
{
	const uint8_t *p = (const uint8_t *)s.p;
	char *buf, *o;
	if (s.n > (SIZE_MAX - 1) / 3 || !(buf = malloc(3 * s.n + 1)))
		return NULL;
	o = buf;
	for (size_t i = 0; i < s.n;) {
		size_t k = utf8_len(p + i, s.n - i);
		if (k) {
			memcpy(o, p + i, k);
			o += k, i += k;
		} else {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3, i++;
		}
	}
	*o = 0;
	return buf;
}

static cJSON *jstr(struct m2w_pbstr s)
{
	char *z = clean(s);
	cJSON *j = z ? cJSON_CreateString(z) : NULL;
	free(z);
	return j;
}

/* Integers beyond 2^53 would be rounded as doubles: write their digits. */
static cJSON *jint(int64_t v)
{
	char buf[32];
	if (v >= -(1ll << 53) && v <= (1ll << 53))
		return cJSON_CreateNumber((double)v);
	snprintf(buf, sizeof buf, "%lld", (long long)v);
	return cJSON_CreateRaw(buf);
}

static cJSON *juint(uint64_t v)
{
	char buf[32];
	if (v <= (1ull << 53))
		return cJSON_CreateNumber((double)v);
	snprintf(buf, sizeof buf, "%llu", (unsigned long long)v);
	return cJSON_CreateRaw(buf);
}

static cJSON *jdtype(int32_t dt)
{
	const char *n = m2w_onnx_dtype_name(dt);
	return n ? cJSON_CreateString(n) : cJSON_CreateNull();
}

/* Adds item to an object or array; remembers a failed allocation (NULL). */
struct jb {
	bool oom;
};

static cJSON *put(struct jb *b, cJSON *parent, const char *key, cJSON *item)
{
	if (!item || !parent) {
		cJSON_Delete(item);
		b->oom = true;
		return NULL;
	}
	bool ok = key ? cJSON_AddItemToObject(parent, key, item) : cJSON_AddItemToArray(parent, item);
	if (!ok) {
		cJSON_Delete(item);
		b->oom = true;
		return NULL;
	}
	return item;
}

/* ---- name sets (initializers, outputs): open addressing on FNV-1a ---- */

struct nameset {
	struct slot {
		struct m2w_pbstr k;
		size_t val;
		bool used;
	} *s;
	size_t mask;
};

static uint64_t fnv(struct m2w_pbstr k)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (size_t i = 0; i < k.n; i++)
		h = (h ^ (uint8_t)k.p[i]) * 0x100000001b3ull;
	return h;
}

static bool ns_init(struct nameset *ns, size_t n)
{
	size_t cap = 16;
	while (cap < 2 * n + 1) {
		if (cap > SIZE_MAX / 4 / sizeof *ns->s)
			return false;
		cap *= 2;
	}
	ns->s = calloc(cap, sizeof *ns->s);
	ns->mask = cap - 1;
	return ns->s != NULL;
}

static struct slot *ns_find(const struct nameset *ns, struct m2w_pbstr k)
{
	size_t i = (size_t)fnv(k) & ns->mask;
	while (ns->s[i].used && !(ns->s[i].k.n == k.n && (k.n == 0 || !memcmp(ns->s[i].k.p, k.p, k.n))))
		i = (i + 1) & ns->mask;
	return &ns->s[i];
}

/* true when k was new; the set must have been sized for every add */
static bool ns_add(struct nameset *ns, struct m2w_pbstr k, size_t val)
{
	struct slot *s = ns_find(ns, k);
	if (s->used)
		return false;
	*s = (struct slot){k, val, true};
	return true;
}

static bool ns_has(const struct nameset *ns, struct m2w_pbstr k)
{
	return ns_find(ns, k)->used;
}

/* ---- pieces of the description ---- */

static char *type_name(const struct m2w_onnx_type *t, int depth)
{
	const char *dn;
	char *inner = NULL, *r = NULL;
	size_t n;
	if (!t || depth > M2W_MAX_NESTING)
		return NULL;
	switch (t->kind) {
	case M2W_ONNX_TYPE_TENSOR:
		dn = m2w_onnx_dtype_name(t->elem_type);
		return dn ? strdup(dn) : NULL;
	case M2W_ONNX_TYPE_SPARSE:
		dn = m2w_onnx_dtype_name(t->elem_type);
		if (!dn || !(r = malloc(strlen(dn) + 9)))
			return NULL;
		sprintf(r, "sparse(%s)", dn);
		return r;
	case M2W_ONNX_TYPE_SEQUENCE:
	case M2W_ONNX_TYPE_OPTIONAL:
	case M2W_ONNX_TYPE_MAP: {
		const char *pre = t->kind == M2W_ONNX_TYPE_SEQUENCE ? "seq(" : t->kind == M2W_ONNX_TYPE_MAP ? "map(" : "optional(";
		const char *key = t->kind == M2W_ONNX_TYPE_MAP ? m2w_onnx_dtype_name(t->elem_type) : NULL;
		inner = type_name(t->elem, depth + 1);
		n = strlen(pre) + (key ? strlen(key) + 1 : 0) + (inner ? strlen(inner) : 1) + 2;
		if ((r = malloc(n)))
			snprintf(r, n, "%s%s%s%s)", pre, key ? key : "", key ? "," : "", inner ? inner : "?");
		free(inner);
		return r;
	}
	case M2W_ONNX_TYPE_OPAQUE:
		return strdup("opaque");
	default:
		return NULL;
	}
}

static cJSON *value_json(struct jb *b, const struct m2w_onnx_value_info *v)
{
	cJSON *o = cJSON_CreateObject(), *shape;
	const struct m2w_onnx_type *t = v->has_type ? &v->type : NULL;
	put(b, o, "name", jstr(v->name));
	if (t && (t->kind == M2W_ONNX_TYPE_TENSOR || t->kind == M2W_ONNX_TYPE_SPARSE) && t->has_shape) {
		shape = put(b, o, "shape", cJSON_CreateArray());
		for (size_t i = 0; shape && i < t->ndim; i++) {
			const struct m2w_onnx_dim *dm = &t->dims[i];
			put(b, shape, NULL, dm->kind == M2W_ONNX_DIM_VALUE ? jint(dm->value)
				: dm->kind == M2W_ONNX_DIM_PARAM ? jstr(dm->param) : cJSON_CreateNull());
		}
	} else {
		put(b, o, "shape", cJSON_CreateNull());
	}
	char *tn = type_name(t, 0);
	put(b, o, "dtype", tn ? cJSON_CreateString(tn) : cJSON_CreateNull());
	free(tn);
	return o;
}

static cJSON *dims_json(struct jb *b, const int64_t *dims, size_t n)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; a && i < n; i++)
		put(b, a, NULL, jint(dims[i]));
	return a;
}

static int hash_sink(void *ctx, const void *p, size_t n, struct m2w_diag *d)
{
	if (XXH3_64bits_update(ctx, p, n) != XXH_OK)
		return m2w_err(d, M2W_NO_OFFSET, "xxh3 update failed");
	return 0;
}

struct walk {
	const struct m2w_onnx_model *m;
	const struct m2w_describe_opts *o;
	struct m2w_diag *d;
	struct jb *b;
	cJSON *ops, *tensors;
	XXH3_state_t *hs;
	size_t graphs, nodes, subgraphs, external, sparse, constants;
	uint64_t params, const_elems;
	int err;
	/* non-default domains: first node of each, and counts */
	struct dom {
		struct m2w_pbstr domain;
		size_t nodes;
		cJSON *ops;
	} *doms;
	size_t ndoms, cdoms;
	cJSON *ext_files;
};

static bool default_domain(struct m2w_pbstr s)
{
	return s.n == 0 || m2w_pbstr_eq(s, "ai.onnx");
}

static int count_op(struct walk *w, const struct m2w_onnx_node *n)
{
	char *op = clean(n->op_type), *dom = clean(n->domain), *key;
	if (!op || !dom || !(key = malloc(strlen(op) + strlen(dom) + 2))) {
		free(op), free(dom);
		return w->b->oom = true, -1;
	}
	if (default_domain(n->domain))
		strcpy(key, op);
	else
		sprintf(key, "%s.%s", dom, op);
	cJSON *c = cJSON_GetObjectItemCaseSensitive(w->ops, key);
	if (c)
		cJSON_SetNumberValue(c, c->valuedouble + 1);
	else
		put(w->b, w->ops, key, cJSON_CreateNumber(1));

	if (!default_domain(n->domain)) {
		size_t i;
		for (i = 0; i < w->ndoms; i++)
			if (w->doms[i].domain.n == n->domain.n && !memcmp(w->doms[i].domain.p, n->domain.p, n->domain.n))
				break;
		if (i == w->ndoms) {
			if (w->ndoms == w->cdoms) {
				size_t nc = w->cdoms ? 2 * w->cdoms : 8;
				struct dom *nd = realloc(w->doms, nc * sizeof *nd);
				if (!nd) {
					free(op), free(dom), free(key);
					return w->b->oom = true, -1;
				}
				w->doms = nd, w->cdoms = nc;
			}
			w->doms[i] = (struct dom){n->domain, 0, cJSON_CreateArray()};
			w->ndoms++;
		}
		w->doms[i].nodes++;
		bool seen = false;
		cJSON *e;
		cJSON_ArrayForEach(e, w->doms[i].ops)
			seen |= !strcmp(e->valuestring, op);
		if (!seen)
			put(w->b, w->doms[i].ops, NULL, cJSON_CreateString(op));
	}
	free(op), free(dom), free(key);
	return 0;
}

static int hash_tensor(struct walk *w, const struct m2w_onnx_tensor *t)
{
	return m2w_onnx_tensor_stream(w->m, t, hash_sink, w->hs, w->d);
}

static int check_external(struct walk *w, const struct m2w_onnx_tensor *t, cJSON *o)
{
	char *path;
	if (t->store != M2W_ONNX_STORE_EXTERNAL)
		return 0;
	w->external++;
	/* without the folder (a model read from a pipe) the file can't be checked */
	if (w->m->dir) {
		if (m2w_onnx_external_path(w->m, t, &path, w->d))
			return -1;
		free(path);
	}
	bool seen = false;
	char *loc = clean(t->ext_location);
	cJSON *e;
	if (!loc)
		return w->b->oom = true, -1;
	cJSON_ArrayForEach(e, w->ext_files)
		seen |= !strcmp(e->valuestring, loc);
	if (!seen)
		put(w->b, w->ext_files, NULL, cJSON_CreateString(loc));
	put(w->b, o, "_external", cJSON_CreateString(loc));
	free(loc);
	return 0;
}

static cJSON *tensor_json(struct walk *w, const struct m2w_onnx_tensor *t, const struct m2w_onnx_sparse *sp)
{
	struct jb *b = w->b;
	cJSON *o = cJSON_CreateObject();
	uint64_t bytes = t->nbytes;
	put(b, o, "name", jstr(t->name));
	if (sp) {
		put(b, o, "shape", dims_json(b, sp->dims, sp->ndim));
		bytes += sp->indices.nbytes;
	} else {
		put(b, o, "shape", dims_json(b, t->dims, t->ndim));
	}
	put(b, o, "dtype", jdtype(t->data_type));
	put(b, o, "bytes", juint(bytes));
	put(b, o, "quant", cJSON_CreateNull());
	put(b, o, "_offset", juint(t->store == M2W_ONNX_STORE_EXTERNAL ? t->ext_offset : t->data_off));
	if (sp)
		put(b, o, "_nnz", juint(t->count));
	if (check_external(w, t, o) || (sp && check_external(w, &sp->indices, o)))
		goto fail;
	if (w->o && w->o->hash_tensors) {
		char hex[17];
		if (XXH3_64bits_reset(w->hs) != XXH_OK || hash_tensor(w, t) || (sp && hash_tensor(w, &sp->indices)))
			goto fail;
		m2w_xxh3_hex(XXH3_64bits_digest(w->hs), hex);
		put(b, o, "_xxh3", cJSON_CreateString(hex));
	}
	uint64_t elems = sp ? sp->count : t->count;
	if (!m2w_add_u64(w->params, elems, &w->params)) {
		m2w_err(w->d, t->off, "total parameter count overflows 64 bits");
		goto fail;
	}
	return o;
fail:
	cJSON_Delete(o);
	w->err = -1;
	return NULL;
}

static int visit_graph(void *ctx, const struct m2w_onnx_graph *g, int depth)
{
	struct walk *w = ctx;
	w->graphs++;
	w->subgraphs += depth > 0;
	for (size_t i = 0; i < g->ninits; i++) {
		cJSON *t = tensor_json(w, &g->inits[i], NULL);
		if (!t)
			return -1;
		put(w->b, w->tensors, NULL, t);
	}
	for (size_t i = 0; i < g->nsparse; i++) {
		const struct m2w_onnx_sparse *sp = &g->sparse[i];
		if (!sp->has_values) {
			m2w_err(w->d, sp->off, "sparse initializer %zu has no values tensor", i);
			return w->err = -1;
		}
		cJSON *t = tensor_json(w, &sp->values, sp);
		if (!t)
			return -1;
		put(w->b, w->tensors, NULL, t);
		w->sparse++;
	}
	for (size_t i = 0; i < g->nnodes; i++) {
		const struct m2w_onnx_node *n = &g->nodes[i];
		w->nodes++;
		if (count_op(w, n))
			return -1;
		if (m2w_pbstr_eq(n->op_type, "Constant") && default_domain(n->domain)) {
			w->constants++;
			for (size_t j = 0; j < n->nattrs; j++)
				if (n->attrs[j].t)
					w->const_elems += n->attrs[j].t->count;
		}
	}
	return w->b->oom ? -1 : 0;
}

static cJSON *nodes_json(struct jb *b, const struct m2w_onnx_graph *g)
{
	cJSON *arr = cJSON_CreateArray();
	for (size_t i = 0; arr && i < g->nnodes; i++) {
		const struct m2w_onnx_node *n = &g->nodes[i];
		cJSON *o = put(b, arr, NULL, cJSON_CreateObject()), *a;
		if (!o)
			break;
		put(b, o, "op", jstr(n->op_type));
		put(b, o, "name", jstr(n->name));
		put(b, o, "domain", jstr(n->domain));
		a = put(b, o, "inputs", cJSON_CreateArray());
		for (size_t j = 0; a && j < n->ninputs; j++)
			put(b, a, NULL, jstr(n->inputs[j]));
		a = put(b, o, "outputs", cJSON_CreateArray());
		for (size_t j = 0; a && j < n->noutputs; j++)
			put(b, a, NULL, jstr(n->outputs[j]));
	}
	return arr;
}

static void note(struct jb *b, cJSON *arr, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void note(struct jb *b, cJSON *arr, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	put(b, arr, NULL, cJSON_CreateString(buf));
}

/* "a, b, c" from a JSON array of strings, at most max bytes */
static void join(const cJSON *arr, char *buf, size_t max)
{
	const cJSON *e;
	size_t n = 0;
	buf[0] = 0;
	cJSON_ArrayForEach(e, arr) {
		int k = snprintf(buf + n, max - n, "%s%s", n ? ", " : "", e->valuestring);
		if (k < 0 || (size_t)k >= max - n) {
			if (max > 4)
				strcpy(buf + max - 4, "...");
			return;
		}
		n += (size_t)k;
	}
}

static int describe(const struct m2w_onnx_model *m, size_t n, const struct m2w_describe_opts *opts, cJSON **out,
	struct m2w_diag *d)
{
	struct jb jb = {0}, *b = &jb;
	struct walk w = {.m = m, .o = opts, .d = d, .b = b};
	struct nameset inits = {0};
	const struct m2w_onnx_graph *g = m->graph;
	cJSON *root = cJSON_CreateObject(), *obj, *arr;
	char *s1 = NULL, *s2 = NULL;
	int rc = -1;

	w.ops = cJSON_CreateObject();
	w.tensors = cJSON_CreateArray();
	w.ext_files = cJSON_CreateArray();
	w.hs = XXH3_createState();
	if (!root || !w.ops || !w.tensors || !w.ext_files || !w.hs)
		goto oom;

	put(b, root, "format", cJSON_CreateString("onnx"));
	put(b, root, "bytes", juint(n));
	if (!(s1 = clean(m->producer_name)) || !(s2 = clean(m->producer_version)))
		goto oom;
	{
		char *prod = malloc(strlen(s1) + strlen(s2) + 2);
		if (!prod)
			goto oom;
		sprintf(prod, "%s%s%s", s1, *s1 && *s2 ? " " : "", s2);
		put(b, root, "producer", cJSON_CreateString(prod));
		free(prod);
	}
	obj = put(b, root, "opset", cJSON_CreateObject());
	for (size_t i = 0; obj && i < m->nopsets; i++) {
		char *dom = m->opsets[i].domain.n ? clean(m->opsets[i].domain) : strdup("ai.onnx");
		if (!dom)
			goto oom;
		cJSON_DeleteItemFromObjectCaseSensitive(obj, dom);
		put(b, obj, dom, jint(m->opsets[i].version));
		free(dom);
	}
	put(b, root, "ir_version", jint(m->ir_version));

	arr = put(b, root, "inputs", cJSON_CreateArray());
	if (g) {
		if (!ns_init(&inits, g->ninits + g->nsparse))
			goto oom;
		for (size_t i = 0; i < g->ninits; i++)
			ns_add(&inits, g->inits[i].name, i);
		for (size_t i = 0; i < g->nsparse; i++)
			ns_add(&inits, g->sparse[i].values.name, i);
		for (size_t i = 0; arr && i < g->ninputs; i++)
			if (!ns_has(&inits, g->inputs[i].name))
				put(b, arr, NULL, value_json(b, &g->inputs[i]));
	}
	arr = put(b, root, "outputs", cJSON_CreateArray());
	for (size_t i = 0; g && arr && i < g->noutputs; i++)
		put(b, arr, NULL, value_json(b, &g->outputs[i]));

	if (m2w_onnx_walk_graphs(g, visit_graph, &w) || w.err)
		goto fail;
	put(b, root, "ops", w.ops);
	w.ops = NULL;
	put(b, root, "graphs", juint(w.graphs));
	put(b, root, "tensors", w.tensors);
	w.tensors = NULL;
	put(b, root, "params", juint(w.params));
	obj = put(b, root, "metadata", cJSON_CreateObject());
	for (size_t i = 0; obj && i < m->nmetadata; i++) {
		char *k = clean(m->metadata[i].key);
		if (!k)
			goto oom;
		cJSON_DeleteItemFromObjectCaseSensitive(obj, k);
		put(b, obj, k, jstr(m->metadata[i].value));
		free(k);
	}

	/* private keys for the summary and ARCHITECTURE.md */
	if (g)
		put(b, root, "_nodes", nodes_json(b, g));
	arr = put(b, root, "_nonstandard", cJSON_CreateArray());
	for (size_t i = 0; arr && i < w.ndoms; i++) {
		char ops[512], *dom = clean(w.doms[i].domain);
		if (!dom)
			goto oom;
		join(w.doms[i].ops, ops, sizeof ops);
		note(b, arr, "domain %s: %zu node%s (%s)", dom, w.doms[i].nodes, w.doms[i].nodes == 1 ? "" : "s", ops);
		free(dom);
	}
	for (size_t i = 0; arr && i < m->nfunctions; i++) {
		char *nm = clean(m->functions[i].name), *dom = clean(m->functions[i].domain);
		if (nm && dom)
			note(b, arr, "op %s%s%s is a model-local function of %zu nodes", dom, *dom ? "." : "", nm,
				m->functions[i].nnodes);
		free(nm), free(dom);
	}
	arr = put(b, root, "_notes", cJSON_CreateArray());
	if (arr) {
		if (!g)
			note(b, arr, "the model has no graph");
		if (w.subgraphs)
			note(b, arr, "%zu subgraphs (If / Loop / Scan bodies), %zu nodes in all graphs", w.subgraphs, w.nodes);
		if (g && g->ninputs > (size_t)cJSON_GetArraySize(cJSON_GetObjectItem(root, "inputs")))
			note(b, arr, "%zu graph inputs are initializers (IR < 4 style)",
				g->ninputs - (size_t)cJSON_GetArraySize(cJSON_GetObjectItem(root, "inputs")));
		if (w.constants)
			note(b, arr, "%zu Constant nodes hold %llu elements (not in params)", w.constants,
				(unsigned long long)w.const_elems);
		if (w.sparse)
			note(b, arr, "%zu sparse initializers", w.sparse);
		if (w.external) {
			char files[512];
			join(w.ext_files, files, sizeof files);
			note(b, arr, "%zu tensors in external data: %s%s", w.external, files,
				m->dir ? "" : " (not checked: model folder unknown)");
		}
		if (m->ntraining_info)
			note(b, arr, "%zu training_info entries (not described)", m->ntraining_info);
		if (m->doc_string.n) {
			struct m2w_pbstr first = m->doc_string;
			const char *nl = memchr(first.p, '\n', first.n);
			if (nl)
				first.n = (size_t)(nl - first.p);
			if (first.n > 200)
				first.n = 200;
			char *doc = clean(first);
			if (doc)
				note(b, arr, "doc: %s", doc);
			free(doc);
		}
	}
	if (b->oom)
		goto oom;
	*out = root;
	root = NULL;
	rc = 0;
	goto fail;
oom:
	m2w_err(d, M2W_NO_OFFSET, "out of memory building the description");
fail:
	for (size_t i = 0; i < w.ndoms; i++)
		cJSON_Delete(w.doms[i].ops);
	free(w.doms);
	cJSON_Delete(w.ext_files);
	cJSON_Delete(w.ops);
	cJSON_Delete(w.tensors);
	cJSON_Delete(root);
	XXH3_freeState(w.hs);
	free(inits.s);
	free(s1);
	free(s2);
	return rc;
}

int m2w_describe_onnx(const uint8_t *p, size_t n, const char *dir, const struct m2w_describe_opts *o, cJSON **out,
	struct m2w_diag *d)
{
	struct m2w_onnx_model *m;
	*out = NULL;
	if (m2w_onnx_parse(p, n, dir, &m, d))
		return -1;
	int rc = describe(m, n, o, out, d);
	m2w_onnx_free(m);
	return rc;
}

int m2w_describe_tensorpb(const uint8_t *p, size_t n, const struct m2w_describe_opts *o, cJSON **out,
	struct m2w_diag *d)
{
	struct m2w_onnx_model *m;
	struct jb jb = {0};
	struct walk w = {.o = o, .d = d, .b = &jb};
	cJSON *root = NULL, *arr, *t;
	int rc = -1;

	*out = NULL;
	/* a lone .pb has no folder to resolve external data against */
	if (m2w_onnx_parse_tensorpb(p, n, NULL, &m, d))
		return -1;
	w.m = m;
	w.ext_files = cJSON_CreateArray();
	w.hs = XXH3_createState();
	root = cJSON_CreateObject();
	if (!w.ext_files || !w.hs || !root)
		goto oom;
	put(&jb, root, "format", cJSON_CreateString(m2w_format_name(M2W_FMT_TENSORPB)));
	put(&jb, root, "bytes", juint(n));
	arr = put(&jb, root, "tensors", cJSON_CreateArray());
	if (!(t = tensor_json(&w, m->tensor, NULL)))
		goto fail;
	put(&jb, arr, NULL, t);
	put(&jb, root, "params", juint(w.params));
	if (jb.oom)
		goto oom;
	*out = root;
	root = NULL;
	rc = 0;
	goto fail;
oom:
	m2w_err(d, M2W_NO_OFFSET, "out of memory building the description");
fail:
	cJSON_Delete(root);
	cJSON_Delete(w.ext_files);
	XXH3_freeState(w.hs);
	m2w_onnx_free(m);
	return rc;
}

/* ---- --expose-intermediates ---- */

static size_t varint_len(uint64_t v)
{
	size_t n = 1;
	while (v >= 0x80)
		v >>= 7, n++;
	return n;
}

static size_t put_varint(uint8_t *p, uint64_t v)
{
	size_t n = 0;
	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

/* The output file is the input with the graph field (7) re-emitted: same
 * payload bytes, then one GraphProto.output (12) per exposed node output.
 * Protobuf concatenates repeated fields, so the new outputs follow the
 * original ones; every other ModelProto field is copied verbatim. */
int m2w_expose_onnx(const uint8_t *p, size_t n, const char *out_path, struct m2w_diag *d)
{
	struct m2w_onnx_model *m;
	struct nameset seen = {0}, vinfo = {0};
	struct m2w_out o;
	const struct m2w_pbstr **extra = NULL;
	size_t nextra = 0, nouts = 0;
	uint64_t extra_bytes = 0;
	uint8_t hdr[24];
	int rc = -1;

	if (m2w_onnx_parse(p, n, NULL, &m, d))
		return -1;
	const struct m2w_onnx_graph *g = m->graph;
	if (!g) {
		m2w_onnx_free(m);
		return m2w_err(d, 0, "the model has no graph to expose");
	}
	for (size_t i = 0; i < g->nnodes; i++)
		nouts += g->nodes[i].noutputs;
	if (!ns_init(&seen, nouts + g->noutputs + g->ninputs + g->ninits) || !ns_init(&vinfo, g->nvalue_info) ||
		!(extra = calloc(nouts ? nouts : 1, sizeof *extra))) {
		m2w_err(d, M2W_NO_OFFSET, "out of memory");
		goto done;
	}
	/* already visible values are not added again */
	for (size_t i = 0; i < g->noutputs; i++)
		ns_add(&seen, g->outputs[i].name, 0);
	for (size_t i = 0; i < g->ninputs; i++)
		ns_add(&seen, g->inputs[i].name, 0);
	for (size_t i = 0; i < g->ninits; i++)
		ns_add(&seen, g->inits[i].name, 0);
	for (size_t i = 0; i < g->nvalue_info; i++)
		ns_add(&vinfo, g->value_info[i].name, i);
	for (size_t i = 0; i < g->nnodes; i++) {
		const struct m2w_onnx_node *nd = &g->nodes[i];
		for (size_t j = 0; j < nd->noutputs; j++) {
			const struct m2w_pbstr *name = &nd->outputs[j];
			if (name->n == 0 || !ns_add(&seen, *name, 0))
				continue;
			struct slot *vi = ns_find(&vinfo, *name);
			uint64_t body = vi->used ? g->value_info[vi->val].end - g->value_info[vi->val].off
						 : 1 + varint_len(name->n) + name->n;
			extra_bytes += 1 + varint_len(body) + body;
			extra[nextra++] = name;
		}
	}

	uint64_t glen = g->end - g->off + extra_bytes;
	size_t h = 0;
	hdr[h++] = 7 << 3 | 2;
	h += put_varint(hdr + h, glen);
	if (m2w_out_open(&o, out_path, d))
		goto done;
	if (m2w_out_write(&o, p, m->graph_field_off, d) || m2w_out_write(&o, hdr, h, d) ||
		m2w_out_write(&o, p + g->off, g->end - g->off, d))
		goto abort;
	for (size_t i = 0; i < nextra; i++) {
		const struct m2w_pbstr *name = extra[i];
		struct slot *vi = ns_find(&vinfo, *name);
		uint64_t body = vi->used ? g->value_info[vi->val].end - g->value_info[vi->val].off
					 : 1 + varint_len(name->n) + name->n;
		h = 0;
		hdr[h++] = 12 << 3 | 2;
		h += put_varint(hdr + h, body);
		if (m2w_out_write(&o, hdr, h, d))
			goto abort;
		if (vi->used) {
			const struct m2w_onnx_value_info *v = &g->value_info[vi->val];
			if (m2w_out_write(&o, p + v->off, v->end - v->off, d))
				goto abort;
		} else {
			h = 0;
			hdr[h++] = 1 << 3 | 2;
			h += put_varint(hdr + h, name->n);
			if (m2w_out_write(&o, hdr, h, d) || m2w_out_write(&o, name->p, name->n, d))
				goto abort;
		}
	}
	if (m2w_out_write(&o, p + g->end, n - g->end, d))
		goto abort;
	if (m2w_out_commit(&o, NULL, d)) /* it cleans up after itself */
		goto done;
	rc = 0;
	goto done;
abort:
	m2w_out_abort(&o);
done:
	free(extra);
	free(seen.s);
	free(vinfo.s);
	m2w_onnx_free(m);
	return rc;
}
