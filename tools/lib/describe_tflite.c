/* describe_tflite: TFLite models and MediaPipe .task bundles as
 * m2w-inspect's JSON (describe.h), and TFLite with every intermediate
 * exposed.
 *
 * TFLite keys:
 *   "version"            Model.version (the schema version, 3)
 *   "producer"           Model.description ("MLIR Converted." ...)
 *   "inputs"/"outputs"   subgraph 0's, in its order.  "shape" comes from
 *                        shape_signature when present, where a dynamic dim
 *                        (-1) is the string "?" (DESIGN.md: symbolic dims
 *                        are strings).  When the model's first signature
 *                        over subgraph 0 names the tensor differently, that
 *                        name is "alias" (what LiteRT's getInputDetails /
 *                        getOutputDetails report).
 *   "ops"                builtin name (CONV_2D ...) or custom code, counted
 *                        over every subgraph
 *   "graphs"             number of subgraphs
 *   "tensors"            tensors with a non-empty buffer: all of subgraph 0,
 *                        then those of other subgraphs whose buffer is not
 *                        listed yet; "bytes" is the buffer's size, "quant"
 *                        null or {"scale","zero_point","quantized_dimension"}
 *                        (plus "type":"custom" for custom quantization)
 *   "params"             elements of the listed tensors, each buffer once
 *   "metadata"           name -> the buffer's text when it is short printable
 *                        text (trailing NULs dropped), else its size
 *   "_nodes"             subgraph 0's operators; "domain" is "custom" for
 *                        custom ops; a missing optional input is ""
 *
 * .task: {"format":"task","bytes","members":[{name,bytes,method,format}],
 * "models":[...]}; members of nested zips are listed as "outer/inner".  With
 * exactly one .tflite its stable and private keys are merged at the top level;
 * with several, "ops", "graphs" and "params" are their sums.
 *
 * --expose-intermediates rewrites a TFLite file without re-serialising it.
 * uoffsets point forward only, so new tables can't be appended after the
 * tables they replace; instead they are put in front: the output is the root
 * offset and "TFL3", a new region of S bytes (S a multiple of 64, so every
 * old alignment holds), then the old bytes 8..end unchanged, each now S bytes
 * further.  The region holds a new Model table (same fields, "subgraphs"
 * pointing at a new vector), that vector (entry 0 a new SubGraph whose
 * "outputs" lists the old outputs then every operator output in execution
 * order, deduplicated, -1 skipped; the other entries the old subgraphs), and
 * for each signature over subgraph 0 a new SignatureDef whose outputs gain a
 * TensorMap per added tensor, named after the tensor.  All of them point
 * forward into the old bytes.  Absolute offsets in the old bytes
 * (Buffer.offset and Operator.large_custom_options_offset, set when > 1) are
 * increased by S in place.
 */
#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "describe.h"
#include "flatbuf.h"
#include "tflite.h"
#include "zip.h"

#ifndef M2W_ZIP_MAX_DEPTH
#define M2W_ZIP_MAX_DEPTH 4 /* zips inside zips (MediaPipe nests .task files) */
#endif
#ifndef M2W_ZIP_MAX_TOTAL
#define M2W_ZIP_MAX_TOTAL (UINT64_C(1) << 32) /* bytes inflated over one bundle */
#endif
#define META_TEXT_MAX 256

/* Length of the valid UTF-8 sequence at p, 0 when invalid. */
static size_t utf8_len(const uint8_t *p, size_t n)
{
	size_t k;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		k = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		k = 3;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		k = 4;
	else
		return 0;
	if (k > n)
		return 0;
	uint32_t c = p[0] & (0x7fu >> k);
	for (size_t i = 1; i < k; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (p[i] & 0x3fu);
	}
	/* overlong forms, surrogates and values past U+10FFFF are invalid */
	if ((k == 3 && (c < 0x800 || (c >= 0xd800 && c < 0xe000))) ||
		(k == 4 && (c < 0x10000 || c > 0x10ffff)))
		return 0;
	return k;
}

/* JSON string from file bytes, bad UTF-8 replaced by U+FFFD. */
static cJSON *jstr(const char *s, size_t n)
{
	const uint8_t *p = (const uint8_t *)s;
	char *buf, *o;

	if (n > (SIZE_MAX - 1) / 3 || !(buf = malloc(3 * n + 1)))
		return NULL;
	o = buf;
	for (size_t i = 0; i < n;) {
		size_t k = p[i] ? utf8_len(p + i, n - i) : 0;
		if (k) {
			memcpy(o, p + i, k);
			o += k;
			i += k;
		} else {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		}
	}
	*o = 0;
	cJSON *j = cJSON_CreateString(buf);
	free(buf);
	return j;
}

static cJSON *jcstr(const char *s) { return jstr(s, strlen(s)); }

static cJSON *json_shape(const int32_t *dims, int n)
{
	cJSON *a = cJSON_CreateArray();
	for (int i = 0; i < n; i++)
		cJSON_AddItemToArray(a, dims[i] < 0 ? cJSON_CreateString("?")
						   : cJSON_CreateNumber((double)dims[i]));
	return a;
}

/* Names the model's first signature over subgraph 0 gives its tensors
 * (LiteRT's default signature), by tensor index; NULL where none. */
static const char **aliases(const struct m2w_tflite *m, bool input)
{
	const struct m2w_tfl_subgraph *sg = &m->subgraphs[0];
	const char **a = calloc(sg->ntensors ? sg->ntensors : 1, sizeof *a);

	for (uint32_t s = 0; a && s < m->nsignatures; s++) {
		const struct m2w_tfl_signature *g = &m->signatures[s];
		if (g->subgraph != 0)
			continue;
		const struct m2w_tfl_tensormap *tm = input ? g->inputs : g->outputs;
		uint32_t n = input ? g->ninputs : g->noutputs;
		for (uint32_t i = 0; i < n; i++)
			if (!a[tm[i].tensor])
				a[tm[i].tensor] = tm[i].name;
		break;
	}
	return a;
}

