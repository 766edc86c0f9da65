/**
 * Clients that give up, on the real Runtime: the simulated model writes a long reply slowly, so a
 * client's abort() lands mid-stream. The runtime must be free within 2 s (reference: GET /api/stop)
 * and the next job must start and finish normally.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Ollama } from 'ollama';
import OpenAI from 'openai';
import { generatedPrompts, startRealStack, waitFor, type RealStack } from './stack';

describe('abort mid-stream on the real runtime', () => {
  let s: RealStack;
  before(async () => {
    // 2,000 tokens at 100 tokens/s: 20 s per reply unless it is stopped.
    s = await startRealStack({ simEnv: { AX650_SIM_REPLY_TOKENS: '2000', AX650_SIM_TOKENS_PER_SEC: '100' } });
  });
  after(async () => {
    await s.close();
  });

  async function nextJobRuns(prompt: string): Promise<void> {
    const client = new Ollama({ host: s.url });
    const r = await client.generate({ model: 'qwen3-ax650', prompt, stream: false, options: { num_predict: 3 } });
    assert.equal(r.done_reason, 'length');
    assert.equal(r.eval_count, 3);
    assert.equal(generatedPrompts(await s.readLog()).at(-1), prompt);
  }

  test('ollama abort() mid-stream: the runtime is free within 2 s and the next job runs', async () => {
    const client = new Ollama({ host: s.url });
    const stream = await client.generate({ model: 'qwen3-ax650', prompt: 'Tell me a very long story.', stream: true });
    let chunks = 0;
    await assert.rejects(async () => {
      for await (const part of stream) {
        if (part.response) chunks += 1;
        if (chunks === 3) stream.abort();
      }
    }, /abort/i);
    assert.equal(chunks, 3);
    assert.equal(s.runtime.info().running, true, 'the job was still generating when the client aborted');
    await waitFor('the runtime to be free after abort()', () => !s.runtime.info().running, 2000);
    const log = await s.readLog();
    assert.ok(log.some((l) => l.path === '/api/stop'), 'the runtime was told to stop');
    await nextJobRuns('Are you free again?');
  });

  test('openai stream aborted through its AbortController frees the runtime within 2 s', async () => {
    const client = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const ctl = new AbortController();
    const stream = await client.chat.completions.create(
      { model: 'qwen3-ax650', messages: [{ role: 'user', content: 'Another long story, please.' }], stream: true },
      { signal: ctl.signal },
    );
    let chunks = 0;
    // The SDK ends the iteration quietly when its own signal aborts (no exception, no more chunks).
    for await (const c of stream) {
      if (c.choices[0]?.delta.content) chunks += 1;
      if (chunks === 2) ctl.abort();
    }
    assert.equal(chunks, 2, 'the stream ended at the abort, not at the end of the 2,000-token reply');
    await waitFor('the runtime to be free after the SSE client left', () => !s.runtime.info().running, 2000);
    await nextJobRuns('Free once more?');
  });

  test('a queued request whose client leaves never reaches the runtime', async () => {
    const client = new Ollama({ host: s.url });
    const running = await client.generate({ model: 'qwen3-ax650', prompt: 'Keep the NPU busy.', stream: true });
    const iterator = running[Symbol.asyncIterator]();
    await iterator.next();
    const queuedCtl = new AbortController();
    const queued = fetch(`${s.url}/api/generate`, {
      method: 'POST',
      body: JSON.stringify({ model: 'qwen3-ax650', prompt: 'I will not wait.', stream: false }),
      signal: queuedCtl.signal,
    });
    await waitFor('the second request to be queued', () => s.runtime.info().queueDepth === 1);
    queuedCtl.abort();
    await assert.rejects(queued, /abort/i);
    await waitFor('the queue to be empty', () => s.runtime.info().queueDepth === 0);
    running.abort();
    await waitFor('the runtime to be free', () => !s.runtime.info().running, 2000);
    await nextJobRuns('After the queue emptied.');
    assert.ok(!generatedPrompts(await s.readLog()).includes('I will not wait.'), 'the abandoned request never ran');
  });
});
