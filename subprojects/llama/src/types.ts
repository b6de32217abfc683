// types.ts — the public types of llama-webgpu (no WebGPU types, so a
// consumer type-checks without @webgpu/types).

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | string;
  content: string;
}

export interface LoadOptions {
  /** Bytes of weights arrived so far, of total. */
  onProgress?: (loaded: number, total: number) => void;
  /** KV cache length in tokens (default min(model context, 2048)). */
  maxSeqLen?: number;
  /** Tokens one prefill dispatch sequence takes at most (default 64; longer prompts go in chunks). */
  prefillChunk?: number;
  /** Record activations at every checkpoint (slow; for tests). */
  debugCapture?: boolean;
  /** fetch to use (default globalThis.fetch). */
  fetch?: typeof fetch;
  signal?: AbortSignal;
}

export interface GenerateOptions {
  /** Tokens to generate at most (default 256). */
  maxTokens?: number;
  /** 0 (default) or below: greedy (argmax); otherwise softmax temperature. */
  temperature?: number;
  /** Candidates kept (default 40; 0: the sampler's maximum, 256). */
  topK?: number;
  /** Nucleus mass kept (default 0.95; 1: off). */
  topP?: number;
  /** Seed of the sampler's generator (default: random). */
  seed?: number;
  /** Strings that end generation (not included in the text). */
  stop?: readonly string[];
  /** Called per token with the new text; return false to stop. */
  onToken?: (text: string, id: number) => void | boolean;
  /** Keep generating past end-of-generation tokens (tests). */
  ignoreEog?: boolean;
  /** Prompt strings: add BOS as the vocabulary asks (default true). */
  addSpecial?: boolean;
  /** Prompt strings: parse control-token text such as <|eot_id|> (default true for chat, false for plain prompts). */
  parseSpecial?: boolean;
}

export interface GenerateResult {
  text: string;
  tokens: number[];
  promptTokens: number;
  /** Prompt tokens whose keys and values were already cached. */
  reusedTokens: number;
  stopReason: 'eog' | 'maxTokens' | 'stop' | 'length' | 'callback';
  prefillMs: number;
  decodeMs: number;
}

export type GenerateInput = string | readonly ChatMessage[] | { tokens: readonly number[] };

export interface Conversation {
  readonly messages: readonly ChatMessage[];
  /** Tokens this conversation has in the KV cache. */
  readonly position: number;
  /** Adds a user message, generates the assistant's reply and adds it. */
  send(content: string, opts?: GenerateOptions): Promise<GenerateResult>;
  /** Forgets the messages (the system message stays). */
  reset(): void;
}

export interface ModelInfo {
  name: string;
  arch: string;
  layers: number;
  hidden: number;
  heads: number;
  kvHeads: number;
  headDim: number;
  ffn: number;
  vocab: number;
  /** Weight types in the file (e.g. ['f32', 'q8_0']). */
  types: string[];
  maxSeqLen: number;
  prefillChunk: number;
  chatTemplate: string;
  gpuBytes: number;
  adapter: string;
}

export interface Activation {
  data: Float32Array;
  shape: number[];
}

export interface TokenizerLike {
  encode(text: string, opts?: { addSpecial?: boolean; parseSpecial?: boolean }): number[];
  decode(ids: readonly number[], opts?: { special?: boolean }): string;
  readonly vocabSize: number;
  isEog(id: number): boolean;
}

export interface Model {
  readonly info: ModelInfo;
  readonly tokenizer: TokenizerLike;
  /** The chat-formatted prompt for messages (the model's template). */
  formatChat(messages: readonly ChatMessage[], addAssistant?: boolean): string;
  generate(input: GenerateInput, opts?: GenerateOptions): Promise<GenerateResult>;
  /** A conversation that keeps its tokens' keys and values cached between turns. */
  conversation(opts?: { system?: string }): Conversation;
  /**
   * Runs `tokens` from position 0 (one chunk) and returns every position's
   * logits [T, vocab]; with debugCapture the checkpoints are in activations().
   */
  evaluate(tokens: readonly number[]): Promise<Activation>;
  activations(): Promise<Map<string, Activation>>;
  destroy(): void;
}
