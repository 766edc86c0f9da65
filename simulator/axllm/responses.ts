/**
 * The openai-api.cpp bodies axllm answers with [S, E, T]: nlohmann dumps, so keys come out sorted;
 * plain responses pretty-printed with indent 2, SSE chunks compact. Usage is always zeros (main.cpp
 * never fills it) and every chunk gets a fresh random id.
 */
import { randomBytes } from 'node:crypto';
import { dump } from '../json-compat';

export const ZERO_USAGE = { completion_tokens: 0, prompt_tokens: 0, total_tokens: 0 } as const;

export function completionId(): string {
  return `chatcmpl-${randomBytes(12).toString('hex')}`;
}

const now = (): number => Math.floor(Date.now() / 1000);

export function errorBody(code: string, message: string): string {
  return dump({ error: { code, message, type: code } }, 2);
}

export interface ToolCallOut {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

export function completionBody(content: string | null, model: string, toolCalls?: ToolCallOut[]): string {
  const message: Record<string, unknown> = { content, role: 'assistant' };
  if (toolCalls) message['tool_calls'] = toolCalls;
  return dump(
    {
      choices: [{ finish_reason: toolCalls ? 'tool_calls' : 'stop', index: 0, message }],
      created: now(),
      id: completionId(),
      model,
      object: 'chat.completion',
      usage: ZERO_USAGE,
    },
    2,
  );
}

function sse(value: unknown): string {
  return `data: ${dump(value)}\n\n`;
}

export function deltaChunk(content: string, model: string): string {
  return sse({
    choices: [{ delta: { content, role: 'assistant' }, finish_reason: null, index: 0 }],
    created: now(),
    id: completionId(),
    model,
    object: 'chat.completion.chunk',
  });
}

export function toolCallsChunk(toolCalls: ToolCallOut[], model: string): string {
  return sse({
    choices: [{ delta: { role: 'assistant', tool_calls: toolCalls.map((t, index) => ({ index, ...t })) }, finish_reason: null, index: 0 }],
    created: now(),
    id: completionId(),
    model,
    object: 'chat.completion.chunk',
  });
}

export function finishChunk(model: string, reason: 'stop' | 'tool_calls' = 'stop'): string {
  return sse({
    choices: [{ delta: {}, finish_reason: reason, index: 0 }],
    created: now(),
    id: completionId(),
    model,
    object: 'chat.completion.chunk',
    usage: ZERO_USAGE,
  });
}

export function errorChunk(code: string, message: string): string {
  return sse({ error: { message, type: code } });
}

export const DONE = 'data: [DONE]\n\n';

export function healthBody(concurrency: number): string {
  return dump({ concurrency, max_concurrency: 1, status: 'healthy' }, 2);
}

export interface ModelCard {
  id: string;
  vision: boolean;
  prefillMaxTokenNum: number;
  maxTokenLen: number;
  thinkingMode: string;
  serverMaxOutputTokens: number;
}

export function modelsBody(m: ModelCard): string {
  const card: Record<string, unknown> = {
    capabilities: { vision: m.vision },
    created: now(),
    id: m.id,
    input_modalities: m.vision ? ['text', 'image'] : ['text'],
    max_token_len: m.maxTokenLen,
    object: 'model',
    owned_by: 'openai-api',
    prefill_max_token_num: m.prefillMaxTokenNum,
    thinking_mode: m.thinkingMode,
  };
  if (m.serverMaxOutputTokens > 0) card['server_max_output_tokens'] = m.serverMaxOutputTokens;
  return dump({ data: [card], object: 'list' }, 2);
}
