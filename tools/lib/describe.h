/* describe: every format reader turns a mapped model into the one JSON
 * object `m2w-inspect --json` prints (the stable format in DESIGN.md).
 *
 * Besides the stable keys, a description may carry private keys whose names
 * start with '_'.  `--json` strips them; the summary and `--markdown`
 * renderers (inspect_render.c) use them:
 *
 *   "_nodes":   main graph's nodes in execution order,
 *               [{"op","name","domain","inputs":[..],"outputs":[..]}]
 *   "_nonstandard": ["why", ...]   custom domains / custom ops / odd ops
 *   "_notes":   ["...", ...]       free-form facts worth a line in the doc
 *   "_tokenizer": {"model","vocab","special":{name:id},"chat_template":bool}
 *   tensors[i]."_xxh3": hex hash of the tensor's bytes (only when
 *               opts->hash_tensors; used to find tied weights)
 *   tensors[i]."_offset": byte offset of its data in the file
 */
#ifndef M2W_DESCRIBE_H
#define M2W_DESCRIBE_H

#include "m2w.h"

typedef struct cJSON cJSON;

enum m2w_format {
	M2W_FMT_UNKNOWN = 0,
	M2W_FMT_ONNX,
	M2W_FMT_GGUF,
	M2W_FMT_TFLITE,
	M2W_FMT_TASK, /* zip bundle (MediaPipe .task) */
	M2W_FMT_NPY,
	M2W_FMT_TENSORPB, /* a bare ONNX TensorProto (test data .pb) */
};

struct m2w_describe_opts {
	bool hash_tensors; /* read every tensor's bytes (for tied weights) */
};

/* From the first bytes and the size; never from the file name, except that
 * a bare TensorProto can only be told from an ONNX model by `hint_pb`. */
enum m2w_format m2w_detect_format(const uint8_t *p, size_t n);
const char *m2w_format_name(enum m2w_format f);

/* Each returns 0 and sets *out, or -1 with d filled and *out NULL.
 * `dir` is the model's folder (ONNX external data); may be NULL. */
int m2w_describe_onnx(const uint8_t *p, size_t n, const char *dir,
	const struct m2w_describe_opts *o, cJSON **out, struct m2w_diag *d);
int m2w_describe_tensorpb(const uint8_t *p, size_t n,
	const struct m2w_describe_opts *o, cJSON **out, struct m2w_diag *d);
int m2w_describe_gguf(const uint8_t *p, size_t n,
	const struct m2w_describe_opts *o, cJSON **out, struct m2w_diag *d);
int m2w_describe_tflite(const uint8_t *p, size_t n,
	const struct m2w_describe_opts *o, cJSON **out, struct m2w_diag *d);
/* .task: {"format":"task","bytes","members":[{name,bytes,method,format}],
 * "models":[<tflite description>, ...]} plus, for a bundle holding one
 * .tflite, that model's stable keys merged at top level. */
int m2w_describe_task(const uint8_t *p, size_t n,
	const struct m2w_describe_opts *o, cJSON **out, struct m2w_diag *d);

/* --expose-intermediates: writes a copy of the model with every node output
 * of the main graph appended to the graph outputs. */
int m2w_expose_onnx(const uint8_t *p, size_t n, const char *out_path,
	struct m2w_diag *d);
int m2w_expose_tflite(const uint8_t *p, size_t n, const char *out_path,
	struct m2w_diag *d);

#endif
