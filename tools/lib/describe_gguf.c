/* describe_gguf: a GGUF header as m2w-inspect's JSON (see describe.h).
 *
 * GGUF carries no graph, so inputs, outputs and ops are empty and graphs
 * is 0; the architecture is the metadata key general.architecture.
 *
 *   "version", "alignment"   from the header / general.alignment
 *   tensors[].shape          ggml's ne order as the file stores it and
 *                            gguf-py reports it: shape[0] is the row
 *                            length (contiguous), i.e. the reverse of a
 *                            row-major (NumPy) shape
 *   tensors[].dtype          ggml type name (f32 q8_0 q4_k ...)
 *   tensors[].quant          null for f32/f16/bf16/f64 and the integer
 *                            types, else {"type","block","type_size"}
 *   "metadata"               every key in file order.  Numbers are JSON
 *                            numbers (f32 with the fewest digits that read
 *                            back to the same float; integers beyond 2^53
 *                            written exactly as bare digits; NaN and
 *                            infinities as the strings "nan" "inf" "-inf"),
 *                            strings with invalid UTF-8 or NUL bytes
 *                            replaced by U+FFFD.  Arrays of up to 64
 *                            elements are inline JSON arrays; longer ones
 *                            become {"type":"array","of":"<element type>",
 *                            "length":N,"head":[first 8 elements]}.
 *   "_tokenizer", "_notes", tensors[]."_offset" / "_xxh3": see describe.h.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "describe.h"
#include "gguf.h"

#define INLINE_ARRAY_MAX 64
#define ARRAY_HEAD 8

/* A JSON string from file bytes; NULL only when out of memory. */
static cJSON *json_str(const char *s, uint64_t n)
{
	const uint8_t *p = (const uint8_t *)s;
	char *buf, *o;
	cJSON *j;

	/* each bad byte grows to 3 (U+FFFD); n is bounded by the mapping */
	if (n > (SIZE_MAX - 1) / 3 || !(buf = malloc(3 * n + 1)))
		return NULL;
	o = buf;
	for (size_t i = 0; i < n;) {
		size_t k = m2w_utf8_seq(p + i, n - i);
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
	*o = '\0';
	j = cJSON_CreateString(buf);
	free(buf);
	return j;
}

/* Exact integers: JSON numbers are doubles to most readers, so magnitudes
 * beyond 2^53 are written as raw digits rather than rounded. */
static cJSON *json_int(bool neg, uint64_t mag)
{
	char buf[32];

	if (mag <= (1ull << 53))
		return cJSON_CreateNumber(neg ? -(double)mag : (double)mag);
	snprintf(buf, sizeof buf, "%s%llu", neg ? "-" : "", (unsigned long long)mag);
	return cJSON_CreateRaw(buf);
}

static cJSON *json_float(double v, bool single)
{
	char buf[40];

	if (isnan(v))
		return cJSON_CreateString("nan");
	if (isinf(v))
		return cJSON_CreateString(v < 0 ? "-inf" : "inf");
	if (single) {
		/* the shortest decimal that reads back as the same float, so
		 * 0.1f prints as 0.1 rather than 0.10000000149011612 */
		for (int prec = 1; prec <= 9; prec++) {
			snprintf(buf, sizeof buf, "%.*g", prec, v);
			if ((float)strtod(buf, NULL) == (float)v)
				return cJSON_CreateNumber(strtod(buf, NULL));
		}
	}
	return cJSON_CreateNumber(v);
}

static cJSON *json_value(const struct m2w_gguf_value *v);

static cJSON *json_array(const struct m2w_gguf_value *v)
{
	struct m2w_gguf_iter it;
	struct m2w_gguf_value e;
	cJSON *arr = cJSON_CreateArray(), *obj = NULL;
	uint64_t take = v->count;

	if (v->count > INLINE_ARRAY_MAX) {
		obj = cJSON_CreateObject();
		cJSON_AddStringToObject(obj, "type", "array");
		cJSON_AddStringToObject(obj, "of", m2w_gguf_vtype_name(v->elem_type));
		cJSON_AddNumberToObject(obj, "length", (double)v->count);
		cJSON_AddItemToObject(obj, "head", arr);
		take = ARRAY_HEAD;
	}
	m2w_gguf_iter_init(&it, v);
	for (uint64_t i = 0; i < take && m2w_gguf_iter_next(&it, &e); i++)
		cJSON_AddItemToArray(arr, json_value(&e));
	return obj ? obj : arr;
}

/* Nesting is bounded by the parser (M2W_MAX_NESTING), so recursion is too. */
static cJSON *json_value(const struct m2w_gguf_value *v)
{
	int64_t s;
	uint64_t u;
	double f;

	switch (v->type) {
	case M2W_GGUF_BOOL:
		return cJSON_CreateBool(v->p[0] != 0);
	case M2W_GGUF_STRING:
		return json_str((const char *)v->p, v->len);
	case M2W_GGUF_ARRAY:
		return json_array(v);
	case M2W_GGUF_F32:
	case M2W_GGUF_F64:
		m2w_gguf_get_f64(v, &f);
		return json_float(f, v->type == M2W_GGUF_F32);
	default:
		if (m2w_gguf_get_u64(v, &u))
			return json_int(false, u);
		m2w_gguf_get_i64(v, &s);
		return json_int(s < 0, s < 0 ? (uint64_t)0 - (uint64_t)s : (uint64_t)s);
	}
}

static cJSON *json_tensor(const struct m2w_gguf_tensor *t, const struct m2w_describe_opts *o)
{
	cJSON *j = cJSON_CreateObject(), *shape;

	cJSON_AddItemToObject(j, "name", json_str(t->name, t->name_len));
	shape = cJSON_AddArrayToObject(j, "shape");
	for (uint32_t k = 0; k < t->n_dims; k++)
		cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)t->ne[k]));
	cJSON_AddStringToObject(j, "dtype", t->type->name);
	cJSON_AddNumberToObject(j, "bytes", (double)t->bytes);
	if (t->type->quantized) {
		cJSON *q = cJSON_AddObjectToObject(j, "quant");
		cJSON_AddStringToObject(q, "type", t->type->name);
		cJSON_AddNumberToObject(q, "block", t->type->block);
		cJSON_AddNumberToObject(q, "type_size", t->type->type_size);
	} else {
		cJSON_AddNullToObject(j, "quant");
	}
	cJSON_AddNumberToObject(j, "_offset", (double)t->offset);
	if (o && o->hash_tensors) {
		char hex[17];
		m2w_xxh3_hex(m2w_xxh3(t->data, t->bytes), hex);
		cJSON_AddStringToObject(j, "_xxh3", hex);
	}
	return j;
}

