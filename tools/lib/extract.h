/* extract: every weight of an ONNX, TFLite or GGUF model into one blob of
 * f32 (or f16) plus the weights.json manifest of DESIGN.md; a bare ONNX
 * TensorProto (.pb test data) into a .npy.
 *
 * Streamed: tensors are converted one at a time, in chunks, through reused
 * buffers, straight into the atomic write-if-changed output; the mapped
 * source's pages are handed back as soon as they are converted.  Only a
 * tensor whose layout changes (TFLite conv filters) is held whole.
 *
 * The library never prints: warnings (f16 overflow, a quantized weight
 * whose scale could not be found) go to opts->warn.
 */
#ifndef M2W_EXTRACT_H
#define M2W_EXTRACT_H

#include "m2w.h"

typedef struct cJSON cJSON;

enum m2w_extract_dtype {
	M2W_EXTRACT_F32,  /* every floating or dequantized tensor as f32 */
	M2W_EXTRACT_F16,  /* ... as f16, round to nearest even */
	M2W_EXTRACT_KEEP, /* f32/f16/f64 kept, others as f32 (the .pb default) */
};

struct m2w_extract_opts {
	enum m2w_extract_dtype dtype;
	bool layout_source;        /* --layout source: no NCHW transposition */
	const char *const *only;   /* glob patterns (fnmatch); none = all */
	size_t nonly;
	const cJSON *names;        /* {"old": "new"}, or NULL */
	const char *names_path;    /* for messages about the map */
	const char *names_text;    /* the map's JSON text (offsets in messages), */
	size_t names_len;          /* or NULL */
	const char *manifest;      /* manifest path; NULL = beside the blob */
	void (*warn)(void *ctx, const char *msg);
	void *warn_ctx;
};

struct m2w_extract_result {
	char **deps;      /* files read besides the model (ONNX external data) */
	size_t ndeps;
	size_t ntensors;  /* in the manifest */
	size_t nskipped;  /* not extractable (strings, sparse ...), listed in it */
	uint64_t bytes;   /* blob size */
	bool changed;     /* the blob was rewritten */
};

/* The manifest path for a blob path: its extension replaced by ".json"
 * (weights.bin -> weights.json), or ".json" appended. malloc'd. */
char *m2w_extract_manifest_path(const char *blob);

/* MODEL (format from its bytes) -> blob at OUT + manifest.  A bare
 * TensorProto .pb is refused here: use m2w_extract_tensorpb. */
int m2w_extract_model(const char *model, const char *out,
	const struct m2w_extract_opts *o, struct m2w_extract_result *r,
	struct m2w_diag *d);

/* A bare ONNX TensorProto (.pb) -> .npy at OUT. */
int m2w_extract_tensorpb(const char *pb, const char *out,
	const struct m2w_extract_opts *o, struct m2w_extract_result *r,
	struct m2w_diag *d);

/* Re-reads MODEL and the blob + manifest written for it and compares every
 * element with an independent scalar reference (double precision, index
 * arithmetic from the manifest's shapes and permutations).  Differences
 * beyond the conversion's own rounding are errors; *ndiff counts them. */
int m2w_extract_verify(const char *model, const char *out,
	const struct m2w_extract_opts *o, uint64_t *ndiff, struct m2w_diag *d);

void m2w_extract_result_free(struct m2w_extract_result *r);

#endif
