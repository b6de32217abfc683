// Tokenizer: text <-> token ids for llama-family GGUF vocabularies, giving
// llama.cpp's results (llama-vocab.cpp is the reference; its
// ggml-vocab-*.gguf.inp/.out files are the tests).  Reads the tokenizer.json
// that m2w-pack writes from a GGUF's tokenizer.ggml.* metadata.
//
// Supported tokenizer.ggml.model values:
//   "llama"  SentencePiece (SPM): bigram merges by token score over UTF-8
//            characters, "▁" for spaces, byte fallback to <0xXX>.
//   "gpt2"   byte-level BPE: pre-tokenizer split (by tokenizer.ggml.pre),
//            GPT-2 byte characters, merges by rank.
//   "gemma4" BPE over raw UTF-8 with "▁" for spaces and <0xXX> fallback.
//   "bert"   WordPiece (WPM): longest match after BERT normalization.
// Others ("t5", "rwkv", ...) throw UnsupportedTokenizerError.
//
// Special tokens (control, user-defined, unknown) are cut out of the text
// before tokenizing, longest first: user-defined always, control and unknown
// only with parseSpecial, as llama.cpp does.

import { cptFlags, codepoints, wellFormed, utf8, utf8Length, regexSplit, charByte, F_WHITESPACE, F_CONTROL,
  F_MARK, F_PUNCT, F_SYMBOL, RE_GPT2, RE_LLAMA3, RE_QWEN2, RE_QWEN35, RE_NEWLINES } from './tokenizer-unicode.js';

/** The tokenizer.json object of m2w-pack (tools/lib/tokenizer.h). */
export interface TokenizerJSON {
  model: string;
  pre?: string | null;
  vocab_size?: number;
  special?: Record<string, number>;
  add_bos?: boolean;
  add_eos?: boolean;
  add_sep?: boolean;
  add_space_prefix?: boolean;
  remove_extra_whitespaces?: boolean;
  lowercase?: boolean;
  strip_accents?: boolean;
  chat_template?: string;
  chat_templates?: Record<string, string>;
  tokens: string[];
  scores?: (number | null)[];
  token_types?: number[];
  merges?: string[];
  invalid_utf8?: Record<string, string>;
  [key: string]: unknown;
}

export interface TokenizerOptions {
  /** general.name of the model: llama.cpp strips spaces after special
   *  tokens for Phi-3 by name (only matters with parseSpecial). */
  modelName?: string;
}

export interface EncodeOptions {
  /** Add BOS/EOS (SEP) as the vocabulary asks. Default true. */
  addSpecial?: boolean;
  /** Turn the text of control tokens ("<|im_start|>") into their ids.
   *  Default false. */
  parseSpecial?: boolean;
}

export interface DecodeOptions {
  /** Render control and unknown tokens as their text. Default true. */
  special?: boolean;
  /** Drop a leading BOS and trailing EOS the vocabulary adds. Default false. */
  removeSpecial?: boolean;
}

export class UnsupportedTokenizerError extends Error {}

// llama.cpp's token attributes (llama_token_attr) and GGUF token types.
const A_UNKNOWN = 1, A_UNUSED = 2, A_NORMAL = 4, A_CONTROL = 8, A_USER_DEFINED = 16, A_BYTE = 32;
const A_LSTRIP = 128, A_RSTRIP = 256;
const TYPE_TO_ATTR = [0, A_NORMAL, A_UNKNOWN, A_CONTROL, A_USER_DEFINED, A_UNUSED, A_BYTE];

type Kind = 'spm' | 'bpe' | 'wpm';

interface PreInfo {
  exprs: readonly string[];
  cleanSpaces?: boolean;     // default true for BPE
  ignoreMerges?: boolean;
  addBos?: boolean;
  escapeWhitespaces?: boolean;
  byteEncode?: boolean;      // default true
}

// Pre-tokenizer regexes by tokenizer.ggml.pre (llama-vocab.cpp's table).
const CONTR = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])";
const CJK = '[\u4E00-\u9FA5\u0800-\u4E00\uAC00-\uD7FF]+';
const DEEPSEEK_LETTERS = '\\s?[A-Za-z\u00B5\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u01BA\u01BC-\u01BF\u01C4-\u0293\u0295-\u02AF\u0370-\u0373\u0376\u0377\u037B-\u037D\u037F\u0386\u0388-\u038A\u038C\u038E-\u03A1\u03A3-\u03F5\u03F7-\u0481\u048A-\u052F\u0531-\u0556\u10A0-\u10C5\u13A0-\u13F5\u13F8-\u13FD\u1C90-\u1CBA\u1CBD-\u1CBF\u1D00-\u1D2B\u1D6B-\u1D77\u1D79-\u1D9A\u1E00-\u1F15\u1F18-\u1F1D\u1F20-\u1F45\u1F48-\u1F4D\u1F50-\u1F57\u1F59\u1F5B\u1F5D\u1F5F-\u1F7D\u1F80-\u1FB4\u1FB6-\u1FBC\u1FBE\u1FC2-\u1FC4\u1FC6-\u1FCC\u1FD0-\u1FD3\u1FD6-\u1FDB\u1FE0-\u1FEC\u1FF2-\u1FF4\u1FF6-\u1FFC\u2102\u2107\u210A-\u2113\u2115\u2119-\u211D\u2124\u2126\u2128\u212A-\u212D\u212F-\u2134\u2139\u213C-\u213F\u2145-\u2149\u214E\u2183\u2184\u2C00-\u2C7B\u2C7E-\u2CE4\u2CEB-\u2CEE\u2CF2\u2CF3\uA640-\uA66D\uA680-\uA69B\uA722-\uA76F\uA771-\uA787\uA78B-\uA78E\uAB70-\uABBF\uFB00-\uFB06\uFB13-\uFB17\uFF21-\uFF3A\uFF41-\uFF5A\u{10400}-\u{1044F}\u{104B0}-\u{104D3}\u{104D8}-\u{104FB}\u{10C80}-\u{10CB2}\u{10CC0}-\u{10CF2}\u{118A0}-\u{118DF}\u{1E900}-\u{1E943}]+';
const GPT4O_WORDS = "[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+" + CONTR + '?' +
  "|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))+((?=[\\p{L}])([^A-Z]))*" + CONTR + '?';
