import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Ollama } from 'ollama';
import { startHarness, waitFor, postJson, type Harness } from './harness';

const METRICS = ['total_duration', 'load_duration', 'prompt_eval_count', 'prompt_eval_duration', 'eval_count', 'eval_duration'];

function assertMetrics(chunk: Record<string, unknown>): void {
  for (const key of METRICS) {
    const v = chunk[key];
    assert.ok(typeof v === 'number' && Number.isInteger(v) && v >= 0, `${key} must be a non-negative integer, got ${String(v)}`);
  }
  assert.ok((chunk.eval_count as number) > 0);
  assert.ok((chunk.total_duration as number) >= (chunk.eval_duration as number));
}

let h: Harness;
let client: Ollama;
const REPLY = 'The light runs fast and far, a silver arrow through the dark.';

before(async () => {
  h = await startHarness({ tokensPerSecond: 400, reply: (r) => (r.prompt.includes('slow') ? 'word '.repeat(400) : REPLY) });
  client = new Ollama({ host: h.url });
});

after(async () => {
  await h.server.close();
});

test('generate, not streamed: one object with the whole text, done_reason and integer-ns stats', async () => {
  const r = await client.generate({ model: 'qwen3-ax650', prompt: 'hi', stream: false, system: 'Be brief.', options: { temperature: 0.3, top_k: 5, top_p: 0.8, repeat_penalty: 1.1 } });
  assert.equal(r.response, REPLY);
  assert.equal(r.done, true);
  assert.equal(r.done_reason, 'stop');
  assertMetrics(r as unknown as Record<string, unknown>);
  const req = h.runner.ran.at(-1);
  assert.equal(req?.system, 'Be brief.');
  assert.equal(req?.owner, 'http');
  assert.deepEqual(req?.sampling, { temperature: 0.3, topK: 5, topP: 0.8, repetitionPenalty: 1.1 });
});

test('generate, streamed: deltas rebuild the text and the last chunk carries the stats', async () => {
  const stream = await client.generate({ model: 'qwen3-ax650:latest', prompt: 'hi', stream: true, options: { num_predict: 5 } });
  let text = '';
  let chunks = 0;
  let last: Record<string, unknown> = {};
  for await (const part of stream) {
    chunks += 1;
    text += part.response ?? '';
    last = part as unknown as Record<string, unknown>;
  }
  assert.ok(chunks >= 6, `expected 5 deltas and a final chunk, got ${chunks}`);
  assert.equal(text, REPLY.slice(0, text.length));
  assert.equal(last.done, true);
  assert.equal(last.done_reason, 'length');
  assert.equal(last.eval_count, 5);
  assertMetrics(last);
  assert.equal(h.runner.ran.at(-1)?.maxTokens, 5);
});

test('chat, both ways: the whole transcript reaches the runner and the reply has role assistant', async () => {
  const messages = [
    { role: 'system', content: 'You are a robot.' },
    { role: 'user', content: 'Hello' },
    { role: 'assistant', content: 'Hi.' },
    { role: 'user', content: 'How fast is light?' },
  ];
  const r = await client.chat({ model: 'qwen3-ax650', messages, stream: false });
  assert.equal(r.message.role, 'assistant');
  assert.equal(r.message.content, REPLY);
  assertMetrics(r as unknown as Record<string, unknown>);
  const req = h.runner.ran.at(-1);
  assert.equal(req?.prompt, 'How fast is light?');
  assert.deepEqual(req?.messages, messages);
  assert.equal(req?.system, 'You are a robot.');

  let text = '';
  let done = false;
  for await (const part of await client.chat({ model: 'qwen3-ax650', messages, stream: true })) {
    assert.equal(part.message.role, 'assistant');
    text += part.message.content;
    done = part.done;
  }
  assert.equal(text, REPLY);
  assert.equal(done, true);
});

