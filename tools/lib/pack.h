/* pack: GPU-ready layouts and per-layer shards (m2w-pack).
 *
 * m2w_pack() reads a GGUF (or an m2w-extract weights.json and its blob),
 * plans one shard per layer plus one for everything else, and streams every
 * tensor, converted, into DIR/<shard>.bin; then it writes DIR/shards.json
 * and, for a GGUF with a vocabulary, DIR/tokenizer.json.  Every file is
 * written atomically and only when its bytes change.  The layouts are
 * specified in m2w-pack.c's header comment and in shards.json itself.
 *
 * m2w_pack_unpack() reads one tensor back from a packed DIR as f32.
 */
#ifndef M2W_PACK_H
#define M2W_PACK_H

#include "m2w.h"

/* WebGPU: minStorageBufferOffsetAlignment is at most 256 on every adapter,
 * and the default maxStorageBufferBindingSize is 128 MiB. */
#define M2W_PACK_ALIGN 256u
#define M2W_PACK_DEFAULT_MAX_BINDING (128u << 20)

enum m2w_pack_float {
	M2W_PACK_KEEP, /* f32 and f16 kept; bf16 and f64 to f32 */
	M2W_PACK_F32,  /* every float tensor as f32 */
	M2W_PACK_F16,  /* every float tensor as f16 (round to nearest even) */
};

struct m2w_pack_opts {
	enum m2w_pack_float fl;
	uint64_t max_binding; /* chunk limit in bytes; >= M2W_PACK_ALIGN */
	bool one_file;        /* all shards back to back in DIR/model.bin */
	bool requant_q8_0;    /* other ggml block types -> Q8_0 instead of floats */
	const char *blob;     /* weights.json input: the blob (default: .bin beside it) */
	void (*warn)(void *ctx, const char *msg);
	void *warn_ctx;
};

struct m2w_pack_result {
	char **deps;      /* files read: the input, the blob */
	size_t ndeps;
	size_t ntensors;  /* stored (aliases not counted) */
	size_t naliases;
	size_t nshards;
	uint64_t in_bytes;  /* tensor bytes read */
	uint64_t out_bytes; /* shard bytes written */
	bool tokenizer;     /* tokenizer.json written */
	size_t nchanged;    /* files rewritten */
};

void m2w_pack_opts_init(struct m2w_pack_opts *o);

int m2w_pack(const char *input, const char *dir, const struct m2w_pack_opts *o,
	struct m2w_pack_result *r, struct m2w_diag *d);
void m2w_pack_result_free(struct m2w_pack_result *r);

/* DIR (or DIR/shards.json): tensor NAME (aliases followed) as f32 into a
 * .npy of the tensor's shape; integer tensors keep their dtype. */
int m2w_pack_unpack(const char *dir, const char *name, const char *npy,
	struct m2w_diag *d);

/* ---- layouts (pack_layout.c) ---- */

/* Q8_0: 34-byte ggml block -> 9 u32; Q4_0: 18-byte block -> 5 u32. */
#define M2W_PACK_Q8_0_WORDS 9u
#define M2W_PACK_Q4_0_WORDS 5u

void m2w_pack_q8_0(const uint8_t *src, uint64_t nblocks, uint8_t *dst);
void m2w_pack_q4_0(const uint8_t *src, uint64_t nblocks, uint8_t *dst);
/* f32 -> Q8_0 as ggml's quantize_row_q8_0_ref, in the packed layout. */
void m2w_pack_q8_0_from_f32(const float *x, uint64_t nblocks, uint8_t *dst);
void m2w_unpack_q8_0(const uint8_t *src, uint64_t nblocks, float *dst);
void m2w_unpack_q4_0(const uint8_t *src, uint64_t nblocks, float *dst);

#endif
