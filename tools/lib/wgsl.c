/* wgsl: module-scope declarations of a WGSL compute shader.
 *
 * The source is UTF-8 text.  Tokens: identifiers (ASCII letters, digits,
 * '_' and any byte >= 0x80), numbers (a digit, then letters, digits, '.',
 * '_', and a sign right after an exponent letter), and single-character
 * punctuation.  Comments are "//" to the end of the line and nested
 * "/" "*" ... "*" "/" blocks.  A line comment whose text starts with
 * "@group(" is a header entry: "@group(G) @binding(B) NAME: anything".
 *
 * At module scope WGSL has only attributes ('@' NAME ['(' ... ')']) and the
 * declarations var, struct, alias, const, override, fn, const_assert and the
 * directives enable, requires, diagnostic.  Everything inside a function body
 * or an initializer is skipped with bracket matching; nothing in it is
 * trusted or needed.
 *
 * Uniform layout (WGSL "Memory Layout"): f32/i32/u32 align 4 size 4, f16 2/2;
 * vecN<T>: N=2 align 2s size 2s, N=3 align 4s size 3s, N=4 align 4s size 4s;
 * matCxR: C columns of vecR, each padded to its alignment; array<E, N>:
 * stride roundUp(align(E), size(E)), align(E); struct: members at
 * roundUp(align, end of previous), align the largest member's, size rounded
 * up to it.  @align(n) and @size(n) override.  The uniform address space
 * adds constraints (an error here, as in a WGSL compiler): array strides a
 * multiple of 16; array and struct members at offsets that are multiples of
 * 16; after a struct member, the next member at least roundUp(16, size) on.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>

#include "wgsl.h"

enum tk { T_EOF, T_IDENT, T_NUM, T_PUNCT };

struct tok {
	enum tk k;
	size_t off, len;
};

struct attr {
	size_t at;     /* token index of the '@' */
	size_t name;   /* token index of the name */
	size_t a0, a1; /* argument tokens [a0, a1) */
};

struct member {
	size_t name, t0, t1; /* name token, type tokens [t0, t1) */
	uint32_t align, size; /* from @align / @size, 0 when absent */
};

struct strct {
	size_t name;
	struct member *m;
	size_t n;
};

struct named {
	size_t name, t0, t1; /* alias: type tokens; const: value tokens */
};

struct parser {
	const char *src;
	size_t len;
	struct m2w_diag *d;
	struct tok *t;
	size_t nt, cap_t;
	struct attr *at;
	size_t nat, cap_at;
	struct strct *st;
	size_t nst, cap_st;
	struct named *al; /* aliases */
	size_t nal, cap_al;
	struct named *cs; /* const and override */
	size_t ncs, cap_cs;
	struct m2w_wgsl_shader *s;
	size_t cap_b, cap_doc, cap_e, cap_f;
};

/* Grows *arr (of elem-byte items) so that one more fits. */
static int grow(struct parser *p, void **arr, size_t n, size_t *cap, size_t elem)
{
	size_t c;
	void *q;

	if (n < *cap)
		return 0;
	c = *cap ? *cap * 2 : 16;
	if (c > SIZE_MAX / elem)
		return m2w_err(p->d, M2W_NO_OFFSET, "out of memory");
	q = realloc(*arr, c * elem);
	if (!q)
		return m2w_err(p->d, M2W_NO_OFFSET, "out of memory");
	*arr = q;
	*cap = c;
	return 0;
}

#define PUSH(p, arr, n, cap) grow(p, (void **)&(arr), n, &(cap), sizeof *(arr))

static char *dup(struct parser *p, const char *s, size_t n)
{
	char *r = malloc(n + 1);

	if (!r) {
		m2w_err(p->d, M2W_NO_OFFSET, "out of memory");
		return NULL;
	}
	memcpy(r, s, n);
	r[n] = '\0';
	return r;
}

static bool is_ident_start(unsigned char c)
{
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}

