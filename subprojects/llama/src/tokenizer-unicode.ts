// Unicode helpers for the tokenizer: code point classes, GPT-2 byte
// encoding and the pre-tokenizer split, each written to give the results of
// llama.cpp's unicode.cpp (its ground truth is what the tests compare with),
// not those of the Hugging Face tokenizers where the two differ.
//
// How llama.cpp splits: a list of regexes applied in turn; each one splits
// every piece left by the previous one into its matches and the gaps between
// them (both kept).  Five patterns have hand-written matchers (GPT-2, Llama 3,
// Qwen2, Qwen3.5, runs of newlines), ported below; the others run through
// std::regex (ECMAScript flavour, close to JS) on a "collapsed" text where
// every non-ASCII code point stands for its class (letter, number, ...), or,
// when the regex has no \p{..}, on the code points themselves with non-ASCII
// white space turned into \v.  Both are emulated here with JS RegExp.

/** Class bits of a code point, as llama.cpp's unicode_cpt_flags. */
export const F_UNDEFINED = 0x01;
export const F_NUMBER = 0x02;
export const F_LETTER = 0x04;
export const F_SEPARATOR = 0x08;
export const F_MARK = 0x10;
export const F_PUNCT = 0x20;
export const F_SYMBOL = 0x40;
export const F_CONTROL = 0x80;
export const F_WHITESPACE = 0x100;

const reClass: [RegExp, number][] = [
  [/^\p{N}$/u, F_NUMBER],
  [/^\p{L}$/u, F_LETTER],
  [/^\p{Z}$/u, F_SEPARATOR],
  [/^\p{M}$/u, F_MARK],
  [/^\p{P}$/u, F_PUNCT],
  [/^\p{S}$/u, F_SYMBOL],
  [/^[\p{Cc}\p{Cf}\p{Co}\p{Cs}]$/u, F_CONTROL],
];
const reWhite = /^\p{White_Space}$/u;

let flagTable: Uint16Array | null = null; // 0 = not yet computed

/** Class bits of code point CP (never 0 for a valid code point). */
export function cptFlags(cp: number): number {
  if (cp < 0 || cp > 0x10ffff) return 0;
  if (flagTable === null) flagTable = new Uint16Array(0x110000);
  let f = flagTable[cp]!; // cp is in [0, 0x10ffff]
  if (f !== 0) return f;
  const s = String.fromCodePoint(cp);
  f = F_UNDEFINED; // unassigned (Cn)
  for (const [re, bit] of reClass) {
    if (re.test(s)) {
      f = bit;
      break;
    }
  }
  if (reWhite.test(s)) f |= F_WHITESPACE;
  flagTable[cp] = f;
  return f;
}

/** Code points of S (S is well formed: see wellFormed). */
export function codepoints(s: string): number[] {
  const out: number[] = [];
  for (let i = 0; i < s.length; ) {
    const c = s.codePointAt(i)!;
    out.push(c);
    i += c > 0xffff ? 2 : 1;
  }
  return out;
}

/** S with lone surrogates replaced by U+FFFD, as UTF-8 encoding would. */
export function wellFormed(s: string): string {
  return /[\uD800-\uDFFF]/.test(s)
    ? s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD')
    : s;
}

/** Length of S in UTF-8 bytes. */
export function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x80) n += c >= 0x800 && (c < 0xd800 || c > 0xdfff) ? 2 : c < 0x800 ? 1 : 0;
  }
  return n;
}

const encoder = new TextEncoder();
export function utf8(s: string): Uint8Array {
  return encoder.encode(s);
}

// ---- GPT-2 byte <-> character map ------------------------------------------

let byteToChar: string[] | null = null;
let charToByte: Map<string, number> | null = null;

