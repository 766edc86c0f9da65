/**
 * Checks what a caller hands the Runtime, so that bad input fails at once with BAD_INPUT and a
 * sentence naming the field, instead of reaching the vendor runtime (which throws inside its HTTP
 * handler on a non-number sampling value, reference §1.6) or silently ignoring it.
 */
import { Ax650Error } from '../errors';
import type { ChatMessage, JobRequest, SamplingOptions } from './types';

/** Longest prompt accepted before tokenising: far beyond the 2,048-token prefill limit, small enough to be cheap to refuse. */
export const MAX_PROMPT_CHARS = 64 * 1024;

/** The option keys of the message contract (`msg.options`, MQTT `options`). */
export interface GenerateOptions {
  temperature?: number;
  top_k?: number;
  top_p?: number;
  repetition_penalty?: number;
  max_tokens?: number;
  think?: boolean;
}

const OPTION_KEYS = ['temperature', 'top_k', 'top_p', 'repetition_penalty', 'max_tokens', 'think'] as const;

function bad(message: string, field: string): Ax650Error {
  return new Ax650Error('BAD_INPUT', message, { params: { field } });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function finiteNumber(v: unknown, field: string, min: number, max: number, integer = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw bad(`${field} must be a number, got ${describe(v)}.`, field);
  if (integer && !Number.isInteger(v)) throw bad(`${field} must be a whole number, got ${v}.`, field);
  if (v < min || v > max) throw bad(`${field} must be between ${min} and ${max}, got ${v}.`, field);
  return v;
}

export function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'number' && Number.isNaN(v)) return 'NaN';
  if (typeof v === 'string') return v.length > 40 ? `a string of ${v.length} characters` : `"${v}"`;
  return typeof v === 'object' ? 'an object' : `${typeof v} ${String(v)}`;
}

/** Parses an options object of the message contract; unknown keys are refused so a typo is not silently ignored. */
export function parseOptions(raw: unknown): { sampling: SamplingOptions; maxTokens?: number; think?: boolean } {
  if (raw === undefined || raw === null) return { sampling: {} };
  if (!isRecord(raw)) throw bad(`options must be an object like {"temperature":0.7}, got ${describe(raw)}.`, 'options');
  for (const key of Object.keys(raw)) {
    if (!(OPTION_KEYS as readonly string[]).includes(key)) {
      throw bad(`Unknown option "${key}"; known options are ${OPTION_KEYS.join(', ')}.`, `options.${key}`);
    }
  }
  const sampling: SamplingOptions = {};
  const out: { sampling: SamplingOptions; maxTokens?: number; think?: boolean } = { sampling };
  if (raw.temperature !== undefined) sampling.temperature = finiteNumber(raw.temperature, 'options.temperature', 0, 2);
  if (raw.top_k !== undefined) sampling.topK = finiteNumber(raw.top_k, 'options.top_k', 0, 151936, true);
  if (raw.top_p !== undefined) sampling.topP = finiteNumber(raw.top_p, 'options.top_p', 0, 1);
  if (raw.repetition_penalty !== undefined) {
    sampling.repetitionPenalty = finiteNumber(raw.repetition_penalty, 'options.repetition_penalty', 0.5, 2);
  }
  if (raw.max_tokens !== undefined) out.maxTokens = finiteNumber(raw.max_tokens, 'options.max_tokens', 1, 100000, true);
  if (raw.think !== undefined) {
    if (typeof raw.think !== 'boolean') throw bad(`options.think must be true or false, got ${describe(raw.think)}.`, 'options.think');
    out.think = raw.think;
  }
  return out;
}

function checkText(v: unknown, field: string): string {
  if (typeof v !== 'string') throw bad(`${field} must be a string, got ${describe(v)}.`, field);
  if (v.length > MAX_PROMPT_CHARS) {
    // Too long for the context: the same condition and code as a prompt the token count refuses.
    throw new Ax650Error('CONTEXT_FULL', `${field} is ${v.length} characters; that is far more than the model's context (2,048 tokens) and more than the ${MAX_PROMPT_CHARS} characters counted at all. Shorten it.`, {
      params: { field, chars: v.length, limit: MAX_PROMPT_CHARS },
    });
  }
  return v;
}

export function validateMessages(raw: unknown): ChatMessage[] {
  if (!Array.isArray(raw) || raw.length === 0) throw bad('messages must be a non-empty array of {role, content}.', 'messages');
  return raw.map((m, i) => {
    if (!isRecord(m)) throw bad(`messages[${i}] must be an object {role, content}, got ${describe(m)}.`, `messages[${i}]`);
    if (m.role !== 'system' && m.role !== 'user' && m.role !== 'assistant' && m.role !== 'tool') {
      throw bad(`messages[${i}].role must be "system", "user", "assistant" or "tool", got ${describe(m.role)}.`, `messages[${i}].role`);
    }
    // Tool turns (lib/actions) keep their calls and ids.
    return { ...(m as unknown as ChatMessage), role: m.role, content: checkText(m.content, `messages[${i}].content`) };
  });
}

/** Validates a whole request; returns it normalised (trimmed checks only, the prompt text itself is kept as given). */
export function validateRequest(req: JobRequest): JobRequest {
  const prompt = checkText(req.prompt, 'prompt');
  if (prompt.trim() === '') throw bad('The prompt is empty; send some text to generate from.', 'prompt');
  if (req.system !== undefined) checkText(req.system, 'system');
  if (req.conversation !== undefined && (typeof req.conversation !== 'string' || req.conversation === '' || req.conversation.length > 200)) {
    throw bad(`conversation must be a non-empty string key (at most 200 characters), got ${describe(req.conversation)}.`, 'conversation');
  }
  if (req.messages !== undefined) validateMessages(req.messages);
  if (req.toolResults !== undefined) {
    if (req.conversation === undefined || req.messages !== undefined) throw bad('toolResults continue a stored conversation: they need a conversation key and no messages.', 'toolResults');
    const results = validateMessages(req.toolResults);
    if (results.some((m) => m.role !== 'tool')) throw bad('toolResults must all be tool turns (role "tool").', 'toolResults');
  }
  if (req.priority !== undefined) finiteNumber(req.priority, 'priority', -1000, 1000, true);
  if (req.maxTokens !== undefined) finiteNumber(req.maxTokens, 'max_tokens', 1, 100000, true);
  const t = req.timeouts ?? {};
  for (const [k, v] of Object.entries(t)) if (v !== undefined) finiteNumber(v, `timeout.${k}`, 1, 24 * 3600 * 1000);
  const s = req.sampling ?? {};
  if (s.temperature !== undefined) finiteNumber(s.temperature, 'temperature', 0, 2);
  if (s.topK !== undefined) finiteNumber(s.topK, 'top_k', 0, 151936, true);
  if (s.topP !== undefined) finiteNumber(s.topP, 'top_p', 0, 1);
  if (s.repetitionPenalty !== undefined) finiteNumber(s.repetitionPenalty, 'repetition_penalty', 0.5, 2);
  return req;
}