static bool is_ident_char(unsigned char c)
{
	return is_ident_start(c) || (c >= '0' && c <= '9');
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* Decimal or 0x integer with an optional i/u suffix; false for anything else. */
static bool parse_uint(const char *s, size_t n, uint64_t *v)
{
	unsigned base = 10;
	uint64_t x = 0;
	size_t i = 0;

	if (n && (s[n - 1] == 'u' || s[n - 1] == 'i'))
		n--;
	if (n > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		i = 2;
	}
	if (i == n)
		return false;
	for (; i < n; i++) {
		unsigned dg;
		char c = s[i];
		if (c >= '0' && c <= '9')
			dg = (unsigned)(c - '0');
		else if (base == 16 && c >= 'a' && c <= 'f')
			dg = (unsigned)(c - 'a' + 10);
		else if (base == 16 && c >= 'A' && c <= 'F')
			dg = (unsigned)(c - 'A' + 10);
		else
			return false;
		if (x > (UINT64_MAX - dg) / base)
			return false;
		x = x * base + dg;
	}
	*v = x;
	return true;
}

/* ---- header entries: "@group(G) @binding(B) NAME: TEXT" ---- */

static bool lit(const char *s, size_t n, size_t *i, const char *w)
{
	size_t k = strlen(w);

	if (n - *i < k || memcmp(s + *i, w, k) != 0)
		return false;
	*i += k;
	return true;
}

static void skip_blank(const char *s, size_t n, size_t *i)
{
	while (*i < n && (s[*i] == ' ' || s[*i] == '\t'))
		(*i)++;
}

static bool header_uint(const char *s, size_t n, size_t *i, uint32_t *v)
{
	size_t b = *i;
	uint64_t x;

	while (*i < n && is_digit((unsigned char)s[*i]))
		(*i)++;
	if (!parse_uint(s + b, *i - b, &x) || x > M2W_WGSL_MAX_BINDING)
		return false;
	*v = (uint32_t)x;
	return true;
}

/* s[0, n) is one comment line after "//" and its blanks, at byte offset base. */
static int header_entry(struct parser *p, const char *s, size_t n, size_t base)
{
	struct m2w_wgsl_doc doc = {0};
	size_t i = 0, nb, ne;

	if (!lit(s, n, &i, "@group("))
		return 0;
	if (!header_uint(s, n, &i, &doc.group) || !lit(s, n, &i, ")"))
		goto bad;
	skip_blank(s, n, &i);
	if (!lit(s, n, &i, "@binding(") || !header_uint(s, n, &i, &doc.binding) ||
	    !lit(s, n, &i, ")"))
		goto bad;
	skip_blank(s, n, &i);
	nb = i;
	if (i == n || !is_ident_start((unsigned char)s[i]))
		goto bad;
	while (i < n && is_ident_char((unsigned char)s[i]))
		i++;
	ne = i;
	skip_blank(s, n, &i);
	if (!lit(s, n, &i, ":"))
		goto bad;
	skip_blank(s, n, &i);
	while (n > i && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		n--;
	doc.off = base;
	if (PUSH(p, p->s->docs, p->s->ndocs, p->cap_doc) < 0)
		return -1;
	doc.name = dup(p, s + nb, ne - nb);
	doc.text = dup(p, s + i, n - i);
	p->s->docs[p->s->ndocs++] = doc;
	return doc.name && doc.text ? 0 : -1;
bad:
	return m2w_err(p->d, base + i,
		"malformed header entry, expected \"@group(G) @binding(B) name: type\"");
}

/* ---- lexer ---- */

static int lex(struct parser *p)
{
	const char *s = p->src;
	size_t n = p->len, i = 0;

	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		struct tok t = {T_PUNCT, i, 1};

		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') {
			i++;
			continue;
		}
		if (c == '/' && i + 1 < n && s[i + 1] == '/') {
			size_t b = i + 2, e = b;
			while (e < n && s[e] != '\n')
				e++;
			skip_blank(s, e, &b);
			if (header_entry(p, s + b, e - b, b) < 0)
				return -1;
			i = e;
			continue;
		}
		if (c == '/' && i + 1 < n && s[i + 1] == '*') {
			size_t start = i, depth = 0;
			do {
				if (i + 1 < n && s[i] == '/' && s[i + 1] == '*') {
					if (++depth > M2W_MAX_NESTING)
						return m2w_err(p->d, i, "block comments nested %zu deep, limit %d",
							depth, M2W_MAX_NESTING);
					i += 2;
				} else if (i + 1 < n && s[i] == '*' && s[i + 1] == '/') {
					depth--;
					i += 2;
				} else if (i < n) {
					i++;
				} else {
					return m2w_err(p->d, start, "unterminated block comment");
				}
			} while (depth);
			continue;
		}
		if (is_ident_start(c)) {
			t.k = T_IDENT;
			while (i + t.len < n && is_ident_char((unsigned char)s[i + t.len]))
				t.len++;
		} else if (is_digit(c)) {
			bool hex = i + 1 < n && (s[i + 1] == 'x' || s[i + 1] == 'X');
			t.k = T_NUM;
			while (i + t.len < n) {
				unsigned char q = (unsigned char)s[i + t.len];
				unsigned char prev = (unsigned char)s[i + t.len - 1];
				bool expo = hex ? (prev == 'p' || prev == 'P') : (prev == 'e' || prev == 'E');
				if (is_ident_char(q) || q == '.' || ((q == '+' || q == '-') && expo))
					t.len++;
				else
					break;
			}
		}
		if (PUSH(p, p->t, p->nt, p->cap_t) < 0)
			return -1;
		p->t[p->nt++] = t;
		i += t.len;
	}
	if (PUSH(p, p->t, p->nt, p->cap_t) < 0)
		return -1;
	p->t[p->nt++] = (struct tok){T_EOF, n, 0};
	return 0;
}

/* ---- token helpers ---- */

static bool is_p(const struct parser *p, size_t i, char c)
{
	return p->t[i].k == T_PUNCT && p->src[p->t[i].off] == c;
}

static bool is_w(const struct parser *p, size_t i, const char *w)
{
	size_t k = strlen(w);
	return p->t[i].k == T_IDENT && p->t[i].len == k && memcmp(p->src + p->t[i].off, w, k) == 0;
}

static bool same_text(const struct parser *p, size_t a, size_t b)
{
	return p->t[a].len == p->t[b].len &&
	       memcmp(p->src + p->t[a].off, p->src + p->t[b].off, p->t[a].len) == 0;
}

static int expect(struct parser *p, size_t i, char c)
{
	if (is_p(p, i, c))
		return 0;
	return m2w_err(p->d, p->t[i].off, "expected '%c'", c);
}

