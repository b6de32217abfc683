/* tokenizer: tokenizer.json from GGUF metadata (format in tokenizer.h).
 *
 * Reads only the parsed key/values of gguf.c, whose arrays are already
 * bounds-checked, and streams JSON through a small buffer into an atomic
 * output.  Numbers: f32 scores as the shortest decimal that reads back as
 * the same f32; non-finite ones as null (JSON has no NaN).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tokenizer.h"

#define PREFIX "tokenizer.ggml."

struct jw {
	struct m2w_out o;
	struct m2w_diag *d;
	bool failed;
	size_t n;
	char buf[1 << 16];
};

static void flush(struct jw *w)
{
	if (!w->failed && w->n && m2w_out_write(&w->o, w->buf, w->n, w->d) < 0)
		w->failed = true;
	w->n = 0;
}

static void put(struct jw *w, const char *s, size_t n)
{
	while (n) {
		if (w->n == sizeof w->buf)
			flush(w);
		size_t k = sizeof w->buf - w->n;
		if (k > n)
			k = n;
		memcpy(w->buf + w->n, s, k);
		w->n += k;
		s += k;
		n -= k;
	}
}

static void puts_(struct jw *w, const char *s) { put(w, s, strlen(s)); }

/* A JSON string; false when bad UTF-8 was replaced by U+FFFD. */
static bool str(struct jw *w, const uint8_t *p, uint64_t n)
{
	bool exact = true;
	char esc[8];

	put(w, "\"", 1);
	for (uint64_t i = 0; i < n;) {
		uint8_t c = p[i];
		size_t k = m2w_utf8_seq(p + i, (size_t)(n - i));
		if (c == '"' || c == '\\') {
			esc[0] = '\\', esc[1] = (char)c;
			put(w, esc, 2);
			i++;
		} else if (c < 0x20) {
			const char *s = c == '\n' ? "\\n" : c == '\t' ? "\\t" : c == '\r' ? "\\r"
				: c == '\b' ? "\\b" : c == '\f' ? "\\f" : NULL;
			if (s)
				puts_(w, s);
			else {
				snprintf(esc, sizeof esc, "\\u%04x", c);
				puts_(w, esc);
			}
			i++;
		} else if (k) {
			put(w, (const char *)p + i, k);
			i += k;
		} else {
			puts_(w, "\\ufffd");
			exact = false;
			i++;
		}
	}
	put(w, "\"", 1);
	return exact;
}


static void num_f32(struct jw *w, float f)
{
	char b[32];

	if (!isfinite(f)) {
		puts_(w, "null");
		return;
	}
	if (f == 0) {
		strcpy(b, signbit(f) ? "-0.0" : "0");
	} else if (f == floorf(f) && fabsf(f) < 1e7f) {
		snprintf(b, sizeof b, "%.0f", (double)f);
	} else {
		for (int p = 6; p <= 9; p++) {
			snprintf(b, sizeof b, "%.*g", p, (double)f);
			if ((float)strtod(b, NULL) == f)
				break;
		}
	}
	puts_(w, b);
}

/* A scalar metadata value; false for arrays and unknown types. */
static bool scalar(struct jw *w, const struct m2w_gguf_value *v)
{
	char b[32];
	uint64_t u;
	int64_t i;
	double f;
	const char *s;
	uint64_t n;

	switch (v->type) {
	case M2W_GGUF_BOOL:
		puts_(w, v->p[0] ? "true" : "false");
		return true;
	case M2W_GGUF_F32: {
		float x;
		memcpy(&x, v->p, 4);
		num_f32(w, x);
		return true;
	}
	case M2W_GGUF_F64:
		m2w_gguf_get_f64(v, &f);
		if (isfinite(f))
			snprintf(b, sizeof b, "%.17g", f);
		else
			strcpy(b, "null");
		puts_(w, b);
		return true;
	case M2W_GGUF_STRING:
		m2w_gguf_get_str(v, &s, &n);
		str(w, (const uint8_t *)s, n);
		return true;
	case M2W_GGUF_ARRAY:
		return false;
	default:
		if (m2w_gguf_get_u64(v, &u))
			snprintf(b, sizeof b, "%llu", (unsigned long long)u);
		else if (m2w_gguf_get_i64(v, &i))
			snprintf(b, sizeof b, "%lld", (long long)i);
		else
			return false;
		puts_(w, b);
		return true;
	}
}