static cJSON *json_io(const struct m2w_tflite *m, const struct m2w_tfl_vec *v, bool input)
{
	const struct m2w_tfl_subgraph *sg = &m->subgraphs[0];
	const char **alias = aliases(m, input);
	cJSON *a = cJSON_CreateArray();

	if (!alias)
		return a;
	for (uint32_t i = 0; i < v->n; i++) {
		uint32_t ti = (uint32_t)m2w_tfl_i32(v, i);
		const struct m2w_tfl_tensor *t = &sg->tensors[ti];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddItemToObject(o, "name", jcstr(t->name));
		if (t->sig_ndim >= 0)
			cJSON_AddItemToObject(o, "shape", json_shape(t->shape_signature, t->sig_ndim));
		else
			cJSON_AddItemToObject(o, "shape", json_shape(t->shape, t->ndim));
		cJSON_AddStringToObject(o, "dtype", m2w_tflite_dtype_name(t->type));
		if (alias[ti] && strcmp(alias[ti], t->name))
			cJSON_AddItemToObject(o, "alias", jcstr(alias[ti]));
		cJSON_AddItemToArray(a, o);
	}
	free(alias);
	return a;
}

static cJSON *json_quant(const struct m2w_tfl_quant *q)
{
	if (!q->present || (!q->scale.n && !q->details_type))
		return cJSON_CreateNull();
	cJSON *o = cJSON_CreateObject(), *s = cJSON_AddArrayToObject(o, "scale"),
	      *z = cJSON_AddArrayToObject(o, "zero_point");
	for (uint32_t i = 0; i < q->scale.n; i++)
		cJSON_AddItemToArray(s, cJSON_CreateNumber(m2w_tfl_f32(&q->scale, i)));
	for (uint32_t i = 0; i < q->zero_point.n; i++)
		cJSON_AddItemToArray(z, cJSON_CreateNumber((double)m2w_tfl_i64(&q->zero_point, i)));
	cJSON_AddNumberToObject(o, "quantized_dimension", q->quantized_dimension);
	if (q->details_type)
		cJSON_AddStringToObject(o, "type", "custom");
	return o;
}

static uint64_t elements(const struct m2w_tfl_tensor *t)
{
	uint64_t c = 1;
	for (int i = 0; i < t->ndim; i++)
		if (!m2w_mul_u64(c, (uint64_t)(t->shape[i] < 0 ? 0 : t->shape[i]), &c))
			return 0;
	return c;
}

static void add_tensor(cJSON *arr, const struct m2w_tflite *m, const struct m2w_tfl_tensor *t,
	const struct m2w_describe_opts *opts)
{
	const struct m2w_tfl_buffer *b = &m->buffers[t->buffer];
	cJSON *o = cJSON_CreateObject();
	char hex[17];

	cJSON_AddItemToObject(o, "name", jcstr(t->name));
	cJSON_AddItemToObject(o, "shape", json_shape(t->shape, t->ndim));
	cJSON_AddStringToObject(o, "dtype", m2w_tflite_dtype_name(t->type));
	cJSON_AddNumberToObject(o, "bytes", (double)b->size);
	cJSON_AddItemToObject(o, "quant", json_quant(&t->quant));
	cJSON_AddNumberToObject(o, "_offset", (double)b->off);
	if (opts && opts->hash_tensors) {
		m2w_xxh3_hex(m2w_xxh3(b->data, (size_t)b->size), hex);
		cJSON_AddStringToObject(o, "_xxh3", hex);
	}
	cJSON_AddItemToArray(arr, o);
}

static cJSON *tensor_name(const struct m2w_tfl_subgraph *sg, int32_t i)
{
	return i < 0 ? cJSON_CreateString("") : jcstr(sg->tensors[i].name);
}

static cJSON *json_nodes(const struct m2w_tflite *m)
{
	const struct m2w_tfl_subgraph *sg = &m->subgraphs[0];
	cJSON *a = cJSON_CreateArray();
	char buf[32];

	for (uint32_t i = 0; i < sg->noperators; i++) {
		const struct m2w_tfl_operator *op = &sg->operators[i];
		cJSON *o = cJSON_CreateObject(), *in, *out;
		cJSON_AddItemToObject(o, "op", jcstr(m2w_tflite_op_name(m, op->opcode_index, buf, sizeof buf)));
		cJSON_AddStringToObject(o, "name", "");
		cJSON_AddStringToObject(o, "domain",
			m->opcodes[op->opcode_index].builtin == M2W_TFL_OP_CUSTOM ? "custom" : "");
		in = cJSON_AddArrayToObject(o, "inputs");
		for (uint32_t k = 0; k < op->inputs.n; k++)
			cJSON_AddItemToArray(in, tensor_name(sg, m2w_tfl_i32(&op->inputs, k)));
		out = cJSON_AddArrayToObject(o, "outputs");
		for (uint32_t k = 0; k < op->outputs.n; k++)
			cJSON_AddItemToArray(out, tensor_name(sg, m2w_tfl_i32(&op->outputs, k)));
		cJSON_AddItemToArray(a, o);
	}
	return a;
}