static int expect_ident(struct parser *p, size_t i, const char *what)
{
	if (p->t[i].k == T_IDENT)
		return 0;
	return m2w_err(p->d, p->t[i].off, "expected %s", what);
}

/* Index just past the bracket that closes the one at i ('(' '[' '{' '<'). */
static int skip_brackets(struct parser *p, size_t i, size_t *end)
{
	char open = p->src[p->t[i].off], close = open == '(' ? ')' : open == '[' ? ']' :
						   open == '{' ? '}' : '>';
	size_t depth = 0, start = i;

	for (; p->t[i].k != T_EOF; i++) {
		if (is_p(p, i, open))
			depth++; /* iterative: no depth limit needed */
		else if (is_p(p, i, close) && --depth == 0) {
			*end = i + 1;
			return 0;
		}
	}
	return m2w_err(p->d, p->t[start].off, "unbalanced '%c'", open);
}

/* A type: NAME ['<' arg (',' arg)* [','] '>']; an argument is a type when
 * it is NAME '<', else any tokens up to ',' or '>' outside parentheses. */
static int skip_type(struct parser *p, size_t i, size_t *end, int depth)
{
	if (depth > M2W_MAX_NESTING)
		return m2w_err(p->d, p->t[i].off, "type nested deeper than %d", M2W_MAX_NESTING);
	if (expect_ident(p, i, "a type") < 0)
		return -1;
	i++;
	if (!is_p(p, i, '<')) {
		*end = i;
		return 0;
	}
	i++;
	while (!is_p(p, i, '>')) {
		if (p->t[i].k == T_IDENT && is_p(p, i + 1, '<')) {
			if (skip_type(p, i, &i, depth + 1) < 0)
				return -1;
		} else {
			size_t par = 0;
			for (; p->t[i].k != T_EOF; i++) {
				if (is_p(p, i, '('))
					par++;
				else if (is_p(p, i, ')') && par)
					par--;
				else if (!par && (is_p(p, i, ',') || is_p(p, i, '>')))
					break;
			}
		}
		if (p->t[i].k == T_EOF)
			return m2w_err(p->d, p->t[i].off, "unterminated type");
		if (is_p(p, i, ','))
			i++;
		else if (!is_p(p, i, '>'))
			return m2w_err(p->d, p->t[i].off, "expected ',' or '>' in a type");
	}
	*end = i + 1;
	return 0;
}

/* Token text joined, ", " after commas: "array<vec4<f32>, 4>". */
static char *type_text(struct parser *p, size_t t0, size_t t1)
{
	size_t n = 0, k = 0;
	char *r;

	for (size_t i = t0; i < t1; i++)
		n += p->t[i].len + 1;
	r = malloc(n + 1);
	if (!r) {
		m2w_err(p->d, M2W_NO_OFFSET, "out of memory");
		return NULL;
	}
	for (size_t i = t0; i < t1; i++) {
		memcpy(r + k, p->src + p->t[i].off, p->t[i].len);
		k += p->t[i].len;
		if (is_p(p, i, ','))
			r[k++] = ' ';
	}
	r[k] = '\0';
	return r;
}

/* The integer an attribute argument or array size names: a literal, or a
 * const/override whose initializer is one (optionally as u32(..)/i32(..)). */
static bool int_value(struct parser *p, size_t t0, size_t t1, uint64_t *v, int depth)
{
	if (t1 == t0 + 1 && p->t[t0].k == T_NUM)
		return parse_uint(p->src + p->t[t0].off, p->t[t0].len, v);
	if (t1 == t0 + 4 && (is_w(p, t0, "u32") || is_w(p, t0, "i32")) && is_p(p, t0 + 1, '(') &&
	    is_p(p, t0 + 3, ')'))
		return int_value(p, t0 + 2, t0 + 3, v, depth);
	if (t1 == t0 + 1 && p->t[t0].k == T_IDENT && depth < M2W_MAX_NESTING)
		for (size_t c = 0; c < p->ncs; c++)
			if (same_text(p, p->cs[c].name, t0))
				return p->cs[c].t1 > p->cs[c].t0 &&
				       int_value(p, p->cs[c].t0, p->cs[c].t1, v, depth + 1);
	return false;
}

static const struct attr *find_attr(struct parser *p, size_t a0, const char *name)
{
	for (size_t a = a0; a < p->nat; a++)
		if (is_w(p, p->at[a].name, name))
			return &p->at[a];
	return NULL;
}

/* The single integer argument of an attribute (@group, @binding, @align). */
static int attr_uint(struct parser *p, const struct attr *a, uint64_t limit, uint32_t *v)
{
	uint64_t x;

	if (a->a1 == a->a0)
		return m2w_err(p->d, p->t[a->name].off, "@%.*s needs one integer argument",
			(int)p->t[a->name].len, p->src + p->t[a->name].off);
	if (!int_value(p, a->a0, a->a1, &x, 0))
		return m2w_err(p->d, p->t[a->a0].off, "@%.*s argument is not an integer constant",
			(int)p->t[a->name].len, p->src + p->t[a->name].off);
	if (x > limit)
		return m2w_err(p->d, p->t[a->a0].off, "@%.*s(%llu) is larger than %llu",
			(int)p->t[a->name].len, p->src + p->t[a->name].off, (unsigned long long)x,
			(unsigned long long)limit);
	*v = (uint32_t)x;
	return 0;
}

