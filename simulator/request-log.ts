/**
 * AX650_SIM_LOG: one JSON line per HTTP request the runtime received and per prefill it ran, so
 * tests elsewhere can assert on what the package actually sent. Appended synchronously so lines
 * are in order and complete even if the process is killed right after.
 */
import { appendFileSync } from 'node:fs';

export type SimLogEntry =
  | { event: 'request'; time: string; method: string; path: string; query: string; body: unknown }
  | { event: 'prefill'; time: string; kind: 'reset' | 'generate'; tokens: number; precompute_len: number; sampling?: unknown };

type WithoutTime<T> = T extends unknown ? Omit<T, 'time'> : never;

export class RequestLog {
  constructor(private readonly file: string | undefined) {}

  append(entry: WithoutTime<SimLogEntry>): void {
    if (this.file === undefined) return;
    appendFileSync(this.file, `${JSON.stringify({ ...entry, time: new Date().toISOString() })}\n`);
  }
}

/** The body as the log shows it: parsed JSON when it parses, the raw text otherwise, null when empty. */
export function loggableBody(raw: Buffer): unknown {
  if (raw.length === 0) return null;
  const text = raw.toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
