// llama-webgpu — llama-family GGUF language models on WebGPU.
//
// loadModel(url) takes a .gguf file (its header in one Range request, then
// the tensors layer by layer, packed on the fly into m2w-pack's GPU
// layouts: ./loader.ts) or an m2w-pack shards.json, builds the engine
// (./engine.ts: every pipeline, buffer and bind group made once) and the
// pure-TS tokenizer (./tokenizer.ts) from the file's vocabulary.
//
// generate() tokenizes (a prompt string, chat messages through the
// model's template ./chat.ts, or token ids), reuses the KV cache for the
// longest prefix of tokens already cached, prefills the rest in chunks,
// then decodes one token per forward, sampling on the GPU (argmax when
// temperature ≤ 0, else top-k + top-p with a seeded generator) and reading
// back one u32 per token.  A conversation formats its whole history each
// turn; the cached prefix makes a turn cost only its new tokens.
import { Batcher, DebugCapture, initDevice, readBuffer } from './runtime/index.js';
import * as shaders from './shaders.js';
import { Engine } from './engine.js';
import { loadLlamaWeights } from './loader.js';
import { Tokenizer } from './tokenizer.js';
import { applyTemplate, detectTemplate } from './chat.js';
import type { Activation, ChatMessage, Conversation, GenerateInput, GenerateOptions, GenerateResult, LoadOptions, Model, ModelInfo } from './types.js';

export type * from './types.js';
export { UnsupportedTemplateError, applyTemplate, detectTemplate } from './chat.js';
export { Tokenizer, UnsupportedTokenizerError } from './tokenizer.js';
export { parseGGUF } from './gguf.js';

