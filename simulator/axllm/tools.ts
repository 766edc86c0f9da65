/**
 * Native tool calls as PR56 / docs/tool_calling.md describe them [tc], switched on by
 * AX650_SIM_TOOL_CALL (the builds without PR56 ignore `tools` and reject `tool` messages). When the
 * request has tools and tool_choice is not "none", the scripted model answers with Qwen3's
 * `<tool_call>{json}</tool_call>`, which the server turns into `tool_calls`.
 */
import { isObject, type Json } from '../json-compat';
import type { AxllmKnobs } from './knobs';
import type { ChatRequest } from './request';
import type { ToolCallOut } from './responses';

export type ToolCall = ToolCallOut;

export interface ToolScript {
  name: string;
  arguments: unknown;
}

export function toolsActive(req: ChatRequest, knobs: AxllmKnobs): ToolScript | undefined {
  const script = knobs.toolCall;
  if (script === undefined || req.tools === undefined || req.tools.length === 0 || req.toolChoice === 'none') return undefined;
  const choice = req.toolChoice;
  if (isObject(choice) && isObject(choice['function']) && typeof choice['function']['name'] === 'string') {
    return { name: choice['function']['name'], arguments: script.arguments };
  }
  return script;
}

export function parseToolCall(text: string): ToolCall[] | undefined {
  const calls: ToolCall[] = [];
  for (const m of text.matchAll(/<tool_call>\s*([\s\S]*?)\s*<\/tool_call>/g)) {
    let value: unknown;
    try {
      value = JSON.parse(m[1] ?? '');
    } catch {
      continue;
    }
    if (typeof value !== 'object' || value === null || typeof (value as { name?: unknown }).name !== 'string') continue;
    const v = value as { name: string; arguments?: unknown };
    calls.push({ id: `call_${calls.length}_${v.name}`, type: 'function', function: { name: v.name, arguments: JSON.stringify(v.arguments ?? {}) } });
  }
  return calls.length > 0 ? calls : undefined;
}

/** PR56 follow-ups: an assistant turn carrying tool_calls (content null) and `tool` results. */
export function toolTurnText(message: { [key: string]: Json }): { role: 'user' | 'assistant'; text: string } | undefined {
  if (message['role'] === 'tool') {
    const content = typeof message['content'] === 'string' ? message['content'] : JSON.stringify(message['content']);
    return { role: 'user', text: `<tool_response>\n${content}\n</tool_response>` };
  }
  const calls = message['tool_calls'];
  if (message['role'] === 'assistant' && Array.isArray(calls)) {
    const text = calls
      .map((c) => (isObject(c) && isObject(c['function']) ? `<tool_call>\n{"name": ${JSON.stringify(c['function']['name'])}, "arguments": ${String(c['function']['arguments'] ?? '{}')}}\n</tool_call>` : ''))
      .join('\n');
    return { role: 'assistant', text: `${typeof message['content'] === 'string' ? message['content'] : ''}${text}` };
  }
  return undefined;
}
