/**
 * Strict readers for JSON request fields. Every rejection is a 400 whose sentence names the
 * field and what was wrong with it, so a robot builder can fix the flow without reading code.
 */
import type { ChatMessage, ToolCall } from '../runtime/types';
import { HttpError } from './http-io';

export type JsonObject = Record<string, unknown>;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return 'a string';
  if (typeof value === 'number') return 'a number';
  if (typeof value === 'boolean') return 'a boolean';
  return typeof value;
}

export function badType(field: string, expected: string, value: unknown): HttpError {
  return new HttpError(400, `"${field}" must be ${expected}, not ${describe(value)}`);
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function optString(body: JsonObject, key: string, field = key): string | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw badType(field, 'a string', v);
  return v;
}

export function optBool(body: JsonObject, key: string, field = key): boolean | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw badType(field, 'true or false', v);
  return v;
}

export interface NumberRange {
  min?: number;
  max?: number;
  integer?: boolean;
}

export function optNumber(body: JsonObject, key: string, range: NumberRange = {}, field = key): number | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw badType(field, range.integer ? 'an integer' : 'a number', v);
  if (range.integer && !Number.isInteger(v)) throw new HttpError(400, `"${field}" must be an integer, not ${v}`);
  if (range.min !== undefined && v < range.min) throw new HttpError(400, `"${field}" must be at least ${range.min}, not ${v}`);
  if (range.max !== undefined && v > range.max) throw new HttpError(400, `"${field}" must be at most ${range.max}, not ${v}`);
  return v;
}

export function optObject(body: JsonObject, key: string, field = key): JsonObject | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) throw badType(field, 'an object', v);
  return v;
}

/** Fields this runtime cannot honour; silently ignoring them would return something else than was asked. */
export function rejectUnsupported(body: JsonObject, model: string, keys: readonly string[]): void {
  for (const key of keys) {
    const v = body[key];
    const present = Array.isArray(v) ? v.length > 0 : v !== undefined && v !== null && v !== '';
    if (present) throw new HttpError(400, `model '${model}' does not support "${key}" on the AX650 runtime`);
  }
}

const ROLES: Record<string, ChatMessage['role']> = {
  system: 'system',
  developer: 'system',
  user: 'user',
  assistant: 'assistant',
  tool: 'tool',
};

/** OpenAI content may be a list of parts; only text parts can reach this text-only model. */
function readContent(value: unknown, field: string): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (!Array.isArray(value)) throw badType(field, 'a string', value);
  return value
    .map((part: unknown, i) => {
      if (!isObject(part) || part.type !== 'text' || typeof part.text !== 'string') {
        throw new HttpError(400, `"${field}[${i}]" must be a text part {"type":"text","text":"…"}; this model reads text only`);
      }
      return part.text;
    })
    .join('');
}

/** Arguments arrive as an object (Ollama) or as JSON text (OpenAI); both keep the exact text in `raw`. */
function readCallArguments(value: unknown, field: string): { args: Record<string, unknown>; raw: string } {
  if (value === undefined || value === null || value === '') return { args: {}, raw: '{}' };
  if (isObject(value)) return { args: value, raw: JSON.stringify(value) };
  if (typeof value !== 'string') throw badType(field, 'an object or a JSON object as text', value);
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new HttpError(400, `"${field}" is not valid JSON: ${value.slice(0, 80)}`);
  }
  if (!isObject(parsed)) throw badType(field, 'a JSON object', parsed);
  return { args: parsed, raw: value };
}