static bool has_prefix(const struct m2w_gguf_kv *kv, const char *pre)
{
	size_t n = strlen(pre);
	return kv->key_len >= n && !memcmp(kv->key, pre, n);
}

/* "_tokenizer": only for files that name a tokenizer model. */
static cJSON *json_tokenizer(const struct m2w_gguf *g)
{
	static const char pre[] = "tokenizer.ggml.", suf[] = "_token_id";
	/* ggml's key spellings → the usual short names */
	static const char *const rename[][2] = {
		{"unknown", "unk"}, {"seperator", "sep"}, {"padding", "pad"},
	};
	const struct m2w_gguf_kv *model = m2w_gguf_find(g, "tokenizer.ggml.model");
	const struct m2w_gguf_kv *kv;
	cJSON *j, *special;
	bool tmpl = false;

	if (!model || model->value.type != M2W_GGUF_STRING)
		return NULL;
	j = cJSON_CreateObject();
	cJSON_AddItemToObject(j, "model", json_value(&model->value));
	kv = m2w_gguf_find(g, "tokenizer.ggml.pre");
	if (kv && kv->value.type == M2W_GGUF_STRING)
		cJSON_AddItemToObject(j, "pre", json_value(&kv->value));
	kv = m2w_gguf_find(g, "tokenizer.ggml.tokens");
	cJSON_AddNumberToObject(j, "vocab",
		kv && kv->value.type == M2W_GGUF_ARRAY ? (double)kv->value.count : 0);
	special = cJSON_AddObjectToObject(j, "special");
	for (uint64_t i = 0; i < g->n_kv; i++) {
		int64_t id;
		kv = &g->kv[i];
		if (has_prefix(kv, "tokenizer.chat_template"))
			tmpl = true;
		if (!has_prefix(kv, pre) || kv->key_len <= sizeof pre - 1 + sizeof suf - 1 ||
			memcmp(kv->key + kv->key_len - (sizeof suf - 1), suf, sizeof suf - 1) ||
			!m2w_gguf_get_i64(&kv->value, &id))
			continue;
		char name[128];
		size_t n = kv->key_len - (sizeof pre - 1) - (sizeof suf - 1);
		if (n >= sizeof name)
			continue;
		memcpy(name, kv->key + sizeof pre - 1, n);
		name[n] = '\0';
		for (size_t r = 0; r < sizeof rename / sizeof rename[0]; r++)
			if (!strcmp(name, rename[r][0]))
				strcpy(name, rename[r][1]);
		if (!cJSON_GetObjectItemCaseSensitive(special, name))
			cJSON_AddNumberToObject(special, name, (double)id);
	}
	cJSON_AddBoolToObject(j, "chat_template", tmpl);
	return j;
}

