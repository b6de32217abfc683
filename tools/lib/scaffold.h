/* scaffold: a model-specific TypeScript engine draft from an ONNX graph
 * (or a TFLite one, lowered to the same structs by scaffold_tflite.c).
 *
 * m2w_scaffold_onnx() reads the main graph (nodes in file order, which ONNX
 * requires to be topological), binds symbolic dims from the caller, infers
 * every tensor's static shape, maps each node to library shaders
 * (the shaders folder) or to a stub that throws, fuses Conv + Relu / Clip(0, 6)
 * and MatMul + Add + Gelu where the library has the fused shader, assigns
 * work buffers by lifetime (two tensors share a buffer when their
 * [producer, last use] intervals are disjoint), and prints three texts:
 * engine.ts, types.ts and report.json.  Deterministic: the same model and
 * options give the same bytes.
 */
#ifndef M2W_SCAFFOLD_H
#define M2W_SCAFFOLD_H

#include "m2w.h"

/* A graph input whose value is fixed at scaffold time (shape tensors, pads,
 * k of TopK, Gather indices): a bare ONNX TensorProto (.pb) in memory. */
struct m2w_scaffold_const {
	const char *name;
	const uint8_t *pb;
	size_t len;
	const char *file; /* for messages */
};

struct m2w_scaffold_opts {
	const char *model_name; /* file name shown in comments (no directory) */
	size_t ndims;
	const char *const *dim_names;
	const int64_t *dim_values;
	size_t nconsts;
	const struct m2w_scaffold_const *consts;
	unsigned flush; /* Batcher flushEvery; 0: the runtime default (64) */
	/* Set by a front end that lowers another format to an ONNX-shaped graph
	 * (m2w_scaffold_tflite): the format named in comments and report.json
	 * (NULL: "onnx"), a note for engine.ts's header (NULL: none), and the
	 * tensors it introduced (layout transposes) that get no checkpoint. */
	const char *format;
	const char *note;
	size_t nhidden;
	const char *const *hidden;
};

struct m2w_scaffold_result {
	char *engine_ts, *types_ts, *report_json; /* malloc'd, NUL-terminated */
};

int m2w_scaffold_onnx(const uint8_t *p, size_t n, const char *dir,
	const struct m2w_scaffold_opts *o, struct m2w_scaffold_result *r,
	struct m2w_diag *d);
void m2w_scaffold_result_free(struct m2w_scaffold_result *r);

/* The shared core behind m2w_scaffold_onnx: scaffolds an ONNX-shaped model
 * tree, parsed or built in memory by a front end (initializers with RAW
 * data; the tree must outlive the call). */
struct m2w_onnx_model;
int m2w_scaffold_graph(const struct m2w_onnx_model *m, const struct m2w_scaffold_opts *o,
	struct m2w_scaffold_result *r, struct m2w_diag *d);

/* TFLite (scaffold_tflite.c): the main subgraph lowered to an ONNX-shaped
 * graph in NCHW (see there), then m2w_scaffold_graph(). */
int m2w_scaffold_tflite(const uint8_t *p, size_t n, const struct m2w_scaffold_opts *o,
	struct m2w_scaffold_result *r, struct m2w_diag *d);

#endif