/* ---- declarations ---- */

static int parse_attr(struct parser *p, size_t *i)
{
	struct attr a = {0};

	if (expect_ident(p, *i + 1, "an attribute name after '@'") < 0)
		return -1;
	a.at = *i;
	a.name = *i + 1;
	*i += 2;
	a.a0 = a.a1 = *i;
	if (is_p(p, *i, '(')) {
		size_t end;
		if (skip_brackets(p, *i, &end) < 0)
			return -1;
		a.a0 = *i + 1;
		a.a1 = end - 1;
		/* a trailing comma is allowed */
		if (a.a1 > a.a0 && is_p(p, a.a1 - 1, ','))
			a.a1--;
		*i = end;
	}
	if (PUSH(p, p->at, p->nat, p->cap_at) < 0)
		return -1;
	p->at[p->nat++] = a;
	return 0;
}

/* Skips an initializer or directive up to and including ';' at bracket depth 0. */
static int skip_to_semicolon(struct parser *p, size_t *i)
{
	size_t start = *i;

	while (!is_p(p, *i, ';')) {
		if (p->t[*i].k == T_EOF)
			return m2w_err(p->d, p->t[start].off, "missing ';'");
		if (is_p(p, *i, '(') || is_p(p, *i, '[') || is_p(p, *i, '{')) {
			if (skip_brackets(p, *i, i) < 0)
				return -1;
		} else {
			(*i)++;
		}
	}
	(*i)++;
	return 0;
}

static int parse_var(struct parser *p, size_t *i, size_t a0)
{
	const struct attr *g = find_attr(p, a0, "group"), *b = find_attr(p, a0, "binding");
	struct m2w_wgsl_binding v = {0};
	size_t j = *i + 1, sp0 = 0, sp1 = 0, ac0 = 0, ac1 = 0, nm, t0 = 0, t1 = 0;

	if (is_p(p, j, '<')) {
		sp0 = j + 1;
		if (expect_ident(p, sp0, "an address space") < 0)
			return -1;
		sp1 = sp0 + 1;
		j = sp1;
		if (is_p(p, j, ',') && p->t[j + 1].k == T_IDENT) {
			ac0 = j + 1;
			ac1 = ac0 + 1;
			j = ac1;
		}
		if (is_p(p, j, ','))
			j++;
		if (expect(p, j, '>') < 0)
			return -1;
		j++;
	}
	if (expect_ident(p, j, "a variable name") < 0)
		return -1;
	nm = j++;
	if (is_p(p, j, ':')) {
		t0 = j + 1;
		if (skip_type(p, t0, &t1, 0) < 0)
			return -1;
		j = t1;
	}
	*i = j;
	if (skip_to_semicolon(p, i) < 0)
		return -1;
	if (!g && !b)
		return 0; /* var<workgroup>, var<private> */
	if (!g || !b)
		return m2w_err(p->d, p->t[(g ? g : b)->at].off,
			"a resource variable needs both @group and @binding");
	if (!t0)
		return m2w_err(p->d, p->t[nm].off, "resource variable '%.*s' has no type",
			(int)p->t[nm].len, p->src + p->t[nm].off);
	if (attr_uint(p, g, M2W_WGSL_MAX_BINDING, &v.group) < 0 ||
	    attr_uint(p, b, M2W_WGSL_MAX_BINDING, &v.binding) < 0)
		return -1;
	v.off = p->t[g->at].off;
	if (PUSH(p, p->s->bindings, p->s->nbindings, p->cap_b) < 0)
		return -1;
	v.name = dup(p, p->src + p->t[nm].off, p->t[nm].len);
	v.space = sp0 ? dup(p, p->src + p->t[sp0].off, p->t[sp0].len) : dup(p, "handle", 6);
	if (sp0 && is_w(p, sp0, "storage"))
		v.access = ac0 ? dup(p, p->src + p->t[ac0].off, p->t[ac0].len) : dup(p, "read", 4);
	v.type = type_text(p, t0, t1);
	/* array<E> / array<E, N>: the element is the first template argument */
	if (is_w(p, t0, "array") && t1 > t0 + 3) {
		size_t e1;
		if (skip_type(p, t0 + 2, &e1, 0) < 0)
			e1 = t0 + 3;
		v.elem = type_text(p, t0 + 2, e1);
	} else {
		v.elem = type_text(p, t0, t1);
	}
	p->s->bindings[p->s->nbindings++] = v;
	if (!v.name || !v.space || !v.type || !v.elem || (sp0 && is_w(p, sp0, "storage") && !v.access))
		return -1;
	return 0;
}

