/**
 * A direct renderer for the one chat template the vendor's models ship, Qwen2.5-Instruct's (qwen2.5_tokenizer/
 * tokenizer_config.json, also bundled here). Interpreting it with @huggingface/jinja costs about 1 ms and 400 KB of
 * short-lived objects per 2,000-token conversation, and the vendor protocol renders the whole conversation on
 * every /encode and /reset; that garbage was what made the young-generation pauses land inside requests.
 * Used only when the template text is exactly that template (by SHA-256) and the messages take the template's
 * plain path (system/user/assistant turns with string content, no tools); anything else goes through jinja.
 * test/tokenizer/chat-render.test.ts checks the output against jinja's.
 */
import { createHash } from 'node:crypto';
import type { ChatMessage } from '../runtime/types';

/** SHA-256 of Qwen2.5-Instruct's `chat_template` string. */
export const QWEN25_TEMPLATE_SHA256 = 'cd8e9439f0570856fd70470bf8889ebd8b5d1107207f67a5efb46e342330527f';

const DEFAULT_SYSTEM = 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.';

/** Renders like the template would, or returns undefined when the messages need the template's other branches. */
export type DirectRenderer = (messages: readonly ChatMessage[], addGenerationPrompt: boolean) => string | undefined;

function plainTurns(messages: readonly ChatMessage[]): boolean {
  return messages.every((m) => (m.role === 'system' || m.role === 'user' || m.role === 'assistant') && typeof m.content === 'string');
}

/**
 * The template's no-tools path: a system block (messages[0] when it is a system turn, else the default prompt),
 * then every turn except that first system one as `<|im_start|>role\ncontent<|im_end|>\n` (an assistant turn
 * without tool_calls takes the same form), then `<|im_start|>assistant\n` when a generation prompt is asked for.
 */
function renderQwen25(messages: readonly ChatMessage[], addGenerationPrompt: boolean): string | undefined {
  if (!plainTurns(messages)) return undefined;
  const first = messages[0];
  const leadingSystem = first?.role === 'system';
  let out = '<|im_start|>system\n' + (leadingSystem ? first.content : DEFAULT_SYSTEM) + '<|im_end|>\n';
  for (let i = leadingSystem ? 1 : 0; i < messages.length; i++) {
    const m = messages[i] as ChatMessage;
    out += '<|im_start|>' + m.role + '\n' + m.content + '<|im_end|>\n';
  }
  return addGenerationPrompt ? out + '<|im_start|>assistant\n' : out;
}

/** The direct renderer for `template`, or undefined when there is none for it. */
export function directRendererFor(template: string): DirectRenderer | undefined {
  return createHash('sha256').update(template).digest('hex') === QWEN25_TEMPLATE_SHA256 ? renderQwen25 : undefined;
}
