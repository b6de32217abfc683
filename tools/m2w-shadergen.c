/* m2w-shadergen: WGSL files into one TypeScript module of string constants,
 * with each shader's bindings, Params uniform layout and workgroup size, so
 * an engine creates pipelines and fills uniforms by field name. */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "m2w.h"
#include "wgsl.h"

static const char *prog = "m2w-shadergen";

#define DEFAULT_CHUNK 32768u /* bytes per string literal, well under bundler limits */

static void usage(FILE *fp)
{
	fprintf(fp,
		"Usage: %s [OPTION]... FILE.wgsl... -o OUTPUT.ts\n"
		"Embed WGSL compute shaders in a TypeScript module: for each FILE (name from\n"
		"the file name in camelCase: rms_norm.wgsl -> rmsNorm)\n"
		"  export const NAME      the source, as escaped string literals\n"
		"  export const NAMEInfo  {bindings, params: {size, fields: {f: {offset, size,\n"
		"                         type}}}, workgroupSize, entryPoints}\n"
		"  export const NAMEF16   with --f16: `enable f16;` and `alias real = f16;`\n"
		"Each shader must document every binding in a header comment line\n"
		"\"// @group(G) @binding(B) name: type ...\" and have @compute entry points with\n"
		"@workgroup_size; the uniform `var<uniform> NAME: Params` is laid out by WGSL's\n"
		"rules.\n"
		"\n"
		"  -o, --output FILE     the TypeScript module (written only when it changes)\n"
		"      --f16             also emit the f16 variant (needs `alias real = f32;`)\n"
		"      --depfile FILE    write a make-syntax depfile for OUTPUT\n"
		"      --chunk BYTES     longest string literal (default %u, at least 64)\n"
		"  -h, --help            show this help and exit\n"
		"  -V, --version         show the version and exit\n"
		"\n"
		"Exit status: 0 success, 1 bad input or I/O error, 2 usage error.\n"
		"Errors read \"%s: FILE:LINE:COLUMN: error: WHAT\".\n",
		prog, DEFAULT_CHUNK, prog);
}

struct shader {
	const char *path;
	const char *base; /* file name without folders, for the header */
	char *name;       /* export name */
	struct m2w_file f;
	struct m2w_wgsl_shader w;
};

static int fail_at(const struct shader *s, const struct m2w_diag *d)
{
	if (d->off == M2W_NO_OFFSET) {
		fprintf(stderr, "%s: %s: error: %s\n", prog, s->path, d->msg);
	} else {
		unsigned line, col;
		m2w_wgsl_linecol((const char *)s->f.data, s->f.size, d->off, &line, &col);
		fprintf(stderr, "%s: %s:%u:%u: error: %s\n", prog, s->path, line, col, d->msg);
	}
	return 1;
}