static void note(cJSON *notes, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(cJSON *notes, const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	cJSON_AddItemToArray(notes, jcstr(buf));
}

/* Sorting by (name, first appearance) merges repeated names in n log n
 * (op names over many opcode entries, metadata names). */
struct named {
	const char *name; /* NULL: the name is in buf */
	uint64_t first;   /* order of first appearance */
	uint64_t count;
	uint32_t index;
	char buf[24];
};

static const char *nm(const struct named *x) { return x->name ? x->name : x->buf; }

static int by_name_first(const void *a, const void *b)
{
	const struct named *x = a, *y = b;
	int c = strcmp(nm(x), nm(y));
	return c ? c : x->first < y->first ? -1 : x->first > y->first;
}

static int by_first(const void *a, const void *b)
{
	const struct named *x = a, *y = b;
	return x->first < y->first ? -1 : x->first > y->first;
}

/* Merges entries of equal name (counts add up, the first keeps its place);
 * returns the new count, in order of first appearance. */
static size_t merge_named(struct named *v, size_t n)
{
	size_t k = 0;

	qsort(v, n, sizeof *v, by_name_first);
	for (size_t i = 0; i < n; i++) {
		if (k && !strcmp(nm(&v[k - 1]), nm(&v[i])))
			v[k - 1].count += v[i].count;
		else
			v[k++] = v[i];
	}
	qsort(v, k, sizeof *v, by_first);
	return k;
}

/* Object member with a key from the file (bad UTF-8 replaced). */
static void add_member(cJSON *o, const char *key, cJSON *item)
{
	cJSON *k = jcstr(key);
	if (k && item)
		cJSON_AddItemToObject(o, cJSON_GetStringValue(k), item);
	else
		cJSON_Delete(item);
	cJSON_Delete(k);
}

static cJSON *json_metadata(const struct m2w_tflite *m)
{
	cJSON *o = cJSON_CreateObject();
	struct named *v = calloc(m->nmetadata ? m->nmetadata : 1, sizeof *v);
	size_t n;

	if (!v)
		return o;
	for (uint32_t i = 0; i < m->nmetadata; i++)
		v[i] = (struct named){.name = m->metadata[i].name, .first = i, .count = 1, .index = i};
	/* a repeated name keeps its first value, as object keys must be unique */
	n = merge_named(v, m->nmetadata);
	for (size_t i = 0; i < n; i++) {
		const struct m2w_tfl_buffer *b = &m->buffers[m->metadata[v[i].index].buffer];
		size_t len = (size_t)b->size;
		bool text = len <= META_TEXT_MAX;
		while (text && len && b->data[len - 1] == 0)
			len--;
		for (size_t k = 0; text && k < len; k++)
			text = b->data[k] >= 0x20 && b->data[k] < 0x7f;
		add_member(o, nm(&v[i]),
			text && len ? jstr((const char *)b->data, len) : cJSON_CreateNumber((double)b->size));
	}
	free(v);
	return o;
}

static cJSON *describe_model(const struct m2w_tflite *m, size_t n,
	const struct m2w_describe_opts *opts)
{
	cJSON *j = cJSON_CreateObject(), *ops, *tensors, *ns, *notes;
	uint8_t *listed = calloc(m->nbuffers ? m->nbuffers : 1, 1);
	struct named *used = calloc(m->nopcodes ? m->nopcodes : 1, sizeof *used);
	uint64_t params = 0, custom_ops = 0;

	if (!j || !listed || !used) {
		cJSON_Delete(j);
		free(listed);
		free(used);
		return NULL;
	}
	cJSON_AddStringToObject(j, "format", "tflite");
	cJSON_AddNumberToObject(j, "bytes", (double)n);
	cJSON_AddNumberToObject(j, "version", m->version);
	cJSON_AddItemToObject(j, "producer", jcstr(m->description));
	cJSON_AddItemToObject(j, "inputs", json_io(m, &m->subgraphs[0].inputs, true));
	cJSON_AddItemToObject(j, "outputs", json_io(m, &m->subgraphs[0].outputs, false));
	/* per opcode entry, then merged by name: entries may repeat a name */
	uint64_t g = 0;
	size_t nused = 0;
	for (uint32_t s = 0; s < m->nsubgraphs; s++)
		for (uint32_t i = 0; i < m->subgraphs[s].noperators; i++, g++) {
			struct named *x = &used[m->subgraphs[s].operators[i].opcode_index];
			if (!x->count++)
				x->first = g;
		}
	for (uint32_t c = 0; c < m->nopcodes; c++) {
		if (!used[c].count)
			continue;
		used[nused] = used[c];
		used[nused].index = c;
		const char *name = m2w_tflite_op_name(m, c, used[nused].buf, sizeof used[nused].buf);
		used[nused].name = name == used[nused].buf ? NULL : name;
		nused++;
	}
	nused = merge_named(used, nused);
	ops = cJSON_AddObjectToObject(j, "ops");
	for (size_t k = 0; k < nused; k++)
		add_member(ops, nm(&used[k]), cJSON_CreateNumber((double)used[k].count));
	cJSON_AddNumberToObject(j, "graphs", m->nsubgraphs);
	tensors = cJSON_AddArrayToObject(j, "tensors");
	for (uint32_t s = 0; s < m->nsubgraphs; s++) {
		const struct m2w_tfl_subgraph *sg = &m->subgraphs[s];
		for (uint32_t i = 0; i < sg->ntensors; i++) {
			const struct m2w_tfl_tensor *t = &sg->tensors[i];
			if (t->buffer >= m->nbuffers || !m->buffers[t->buffer].size ||
				(s > 0 && listed[t->buffer]))
				continue;
			add_tensor(tensors, m, t, opts);
			if (!listed[t->buffer])
				params += elements(t);
			listed[t->buffer] = 1;
		}
	}
	cJSON_AddNumberToObject(j, "params", (double)params);
	cJSON_AddItemToObject(j, "metadata", json_metadata(m));
	cJSON_AddItemToObject(j, "_nodes", json_nodes(m));

	ns = cJSON_AddArrayToObject(j, "_nonstandard");
	for (size_t k = 0; k < nused; k++) {
		const struct m2w_tfl_opcode *oc = &m->opcodes[used[k].index];
		unsigned long long uses = used[k].count;
		if (oc->builtin == M2W_TFL_OP_CUSTOM) {
			const char *name = oc->custom ? oc->custom : "";
			custom_ops += uses;
			note(ns, "custom op '%.200s' (%llu uses)%s", name, uses,
				!strncmp(name, "Flex", 4) ? ": a TensorFlow op, needs the Flex delegate" : "");
		} else if (!m2w_tflite_builtin_name(oc->builtin)) {
			note(ns, "builtin op code %d unknown to m2w (%llu uses)", (int)oc->builtin, uses);
		} else if (!strncmp(m2w_tflite_builtin_name(oc->builtin), "STABLEHLO_", 10)) {
			note(ns, "%s (%llu uses): StableHLO op, most runtimes lack it",
				m2w_tflite_builtin_name(oc->builtin), uses);
		}
	}

	notes = cJSON_AddArrayToObject(j, "_notes");
	uint32_t external = 0, sparse = 0, per_axis = 0, dynamic = 0;
	for (uint32_t b = 0; b < m->nbuffers; b++)
		external += m->buffers[b].external;
	for (uint32_t s = 0; s < m->nsubgraphs; s++)
		for (uint32_t i = 0; i < m->subgraphs[s].ntensors; i++) {
			const struct m2w_tfl_tensor *t = &m->subgraphs[s].tensors[i];
			sparse += t->sparse;
			per_axis += t->quant.scale.n > 1;
			for (int k = 0; k < t->sig_ndim; k++)
				if (t->shape_signature[k] < 0) {
					dynamic++;
					break;
				}
		}
	if (m->nsubgraphs > 1)
		note(notes, "%u subgraphs; subgraph 0 is the main graph, the others are called by "
			"control-flow ops", m->nsubgraphs);
	for (uint32_t s = 0; s < m->nsignatures; s++)
		note(notes, "signature '%.200s' runs subgraph %u (%u inputs, %u outputs)",
			m->signatures[s].key, m->signatures[s].subgraph, m->signatures[s].ninputs,
			m->signatures[s].noutputs);
	if (external)
		note(notes, "%u buffers are stored after the flatbuffer (offset/size)", external);
	if (sparse)
		note(notes, "%u sparse tensors (stored compressed; densify before use)", sparse);
	if (per_axis)
		note(notes, "%u tensors are quantized per channel", per_axis);
	if (dynamic)
		note(notes, "%u tensors have dynamic dims (\"?\" in shapes)", dynamic);
	if (custom_ops)
		note(notes, "%llu custom-op uses: the runtime must register them",
			(unsigned long long)custom_ops);
	free(listed);
	free(used);
	return j;
}

int m2w_describe_tflite(const uint8_t *p, size_t n, const struct m2w_describe_opts *o,
	cJSON **out, struct m2w_diag *d)
{
	struct m2w_tflite *m;

	*out = NULL;
	if (m2w_tflite_parse(p, n, 0, &m, d))
		return -1;
	*out = describe_model(m, n, o);
	m2w_tflite_free(m);
	if (!*out)
		return m2w_err(d, M2W_NO_OFFSET, "out of memory");
	return 0;
}

/* ---- .task ---- */

struct task {
	const struct m2w_describe_opts *opts;
	cJSON *members, *models;
	uint64_t inflated; /* over every level */
	size_t seen;       /* members over every level */
	struct m2w_diag *d;
};

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && !strcmp(s + a - b, suffix);
}