/** A seeded generator (mulberry32): numbers in [0, 1). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function loadModel(url: string | URL, opts: LoadOptions = {}): Promise<Model> {
  const ctx = await initDevice({ wantF16: false });
  const device = ctx.device;
  let engine: Engine | null = null;
  let weights: Awaited<ReturnType<typeof loadLlamaWeights>> | null = null;
  try {
    weights = await loadLlamaWeights(device, url, {
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
      ...(opts.fetch ? { fetch: opts.fetch } : {}),
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    const c = weights.config;
    const maxSeq = Math.max(1, Math.floor(opts.maxSeqLen ?? Math.min(c.contextLength, 2048)));
    engine = new Engine(device, shaders, weights, maxSeq, opts.prefillChunk ?? 64);
  } catch (e) {
    if (weights) for (const b of new Set([...weights.tensors.values()].map((t) => t.buffer))) b.destroy();
    ctx.destroy();
    throw e;
  }
  const w = weights;
  const eng = engine;
  const c = w.config;
  const tokenizer = Tokenizer.fromJSON(w.tokenizer, { modelName: c.name });
  const template = w.tokenizer.chat_template;
  const batcher = new Batcher(device, { flushEvery: 64, label: 'llama' });
  const capture = new DebugCapture(device, { enabled: Boolean(opts.debugCapture), batcher });
  const staging = device.createBuffer({ size: 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST, label: 'token readback' });
  /** Tokens whose keys and values are in the cache, by position. */
  let cached: number[] = [];
  let busy = false;
  let destroyed = false;

  const info: ModelInfo = {
    name: c.name,
    arch: c.arch,
    layers: c.layers,
    hidden: c.hidden,
    heads: c.heads,
    kvHeads: c.kvHeads,
    headDim: c.headDim,
    ffn: c.ffn,
    vocab: c.vocab,
    types: [...new Set([...w.tensors.values()].map((t) => t.type))].sort(),
    maxSeqLen: eng.maxSeq,
    prefillChunk: eng.chunk,
    chatTemplate: template ? detectTemplate(template) : 'chatml (default)',
    gpuBytes: w.gpuBytes,
    adapter: [ctx.adapterInfo.vendor, ctx.adapterInfo.architecture, ctx.adapterInfo.description].filter(Boolean).join(' '),
  };

  const formatChat = (messages: readonly ChatMessage[], addAssistant = true) => applyTemplate(detectTemplate(template), messages, addAssistant);

  const readToken = async (): Promise<number> => {
    batcher.copy(eng.tokenBuffer, 0, staging, 0, 4);
    batcher.flush();
    await staging.mapAsync(GPUMapMode.READ);
    const id = new Uint32Array(staging.getMappedRange(0, 4))[0]!;
    staging.unmap();
    return id;
  };

  /** Feeds tokens[from ..] at their positions (cached[0 .. from) must equal tokens[0 .. from)). */
  const prefill = (tokens: readonly number[], from: number, allLogits = false) => {
    const cap = allLogits && opts.debugCapture ? capture : undefined;
    cached.length = from;
    for (let i = from; i < tokens.length; i += eng.chunk) {
      const part = tokens.slice(i, Math.min(tokens.length, i + eng.chunk));
      eng.forward(batcher, part, cached.length, cap, allLogits);
      cached.push(...part);
    }
  };

  const toTokens = (input: GenerateInput, o: GenerateOptions): number[] => {
    if (typeof input === 'string') return tokenizer.encode(input, { addSpecial: o.addSpecial ?? true, parseSpecial: o.parseSpecial ?? false });
    if ('tokens' in input) return (input as { tokens: readonly number[] }).tokens.slice();
    return tokenizer.encode(formatChat(input as readonly ChatMessage[]), { addSpecial: o.addSpecial ?? true, parseSpecial: o.parseSpecial ?? true });
  };

  const generateTokens = async (prompt: number[], o: GenerateOptions): Promise<GenerateResult> => {
    if (destroyed) throw new Error('llama: the model was destroyed');
    if (busy) throw new Error('llama: generate() is already running');
    if (prompt.length === 0) throw new Error('llama: empty prompt');
    if (prompt.length >= eng.maxSeq) throw new Error(`llama: the prompt has ${prompt.length} tokens, maxSeqLen is ${eng.maxSeq}`);
    for (const id of prompt) if (!(id >= 0 && id < c.vocab)) throw new Error(`llama: token id ${id} outside the vocabulary of ${c.vocab}`);
    busy = true;
    try {
      const maxTokens = o.maxTokens ?? 256;
      const temperature = o.temperature ?? 0;
      const random = rng(o.seed ?? Math.floor(Math.random() * 2 ** 32));
      const sampleParams = () => (temperature > 0 ? { temperature, topK: o.topK ?? 40, topP: o.topP ?? 0.95, u: random() } : null);
      let reuse = 0;
      while (reuse < cached.length && reuse < prompt.length && cached[reuse] === prompt[reuse]) reuse++;
      if (reuse === prompt.length) reuse--; // the last prompt token must run to give logits
      const t0 = performance.now();
      prefill(prompt, reuse);
      eng.sample(batcher, sampleParams());
      let id = await readToken();
      const t1 = performance.now();
      const out: number[] = [];
      let text = '';
      let emitted = 0;
      let stopReason: GenerateResult['stopReason'] = 'maxTokens';
      const stops = (o.stop ?? []).filter((s) => s.length > 0);
      for (;;) {
        if (!o.ignoreEog && tokenizer.isEog(id)) { stopReason = 'eog'; break; }
        out.push(id);
        text = tokenizer.decode(out, { special: false });
        let cut = -1;
        for (const s of stops) {
          const at = text.indexOf(s, Math.max(0, emitted - s.length));
          if (at >= 0 && (cut < 0 || at < cut)) cut = at;
        }
        if (cut >= 0) {
          text = text.slice(0, cut);
          stopReason = 'stop';
        }
        // hold back an incomplete UTF-8 sequence (U+FFFD at the end) and a possible stop prefix
        let ready = text.length;
        if (cut < 0) {
          if (text.endsWith('\uFFFD')) ready = text.lastIndexOf('\uFFFD');
          for (const s of stops)
            for (let k = Math.min(s.length - 1, ready); k > 0; k--)
              if (text.slice(ready - k, ready) === s.slice(0, k)) { ready = Math.min(ready, text.length - k); break; }
        }
        if (ready > emitted) {
          const piece = text.slice(emitted, ready);
          emitted = ready;
          if (o.onToken && o.onToken(piece, id) === false && cut < 0) { stopReason = 'callback'; break; }
        }
        if (cut >= 0) break;
        if (out.length >= maxTokens) { stopReason = 'maxTokens'; break; }
        if (cached.length >= eng.maxSeq) { stopReason = 'length'; break; }
        eng.forward(batcher, [id], cached.length);
        cached.push(id);
        eng.sample(batcher, sampleParams());
        id = await readToken();
      }
      if (stopReason !== 'stop' && emitted < text.length && o.onToken) o.onToken(text.slice(emitted), out[out.length - 1] ?? -1);
      return { text, tokens: out, promptTokens: prompt.length, reusedTokens: reuse, stopReason, prefillMs: t1 - t0, decodeMs: performance.now() - t1 };
    } finally {
      busy = false;
    }
  };

  const model: Model = {
    info,
    tokenizer,
    formatChat,
    generate: (input, o = {}) => generateTokens(toTokens(input, o), o),
    conversation(copts = {}) {
      const messages: ChatMessage[] = copts.system !== undefined ? [{ role: 'system', content: copts.system }] : [];
      const base = messages.length;
      let mine: number[] = [];
      return {
        get messages() {
          return messages.slice();
        },
        get position() {
          // what of this conversation is still in the cache
          let n = 0;
          while (n < mine.length && n < cached.length && mine[n] === cached[n]) n++;
          return n;
        },
        async send(content: string, o: GenerateOptions = {}) {
          const turn = [...messages, { role: 'user', content }];
          const prompt = tokenizer.encode(formatChat(turn), { addSpecial: o.addSpecial ?? true, parseSpecial: o.parseSpecial ?? true });
          const r = await generateTokens(prompt, o);
          messages.push({ role: 'user', content }, { role: 'assistant', content: r.text });
          mine = cached.slice();
          return r;
        },
        reset() {
          messages.length = base;
          mine = [];
        },
      } satisfies Conversation;
    },
    async evaluate(tokens) {
      if (tokens.length > eng.chunk) throw new Error(`llama: evaluate() takes at most ${eng.chunk} tokens (prefillChunk)`);
      capture.clear();
      prefill(tokens, 0, true);
      await batcher.done();
      const data = new Float32Array(await readBuffer(device, eng.logitsAllBuffer!, 0, tokens.length * c.vocab * 4));
      return { data, shape: [tokens.length, c.vocab] };
    },
    async activations() {
      const acts = await capture.activations();
      const shapes = await capture.shapesOf();
      const out = new Map<string, Activation>();
      for (const [n, d] of acts) out.set(n, { data: d, shape: shapes.get(n)! });
      return out;
    },
    destroy() {
      if (destroyed) return;
      destroyed = true;
      eng.destroy();
      for (const b of new Set([...w.tensors.values()].map((t) => t.buffer))) b.destroy();
      staging.destroy();
      ctx.destroy();
    },
  };
  return model;
}
