import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startHarness, postJson, type Harness } from './harness';

let h: Harness;
let client: OpenAI;
const REPLY = 'Light travels about three hundred thousand kilometres each second.';

before(async () => {
  h = await startHarness({ tokensPerSecond: 400, reply: () => REPLY }, { token: 'sesame' });
  client = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: 'sesame', maxRetries: 0 });
});

after(async () => {
  await h.server.close();
});

test('openai: non-streaming chat completion with usage', async () => {
  const r = await client.chat.completions.create({
    model: 'qwen3-ax650',
    messages: [
      { role: 'developer', content: 'Answer in one line.' },
      { role: 'user', content: 'How fast is light?' },
    ],
    max_tokens: 100,
    temperature: 0.5,
  });
  assert.equal(r.object, 'chat.completion');
  assert.equal(r.choices[0]?.message.role, 'assistant');
  assert.equal(r.choices[0]?.message.content, REPLY);
  assert.equal(r.choices[0]?.finish_reason, 'stop');
  assert.ok(r.usage && r.usage.completion_tokens > 0);
  assert.equal(r.usage?.total_tokens, (r.usage?.prompt_tokens ?? 0) + (r.usage?.completion_tokens ?? 0));
  const req = h.runner.ran.at(-1);
  assert.equal(req?.system, 'Answer in one line.');
  assert.equal(req?.messages?.[0]?.role, 'system');
  assert.equal(req?.maxTokens, 100);
  assert.deepEqual(req?.sampling, { temperature: 0.5 });
});

test('openai: streaming sends role once, a finish chunk, a usage chunk, then [DONE]', async () => {
  const stream = await client.chat.completions.create({
    model: 'qwen3-ax650',
    messages: [{ role: 'user', content: [{ type: 'text', text: 'How fast?' }] }],
    stream: true,
    stream_options: { include_usage: true },
    max_completion_tokens: 4,
  });
  const chunks = [];
  for await (const c of stream) chunks.push(c);
  const content = chunks.filter((c) => c.choices[0]?.delta.content);
  assert.equal(content.length, 4);
  assert.equal(chunks.filter((c) => c.choices[0]?.delta.role === 'assistant').length, 1);
  assert.equal(chunks[0]?.choices[0]?.delta.role, 'assistant');
  const finish = chunks.at(-2);
  assert.deepEqual(finish?.choices[0]?.delta, {});
  assert.equal(finish?.choices[0]?.finish_reason, 'length');
  const usage = chunks.at(-1);
  assert.deepEqual(usage?.choices, []);
  assert.equal(usage?.usage?.completion_tokens, 4);
  assert.equal(new Set(chunks.map((c) => c.id)).size, 1);
});

test('openai: the raw SSE frames are exactly content chunks + finish + usage + [DONE]', async () => {
  const res = await postJson(
    `${h.url}/v1/chat/completions`,
    { model: 'qwen3-ax650', messages: [{ role: 'user', content: 'x' }], stream: true, stream_options: { include_usage: true }, max_tokens: 2 },
    { Authorization: 'Bearer sesame' },
  );
  assert.equal(res.headers.get('content-type'), 'text/event-stream');
  const frames = (await res.text()).split('\n\n').filter((f) => f !== '');
  assert.equal(frames.length, 5);
  assert.ok(frames.every((f) => f.startsWith('data: ')));
  assert.equal(frames.at(-1), 'data: [DONE]');
});

test('openai: models list, and errors in the OpenAI shape', async () => {
  const models = await client.models.list();
  assert.deepEqual(models.data.map((m) => m.id), ['qwen3-ax650']);
  await assert.rejects(client.chat.completions.create({ model: 'gpt-4', messages: [{ role: 'user', content: 'x' }] }), (e: unknown) => {
    assert.ok(e instanceof OpenAI.NotFoundError);
    assert.equal(e.message, "404 model 'gpt-4' not found");
    assert.equal(e.type, 'not_found_error');
    return true;
  });
  const wrongKey = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: 'nope', maxRetries: 0 });
  await assert.rejects(wrongKey.models.list(), OpenAI.AuthenticationError);
});

test('mid-stream runtime crash: one SSE error event the OpenAI SDK raises, one NDJSON error line ollama-js raises', async () => {
  const crashing = await startHarness({ tokensPerSecond: 400, reply: () => REPLY, crashAfterTokens: 3 });
  try {
    const openai = new OpenAI({ baseURL: `${crashing.url}/v1`, apiKey: 'any', maxRetries: 0 });
    const stream = await openai.chat.completions.create({ model: 'qwen3-ax650', messages: [{ role: 'user', content: 'x' }], stream: true });
    let received = '';
    await assert.rejects(
      async () => {
        for await (const c of stream) received += c.choices[0]?.delta.content ?? '';
      },
      (e: unknown) => e instanceof OpenAI.APIError && /runtime exited unexpectedly/.test(e.message),
    );
    assert.equal(received, REPLY.slice(0, received.length));
    assert.ok(received.length > 0);

    const res = await postJson(`${crashing.url}/api/generate`, { model: 'qwen3-ax650', prompt: 'x' });
    assert.equal(res.status, 200);
    const lines = (await res.text()).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(lines.length, 4);
    assert.match(String(lines.at(-1)?.error), /runtime exited unexpectedly/);
    assert.ok(lines.every((l) => l.done !== true));

    const before = await postJson(`${crashing.url}/api/generate`, { model: 'qwen3-ax650', prompt: 'x', stream: false });
    assert.equal(before.status, 503);
    assert.match(((await before.json()) as { error: string }).error, /runtime exited unexpectedly/);
  } finally {
    await crashing.server.close();
  }
});