const TAIL = '| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+';

const PRE_DEFAULT: PreInfo = {
  exprs: ['[\\p{P}\\$\\+<=>\\^~\\|]+', RE_GPT2, '\\p{N}+', '[0-9][0-9][0-9]'],
};
const PRE_LLAMA3: PreInfo = { exprs: [RE_LLAMA3], ignoreMerges: true, addBos: true };
const PRE_GPT2: PreInfo = { exprs: [RE_GPT2] };
const PRE_STARCODER: PreInfo = { exprs: ['\\p{N}', RE_GPT2] };
const PRE_QWEN2: PreInfo = { exprs: [RE_QWEN2], cleanSpaces: false };
const RE_BLOOM = ' ?[^(\\s|.,!?\u2026\u3002\uFF0C\u3001\u0964\u06D4\u060C)]+';
const PRE_BLOOM: PreInfo = { exprs: [RE_BLOOM] };
const PRE_GPT4O: PreInfo = {
  exprs: [GPT4O_WORDS + '|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+'],
  cleanSpaces: false,
};

const PRE: Record<string, PreInfo> = {
  'default': PRE_DEFAULT,
  'llama3': PRE_LLAMA3, 'llama-v3': PRE_LLAMA3, 'llama-bpe': PRE_LLAMA3, 'falcon3': PRE_LLAMA3,
  'falcon-h1': PRE_LLAMA3, 'pixtral': PRE_LLAMA3, 'midm-2.0': PRE_LLAMA3, 'lfm2': PRE_LLAMA3,
  'jina-v5-nano': PRE_LLAMA3,
  'dbrx': { exprs: [RE_LLAMA3] }, 'smaug-bpe': { exprs: [RE_LLAMA3] },
  'deepseek-llm': {
    exprs: ['[\r\n]', DEEPSEEK_LETTERS, '\\s?[!-/:-~\uFF01-\uFF0F\uFF1A-\uFF5E\u2018-\u201F\u3000-\u3002]+', '\\s+$', CJK, '\\p{N}+'],
    cleanSpaces: false,
  },
  'deepseek-coder': {
    exprs: ['[\r\n]', '\\s?\\p{L}+', '\\s?\\p{P}+', CJK, '\\p{N}'],
    cleanSpaces: false,
  },
  'deepseek-v3': {
    exprs: ['\\p{N}{1,3}', '[\u4E00-\u9FA5\u3040-\u309F\u30A0-\u30FF]+',
      "[!\"#$%&'()*+,\\-./:;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| ?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+"],
    cleanSpaces: false,
  },
  'falcon': { exprs: ['[\\p{P}\\$\\+<=>\\^~\\|`]+', RE_GPT2, '[0-9][0-9][0-9]'] },
  'starcoder': PRE_STARCODER, 'refact': PRE_STARCODER, 'codeshell': PRE_STARCODER,
  'exaone': PRE_STARCODER, 'minerva-7b': PRE_STARCODER, 'mellum2': PRE_STARCODER,
  'command-r': { exprs: PRE_STARCODER.exprs, cleanSpaces: false },
  'smollm': { exprs: PRE_STARCODER.exprs, cleanSpaces: false },
  'gpt-2': PRE_GPT2, 'phi-2': PRE_GPT2, 'jina-es': PRE_GPT2, 'jina-de': PRE_GPT2, 'gigachat': PRE_GPT2,
  'jina-v2-es': PRE_GPT2, 'jina-v2-de': PRE_GPT2, 'a.x-4.0': PRE_GPT2, 'mellum': PRE_GPT2,
  'modern-bert': PRE_GPT2, 'mpt': PRE_GPT2, 'olmo': PRE_GPT2, 'jais': PRE_GPT2, 'exaone4': PRE_GPT2,
  'jina-v1-en': PRE_GPT2, 'jina-v2-code': PRE_GPT2, 'roberta-bpe': PRE_GPT2,
  'trillion': { exprs: [RE_GPT2], cleanSpaces: false },
  'granite-docling': { exprs: [RE_GPT2], cleanSpaces: false },
  'qwen2': PRE_QWEN2, 'deepseek-r1-qwen': PRE_QWEN2, 'kormo': PRE_QWEN2, 'f2llmv2': PRE_QWEN2,
  'hunyuan': PRE_QWEN2, 'solar-open': PRE_QWEN2,
  'stablelm2': { exprs: [RE_QWEN2] }, 'megrez': { exprs: [RE_QWEN2] },
  'qwen35': { exprs: [RE_QWEN35], cleanSpaces: false },
  'poro-chat': { exprs: PRE_BLOOM.exprs, cleanSpaces: false },
  'bloom': PRE_BLOOM, 'gpt3-finnish': PRE_BLOOM,
  'viking': { exprs: [RE_BLOOM, '\\p{N}'], cleanSpaces: false },
  'glm4': { exprs: [CONTR + '|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}' + TAIL] },
  'chatglm-bpe': { exprs: [CONTR + '|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}' + TAIL] },
  'tekken': {
    exprs: ["[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))+((?=[\\p{L}])([^A-Z]))*|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"],
    cleanSpaces: false, ignoreMerges: true, addBos: true,
  },
  'gpt-4o': PRE_GPT4O, 'llama4': PRE_GPT4O, 'kanana2': PRE_GPT4O, 'talkie': PRE_GPT4O, 'minimax-m2': PRE_GPT4O,
  'seed-coder': {
    exprs: [CONTR + '|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1}| ?[^\\s\\p{L}\\p{N}\\r\\n]+|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+'],
    cleanSpaces: false,
  },
  'ufakzeka': { exprs: ['[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}' + TAIL], cleanSpaces: false },
  'grok-2': { exprs: [RE_QWEN2], cleanSpaces: false },
  'bailingmoe': {
    exprs: ["'(?:[sSdDmMtT]|[lL][lL]|[vV][eE]|[rR][eE])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+"],
    cleanSpaces: false,
  },
  'laguna': { exprs: [RE_NEWLINES, RE_QWEN2], cleanSpaces: false },
  'minicpm5': { exprs: ['\\p{N}{1,3}', CONTR + '|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}+' + TAIL], ignoreMerges: true },
  'gemma4': { exprs: [RE_NEWLINES], escapeWhitespaces: true, byteEncode: false },
  'granite-embed-multi-311m': { exprs: [RE_NEWLINES], escapeWhitespaces: true, byteEncode: false },
  'sarvam-moe': { exprs: [RE_NEWLINES], escapeWhitespaces: true, byteEncode: false, cleanSpaces: false },
};
// (both entries are in the table above)
PRE['bailingmoe2'] = PRE['llada-moe'] = PRE['bailingmoe']!;
PRE['hunyuan-dense'] = PRE['joyai-llm'] = PRE['hy_v4'] = PRE['deepseek-v3']!;