static int parse_struct(struct parser *p, size_t *i)
{
	struct strct st = {0};
	size_t j = *i + 1, cap = 0;

	if (expect_ident(p, j, "a struct name") < 0)
		return -1;
	st.name = j++;
	if (expect(p, j, '{') < 0)
		return -1;
	j++;
	if (PUSH(p, p->st, p->nst, p->cap_st) < 0)
		return -1;
	p->st[p->nst++] = st; /* owned by the parser from here on */
	while (!is_p(p, j, '}')) {
		struct member m = {0};
		size_t a0 = p->nat;
		while (is_p(p, j, '@'))
			if (parse_attr(p, &j) < 0)
				return -1;
		for (size_t a = a0; a < p->nat; a++) {
			if (is_w(p, p->at[a].name, "align") &&
			    attr_uint(p, &p->at[a], 1u << 30, &m.align) < 0)
				return -1;
			if (is_w(p, p->at[a].name, "size") &&
			    attr_uint(p, &p->at[a], 1u << 30, &m.size) < 0)
				return -1;
		}
		p->nat = a0;
		if (m.align && (m.align & (m.align - 1)))
			return m2w_err(p->d, p->t[j].off, "@align(%u) is not a power of two", m.align);
		if (expect_ident(p, j, "a member name") < 0)
			return -1;
		m.name = j++;
		if (expect(p, j, ':') < 0)
			return -1;
		m.t0 = j + 1;
		if (skip_type(p, m.t0, &m.t1, 0) < 0)
			return -1;
		j = m.t1;
		if (grow(p, (void **)&p->st[p->nst - 1].m, p->st[p->nst - 1].n, &cap,
			    sizeof(struct member)) < 0)
			return -1;
		p->st[p->nst - 1].m[p->st[p->nst - 1].n++] = m;
		if (is_p(p, j, ','))
			j++;
		else if (!is_p(p, j, '}'))
			return m2w_err(p->d, p->t[j].off, "expected ',' or '}' after a struct member");
	}
	*i = j + 1;
	if (is_p(p, *i, ';'))
		(*i)++;
	return 0;
}

static int parse_named(struct parser *p, size_t *i, bool alias)
{
	struct named nd = {0};
	size_t j = *i + 1;

	if (expect_ident(p, j, "a name") < 0)
		return -1;
	nd.name = j++;
	if (alias) {
		if (expect(p, j, '=') < 0)
			return -1;
		nd.t0 = j + 1;
		if (skip_type(p, nd.t0, &nd.t1, 0) < 0)
			return -1;
		j = nd.t1;
		if (expect(p, j, ';') < 0)
			return -1;
		*i = j + 1;
		if (PUSH(p, p->al, p->nal, p->cap_al) < 0)
			return -1;
		p->al[p->nal++] = nd;
		if (is_w(p, nd.name, "real") && nd.t1 == nd.t0 + 1 && is_w(p, nd.t0, "f32")) {
			p->s->has_real = true;
			p->s->real_off = p->t[nd.t0].off;
			p->s->real_len = p->t[nd.t0].len;
		}
		return 0;
	}
	if (is_p(p, j, ':') && skip_type(p, j + 1, &j, 0) < 0)
		return -1;
	if (is_p(p, j, '=')) {
		nd.t0 = ++j;
		if (skip_to_semicolon(p, &j) < 0)
			return -1;
		nd.t1 = j - 1;
	} else if (skip_to_semicolon(p, &j) < 0) {
		return -1;
	}
	*i = j;
	if (PUSH(p, p->cs, p->ncs, p->cap_cs) < 0)
		return -1;
	p->cs[p->ncs++] = nd;
	return 0;
}

static int parse_fn(struct parser *p, size_t *i, size_t a0)
{
	const struct attr *cmp = find_attr(p, a0, "compute"), *wg = find_attr(p, a0, "workgroup_size");
	struct m2w_wgsl_entry e = {0, {1, 1, 1}, 0};
	size_t j = *i + 1, nm;

	if (expect_ident(p, j, "a function name") < 0)
		return -1;
	nm = j++;
	if (expect(p, j, '(') < 0 || skip_brackets(p, j, &j) < 0)
		return -1;
	while (!is_p(p, j, '{')) {
		if (p->t[j].k == T_EOF)
			return m2w_err(p->d, p->t[nm].off, "function '%.*s' has no body",
				(int)p->t[nm].len, p->src + p->t[nm].off);
		j++;
	}
	if (skip_brackets(p, j, i) < 0)
		return -1;
	if (!cmp)
		return 0;
	if (!wg)
		return m2w_err(p->d, p->t[cmp->at].off,
			"entry point '%.*s' has no @workgroup_size", (int)p->t[nm].len,
			p->src + p->t[nm].off);
	for (size_t k = wg->a0, d = 0; k < wg->a1; d++) {
		size_t k1 = k;
		uint64_t x;
		if (d == 3)
			return m2w_err(p->d, p->t[k].off, "@workgroup_size has more than 3 arguments");
		while (k1 < wg->a1 && !is_p(p, k1, ','))
			k1++;
		if (!int_value(p, k, k1, &x, 0))
			return m2w_err(p->d, p->t[k].off,
				"@workgroup_size argument is not an integer literal or a const with one");
		if (x < 1 || x > M2W_WGSL_MAX_WORKGROUP)
			return m2w_err(p->d, p->t[k].off, "@workgroup_size %llu, must be 1..%u",
				(unsigned long long)x, M2W_WGSL_MAX_WORKGROUP);
		e.wg[d] = (uint32_t)x;
		k = k1 < wg->a1 ? k1 + 1 : k1;
	}
	if (wg->a1 == wg->a0)
		return m2w_err(p->d, p->t[wg->name].off, "@workgroup_size needs 1 to 3 arguments");
	e.off = p->t[cmp->at].off;
	if (PUSH(p, p->s->entries, p->s->nentries, p->cap_e) < 0)
		return -1;
	e.name = dup(p, p->src + p->t[nm].off, p->t[nm].len);
	p->s->entries[p->s->nentries++] = e;
	return e.name ? 0 : -1;
}