function byteMaps(): void {
  if (byteToChar) return;
  byteToChar = new Array<string>(256);
  charToByte = new Map();
  let n = 0;
  for (let b = 0; b < 256; b++) {
    const printable = (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
    const cp = printable ? b : 256 + n++;
    const ch = String.fromCodePoint(cp);
    byteToChar[b] = ch;
    charToByte.set(ch, b);
  }
}

/** The byte-level form of S: each UTF-8 byte as its GPT-2 character. */
export function byteEncode(s: string): string {
  byteMaps();
  let out = '';
  for (const b of utf8(s)) out += byteToChar![b];
  return out;
}

/** The byte of a GPT-2 byte character, or -1. */
export function charByte(ch: string): number {
  byteMaps();
  return charToByte!.get(ch) ?? -1;
}

// ---- hand-written matchers (llama.cpp's unicode_regex_split_custom_*) ------

type Splitter = (cpts: number[], offsets: number[]) => number[];

/** Runs over each piece [ini, end) of OFFSETS; BODY returns new lengths. */
function perPiece(cpts: number[], offsets: number[],
  body: (cpt: (p: number) => number, fl: (p: number) => number, ini: number, end: number,
    add: (e: number) => number) => void): number[] {
  const out: number[] = [];
  let start = 0;
  for (const len of offsets) {
    const ini = start;
    const end = start + len;
    start = end;
    let prev = ini;
    // [ini, end) lies inside CPTS: OFFSETS are lengths that sum to its length
    const cpt = (p: number): number => (p >= ini && p < end ? cpts[p]! : -1);
    const fl = (p: number): number => (p >= ini && p < end ? cptFlags(cpts[p]!) : 0);
    const add = (e: number): number => {
      const l = e - prev;
      if (l > 0) out.push(l);
      prev = e;
      return l;
    };
    body(cpt, fl, ini, end, add);
  }
  return out;
}

const APOS = 0x27;
const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const lowerAscii = (c: number): number => (c >= 0x41 && c <= 0x5a ? c + 32 : c);

// 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)
const splitGpt2: Splitter = (cpts, offsets) => perPiece(cpts, offsets, (cpt, fl, ini, end, add) => {
  for (let pos = ini; pos < end; ) {
    const c = cpt(pos);
    const f = fl(pos);
    if (c === APOS && pos + 1 < end) {
      const n = cpt(pos + 1);
      if (n === 0x73 || n === 0x74 || n === 0x6d || n === 0x64) { pos += add(pos + 2); continue; }
      if (pos + 2 < end) {
        const nn = cpt(pos + 2);
        if ((n === 0x72 && nn === 0x65) || (n === 0x76 && nn === 0x65) || (n === 0x6c && nn === 0x6c)) {
          pos += add(pos + 3);
          continue;
        }
      }
    }
    let f2 = c === SP ? fl(pos + 1) : f;
    if (f2 & F_LETTER) {
      if (c === SP) pos++;
      while (f2 & F_LETTER) f2 = fl(++pos);
      add(pos);
      continue;
    }
    if (f2 & F_NUMBER) {
      if (c === SP) pos++;
      while (f2 & F_NUMBER) f2 = fl(++pos);
      add(pos);
      continue;
    }
    const other = F_WHITESPACE | F_LETTER | F_NUMBER;
    if (!(f2 & other) && f2) {
      if (c === SP) pos++;
      while (!(f2 & other) && f2) f2 = fl(++pos);
      add(pos);
      continue;
    }
    let nws = 0;
    while (fl(pos + nws) & F_WHITESPACE) nws++;
    if (nws > 1 && cpt(pos + nws) !== -1) { pos += nws - 1; add(pos); continue; }
    if (nws > 0) { pos += nws; add(pos); continue; }
    add(++pos);
  }
});

// The Llama 3 family: (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|
// \p{N}{1,MAXDIGITS}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+ ; with
// MARKS, letter runs take \p{M} too (Qwen3.5).
function llama3Like(maxDigits: number, marks: boolean): Splitter {
  const letter = marks ? F_LETTER | F_MARK : F_LETTER;
  const other = F_WHITESPACE | F_NUMBER | letter;
  return (cpts, offsets) => perPiece(cpts, offsets, (cpt, fl, ini, end, add) => {
    for (let pos = ini; pos < end; ) {
      const c = cpt(pos);
      const f = fl(pos);
      if (c === APOS && pos + 1 < end) {
        const n = lowerAscii(cpt(pos + 1));
        if (n === 0x73 || n === 0x74 || n === 0x6d || n === 0x64) { pos += add(pos + 2); continue; }
        if (pos + 2 < end) {
          const nn = lowerAscii(cpt(pos + 2));
          if ((n === 0x72 && nn === 0x65) || (n === 0x76 && nn === 0x65) || (n === 0x6c && nn === 0x6c)) {
            pos += add(pos + 3);
            continue;
          }
        }
      }
      if (!(c === CR || c === LF || (f & F_NUMBER))) {
        if ((f & letter) || (fl(pos + 1) & letter)) {
          pos++;
          while (fl(pos) & letter) pos++;
          add(pos);
          continue;
        }
      }
      if (f & F_NUMBER) {
        if (maxDigits === 1) {
          add(++pos);
        } else {
          let ini2 = pos;
          while (fl(pos) & F_NUMBER) {
            if (++pos - ini2 >= maxDigits) { add(pos); ini2 = pos; }
          }
          add(pos);
        }
        continue;
      }
      let f2 = c === SP ? fl(pos + 1) : f;
      if (!(f2 & other) && f) {
        if (c === SP) pos++;
        while (!(f2 & other) && f2) f2 = fl(++pos);
        let c2 = cpt(pos);
        while (c2 === CR || c2 === LF) c2 = cpt(++pos);
        add(pos);
        continue;
      }
      let nws = 0;
      let lastRN = 0;
      while (fl(pos + nws) & F_WHITESPACE) {
        const c2 = cpt(pos + nws);
        if (c2 === CR || c2 === LF) lastRN = pos + nws + 1;
        nws++;
      }
      if (lastRN > 0) { pos = lastRN; add(pos); continue; }
      if (nws > 1 && cpt(pos + nws) !== -1) { pos += nws - 1; add(pos); continue; }
      if (nws > 0) { pos += nws; add(pos); continue; }
      add(++pos);
    }
  });
}

// [^\n]+|[\n]+
const splitNewlines: Splitter = (cpts, offsets) => perPiece(cpts, offsets, (_cpt, _fl, ini, end, add) => {
  let pos = ini;
  while (pos < end) {
    const nl = cpts[pos] === LF;
    while (pos < end && (cpts[pos] === LF) === nl) pos++;
    add(pos);
  }
});

// The exact pattern strings llama.cpp hands to its own matchers.
const CONTRACTIONS = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])";
export const RE_GPT2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";
export const RE_LLAMA3 = CONTRACTIONS +
  '|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+';