// Token texts llama.cpp treats as end-of-generation (and so control).
const EOG_TEXTS = new Set(['<|eot_id|>', '<|im_end|>', '<|end|>', '<|return|>', '<|call|>', '<|flush|>',
  '<|calls|>', '<end_of_turn>', '<|endoftext|>', '</s>', '<|eom_id|>', '<EOT>', '_<EOT>', '[EOT]', '[EOS]',
  '<|end_of_text|>', '<end_of_utterance>', '<eos>', '<turn|>', '<|tool_response>', '<\uFF5Cend\u2581of\u2581sentence\uFF5C>', '[e~[']);
const EOT_TEXTS = ['<|eot_id|>', '<|im_end|>', '<|end|>', '<end_of_turn>', '<|endoftext|>', '<|end_of_text|>',
  '<EOT>', '_<EOT>', '[EOT]', '<｜end▁of▁sentence｜>', '<end_of_utterance>'];
const FIM_TEXTS: Record<string, string[]> = {
  fim_pre: ['<|fim_prefix|>', '<fim-prefix>', '<fim_prefix>', '<｜fim▁begin｜>', '<PRE>', '▁<PRE>', '<|code_prefix|>', '<|prefix|>'],
  fim_suf: ['<|fim_suffix|>', '<fim-suffix>', '<fim_suffix>', '<｜fim▁hole｜>', '<SUF>', '▁<SUF>', '<|code_suffix|>', '<|suffix|>'],
  fim_mid: ['<|fim_middle|>', '<fim-middle>', '<fim_middle>', '<｜fim▁end｜>', '<MID>', '▁<MID>', '<|code_middle|>', '<|middle|>'],
  fim_pad: ['<|fim_pad|>', '<fim-pad>', '<fim_pad>', '<PAD>', '[PAD]'],
  fim_rep: ['<|fim_repo|>', '<|repo_name|>', '<fim-repo>', '<REPO>', '<reponame>'],
  fim_sep: ['<|file_sep|>'],
};

/** Binary heap; BEFORE(a, b) true when a pops first.  Indices below are
 *  all < a.length; pop() is only called when size > 0. */
