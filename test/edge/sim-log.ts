/**
 * The simulator's request log (AX650_SIM_LOG) as the edge tests read it: what the runtime was asked
 * over HTTP and what it prefilled (G1) or ran (axllm: `chat` and `run` events), in order.
 */
import { readFile } from 'node:fs/promises';
import { TEST_KIND } from '../helpers/kind';
import type { Harness } from '../nodes/flow-harness';
import { completeJsonLines } from '../helpers/json-lines';

export type SimEvent =
  | { event: 'request'; method: string; path: string; body: unknown }
  | { event: 'chat'; id: number; prompt_tokens: number; max_tokens: number }
  | { event: 'run'; id: number; phase: 'start' | 'end'; prompt_tokens?: number; reason?: string }
  | { event: 'prefill'; kind: 'reset' | 'generate'; tokens: number; precompute_len: number };

export async function readSimLog(file: string): Promise<SimEvent[]> {
  return completeJsonLines(await readFile(file, 'utf8').catch(() => '')) as SimEvent[];
}

/** The runtime's requests other than the polls, as `METHOD /path`. */
export function calls(events: readonly SimEvent[]): string[] {
  return events.flatMap((e) => (e.event === 'request' && e.path !== '/api/generate_provider' && e.path !== '/health' ? [`${e.method} ${e.path}`] : []));
}

export function prefills(events: readonly SimEvent[], kind?: 'reset' | 'generate'): Array<{ kind: string; tokens: number; precompute_len: number }> {
  return events.flatMap((e) => (e.event === 'prefill' && (kind === undefined || e.kind === kind) ? [e] : []));
}

interface SentMessage {
  role: string;
  content: string;
}

/** The messages of every chat request the axllm runtime got, in order (it is stateless: each holds the whole transcript). */
export function chatMessages(events: readonly SimEvent[]): SentMessage[][] {
  return events.flatMap((e) => {
    if (e.event !== 'request' || e.method !== 'POST' || e.path !== '/v1/chat/completions') return [];
    const messages = (e.body as { messages?: unknown }).messages;
    if (!Array.isArray(messages)) return [];
    return [messages.map((m: { role?: unknown; content?: unknown }) => ({ role: String(m.role), content: typeof m.content === 'string' ? m.content : JSON.stringify(m.content) }))];
  });
}

/** What the model was given for its last generation, as text: the G1 tokenizer service's last encode, or axllm's last transcript. */
export interface ContextSpy {
  last(): Promise<string>;
}

export function spyContexts(h: Pick<Harness, 'runtime' | 'simLog'>): ContextSpy {
  const server = h.runtime.tokenizerServer;
  if (TEST_KIND === 'main-api' && server) {
    const seen: string[] = [];
    server.on('encode', (e) => seen.push(server.tokenizer.decode(e.tokenIds)));
    return { last: async () => seen[seen.length - 1] ?? '' };
  }
  return {
    last: async () => {
      const sent = chatMessages(await readSimLog(h.simLog));
      return (sent[sent.length - 1] ?? []).map((m) => `${m.role}: ${m.content}`).join('\n');
    },
  };
}
