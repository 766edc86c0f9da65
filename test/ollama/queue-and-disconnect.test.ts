import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { request, type ClientRequest } from 'node:http';
import { isAx650Error } from '../../lib/errors';
import { startHarness, waitFor, postJson, type Harness } from './harness';

let h: Harness;
const LONG = 'tick '.repeat(2000);

before(async () => {
  h = await startHarness({ queueLimit: 1, tokensPerSecond: 200, reply: () => LONG });
});

after(async () => {
  await h.server.close();
});

/** A raw HTTP client that sends one request and can vanish without a word, like a crashed robot script. */
function rawPost(path: string, body: unknown): ClientRequest {
  const url = new URL(path, h.url);
  const req = request(url, { method: 'POST', headers: { 'Content-Type': 'application/json' } });
  req.on('error', () => undefined);
  req.on('response', (res) => res.resume());
  req.end(JSON.stringify(body));
  return req;
}

test('a full queue answers 503 with Ollama\'s exact body, and OpenAI clients get the same sentence', async () => {
  const running = rawPost('/api/generate', { model: 'qwen3-ax650', prompt: 'first' });
  await waitFor('the first job to run', () => h.runner.running);
  const queued = rawPost('/api/chat', { model: 'qwen3-ax650', messages: [{ role: 'user', content: 'second' }] });
  await waitFor('the second job to queue', () => h.runner.queueDepth === 1);

  const res = await postJson(`${h.url}/api/generate`, { model: 'qwen3-ax650', prompt: 'third', stream: false });
  assert.equal(res.status, 503);
  assert.equal(await res.text(), '{"error":"server busy, please try again.  maximum pending requests exceeded"}');

  const oa = await postJson(`${h.url}/v1/chat/completions`, { model: 'qwen3-ax650', messages: [{ role: 'user', content: 'fourth' }] });
  assert.equal(oa.status, 503);
  assert.deepEqual(await oa.json(), {
    error: { message: 'server busy, please try again.  maximum pending requests exceeded', type: 'api_error', param: null, code: 'QUEUE_FULL' },
  });
  assert.deepEqual(h.runner.submitted.map((r) => r.prompt), ['first', 'second']);

  queued.destroy();
  running.destroy();
  await waitFor('the runtime to be free and the queue empty', () => !h.runner.running && h.runner.queueDepth === 0);
});

test('a disconnecting client cancels its queued job (it never runs) and its running job (runtime stopped)', async () => {
  const firstIndex = h.runner.handles.length;
  const running = rawPost('/api/generate', { model: 'qwen3-ax650', prompt: 'running one', stream: false });
  await waitFor('the first job to run', () => h.runner.running && h.runner.handles.length === firstIndex + 1);
  const queued = rawPost('/v1/chat/completions', { model: 'qwen3-ax650', messages: [{ role: 'user', content: 'queued one' }], stream: true });
  await waitFor('the second job to queue', () => h.runner.queueDepth === 1);
  const [runningJob, queuedJob] = h.runner.handles.slice(firstIndex);
  assert.ok(runningJob && queuedJob);

  queued.destroy();
  await assert.rejects(queuedJob.result, (e: unknown) => isAx650Error(e) && e.code === 'ABORTED');
  assert.equal(h.runner.queueDepth, 0);
  assert.ok(h.runner.running, 'the running job is not affected by another client leaving');

  assert.ok(h.runner.ran.includes(runningJob.request));
  running.destroy();
  const result = await runningJob.result;
  assert.equal(result.stats.doneReason, 'abort');
  await waitFor('the runtime to be free', () => !h.runner.running);
  assert.ok(!h.runner.ran.includes(queuedJob.request), 'the cancelled queued job never reached the runtime');
});

test('the same runner serves the next request normally after the cancellations', async () => {
  const res = await postJson(`${h.url}/api/generate`, { model: 'qwen3-ax650', prompt: 'after', stream: false, options: { num_predict: 3 } });
  assert.equal(res.status, 200);
  const body = (await res.json()) as { response: string; done_reason: string };
  assert.equal(body.response, 'tick tick tick');
  assert.equal(body.done_reason, 'length');
});

test('close() ends an open stream with a last chunk and cancels its job', async () => {
  const own = await startHarness({ tokensPerSecond: 200, reply: () => LONG });
  const res = await postJson(`${own.url}/api/generate`, { model: 'qwen3-ax650', prompt: 'x' });
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  await reader.read();
  const job = own.runner.handles[0];
  assert.ok(job);
  await own.server.close();
  assert.equal((await job.result).stats.doneReason, 'abort');
  assert.equal(own.runner.running, false);
  let text = '';
  const decoder = new TextDecoder();
  for (let r = await reader.read(); !r.done; r = await reader.read()) text += decoder.decode(r.value);
  const last = JSON.parse(text.trim().split('\n').at(-1) as string) as { done: boolean; done_reason: string };
  assert.equal(last.done, true);
  assert.equal(last.done_reason, 'abort');
});
