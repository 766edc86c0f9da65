/**
 * A JSON-schema request against the real stack (facade + Runtime + simulated runtime): the
 * simulator answers in prose, so the reply fails the schema, the repair round goes through the same
 * queue to the runtime with the validator's message, and the client gets 422 SCHEMA_MISMATCH quoting
 * the raw reply, never half-streamed text; the runtime is ready for the next request.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Ollama } from 'ollama';
import OpenAI from 'openai';
import { generatedPrompts, startRealStack, type RealStack } from './stack';

const ARM = { type: 'object', properties: { action: { type: 'string' }, speed: { type: 'number' } }, required: ['action', 'speed'] };

describe('format on the real runtime', () => {
  let s: RealStack;
  before(async () => {
    s = await startRealStack();
  });
  after(async () => {
    await s.close();
  });

  test('ollama generate, streamed, format schema: a reply in prose → one repair round → 422 with the raw reply', async () => {
    const before = generatedPrompts(await s.readLog()).length;
    const res = await fetch(`${s.url}/api/generate`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ model: 'qwen3-ax650', prompt: 'Which way should the arm go?', format: ARM, stream: true }),
    });
    assert.equal(res.status, 422);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    const body = (await res.json()) as { error: string };
    assert.match(body.error, /^The model's reply does not match the requested format after 1 repair round: the reply is not valid JSON/);
    assert.match(body.error, /Raw reply: \S/);
    const sent = generatedPrompts(await s.readLog()).slice(before);
    assert.equal(sent.length, 2, `the first turn and one repair turn reached the runtime: ${JSON.stringify(sent)}`);
    assert.match(sent[0] ?? '', /^Which way should the arm go\?\n\nAnswer with one JSON value only/);
    assert.match(sent[1] ?? '', /^That reply is not usable: the reply is not valid JSON/);
  });

  test('openai client: the same failure is UnprocessableEntityError SCHEMA_MISMATCH; then a plain request is answered', async () => {
    const client = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: 'x', maxRetries: 0 });
    await assert.rejects(
      client.chat.completions.create({ model: 'qwen3-ax650', messages: [{ role: 'user', content: 'Arm command?' }], response_format: { type: 'json_object' } }),
      (e: unknown) => e instanceof OpenAI.UnprocessableEntityError && e.code === 'SCHEMA_MISMATCH',
    );
    const r = await new Ollama({ host: s.url }).generate({ model: 'qwen3-ax650', prompt: 'Still there?', stream: false });
    assert.equal(r.done_reason, 'stop');
    assert.equal(s.runtime.info().state, 'ready');
    assert.equal(s.runtime.info().queueDepth, 0);
  });
});
