// chat.ts — chat messages to prompt text, as llama.cpp's
// llama_chat_apply_template does (src/llama-chat.cpp) for the families this
// package supports, detected from the GGUF's tokenizer.chat_template the way
// llm_chat_detect_template does:
//   "<|im_start|>"                            chatml
//   "[INST]" (not a Mistral v1/v3/v7 one)     llama2, with variants: "<<SYS>>"
//                                             (system messages), "bos_token +
//                                             '[INST]" (<s> between turns),
//                                             "content.strip()" (trimmed)
//   "<|start_header_id|>" + "<|end_header_id|>"  llama3
// A model without a template gets chatml, llama.cpp's default.  Other
// templates throw UnsupportedTemplateError (pass a prompt string instead).
import type { ChatMessage } from './types.js';

export class UnsupportedTemplateError extends Error {}

export type TemplateKind = 'chatml' | 'llama2' | 'llama2-sys' | 'llama2-sys-bos' | 'llama2-sys-strip' | 'llama3';

export function detectTemplate(tmpl: string | undefined): TemplateKind {
  if (!tmpl) return 'chatml';
  const has = (s: string) => tmpl.includes(s);
  if (has('<|im_start|>')) {
    if (has('<|im_sep|>') || has('<end_of_utterance>')) throw new UnsupportedTemplateError('phi-4 / SmolVLM chat templates are not supported');
    return 'chatml';
  }
  if (tmpl.startsWith('mistral') || has('[INST]')) {
    if (has('[SYSTEM_PROMPT]') || has("' [INST] ' + system_message") || has('[AVAILABLE_TOOLS]'))
      throw new UnsupportedTemplateError('Mistral chat templates are not supported');
    if (has('content.strip()')) return 'llama2-sys-strip';
    if (has("bos_token + '[INST]")) return 'llama2-sys-bos';
    if (has('<<SYS>>')) return 'llama2-sys';
    return 'llama2';
  }
  if (has('<|start_header_id|>') && has('<|end_header_id|>')) return 'llama3';
  throw new UnsupportedTemplateError('this chat template is not one of chatml, llama2, llama3');
}

/** C isspace() trim, as llama-chat.cpp's trim(). */
const trim = (s: string) => s.replace(/^[ \t\n\v\f\r]+|[ \t\n\v\f\r]+$/g, '');

/** The prompt text for `messages`; `addAssistant` opens the assistant's turn. */
export function applyTemplate(kind: TemplateKind, messages: readonly ChatMessage[], addAssistant = true): string {
  let s = '';
  if (kind === 'chatml') {
    for (const m of messages) s += `<|im_start|>${m.role}\n${m.content}<|im_end|>\n`;
    if (addAssistant) s += '<|im_start|>assistant\n';
    return s;
  }
  if (kind === 'llama3') {
    for (const m of messages) s += `<|start_header_id|>${m.role}<|end_header_id|>\n\n${trim(m.content)}<|eot_id|>`;
    if (addAssistant) s += '<|start_header_id|>assistant<|end_header_id|>\n\n';
    return s;
  }
  const system = kind !== 'llama2';
  const bosInside = kind === 'llama2-sys-bos';
  const strip = kind === 'llama2-sys-strip';
  let inside = true;
  s = '[INST] ';
  for (const m of messages) {
    const content = strip ? trim(m.content) : m.content;
    if (!inside) {
      inside = true;
      s += bosInside ? '<s>[INST] ' : '[INST] ';
    }
    if (m.role === 'system') s += system ? `<<SYS>>\n${content}\n<</SYS>>\n\n` : `${content}\n`;
    else if (m.role === 'user') s += `${content} [/INST]`;
    else {
      s += `${content}</s>`;
      inside = false;
    }
  }
  return s;
}
