/**
 * The wire format of `axllm serve` (reference axllm-serve-protocol.md §4): the chat request body,
 * the SSE chunks, error bodies and `/v1/models`.
 */
import { systemWithTools, textToolTurns } from './axllm-text-tools';
import type { ChatMessage } from '../runtime/types';
import type { RuntimeLimits, TurnRequest } from './runtime-client';

export interface AxllmModel extends RuntimeLimits {
  id: string;
  serverMaxOutputTokens?: number;
}

/**
 * The request for one turn: the whole transcript (the runtime is stateless), streamed.
 * Greedy decoding is sent as neither `temperature` nor `top_p`: builds before PR56 turn
 * `temperature: 0` into 1.0 (§4), and without both keys every build decodes greedily.
 * top_k and the repetition penalty are not request fields: the folder's post_config.json sets them.
 */
export function chatBody(model: string, req: TurnRequest, nativeTools = true): Record<string, unknown> {
  let turns: ChatMessage[] = [...req.history];
  // An empty prompt after tool results continues the assistant's turn (lib/actions tool loop).
  if (!(req.prompt === '' && turns[turns.length - 1]?.role === 'tool')) turns.push({ role: 'user', content: req.prompt, ...(req.images && req.images.length > 0 ? { images: [...req.images] } : {}) });
  const offered = req.tools && req.tools.length > 0 && req.toolChoice !== 'none' ? req.tools : undefined;
  // A build without PR56 gets the tools and tool turns as the template's own text (axllm-text-tools.ts).
  const system = nativeTools ? req.system : systemWithTools(req.system, offered);
  if (!nativeTools) turns = textToolTurns(turns);
  const messages: unknown[] = [];
  if (system !== '') messages.push({ role: 'system', content: system });
  messages.push(...turns.map(wireMessage));
  const body: Record<string, unknown> = { model, messages, stream: true, enable_thinking: req.think };
  if (nativeTools && req.tools && req.tools.length > 0) {
    body['tools'] = req.tools;
    if (req.toolChoice !== undefined) body['tool_choice'] = typeof req.toolChoice === 'object' ? { type: 'function', function: { name: req.toolChoice.name } } : req.toolChoice;
  }
  if (req.maxTokens !== undefined) body['max_tokens'] = req.maxTokens;
  if (req.sampling.temperature > 0) {
    body['temperature'] = req.sampling.temperature;
    body['top_p'] = req.sampling.topP;
  }
  return body;
}

/**
 * One transcript message on the wire. Tool turns in PR56's shape (§6): assistant `tool_calls`
 * (content null when empty), `tool` with `tool_call_id`. Images as OpenAI content parts, one
 * `{"type":"image_url","image_url":{"url":"data:…"}}` per image and then the text, as Qwen-VL's
 * own examples order them (§7: data URIs are decoded to temp files; only `image_url` parts count
 * for the runtime's vision check).
 */
function wireMessage(m: ChatMessage): Record<string, unknown> {
  if (m.role === 'tool') return { role: 'tool', content: m.content, tool_call_id: m.toolCallId ?? '', ...(m.toolName ? { name: m.toolName } : {}) };
  if (m.role === 'assistant' && m.toolCalls && m.toolCalls.length > 0) {
    return {
      role: 'assistant',
      content: m.content === '' ? null : m.content,
      tool_calls: m.toolCalls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.raw } })),
    };
  }
  if (!m.images || m.images.length === 0) return { role: m.role, content: m.content };
  const parts: Array<Record<string, unknown>> = [];
  for (const im of m.images) parts.push({ type: 'image_url', image_url: { url: im.dataUri } });
  if (m.content !== '') parts.push({ type: 'text', text: m.content });
  return { role: m.role, content: parts };
}

export interface WireToolCall {
  index: number;
  id?: string;
  name?: string;
  arguments?: string;
}

export type StreamEvent =
  | { kind: 'delta'; text: string }
  | { kind: 'tool_calls'; calls: WireToolCall[] }
  | { kind: 'finish'; reason: string }
  | { kind: 'error'; message: string; type: string }
  | { kind: 'done' }
  | { kind: 'unknown'; data: string };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** One SSE `data:` payload. A chunk can carry text and its finish at once; text comes first. */
export function parseStreamData(data: string): StreamEvent[] {
  if (data.trim() === '[DONE]') return [{ kind: 'done' }];
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    return [{ kind: 'unknown', data }];
  }
  if (!isRecord(json)) return [{ kind: 'unknown', data }];
  if (isRecord(json['error'])) {
    const e = json['error'];
    return [{ kind: 'error', message: typeof e['message'] === 'string' ? e['message'] : JSON.stringify(e), type: typeof e['type'] === 'string' ? e['type'] : '' }];
  }
  const choice = Array.isArray(json['choices']) ? json['choices'][0] : undefined;
  if (!isRecord(choice)) return [{ kind: 'unknown', data }];
  const out: StreamEvent[] = [];
  const delta = choice['delta'];
  if (isRecord(delta) && typeof delta['content'] === 'string' && delta['content'] !== '') out.push({ kind: 'delta', text: delta['content'] });
  if (isRecord(delta) && Array.isArray(delta['tool_calls'])) {
    const calls = delta['tool_calls'].filter(isRecord).map((c, i): WireToolCall => {
      const fn = isRecord(c['function']) ? c['function'] : {};
      const w: WireToolCall = { index: typeof c['index'] === 'number' ? c['index'] : i };
      if (typeof c['id'] === 'string') w.id = c['id'];
      if (typeof fn['name'] === 'string') w.name = fn['name'];
      if (typeof fn['arguments'] === 'string') w.arguments = fn['arguments'];
      else if (isRecord(fn['arguments'])) w.arguments = JSON.stringify(fn['arguments']);
      return w;
    });
    if (calls.length > 0) out.push({ kind: 'tool_calls', calls });
  }
  if (typeof choice['finish_reason'] === 'string') out.push({ kind: 'finish', reason: choice['finish_reason'] });
  return out;
}

/** `{"error":{"code","message","type"}}` of a non-200 answer; the raw text when it is not that. */
export function errorMessage(text: string): string {
  try {
    const body: unknown = JSON.parse(text);
    if (isRecord(body) && isRecord(body['error']) && typeof body['error']['message'] === 'string') return body['error']['message'];
  } catch {
    // not JSON: say what came
  }
  return text.trim().slice(0, 200) || '(empty body)';
}

/** The first model of `/v1/models`; undefined when the answer is not that shape. */
export function parseModels(body: unknown): AxllmModel | undefined {
  if (!isRecord(body) || !Array.isArray(body['data'])) return undefined;
  const m: unknown = body['data'][0];
  if (!isRecord(m) || typeof m['id'] !== 'string') return undefined;
  const model: AxllmModel = { id: m['id'] };
  const num = (k: string) => (typeof m[k] === 'number' && Number.isFinite(m[k]) ? (m[k] as number) : undefined);
  const max = num('max_token_len');
  const prefill = num('prefill_max_token_num');
  const out = num('server_max_output_tokens');
  if (max !== undefined) model.maxTokenLen = max;
  if (prefill !== undefined) model.prefillMaxTokenNum = prefill;
  if (out !== undefined) model.serverMaxOutputTokens = out;
  if (isRecord(m['capabilities'])) model.vision = m['capabilities']['vision'] === true;
  return model;
}

/** The context-overflow text of the builds that have one ([FL]); upstream's is unverified (§4). */
export function isContextOverflow(message: string): boolean {
  return /上下文已超过|context (length|window)|exceed/i.test(message);
}
