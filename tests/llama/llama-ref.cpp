// llama-ref: llama.cpp's own computation of a prompt, dumped for m2w-check.
// Built at test time by make_refs.py against the libllama.a of the llama.cpp
// build in the cache (like tests/tokenizer/llama-dump.cpp).
//
// usage: llama-ref MODEL.gguf OUTDIR PROMPT_FILE [N_GEN] [--no-dump] [--threads N]
//
// CPU, 1 thread (--threads: for timings only), flash attention off, F32 KV cache, the whole prompt in one
// ubatch with logits for every position.  During the prompt's decode every
// graph node that llama.cpp named with cb() ("attn_norm-0", "Qcur-1",
// "result_output", ...) is written as OUTDIR/<name>.npy (f32, C order,
// shape = ggml ne reversed with trailing 1s dropped); a name seen again
// later in the graph keeps the plain name for its LAST occurrence, earlier
// ones become <name>_v0, _v1, ...  Then N_GEN (default 64) greedy steps,
// one token per decode, argmax of llama.cpp's logits (lowest id on ties),
// continuing past end-of-generation tokens.
//
// stdout, one JSON object: prompt_tokens, checkpoints [{name, shape, op}]
// in graph order, greedy, greedy_hex (the pieces' bytes), greedy_top (top-5 ids and logits per step),
// eog (per greedy token), chat (llama_chat_apply_template of a fixed
// conversation with the model's template, and its tokens), timings.
#include "ggml-backend.h"
#include "ggml.h"
#include "llama.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

struct checkpoint {
    std::string name;
    std::string op;
    std::vector<int64_t> shape;  // numpy order
    std::vector<float> data;
};

struct dump_state {
    bool on = false;
    std::vector<checkpoint> cps;
};

static bool named_by_cb(const char * n) {
    if (!n[0] || strchr(n, ' ')) return false;  // "", "x (view)", "x (reshaped)"
    if (!strncmp(n, "node_", 5) || !strncmp(n, "leaf_", 5)) return false;
    return true;
}

static float elem(const ggml_tensor * t, const uint8_t * base, size_t off) {
    switch (t->type) {
        case GGML_TYPE_F32: { float f; memcpy(&f, base + off, 4); return f; }
        case GGML_TYPE_F16: { ggml_fp16_t h; memcpy(&h, base + off, 2); return ggml_fp16_to_fp32(h); }
        case GGML_TYPE_BF16: { ggml_bf16_t h; memcpy(&h, base + off, 2); return ggml_bf16_to_fp32(h); }
        default: return NAN;
    }
}

static bool cb_eval(ggml_tensor * t, bool ask, void * user) {
    dump_state * st = (dump_state *) user;
    if (!st->on) return false;
    if (ask) return named_by_cb(t->name) && (t->type == GGML_TYPE_F32 || t->type == GGML_TYPE_F16 || t->type == GGML_TYPE_BF16);
    if (!named_by_cb(t->name)) return true;
    const size_t nb = ggml_nbytes(t);
    std::vector<uint8_t> buf(nb);
    ggml_backend_tensor_get(t, buf.data(), 0, nb);
    checkpoint c;
    c.name = t->name;
    c.op = ggml_op_desc(t);
    int nd = GGML_MAX_DIMS;
    while (nd > 1 && t->ne[nd - 1] == 1) nd--;
    for (int d = nd - 1; d >= 0; d--) c.shape.push_back(t->ne[d]);
    c.data.reserve(ggml_nelements(t));
    for (int64_t i3 = 0; i3 < t->ne[3]; i3++)
        for (int64_t i2 = 0; i2 < t->ne[2]; i2++)
            for (int64_t i1 = 0; i1 < t->ne[1]; i1++)
                for (int64_t i0 = 0; i0 < t->ne[0]; i0++)
                    c.data.push_back(elem(t, buf.data(), i0 * t->nb[0] + i1 * t->nb[1] + i2 * t->nb[2] + i3 * t->nb[3]));
    st->cps.push_back(std::move(c));
    return true;
}

static bool write_npy(const std::string & path, const checkpoint & c) {
    std::string shape = "(";
    for (size_t i = 0; i < c.shape.size(); i++) shape += std::to_string(c.shape[i]) + (i + 1 < c.shape.size() ? ", " : "");
    if (c.shape.size() == 1) shape += ",";
    shape += ")";
    std::string hdr = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape + ", }";
    size_t total = 10 + hdr.size() + 1;
    hdr.append((64 - total % 64) % 64, ' ');
    hdr += '\n';
    FILE * f = fopen((path + ".tmp").c_str(), "wb");
    if (!f) return false;
    const unsigned char magic[8] = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
    fwrite(magic, 1, 8, f);
    const uint16_t hl = (uint16_t) hdr.size();
    fputc(hl & 0xff, f);
    fputc(hl >> 8, f);
    fwrite(hdr.data(), 1, hdr.size(), f);
    fwrite(c.data.data(), 4, c.data.size(), f);
    if (fclose(f) != 0) return false;
    return rename((path + ".tmp").c_str(), path.c_str()) == 0;
}

