/* dtype: the element types shared by every format, named as DESIGN.md says. */
#include "m2w.h"

static const struct {
	const char *name;
	size_t size;
} dtypes[M2W_DT__COUNT] = {
	[M2W_DT_UNKNOWN] = {"unknown", 0}, [M2W_DT_F32] = {"f32", 4},
	[M2W_DT_F16] = {"f16", 2},         [M2W_DT_BF16] = {"bf16", 2},
	[M2W_DT_F64] = {"f64", 8},         [M2W_DT_I8] = {"i8", 1},
	[M2W_DT_U8] = {"u8", 1},           [M2W_DT_I16] = {"i16", 2},
	[M2W_DT_U16] = {"u16", 2},         [M2W_DT_I32] = {"i32", 4},
	[M2W_DT_U32] = {"u32", 4},         [M2W_DT_I64] = {"i64", 8},
	[M2W_DT_U64] = {"u64", 8},         [M2W_DT_BOOL] = {"bool", 1},
	[M2W_DT_STRING] = {"string", 0},   [M2W_DT_C64] = {"c64", 8},
	[M2W_DT_C128] = {"c128", 16},      [M2W_DT_I4] = {"i4", 1},
	[M2W_DT_U4] = {"u4", 1},
};

const char *m2w_dtype_name(enum m2w_dtype t)
{
	return (unsigned)t < M2W_DT__COUNT ? dtypes[t].name : "unknown";
}

size_t m2w_dtype_size(enum m2w_dtype t)
{
	return (unsigned)t < M2W_DT__COUNT ? dtypes[t].size : 0;
}
