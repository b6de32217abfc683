/* detect: a model's format from its bytes, never from its name.
 *
 *   GGUF     "GGUF" at offset 0
 *   TFLite   a flatbuffer whose file identifier (bytes 4..7) is "TFL3"
 *   zip      "PK\3\4" (or an empty archive's "PK\5\6"): a MediaPipe .task
 *   npy      "\x93NUMPY"
 *   ONNX     a protobuf ModelProto: the top-level fields are walked (tag,
 *            wire type, length) and must all be well formed; a `graph`
 *            field (7, length-delimited) or opset_import (8) makes it a
 *            model, `data_type` (2, varint) or `raw_data` (9) without
 *            them a bare TensorProto (ONNX test data).
 */
#include <string.h>

#include "describe.h"

static bool varint(const uint8_t *p, size_t n, size_t *off, uint64_t *v)
{
	*v = 0;
	for (int shift = 0; shift < 64; shift += 7) {
		if (*off >= n)
			return false;
		uint8_t b = p[(*off)++];
		*v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return true;
	}
	return false;
}

static enum m2w_format detect_protobuf(const uint8_t *p, size_t n)
{
	size_t off = 0;
	bool model = false, tensor = false;
	int fields = 0;

	while (off < n && fields < 4096) {
		uint64_t tag, v;
		if (!varint(p, n, &off, &tag) || tag >> 3 == 0 || tag >> 3 > 536870911)
			goto bad;
		switch (tag & 7) {
		case 0:
			if (!varint(p, n, &off, &v))
				goto bad;
			break;
		case 1:
			if (n - off < 8)
				goto bad;
			off += 8;
			break;
		case 2:
			if (!varint(p, n, &off, &v) || v > n - off)
				goto bad;
			off += (size_t)v;
			break;
		case 5:
			if (n - off < 4)
				goto bad;
			off += 4;
			break;
		default:
			goto bad;
		}
		uint64_t field = tag >> 3;
		/* TensorProto has data_type (2, varint) and fields 9-13, which
		 * ModelProto lacks; its name (8) and packed int64_data (7) look
		 * like a model's opset_import and graph */
		if ((field == 2 && (tag & 7) == 0) || (field >= 9 && field <= 13))
			tensor = true;
		else if ((field == 7 || field == 8) && (tag & 7) == 2)
			model = true;
		fields++;
	}
	if (tensor)
		return M2W_FMT_TENSORPB;
	if (model)
		return M2W_FMT_ONNX;
	goto bad;
bad:
	/* a damaged model (ir_version first, as every writer emits it) still
	 * gets the ONNX parser's precise error rather than "unknown format" */
	return n && p[0] == 0x08 && !tensor ? M2W_FMT_ONNX : M2W_FMT_UNKNOWN;
}

enum m2w_format m2w_detect_format(const uint8_t *p, size_t n)
{
	if (n >= 4 && !memcmp(p, "GGUF", 4))
		return M2W_FMT_GGUF;
	if (n >= 8 && !memcmp(p + 4, "TFL3", 4))
		return M2W_FMT_TFLITE;
	if (n >= 4 && (!memcmp(p, "PK\3\4", 4) || !memcmp(p, "PK\5\6", 4)))
		return M2W_FMT_TASK;
	if (n >= 6 && !memcmp(p, "\x93NUMPY", 6))
		return M2W_FMT_NPY;
	return detect_protobuf(p, n);
}

const char *m2w_format_name(enum m2w_format f)
{
	switch (f) {
	case M2W_FMT_ONNX: return "onnx";
	case M2W_FMT_GGUF: return "gguf";
	case M2W_FMT_TFLITE: return "tflite";
	case M2W_FMT_TASK: return "task";
	case M2W_FMT_NPY: return "npy";
	case M2W_FMT_TENSORPB: return "onnx-tensor";
	default: return "unknown";
	}
}