static void note(cJSON *notes, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void note(cJSON *notes, const char *fmt, ...)
{
	char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	cJSON_AddItemToArray(notes, cJSON_CreateString(buf));
}

static cJSON *json_notes(const struct m2w_gguf *g)
{
	cJSON *notes = cJSON_CreateArray();
	uint64_t end;

	if (g->version == 2)
		note(notes, "GGUF v2 (v3 differs only in allowing big-endian files)");
	if (g->alignment != M2W_GGUF_DEFAULT_ALIGNMENT)
		note(notes, "tensor data aligned to %u bytes (default %d)", g->alignment,
			M2W_GGUF_DEFAULT_ALIGNMENT);
	if (!g->n_tensors)
		note(notes, "no tensors: a vocabulary/metadata-only file");
	else if (m2w_gguf_find_tensor(g, "token_embd.weight") &&
		 !m2w_gguf_find_tensor(g, "output.weight"))
		note(notes, "no output.weight: the output projection is tied to "
			    "token_embd.weight");
	/* bytes past the last tensor's padded data: something appended */
	if (g->n_tensors && m2w_add_u64(g->data_off, g->data_size, &end) && end < g->size)
		note(notes, "%llu bytes after the data section",
			(unsigned long long)(g->size - end));
	return notes;
}

int m2w_describe_gguf(const uint8_t *p, size_t n, const struct m2w_describe_opts *o,
	cJSON **out, struct m2w_diag *d)
{
	struct m2w_gguf g;
	cJSON *j, *tensors, *meta, *tok, *notes;
	double params = 0;

	*out = NULL;
	if (m2w_gguf_parse(p, n, &g, d) < 0)
		return -1;
	j = cJSON_CreateObject();
	cJSON_AddStringToObject(j, "format", "gguf");
	cJSON_AddNumberToObject(j, "bytes", (double)n);
	cJSON_AddNumberToObject(j, "version", g.version);
	cJSON_AddNumberToObject(j, "alignment", g.alignment);
	cJSON_AddItemToObject(j, "inputs", cJSON_CreateArray());
	cJSON_AddItemToObject(j, "outputs", cJSON_CreateArray());
	cJSON_AddItemToObject(j, "ops", cJSON_CreateObject());
	cJSON_AddNumberToObject(j, "graphs", 0);
	tensors = cJSON_AddArrayToObject(j, "tensors");
	for (uint64_t i = 0; i < g.n_tensors; i++) {
		cJSON_AddItemToArray(tensors, json_tensor(&g.tensors[i], o));
		params += (double)g.tensors[i].n_elements;
	}
	cJSON_AddNumberToObject(j, "params", params);
	meta = cJSON_AddObjectToObject(j, "metadata");
	for (uint64_t i = 0; i < g.n_kv; i++) {
		/* keys are unique, valid UTF-8 without NUL (the parser checks) */
		char *key = malloc(g.kv[i].key_len + 1);
		if (!key)
			continue;
		memcpy(key, g.kv[i].key, g.kv[i].key_len);
		key[g.kv[i].key_len] = '\0';
		cJSON_AddItemToObject(meta, key, json_value(&g.kv[i].value));
		free(key);
	}
	if ((tok = json_tokenizer(&g)))
		cJSON_AddItemToObject(j, "_tokenizer", tok);
	notes = json_notes(&g);
	if (cJSON_GetArraySize(notes))
		cJSON_AddItemToObject(j, "_notes", notes);
	else
		cJSON_Delete(notes);
	m2w_gguf_free(&g);
	if (!cJSON_GetObjectItemCaseSensitive(j, "metadata")) { /* allocation failed */
		cJSON_Delete(j);
		return m2w_err(d, M2W_NO_OFFSET, "out of memory");
	}
	*out = j;
	return 0;
}
