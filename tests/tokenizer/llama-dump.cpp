// llama-dump: llama.cpp's own tokenize/detokenize of test strings, for the
// live cross-check in run.mjs (built at test time against the libllama.a of
// the llama.cpp build in the cache, when there is one).
//
// usage: llama-dump VOCAB.gguf STRINGS   (STRINGS: test-tokenizer-0's .inp
// format).  Prints "N name" (general.name), then per string "S hex", then
// "Tap ids" for addSpecial a and parseSpecial p (00 01 10 11), each followed
// by "Drs hex": the detokenized bytes with removeSpecial r and special s.
#include "llama.h"

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

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

static std::string detokenize(const llama_vocab * v, const std::vector<llama_token> & t, bool rm, bool special) {
    std::string s(t.size() * 16 + 16, '\0');
    int n = llama_detokenize(v, t.data(), (int32_t) t.size(), &s[0], (int32_t) s.size(), rm, special);
    if (n < 0) {
        s.resize(-n);
        n = llama_detokenize(v, t.data(), (int32_t) t.size(), &s[0], (int32_t) s.size(), rm, special);
    }
    s.resize(n);
    return s;
}

static void hex(const char * tag, const std::string & s) {
    printf("%s ", tag);
    for (unsigned char c : s) printf("%02x", c);
    printf("\n");
}

int main(int argc, char ** argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: llama-dump VOCAB.gguf STRINGS\n");
        return 2;
    }
    llama_log_set([](ggml_log_level, const char *, void *) {}, nullptr);
    llama_backend_init();
    llama_model_params mp = llama_model_default_params();
    mp.vocab_only = true;
    llama_model * m = llama_model_load_from_file(argv[1], mp);
    if (!m) return 1;
    const llama_vocab * v = llama_model_get_vocab(m);
    char name[256] = "";
    llama_model_meta_val_str(m, "general.name", name, sizeof name);
    printf("N %s\n", name);

    std::ifstream f(argv[2], std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    const std::string raw = ss.str();
    const std::string sep = "\n__ggml_vocab_test__\n";
    std::vector<std::string> inputs;
    for (size_t pos = 0; pos < raw.size();) {
        const size_t next = raw.find(sep, pos);
        if (next == std::string::npos) {
            inputs.push_back(raw.substr(pos));
            break;
        }
        inputs.push_back(raw.substr(pos, next - pos));
        pos = next + sep.size();
    }
    for (const std::string & s : inputs) {
        hex("S", s);
        for (int add = 0; add < 2; add++) {
            for (int parse = 0; parse < 2; parse++) {
                const std::vector<llama_token> t = tokenize(v, s, add, parse);
                printf("T%d%d", add, parse);
                for (llama_token x : t) printf(" %d", x);
                printf("\n");
                for (int rm = 0; rm < 2; rm++) {
                    for (int special = 0; special < 2; special++) {
                        char tag[4] = {'D', (char) ('0' + rm), (char) ('0' + special), 0};
                        hex(tag, detokenize(v, t, rm, special));
                    }
                }
            }
        }
    }
    llama_model_free(m);
    llama_backend_free();
    return 0;
}