static const char *member_format(const char *name, const uint8_t *p, size_t n)
{
	enum m2w_format f = m2w_detect_format(p, n);
	/* protobuf detection guesses; trust it only with the matching name */
	if ((f == M2W_FMT_ONNX || f == M2W_FMT_TENSORPB) && !ends_with(name, ".onnx"))
		return "unknown";
	return m2w_format_name(f);
}

static int walk_zip(struct task *t, const uint8_t *p, size_t n, uint64_t base,
	const char *prefix, int depth);

/* An error inside an inflated member has no file offset: name the member. */
static int wrap_error(struct task *t, const struct m2w_diag *inner, uint64_t member_off,
	const char *name)
{
	if (inner->off == M2W_NO_OFFSET)
		return m2w_err(t->d, member_off, "in member '%.100s': %.380s", name, inner->msg);
	return m2w_err(t->d, member_off, "in member '%.100s' at +0x%llx: %.380s", name,
		(unsigned long long)inner->off, inner->msg);
}

static int walk_member(struct task *t, const struct m2w_zip *z, size_t i, const char *prefix,
	int depth)
{
	const struct m2w_zip_member *zm = &z->members[i];
	const uint8_t *data;
	size_t len;
	uint8_t *owned;
	char mb[32], *path;
	int rc = 0;

	if (++t->seen > M2W_ZIP_MAX_MEMBERS)
		return m2w_err(t->d, z->base + zm->header_off, "over %d members in nested zips",
			M2W_ZIP_MAX_MEMBERS);
	size_t plen = strlen(prefix), nlen = strlen(zm->name);
	if (!(path = malloc(plen + nlen + 1)))
		return m2w_err(t->d, M2W_NO_OFFSET, "out of memory");
	memcpy(path, prefix, plen);
	memcpy(path + plen, zm->name, nlen + 1);

	cJSON *o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "name", jcstr(path));
	cJSON_AddNumberToObject(o, "bytes", (double)zm->usize);
	cJSON_AddStringToObject(o, "method", m2w_zip_method_name(zm->method, mb, sizeof mb));
	cJSON_AddItemToArray(t->members, o);
	if (zm->is_dir) {
		cJSON_AddStringToObject(o, "format", "folder");
		goto done;
	}
	if (zm->method == 8) {
		t->inflated += zm->usize;
		if (t->inflated > M2W_ZIP_MAX_TOTAL) {
			rc = m2w_err(t->d, z->base + zm->header_off,
				"members inflate to over %llu bytes in all, limit",
				(unsigned long long)M2W_ZIP_MAX_TOTAL);
			goto done;
		}
	}
	if ((rc = m2w_zip_read(z, i, &data, &len, &owned, t->d)))
		goto done;
	const char *fmt = member_format(zm->name, data, len);
	cJSON_AddStringToObject(o, "format", fmt);
	/* stored members lie in the file, so their offsets stay absolute; an
	 * inflated one's errors are wrapped with the member's name instead */
	uint64_t base = owned ? 0 : z->base + zm->data_off;
	struct m2w_diag inner, *outer = t->d;
	m2w_diag_init(&inner, outer->file);
	if (owned)
		t->d = &inner;
	if (!strcmp(fmt, "tflite")) {
		struct m2w_tflite *m;
		if (m2w_tflite_parse(data, len, base, &m, t->d)) {
			rc = -1;
		} else {
			cJSON *j = describe_model(m, len, t->opts);
			m2w_tflite_free(m);
			if (!j) {
				rc = m2w_err(t->d, M2W_NO_OFFSET, "out of memory");
			} else {
				cJSON_AddItemToObject(j, "name", jcstr(path));
				cJSON_AddItemToArray(t->models, j);
			}
		}
	} else if (!strcmp(fmt, "task")) {
		size_t plen2 = strlen(path);
		char *sub = malloc(plen2 + 2);
		if (!sub) {
			rc = m2w_err(t->d, M2W_NO_OFFSET, "out of memory");
		} else {
			memcpy(sub, path, plen2);
			memcpy(sub + plen2, "/", 2);
			rc = walk_zip(t, data, len, base, sub, depth + 1);
			free(sub);
		}
	}
	t->d = outer;
	if (rc && owned)
		rc = wrap_error(t, &inner, z->base + zm->header_off, zm->name);
	free(owned);
done:
	free(path);
	return rc;
}

static int walk_zip(struct task *t, const uint8_t *p, size_t n, uint64_t base,
	const char *prefix, int depth)
{
	struct m2w_zip z;
	int rc = 0;

	if (depth > M2W_ZIP_MAX_DEPTH)
		return m2w_err(t->d, base, "zips nest %d deep, limit %d", depth, M2W_ZIP_MAX_DEPTH);
	if (m2w_zip_open(p, n, base, &z, t->d))
		return -1;
	for (size_t i = 0; i < z.count && !rc; i++)
		rc = walk_member(t, &z, i, prefix, depth);
	m2w_zip_close(&z);
	return rc;
}

