import type { ChatWrapper, Tokenizer } from 'node-llama-cpp';
import type { NodeLlamaCpp } from './engine.js';
import type { GgufFacts } from './gguf/preflight.js';

/** Which chat format a model gets: the wrapper, and which of the three rules below chose it (`kind`). */
export interface ChatFormat {
  wrapper: ChatWrapper;
  /** The same format with thinking on (Gemma 4: `<|think|>`, thoughts as a segment); absent: no thinking. */
  thinkingWrapper?: ChatWrapper;
  /** `gemma4`, `gemma` or `jinja`. */
  kind: 'gemma4' | 'gemma' | 'jinja';
}

const GEMMA4_MARKER = '<|turn>';
const GEMMA_MARKER = '<start_of_turn>';

/**
 * Picks the chat wrapper without node-llama-cpp's auto-resolution, which renders the file's Jinja template
 * against every candidate wrapper (up to ~600 ms per load). The file's `tokenizer.chat_template` decides:
 * - it uses Gemma 4 turn markers (`<|turn>`) → Gemma4ChatWrapper (thinking off: a chat answer, not a trace);
 * - it uses Gemma's `<start_of_turn>` → GemmaChatWrapper;
 * - it is some other template (a fine-tune with its own format) → that template, rendered as Jinja;
 * - there is none → by architecture: gemma4 → Gemma 4 format, other Gemma architectures → Gemma format.
 */
export function pickChatFormat(
  nlc: NodeLlamaCpp,
  facts: Pick<GgufFacts, 'architecture' | 'chatTemplate'>,
  tokenizer?: Tokenizer,
): ChatFormat {
  const template = facts.chatTemplate;
  if (template?.includes(GEMMA4_MARKER)) return gemma4(nlc);
  if (template?.includes(GEMMA_MARKER)) return { wrapper: new nlc.GemmaChatWrapper(), kind: 'gemma' };
  if (template !== undefined) {
    return {
      wrapper: new nlc.JinjaTemplateChatWrapper({ template, ...(tokenizer ? { tokenizer } : {}) }),
      kind: 'jinja',
    };
  }
  if (facts.architecture === 'gemma4') return gemma4(nlc);
  return { wrapper: new nlc.GemmaChatWrapper(), kind: 'gemma' };
}

function gemma4(nlc: NodeLlamaCpp): ChatFormat {
  return {
    wrapper: new nlc.Gemma4ChatWrapper({ reasoning: false }),
    thinkingWrapper: new nlc.Gemma4ChatWrapper({ reasoning: true }),
    kind: 'gemma4',
  };
}
