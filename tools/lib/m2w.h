/* libm2w: the static library every m2w tool is built on.
 *
 * Contract (see DESIGN.md): the library never exits and never writes to
 * stdout.  Every fallible function takes a struct m2w_diag *, fills it on
 * failure and returns -1 (or NULL / false); the caller frees what it built.
 * Only the tools print diagnostics and choose exit codes.
 */
#ifndef M2W_H
#define M2W_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define M2W_VERSION "0.1.0"

/* Named limits: override at build time with -DM2W_MAX_DIMS=... */
#ifndef M2W_MAX_DIMS
#define M2W_MAX_DIMS 8 /* TFLite and ggml use at most 8 / 4 dims */
#endif
#ifndef M2W_MAX_NESTING
#define M2W_MAX_NESTING 64 /* subgraphs, protobuf messages, GGUF arrays */
#endif
#ifndef M2W_MAX_NAME
#define M2W_MAX_NAME (1u << 20) /* longest string we accept from a file */
#endif

/* ---- diag: an error with the byte offset where the input went wrong ---- */

#define M2W_NO_OFFSET UINT64_MAX

struct m2w_diag {
	const char *file; /* borrowed; set by the tool before parsing */
	uint64_t off;     /* M2W_NO_OFFSET when the error has no location */
	char msg[512];
};

void m2w_diag_init(struct m2w_diag *d, const char *file);
/* Records the error; returns -1 so parsers can `return m2w_err(...)`. */
int m2w_err(struct m2w_diag *d, uint64_t off, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* "file:0xOFF: error: msg" (or "file: error: msg") into buf. */
void m2w_diag_format(const struct m2w_diag *d, char *buf, size_t n);
/* The byte offset in a JSON text (one cJSON has accepted) of the value at
 * PATH, '/'-separated object keys and array indices ("tensors/3/offset");
 * where a component is missing, the offset of the deepest value found (so
 * an error about a missing key points at its object). */
uint64_t m2w_json_pos(const void *text, size_t len, const char *path);

/* ---- cursor: bounded little-endian reads over a byte range ---- */

struct m2w_cursor {
	const uint8_t *base; /* start of the whole file, so offsets are absolute */
	size_t len;          /* end of the readable range, from base */
	size_t off;
};

static inline bool m2w_cur_can(const struct m2w_cursor *c, size_t n)
{
	return c->off <= c->len && n <= c->len - c->off;
}
bool m2w_cur_u8(struct m2w_cursor *c, uint8_t *v);
bool m2w_cur_u16(struct m2w_cursor *c, uint16_t *v);
bool m2w_cur_u32(struct m2w_cursor *c, uint32_t *v);
bool m2w_cur_u64(struct m2w_cursor *c, uint64_t *v);
bool m2w_cur_skip(struct m2w_cursor *c, size_t n);
/* Points *p at the next n bytes and advances. */
bool m2w_cur_bytes(struct m2w_cursor *c, size_t n, const uint8_t **p);
/* Unaligned little-endian loads from a pointer the caller bounds-checked. */
uint16_t m2w_le16(const uint8_t *p);
uint32_t m2w_le32(const uint8_t *p);
uint64_t m2w_le64(const uint8_t *p);

/* Overflow-checked arithmetic: false on overflow. */
bool m2w_mul_u64(uint64_t a, uint64_t b, uint64_t *r);
bool m2w_add_u64(uint64_t a, uint64_t b, uint64_t *r);

/* ---- io: mapped input, atomic write-if-changed output, depfiles ---- */

struct m2w_file {
	char *path;
	const uint8_t *data; /* read-only mapping (or NULL for an empty file) */
	size_t size;
};

int m2w_file_map(struct m2w_file *f, const char *path, struct m2w_diag *d);
void m2w_file_unmap(struct m2w_file *f);

/* Streaming output: bytes go to PATH.tmp.PID; commit() compares the xxHash3
 * of the new bytes with the existing file's and renames only when they
 * differ, so an unchanged output keeps its mtime (Meson's restat prunes). */
struct m2w_out {
	char *path;
	char *tmp;
	int fd;
	void *hash_state; /* XXH3_state_t */
	uint64_t bytes;
	bool failed;
	char *buf; /* write buffer */
	size_t buf_len;
};

int m2w_out_open(struct m2w_out *o, const char *path, struct m2w_diag *d);
int m2w_out_write(struct m2w_out *o, const void *p, size_t n, struct m2w_diag *d);
int m2w_out_printf(struct m2w_out *o, struct m2w_diag *d, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* *changed (may be NULL) tells whether the file on disk was replaced. */
int m2w_out_commit(struct m2w_out *o, bool *changed, struct m2w_diag *d);
void m2w_out_abort(struct m2w_out *o);
/* Whole buffer in one go. */
int m2w_write_if_changed(const char *path, const void *p, size_t n, bool *changed,
	struct m2w_diag *d);
/* Make syntax, gcc escaping: "target: dep1 dep2\n". */
int m2w_depfile_write(const char *path, const char *target, const char *const *deps,
	size_t ndeps, struct m2w_diag *d);
/* Escapes one path the way gcc -MD does (space, #, $, \ before space). */
char *m2w_depfile_escape(const char *path);

/* ---- hash ---- */

uint64_t m2w_xxh3(const void *p, size_t n);
/* 16 lowercase hex digits + NUL (xxHash canonical, big-endian). */
void m2w_xxh3_hex(uint64_t h, char out[17]);

/* ---- half: f16 / bf16 <-> f32, round to nearest even, inf/nan kept ---- */

float m2w_f16_to_f32(uint16_t h);
uint16_t m2w_f32_to_f16(float f);
float m2w_bf16_to_f32(uint16_t h);
uint16_t m2w_f32_to_bf16(float f);

/* ---- dtypes shared by every format (names as in DESIGN.md) ---- */

enum m2w_dtype {
	M2W_DT_UNKNOWN = 0,
	M2W_DT_F32, M2W_DT_F16, M2W_DT_BF16, M2W_DT_F64,
	M2W_DT_I8, M2W_DT_U8, M2W_DT_I16, M2W_DT_U16,
	M2W_DT_I32, M2W_DT_U32, M2W_DT_I64, M2W_DT_U64,
	M2W_DT_BOOL, M2W_DT_STRING,
	M2W_DT_C64, M2W_DT_C128, M2W_DT_I4, M2W_DT_U4,
	M2W_DT__COUNT
};
const char *m2w_dtype_name(enum m2w_dtype t);
/* Bytes per element; 0 for string/unknown, 1 for the 4-bit types' container. */
size_t m2w_dtype_size(enum m2w_dtype t);

/* ---- npy: NumPy .npy v1/v2/v3, C order ---- */

struct m2w_npy {
	enum m2w_dtype dtype;
	int ndim;
	uint64_t shape[M2W_MAX_DIMS];
	uint64_t count;      /* product of shape */
	const uint8_t *data; /* little-endian elements, count * dtype size */
	size_t data_off;     /* file offset of data */
};

/* Parses a mapped .npy file; data points into buf. */
int m2w_npy_parse(const uint8_t *buf, size_t len, struct m2w_npy *n, struct m2w_diag *d);
int m2w_npy_write(const char *path, enum m2w_dtype t, const uint64_t *shape, int ndim,
	const void *data, bool *changed, struct m2w_diag *d);

#endif
