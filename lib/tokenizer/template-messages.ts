/**
 * The package's ChatMessage in the shape HF chat templates read (transformers' `apply_chat_template`):
 * assistant calls as `tool_calls: [{type: 'function', function: {name, arguments}}]` with arguments an object
 * (Qwen's template writes them with `tojson`), tool results as `{role: 'tool', content}`. A call whose arguments
 * did not parse cannot go through `tojson`: such a turn keeps the model's own `<tool_call>` text as content.
 */
import type { ChatMessage, ToolCall } from '../runtime/types';

export interface TemplateMessage {
  role: string;
  content: string;
  tool_calls?: { type: 'function'; function: { name: string; arguments: Record<string, unknown> } }[];
  name?: string;
}

/** A call exactly as Qwen writes it (its template's `<tool_call>` form). */
export function toolCallMarkup(call: ToolCall): string {
  return '<tool_call>\n' + (call.arguments ? `{"name": ${JSON.stringify(call.name)}, "arguments": ${pyJson(call.arguments)}}` : call.raw) + '\n</tool_call>';
}

/** json.dumps with Python's default separators, as jinja's `tojson` writes it. */
export function pyJson(value: unknown): string {
  if (Array.isArray(value)) return '[' + value.map(pyJson).join(', ') + ']';
  if (typeof value === 'object' && value !== null) {
    return '{' + Object.entries(value).map(([k, v]) => JSON.stringify(k) + ': ' + pyJson(v)).join(', ') + '}';
  }
  return JSON.stringify(value) ?? 'null';
}

export function toTemplateMessage(m: ChatMessage): TemplateMessage {
  const calls = m.role === 'assistant' ? m.toolCalls ?? [] : [];
  if (calls.length === 0) return m.role === 'tool' && m.toolName ? { role: m.role, content: m.content, name: m.toolName } : { role: m.role, content: m.content };
  if (calls.every((c) => c.arguments !== undefined)) {
    return {
      role: 'assistant',
      content: m.content,
      tool_calls: calls.map((c) => ({ type: 'function' as const, function: { name: c.name, arguments: c.arguments ?? {} } })),
    };
  }
  return { role: 'assistant', content: [m.content, ...calls.map(toolCallMarkup)].filter((s) => s !== '').join('\n') };
}

/** The turn needs the template's tool branches (the direct renderer covers only plain turns). */
export function hasToolTurns(messages: readonly ChatMessage[]): boolean {
  return messages.some((m) => m.role === 'tool' || (m.toolCalls?.length ?? 0) > 0);
}
