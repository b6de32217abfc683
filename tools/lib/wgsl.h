/* wgsl: the declarations m2w-shadergen needs from a WGSL compute shader.
 *
 * Not a WGSL compiler: it reads module-scope declarations only (resource
 * variables with their @group/@binding, structs, aliases, const/override
 * integers, entry points with @workgroup_size) and the header comment
 * entries "// @group(G) @binding(B) NAME: ...", checks that header and
 * declarations agree, and lays out the uniform Params struct by WGSL's
 * alignment and size rules.  Function bodies are skipped by brace matching.
 * Locations are byte offsets into the source; m2w_wgsl_linecol turns one
 * into the 1-based line and column (in code points) a tool prints.
 */
#ifndef M2W_WGSL_H
#define M2W_WGSL_H

#include "m2w.h"

#ifndef M2W_WGSL_MAX_BINDING
#define M2W_WGSL_MAX_BINDING 65535u /* group and binding indices */
#endif
#ifndef M2W_WGSL_MAX_WORKGROUP
#define M2W_WGSL_MAX_WORKGROUP 65535u /* one @workgroup_size dimension */
#endif

struct m2w_wgsl_binding {
	uint32_t group, binding;
	char *name;
	char *space;  /* "storage", "uniform", "handle" (textures, samplers) */
	char *access; /* "read", "read_write"; NULL outside storage */
	char *type;   /* normalised type text, e.g. "array<real>" */
	char *elem;   /* array element type, else the type itself */
	uint64_t off; /* the @group attribute */
};

/* One "@group(G) @binding(B) NAME: TEXT" line of the header comment. */
struct m2w_wgsl_doc {
	uint32_t group, binding;
	char *name;
	char *text; /* what follows the colon, trimmed */
	uint64_t off;
};

struct m2w_wgsl_entry {
	char *name;
	uint32_t wg[3];
	uint64_t off;
};

struct m2w_wgsl_field {
	char *name;
	char *type;
	uint32_t offset, size, align;
};

struct m2w_wgsl_shader {
	struct m2w_wgsl_binding *bindings; /* in source order */
	size_t nbindings;
	struct m2w_wgsl_doc *docs;
	size_t ndocs;
	struct m2w_wgsl_entry *entries; /* @compute functions, source order */
	size_t nentries;
	/* The var<uniform> whose type is struct Params, laid out. */
	bool has_params;
	uint32_t params_size, params_align;
	struct m2w_wgsl_field *fields;
	size_t nfields;
	/* "alias real = f32;": the span of "f32", for the f16 variant. */
	bool has_real;
	uint64_t real_off, real_len;
};

/* Parses and checks src (len bytes, need not be NUL-terminated).  On error
 * d->off is the byte offset of the offending token and *s is left empty. */
int m2w_wgsl_parse(const char *src, size_t len, struct m2w_wgsl_shader *s,
	struct m2w_diag *d);
void m2w_wgsl_free(struct m2w_wgsl_shader *s);
/* 1-based line and column (code points) of byte offset off. */
void m2w_wgsl_linecol(const char *src, size_t len, uint64_t off, unsigned *line,
	unsigned *col);

#endif