static int parse_module(struct parser *p)
{
	size_t i = 0, a0 = 0;

	while (p->t[i].k != T_EOF) {
		if (is_p(p, i, '@')) {
			if (parse_attr(p, &i) < 0)
				return -1;
			continue;
		}
		if (is_w(p, i, "var")) {
			if (parse_var(p, &i, a0) < 0)
				return -1;
		} else if (is_w(p, i, "struct")) {
			if (parse_struct(p, &i) < 0)
				return -1;
		} else if (is_w(p, i, "alias")) {
			if (parse_named(p, &i, true) < 0)
				return -1;
		} else if (is_w(p, i, "const") || is_w(p, i, "override")) {
			if (parse_named(p, &i, false) < 0)
				return -1;
		} else if (is_w(p, i, "fn")) {
			if (parse_fn(p, &i, a0) < 0)
				return -1;
		} else if (is_w(p, i, "enable") || is_w(p, i, "requires") ||
			   is_w(p, i, "diagnostic") || is_w(p, i, "const_assert")) {
			if (skip_to_semicolon(p, &i) < 0)
				return -1;
		} else if (is_p(p, i, ';')) {
			i++;
		} else {
			return m2w_err(p->d, p->t[i].off, "expected a module-scope declaration, got '%.*s'",
				(int)p->t[i].len, p->src + p->t[i].off);
		}
		p->nat = a0; /* attributes belong to the declaration just read */
	}
	if (p->nat > a0)
		return m2w_err(p->d, p->t[p->at[a0].at].off, "attribute with no declaration");
	return 0;
}

/* ---- uniform layout ---- */

static uint64_t round_up(uint64_t a, uint64_t n)
{
	return (n + a - 1) / a * a;
}

static int layout_struct(struct parser *p, size_t si, bool top, int depth, uint32_t *al,
	uint32_t *sz);

#define MAX_SIZE (1u << 30)

/* Alignment and size of the type at tokens [t0, t1) in the uniform space. */
static int layout_type(struct parser *p, size_t t0, size_t t1, int depth, uint32_t *al,
	uint32_t *sz, bool *compound)
{
	const char *w = p->src + p->t[t0].off;
	size_t n = p->t[t0].len;
	unsigned vn = 0, mc = 0;
	char sc = 0;

	*compound = false;
	if (depth > M2W_MAX_NESTING)
		return m2w_err(p->d, p->t[t0].off, "type nested deeper than %d", M2W_MAX_NESTING);
	if (is_w(p, t0, "f32") || is_w(p, t0, "i32") || is_w(p, t0, "u32") || is_w(p, t0, "atomic")) {
		*al = *sz = 4;
		return 0;
	}
	if (is_w(p, t0, "f16")) {
		*al = *sz = 2;
		return 0;
	}
	if (is_w(p, t0, "bool"))
		return m2w_err(p->d, p->t[t0].off, "bool is not allowed in a uniform buffer");
	if (is_w(p, t0, "real"))
		return m2w_err(p->d, p->t[t0].off,
			"Params uses 'real', whose size changes in the f16 variant; use f32");
	/* vecN<T>, vecNf/i/u/h, matCxR<T>, matCxRf/h */
	if (n >= 4 && memcmp(w, "vec", 3) == 0 && w[3] >= '2' && w[3] <= '4' &&
	    (n == 4 || (n == 5 && strchr("fiuh", w[4]))))
		vn = (unsigned)(w[3] - '0'), sc = n == 5 ? w[4] : 0;
	else if (n >= 6 && memcmp(w, "mat", 3) == 0 && w[3] >= '2' && w[3] <= '4' && w[4] == 'x' &&
		 w[5] >= '2' && w[5] <= '4' && (n == 6 || (n == 7 && strchr("fh", w[6]))))
		mc = (unsigned)(w[3] - '0'), vn = (unsigned)(w[5] - '0'), sc = n == 7 ? w[6] : 0;
	if (vn) {
		uint32_t s = 4, va;
		if (sc == 'h')
			s = 2;
		if (!sc) {
			if (t1 != t0 + 4 || !is_p(p, t0 + 1, '<'))
				return m2w_err(p->d, p->t[t0].off, "expected %.*s<T>", (int)n, w);
			if (is_w(p, t0 + 2, "f16"))
				s = 2;
			else if (!is_w(p, t0 + 2, "f32") && !is_w(p, t0 + 2, "i32") && !is_w(p, t0 + 2, "u32"))
				return m2w_err(p->d, p->t[t0 + 2].off, "vector of a non-numeric type");
		}
		va = vn == 2 ? 2 * s : 4 * s;
		if (!mc) {
			*al = va;
			*sz = vn * s;
		} else {
			*al = va;
			*sz = mc * (uint32_t)round_up(va, vn * s);
		}
		return 0;
	}
	if (is_w(p, t0, "array")) {
		size_t e1, n0;
		uint32_t ea, es;
		uint64_t count, stride, total;
		bool c;
		if (!is_p(p, t0 + 1, '<') || skip_type(p, t0 + 2, &e1, depth + 1) < 0)
			return m2w_err(p->d, p->t[t0].off, "expected array<T, N>");
		if (!is_p(p, e1, ','))
			return m2w_err(p->d, p->t[t0].off, "runtime-sized array in a uniform buffer");
		n0 = e1 + 1;
		if (!int_value(p, n0, t1 - 1 - (is_p(p, t1 - 2, ',') ? 1 : 0), &count, 0) || !count)
			return m2w_err(p->d, p->t[n0].off, "array size is not a positive integer constant");
		if (layout_type(p, t0 + 2, e1, depth + 1, &ea, &es, &c) < 0)
			return -1;
		stride = round_up(ea, es);
		if (stride % 16)
			return m2w_err(p->d, p->t[t0 + 2].off,
				"array element stride %llu in a uniform buffer, must be a multiple of 16 "
				"(use vec4 elements)",
				(unsigned long long)stride);
		if (!m2w_mul_u64(stride, count, &total) || total > MAX_SIZE)
			return m2w_err(p->d, p->t[n0].off, "array of %llu bytes, limit %u",
				(unsigned long long)(total > MAX_SIZE ? total : UINT64_MAX), MAX_SIZE);
		*al = ea;
		*sz = (uint32_t)total;
		*compound = true;
		return 0;
	}
	for (size_t s = 0; s < p->nst; s++)
		if (same_text(p, p->st[s].name, t0)) {
			*compound = true;
			return layout_struct(p, s, false, depth + 1, al, sz);
		}
	for (size_t a = 0; a < p->nal; a++)
		if (same_text(p, p->al[a].name, t0))
			return layout_type(p, p->al[a].t0, p->al[a].t1, depth + 1, al, sz, compound);
	return m2w_err(p->d, p->t[t0].off, "unknown type '%.*s' in a uniform buffer", (int)n, w);
}