class Heap<T> {
  private a: T[] = [];
  constructor(private before: (x: T, y: T) => boolean) {}
  get size(): number { return this.a.length; }
  push(v: T): void {
    const a = this.a;
    a.push(v);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.before(a[i]!, a[p]!)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }
  pop(): T {
    const a = this.a;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < a.length && this.before(a[l]!, a[m]!)) m = l;
        if (r < a.length && this.before(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}

interface Bigram { left: number; right: number; rank: number; size: number; text: string }

type Fragment = string | number; // raw text, or a token id

const isSpaceCh = (c: string): boolean => c === ' ' || c === '\t' || c === '\n' || c === '\v' || c === '\f' || c === '\r';
const HEX = '0123456789ABCDEF';
const hexByte = (b: number): string => '<0x' + HEX[b >> 4] + HEX[b & 15] + '>';

const decoder = new TextDecoder('utf-8', { fatal: false });

export class Tokenizer {
  readonly kind: Kind;
  /** tokenizer.ggml.model and the pre-tokenizer name in use. */
  readonly model: string;
  readonly pre: string;
  readonly vocabSize: number;
  readonly bos: number;
  readonly eos: number;
  readonly eot: number;
  readonly unk: number;
  readonly sep: number;
  readonly pad: number;
  /** Ids that end generation (EOS, EOT, <|im_end|>, ...). */
  readonly eog: ReadonlySet<number>;
  readonly addBos: boolean;
  readonly addEos: boolean;
  readonly chatTemplate: string | undefined;

  private readonly tokens: string[];
  private readonly scores: Float32Array;
  private readonly attrs: Uint16Array;
  private readonly tokenToId = new Map<string, number>();
  private readonly ranks = new Map<string, number>();
  private readonly rawBytes = new Map<number, Uint8Array>(); // tokens that are not UTF-8
  private readonly byteTokens = new Map<number, number>();   // single non-UTF-8 byte -> id
  private readonly specials: number[];
  private readonly pieces: (Uint8Array | undefined)[];
  private readonly addSpacePrefix: boolean;
  private readonly escapeWhitespaces: boolean;
  private readonly cleanSpaces: boolean;
  private readonly ignoreMerges: boolean;
  private readonly byteEncode: boolean;
  private readonly exprs: readonly string[];
  private readonly lowercase: boolean;
  private readonly stripAccents: boolean;
  private readonly maxTokenLen: number;

  static fromJSON(obj: TokenizerJSON, opts: TokenizerOptions = {}): Tokenizer {
    return new Tokenizer(obj, opts);
  }

  private constructor(j: TokenizerJSON, opts: TokenizerOptions) {
    const model = j.model;
    let pre = j.pre ?? '';
    const NONE = -1;
    let bos = NONE, eos = NONE, unk = NONE, sep = NONE, pad = NONE;
    let addBos = false, addEos = false;
    let addSpacePrefix = false, escapeWs = true, clean = false, ignoreMerges = false, byteEnc = true;
    let exprs: readonly string[] = [];
    let kind: Kind;
    if (model === 'llama') {
      kind = 'spm';
      bos = 1; eos = 2; unk = 0;
      addSpacePrefix = true; addBos = true;
      pre = 'default';
    } else if (model === 'bert') {
      kind = 'wpm';
      bos = 101; unk = 100; sep = 102; pad = 0;
      addBos = true;
      clean = true;
      pre = 'default';
    } else if (model === 'gpt2' || model === 'gemma4') {
      kind = 'bpe';
      if (model === 'gemma4') pre = 'gemma4';
      else { bos = 11; eos = 11; }
      if (!pre) pre = 'default';
      const info = PRE[pre];
      if (!info) throw new UnsupportedTokenizerError(`pre-tokenizer '${pre}' is not supported`);
      escapeWs = info.escapeWhitespaces ?? false;
      clean = info.cleanSpaces ?? true;
      ignoreMerges = info.ignoreMerges ?? false;
      byteEnc = info.byteEncode ?? true;
      if (info.addBos) addBos = true;
      if (pre === 'glm4' || pre === 'chatglm-bpe') bos = NONE;
      exprs = info.exprs;
    } else {
      throw new UnsupportedTokenizerError(`tokenizer model '${model}' is not supported`);
    }
    if (typeof j.add_space_prefix === 'boolean') addSpacePrefix = j.add_space_prefix;

    const n = j.tokens.length;
    this.kind = kind;
    this.model = model;
    this.pre = pre;
    this.vocabSize = n;
    this.tokens = j.tokens.slice();
    this.scores = new Float32Array(n);
    this.attrs = new Uint16Array(n);
    for (const [k, b64] of Object.entries(j.invalid_utf8 ?? {})) {
      const bin = atob(b64);
      const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
      this.rawBytes.set(Number(k), bytes);
      if (bytes.length === 1) this.byteTokens.set(bytes[0]!, Number(k));
    }
    let maxLen = 0;
    for (let i = 0; i < n; i++) { // i < n === this.tokens.length below
      if (this.tokens[i] === '') this.tokens[i] = `[EMPTY_${i}]`;
      if (!this.rawBytes.has(i)) this.tokenToId.set(this.tokens[i]!, i);
      maxLen = Math.max(maxLen, utf8Length(this.tokens[i]!));
      const s = j.scores?.[i];
      this.scores[i] = typeof s === 'number' ? s : 0;
      this.attrs[i] = j.token_types ? (TYPE_TO_ATTR[j.token_types[i] ?? -1] ?? 0) : A_NORMAL;
    }
    this.maxTokenLen = maxLen;
    if (kind === 'bpe') {
      const merges = j.merges ?? [];
      for (let i = 0; i < merges.length; i++) {
        const w = merges[i]!;
        const p = w.indexOf(' ', 1);
        // the merge string itself is the key when its one space separates
        // the pair (the usual case); else a key that keeps the pair apart
        const key = p >= 0 && p < w.length - 1 && w.indexOf(' ', p + 1) < 0 && w[0] !== ' ' ? w
          : p < 0 ? this.mergeKey('', '') : this.mergeKey(w.slice(0, p), w.slice(p + 1));
        if (!this.ranks.has(key)) this.ranks.set(key, i);
      }
    }

    // special ids: metadata over the defaults, dropped when out of range
    const sp = j.special ?? {};
    const pick = (def: number, key: string): number => {
      if (def >= n) def = NONE;
      const v = sp[key];
      return typeof v === 'number' && v >= 0 && v < n ? v : def;
    };
    bos = pick(bos, 'bos'); eos = pick(eos, 'eos'); unk = pick(unk, 'unk');
    sep = pick(sep, 'sep'); pad = pick(pad, 'pad');
    let eot = pick(NONE, 'eot');
    let eom = pick(NONE, 'eom');
    if (typeof j.add_bos === 'boolean') addBos = j.add_bos;
    if (typeof j.add_eos === 'boolean') addEos = j.add_eos;
    if (pre === 'gemma4') addBos = true;

    // llama.cpp's by-text fixes of token attributes, in its order
    const attrs = this.attrs;
    const idOf = (t: string): number => this.tokenToId.get(t) ?? NONE;
    const makeControl = (id: number): void => { attrs[id]! |= A_CONTROL; }; // ID: a found token
    if (eot === NONE) {
      for (const t of EOT_TEXTS) if (idOf(t) !== NONE) { eot = idOf(t); makeControl(eot); break; }
    }
    if (eom === NONE && idOf('<|eom_id|>') !== NONE) { eom = idOf('<|eom_id|>'); makeControl(eom); }
    const fim: Record<string, number> = {};
    for (const [k, texts] of Object.entries(FIM_TEXTS)) {
      let id = pick(NONE, k);
      if (id === NONE) {
        for (const t of texts) if (idOf(t) !== NONE) { id = idOf(t); makeControl(id); break; }
      }
      fim[k] = id;
    }
    for (let i = 0; i < n; i++) {
      if ((attrs[i]! & A_CONTROL) && this.tokens[i]!.includes('unused')) attrs[i]! |= A_UNUSED;
    }
    const eog = new Set<number>();
    // (FIM_TEXTS has these keys, so the loop above set them)
    for (const k of ['fim_pad', 'fim_rep', 'fim_sep']) if (fim[k] !== NONE) eog.add(fim[k]!);
    for (const t of EOG_TEXTS) {
      const id = idOf(t);
      if (id !== NONE) { eog.add(id); makeControl(id); }
    }
    for (const t of ['<|channel|>', '<|message|>', '<|start|>', '<|constrain|>']) {
      if (idOf(t) !== NONE) attrs[idOf(t)] = A_USER_DEFINED;
    }
    if (eos !== NONE) eog.add(eos);
    if (eot !== NONE) eog.add(eot);
    if (eom !== NONE) eog.add(eom);
    const eogText = (t: string): boolean => idOf(t) !== NONE && eog.has(idOf(t));
    if ((eogText('<|return|>') && eogText('<|call|>') && eogText('<|end|>')) ||
        (eogText('<|calls|>') && eogText('<|flush|>') && eogText('<|end|>'))) {
      eog.delete(idOf('<|end|>'));
      attrs[idOf('<|end|>')] = A_USER_DEFINED;
    }
    if (eogText('<|tool_response>') && eogText('</s>')) {
      eog.delete(idOf('</s>'));
      attrs[idOf('</s>')] = A_NORMAL;
    }

    // special tokens, longest (in bytes) first; ties by id
    const specials: number[] = [];
    const byteLen = new Map<number, number>();
    for (let i = 0; i < n; i++) {
      if ((attrs[i]! & (A_CONTROL | A_USER_DEFINED | A_UNKNOWN)) && !this.rawBytes.has(i)) {
        specials.push(i);
        byteLen.set(i, utf8Length(this.tokens[i]!));
      }
    }
    specials.sort((a, b) => byteLen.get(b)! - byteLen.get(a)! || a - b);
    this.specials = specials;
    this.pieces = new Array<Uint8Array | undefined>(n);

    const name = (opts.modelName ?? '').toLowerCase();
    if (name.includes('phi-3') || name.includes('phi3')) {
      for (const id of specials) attrs[id]! |= A_RSTRIP;
      if (idOf('</s>') !== NONE) attrs[idOf('</s>')]! |= A_RSTRIP;
      for (const t of ['<unk>', '<s>', '<|endoftext|>']) if (idOf(t) !== NONE) attrs[idOf(t)]! &= ~A_RSTRIP;
    }

    this.bos = bos; this.eos = eos; this.eot = eot; this.unk = unk; this.sep = sep; this.pad = pad;
    this.eog = eog;
    this.addBos = addBos; this.addEos = addEos;
    this.addSpacePrefix = addSpacePrefix;
    this.escapeWhitespaces = escapeWs;
    this.cleanSpaces = clean;
    this.ignoreMerges = ignoreMerges;
    this.byteEncode = byteEnc;
    this.exprs = exprs;
    this.lowercase = typeof j.lowercase === 'boolean' ? j.lowercase : true;
    this.stripAccents = typeof j.strip_accents === 'boolean' ? j.strip_accents : this.lowercase;
    this.chatTemplate = j.chat_template;
  }

  /** The text of token ID as stored in the vocabulary (undefined when ID
   *  is not in [0, vocabSize)). */
  tokenText(id: number): string | undefined {
    return this.tokens[id];
  }

  /** The id of the token whose text is TEXT, or -1. */
  textToToken(text: string): number {
    return this.tokenToId.get(text) ?? -1;
  }

  isEog(id: number): boolean {
    return this.eog.has(id);
  }

  // ---- encode --------------------------------------------------------------

  encode(text: string, opts: EncodeOptions = {}): number[] {
    const addSpecial = opts.addSpecial ?? true;
    const parseSpecial = opts.parseSpecial ?? false;
    const out: number[] = [];
    const frags = text === '' ? [] : this.partition(wellFormed(text), parseSpecial);
    const esc = (s: string): string => s.replaceAll(' ', '\u2581');
    if (this.kind === 'spm') {
      if (addSpecial && this.addBos) out.push(this.need(this.bos, 'BOS'));
      let prevSpecial = true;
      for (const f of frags) {
        if (typeof f === 'number') { out.push(f); prevSpecial = true; continue; }
        const t = (this.addSpacePrefix && prevSpecial ? ' ' : '') + f;
        this.spm(esc(t), out);
        prevSpecial = false;
      }
      if (addSpecial && this.addEos) out.push(this.need(this.eos, 'EOS'));
    } else if (this.kind === 'bpe') {
      if (addSpecial && this.addBos) out.push(this.need(this.bos, 'BOS'));
      for (const f of frags) {
        if (typeof f === 'number') out.push(f);
        else this.bpe(this.escapeWhitespaces ? esc(f) : f, out);
      }
      if (addSpecial && this.addEos) out.push(this.need(this.eos, 'EOS'));
    } else {
      if (addSpecial) out.push(this.need(this.bos, 'BOS'));
      for (const f of frags) {
        if (typeof f === 'number') out.push(f);
        else this.wpm(f, out);
      }
      if (addSpecial) out.push(this.need(this.sep, 'SEP'));
    }
    return out;
  }

  private need(id: number, what: string): number {
    if (id < 0) throw new Error(`tokenizer: the vocabulary has no ${what} token`);
    return id;
  }

  /** Cuts special tokens out of TEXT (llama.cpp's tokenizer_st_partition). */
  private partition(text: string, parseSpecial: boolean): Fragment[] {
    let frags: Fragment[] = [text];
    for (const id of this.specials) {
      const attr = this.attrs[id]!; // specials are ids of the vocabulary
      if (!parseSpecial && (attr & (A_CONTROL | A_UNKNOWN))) continue;
      const tt = this.tokens[id]!;
      let found = false;
      for (const f of frags) if (typeof f === 'string' && f.includes(tt)) { found = true; break; }
      if (!found) continue;
      const next: Fragment[] = [];
      for (const f of frags) {
        if (typeof f === 'number') { next.push(f); continue; }
        let rest = f;
        for (;;) {
          const m = rest.indexOf(tt);
          if (m < 0) { if (rest.length) next.push(rest); break; }
          let left = rest.slice(0, m);
          if (attr & A_LSTRIP) { let e = left.length; while (e > 0 && isSpaceCh(left[e - 1]!)) e--; left = left.slice(0, e); }
          if (left.length) next.push(left);
          next.push(id);
          rest = rest.slice(m + tt.length);
          if (attr & A_RSTRIP) { let b = 0; while (b < rest.length && isSpaceCh(rest[b]!)) b++; rest = rest.slice(b); }
          if (!rest.length) break;
        }
      }
      frags = next;
    }
    return frags;
  }

  private byteTokenSpm(b: number): number {
    const id = this.tokenToId.get(hexByte(b)) ?? (b < 0x80 ? this.tokenToId.get(String.fromCharCode(b)) : this.byteTokens.get(b));
    if (id === undefined) throw new Error(`tokenizer: no token for byte 0x${b.toString(16)}`);
    return id;
  }

  /** llama.cpp's SPM session on TEXT (spaces already "▁"). */
  private spm(text: string, out: number[]): void {
    const start: number[] = [];
    for (let i = 0; i < text.length; ) {
      start.push(i);
      i += text.codePointAt(i)! > 0xffff ? 2 : 1;
    }
    const n = start.length;
    if (n === 0) return;
    // below, every index into start/len/prev/next is in [0, n): pairs come
    // from tryAdd, which drops -1, and prev/next hold indices or -1
    const len = start.map((s, i) => (i + 1 < n ? start[i + 1]! : text.length) - s);
    const prev = start.map((_, i) => i - 1);
    const next = start.map((_, i) => (i + 1 < n ? i + 1 : -1));
    // higher score first; on a tie the leftmost
    const queue = new Heap<Bigram>((a, b) => a.rank > b.rank || (a.rank === b.rank && a.left < b.left));
    const revMerge = new Map<string, [number, number]>();
    const tryAdd = (l: number, r: number): void => {
      if (l < 0 || r < 0) return;
      const s = text.slice(start[l], start[l]! + len[l]! + len[r]!);
      const id = this.tokenToId.get(s);
      if (id === undefined) return;
      queue.push({ left: l, right: r, rank: this.scores[id]!, size: s.length, text: s });
      revMerge.set(s, [l, r]);
    };
    for (let i = 1; i < n; i++) tryAdd(i - 1, i);
    while (queue.size) {
      const bg = queue.pop();
      const l = bg.left, r = bg.right;
      if (len[l] === 0 || len[r] === 0 || len[l]! + len[r]! !== bg.size) continue;
      len[l]! += len[r]!;
      len[r] = 0;
      const nr = next[r]!;
      next[l] = nr;
      if (nr >= 0) prev[nr] = l;
      tryAdd(prev[l]!, l);
      tryAdd(l, nr);
    }
    const reseg = (i: number): void => {
      const s = text.slice(start[i], start[i]! + len[i]!);
      const id = this.tokenToId.get(s);
      if (id !== undefined) { out.push(id); return; }
      const p = revMerge.get(s);
      if (!p) { for (const b of utf8(s)) out.push(this.byteTokenSpm(b)); return; }
      reseg(p[0]);
      reseg(p[1]);
    };
    for (let i = 0; i !== -1; i = next[i]!) reseg(i);
  }

  private mergeKey(a: string, b: string): string {
    return a.includes(' ') || b.includes(' ') || a === '' || b === '' ? '\u0000' + a.length + ':' + a + b : a + ' ' + b;
  }

  /** llama.cpp's BPE session on TEXT. */
  private bpe(text: string, out: number[]): void {
    const words = regexSplit(text, this.exprs, this.byteEncode);
    const queue = new Heap<Bigram>((a, b) => a.rank < b.rank || (a.rank === b.rank && a.left < b.left));
    for (const word of words) {
      const start: number[] = [];
      const len: number[] = [];
      let whole = false;
      if (this.ignoreMerges && this.tokenToId.has(word)) whole = true;
      else if (this.pre === 'gemma4' && /^\n*$/.test(word) && this.tokenToId.has(word)) whole = true;
      if (whole) {
        start.push(0);
        len.push(word.length);
      } else {
        for (let i = 0; i < word.length; ) {
          const k = word.codePointAt(i)! > 0xffff ? 2 : 1;
          start.push(i);
          len.push(k);
          i += k;
        }
      }
      const n = start.length;
      const prev = start.map((_, i) => i - 1);
      const next = start.map((_, i) => (i + 1 < n ? i + 1 : -1));
      // indices into start/len/prev/next are in [0, n), as in spm()
      const sym = (i: number): string => word.slice(start[i], start[i]! + len[i]!);
      const tryAdd = (l: number, r: number): void => {
        if (l < 0 || r < 0) return;
        const a = sym(l), b = sym(r);
        const rank = this.ranks.get(this.mergeKey(a, b));
        if (rank === undefined) return;
        queue.push({ left: l, right: r, rank, size: a.length + b.length, text: a + b });
      };
      for (let i = 1; i < n; i++) tryAdd(i - 1, i);
      while (queue.size) {
        const bg = queue.pop();
        const l = bg.left, r = bg.right;
        if (len[l] === 0 || len[r] === 0) continue;
        if (sym(l) + sym(r) !== bg.text) continue;
        len[l]! += len[r]!;
        len[r] = 0;
        const nr = next[r]!;
        next[l] = nr;
        if (nr >= 0) prev[nr] = l;
        tryAdd(prev[l]!, l);
        tryAdd(l, nr);
      }
      for (let i = 0; i < n; i++) {
        if (len[i] === 0) continue;
        const s = sym(i);
        const id = this.tokenToId.get(s);
        if (id !== undefined) { out.push(id); continue; }
        for (const b of utf8(s)) {
          let t: number | undefined;
          if (this.byteEncode) t = b < 0x80 ? this.tokenToId.get(String.fromCharCode(b)) : this.byteTokens.get(b);
          else t = this.tokenToId.get(hexByte(b));
          if (t !== undefined) out.push(t);
        }
      }
    }
  }

  /** llama.cpp's WordPiece session on TEXT. */
  private wpm(text: string, out: number[]): void {
    const words: string[] = [''];
    for (let cp of codepoints(text)) {
      if (this.stripAccents) cp = String.fromCodePoint(cp).normalize('NFD').codePointAt(0)!;
      const f = cptFlags(cp);
      if (f & F_WHITESPACE) {
        if (words[words.length - 1] !== '') words.push('');
        continue;
      }
      if (cp === 0 || cp === 0xfffd || (f & F_CONTROL)) continue;
      if (this.stripAccents && (f & F_MARK)) continue;
      let s = String.fromCodePoint(cp);
      if (this.lowercase) s = String.fromCodePoint(s.toLowerCase().codePointAt(0)!);
      if ((f & F_PUNCT) || (cp < 0x7f && (f & F_SYMBOL)) || isChinese(cp)) {
        if (words[words.length - 1] !== '') words.push('');
        words[words.length - 1] = s;
        words.push('');
      } else {
        words[words.length - 1] += s;
      }
    }
    for (const word of words) {
      if (word === '') continue;
      const w = '\u2581' + word;
      // code-unit and byte offsets of the character boundaries
      const cu: number[] = [0];
      const by: number[] = [0];
      for (let i = 0; i < w.length; ) {
        const c = w.codePointAt(i)!;
        i += c > 0xffff ? 2 : 1;
        cu.push(i);
        by.push(by[by.length - 1]! + (c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4));
      }
      const before = out.length;
      for (let i = 0; i < cu.length - 1; ) {
        let matched = -1;
        for (let j = cu.length - 1; j > i; j--) {
          if (by[j]! - by[i]! > this.maxTokenLen + 1) continue;
          const id = this.tokenToId.get(w.slice(cu[i], cu[j]));
          if (id !== undefined) { out.push(id); matched = j; break; }
        }
        if (matched < 0) { out.length = before; break; }
        i = matched;
      }
      if (out.length === before) out.push(this.unk);
    }
  }

  // ---- decode --------------------------------------------------------------

  /** The bytes token ID stands for (llama.cpp's token_to_piece); control
   *  and unknown tokens are empty unless SPECIAL. */
  tokenToBytes(id: number, special = true): Uint8Array {
    if (id < 0 || id >= this.vocabSize) return new Uint8Array(0);
    const attr = this.attrs[id]!;
    if (!special && (attr & (A_UNKNOWN | A_CONTROL))) return new Uint8Array(0);
    let p = this.pieces[id];
    if (!p) {
      p = this.piece(id);
      this.pieces[id] = p;
    }
    return p;
  }

  /** The text of token ID's bytes (a lone byte of a longer UTF-8
   *  sequence reads U+FFFD: join bytes with decode() for text). */
  tokenToPiece(id: number, special = true): string {
    return decoder.decode(this.tokenToBytes(id, special));
  }

  /** ID is in [0, vocabSize) (tokenToBytes checks). */
  private piece(id: number): Uint8Array {
    const attr = this.attrs[id]!;
    const text = this.tokens[id]!;
    const raw = this.rawBytes.get(id) ?? utf8(text);
    if (attr & (A_UNKNOWN | A_CONTROL | A_USER_DEFINED)) return raw;
    if (attr & A_NORMAL) {
      if (this.kind !== 'bpe' || this.escapeWhitespaces) return utf8(text.replaceAll('\u2581', ' '));
      // GPT-2 byte characters back to bytes
      const out: number[] = [];
      for (const ch of text) {
        const b = charByte(ch);
        if (b >= 0) out.push(b);
        else {
          let s = '[UNK_BYTE_0x';
          for (const x of utf8(ch)) s += x.toString(16).padStart(2, '0');
          s += text + ']';
          out.push(...utf8(s));
        }
      }
      return Uint8Array.from(out);
    }
    if ((attr & A_BYTE) && this.kind !== 'wpm') return Uint8Array.of(parseInt(text.slice(3, 5), 16));
    return new Uint8Array(0);
  }

  /** Text of IDS (llama.cpp's detokenize, bytes decoded at the end). */
  decode(ids: readonly number[], opts: DecodeOptions = {}): string {
    return decoder.decode(this.decodeBytes(ids, opts));
  }

  decodeBytes(ids: readonly number[], opts: DecodeOptions = {}): Uint8Array {
    const special = opts.special ?? true;
    let lo = 0, hi = ids.length;
    let removeSpace = this.addSpacePrefix;
    if (opts.removeSpecial && this.addBos && hi > 0 && ids[0] === this.bos) { removeSpace = false; lo++; }
    if (opts.removeSpecial && this.addEos && hi > lo && ids[hi - 1] === this.eos) hi--;
    const parts: Uint8Array[] = [];
    let total = 0;
    for (let i = lo; i < hi; i++) {
      let p = this.tokenToBytes(ids[i]!, special);
      if (removeSpace && p.length && p[0] === 0x20) p = p.subarray(1);
      removeSpace = false;
      parts.push(p);
      total += p.length;
    }
    const t = new Uint8Array(total);
    let o = 0;
    for (const p of parts) { t.set(p, o); o += p.length; }
    return this.cleanSpaces ? cleanUp(t) : t;
  }
}

/** llama.cpp's clean_spaces passes, in place on the bytes. */
function cleanUp(text: Uint8Array): Uint8Array {
  const Q = 0x3f, BANG = 0x21, DOT = 0x2e, COMMA = 0x2c, APOS = 0x27, SP = 0x20;
  let total = text.length;
  // " ?", " !", " .", " ,"
  let n = total;
  total = n ? 1 : 0;
  for (let i = 1; i < n; i++) {
    const x = text[i]!; // i < n <= text.length
    if (text[i - 1] === SP && (x === Q || x === BANG || x === DOT || x === COMMA)) total--;
    text[total++] = x;
  }
  // " ' " -> "'"
  n = total;
  total = n ? 1 : 0;
  for (let i = 1; i < n; i++) {
    const x = text[i]!; // i < n <= text.length
    if (x === APOS && i + 1 < n && text[i - 1] === SP && text[i + 1] === SP) {
      total--;
      text[++i] = 0;
    }
    text[total++] = x;
  }
  // " 's", " 'm", " 're", " 've"
  n = total;
  total = n ? 1 : 0;
  for (let i = 1; i < n; i++) {
    const x = text[i]!; // i < n <= text.length
    if (text[i - 1] === SP && x === APOS && i + 1 < n) {
      const x1 = text[i + 1];
      if (x1 === 0x73 || x1 === 0x6d) total--;
      else if (i + 2 < n) {
        const x2 = text[i + 2];
        if ((x1 === 0x72 && x2 === 0x65) || (x1 === 0x76 && x2 === 0x65)) total--;
      }
    }
    text[total++] = x;
  }
  return text.subarray(0, total);
}

function isChinese(cp: number): boolean {
  return (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) || (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) || (cp >= 0x2b920 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0x2f800 && cp <= 0x2fa1f);
}