static void merge_sum(cJSON *dst, const cJSON *models)
{
	cJSON *ops = cJSON_AddObjectToObject(dst, "ops"), *m;
	const cJSON *o;
	double graphs = 0, params = 0;
	size_t n = 0, k = 0;

	cJSON_ArrayForEach(m, models)
		n += (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(m, "ops"));
	struct named *v = calloc(n ? n : 1, sizeof *v);
	cJSON_ArrayForEach(m, models) {
		cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(m, "ops")) {
			if (!v)
				break;
			v[k] = (struct named){.name = o->string, .first = k, .count = (uint64_t)o->valuedouble};
			k++;
		}
		graphs += cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(m, "graphs"));
		params += cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(m, "params"));
	}
	k = v ? merge_named(v, k) : 0;
	for (size_t i = 0; i < k; i++)
		cJSON_AddNumberToObject(ops, v[i].name, (double)v[i].count);
	free(v);
	cJSON_AddItemToObject(dst, "inputs", cJSON_CreateArray());
	cJSON_AddItemToObject(dst, "outputs", cJSON_CreateArray());
	cJSON_AddNumberToObject(dst, "graphs", graphs);
	cJSON_AddItemToObject(dst, "tensors", cJSON_CreateArray());
	cJSON_AddNumberToObject(dst, "params", params);
	cJSON_AddItemToObject(dst, "metadata", cJSON_CreateObject());
}

int m2w_describe_task(const uint8_t *p, size_t n, const struct m2w_describe_opts *o,
	cJSON **out, struct m2w_diag *d)
{
	struct task t = {.opts = o, .d = d};
	cJSON *j = cJSON_CreateObject();

	*out = NULL;
	if (!j)
		return m2w_err(d, M2W_NO_OFFSET, "out of memory");
	cJSON_AddStringToObject(j, "format", "task");
	cJSON_AddNumberToObject(j, "bytes", (double)n);
	t.members = cJSON_AddArrayToObject(j, "members");
	t.models = cJSON_AddArrayToObject(j, "models");
	if (walk_zip(&t, p, n, 0, "", 0)) {
		cJSON_Delete(j);
		return -1;
	}
	if (cJSON_GetArraySize(t.models) == 1) {
		static const char *const keys[] = {"version", "producer", "inputs", "outputs", "ops",
			"graphs", "tensors", "params", "metadata", "_nodes", "_nonstandard", "_notes"};
		const cJSON *m = t.models->child;
		for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, keys[k]);
			if (v)
				cJSON_AddItemToObject(j, keys[k], cJSON_Duplicate(v, true));
		}
	} else {
		merge_sum(j, t.models);
	}
	*out = j;
	return 0;
}

/* ---- --expose-intermediates (layout in the comment at the top) ---- */

#define SHIFT_ALIGN 64
#define HDR 8 /* root uoffset + file identifier, rewritten */

enum fkind { F_NONE, F_OLD, F_NEW, F_U32 };

struct field {
	enum fkind kind;
	uint64_t v; /* old file position, object id, or the scalar */
};

struct fixup {
	size_t at; /* region position of a uoffset */
	bool old;
	uint64_t target;
};

struct region {
	uint8_t *b;
	size_t len, cap;
	struct fixup *fix;
	size_t nfix, capfix;
	size_t *obj; /* region position of each new object, by id */
	size_t nobj, capobj;
	bool oom;
};

static void *grow(void *p, size_t *cap, size_t need, size_t size, bool *oom)
{
	if (need <= *cap)
		return p;
	size_t c = *cap ? *cap : 64;
	while (c < need)
		c *= 2;
	void *q = c <= SIZE_MAX / size ? realloc(p, c * size) : NULL;
	if (!q) {
		*oom = true;
		return p;
	}
	*cap = c;
	return q;
}

/* Room for n bytes whose file position (HDR + region position) is aligned. */
static size_t r_take(struct region *r, size_t n, size_t align)
{
	size_t pos = r->len + (align - (HDR + r->len) % align) % align;
	r->b = grow(r->b, &r->cap, pos + n, 1, &r->oom);
	if (r->oom)
		return 0;
	memset(r->b + r->len, 0, pos + n - r->len);
	r->len = pos + n;
	return pos;
}

static void r_put16(struct region *r, size_t at, uint16_t v)
{
	r->b[at] = (uint8_t)v;
	r->b[at + 1] = (uint8_t)(v >> 8);
}

static void r_put32(struct region *r, size_t at, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		r->b[at + i] = (uint8_t)(v >> 8 * i);
}

static void r_ref(struct region *r, size_t at, bool old, uint64_t target)
{
	r->fix = grow(r->fix, &r->capfix, r->nfix + 1, sizeof *r->fix, &r->oom);
	if (!r->oom)
		r->fix[r->nfix++] = (struct fixup){at, old, target};
}

static uint64_t r_newid(struct region *r)
{
	r->obj = grow(r->obj, &r->capobj, r->nobj + 1, sizeof *r->obj, &r->oom);
	if (r->oom)
		return 0;
	r->obj[r->nobj] = SIZE_MAX;
	return r->nobj++;
}

/* A vtable followed by its table; every present field takes 4 bytes. */
static void r_table(struct region *r, uint64_t id, const struct field *f, unsigned nf)
{
	unsigned present = 0;
	for (unsigned i = 0; i < nf; i++)
		present += f[i].kind != F_NONE;
	size_t vt = r_take(r, 4 + 2 * (size_t)nf, 2);
	size_t tb = r_take(r, 4 + 4 * (size_t)present, 4);
	if (r->oom)
		return;
	r->obj[id] = tb;
	r_put16(r, vt, (uint16_t)(4 + 2 * nf));
	r_put16(r, vt + 2, (uint16_t)(4 + 4 * present));
	r_put32(r, tb, (uint32_t)(tb - vt)); /* soffset: the vtable sits just before */
	for (unsigned i = 0, slot = 0; i < nf; i++) {
		if (f[i].kind == F_NONE)
			continue;
		size_t at = tb + 4 + 4 * (size_t)slot;
		r_put16(r, vt + 4 + 2 * (size_t)i, (uint16_t)(4 + 4 * slot));
		if (f[i].kind == F_U32)
			r_put32(r, at, (uint32_t)f[i].v);
		else
			r_ref(r, at, f[i].kind == F_OLD, f[i].v);
		slot++;
	}
}