/* A field typed by an alias reports the aliased type, which a host can act on. */
static size_t alias_t0(struct parser *p, size_t t0, size_t t1, size_t *end)
{
	for (int depth = 0; t1 == t0 + 1 && depth < M2W_MAX_NESTING; depth++) {
		size_t a = 0;
		while (a < p->nal && !same_text(p, p->al[a].name, t0))
			a++;
		if (a == p->nal)
			break;
		t0 = p->al[a].t0;
		t1 = p->al[a].t1;
	}
	*end = t1;
	return t0;
}

static int layout_struct(struct parser *p, size_t si, bool top, int depth, uint32_t *al,
	uint32_t *sz)
{
	const struct strct *st = &p->st[si];
	uint64_t end = 0, prev_off = 0, prev_min = 0;
	uint32_t maxal = 1;
	bool prev_struct = false;

	if (depth > M2W_MAX_NESTING)
		return m2w_err(p->d, p->t[st->name].off, "struct nested deeper than %d (a cycle?)",
			M2W_MAX_NESTING);
	if (!st->n)
		return m2w_err(p->d, p->t[st->name].off, "struct with no members");
	for (size_t k = 0; k < st->n; k++) {
		const struct member *m = &st->m[k];
		uint32_t a, s;
		uint64_t off;
		bool compound;
		if (layout_type(p, m->t0, m->t1, depth, &a, &s, &compound) < 0)
			return -1;
		if (m->align)
			a = m->align;
		if (m->size) {
			if (m->size < s)
				return m2w_err(p->d, p->t[m->name].off, "@size(%u) smaller than the type's %u",
					m->size, s);
			s = m->size;
		}
		off = round_up(a, end);
		if (compound && off % 16)
			return m2w_err(p->d, p->t[m->name].off,
				"member '%.*s' at offset %llu, must be 16-byte aligned in a uniform buffer "
				"(add @align(16))",
				(int)p->t[m->name].len, p->src + p->t[m->name].off, (unsigned long long)off);
		if (prev_struct && off - prev_off < prev_min)
			return m2w_err(p->d, p->t[m->name].off,
				"member '%.*s' at offset %llu follows a struct member by %llu bytes, needs %llu",
				(int)p->t[m->name].len, p->src + p->t[m->name].off, (unsigned long long)off,
				(unsigned long long)(off - prev_off), (unsigned long long)prev_min);
		prev_struct = compound && !is_w(p, m->t0, "array");
		prev_off = off;
		prev_min = round_up(16, s);
		end = off + s;
		if (end > MAX_SIZE)
			return m2w_err(p->d, p->t[m->name].off, "struct larger than %u bytes", MAX_SIZE);
		if (a > maxal)
			maxal = a;
		if (top) {
			struct m2w_wgsl_field f = {0};
			size_t t1;
			if (PUSH(p, p->s->fields, p->s->nfields, p->cap_f) < 0)
				return -1;
			f.name = dup(p, p->src + p->t[m->name].off, p->t[m->name].len);
			size_t t0 = alias_t0(p, m->t0, m->t1, &t1);
			f.type = type_text(p, t0, t1);
			f.offset = (uint32_t)off;
			f.size = s;
			f.align = a;
			p->s->fields[p->s->nfields++] = f;
			if (!f.name || !f.type)
				return -1;
		}
	}
	*al = maxal;
	*sz = (uint32_t)round_up(maxal, end);
	return 0;
}

/* ---- checks ---- */

