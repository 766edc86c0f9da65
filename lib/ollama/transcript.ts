/**
 * Brings a client's chat transcript into the one shape the runtime can replay. Ollama and OpenAI
 * accept any sequence of turns, but the Runtime takes the first system message as the reset's
 * system prompt (lib/runtime/execution.ts plan()) and the built-in tokenizer restores only a
 * history that alternates user/assistant starting with user (lib/tokenizer/server.ts); anything
 * else failed on the real stack with "A restored history must end with an assistant turn".
 */
import type { ChatMessage, ToolCall } from '../runtime/types';

/** A tool turn names the call it answers: by id (OpenAI), else by name or position among the open calls (Ollama). */
function linkToolTurn(m: ChatMessage, open: ToolCall[]): ChatMessage {
  const out: ChatMessage = { role: 'tool', content: m.content };
  const i = m.toolCallId !== undefined ? open.findIndex((c) => c.id === m.toolCallId)
    : m.toolName !== undefined ? open.findIndex((c) => c.name === m.toolName) : 0;
  const call = i >= 0 ? open.splice(i, 1)[0] : undefined;
  const id = m.toolCallId ?? call?.id;
  const name = m.toolName ?? call?.name;
  if (id !== undefined) out.toolCallId = id;
  if (name !== undefined) out.toolName = name;
  return out;
}

/**
 * All system turns become one leading system message (Ollama's templates also gather them);
 * consecutive plain turns of one role are joined with a blank line, the way the model would read
 * two adjacent messages anyway; an assistant turn with tool calls and each tool result stay
 * turns of their own; a history that opens with the assistant (a UI's greeting) gets an empty
 * user turn in front so nothing the client sent is dropped.
 */
export function normalizeTranscript(messages: readonly ChatMessage[]): ChatMessage[] {
  const system = messages.filter((m) => m.role === 'system').map((m) => m.content);
  const turns: ChatMessage[] = [];
  let open: ToolCall[] = [];
  for (const m of messages) {
    if (m.role === 'system') continue;
    if (m.role === 'tool') {
      turns.push(linkToolTurn(m, open));
      continue;
    }
    const prev = turns[turns.length - 1];
    if (m.toolCalls) {
      open = [...m.toolCalls];
      turns.push({ role: 'assistant', content: m.content, toolCalls: m.toolCalls.map((c) => ({ ...c })) });
    } else if (prev && prev.role === m.role && !prev.toolCalls) {
      prev.content = `${prev.content}\n\n${m.content}`;
      if (m.images) prev.images = [...(prev.images ?? []), ...m.images];
    } else turns.push({ role: m.role, content: m.content, ...(m.images ? { images: m.images } : {}) });
  }
  if (turns[0]?.role === 'assistant') turns.unshift({ role: 'user', content: '' });
  return system.length > 0 ? [{ role: 'system', content: system.join('\n\n') }, ...turns] : turns;
}