test('list, ps, show and version answer in Ollama shapes', async () => {
  const list = await client.list();
  assert.equal(list.models.length, 1);
  assert.equal(list.models[0]?.name, 'qwen3-ax650:latest');
  assert.equal(list.models[0]?.model, 'qwen3-ax650:latest');
  assert.match(list.models[0]?.digest ?? '', /^[0-9a-f]{64}$/);
  assert.equal(list.models[0]?.details.family, 'qwen3');

  await client.generate({ model: 'qwen3-ax650', prompt: 'hi', stream: false, keep_alive: '10m' });
  const ps = await client.ps();
  assert.equal(ps.models.length, 1);
  const expires = Date.parse(String(ps.models[0]?.expires_at));
  assert.ok(Math.abs(expires - (Date.now() + 600_000)) < 5000, `expires_at ${String(ps.models[0]?.expires_at)} should be ~10 min away`);

  await client.generate({ model: 'qwen3-ax650', prompt: '', keep_alive: -1 });
  const forever = Date.parse(String((await client.ps()).models[0]?.expires_at));
  assert.ok(forever > Date.now() + 100 * 365 * 24 * 3600 * 1000, 'negative keep_alive means forever');

  const show = await client.show({ model: 'qwen3-ax650' });
  assert.ok(Object.keys(show.model_info).length > 0);
  assert.ok(show.capabilities.includes('completion'));
  assert.equal(show.details.format, 'axmodel');
  assert.equal((await client.version()).version.split('.').length, 3);
});

test('an empty prompt is a load request and keep_alive 0 an unload request, neither runs a job', async () => {
  const before = h.runner.ran.length;
  const load = await client.generate({ model: 'qwen3-ax650', prompt: '' });
  assert.equal(load.done, true);
  assert.equal(load.done_reason, 'load');
  const unload = await client.generate({ model: 'qwen3-ax650', prompt: '', keep_alive: 0 });
  assert.equal(unload.done_reason, 'unload');
  const chatLoad = await client.chat({ model: 'qwen3-ax650', messages: [] });
  assert.equal(chatLoad.done_reason, 'load');
  assert.equal(chatLoad.message.role, 'assistant');
  assert.equal(h.runner.ran.length, before);
});

test('abort() mid-stream cancels the job and frees the runtime', async () => {
  const stream = await client.generate({ model: 'qwen3-ax650', prompt: 'slow please', stream: true });
  const job = h.runner.handles.at(-1);
  assert.ok(job);
  let seen = 0;
  await assert.rejects(async () => {
    for await (const part of stream) {
      seen += (part.response ?? '').length;
      if (seen > 10) stream.abort();
    }
  }, /abort/i);
  await waitFor('the runtime to be free', () => !h.runner.running);
  assert.equal(h.runner.ran.at(-1), job.request);
  const result = await job.result;
  assert.equal(result.stats.doneReason, 'abort');
  assert.ok(result.text.length < 'word '.repeat(400).length);
});

test('the poem request: POST /api/generate stream:false → 200 with text and stats', async () => {
  const res = await postJson(`${h.url}/api/generate`, {
    model: 'qwen3-ax650',
    prompt: 'Write a poem about the speed of light.',
    stream: false,
  });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  const body = (await res.json()) as Record<string, unknown>;
  assert.equal(body.model, 'qwen3-ax650');
  assert.equal(body.response, REPLY);
  assert.equal(body.done, true);
  assert.ok(!Number.isNaN(Date.parse(String(body.created_at))));
  assertMetrics(body);
});

test('a streamed answer is NDJSON, one object per line', async () => {
  const res = await postJson(`${h.url}/api/chat`, { model: 'qwen3-ax650', messages: [{ role: 'user', content: 'x' }] });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'application/x-ndjson');
  const lines = (await res.text()).split('\n');
  assert.equal(lines.pop(), '');
  const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(parsed.filter((p) => p.done === true).length, 1);
  assert.equal(parsed.at(-1)?.done, true);
});