/* Decodes one UTF-8 code point at p[*i]; -1 if malformed. */
static long utf8_next(const uint8_t *p, size_t n, size_t *i)
{
	uint8_t c = p[*i];
	unsigned k;
	long cp, min;

	if (c < 0x80) {
		(*i)++;
		return c;
	}
	if ((c & 0xe0) == 0xc0)
		k = 1, cp = c & 0x1f, min = 0x80;
	else if ((c & 0xf0) == 0xe0)
		k = 2, cp = c & 0x0f, min = 0x800;
	else if ((c & 0xf8) == 0xf0)
		k = 3, cp = c & 0x07, min = 0x10000;
	else
		return -1;
	if (n - *i <= k)
		return -1;
	for (unsigned j = 1; j <= k; j++) {
		if ((p[*i + j] & 0xc0) != 0x80)
			return -1;
		cp = (cp << 6) | (p[*i + j] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return -1;
	*i += k + 1;
	return cp;
}

/* JS escape of one code point into buf (at most 12 bytes + NUL). */
static size_t escape_cp(long cp, char *buf)
{
	switch (cp) {
	case '\\': return (size_t)sprintf(buf, "\\\\");
	case '"': return (size_t)sprintf(buf, "\\\"");
	case '\n': return (size_t)sprintf(buf, "\\n");
	case '\t': return (size_t)sprintf(buf, "\\t");
	case '\r': return (size_t)sprintf(buf, "\\r");
	}
	if (cp < 0x20 || cp == 0x7f)
		return (size_t)sprintf(buf, "\\x%02lx", cp);
	if (cp < 0x80) {
		buf[0] = (char)cp;
		buf[1] = '\0';
		return 1;
	}
	if (cp < 0x10000)
		return (size_t)sprintf(buf, "\\u%04lx", cp);
	cp -= 0x10000; /* UTF-16 surrogate pair */
	return (size_t)sprintf(buf, "\\u%04lx\\u%04lx", 0xd800 + (cp >> 10), 0xdc00 + (cp & 0x3ff));
}

/* Checks that p is UTF-8; on failure *bad is the offset of the bad byte. */
static bool utf8_valid(const uint8_t *p, size_t n, size_t *bad)
{
	for (size_t i = 0; i < n;) {
		*bad = i;
		if (utf8_next(p, n, &i) < 0)
			return false;
	}
	return true;
}

/* The text as "..." literals of at most chunk escaped bytes joined with " +",
 * split after a newline where possible.  The text is valid UTF-8. */
static int emit_string(struct m2w_out *o, const uint8_t *p, size_t n, size_t chunk,
	struct m2w_diag *d)
{
	size_t i = 0, cur = 0, line_end;
	char e[16];
	int r = m2w_out_printf(o, d, "\n  \"");

	while (i < n && r == 0) {
		size_t line_len = 0, j = i;
		/* escaped length of the line starting at i */
		for (line_end = i; line_end < n;) {
			long cp = utf8_next(p, n, &line_end);
			line_len += escape_cp(cp, e);
			if (cp == '\n')
				break;
		}
		if (cur && cur + line_len > chunk) {
			r = m2w_out_printf(o, d, "\" +\n  \"");
			cur = 0;
		}
		while (j < line_end && r == 0) {
			size_t k = escape_cp(utf8_next(p, n, &j), e);
			if (cur + k > chunk) {
				r = m2w_out_printf(o, d, "\" +\n  \"");
				cur = 0;
			}
			if (r == 0)
				r = m2w_out_write(o, e, k, d);
			cur += k;
		}
		i = line_end;
	}
	return r == 0 ? m2w_out_printf(o, d, "\"") : -1;
}

/* A JS string literal of a short ASCII-or-UTF-8 value. */
static int emit_jsstr(struct m2w_out *o, const char *s, struct m2w_diag *d)
{
	const uint8_t *p = (const uint8_t *)s;
	size_t n = strlen(s), i = 0;
	char e[16];
	int r = m2w_out_write(o, "\"", 1, d);

	while (i < n && r == 0) {
		long cp = utf8_next(p, n, &i);
		if (cp < 0) {
			cp = 0xfffd;
			i++;
		}
		r = m2w_out_write(o, e, escape_cp(cp, e), d);
	}
	return r == 0 ? m2w_out_write(o, "\"", 1, d) : -1;
}

static bool js_ident(const char *s)
{
	if (!*s || (*s >= '0' && *s <= '9'))
		return false;
	for (; *s; s++)
		if (!(*s == '_' || *s == '$' || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9')))
			return false;
	return true;
}

static int emit_key(struct m2w_out *o, const char *s, struct m2w_diag *d)
{
	if (js_ident(s))
		return m2w_out_printf(o, d, "%s", s);
	return emit_jsstr(o, s, d);
}

static int cmp_binding(const void *a, const void *b)
{
	const struct m2w_wgsl_binding *x = a, *y = b;
	if (x->group != y->group)
		return x->group < y->group ? -1 : 1;
	return x->binding < y->binding ? -1 : x->binding > y->binding;
}

static const char *doc_text(const struct m2w_wgsl_shader *w, const struct m2w_wgsl_binding *b)
{
	for (size_t i = 0; i < w->ndocs; i++)
		if (w->docs[i].group == b->group && w->docs[i].binding == b->binding)
			return w->docs[i].text;
	return "";
}

static int emit_info(struct m2w_out *o, struct shader *s, struct m2w_diag *d)
{
	struct m2w_wgsl_shader *w = &s->w;
	const struct m2w_wgsl_entry *e0 = &w->entries[0];
	int r = m2w_out_printf(o, d, "export const %sInfo = {\n  bindings: [\n", s->name);

	qsort(w->bindings, w->nbindings, sizeof *w->bindings, cmp_binding);
	for (size_t i = 0; i < w->nbindings && r == 0; i++) {
		const struct m2w_wgsl_binding *b = &w->bindings[i];
		r |= m2w_out_printf(o, d, "    { group: %u, binding: %u, name: ", b->group, b->binding);
		r |= emit_jsstr(o, b->name, d);
		r |= m2w_out_printf(o, d, ", space: ");
		r |= emit_jsstr(o, b->space, d);
		r |= m2w_out_printf(o, d, ", access: ");
		r |= b->access ? emit_jsstr(o, b->access, d) : m2w_out_printf(o, d, "null");
		r |= m2w_out_printf(o, d, ", type: ");
		r |= emit_jsstr(o, b->type, d);
		r |= m2w_out_printf(o, d, ", elem: ");
		r |= emit_jsstr(o, b->elem, d);
		r |= m2w_out_printf(o, d, ",\n      doc: ");
		r |= emit_jsstr(o, doc_text(w, b), d);
		r |= m2w_out_printf(o, d, " },\n");
	}
	r |= m2w_out_printf(o, d, "  ],\n");
	if (!w->has_params) {
		r |= m2w_out_printf(o, d, "  params: null,\n");
	} else {
		r |= m2w_out_printf(o, d, "  params: { size: %u, fields: {\n", w->params_size);
		for (size_t i = 0; i < w->nfields && r == 0; i++) {
			r |= m2w_out_printf(o, d, "    ");
			r |= emit_key(o, w->fields[i].name, d);
			r |= m2w_out_printf(o, d, ": { offset: %u, size: %u, type: ", w->fields[i].offset,
				w->fields[i].size);
			r |= emit_jsstr(o, w->fields[i].type, d);
			r |= m2w_out_printf(o, d, " },\n");
		}
		r |= m2w_out_printf(o, d, "  } },\n");
	}
	r |= m2w_out_printf(o, d, "  workgroupSize: [%u, %u, %u],\n  entryPoints: {", e0->wg[0],
		e0->wg[1], e0->wg[2]);
	for (size_t i = 0; i < w->nentries && r == 0; i++) {
		r |= m2w_out_printf(o, d, " ");
		r |= emit_key(o, w->entries[i].name, d);
		r |= m2w_out_printf(o, d, ": [%u, %u, %u],", w->entries[i].wg[0], w->entries[i].wg[1],
			w->entries[i].wg[2]);
	}
	r |= m2w_out_printf(o, d, " },\n};\n");
	return r ? -1 : 0;
}

static int emit_shader(struct m2w_out *o, struct shader *s, bool f16, size_t chunk,
	struct m2w_diag *d)
{
	static const char enable[] = "enable f16;\n";
	int r = m2w_out_printf(o, d, "\nexport const %s =", s->name);

	r |= emit_string(o, s->f.data, s->f.size, chunk, d);
	r |= m2w_out_printf(o, d, ";\n\n");
	if (f16 && r == 0) {
		/* enable f16; + the source with "alias real = f32" turned to f16 */
		size_t n = sizeof enable - 1 + s->f.size, k = sizeof enable - 1;
		uint8_t *v = malloc(n);
		if (!v)
			return m2w_err(d, M2W_NO_OFFSET, "out of memory");
		memcpy(v, enable, k);
		memcpy(v + k, s->f.data, s->f.size);
		memcpy(v + k + s->w.real_off, "f16", 3);
		r |= m2w_out_printf(o, d, "export const %sF16 =", s->name);
		r |= emit_string(o, v, n, chunk, d);
		r |= m2w_out_printf(o, d, ";\n\n");
		free(v);
	}
	if (r == 0)
		r = emit_info(o, s, d);
	return r ? -1 : 0;
}

/* rms_norm.wgsl, rms-norm.wgsl -> rmsNorm */
static char *export_name(const char *base)
{
	size_t n = strlen(base), k = 0;
	const char *dot = strrchr(base, '.');
	char *r;
	bool up = false;

	if (dot && dot != base)
		n = (size_t)(dot - base);
	r = malloc(n + 1);
	if (!r)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		char c = base[i];
		if (c == '_' || c == '-') {
			up = k > 0;
			continue;
		}
		if (up && c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		up = false;
		r[k++] = c;
	}
	r[k] = '\0';
	return r;
}

static int cmp_shader(const void *a, const void *b)
{
	return strcmp(((const struct shader *)a)->name, ((const struct shader *)b)->name);
}

/* NAME, NAMEInfo, NAMEF16 of all shaders must be distinct. */
static int check_names(struct shader *sh, size_t n)
{
	static const char *const sfx[] = {"", "Info", "F16"};
	char a[512], b[512];

	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++)
			for (size_t x = 0; x < 3; x++)
				for (size_t y = 0; y < 3; y++) {
					if (i == j && x == y)
						continue;
					snprintf(a, sizeof a, "%s%s", sh[i].name, sfx[x]);
					snprintf(b, sizeof b, "%s%s", sh[j].name, sfx[y]);
					if (!strcmp(a, b) && i != j) {
						fprintf(stderr, "%s: %s: error: export '%s' clashes with one from %s\n",
							prog, sh[i].path, a, sh[j].path);
						return 1;
					}
				}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"output", required_argument, NULL, 'o'},
		{"f16", no_argument, NULL, 'f'},
		{"depfile", required_argument, NULL, 'd'},
		{"chunk", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{"version", no_argument, NULL, 'V'},
		{0},
	};
	const char *output = NULL, *depfile = NULL;
	bool f16 = false;
	unsigned long chunk = DEFAULT_CHUNK;
	struct shader *sh;
	struct m2w_diag d;
	struct m2w_out o;
	size_t n;
	int c, rc = 0;

	while ((c = getopt_long(argc, argv, "o:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'o': output = optarg; break;
		case 'f': f16 = true; break;
		case 'd': depfile = optarg; break;
		case 'c': {
			char *end;
			chunk = strtoul(optarg, &end, 10);
			if (*end || chunk < 64 || chunk > (1ul << 30)) {
				fprintf(stderr, "%s: --chunk %s: expected 64..%lu\n", prog, optarg, 1ul << 30);
				return 2;
			}
			break;
		}
		case 'h': usage(stdout); return 0;
		case 'V': printf("%s %s\n", prog, M2W_VERSION); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!output || optind >= argc) {
		fprintf(stderr, "%s: %s\n", prog, output ? "no input files" : "missing -o OUTPUT");
		usage(stderr);
		return 2;
	}
	n = (size_t)(argc - optind);
	sh = calloc(n, sizeof *sh);
	if (!sh) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return 1;
	}
	for (size_t i = 0; i < n && !rc; i++) {
		struct shader *s = &sh[i];
		size_t bad;
		s->path = argv[optind + i];
		s->base = strrchr(s->path, '/') ? strrchr(s->path, '/') + 1 : s->path;
		m2w_diag_init(&d, s->path);
		s->name = export_name(s->base);
		if (!s->name || !js_ident(s->name)) {
			fprintf(stderr, "%s: %s: error: '%s' does not make a JavaScript identifier\n", prog,
				s->path, s->name ? s->name : "");
			rc = 1;
		} else if (m2w_file_map(&s->f, s->path, &d) < 0) {
			rc = fail_at(s, &d);
		} else if (!utf8_valid(s->f.data, s->f.size, &bad)) {
			m2w_err(&d, bad, "not UTF-8");
			rc = fail_at(s, &d);
		} else if (m2w_wgsl_parse((const char *)s->f.data, s->f.size, &s->w, &d) < 0) {
			rc = fail_at(s, &d);
		} else if (f16 && !s->w.has_real) {
			m2w_err(&d, 0, "--f16 needs the declaration `alias real = f32;`");
			rc = fail_at(s, &d);
		}
	}
	if (!rc)
		rc = check_names(sh, n);
	if (!rc) {
		qsort(sh, n, sizeof *sh, cmp_shader);
		m2w_diag_init(&d, output);
		rc = m2w_out_open(&o, output, &d) < 0;
		if (!rc) {
			int r = m2w_out_printf(&o, &d, "// Generated by %s %s; do not edit.\n", prog,
				M2W_VERSION);
			r |= m2w_out_printf(&o, &d,
				"// An ES module that is valid TypeScript and JavaScript.  Per shader:\n"
				"//   NAME      WGSL source;  NAMEF16  the f16 variant (with --f16)\n"
				"//   NAMEInfo  bindings (sorted), Params fields with byte offsets under\n"
				"//             WGSL's uniform layout, workgroupSize of the first entry point\n"
				"// Sources:");
			for (size_t i = 0; i < n; i++)
				r |= m2w_out_printf(&o, &d, " %s", sh[i].base);
			r |= m2w_out_printf(&o, &d, "\n");
			for (size_t i = 0; i < n && r == 0; i++)
				r = emit_shader(&o, &sh[i], f16, chunk, &d);
			if (r) {
				m2w_out_abort(&o);
				rc = 1;
			} else {
				rc = m2w_out_commit(&o, NULL, &d) < 0;
			}
		}
		if (rc) {
			char buf[768];
			m2w_diag_format(&d, buf, sizeof buf);
			fprintf(stderr, "%s: %s\n", prog, buf);
		}
	}
	if (!rc && depfile) {
		const char **deps = malloc(n * sizeof *deps);
		m2w_diag_init(&d, depfile);
		for (size_t i = 0; deps && i < n; i++)
			deps[i] = sh[i].path;
		if (!deps || m2w_depfile_write(depfile, output, deps, n, &d) < 0) {
			fprintf(stderr, "%s: %s: error: %s\n", prog, depfile, deps ? d.msg : "out of memory");
			rc = 1;
		}
		free(deps);
	}
	for (size_t i = 0; i < n; i++) {
		m2w_wgsl_free(&sh[i].w);
		m2w_file_unmap(&sh[i].f);
		free(sh[i].name);
	}
	free(sh);
	return rc;
}
