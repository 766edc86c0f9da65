/**
 * The Runtime on the axllm serve simulator (issue 14 items 3-5): ready only after the load log and
 * /health, limits from /v1/models, replies streamed over SSE into the same job events, tokens counted
 * by the package (usage is zeros), doneReason `length` when max_tokens cut the reply, greedy sent as
 * neither temperature nor top_p, thinking per request, the whole transcript with every turn of a
 * conversation, the system prompt kept, and nothing sent to an idle runtime.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startSimRuntime, stopAll, type SimRuntime } from '../runtime/helpers';

after(stopAll);

type Entry = Record<string, unknown>;
const chatBodies = (log: Entry[]) =>
  log.filter((e) => e['event'] === 'request' && e['path'] === '/v1/chat/completions').map((e) => e['body'] as Record<string, unknown>);

describe('axllm runtime: generation', () => {
  let sim: SimRuntime;
  before(async () => {
    sim = await startSimRuntime({ kind: 'axllm', simEnv: { AX650_SIM_TOKENS_PER_SEC: '200' } });
  });
  after(() => sim.stop());

  test('ready with the limits of /v1/models; a prompt streams deltas and ends with counted stats', async () => {
    const info = sim.rt.info();
    assert.equal(info.state, 'ready');
    assert.equal(info.maxTokenLen, 2559);
    assert.equal(info.prefillMaxTokenNum, 2048);
    const job = sim.rt.submit({ prompt: 'Say hello to the robot.' });
    const deltas: string[] = [];
    job.on('delta', (t) => deltas.push(t));
    const r = await job.result;
    assert.ok(deltas.length > 1, 'streamed in pieces');
    assert.equal(deltas.join(''), r.text);
    assert.doesNotMatch(r.text, /<think>/);
    assert.equal(r.stats.doneReason, 'stop');
    assert.ok(r.stats.completionTokens > 0, 'completion tokens counted by the package');
    assert.ok(r.stats.promptTokens > 5, 'prompt tokens counted with the system prompt and template');
    const body = chatBodies((await sim.readSimLog()) as unknown as Entry[]).at(-1)!;
    assert.equal(body['stream'], true);
    assert.equal(body['model'], 'AXERA-TECH/Qwen3-1.7B');
    assert.equal(body['enable_thinking'], false);
    assert.equal(typeof body['max_tokens'], 'number');
    assert.deepEqual((body['messages'] as Entry[]).map((m) => m['role']), ['system', 'user']);
  });

  test('max_tokens: the runtime stops there and the reply says doneReason length', async () => {
    const r = await sim.rt.submit({ prompt: 'Tell me a long story about a robot.', maxTokens: 5 }).result;
    assert.equal(r.stats.doneReason, 'length');
    assert.ok(r.stats.completionTokens <= 5 && r.stats.completionTokens >= 4, `completion tokens ${r.stats.completionTokens}`);
    assert.equal(chatBodies((await sim.readSimLog()) as unknown as Entry[]).at(-1)!['max_tokens'], 5);
  });

  test('greedy (temperature 0) sends neither temperature nor top_p; sampling sends both', async () => {
    await sim.rt.submit({ prompt: 'greedy please', sampling: { temperature: 0 } }).result;
    await sim.rt.submit({ prompt: 'sample please', sampling: { temperature: 0.5, topP: 0.9 } }).result;
    const log = (await sim.readSimLog()) as unknown as Entry[];
    const [greedy, sample] = chatBodies(log).slice(-2);
    assert.equal(greedy!['temperature'], undefined);
    assert.equal(greedy!['top_p'], undefined);
    assert.equal(sample!['temperature'], 0.5);
    assert.equal(sample!['top_p'], 0.9);
    const modes = log.filter((e) => e['event'] === 'chat').slice(-2).map((e) => (e['sampling'] as Entry)['mode']);
    assert.deepEqual(modes, ['greedy', 'sample']);
  });

  test('think: true asks the runtime to think and keeps the block', async () => {
    const r = await sim.rt.submit({ prompt: 'think about it', think: true }).result;
    assert.equal(chatBodies((await sim.readSimLog()) as unknown as Entry[]).at(-1)!['enable_thinking'], true);
    assert.match(r.text, /<think>/);
  });

  test('a conversation sends the whole transcript every turn, system prompt first, prefix unchanged', async () => {
    const a = await sim.rt.submit({ prompt: 'My name is Ada.', conversation: 'c1', system: 'You are a robot.' }).result;
    await sim.rt.submit({ prompt: 'What is my name?', conversation: 'c1' }).result;
    const [first, second] = chatBodies((await sim.readSimLog()) as unknown as Entry[]).slice(-2) as Array<{ messages: Entry[] }>;
    assert.deepEqual(first!.messages, [{ role: 'system', content: 'You are a robot.' }, { role: 'user', content: 'My name is Ada.' }]);
    assert.deepEqual(second!.messages.slice(0, 2), first!.messages, 'the prefix of the first turn is sent unchanged');
    assert.deepEqual(second!.messages.slice(2), [{ role: 'assistant', content: a.text }, { role: 'user', content: 'What is my name?' }]);
  });

  test('an idle runtime gets no request', async () => {
    const before = ((await sim.readSimLog()) as unknown as Entry[]).filter((e) => e['event'] === 'request').length;
    await new Promise((r) => setTimeout(r, 1500));
    const afterCount = ((await sim.readSimLog()) as unknown as Entry[]).filter((e) => e['event'] === 'request').length;
    assert.equal(afterCount, before);
  });
});
