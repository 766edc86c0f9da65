/**
 * The tool parts of a chat transcript as clients send them (HTTP API, MQTT): an assistant turn's
 * `tool_calls`, Ollama's ({function:{name, arguments:{…}}}) or OpenAI's ({id, type, function:{name,
 * arguments:"{…}"}}), and a `tool` turn's link to its call (`tool_call_id`, or Ollama's `tool_name`).
 * Wrong shapes are BAD_INPUT with a sentence naming the field.
 */
import { Ax650Error } from '../errors';
import type { ChatMessage, ToolCall } from '../runtime/types';
import { describe } from '../runtime/validate';

type JsonObject = Record<string, unknown>;

function bad(message: string, field: string): Ax650Error {
  return new Ax650Error('BAD_INPUT', message, { params: { field } });
}

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Arguments arrive as an object (Ollama) or as JSON text (OpenAI); both keep the exact text in `raw`. */
function readCallArguments(value: unknown, field: string): { args: JsonObject; raw: string } {
  if (value === undefined || value === null || value === '') return { args: {}, raw: '{}' };
  if (isObject(value)) return { args: value, raw: JSON.stringify(value) };
  if (typeof value !== 'string') throw bad(`"${field}" must be an object or a JSON object as text, not ${describe(value)}`, field);
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw bad(`"${field}" is not valid JSON: ${value.slice(0, 80)}`, field);
  }
  if (!isObject(parsed)) throw bad(`"${field}" must be a JSON object, not ${describe(parsed)}`, field);
  return { args: parsed, raw: value };
}

function readToolCalls(value: unknown, field: string, turn: number): ToolCall[] {
  if (!Array.isArray(value)) throw bad(`"${field}" must be an array of {"function":{"name","arguments"}}, not ${describe(value)}`, field);
  return value.map((c: unknown, j): ToolCall => {
    const f = isObject(c) ? c.function : undefined;
    if (!isObject(c) || !isObject(f) || typeof f.name !== 'string' || f.name === '') {
      throw bad(`"${field}[${j}]" must be an object {"function":{"name":"…","arguments":{…}}}, not ${describe(c)}`, `${field}[${j}]`);
    }
    const { args, raw } = readCallArguments(f.arguments, `${field}[${j}].function.arguments`);
    const id = typeof c.id === 'string' && c.id !== '' ? c.id : `call_${turn}_${j}`;
    return { id, name: f.name, arguments: args, raw };
  });
}

function optText(m: JsonObject, key: string, field: string): string | undefined {
  const v = m[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw bad(`"${field}.${key}" must be a string, not ${describe(v)}`, `${field}.${key}`);
  return v;
}

/** Adds the tool parts of raw message `m` (the `i`-th, read as `message`) to `message`. */
export function addToolParts(m: JsonObject, i: number, field: string, message: ChatMessage): ChatMessage {
  if (message.role === 'assistant' && m.tool_calls !== undefined && m.tool_calls !== null) {
    const calls = readToolCalls(m.tool_calls, `${field}.tool_calls`, i);
    if (calls.length > 0) message.toolCalls = calls;
  }
  if (message.role === 'tool') {
    const id = optText(m, 'tool_call_id', field);
    const name = optText(m, 'tool_name', field) ?? optText(m, 'name', field);
    if (id !== undefined) message.toolCallId = id;
    if (name !== undefined) message.toolName = name;
  }
  return message;
}
