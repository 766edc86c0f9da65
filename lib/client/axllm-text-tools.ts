/**
 * Tools for `axllm serve` builds without PR56 (reference §6: the tool code is in PR56, whose merge is
 * unverified; such a build ignores `tools` and refuses a `tool` turn or `content: null` with
 * `content type not support`). The turns are then written as the text Qwen3's chat template would
 * render for them, so the model reads exactly the same prompt:
 * - the system turn gets the template's `# Tools` block (after the system prompt and a blank line);
 * - an assistant turn with calls is its text, then one `<tool_call>` block per call, newline-separated;
 * - consecutive `tool` turns become one user turn of `<tool_response>` blocks, as the template groups them.
 * The model's `<tool_call>` text comes back as content and is parsed by the client (lib/actions/tool-markup).
 */
import type { ChatMessage, ToolSpec } from '../runtime/types';
import { pyJson, toolCallMarkup } from '../tokenizer/template-messages';

/** The `# Tools` block of Qwen3's chat template, text for text. */
export function qwen3ToolsBlock(tools: readonly ToolSpec[]): string {
  return (
    '# Tools\n\nYou may call one or more functions to assist with the user query.\n\n' +
    'You are provided with function signatures within <tools></tools> XML tags:\n<tools>' +
    tools.map((t) => `\n${pyJson(t)}`).join('') +
    '\n</tools>\n\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\n' +
    '<tool_call>\n{"name": <function-name>, "arguments": <args-json-object>}\n</tool_call>'
  );
}

/** The system prompt with the tools block, as the template writes it. */
export function systemWithTools(system: string, tools: readonly ToolSpec[] | undefined): string {
  if (!tools || tools.length === 0) return system;
  return system === '' ? qwen3ToolsBlock(tools) : `${system}\n\n${qwen3ToolsBlock(tools)}`;
}

/** The transcript with tool turns written as plain user/assistant text. */
export function textToolTurns(turns: readonly ChatMessage[]): ChatMessage[] {
  const out: Array<ChatMessage & { fromTools?: boolean }> = [];
  for (const m of turns) {
    if (m.role === 'tool') {
      const block = `<tool_response>\n${m.content}\n</tool_response>`;
      const last = out[out.length - 1];
      if (last && last.role === 'user' && last.fromTools) last.content = `${last.content}\n${block}`;
      else out.push({ role: 'user', content: block, fromTools: true });
      continue;
    }
    if (m.role === 'assistant' && m.toolCalls && m.toolCalls.length > 0) {
      out.push({ role: 'assistant', content: [m.content, ...m.toolCalls.map(toolCallMarkup)].filter((s) => s !== '').join('\n') });
      continue;
    }
    out.push(m);
  }
  return out.map(({ fromTools: _, ...m }) => m);
}
