/** An Ollama `/api/chat` streaming request, each NDJSON line timed when it is parsed. */
import { performance } from 'node:perf_hooks';
import type { TimedStream } from './stream';

function contentOf(line: string): string {
  const body: unknown = JSON.parse(line);
  if (typeof body !== 'object' || body === null) throw new Error(`bad NDJSON line ${line}`);
  const err = (body as { error?: unknown }).error;
  if (err !== undefined) throw new Error(`/api/chat error: ${JSON.stringify(err)}`);
  const content = (body as { message?: { content?: unknown } }).message?.content;
  return typeof content === 'string' ? content : '';
}

export async function chatStream(baseUrl: string, model: string, prompt: string): Promise<TimedStream> {
  const start = performance.now();
  const res = await fetch(`${baseUrl}/api/chat`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: prompt }], stream: true }),
  });
  if (res.status !== 200 || !res.body) throw new Error(`/api/chat answered ${res.status}: ${await res.text()}`);
  const deltas: TimedStream['deltas'] = [];
  const decoder = new TextDecoder();
  let buffered = '';
  for await (const chunk of res.body) {
    const t = performance.now();
    buffered += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl).trim();
      buffered = buffered.slice(nl + 1);
      if (line === '') continue;
      const text = contentOf(line);
      if (text !== '') deltas.push({ t, text });
    }
  }
  return { start, deltas };
}