export const RE_QWEN2 = CONTRACTIONS +
  '|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+';
export const RE_QWEN35 = CONTRACTIONS +
  '|[^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]+|\\p{N}| ?[^\\s\\p{L}\\p{M}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+';
export const RE_NEWLINES = '[^\\n]+|[\\n]+';

const custom = new Map<string, Splitter>([
  [RE_GPT2, splitGpt2],
  [RE_LLAMA3, llama3Like(3, false)],
  [RE_QWEN2, llama3Like(1, false)],
  [RE_QWEN35, llama3Like(1, true)],
  [RE_NEWLINES, splitNewlines],
]);

// ---- std::regex emulation --------------------------------------------------

// Category -> [stand-in character, the ASCII members written as class text].
type Category = 'N' | 'L' | 'P' | 'M' | 'S';
const CAT: Record<Category, [string, string]> = {
  N: ['\u00d1', '0-9'],
  L: ['\u00d2', 'A-Za-z'],
  P: ['\u00d3', '!-#%-*,-/:-;?-@\\[-\\]_\\{\\}'],
  M: ['\u00d4', ''],
  S: ['\u00d5', '\\$\\+<->\\^`\\|\\~'],
};
const CAT_ALIAS: Record<string, Category> = { N: 'N', L: 'L', P: 'P', M: 'M', S: 'S', Lu: 'L', Ll: 'L', Lt: 'L', Lm: 'L', Lo: 'L' };
const reCategory = /\\p\{(N|L|P|M|S|Lu|Ll|Lt|Lm|Lo)\}/;

function collapsedChar(cp: number): string {
  if (cp < 128) return String.fromCharCode(cp);
  const f = cptFlags(cp);
  if (f & F_WHITESPACE) return '\u000b';
  switch (f & 0xff) {
    case F_NUMBER: return CAT.N[0];
    case F_LETTER: return CAT.L[0];
    case F_PUNCT: return CAT.P[0];
    case F_MARK: return CAT.M[0];
    case F_SYMBOL: return CAT.S[0];
    default: return '\u00d0';
  }
}

// C's isspace: \s and \S as the C locale has them (ASCII only).
const WS_CLASS = '\\t\\n\\v\\f\\r ';

/** EXPR (ECMAScript syntax with \p{..}) as llama.cpp rewrites it for the
 *  collapsed text, or as is for the code point text; \s made ASCII. */
