/**
 * Strict readers for JSON request fields. Every rejection is a 400 whose sentence names the
 * field and what was wrong with it, so a robot builder can fix the flow without reading code.
 */
import { addToolParts } from '../client-tools/messages';
import { isAx650Error } from '../errors';
import type { ChatMessage } from '../runtime/types';
import { ollamaImages, openAiImagePart } from '../vision/api-images';
import type { ImageInput } from '../vision/source';
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

/** A BAD_INPUT from lib/vision as the 400 it is. */
function asHttp<T>(read: () => T): T {
  try {
    return read();
  } catch (e) {
    if (isAx650Error(e)) throw new HttpError(400, e.message, e.code);
    throw e;
  }
}

/** OpenAI content may be a list of parts: text, and `image_url` parts collected into `images`. */
function readContent(value: unknown, field: string, images: ImageInput[]): string {
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  if (!Array.isArray(value)) throw badType(field, 'a string', value);
  return value
    .map((part: unknown, i) => {
      if (isObject(part) && part.type === 'image_url') {
        images.push(asHttp(() => openAiImagePart(part, `${field}[${i}]`)));
        return '';
      }
      if (!isObject(part) || part.type !== 'text' || typeof part.text !== 'string') {
        throw new HttpError(400, `"${field}[${i}]" must be a text part {"type":"text","text":"…"} or an image part {"type":"image_url","image_url":{"url":"data:…"}}`);
      }
      return part.text;
    })
    .join('');
}

/**
 * Reads a chat transcript. Roles are lower-cased as Ollama does; `developer` is OpenAI's new
 * name for `system`. Assistant turns may carry `tool_calls` and `tool` turns their results (the
 * client runs the tools); images are collected into `images` for the handler to prepare.
 */
export function readMessages(value: unknown, allowContentParts: boolean, images: ImageInput[][] = []): ChatMessage[] {
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
    // Images (Ollama `images`, OpenAI image parts) are collected per message and prepared by the handler (lib/vision/api-images.ts).
    const own: ImageInput[] = allowContentParts ? [] : asHttp(() => ollamaImages(m.images, `${field}.images`));
    const message: ChatMessage = { role, content: readContent(m.content, `${field}.content`, own) };
    images[i] = own;
    try {
      return addToolParts(m, i, field, message);
    } catch (e) {
      throw isAx650Error(e) ? new HttpError(400, e.message) : e;
    }
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
