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

/** One element of AX650_SIM_TOOL_SCRIPT (simulator/README.md, the knob tables). */
export type ToolScriptItem = { calls: ToolScript[] } | { raw: string } | { text: string };

/** Qwen3's exact rendering of calls: `<tool_call>\n{"name": "move", "arguments": {"x": 1}}\n</tool_call>`, one per line. */
export function qwen3ToolCalls(calls: readonly ToolScript[]): string {
  return calls.map((c) => `<tool_call>\n{"name": ${JSON.stringify(c.name)}, "arguments": ${qwen3Json(c.arguments ?? {})}}\n</tool_call>`).join('\n');
}

/** JSON with Python's json.dumps spacing (`", "` and `": "`), as Qwen3's template prints it. */
function qwen3Json(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(qwen3Json).join(', ')}]`;
  if (typeof v === 'object' && v !== null) return `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}: ${qwen3Json(x)}`).join(', ')}}`;
  return JSON.stringify(v);
}

let toolRequests = 0;
let replyRequests = 0;

/** The build understands tools (PR56: either tool knob set) and this request offers them. */
export function toolsOn(req: ChatRequest, knobs: AxllmKnobs): boolean {
  if (!knobs.nativeTools || (knobs.toolCall === undefined && knobs.toolScript === undefined)) return false;
  return req.tools !== undefined && req.tools.length > 0 && req.toolChoice !== 'none';
}

/** The start of Qwen3's tools block in a rendered prompt (how a build without PR56 gets tools at all). */
const TOOLS_BLOCK = '# Tools\n\nYou may call one or more functions to assist with the user query.';

/** The model sees tools: offered natively (PR56) or written into its prompt. */
function seesTools(req: ChatRequest, knobs: AxllmKnobs, promptText: string): boolean {
  return toolsOn(req, knobs) || (!knobs.nativeTools && (knobs.toolCall !== undefined || knobs.toolScript !== undefined) && promptText.includes(TOOLS_BLOCK));
}

/** The scripted text of this request (AX650_SIM_TOOL_SCRIPT / _TOOL_CALL / _REPLY_SCRIPT), or undefined for an ordinary reply. */
export function scriptedText(req: ChatRequest, knobs: AxllmKnobs, promptText: string, maxTokens: number): string | undefined {
  // A one-token request (e.g. a client asking whether the build has PR56) could not hold a scripted reply: not spent on it.
  if (maxTokens <= 1) return undefined;
  if (seesTools(req, knobs, promptText)) {
    if (knobs.toolScript !== undefined) {
      const item = knobs.toolScript[toolRequests++];
      if (item !== undefined) return 'calls' in item ? qwen3ToolCalls(item.calls) : 'raw' in item ? item.raw : item.text;
    } else if (knobs.toolCall !== undefined) {
      const choice = req.toolChoice;
      const name = isObject(choice) && isObject(choice['function']) && typeof choice['function']['name'] === 'string' ? choice['function']['name'] : knobs.toolCall.name;
      return qwen3ToolCalls([{ name, arguments: knobs.toolCall.arguments }]);
    }
  }
  if (knobs.replyScript !== undefined) return knobs.replyScript[replyRequests++];
  return undefined;
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