function translate(expr: string, collapse: boolean): string {
  let out = '';
  let inside = false;
  for (let i = 0; i < expr.length; i++) {
    const ch = expr[i];
    if (ch === '[' && (i === 0 || expr[i - 1] !== '\\')) { out += '['; inside = true; continue; }
    if (inside && ch === ']' && expr[i - 1] !== '\\') { out += ']'; inside = false; continue; }
    if (ch === '\\' && i + 1 < expr.length) {
      const nx = expr[i + 1];
      if (collapse && nx === 'p') {
        const m = reCategory.exec(expr.slice(i));
        if (m && m.index === 0) {
          // group 1 always takes part and is one of CAT_ALIAS's keys
          const [stand, ascii] = CAT[CAT_ALIAS[m[1]!]!];
          out += inside ? stand + ascii : '[' + stand + ascii + ']';
          i += m[0].length - 1;
          continue;
        }
      }
      if (nx === 's') { out += inside ? WS_CLASS : '[' + WS_CLASS + ']'; i++; continue; }
      if (nx === 'S' && !inside) { out += '[^' + WS_CLASS + ']'; i++; continue; }
      out += ch + nx;
      i++;
      continue;
    }
    out += ch;
  }
  return out;
}

interface Compiled { re: RegExp; collapse: boolean }
const compiled = new Map<string, Compiled>();

function compile(expr: string): Compiled {
  let c = compiled.get(expr);
  if (!c) {
    const collapse = reCategory.test(expr);
    // Collapsed text is one UTF-16 unit per code point: no 'u' (llama.cpp's
    // class text has escapes like \~ that 'u' rejects); otherwise 'u' so
    // astral code points are single characters as in std::wregex.
    c = { re: new RegExp(translate(expr, collapse), collapse ? 'g' : 'gu'), collapse };
    compiled.set(expr, c);
  }
  return c;
}

/** std::regex_iterator over each piece: matches and gaps, as lengths. */
function splitRegex(c: Compiled, text: string, cuOf: number[], offsets: number[]): number[] {
  const out: number[] = [];
  let start = 0;
  for (const len of offsets) {
    // CUOF has an entry per code point plus one for the end
    const a = cuOf[start]!;
    const piece = text.slice(a, cuOf[start + len]);
    // code-unit offset in piece -> code point count
    const cpAt = (cu: number): number => {
      let lo = start, hi = start + len;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cuOf[mid]! - a < cu) lo = mid + 1; else hi = mid;
      }
      return lo - start;
    };
    const re = c.re;
    re.lastIndex = 0;
    let prevEnd = 0;
    for (;;) {
      const m = re.exec(piece);
      if (!m) break;
      const ms = cpAt(m.index);
      const me = cpAt(m.index + m[0].length);
      if (ms > prevEnd) out.push(ms - prevEnd);
      out.push(me - ms);
      prevEnd = me;
      if (m[0].length === 0) {
        if (re.lastIndex >= piece.length) break;
        re.lastIndex += piece.codePointAt(re.lastIndex)! > 0xffff ? 2 : 1;
      }
    }
    if (prevEnd < len) out.push(len - prevEnd);
    start += len;
  }
  return out;
}

/** llama.cpp's unicode_regex_split: the words of TEXT (byte-encoded when
 *  BYTE_ENCODE) under the regex list EXPRS. */
export function regexSplit(text: string, exprs: readonly string[], byteEncodeWords: boolean): string[] {
  const cpts = codepoints(text);
  let offsets = [cpts.length];
  let collapsedText: string | null = null;
  let wideText: string | null = null;
  let wideCu: number[] | null = null;
  let unitCu: number[] | null = null;
  for (const expr of exprs) {
    const fn = custom.get(expr);
    if (fn) {
      const tmp = fn(cpts, offsets);
      if (tmp.length) { offsets = tmp; continue; }
      // llama.cpp falls through to std::regex on an empty result (empty text)
    }
    const c = compile(expr);
    if (c.collapse) {
      if (collapsedText === null) {
        collapsedText = cpts.map(collapsedChar).join('');
        unitCu = cpts.map((_, i) => i);
        unitCu.push(cpts.length);
      }
      offsets = splitRegex(c, collapsedText, unitCu!, offsets);
    } else {
      if (wideText === null) {
        wideCu = [];
        let s = '';
        for (const cp of cpts) {
          wideCu.push(s.length);
          s += cp > 0x7f && (cptFlags(cp) & F_WHITESPACE) ? '\u000b' : String.fromCodePoint(cp);
        }
        wideCu.push(s.length);
        wideText = s;
      }
      offsets = splitRegex(c, wideText, wideCu!, offsets);
    }
  }
  const words: string[] = [];
  let start = 0;
  for (const len of offsets) {
    let w = '';
    for (let i = start; i < start + len; i++) w += String.fromCodePoint(cpts[i]!);
    start += len;
    words.push(byteEncodeWords ? byteEncode(w) : w);
  }
  return words;
}