/* A vector of 4-byte elements: scalars, or references (old/new per element). */
static void r_vector(struct region *r, uint64_t id, uint32_t n, const struct field *f)
{
	size_t at = r_take(r, 4 + 4 * (size_t)n, 4);
	if (r->oom)
		return;
	r->obj[id] = at;
	r_put32(r, at, n);
	for (uint32_t i = 0; i < n; i++) {
		size_t e = at + 4 + 4 * (size_t)i;
		if (f[i].kind == F_U32)
			r_put32(r, e, (uint32_t)f[i].v);
		else
			r_ref(r, e, f[i].kind == F_OLD, f[i].v);
	}
}

static void r_string(struct region *r, uint64_t id, const char *s)
{
	size_t n = strlen(s), at = r_take(r, 4 + n + 1, 4);
	if (r->oom)
		return;
	r->obj[id] = at;
	r_put32(r, at, (uint32_t)n);
	memcpy(r->b + at + 4, s, n);
}

/* Field `id` of an old table as a field of a new one: references keep
 * pointing at the old object, scalars of 4 bytes are copied. */
static int old_field(const struct m2w_fb *fb, const struct m2w_fb_table *t, unsigned id,
	bool ref, struct field *f)
{
	uint16_t o;

	f->kind = F_NONE;
	if (m2w_fb_field(fb, t, id, 4, &o))
		return -1;
	if (!o)
		return 0;
	size_t at = t->pos + o;
	uint32_t u = m2w_le32(fb->p + at);
	if (!ref) {
		f->kind = F_U32;
		f->v = u;
		return 0;
	}
	/* the first HDR bytes are replaced, nothing may point into them */
	if (u == 0 || u > fb->n - at)
		return m2w_err(fb->d, at, "uoffset %u points outside the buffer", u);
	f->kind = F_OLD;
	f->v = at + u;
	return 0;
}

/* Fields beyond those this rewriter knows would be dropped silently. */
static int known_fields(const struct m2w_fb *fb, const struct m2w_fb_table *t, unsigned nf,
	const char *what)
{
	for (unsigned id = nf; 4 + 2 * (size_t)id + 2 <= t->vt_size; id++)
		if (m2w_le16(fb->p + t->vt + 4 + 2 * (size_t)id))
			return m2w_err(fb->d, t->pos, "%s field %u is newer than this rewriter knows",
				what, id);
	return 0;
}

/* The old target of element i of a vector of offsets. */
static uint64_t old_elem(const struct m2w_fb *fb, const struct m2w_fb_vec *v, uint32_t i)
{
	size_t at = v->pos + 4 * (size_t)i;
	return at + m2w_le32(fb->p + at); /* checked when the model was parsed */
}

/* A name set for signature output names (open addressing on xxh3). */
struct names {
	const char **slot;
	size_t cap;
};

static bool names_add(struct names *s, const char *name)
{
	size_t i = m2w_xxh3(name, strlen(name)) & (s->cap - 1);
	for (; s->slot[i]; i = (i + 1) & (s->cap - 1))
		if (!strcmp(s->slot[i], name))
			return false;
	s->slot[i] = name;
	return true;
}

struct patch {
	uint64_t at; /* old file position of a u64 absolute offset */
	uint64_t value;
};

static int by_patch(const void *a, const void *b)
{
	const struct patch *x = a, *y = b;
	return x->at < y->at ? -1 : x->at > y->at;
}

/* Absolute offsets (> 1) inside old tables: Buffer.offset, Operator
 * large_custom_options_offset.  Shared tables are patched once. */
static int collect_patches(const struct m2w_fb *fb, const struct m2w_fb_table *root,
	struct patch **out, size_t *nout)
{
	struct m2w_fb_vec bv, sv, ov;
	struct m2w_fb_table t, sg;
	size_t n = 0, cap = 0;
	struct patch *p = NULL;
	bool oom = false;

#define ADD_PATCH(tbl, fid)                                                             \
	do {                                                                            \
		uint16_t o;                                                             \
		if (m2w_fb_field(fb, &(tbl), fid, 8, &o))                               \
			goto fail;                                                      \
		uint64_t v = o ? m2w_le64(fb->p + (tbl).pos + o) : 0;                   \
		if (v > 1) {                                                            \
			p = grow(p, &cap, n + 1, sizeof *p, &oom);                      \
			if (oom)                                                        \
				goto fail;                                              \
			p[n++] = (struct patch){(tbl).pos + o, v};                      \
		}                                                                       \
	} while (0)

	if (m2w_fb_vector(fb, root, 4, 4, &bv, NULL) || m2w_fb_vector(fb, root, 2, 4, &sv, NULL))
		goto fail;
	for (uint32_t i = 0; i < bv.len; i++) {
		if (m2w_fb_vec_table(fb, &bv, i, root->depth, &t))
			goto fail;
		ADD_PATCH(t, 1);
	}
	for (uint32_t s = 0; s < sv.len; s++) {
		if (m2w_fb_vec_table(fb, &sv, s, root->depth, &sg) ||
			m2w_fb_vector(fb, &sg, 3, 4, &ov, NULL))
			goto fail;
		for (uint32_t i = 0; i < ov.len; i++) {
			if (m2w_fb_vec_table(fb, &ov, i, sg.depth, &t))
				goto fail;
			ADD_PATCH(t, 9);
		}
	}
#undef ADD_PATCH
	if (n)
		qsort(p, n, sizeof *p, by_patch);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (k && p[k - 1].at == p[i].at)
			continue;
		if ((k && p[i].at < p[k - 1].at + 8) || p[i].at < HDR) {
			m2w_err(fb->d, p[i].at, "absolute offsets overlap in shared tables");
			goto fail;
		}
		p[k++] = p[i];
	}
	*out = p;
	*nout = k;
	return 0;
fail:
	if (oom)
		m2w_err(fb->d, M2W_NO_OFFSET, "out of memory");
	free(p);
	return -1;
}

struct expose {
	const struct m2w_tflite *m;
	struct m2w_fb fb;
	struct region r;
	int32_t *added; /* tensor indices appended to subgraph 0's outputs */
	uint32_t nadded;
};

/* New SignatureDef for subgraph 0: outputs gain one TensorMap per added
 * tensor, named after it (made unique against the existing names). */
