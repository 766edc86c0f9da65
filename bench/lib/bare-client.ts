/**
 * The baseline: the least a program can do to drive the G1 runtime, a plain fetch loop. POST
 * /api/generate (retried while the runtime answers 400 "llm is running"), then GET
 * /api/generate_provider every `pollMs` until done:true after some text (an early done:true is the
 * start race of reference §1.6). No queue, no tokenizer, no think filter, no Node-RED.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TimedStream } from './stream';

export const SAMPLING_BODY = { temperature: 0.7, 'top-k': 20, 'top-p': 0.8, repetition_penalty: 1.05 };

interface Provider {
  response: string;
  done: boolean;
}

function isProvider(v: unknown): v is Provider {
  return typeof v === 'object' && v !== null && typeof (v as Provider).response === 'string' && typeof (v as Provider).done === 'boolean';
}

async function poll(baseUrl: string): Promise<Provider> {
  const body: unknown = await (await fetch(`${baseUrl}/api/generate_provider`)).json();
  if (!isProvider(body)) throw new Error(`unexpected generate_provider answer ${JSON.stringify(body)}`);
  return body;
}

async function postUntilAccepted(baseUrl: string, path: string, body: unknown, pollMs: number): Promise<void> {
  for (let tries = 0; ; tries++) {
    const res = await fetch(`${baseUrl}${path}`, { method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json' } });
    const text = await res.text();
    if (res.status === 200) return;
    if (res.status !== 400 || !text.includes('llm is running') || tries > 10_000) throw new Error(`${path}: ${res.status} ${text}`);
    await sleep(pollMs);
  }
}

/** Reset with a system prompt and wait until the prefill is over. */
export async function bareReset(baseUrl: string, systemPrompt: string, pollMs: number): Promise<void> {
  await postUntilAccepted(baseUrl, '/api/reset', { system_prompt: systemPrompt }, pollMs);
  for (;;) {
    await sleep(pollMs);
    if ((await poll(baseUrl)).done) return;
  }
}

export async function bareGenerate(baseUrl: string, prompt: string, pollMs: number): Promise<TimedStream & { text: string }> {
  const start = performance.now();
  await postUntilAccepted(baseUrl, '/api/generate', { prompt, ...SAMPLING_BODY }, pollMs);
  const deltas: TimedStream['deltas'] = [];
  let text = '';
  for (;;) {
    const chunk = await poll(baseUrl);
    if (chunk.response !== '') {
      deltas.push({ t: performance.now(), text: chunk.response });
      text += chunk.response;
    }
    if (chunk.done && text !== '') return { start, deltas, text };
    await sleep(pollMs);
  }
}
