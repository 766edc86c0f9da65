/**
 * Maps Ollama and OpenAI request knobs onto the Job API: sampling, the token budget, and
 * Ollama's `keep_alive` duration (api.Duration: a number is seconds, a string is a Go duration,
 * a negative value means forever).
 */
import type { SamplingOptions } from '../runtime/types';
import { HttpError } from './http-io';
import { optNumber, optObject, type JsonObject } from './validate';

export interface MappedOptions {
  sampling: SamplingOptions;
  maxTokens?: number;
}

/** Set only what was given: the Runtime fills in defaults and sends every key to the vendor runtime. */
function samplingFrom(temperature?: number, topK?: number, topP?: number, repetitionPenalty?: number): SamplingOptions {
  const s: SamplingOptions = {};
  if (temperature !== undefined) s.temperature = temperature;
  if (topK !== undefined) s.topK = topK;
  if (topP !== undefined) s.topP = topP;
  if (repetitionPenalty !== undefined) s.repetitionPenalty = repetitionPenalty;
  return s;
}

/** A positive budget limits the reply; Ollama's -1 (infinite) and -2 (fill the context) mean no limit here. */
function budget(n: number | undefined): number | undefined {
  return n !== undefined && n > 0 ? n : undefined;
}

/** Ollama `options`. Keys the runtime has no use for (num_ctx, seed, …) are accepted and ignored, as Ollama warns and goes on. */
export function mapOllamaOptions(body: JsonObject): MappedOptions {
  const o = optObject(body, 'options');
  if (!o) return { sampling: {} };
  const f = (k: string): string => `options.${k}`;
  const sampling = samplingFrom(
    optNumber(o, 'temperature', { min: 0, max: 2 }, f('temperature')),
    optNumber(o, 'top_k', { min: 0, integer: true }, f('top_k')),
    optNumber(o, 'top_p', { min: 0, max: 1 }, f('top_p')),
    optNumber(o, 'repeat_penalty', { min: 0 }, f('repeat_penalty')),
  );
  return { sampling, maxTokens: budget(optNumber(o, 'num_predict', { integer: true }, f('num_predict'))) };
}

/** OpenAI chat-completion knobs; `top_k` and `repetition_penalty` are the common llama.cpp/vLLM extensions. */
export function mapOpenAiOptions(body: JsonObject): MappedOptions {
  const sampling = samplingFrom(
    optNumber(body, 'temperature', { min: 0, max: 2 }),
    optNumber(body, 'top_k', { min: 0, integer: true }),
    optNumber(body, 'top_p', { min: 0, max: 1 }),
    optNumber(body, 'repetition_penalty', { min: 0 }),
  );
  const maxTokens =
    optNumber(body, 'max_completion_tokens', { min: 1, integer: true }) ?? optNumber(body, 'max_tokens', { min: 1, integer: true });
  return { sampling, maxTokens };
}

export const DEFAULT_KEEP_ALIVE_MS = 5 * 60 * 1000;
/** Go's math.MaxInt64 nanoseconds, which is what Ollama adds to "now" for a negative keep_alive. */
export const FOREVER_MS = 9_223_372_036_854;

const GO_UNITS_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function parseGoDuration(text: string): number | undefined {
  const m = /^([+-])?((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h))+$/.exec(text);
  if (!m) return undefined;
  let total = 0;
  for (const part of text.matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/g)) {
    total += Number(part[1]) * (GO_UNITS_MS[part[2] as string] as number);
  }
  return m[1] === '-' ? -total : total;
}

/** Returns milliseconds (negative = forever), or undefined when the field is absent. */
export function parseKeepAlive(body: JsonObject): number | undefined {
  const v = body.keep_alive;
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'number' && Number.isFinite(v)) return v * 1000;
  if (typeof v === 'string') {
    const trimmed = v.trim();
    // A bare number in a string is read as seconds too: friendlier than Go's "missing unit" error.
    if (/^[+-]?\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed) * 1000;
    const ms = parseGoDuration(trimmed);
    if (ms !== undefined) return ms;
  }
  throw new HttpError(400, `"keep_alive" must be a number of seconds or a duration such as "5m" or "1h30m", not ${JSON.stringify(v)}`);
}