static int new_signature(struct expose *e, const struct m2w_fb_table *sig,
	const struct m2w_tfl_signature *ps, uint64_t id, const struct m2w_fb_table *sg0)
{
	struct region *r = &e->r;
	struct field f[5], *elems = NULL;
	struct m2w_fb_vec outs, tv;
	struct names set = {NULL, 1};
	uint64_t vec_id = r_newid(r);
	uint32_t nold;
	int rc = -1;

	if (known_fields(&e->fb, sig, 5, "SignatureDef") ||
		m2w_fb_vector(&e->fb, sig, 1, 4, &outs, NULL) ||
		m2w_fb_vector(&e->fb, sg0, 0, 4, &tv, NULL))
		return -1;
	nold = outs.len;
	for (unsigned i = 0; i < 5; i++)
		if (old_field(&e->fb, sig, i, i != 4, &f[i]))
			return -1;
	f[1] = (struct field){F_NEW, vec_id};
	r_table(r, id, f, 5);

	while (set.cap < 2 * ((size_t)nold + e->nadded) + 2)
		set.cap *= 2;
	uint64_t total = (uint64_t)nold + e->nadded;
	if (total > UINT32_MAX || !(set.slot = calloc(set.cap, sizeof *set.slot)) ||
		!(elems = calloc(total ? total : 1, sizeof *elems))) {
		m2w_err(e->fb.d, M2W_NO_OFFSET, "out of memory");
		goto out;
	}
	for (uint32_t i = 0; i < ps->noutputs; i++)
		names_add(&set, ps->outputs[i].name);
	for (uint32_t i = 0; i < nold; i++)
		elems[i] = (struct field){F_OLD, old_elem(&e->fb, &outs, i)};
	/* the TensorMap tables and any new names follow the vector */
	uint64_t *tm_ids = calloc(e->nadded ? e->nadded : 1, sizeof *tm_ids);
	if (!tm_ids) {
		m2w_err(e->fb.d, M2W_NO_OFFSET, "out of memory");
		goto out;
	}
	for (uint32_t k = 0; k < e->nadded; k++) {
		tm_ids[k] = r_newid(r);
		elems[nold + k] = (struct field){F_NEW, tm_ids[k]};
	}
	r_vector(r, vec_id, (uint32_t)total, elems);
	for (uint32_t k = 0; k < e->nadded && !r->oom; k++) {
		int32_t ti = e->added[k];
		const char *name = e->m->subgraphs[0].tensors[ti].name;
		struct field tm[2] = {{F_NONE, 0}, {F_U32, (uint64_t)ti}};
		char *fresh = NULL;
		if (*name && names_add(&set, name)) {
			/* the tensor's own name string, already in the old bytes */
			struct m2w_fb_table tt;
			if (m2w_fb_vec_table(&e->fb, &tv, (uint32_t)ti, sg0->depth, &tt) ||
				old_field(&e->fb, &tt, 3, true, &tm[0]))
				goto out_ids;
			r_table(r, tm_ids[k], tm, 2);
			continue;
		}
		/* empty or taken: "name#index", "tensor#index" */
		size_t len = strlen(name) + 24;
		if (!(fresh = malloc(len))) {
			m2w_err(e->fb.d, M2W_NO_OFFSET, "out of memory");
			goto out_ids;
		}
		snprintf(fresh, len, "%s#%d", *name ? name : "tensor", (int)ti);
		uint64_t sid = r_newid(r);
		tm[0] = (struct field){F_NEW, sid};
		r_table(r, tm_ids[k], tm, 2);
		r_string(r, sid, fresh);
		free(fresh);
	}
	rc = r->oom ? m2w_err(e->fb.d, M2W_NO_OFFSET, "out of memory") : 0;
out_ids:
	free(tm_ids);
out:
	free(set.slot);
	free(elems);
	return rc;
}

static int build_region(struct expose *e, uint64_t *model_id)
{
	struct region *r = &e->r;
	struct m2w_fb *fb = &e->fb;
	struct m2w_fb_table root, sg0, sig;
	struct m2w_fb_vec sv, gv, outs;
	struct field mf[8], sf[6], *elems;
	const struct m2w_tflite *m = e->m;

	if (m2w_fb_root(fb, "TFL3", &root) || known_fields(fb, &root, 8, "Model") ||
		m2w_fb_vector(fb, &root, 2, 4, &sv, NULL) || m2w_fb_vector(fb, &root, 7, 4, &gv, NULL) ||
		m2w_fb_vec_table(fb, &sv, 0, root.depth, &sg0) || known_fields(fb, &sg0, 6, "SubGraph") ||
		m2w_fb_vector(fb, &sg0, 2, 4, &outs, NULL))
		return -1;
	for (unsigned i = 0; i < 8; i++)
		if (old_field(fb, &root, i, i != 0, &mf[i]))
			return -1;
	for (unsigned i = 0; i < 6; i++)
		if (old_field(fb, &sg0, i, i != 5, &sf[i]))
			return -1;

	bool sigs = false;
	for (uint32_t s = 0; s < m->nsignatures; s++)
		sigs |= m->signatures[s].subgraph == 0;

	*model_id = r_newid(r);
	uint64_t sv_id = r_newid(r), gv_id = sigs ? r_newid(r) : 0, sg0_id = r_newid(r);
	uint64_t out_id = r_newid(r);
	if (r->oom)
		return m2w_err(fb->d, M2W_NO_OFFSET, "out of memory");
	mf[2] = (struct field){F_NEW, sv_id};
	if (sigs)
		mf[7] = (struct field){F_NEW, gv_id};
	r_table(r, *model_id, mf, 8);

	/* subgraphs: 0 is new, the others stay */
	if (!(elems = calloc(sv.len > gv.len ? sv.len : gv.len ? gv.len : 1, sizeof *elems)))
		return m2w_err(fb->d, M2W_NO_OFFSET, "out of memory");
	elems[0] = (struct field){F_NEW, sg0_id};
	for (uint32_t i = 1; i < sv.len; i++)
		elems[i] = (struct field){F_OLD, old_elem(fb, &sv, i)};
	r_vector(r, sv_id, sv.len, elems);

	uint64_t *sig_ids = calloc(gv.len ? gv.len : 1, sizeof *sig_ids);
	if (!sig_ids) {
		free(elems);
		return m2w_err(fb->d, M2W_NO_OFFSET, "out of memory");
	}
	if (sigs) {
		for (uint32_t s = 0; s < gv.len; s++) {
			if (m->signatures[s].subgraph == 0) {
				sig_ids[s] = r_newid(r);
				elems[s] = (struct field){F_NEW, sig_ids[s]};
			} else {
				elems[s] = (struct field){F_OLD, old_elem(fb, &gv, s)};
			}
		}
		r_vector(r, gv_id, gv.len, elems);
	}
	free(elems);

	sf[2] = (struct field){F_NEW, out_id};
	r_table(r, sg0_id, sf, 6);

	/* outputs: the old ones, then the added */
	uint64_t nout = (uint64_t)outs.len + e->nadded;
	int rc = 0;
	if (nout > UINT32_MAX || !(elems = calloc(nout ? nout : 1, sizeof *elems))) {
		free(sig_ids);
		return m2w_err(fb->d, M2W_NO_OFFSET, "out of memory");
	}
	for (uint32_t i = 0; i < outs.len; i++)
		elems[i] = (struct field){F_U32, m2w_le32(m2w_fb_vec_at(fb, &outs, i))};
	for (uint32_t k = 0; k < e->nadded; k++)
		elems[outs.len + k] = (struct field){F_U32, (uint32_t)e->added[k]};
	r_vector(r, out_id, (uint32_t)nout, elems);
	free(elems);

	for (uint32_t s = 0; s < gv.len && !rc; s++) {
		if (m->signatures[s].subgraph != 0)
			continue;
		if (m2w_fb_vec_table(fb, &gv, s, root.depth, &sig) ||
			new_signature(e, &sig, &m->signatures[s], sig_ids[s], &sg0))
			rc = -1;
	}
	free(sig_ids);
	if (!rc && r->oom)
		rc = m2w_err(fb->d, M2W_NO_OFFSET, "out of memory");
	return rc;
}

