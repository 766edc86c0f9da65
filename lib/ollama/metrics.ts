/**
 * Job statistics in the shapes clients parse: Ollama's `api.Metrics` (integer nanoseconds,
 * which ollama-python's pydantic models insist on) and OpenAI's `usage` and `finish_reason`.
 */
import type { DoneReason, JobStats } from '../runtime/types';

export interface OllamaMetrics {
  total_duration: number;
  load_duration: number;
  prompt_eval_count: number;
  prompt_eval_duration: number;
  eval_count: number;
  eval_duration: number;
}

const NS_PER_MS = 1e6;

function ns(ms: number): number {
  return Math.max(0, Math.round(ms * NS_PER_MS));
}

/**
 * `load_duration` is Ollama's "scheduling plus load": here the queue wait plus any context reset.
 * Prefill has no separate timing, so the time to the first token stands for `prompt_eval_duration`
 * and the rest of the job for `eval_duration`. The handler's clock and the Runtime's differ by a
 * millisecond or so; total_duration never reports less than the parts it contains.
 */
export function ollamaMetrics(stats: JobStats, totalMs: number): OllamaMetrics {
  const ttft = stats.ttftMs ?? 0;
  const decodeMs = Math.max(0, stats.durationMs - ttft);
  return {
    total_duration: ns(Math.max(totalMs, stats.queueMs + (stats.resetMs ?? 0) + stats.durationMs)),
    load_duration: ns(stats.queueMs + (stats.resetMs ?? 0)),
    prompt_eval_count: stats.promptTokens,
    prompt_eval_duration: ns(ttft),
    eval_count: stats.completionTokens,
    eval_duration: ns(decodeMs),
  };
}

/** Ollama's own reasons are `stop` and `length`; a context limit is a length limit to a client. */
export function ollamaDoneReason(reason: DoneReason): string {
  return reason === 'context' ? 'length' : reason;
}

export type FinishReason = 'stop' | 'length';

export function openAiFinishReason(reason: DoneReason): FinishReason {
  return reason === 'length' || reason === 'context' || reason === 'timeout' ? 'length' : 'stop';
}

export interface OpenAiUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export function openAiUsage(stats: JobStats): OpenAiUsage {
  return {
    prompt_tokens: stats.promptTokens,
    completion_tokens: stats.completionTokens,
    total_tokens: stats.promptTokens + stats.completionTokens,
  };
}
