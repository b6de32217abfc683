/* tokenizer: a GGUF's tokenizer metadata as tokenizer.json (m2w-pack).
 *
 * The object, keys in this order (those the file lacks are left out):
 *
 *   "model": tokenizer.ggml.model ("llama" = SentencePiece, "gpt2" = byte
 *            BPE, "bert" = WordPiece, "t5" = Unigram, ...)
 *   "pre": tokenizer.ggml.pre (llama.cpp's pre-tokenizer name) or null
 *   "vocab_size": number of tokens
 *   "special": { "bos", "eos", "unk", "sep", "pad", "cls", "mask", "eot",
 *                ... }: every tokenizer.ggml.<name>_token_id, with
 *                unknown/seperator/padding shortened to unk/sep/pad
 *   "add_bos", "add_eos", ...: every tokenizer.ggml.add_<x>_token as add_<x>
 *   other scalar tokenizer.ggml.* keys by their last name
 *            ("add_space_prefix", "remove_extra_whitespaces" ...)
 *   "chat_template": tokenizer.chat_template
 *   "chat_templates": { name: tokenizer.chat_template.<name> }
 *   "precompiled_charsmap": base64 of tokenizer.ggml.precompiled_charsmap
 *   "tokens": [strings], "scores": [numbers], "token_types": [ints]
 *            (llama.cpp's 1 normal, 2 unknown, 3 control, 4 user-defined,
 *            5 unused, 6 byte), "merges": ["a b", ...]
 *   "invalid_utf8": { "<id>": base64 of the token's bytes } for tokens that
 *            are not valid UTF-8 (JSON cannot carry them; in "tokens" their
 *            bad bytes read U+FFFD).  Other strings get U+FFFD silently.
 *
 * Streamed: the vocabulary is never held twice in memory.
 */
#ifndef M2W_TOKENIZER_H
#define M2W_TOKENIZER_H

#include "gguf.h"

/* Writes PATH (atomic, write-if-changed); -1 when tokenizer.ggml.tokens is
 * missing or an array has the wrong element type. */
int m2w_tokenizer_write(const struct m2w_gguf *g, const char *path, bool *changed,
	struct m2w_diag *d);

#endif
