/**
 * AX650_SIM_LOG: one JSON line per HTTP request the runtime received and per prefill it ran, so
 * tests elsewhere can assert on what the package actually sent. Appended synchronously so lines
 * are in order and complete even if the process is killed right after.
 */
import { appendFileSync } from 'node:fs';

export type SimLogEntry =
  | { event: 'request'; time: string; method: string; path: string; query: string; body: unknown }
  | { event: 'prefill'; time: string; kind: 'reset' | 'generate'; tokens: number; precompute_len: number; sampling?: unknown }
  // axllm serve: one `chat` per admitted chat request (what the engine will do), `run` at the start and end
  // of every generation, and `overlap` whenever a generation starts while another is still running.
  | { event: 'chat'; time: string; id: number; stream: boolean; model: string; max_tokens: number; sampling: { mode: 'greedy' | 'sample'; temperature: number | null; top_p: number | null }; thinking: string; prompt_tokens: number; media: number; images?: Array<{ format: string; width: number | null; height: number | null; bytes: number; mean?: [number, number, number] }>; tools: boolean }
  | { event: 'run'; time: string; id: number; phase: 'start' | 'end'; active: number; prompt_tokens?: number; cached_tokens?: number; generated?: number; reason?: 'eos' | 'max_tokens' | 'error' }
  | { event: 'overlap'; time: string; id: number; active: number; running: number[] };

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