static int check(struct parser *p)
{
	struct m2w_wgsl_shader *s = p->s;
	unsigned line, col;

	for (size_t i = 0; i < s->nbindings; i++)
		for (size_t j = 0; j < i; j++)
			if (s->bindings[i].group == s->bindings[j].group &&
			    s->bindings[i].binding == s->bindings[j].binding) {
				m2w_wgsl_linecol(p->src, p->len, s->bindings[j].off, &line, &col);
				return m2w_err(p->d, s->bindings[i].off,
					"duplicate @group(%u) @binding(%u): '%s' and '%s' (line %u)",
					s->bindings[i].group, s->bindings[i].binding, s->bindings[i].name,
					s->bindings[j].name, line);
			}
	for (size_t i = 0; i < s->ndocs; i++)
		for (size_t j = 0; j < i; j++)
			if (s->docs[i].group == s->docs[j].group && s->docs[i].binding == s->docs[j].binding)
				return m2w_err(p->d, s->docs[i].off,
					"header documents @group(%u) @binding(%u) twice", s->docs[i].group,
					s->docs[i].binding);
	for (size_t i = 0; i < s->nbindings; i++) {
		const struct m2w_wgsl_binding *b = &s->bindings[i];
		size_t j = 0;
		while (j < s->ndocs && (s->docs[j].group != b->group || s->docs[j].binding != b->binding))
			j++;
		if (j == s->ndocs)
			return m2w_err(p->d, b->off,
				"binding '%s' (@group(%u) @binding(%u)) is missing from the header comment",
				b->name, b->group, b->binding);
		if (strcmp(s->docs[j].name, b->name) != 0)
			return m2w_err(p->d, s->docs[j].off,
				"header names @group(%u) @binding(%u) '%s', the declaration '%s'", b->group,
				b->binding, s->docs[j].name, b->name);
	}
	for (size_t j = 0; j < s->ndocs; j++) {
		size_t i = 0;
		while (i < s->nbindings && (s->docs[j].group != s->bindings[i].group ||
					    s->docs[j].binding != s->bindings[i].binding))
			i++;
		if (i == s->nbindings)
			return m2w_err(p->d, s->docs[j].off,
				"header entry '%s' (@group(%u) @binding(%u)) has no binding in the shader",
				s->docs[j].name, s->docs[j].group, s->docs[j].binding);
	}
	if (!s->nentries)
		return m2w_err(p->d, 0, "no @compute entry point with @workgroup_size");
	for (size_t i = 0; i < s->nentries; i++)
		for (size_t j = 0; j < i; j++)
			if (!strcmp(s->entries[i].name, s->entries[j].name))
				return m2w_err(p->d, s->entries[i].off, "entry point '%s' defined twice",
					s->entries[i].name);
	return 0;
}

static int params(struct parser *p)
{
	for (size_t i = 0; i < p->s->nbindings; i++) {
		const struct m2w_wgsl_binding *b = &p->s->bindings[i];
		if (strcmp(b->space, "uniform") || strcmp(b->type, "Params"))
			continue;
		for (size_t k = 0; k < p->nst; k++)
			if (is_w(p, p->st[k].name, "Params")) {
				p->s->has_params = true;
				return layout_struct(p, k, true, 0, &p->s->params_align, &p->s->params_size);
			}
		return m2w_err(p->d, b->off, "uniform '%s' has type Params, but no struct Params",
			b->name);
	}
	return 0;
}

int m2w_wgsl_parse(const char *src, size_t len, struct m2w_wgsl_shader *s, struct m2w_diag *d)
{
	struct parser p = {0};
	int r;

	memset(s, 0, sizeof *s);
	p.src = src;
	p.len = len;
	p.d = d;
	p.s = s;
	r = lex(&p);
	if (r == 0)
		r = parse_module(&p);
	if (r == 0)
		r = check(&p);
	if (r == 0)
		r = params(&p);
	for (size_t i = 0; i < p.nst; i++)
		free(p.st[i].m);
	free(p.st);
	free(p.t);
	free(p.at);
	free(p.al);
	free(p.cs);
	if (r < 0)
		m2w_wgsl_free(s);
	return r;
}

void m2w_wgsl_free(struct m2w_wgsl_shader *s)
{
	for (size_t i = 0; i < s->nbindings; i++) {
		free(s->bindings[i].name);
		free(s->bindings[i].space);
		free(s->bindings[i].access);
		free(s->bindings[i].type);
		free(s->bindings[i].elem);
	}
	for (size_t i = 0; i < s->ndocs; i++) {
		free(s->docs[i].name);
		free(s->docs[i].text);
	}
	for (size_t i = 0; i < s->nentries; i++)
		free(s->entries[i].name);
	for (size_t i = 0; i < s->nfields; i++) {
		free(s->fields[i].name);
		free(s->fields[i].type);
	}
	free(s->bindings);
	free(s->docs);
	free(s->entries);
	free(s->fields);
	memset(s, 0, sizeof *s);
}

void m2w_wgsl_linecol(const char *src, size_t len, uint64_t off, unsigned *line, unsigned *col)
{
	unsigned l = 1, c = 1;

	if (off > len)
		off = len;
	for (size_t i = 0; i < off; i++) {
		if (src[i] == '\n') {
			l++;
			c = 1;
		} else if (((unsigned char)src[i] & 0xc0) != 0x80) {
			c++; /* count code points, not continuation bytes */
		}
	}
	*line = l;
	*col = c;
}
