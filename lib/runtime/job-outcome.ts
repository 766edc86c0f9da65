/**
 * How a job's end is described to its caller: the stats the package measured itself (joined with
 * the runtime's own figures when they came), and the TIMEOUT error naming which limit was hit.
 */
import { Ax650Error } from '../errors';
import type { DoneReason, JobResult, JobStats } from './types';

export interface RuntimeReportedStats {
  runtimeTtftMs?: number;
  runtimeTokensPerSecond?: number;
  inputTokens?: number;
}

export interface Measured {
  prompt: string;
  /** The visible text delivered so far. */
  text: string;
  started: number;
  firstAt: number | null;
  queueMs: number;
  doneReason: DoneReason;
}

export function measuredResult(countTokens: (text: string) => number, m: Measured, extra: Partial<JobStats>, rt: RuntimeReportedStats = {}): JobResult {
  const end = Date.now();
  const completionTokens = m.text === '' ? 0 : countTokens(m.text);
  const decodeMs = m.firstAt === null ? 0 : end - m.firstAt;
  const stats: JobStats = {
    promptTokens: rt.inputTokens ?? countTokens(m.prompt),
    completionTokens,
    ttftMs: m.firstAt === null ? null : m.firstAt - m.started,
    tokensPerSecond: completionTokens > 1 && decodeMs > 0 ? round((completionTokens - 1) / (decodeMs / 1000)) : null,
    durationMs: end - m.started,
    queueMs: m.queueMs,
    doneReason: m.doneReason,
    ...extra,
  };
  if (rt.runtimeTtftMs !== undefined) stats.runtimeTtftMs = rt.runtimeTtftMs;
  if (rt.runtimeTokensPerSecond !== undefined) stats.runtimeTokensPerSecond = rt.runtimeTokensPerSecond;
  return { text: m.text, stats };
}

export function timeoutError(which: string, limits: { firstTokenMs: number; idleMs: number; totalMs: number }): Ax650Error {
  const ms = which === 'idle' ? limits.idleMs : which === 'total' ? limits.totalMs : limits.firstTokenMs;
  const what = which === 'total' ? 'end of the reply' : which === 'idle' ? 'new token' : 'first token';
  return new Ax650Error('TIMEOUT', `No ${what} within ${ms} ms (${which} timeout); the generation was stopped.`, { params: { which, ms } });
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
