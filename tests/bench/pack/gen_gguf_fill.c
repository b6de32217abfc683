/* gen_gguf_fill: a large llama-shaped GGUF with every data byte written, for
 * the m2w-pack benchmark (tests/bench/gen_gguf.c leaves the data a sparse
 * hole, which measures nothing for a tool that reads every tensor).
 *
 * TinyLlama's shapes (hidden 2048, FFN 5632, 32 heads, 4 KV heads, vocab
 * 32000) with --layers blocks (default 32: about 2.0 GB), a mix of types:
 * attn_q / attn_output / ffn_gate / ffn_up and output.weight Q8_0,
 * attn_k / attn_v Q4_0, ffn_down and token_embd.weight F16, norms F32.
 * Block scales are small finite f16s, quants and f16 values come from a
 * seeded xorshift64*, so the file is the same on every run.
 *
 * usage: gen_gguf_fill [--layers N] -o OUT.gguf
 */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { HIDDEN = 2048, FFN = 5632, HEADS = 32, KV_HEADS = 4, VOCAB = 32000, ALIGN = 32 };
enum { T_U32 = 4, T_F32 = 6, T_STRING = 8, T_ARRAY = 9, T_I32 = 5 };
enum { G_F32 = 0, G_F16 = 1, G_Q4_0 = 2, G_Q8_0 = 8 };

static FILE *out;
static uint64_t pos, n_kv, rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dull;
}

static void put(const void *p, size_t n)
{
	if (fwrite(p, 1, n, out) != n) {
		perror("gen_gguf_fill: write");
		exit(1);
	}
	pos += n;
}

static void u32(uint32_t v)
{
	uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
	put(b, 4);
}

static void u64(uint64_t v)
{
	u32((uint32_t)v);
	u32((uint32_t)(v >> 32));
}

static void str(const char *s)
{
	u64(strlen(s));
	put(s, strlen(s));
}

static void key(const char *k, uint32_t type)
{
	str(k);
	u32(type);
	n_kv++;
}

static void kv_u32(const char *k, uint32_t v) { key(k, T_U32); u32(v); }
static void kv_str(const char *k, const char *v) { key(k, T_STRING); str(v); }
static void kv_f32(const char *k, float v)
{
	uint32_t u;
	memcpy(&u, &v, 4);
	key(k, T_F32);
	u32(u);
}

struct tensor {
	char name[64];
	uint64_t ne[2];
	int n_dims;
	uint32_t type;
	uint64_t bytes;
};

/* A small positive finite f16 (about 2^-10 .. 2^-7). */
static uint16_t scale16(void)
{
	return (uint16_t)(((5 + rnd() % 3) << 10) | (rnd() & 0x3ff));
}

