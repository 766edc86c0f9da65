/**
 * Tool calls in the two wire shapes: Ollama's `message.tool_calls` (arguments as an object, the
 * call's `index` inside `function`) and OpenAI's (`id`, `type`, arguments as JSON text; streamed
 * deltas add the call's `index`).
 */
import type { ToolCall } from '../runtime/types';
import type { JsonObject } from './validate';

export function ollamaToolCalls(calls: readonly ToolCall[]): JsonObject[] {
  return calls.map((c, index) => ({ id: c.id, function: { index, name: c.name, arguments: c.arguments ?? {} } }));
}

function argumentsText(c: ToolCall): string {
  return JSON.stringify(c.arguments ?? {});
}

export function openAiToolCalls(calls: readonly ToolCall[]): JsonObject[] {
  return calls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: argumentsText(c) } }));
}

/** Streamed form: each call whole in one delta, with its position, as Ollama's /v1 layer sends it. */
export function openAiToolCallDeltas(calls: readonly ToolCall[]): JsonObject[] {
  return calls.map((c, index) => ({ index, id: c.id, type: 'function', function: { name: c.name, arguments: argumentsText(c) } }));
}
