/**
 * Tools and JSON replies in an MQTT prompt: `tools` (OpenAI function format), `tool_choice` and
 * `format` ("json" or a JSON Schema), checked into BAD_INPUT replies. The turn itself runs in
 * lib/client-tools; the requester runs the tools and continues with `tool` turns in `messages`.
 */
import { checkFormat, checkTools } from '../actions';
import type { ClientActions } from '../client-tools/turn';
import { Ax650Error } from '../errors';
import type { ToolChoice, ToolSpec } from '../runtime/types';
import { describe } from '../runtime/validate';

export type PromptActions = ClientActions;

function bad(message: string, field: string): Ax650Error {
  return new Ax650Error('BAD_INPUT', message, { params: { field } });
}

function readToolChoice(v: unknown, tools: readonly ToolSpec[]): ToolChoice | undefined {
  if (v === undefined || v === null) return undefined;
  if (v === 'auto' || v === 'none' || v === 'required') return v;
  const fn = typeof v === 'object' && v !== null ? (v as { function?: { name?: unknown }; name?: unknown }) : undefined;
  const name = fn?.function?.name ?? fn?.name;
  if (typeof name !== 'string') {
    throw bad(`tool_choice must be "auto", "none", "required" or {"type":"function","function":{"name":"…"}}, got ${describe(v)}.`, 'tool_choice');
  }
  if (!tools.some((t) => t.function.name === name)) throw bad(`tool_choice names the tool "${name}", which is not in tools.`, 'tool_choice');
  return { name };
}

/** Reads `tools`, `tool_choice` and `format` of a JSON prompt; BAD_INPUT for wrong shapes or schemas. */
export function readPromptActions(body: Record<string, unknown>): PromptActions {
  const out: PromptActions = {};
  if (body.tools !== undefined && body.tools !== null) {
    const tools = checkTools(body.tools);
    if (tools.length > 0) out.tools = tools;
  }
  const choice = readToolChoice(body.tool_choice, out.tools ?? []);
  if (choice !== undefined) {
    if (!out.tools) throw bad('tool_choice needs tools to choose from.', 'tool_choice');
    out.toolChoice = choice;
  }
  if (body.format !== undefined && body.format !== null && body.format !== '') out.format = checkFormat(body.format);
  if (out.tools && out.format !== undefined) {
    throw bad('tools and format cannot be used together: ask for the tool calls first, then for the JSON reply in the next prompt.', 'format');
  }
  return out;
}