/* n bytes of tensor data of type `type`, generated in a reused buffer. */
static void fill(uint32_t type, uint64_t n)
{
	static uint8_t buf[1 << 22]; /* used up to a whole number of units */
	const uint64_t unit = type == G_Q8_0 ? 34 : type == G_Q4_0 ? 18 : type == G_F16 ? 2 : 4;
	const uint64_t per = sizeof buf / unit * unit;

	while (n) {
		uint64_t k = n < per ? n : per;
		for (uint64_t o = 0; o < k; o += unit) {
			uint8_t *p = buf + o;
			if (type == G_Q8_0 || type == G_Q4_0) {
				uint16_t d = scale16();
				p[0] = (uint8_t)d, p[1] = (uint8_t)(d >> 8);
				for (uint64_t j = 2; j < unit; j += 8) {
					uint64_t r = rnd();
					memcpy(p + j, &r, unit - j < 8 ? unit - j : 8);
				}
			} else if (type == G_F16) {
				uint64_t r = rnd();
				/* sign, exponent 2^-8 .. 2^-1, mantissa: finite weights */
				uint16_t h = (uint16_t)((r & 0x8000) | ((7 + (r >> 16) % 8) << 10) | ((r >> 32) & 0x3ff));
				p[0] = (uint8_t)h, p[1] = (uint8_t)(h >> 8);
			} else {
				const float one = 1.0f;
				memcpy(p, &one, 4);
			}
		}
		put(buf, (size_t)k);
		n -= k;
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"layers", required_argument, NULL, 'l'},
		{NULL, 0, NULL, 0},
	};
	const char *path = NULL;
	int layers = 32, c;

	while ((c = getopt_long(argc, argv, "o:l:", opts, NULL)) != -1) {
		switch (c) {
		case 'o': path = optarg; break;
		case 'l': layers = atoi(optarg); break;
		default: return 2;
		}
	}
	if (!path || layers < 1 || layers > 1000) {
		fprintf(stderr, "usage: gen_gguf_fill [--layers 1..1000] -o OUT\n");
		return 2;
	}
	struct { const char *fmt; uint64_t ne0, ne1; uint32_t type; } per_layer[] = {
		{"blk.%d.attn_norm.weight", HIDDEN, 1, G_F32},
		{"blk.%d.attn_q.weight", HIDDEN, HIDDEN, G_Q8_0},
		{"blk.%d.attn_k.weight", HIDDEN, HIDDEN / HEADS * KV_HEADS, G_Q4_0},
		{"blk.%d.attn_v.weight", HIDDEN, HIDDEN / HEADS * KV_HEADS, G_Q4_0},
		{"blk.%d.attn_output.weight", HIDDEN, HIDDEN, G_Q8_0},
		{"blk.%d.ffn_norm.weight", HIDDEN, 1, G_F32},
		{"blk.%d.ffn_gate.weight", HIDDEN, FFN, G_Q8_0},
		{"blk.%d.ffn_up.weight", HIDDEN, FFN, G_Q8_0},
		{"blk.%d.ffn_down.weight", FFN, HIDDEN, G_F16},
	};
	const size_t npl = sizeof per_layer / sizeof per_layer[0];
	size_t nt = 3 + npl * (size_t)layers, k = 0;
	struct tensor *t = calloc(nt, sizeof *t);
	if (!t)
		return 1;
	struct tensor *x = &t[k++];
	snprintf(x->name, sizeof x->name, "token_embd.weight");
	x->ne[0] = HIDDEN, x->ne[1] = VOCAB, x->n_dims = 2, x->type = G_F16;
	for (int l = 0; l < layers; l++)
		for (size_t i = 0; i < npl; i++) {
			x = &t[k++];
			snprintf(x->name, sizeof x->name, per_layer[i].fmt, l);
			x->ne[0] = per_layer[i].ne0, x->ne[1] = per_layer[i].ne1;
			x->n_dims = per_layer[i].ne1 > 1 ? 2 : 1;
			x->type = per_layer[i].type;
		}
	x = &t[k++];
	snprintf(x->name, sizeof x->name, "output_norm.weight");
	x->ne[0] = HIDDEN, x->ne[1] = 1, x->n_dims = 1, x->type = G_F32;
	x = &t[k++];
	snprintf(x->name, sizeof x->name, "output.weight");
	x->ne[0] = HIDDEN, x->ne[1] = VOCAB, x->n_dims = 2, x->type = G_Q8_0;
	for (size_t i = 0; i < nt; i++) {
		uint64_t n = t[i].ne[0] * t[i].ne[1];
		t[i].bytes = t[i].type == G_F32 ? n * 4 : t[i].type == G_F16 ? n * 2
			   : t[i].type == G_Q8_0 ? n / 32 * 34 : n / 32 * 18;
	}

	if (!(out = fopen(path, "wb"))) {
		perror(path);
		return 1;
	}
	put("GGUF", 4);
	u32(3);
	u64(nt);
	u64(0); /* key count, patched below */
	kv_str("general.architecture", "llama");
	kv_str("general.name", "m2w pack benchmark (random weights)");
	kv_u32("general.alignment", ALIGN);
	kv_u32("llama.context_length", 2048);
	kv_u32("llama.embedding_length", HIDDEN);
	kv_u32("llama.block_count", (uint32_t)layers);
	kv_u32("llama.feed_forward_length", FFN);
	kv_u32("llama.rope.dimension_count", HIDDEN / HEADS);
	kv_u32("llama.attention.head_count", HEADS);
	kv_u32("llama.attention.head_count_kv", KV_HEADS);
	kv_f32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
	kv_f32("llama.rope.freq_base", 10000.0f);
	kv_str("tokenizer.ggml.model", "llama");
	kv_str("tokenizer.ggml.pre", "default");
	key("tokenizer.ggml.tokens", T_ARRAY);
	u32(T_STRING);
	u64(VOCAB);
	for (int i = 0; i < VOCAB; i++) {
		char tok[32];
		snprintf(tok, sizeof tok, "\xe2\x96\x81tok%d", i);
		str(tok);
	}
	key("tokenizer.ggml.scores", T_ARRAY);
	u32(T_F32);
	u64(VOCAB);
	for (int i = 0; i < VOCAB; i++) {
		float f = -(float)i;
		uint32_t u;
		memcpy(&u, &f, 4);
		u32(u);
	}
	key("tokenizer.ggml.token_type", T_ARRAY);
	u32(T_I32);
	u64(VOCAB);
	for (int i = 0; i < VOCAB; i++)
		u32(i < 3 ? 3 : 1);
	kv_u32("tokenizer.ggml.bos_token_id", 1);
	kv_u32("tokenizer.ggml.eos_token_id", 2);

	uint64_t off = 0;
	for (size_t i = 0; i < nt; i++) {
		str(t[i].name);
		u32((uint32_t)t[i].n_dims);
		for (int d = 0; d < t[i].n_dims; d++)
			u64(t[i].ne[d]);
		u32(t[i].type);
		u64(off);
		off += (t[i].bytes + ALIGN - 1) / ALIGN * ALIGN;
	}
	static const uint8_t zeros[ALIGN];
	put(zeros, (size_t)((ALIGN - pos % ALIGN) % ALIGN));
	for (size_t i = 0; i < nt; i++) {
		fill(t[i].type, t[i].bytes);
		put(zeros, (size_t)((ALIGN - pos % ALIGN) % ALIGN));
	}
	uint64_t size = pos;
	if (fseek(out, 16, SEEK_SET))
		return 1;
	u64(n_kv);
	if (fclose(out)) {
		perror("gen_gguf_fill: finish");
		return 1;
	}
	printf("%s: %zu tensors, %llu bytes\n", path, nt, (unsigned long long)size);
	free(t);
	return 0;
}