static void base64(struct jw *w, const uint8_t *p, uint64_t n)
{
	static const char tab[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char q[4];

	put(w, "\"", 1);
	for (uint64_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		if (i + 2 < n)
			v |= p[i + 2];
		q[0] = tab[v >> 18 & 63];
		q[1] = tab[v >> 12 & 63];
		q[2] = i + 1 < n ? tab[v >> 6 & 63] : '=';
		q[3] = i + 2 < n ? tab[v & 63] : '=';
		put(w, q, 4);
	}
	put(w, "\"", 1);
}

static bool key_is(const struct m2w_gguf_kv *kv, const char *k)
{
	return kv->key_len == strlen(k) && !memcmp(kv->key, k, kv->key_len);
}

static bool key_has_prefix(const struct m2w_gguf_kv *kv, const char *k)
{
	size_t n = strlen(k);
	return kv->key_len > n && !memcmp(kv->key, k, n);
}

static bool key_has_suffix(const struct m2w_gguf_kv *kv, const char *k)
{
	size_t n = strlen(k);
	return kv->key_len > n && !memcmp(kv->key + kv->key_len - n, k, n);
}

/* "key": (a JSON name from len bytes at s) */
static void name(struct jw *w, bool *first, const char *s, size_t n)
{
	puts_(w, *first ? "\n    " : ",\n    ");
	*first = false;
	str(w, (const uint8_t *)s, n);
	puts_(w, ": ");
}

static void special_ids(struct jw *w, const struct m2w_gguf *g)
{
	static const struct { const char *from, *to; } shorter[] = {
		{"unknown", "unk"}, {"seperator", "sep"}, {"separator", "sep"}, {"padding", "pad"},
	};
	bool first = true;

	puts_(w, ",\n  \"special\": {");
	for (uint64_t i = 0; i < g->n_kv; i++) {
		const struct m2w_gguf_kv *kv = &g->kv[i];
		if (!key_has_prefix(kv, PREFIX) || !key_has_suffix(kv, "_token_id") ||
		    kv->value.type == M2W_GGUF_ARRAY || kv->value.type == M2W_GGUF_STRING)
			continue;
		const char *s = kv->key + strlen(PREFIX);
		size_t n = kv->key_len - strlen(PREFIX) - strlen("_token_id");
		for (size_t k = 0; k < sizeof shorter / sizeof shorter[0]; k++)
			if (n == strlen(shorter[k].from) && !memcmp(s, shorter[k].from, n)) {
				s = shorter[k].to;
				n = strlen(s);
				break;
			}
		name(w, &first, s, n);
		scalar(w, &kv->value);
	}
	puts_(w, first ? "}" : "\n  }");
}

/* add_<x>_token as add_<x>; other scalar tokenizer.ggml.* keys by name. */
static void options(struct jw *w, const struct m2w_gguf *g)
{
	for (uint64_t i = 0; i < g->n_kv; i++) {
		const struct m2w_gguf_kv *kv = &g->kv[i];
		if (!key_has_prefix(kv, PREFIX) || key_has_suffix(kv, "_token_id") ||
		    key_is(kv, PREFIX "model") || key_is(kv, PREFIX "pre") ||
		    kv->value.type == M2W_GGUF_ARRAY)
			continue;
		const char *s = kv->key + strlen(PREFIX);
		size_t n = kv->key_len - strlen(PREFIX);
		if (key_has_prefix(kv, PREFIX "add_") && key_has_suffix(kv, "_token") &&
		    n > strlen("add__token"))
			n -= strlen("_token");
		puts_(w, ",\n  ");
		str(w, (const uint8_t *)s, n);
		puts_(w, ": ");
		scalar(w, &kv->value);
	}
}

static void templates(struct jw *w, const struct m2w_gguf *g)
{
	const char *pre = "tokenizer.chat_template.";
	const struct m2w_gguf_kv *kv = m2w_gguf_find(g, "tokenizer.chat_template");
	bool first = true;

	if (kv && kv->value.type == M2W_GGUF_STRING) {
		puts_(w, ",\n  \"chat_template\": ");
		scalar(w, &kv->value);
	}
	for (uint64_t i = 0; i < g->n_kv; i++) {
		kv = &g->kv[i];
		if (!key_has_prefix(kv, pre) || kv->value.type != M2W_GGUF_STRING)
			continue;
		if (first)
			puts_(w, ",\n  \"chat_templates\": {");
		name(w, &first, kv->key + strlen(pre), kv->key_len - strlen(pre));
		scalar(w, &kv->value);
	}
	if (!first)
		puts_(w, "\n  }");
}

/* "key": [ elements ] for an array of the expected element kind. */
static int array(struct jw *w, const struct m2w_gguf *g, const char *key, const char *jname,
	bool strings, struct m2w_diag *d)
{
	const struct m2w_gguf_kv *kv = m2w_gguf_find(g, key);
	struct m2w_gguf_iter it;
	struct m2w_gguf_value e;

	if (!kv)
		return 0;
	if (kv->value.type != M2W_GGUF_ARRAY ||
	    (strings ? kv->value.elem_type != M2W_GGUF_STRING
		     : kv->value.elem_type == M2W_GGUF_STRING || kv->value.elem_type == M2W_GGUF_ARRAY ||
		       kv->value.elem_type == M2W_GGUF_BOOL))
		return m2w_err(d, kv->off, "%s must be an array of %s, not %s of %s", key,
			strings ? "strings" : "numbers", m2w_gguf_vtype_name(kv->value.type),
			m2w_gguf_vtype_name(kv->value.elem_type));
	puts_(w, ",\n  \"");
	puts_(w, jname);
	puts_(w, "\": [");
	m2w_gguf_iter_init(&it, &kv->value);
	for (uint64_t i = 0; m2w_gguf_iter_next(&it, &e); i++) {
		puts_(w, i ? (strings ? ",\n    " : ",") : (strings ? "\n    " : ""));
		scalar(w, &e);
	}
	puts_(w, kv->value.count && strings ? "\n  ]" : "]");
	return 0;
}

static void invalid_tokens(struct jw *w, const struct m2w_gguf_kv *kv)
{
	struct m2w_gguf_iter it;
	struct m2w_gguf_value e;
	bool first = true;
	char id[24];

	m2w_gguf_iter_init(&it, &kv->value);
	for (uint64_t i = 0; m2w_gguf_iter_next(&it, &e); i++) {
		size_t k;
		for (uint64_t j = 0; j < e.len; j += k)
			if (!(k = m2w_utf8_seq(e.p + j, (size_t)(e.len - j)))) {
				if (!e.p[j]) { /* NUL: valid UTF-8, escaped as \u0000 */
					k = 1;
					continue;
				}
				if (first)
					puts_(w, ",\n  \"invalid_utf8\": {");
				snprintf(id, sizeof id, "%llu", (unsigned long long)i);
				name(w, &first, id, strlen(id));
				base64(w, e.p, e.len);
				break;
			}
	}
	if (!first)
		puts_(w, "\n  }");
}

int m2w_tokenizer_write(const struct m2w_gguf *g, const char *path, bool *changed,
	struct m2w_diag *d)
{
	const struct m2w_gguf_kv *tok = m2w_gguf_find(g, PREFIX "tokens"), *kv;
	struct jw *w;

	*changed = false;
	if (!tok)
		return m2w_err(d, M2W_NO_OFFSET, "no " PREFIX "tokens: not a tokenizer");
	if (tok->value.type != M2W_GGUF_ARRAY || tok->value.elem_type != M2W_GGUF_STRING)
		return m2w_err(d, tok->off, PREFIX "tokens must be an array of strings");
	if (!(w = calloc(1, sizeof *w)))
		return m2w_err(d, M2W_NO_OFFSET, "out of memory");
	w->d = d;
	if (m2w_out_open(&w->o, path, d) < 0) {
		free(w);
		return -1;
	}

	puts_(w, "{\n  \"model\": ");
	if (!(kv = m2w_gguf_find(g, PREFIX "model")) || !scalar(w, &kv->value))
		puts_(w, "null");
	puts_(w, ",\n  \"pre\": ");
	if (!(kv = m2w_gguf_find(g, PREFIX "pre")) || !scalar(w, &kv->value))
		puts_(w, "null");
	char b[48];
	snprintf(b, sizeof b, ",\n  \"vocab_size\": %llu", (unsigned long long)tok->value.count);
	puts_(w, b);
	special_ids(w, g);
	options(w, g);
	templates(w, g);
	if ((kv = m2w_gguf_find(g, PREFIX "precompiled_charsmap")) &&
	    kv->value.type == M2W_GGUF_ARRAY &&
	    (kv->value.elem_type == M2W_GGUF_U8 || kv->value.elem_type == M2W_GGUF_I8)) {
		puts_(w, ",\n  \"precompiled_charsmap\": ");
		base64(w, kv->value.p, kv->value.count);
	}
	if (array(w, g, PREFIX "tokens", "tokens", true, d) < 0 ||
	    array(w, g, PREFIX "scores", "scores", false, d) < 0 ||
	    array(w, g, PREFIX "token_type", "token_types", false, d) < 0 ||
	    array(w, g, PREFIX "merges", "merges", true, d) < 0) {
		m2w_out_abort(&w->o);
		free(w);
		return -1;
	}
	invalid_tokens(w, tok);
	puts_(w, "\n}\n");
	flush(w);
	int rc = w->failed ? (m2w_out_abort(&w->o), -1) : m2w_out_commit(&w->o, changed, d);
	free(w);
	return rc;
}
