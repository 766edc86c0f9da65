/**
 * The npm `ollama` and `openai` clients against the facade in front of the REAL Runtime on the
 * simulator (tokenizer, G1 polling, think stripping, stats from the runtime's stdout), plus the
 * request the original system was accepted with.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Ollama } from 'ollama';
import OpenAI from 'openai';
import type { ChatMessage } from '../../lib/runtime/types';
import { TokenizerSession } from '../../lib/tokenizer/session';
import { generatedPrompts, resetBefore, startRealStack, type RealStack } from './stack';

const METRICS = ['total_duration', 'load_duration', 'prompt_eval_count', 'prompt_eval_duration', 'eval_count', 'eval_duration'];

function assertMetrics(chunk: Record<string, unknown>): void {
  for (const key of METRICS) {
    const v = chunk[key];
    assert.ok(typeof v === 'number' && Number.isInteger(v) && v >= 0, `${key} must be a non-negative integer, got ${String(v)}`);
  }
  assert.ok((chunk.eval_count as number) > 0, 'eval_count > 0');
  assert.ok((chunk.prompt_eval_count as number) > 0, 'prompt_eval_count > 0');
  assert.ok((chunk.total_duration as number) >= (chunk.eval_duration as number));
}

describe('ollama and openai clients on the real runtime', () => {
  let s: RealStack;
  let ollama: Ollama;
  let openai: OpenAI;

  before(async () => {
    s = await startRealStack();
    ollama = new Ollama({ host: s.url });
    openai = new OpenAI({ baseURL: `${s.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  });
  after(async () => {
    await s.close();
  });

  test('the acceptance request: POST /api/generate stream:false → 200 with the text and stats', async () => {
    const prompt = 'Write a poem about the speed of light.';
    const res = await fetch(`${s.url}/api/generate`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ model: 'qwen3-ax650', prompt, stream: false }),
    });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(body.model, 'qwen3-ax650');
    assert.equal(body.done, true);
    assert.equal(body.done_reason, 'stop');
    assert.equal(typeof body.response, 'string');
    assert.ok((body.response as string).length > 10, 'generated text');
    assert.doesNotMatch(body.response as string, /<think>/, 'the empty think block is stripped');
    assertMetrics(body);
    assert.equal(generatedPrompts(await s.readLog()).at(-1), prompt, 'the prompt reached the runtime verbatim');
  });

  test('ollama generate, not streamed and streamed: same reply, stats, num_predict stops at the count', async () => {
    const whole = await ollama.generate({ model: 'qwen3-ax650', prompt: 'Tell me about robots.', stream: false, options: { temperature: 0.2, top_k: 5 } });
    assert.equal(whole.done_reason, 'stop');
    assertMetrics(whole as unknown as Record<string, unknown>);
    const sent = (await s.readLog()).filter((l) => l.path === '/api/generate').at(-1)?.body as Record<string, unknown>;
    assert.equal(sent.temperature, 0.2);
    assert.equal(sent['top-k'], 5);

    let text = '';
    let last: Record<string, unknown> = {};
    let chunks = 0;
    for await (const part of await ollama.generate({ model: 'qwen3-ax650:latest', prompt: 'Tell me about robots.', stream: true, options: { temperature: 0.2, top_k: 5 } })) {
      chunks += 1;
      text += part.response;
      last = part as unknown as Record<string, unknown>;
    }
    assert.ok(chunks > 2, `several chunks, got ${chunks}`);
    assert.equal(text, whole.response, 'the simulated model is deterministic per prompt');
    assert.equal(last.done, true);
    assertMetrics(last);

    const cut = await ollama.generate({ model: 'qwen3-ax650', prompt: 'Tell me about robots.', stream: false, options: { num_predict: 4 } });
    assert.equal(cut.done_reason, 'length');
    assert.equal(cut.eval_count, 4);
    assert.ok((whole.response ?? '').startsWith(cut.response ?? ''), 'the cut reply is a prefix of the whole one');
  });

  test('ollama chat with a system prompt and history: the system prompt is prefilled once, history restored', async () => {
    const system = 'You are a careful robot arm.';
    const messages: Array<ChatMessage & { role: 'system' | 'user' | 'assistant'; images?: undefined }> = [
      { role: 'system', content: system },
      { role: 'user', content: 'Where is the cup?' },
      { role: 'assistant', content: 'On the left.' },
      { role: 'user', content: 'Pick it up.' },
    ];
    const before = (await s.readLog()).length;
    const r = await ollama.chat({ model: 'qwen3-ax650', messages, stream: false });
    assert.equal(r.message.role, 'assistant');
    assert.ok(r.message.content.length > 0);
    assertMetrics(r as unknown as Record<string, unknown>);
    const log = (await s.readLog()).slice(before);
    // The previous test's reset ahead (the default system prompt) may still have been under way when `before` was read.
    const reset = log.findIndex((l) => l.path === '/api/reset' && JSON.stringify(l.body) === JSON.stringify({ system_prompt: system }));
    assert.ok(reset >= 0, `a reset with the request's system prompt: ${JSON.stringify(log.filter((l) => l.path === '/api/reset'))}`);
    const prefill = log.slice(reset).find((l) => l.event === 'prefill' && l.kind === 'reset');
    const tokenizer = s.runtime.tokenizerServer?.tokenizer;
    assert.ok(tokenizer);
    const expected = new TokenizerSession(tokenizer).reset(system, messages.slice(1, 3)).length;
    assert.equal(prefill?.tokens, expected, 'the reset prefilled [system, user, assistant] once, not the system prompt twice');
    assert.deepEqual(generatedPrompts(log), ['Pick it up.']);

    let text = '';
    let done = false;
    for await (const part of await ollama.chat({ model: 'qwen3-ax650', messages, stream: true })) {
      assert.equal(part.message.role, 'assistant');
      text += part.message.content;
      done = part.done;
    }
    assert.equal(done, true);
    assert.equal(text, r.message.content);
  });

  test('ollama chat accepts what clients send but the runtime cannot replay: two user turns, a greeting first, two system turns', async () => {
    const r = await ollama.chat({
      model: 'qwen3-ax650',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'assistant', content: 'Hello! How can I help?' },
        { role: 'user', content: 'Hi.' },
        { role: 'system', content: 'Answer in English.' },
        { role: 'user', content: 'What is a servo?' },
      ],
      stream: false,
    });
    assert.equal(r.done_reason, 'stop');
    const log = await s.readLog();
    // The two user turns became adjacent once the system turns were gathered, so they are one prompt.
    const prompt = 'Hi.\n\nWhat is a servo?';
    assert.equal(generatedPrompts(log).at(-1), prompt);
    assert.deepEqual(resetBefore(log, prompt), { system_prompt: 'Be brief.\n\nAnswer in English.' });
  });

  test('ollama list, ps, show and version describe the runtime', async () => {
    const list = await ollama.list();
    assert.deepEqual(list.models.map((m) => m.name), ['qwen3-ax650:latest']);
    await ollama.generate({ model: 'qwen3-ax650', prompt: 'hi', stream: false, keep_alive: '10m' });
    const ps = await ollama.ps();
    assert.equal(ps.models.length, 1, 'the model is loaded while the runtime is ready');
    const expires = Date.parse(String(ps.models[0]?.expires_at));
    assert.ok(Math.abs(expires - (Date.now() + 600_000)) < 5000, `expires_at ${String(ps.models[0]?.expires_at)} is ~10 min away`);
    const show = await ollama.show({ model: 'qwen3-ax650' });
    const info = s.runtime.info();
    assert.ok(info.maxTokenLen !== null && info.maxTokenLen > 0);
    // ollama-js types model_info as a Map, but the wire format (and so the parsed value) is a plain object.
    const modelInfo = show.model_info as unknown as Record<string, unknown>;
    assert.equal(modelInfo['qwen3.context_length'], info.maxTokenLen, 'context length read from the runtime init log');
    assert.equal(modelInfo['qwen3.prefill_max_token_num'], info.prefillMaxTokenNum);
    assert.match((await ollama.version()).version, /^\d+\.\d+\.\d+$/);
  });

  test('openai chat completions, not streamed: one message, usage, finish_reason', async () => {
    const r = await openai.chat.completions.create({
      model: 'qwen3-ax650',
      messages: [
        { role: 'developer', content: 'Answer in one line.' },
        { role: 'user', content: 'How fast is light?' },
      ],
      temperature: 0.5,
    });
    assert.equal(r.object, 'chat.completion');
    assert.equal(r.choices[0]?.message.role, 'assistant');
    assert.ok((r.choices[0]?.message.content ?? '').length > 0);
    assert.equal(r.choices[0]?.finish_reason, 'stop');
    assert.ok(r.usage && r.usage.completion_tokens > 0 && r.usage.prompt_tokens > 0);
    assert.equal(r.usage?.total_tokens, (r.usage?.prompt_tokens ?? 0) + (r.usage?.completion_tokens ?? 0));
    assert.deepEqual(resetBefore(await s.readLog(), 'How fast is light?'), { system_prompt: 'Answer in one line.' });
  });

  test('openai chat completions, streamed: role once, content, finish chunk, usage chunk', async () => {
    const stream = await openai.chat.completions.create({
      model: 'qwen3-ax650',
      messages: [{ role: 'user', content: 'How fast is light?' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks = [];
    for await (const c of stream) chunks.push(c);
    assert.equal(chunks[0]?.choices[0]?.delta.role, 'assistant');
    assert.equal(chunks.filter((c) => c.choices[0]?.delta.role !== undefined).length, 1);
    const text = chunks.map((c) => c.choices[0]?.delta.content ?? '').join('');
    assert.ok(text.length > 0);
    assert.equal(chunks.at(-2)?.choices[0]?.finish_reason, 'stop');
    assert.deepEqual(chunks.at(-1)?.choices, []);
    assert.ok((chunks.at(-1)?.usage?.completion_tokens ?? 0) > 0);
    const whole = await openai.chat.completions.create({ model: 'qwen3-ax650', messages: [{ role: 'user', content: 'How fast is light?' }] });
    assert.equal(text, whole.choices[0]?.message.content, 'streamed and whole replies agree');
  });
});