/* Operator outputs of subgraph 0 in execution order, once each, not those
 * already outputs, no -1. */
static int pick_outputs(struct expose *e)
{
	const struct m2w_tfl_subgraph *sg = &e->m->subgraphs[0];
	uint8_t *seen = calloc(sg->ntensors ? sg->ntensors : 1, 1);
	uint64_t total = 0;

	for (uint32_t i = 0; i < sg->noperators; i++)
		total += sg->operators[i].outputs.n;
	if (!seen || !(e->added = calloc(total ? total : 1, sizeof *e->added))) {
		free(seen);
		return m2w_err(e->fb.d, M2W_NO_OFFSET, "out of memory");
	}
	for (uint32_t i = 0; i < sg->outputs.n; i++)
		seen[m2w_tfl_i32(&sg->outputs, i)] = 1;
	for (uint32_t i = 0; i < sg->noperators; i++) {
		const struct m2w_tfl_vec *o = &sg->operators[i].outputs;
		for (uint32_t k = 0; k < o->n; k++) {
			int32_t t = m2w_tfl_i32(o, k);
			if (t < 0 || seen[t])
				continue;
			seen[t] = 1;
			e->added[e->nadded++] = t;
		}
	}
	free(seen);
	return 0;
}

static int write_exposed(struct expose *e, uint64_t model_id, const struct patch *pt,
	size_t npt, const char *path)
{
	struct region *r = &e->r;
	struct m2w_diag *d = e->fb.d;
	size_t S = (r->len + SHIFT_ALIGN - 1) / SHIFT_ALIGN * SHIFT_ALIGN;
	uint8_t hdr[HDR], u64[8];
	struct m2w_out o;

	/* grow the region to S so the padding is written from it */
	if (S > r->len)
		r_take(r, S - r->len, 1);
	if (r->oom)
		return m2w_err(d, M2W_NO_OFFSET, "out of memory");
	for (size_t i = 0; i < r->nfix; i++) {
		const struct fixup *f = &r->fix[i];
		uint64_t target = f->old ? f->target + S : HDR + r->obj[f->target];
		uint64_t at = HDR + f->at;
		if (!f->old && r->obj[f->target] == SIZE_MAX)
			return m2w_err(d, M2W_NO_OFFSET, "internal: object %llu never placed",
				(unsigned long long)f->target);
		if (f->old && f->target < HDR)
			return m2w_err(d, f->target, "reference into the file header, cannot shift it");
		if (target <= at || target - at > UINT32_MAX)
			return m2w_err(d, M2W_NO_OFFSET, "internal: backward or far reference");
		r_put32(r, f->at, (uint32_t)(target - at));
	}
	r_put32(&(struct region){.b = hdr}, 0, (uint32_t)(HDR + r->obj[model_id]));
	memcpy(hdr + 4, "TFL3", 4);

	if (m2w_out_open(&o, path, d) || m2w_out_write(&o, hdr, HDR, d) ||
		m2w_out_write(&o, r->b, S, d))
		goto fail;
	size_t pos = HDR;
	for (size_t i = 0; i < npt; i++) {
		uint64_t v = pt[i].value + S;
		for (int k = 0; k < 8; k++)
			u64[k] = (uint8_t)(v >> 8 * k);
		if (m2w_out_write(&o, e->fb.p + pos, (size_t)pt[i].at - pos, d) ||
			m2w_out_write(&o, u64, 8, d))
			goto fail;
		pos = (size_t)pt[i].at + 8;
	}
	if (m2w_out_write(&o, e->fb.p + pos, e->fb.n - pos, d) || m2w_out_commit(&o, NULL, d))
		goto fail;
	return 0;
fail:
	m2w_out_abort(&o);
	return -1;
}

int m2w_expose_tflite(const uint8_t *p, size_t n, const char *out_path, struct m2w_diag *d)
{
	struct expose e = {.fb = {p, n, 0, d}};
	struct m2w_tflite *m;
	struct patch *pt = NULL;
	size_t npt = 0;
	uint64_t model_id;
	int rc = -1;

	if (m2w_tflite_parse(p, n, 0, &m, d))
		return -1;
	e.m = m;
	struct m2w_fb_table root;
	if (!m2w_fb_root(&e.fb, "TFL3", &root) && !collect_patches(&e.fb, &root, &pt, &npt) &&
		!pick_outputs(&e) && !build_region(&e, &model_id))
		rc = write_exposed(&e, model_id, pt, npt, out_path);
	free(pt);
	free(e.added);
	free(e.r.b);
	free(e.r.fix);
	free(e.r.obj);
	m2w_tflite_free(m);
	return rc;
}
