import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HttpError } from '../../lib/ollama/http-io';
import { ollamaMetrics, openAiFinishReason } from '../../lib/ollama/metrics';
import { FOREVER_MS, mapOllamaOptions, parseKeepAlive } from '../../lib/ollama/options';
import { splitThinking, ThinkSplitter } from '../../lib/ollama/think';
import { startHarness } from './harness';

test('keep_alive: numbers are seconds, strings are Go durations, negative is forever', () => {
  const cases: Array<[unknown, number | undefined]> = [
    [undefined, undefined],
    [0, 0],
    [30, 30_000],
    [-1, -1000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['1.5s', 1500],
    ['250ms', 250],
    ['-1m', -60_000],
    ['600', 600_000],
  ];
  for (const [input, ms] of cases) assert.equal(parseKeepAlive({ keep_alive: input }), ms, `keep_alive ${String(input)}`);
  for (const bad of ['soon', '5 minutes', '1d', true, {}]) {
    assert.throws(() => parseKeepAlive({ keep_alive: bad }), (e: unknown) => e instanceof HttpError && e.status === 400);
  }
  assert.ok(FOREVER_MS > 200 * 365 * 24 * 3600 * 1000);
});

test('options: Ollama names map to the runtime sampling keys; num_predict ≤ 0 means no limit', () => {
  assert.deepEqual(mapOllamaOptions({ options: { temperature: 0.7, top_k: 40, top_p: 0.9, repeat_penalty: 1.2, num_predict: 64, seed: 1 } }), {
    sampling: { temperature: 0.7, topK: 40, topP: 0.9, repetitionPenalty: 1.2 },
    maxTokens: 64,
  });
  assert.equal(mapOllamaOptions({ options: { num_predict: -1 } }).maxTokens, undefined);
  assert.deepEqual(mapOllamaOptions({}), { sampling: {} });
  assert.throws(() => mapOllamaOptions({ options: [] }), /"options" must be an object, not an array/);
});

test('metrics are integer nanoseconds and finish reasons map to OpenAI values', () => {
  const m = ollamaMetrics(
    { promptTokens: 12, completionTokens: 7, ttftMs: 123.4567, tokensPerSecond: 9.5, durationMs: 800.25, queueMs: 10.5, doneReason: 'stop', resetMs: 5 },
    790,
  );
  assert.deepEqual(m, {
    total_duration: 815_750_000,
    load_duration: 15_500_000,
    prompt_eval_count: 12,
    prompt_eval_duration: 123_456_700,
    eval_count: 7,
    eval_duration: 676_793_300,
  });
  assert.equal(openAiFinishReason('context'), 'length');
  assert.equal(openAiFinishReason('abort'), 'stop');
});

test('think: the <think> block is split off even when its tags arrive in pieces', () => {
  const reply = '<think>\nLight is fast.\n</think>\n\nAbout 300,000 km/s.';
  for (let size = 1; size <= 8; size++) {
    const s = new ThinkSplitter();
    let thinking = '';
    let content = '';
    for (let i = 0; i < reply.length; i += size) {
      const part = s.push(reply.slice(i, i + size));
      thinking += part.thinking;
      content += part.content;
    }
    const rest = s.flush();
    assert.equal((thinking + rest.thinking).trim(), 'Light is fast.', `piece size ${size}`);
    assert.equal(content + rest.content, 'About 300,000 km/s.', `piece size ${size}`);
  }
  assert.deepEqual(splitThinking('No block here.'), { thinking: '', content: 'No block here.' });
  assert.deepEqual(splitThinking('<think>cut off'), { thinking: 'cut off', content: '' });
});

test('think:true over HTTP: the thinking arrives in its own field', async () => {
  const h = await startHarness({ tokensPerSecond: 1000, reply: () => '<think>\nLight is fast.\n</think>\n\nVery fast.' });
  try {
    const res = await fetch(`${h.url}/api/chat`, {
      method: 'POST',
      body: JSON.stringify({ model: 'qwen3-ax650', messages: [{ role: 'user', content: 'x' }], think: true, stream: false }),
    });
    const body = (await res.json()) as { message: { content: string; thinking?: string } };
    assert.equal(body.message.content, 'Very fast.');
    assert.equal(body.message.thinking, 'Light is fast.');
    assert.equal(h.runner.ran[0]?.think, true);
  } finally {
    await h.server.close();
  }
});