/** An assistant turn's `tool_calls`, Ollama's ({function:{name, arguments:{}}}) or OpenAI's ({id, type, function:{name, arguments:"{}"}}). */
function readToolCalls(value: unknown, field: string, turn: number): ToolCall[] {
  if (!Array.isArray(value)) throw badType(field, 'an array of {"function":{"name","arguments"}}', value);
  return value.map((c: unknown, j): ToolCall => {
    const f = isObject(c) ? c.function : undefined;
    if (!isObject(c) || !isObject(f) || typeof f.name !== 'string' || f.name === '') {
      throw badType(`${field}[${j}]`, 'an object {"function":{"name":"…","arguments":{…}}}', c);
    }
    const { args, raw } = readCallArguments(f.arguments, `${field}[${j}].function.arguments`);
    const id = typeof c.id === 'string' && c.id !== '' ? c.id : `call_${turn}_${j}`;
    return { id, name: f.name, arguments: args, raw };
  });
}

/** The name or id a tool turn answers: OpenAI's `tool_call_id`, Ollama's `tool_name` (older: `name`). */
function readToolTurn(m: JsonObject, field: string, message: ChatMessage): void {
  const id = optString(m, 'tool_call_id', `${field}.tool_call_id`);
  const name = optString(m, 'tool_name', `${field}.tool_name`) ?? optString(m, 'name', `${field}.name`);
  if (id !== undefined) message.toolCallId = id;
  if (name !== undefined) message.toolName = name;
}

/**
 * Reads a chat transcript. Roles are lower-cased as Ollama does; `developer` is OpenAI's new
 * name for `system`. Assistant turns may carry `tool_calls` and `tool` turns their results (the
 * client runs the tools); images are refused: this model reads text only.
 */
export function readMessages(value: unknown, allowContentParts: boolean): ChatMessage[] {
  if (!Array.isArray(value)) throw badType('messages', 'an array of {role, content} objects', value);
  return value.map((m: unknown, i): ChatMessage => {
    const field = `messages[${i}]`;
    if (!isObject(m)) throw badType(field, 'an object with "role" and "content"', m);
    if (typeof m.role !== 'string') throw badType(`${field}.role`, 'a string', m.role);
    const role = ROLES[m.role.toLowerCase()];
    if (!role) {
      throw new HttpError(400, `"${field}.role" must be "system", "user", "assistant" or "tool", not "${m.role}"`);
    }
    if (!allowContentParts && m.content !== undefined && m.content !== null && typeof m.content !== 'string') {
      throw badType(`${field}.content`, 'a string', m.content);
    }
    if (Array.isArray(m.images) && m.images.length > 0) {
      throw new HttpError(400, `"${field}.images": this model reads text only`);
    }
    const message: ChatMessage = { role, content: readContent(m.content, `${field}.content`) };
    if (role === 'assistant' && m.tool_calls !== undefined && m.tool_calls !== null) {
      const calls = readToolCalls(m.tool_calls, `${field}.tool_calls`, i);
      if (calls.length > 0) message.toolCalls = calls;
    }
    if (role === 'tool') readToolTurn(m, field, message);
    return message;
  });
}

/**
 * The prompt of a transcript is its last user turn, which must be non-empty. The transcript ends
 * with it, or (a client that ran the tools) with the results of the last assistant turn's calls.
 */
export function lastUserPrompt(messages: readonly ChatMessage[]): string {
  let end = messages.length - 1;
  while (end >= 0 && messages[end]?.role === 'tool') end--;
  const last = messages[end];
  const toolResults = end < messages.length - 1;
  if (toolResults && !last?.toolCalls) {
    throw new HttpError(400, 'a "tool" message must follow the assistant message whose "tool_calls" it answers');
  }
  if (!toolResults && (!last || last.role !== 'user')) {
    throw new HttpError(400, 'the last message must have the role "user" (or "tool" after the assistant\'s tool calls): it is the prompt the model answers');
  }
  const user = [...messages.slice(0, end + 1)].reverse().find((m) => m.role === 'user');
  if (!user) throw new HttpError(400, 'the messages hold no "user" turn: there is nothing to answer');
  if (user.content.trim() === '') throw new HttpError(400, 'the last user message is empty: there is nothing to answer');
  return user.content;
}
