/**
 * Reads the structured-output fields of a request: `tools` (Ollama and OpenAI share the function
 * format), OpenAI's `tool_choice`, Ollama's `format` and OpenAI's `response_format`. Every wrong
 * shape is a 400 whose sentence names the field, before anything reaches the NPU.
 */
import { compileSchema } from '../actions';
import { isAx650Error } from '../errors';
import type { ToolChoice, ToolSpec } from '../runtime/types';
import { HttpError } from './http-io';
import { badType, isObject, type JsonObject } from './validate';

/** `json`: any JSON value; an object: the JSON Schema the reply must satisfy. */
export type ReplyFormat = 'json' | JsonObject;

/** OpenAI's and Ollama's function names: letters, digits, `_` and `-`, at most 64. */
const TOOL_NAME = /^[A-Za-z0-9_-]{1,64}$/;

function readSchema(value: unknown, field: string): JsonObject {
  if (!isObject(value)) throw badType(field, 'a JSON Schema object like {"type":"object","properties":{…}}', value);
  const type = value.type;
  if (type !== undefined && typeof type !== 'string' && !Array.isArray(type)) throw badType(`${field}.type`, 'a string such as "object"', type);
  try {
    compileSchema(value, `"${field}"`);
  } catch (e) {
    throw isAx650Error(e) ? new HttpError(400, e.message) : e;
  }
  return value;
}

export function readTools(body: JsonObject): ToolSpec[] | undefined {
  const v = body.tools;
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw badType('tools', 'an array of {"type":"function","function":{name, description, parameters}}', v);
  if (v.length === 0) return undefined;
  const seen = new Set<string>();
  return v.map((t: unknown, i): ToolSpec => {
    const field = `tools[${i}]`;
    if (!isObject(t)) throw badType(field, 'an object {"type":"function","function":{…}}', t);
    if (t.type !== undefined && t.type !== 'function') {
      throw new HttpError(400, `"${field}.type" must be "function", not ${JSON.stringify(t.type)}: only function tools exist here`);
    }
    const f = t.function;
    if (!isObject(f)) throw badType(`${field}.function`, 'an object with "name", "description" and "parameters"', f);
    if (typeof f.name !== 'string' || !TOOL_NAME.test(f.name)) {
      throw new HttpError(400, `"${field}.function.name" must be 1–64 letters, digits, "_" or "-", not ${JSON.stringify(f.name)}`);
    }
    if (seen.has(f.name)) throw new HttpError(400, `"${field}.function.name": the tool "${f.name}" is given twice`);
    seen.add(f.name);
    const spec: ToolSpec = { type: 'function', function: { name: f.name } };
    if (f.description !== undefined && f.description !== null) {
      if (typeof f.description !== 'string') throw badType(`${field}.function.description`, 'a string', f.description);
      spec.function.description = f.description;
    }
    if (f.parameters !== undefined && f.parameters !== null) spec.function.parameters = readSchema(f.parameters, `${field}.function.parameters`);
    return spec;
  });
}

/** OpenAI's `tool_choice`: "none" | "auto" | "required" | {"type":"function","function":{"name":…}}. */
export function readToolChoice(body: JsonObject, tools: readonly ToolSpec[] | undefined): ToolChoice | undefined {
  const v = body.tool_choice;
  if (v === undefined || v === null) return undefined;
  const names = (tools ?? []).map((t) => t.function.name);
  if (v === 'none' || v === 'auto' || v === 'required') {
    if (v === 'required' && names.length === 0) throw new HttpError(400, '"tool_choice" is "required" but "tools" is empty: give the tools the model must choose from');
    return v;
  }
  const name = isObject(v) && isObject(v.function) ? v.function.name : undefined;
  if (!isObject(v) || (v.type !== undefined && v.type !== 'function') || typeof name !== 'string') {
    throw badType('tool_choice', '"none", "auto", "required" or {"type":"function","function":{"name":"…"}}', v);
  }
  if (!names.includes(name)) {
    throw new HttpError(400, `"tool_choice" names the tool "${name}", which is not in "tools" (${names.length > 0 ? names.join(', ') : 'none given'})`);
  }
  return { name };
}

/** Ollama's `format`: "json" or a JSON Schema object; "" and null mean free text. */
export function readOllamaFormat(body: JsonObject): ReplyFormat | undefined {
  const v = body.format;
  if (v === undefined || v === null || v === '') return undefined;
  if (v === 'json') return 'json';
  if (typeof v === 'string') throw new HttpError(400, `"format" must be "json" or a JSON Schema object, not "${v}"`);
  return readSchema(v, 'format');
}

/** OpenAI's `response_format`: {"type":"text"} | {"type":"json_object"} | {"type":"json_schema","json_schema":{name, schema, strict}}. */
export function readResponseFormat(body: JsonObject): ReplyFormat | undefined {
  const v = body.response_format;
  if (v === undefined || v === null) return undefined;
  if (!isObject(v)) throw badType('response_format', 'an object like {"type":"json_object"}', v);
  if (v.type === 'text') return undefined;
  if (v.type === 'json_object') return 'json';
  if (v.type !== 'json_schema') {
    throw new HttpError(400, `"response_format.type" must be "text", "json_object" or "json_schema", not ${JSON.stringify(v.type)}`);
  }
  const js = v.json_schema;
  if (!isObject(js)) throw badType('response_format.json_schema', 'an object {"name":"…","schema":{…}}', js);
  if (typeof js.name !== 'string' || !TOOL_NAME.test(js.name)) {
    throw new HttpError(400, `"response_format.json_schema.name" must be 1–64 letters, digits, "_" or "-", not ${JSON.stringify(js.name)}`);
  }
  if (js.schema === undefined || js.schema === null) return 'json';
  return readSchema(js.schema, 'response_format.json_schema.schema');
}

/** A request cannot ask for tool calls and a JSON-only reply at once: a tool call is not JSON text. */
export function checkToolsWithFormat(tools: readonly ToolSpec[] | undefined, format: ReplyFormat | undefined, formatField: string): void {
  if (tools && format !== undefined) {
    throw new HttpError(400, `"tools" and "${formatField}" cannot be used together here: ask for the tool calls first, then for the JSON reply in the next request`);
  }
}
