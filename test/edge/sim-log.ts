/**
 * The simulator's request log (AX650_SIM_LOG) as the edge tests read it: what the runtime was asked
 * over HTTP and what it prefilled, in order.
 */
import { readFile } from 'node:fs/promises';

export type SimEvent =
  | { event: 'request'; method: string; path: string; body: unknown }
  | { event: 'prefill'; kind: 'reset' | 'generate'; tokens: number; precompute_len: number };

export async function readSimLog(file: string): Promise<SimEvent[]> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as SimEvent);
}

/** The runtime's requests other than the polls, as `METHOD /path`. */
export function calls(events: readonly SimEvent[]): string[] {
  return events.flatMap((e) => (e.event === 'request' && e.path !== '/api/generate_provider' ? [`${e.method} ${e.path}`] : []));
}

export function prefills(events: readonly SimEvent[], kind?: 'reset' | 'generate'): Array<{ kind: string; tokens: number; precompute_len: number }> {
  return events.flatMap((e) => (e.event === 'prefill' && (kind === undefined || e.kind === kind) ? [e] : []));
}
