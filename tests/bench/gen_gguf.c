/* gen_gguf: writes a large, valid GGUF for the inspect benchmark, instantly.
 *
 * A llama-architecture file shaped like TinyLlama (hidden 2048, ffn 5632,
 * 4 KV heads, vocabulary 32000 with a real-sized tokenizer header) but with
 * --layers blocks (default 32: 291 tensors, 3.1 GB in f16).  Only the
 * header is written; the tensor data is a hole made by ftruncate, so the
 * file costs no disk blocks and no time, and readers that do not touch
 * tensor data see a normal file.
 *
 * usage: gen_gguf [--layers N] [--type f16|q8_0|f32] -o OUT.gguf
 */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { HIDDEN = 2048, FFN = 5632, HEADS = 32, KV_HEADS = 4, VOCAB = 32000, ALIGN = 32 };
enum { T_U32 = 4, T_I32 = 5, T_F32 = 6, T_BOOL = 7, T_STRING = 8, T_ARRAY = 9 };

static FILE *out;
static uint64_t pos, n_kv;

static void put(const void *p, size_t n)
{
	if (fwrite(p, 1, n, out) != n) {
		perror("gen_gguf: write");
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
static void kv_f32(const char *k, float v)
{
	uint32_t u;
	memcpy(&u, &v, 4);
	key(k, T_F32);
	u32(u);
}

static void kv_str(const char *k, const char *v) { key(k, T_STRING); str(v); }

struct tensor {
	char name[64];
	uint64_t ne[2];
	int n_dims;
	uint32_t type;
	uint64_t bytes;
};

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"layers", required_argument, NULL, 'l'},
		{"type", required_argument, NULL, 't'},
		{NULL, 0, NULL, 0},
	};
	const char *path = NULL, *type = "f16";
	int layers = 32, c;
	uint32_t wtype;

	while ((c = getopt_long(argc, argv, "o:l:t:", opts, NULL)) != -1) {
		switch (c) {
		case 'o': path = optarg; break;
		case 'l': layers = atoi(optarg); break;
		case 't': type = optarg; break;
		default: return 2;
		}
	}
	if (!path || layers < 1 || layers > 1000) {
		fprintf(stderr, "usage: gen_gguf [--layers 1..1000] [--type f16|q8_0|f32] -o OUT\n");
		return 2;
	}
	/* ggml type ids and bytes per 32 elements */
	uint64_t per32;
	if (!strcmp(type, "f16"))
		wtype = 1, per32 = 64;
	else if (!strcmp(type, "q8_0"))
		wtype = 8, per32 = 34;
	else if (!strcmp(type, "f32"))
		wtype = 0, per32 = 128;
	else {
		fprintf(stderr, "gen_gguf: unknown type %s\n", type);
		return 2;
	}

	size_t nt = 3 + 9 * (size_t)layers, k = 0;
	struct tensor *t = calloc(nt, sizeof *t);
	if (!t)
		return 1;
	/* matrices in the chosen type, norms in f32 (as llama.cpp quantizes) */
	struct { const char *fmt; uint64_t ne0, ne1; bool matrix; } per_layer[] = {
		{"blk.%d.attn_norm.weight", HIDDEN, 1, false},
		{"blk.%d.attn_q.weight", HIDDEN, HIDDEN, true},
		{"blk.%d.attn_k.weight", HIDDEN, HIDDEN / HEADS * KV_HEADS, true},
		{"blk.%d.attn_v.weight", HIDDEN, HIDDEN / HEADS * KV_HEADS, true},
		{"blk.%d.attn_output.weight", HIDDEN, HIDDEN, true},
		{"blk.%d.ffn_norm.weight", HIDDEN, 1, false},
		{"blk.%d.ffn_gate.weight", HIDDEN, FFN, true},
		{"blk.%d.ffn_up.weight", HIDDEN, FFN, true},
		{"blk.%d.ffn_down.weight", FFN, HIDDEN, true},
	};
	struct tensor *x = &t[k++];
	snprintf(x->name, sizeof x->name, "token_embd.weight");
	x->ne[0] = HIDDEN, x->ne[1] = VOCAB, x->n_dims = 2, x->type = wtype;
	for (int l = 0; l < layers; l++)
		for (size_t i = 0; i < sizeof per_layer / sizeof per_layer[0]; i++) {
			x = &t[k++];
			snprintf(x->name, sizeof x->name, per_layer[i].fmt, l);
			x->ne[0] = per_layer[i].ne0, x->ne[1] = per_layer[i].ne1;
			x->n_dims = per_layer[i].matrix ? 2 : 1;
			x->type = per_layer[i].matrix ? wtype : 0;
		}
	x = &t[k++];
	snprintf(x->name, sizeof x->name, "output_norm.weight");
	x->ne[0] = HIDDEN, x->ne[1] = 1, x->n_dims = 1, x->type = 0;
	x = &t[k++];
	snprintf(x->name, sizeof x->name, "output.weight");
	x->ne[0] = HIDDEN, x->ne[1] = VOCAB, x->n_dims = 2, x->type = wtype;
	for (size_t i = 0; i < nt; i++) {
		uint64_t n = t[i].ne[0] * t[i].ne[1];
		t[i].bytes = t[i].type == 0 ? n * 4 : n / 32 * per32;
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
	kv_str("general.name", "m2w benchmark (sparse, no weights)");
	kv_u32("general.file_type", wtype);
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
	/* a vocabulary the size of llama's: strings, scores, types */
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
	kv_str("tokenizer.chat_template",
		"{% for m in messages %}<|{{ m.role }}|>\n{{ m.content }}</s>\n{% endfor %}");

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
	uint64_t data = (pos + ALIGN - 1) / ALIGN * ALIGN;
	if (fseek(out, 16, SEEK_SET))
		return 1;
	u64(n_kv);
	if (fflush(out) || ftruncate(fileno(out), (off_t)(data + off)) || fclose(out)) {
		perror("gen_gguf: finish");
		return 1;
	}
	printf("%s: %zu tensors, %llu bytes (header %llu)\n", path, nt,
		(unsigned long long)(data + off), (unsigned long long)data);
	free(t);
	return 0;
}