static std::string jstr(const std::string & s) {
    std::string o = "\"";
    for (unsigned char ch : s) {
        if (ch == '"' || ch == '\\') { o += '\\'; o += (char) ch; }
        else if (ch < 0x20) { char b[8]; snprintf(b, sizeof b, "\\u%04x", ch); o += b; }
        else o += (char) ch;
    }
    return o + "\"";
}

static std::string jints(const std::vector<llama_token> & v) {
    std::string o = "[";
    for (size_t i = 0; i < v.size(); i++) o += (i ? "," : "") + std::to_string(v[i]);
    return o + "]";
}

static std::vector<llama_token> tokenize(const llama_vocab * v, const std::string & s, bool add, bool parse) {
    std::vector<llama_token> r(s.size() + 8);
    int n = llama_tokenize(v, s.data(), (int32_t) s.size(), r.data(), (int32_t) r.size(), add, parse);
    if (n < 0) {
        r.resize(-n);
        n = llama_tokenize(v, s.data(), (int32_t) s.size(), r.data(), (int32_t) r.size(), add, parse);
    }
    r.resize(n);
    return r;
}

int main(int argc, char ** argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: llama-ref MODEL.gguf OUTDIR PROMPT_FILE [N_GEN] [--no-dump] [--threads N]\n");
        return 2;
    }
    const std::string outdir = argv[2];
    int n_gen = 64;
    bool dump = true;
    int n_threads = 1;
    for (int i = 4; i < argc; i++) {
        if (!strcmp(argv[i], "--no-dump")) dump = false;
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) n_threads = atoi(argv[++i]);
        else n_gen = atoi(argv[i]);
    }
    std::ifstream pf(argv[3], std::ios::binary);
    std::stringstream ss;
    ss << pf.rdbuf();
    const std::string prompt = ss.str();

    llama_log_set([](ggml_log_level lvl, const char * s, void *) { if (lvl >= GGML_LOG_LEVEL_ERROR) fputs(s, stderr); }, nullptr);
    llama_backend_init();
    llama_model_params mp = llama_model_default_params();
    mp.n_gpu_layers = 0;
    mp.progress_callback = [](float, void *) { return true; };  // no dots on stderr
    llama_model * model = llama_model_load_from_file(argv[1], mp);
    if (!model) { fprintf(stderr, "llama-ref: cannot load %s\n", argv[1]); return 1; }
    const llama_vocab * vocab = llama_model_get_vocab(model);
    const int n_vocab = llama_vocab_n_tokens(vocab);

    const std::vector<llama_token> toks = tokenize(vocab, prompt, llama_vocab_get_add_bos(vocab), true);
    const int n_prompt = (int) toks.size();

    dump_state st;
    llama_context_params cp = llama_context_default_params();
    cp.n_ctx = std::max<uint32_t>(256, (uint32_t) (n_prompt + n_gen + 8));
    cp.n_batch = cp.n_ubatch = std::max<uint32_t>(512, (uint32_t) n_prompt);
    cp.n_seq_max = 1;
    cp.n_threads = cp.n_threads_batch = n_threads;
    cp.flash_attn_type = LLAMA_FLASH_ATTN_TYPE_DISABLED;
    cp.type_k = GGML_TYPE_F32;
    cp.type_v = GGML_TYPE_F32;
    cp.cb_eval = cb_eval;
    cp.cb_eval_user_data = &st;
    cp.no_perf = true;
    llama_context * ctx = llama_init_from_model(model, cp);
    if (!ctx) { fprintf(stderr, "llama-ref: cannot create context\n"); return 1; }

    llama_batch b = llama_batch_init(n_prompt, 0, 1);
    for (int i = 0; i < n_prompt; i++) {
        b.token[i] = toks[i];
        b.pos[i] = i;
        b.n_seq_id[i] = 1;
        b.seq_id[i][0] = 0;
        b.logits[i] = 1;
    }
    b.n_tokens = n_prompt;
    st.on = dump;
    auto t0 = std::chrono::steady_clock::now();
    if (llama_decode(ctx, b)) { fprintf(stderr, "llama-ref: prompt decode failed\n"); return 1; }
    auto t1 = std::chrono::steady_clock::now();
    st.on = false;
    llama_batch_free(b);

    // unique names: the last occurrence keeps the plain name
    std::map<std::string, int> total, seen;
    for (const checkpoint & c : st.cps) total[c.name]++;
    for (checkpoint & c : st.cps) {
        const int k = seen[c.name]++;
        if (k + 1 < total[c.name]) c.name += "_v" + std::to_string(k);
    }
    for (const checkpoint & c : st.cps) {
        if (!write_npy(outdir + "/" + c.name + ".npy", c)) { fprintf(stderr, "llama-ref: cannot write %s\n", c.name.c_str()); return 1; }
    }

    // greedy
    std::vector<llama_token> gen;
    std::string tops = "[";
    std::string eog = "[";
    const float * logits = llama_get_logits_ith(ctx, n_prompt - 1);
    auto t2 = std::chrono::steady_clock::now();
    for (int step = 0; step < n_gen; step++) {
        std::vector<int> idx(n_vocab);
        for (int i = 0; i < n_vocab; i++) idx[i] = i;
        std::partial_sort(idx.begin(), idx.begin() + 5, idx.end(), [&](int a, int c) {
            return logits[a] > logits[c] || (logits[a] == logits[c] && a < c);
        });
        const llama_token tok = idx[0];
        gen.push_back(tok);
        tops += std::string(step ? "," : "") + "{\"ids\":[";
        for (int k = 0; k < 5; k++) tops += (k ? "," : "") + std::to_string(idx[k]);
        tops += "],\"logits\":[";
        for (int k = 0; k < 5; k++) { char f[32]; snprintf(f, sizeof f, "%s%.9g", k ? "," : "", logits[idx[k]]); tops += f; }
        tops += "]}";
        eog += std::string(step ? "," : "") + (llama_vocab_is_eog(vocab, tok) ? "true" : "false");
        if (step + 1 == n_gen) break;
        llama_token t = tok;
        llama_batch one = llama_batch_get_one(&t, 1);
        if (llama_decode(ctx, one)) { fprintf(stderr, "llama-ref: decode failed at step %d\n", step); return 1; }
        logits = llama_get_logits_ith(ctx, -1);
    }
    auto t3 = std::chrono::steady_clock::now();
    tops += "]";
    eog += "]";

    std::string text;  // hex: the pieces need not be valid UTF-8
    for (llama_token t : gen) {
        char piece[256];
        int n = llama_token_to_piece(vocab, t, piece, sizeof piece, 0, true);
        for (int i = 0; i < n; i++) { char h[3]; snprintf(h, sizeof h, "%02x", (unsigned char) piece[i]); text += h; }
    }

    // chat template, llama.cpp's built-in formatter (no jinja)
    const char * tmpl = llama_model_chat_template(model, nullptr);
    std::string chat_json = "null";
    if (tmpl) {
        const llama_chat_message msgs[] = {
            {"system", "You are a terse assistant."},
            {"user", "Hello!"},
            {"assistant", "Hi. What do you need?"},
            {"user", "Name three colours."},
        };
        std::vector<char> out(8192);
        int n = llama_chat_apply_template(tmpl, msgs, 4, true, out.data(), (int32_t) out.size());
        if (n > (int) out.size()) { out.resize(n); n = llama_chat_apply_template(tmpl, msgs, 4, true, out.data(), (int32_t) out.size()); }
        if (n >= 0) {
            const std::string f(out.data(), n);
            chat_json = "{\"messages\":[";
            for (int i = 0; i < 4; i++) chat_json += std::string(i ? "," : "") + "{\"role\":" + jstr(msgs[i].role) + ",\"content\":" + jstr(msgs[i].content) + "}";
            chat_json += "],\"add_assistant\":true,\"formatted\":" + jstr(f) + ",\"tokens\":" + jints(tokenize(vocab, f, false, true)) + "}";
        }
    }

    printf("{\"n_vocab\":%d,\"prompt\":%s,\"prompt_tokens\":%s,\"checkpoints\":[", n_vocab, jstr(prompt).c_str(), jints(toks).c_str());
    for (size_t i = 0; i < st.cps.size(); i++) {
        std::string sh = "[";
        for (size_t d = 0; d < st.cps[i].shape.size(); d++) sh += (d ? "," : "") + std::to_string(st.cps[i].shape[d]);
        printf("%s{\"name\":%s,\"shape\":%s],\"op\":%s}", i ? "," : "", jstr(st.cps[i].name).c_str(), sh.c_str(), jstr(st.cps[i].op).c_str());
    }
    printf("],\"greedy\":%s,\"greedy_hex\":%s,\"greedy_top\":%s,\"eog\":%s,\"chat\":%s,", jints(gen).c_str(), jstr(text).c_str(), tops.c_str(), eog.c_str(), chat_json.c_str());
    printf("\"timings\":{\"prompt_ms\":%.3f,\"gen_ms\":%.3f}}\n",
           std::chrono::duration<double, std::milli>(t1 - t0).count(), std::chrono::duration<double, std::milli>(t3 - t2).count());

    llama_free(ctx);
    llama_model_free(model);
    llama_backend_free();
    return 0;
}
