/**
 * The bridge over MQTT 3.1.1 against aedes in-process (aedes has no MQTT 5): replies go to the
 * JSON `replyTo` or `<topic>/response`, bad payloads are answered, duplicates are answered once,
 * a full queue is refused at once, presence follows the connection, close cancels its jobs.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeRunner } from '../helpers/fake-runner';
import { startAedes, type AedesBroker } from './brokers';
import { startTestBridge, type TestBridge } from './harness';
import { isTerminal, Requester, type Reply } from './requester';

let broker: AedesBroker;
const cleanups: Array<() => Promise<void>> = [];

before(async () => {
  broker = await startAedes();
});

after(async () => {
  for (const c of cleanups.reverse()) await c();
  await broker.close();
});

async function setup(topic: string, runner: FakeRunner, extra: { baseTopic?: string; healthIntervalMs?: number } = {}): Promise<{ tb: TestBridge; req: Requester }> {
  const tb = await startTestBridge({ runner, url: broker.url, promptTopic: topic, protocolVersion: 4, clientId: `bridge-${topic}`, ...extra });
  cleanups.push(() => tb.bridge.close());
  assert.equal(tb.bridge.connected, true);
  const req = await Requester.connect(broker.url, { protocolVersion: 4 });
  cleanups.push(() => req.close());
  return { tb, req };
}

function text(deltas: Reply[]): string {
  return deltas.map((r) => String(r.body.delta)).join('');
}

test('v3.1.1 round trip: deltas then one final, to replyTo or <topic>/response', async () => {
  const runner = new FakeRunner({ reply: (r) => `You said ${r.prompt}. Noted.` });
  const { req } = await setup('a/prompt', runner);
  await req.subscribe('a/replies');
  await req.subscribe('a/prompt/response');
  await req.publish('a/prompt', JSON.stringify({ prompt: 'hello', id: 'j1', replyTo: 'a/replies', options: { temperature: 0.3 } }));
  await req.publish('a/prompt', 'plain text prompt');
  const final = await req.terminalOf('j1');
  assert.equal(final.topic, 'a/replies');
  assert.equal(final.body.text, 'You said hello. Noted.');
  assert.equal((final.body.stats as { doneReason: string }).doneReason, 'stop');
  const deltas = req.forId('j1').filter((r) => !isTerminal(r));
  assert.deepEqual(deltas.map((r) => r.body.index), deltas.map((_, i) => i));
  assert.equal(text(deltas), final.body.text);
  await req.waitFor((rs) => rs.some((r) => r.topic === 'a/prompt/response' && isTerminal(r)));
  const plain = req.replies.find((r) => r.topic === 'a/prompt/response' && isTerminal(r)) as Reply;
  assert.equal(plain.body.text, 'You said plain text prompt. Noted.');
  assert.equal(typeof plain.body.id, 'string');
  assert.deepEqual(runner.ran.map((r) => [r.prompt, r.owner]), [['hello', 'mqtt:bridge-a/prompt'], ['plain text prompt', 'mqtt:bridge-a/prompt']]);
  assert.deepEqual(runner.ran[0]?.sampling, { temperature: 0.3 });
});

test('10 malformed payloads each get a BAD_INPUT reply and the next good prompt works', async () => {
  const runner = new FakeRunner();
  const { req } = await setup('b/prompt', runner);
  await req.subscribe('b/prompt/response');
  const bad = [
    '{oops',
    '',
    '   ',
    Buffer.from([0xc3, 0x28]),
    '{"prompt": 5, "id": "n"}',
    '{"prompt": ""}',
    '{"prompt":"x","options":{"topk":3}}',
    '{"prompt":"x","options":{"temperature":"hot"}}',
    '{"messages":[{"role":"robot","content":"x"}]}',
    '{"prompt":"x","replyTo":"b/+"}',
  ];
  for (const payload of bad) await req.publish('b/prompt', payload);
  await req.publish('b/prompt', JSON.stringify({ prompt: 'good', id: 'good' }));
  const final = await req.terminalOf('good');
  assert.equal(typeof final.body.text, 'string');
  const errors = req.replies.filter((r) => r.body.error !== undefined);
  assert.equal(errors.length, 10, JSON.stringify(errors.map((r) => r.body)));
  for (const e of errors) {
    assert.equal((e.body.error as { code: string }).code, 'BAD_INPUT');
    assert.equal(e.body.done, true);
  }
  assert.ok(errors.some((e) => e.body.id === 'n'), 'the id of a bad request is echoed');
  assert.deepEqual(runner.ran.map((r) => r.prompt), ['good']);
});

test('a duplicate delivery (same id and reply topic) is answered once', async () => {
  const runner = new FakeRunner();
  const { req } = await setup('c/prompt', runner);
  await req.subscribe('c/prompt/response');
  const prompt = JSON.stringify({ prompt: 'once please', id: 'dup-1' });
  await req.publish('c/prompt', prompt);
  await req.publish('c/prompt', prompt);
  await req.terminalOf('dup-1');
  // A later request through the same path marks the point by which a second answer would have come.
  await req.publish('c/prompt', JSON.stringify({ prompt: 'marker', id: 'marker' }));
  await req.terminalOf('marker');
  assert.equal(req.forId('dup-1').filter(isTerminal).length, 1);
  assert.equal(runner.ran.filter((r) => r.prompt === 'once please').length, 1);
});

test('a full queue is answered QUEUE_FULL at once, while earlier prompts still run', async () => {
  const runner = new FakeRunner({ queueLimit: 1, tokensPerSecond: 40, reply: () => 'a b c d e f g h i j k l m n o p q r s t u v w x y z' });
  const { req } = await setup('d/prompt', runner);
  await req.subscribe('d/prompt/response');
  await req.publish('d/prompt', JSON.stringify({ prompt: 'first', id: 'q1' }));
  await req.waitFor((rs) => rs.some((r) => r.body.id === 'q1' && r.body.delta !== undefined), 10_000, 'q1 to start');
  await req.publish('d/prompt', JSON.stringify({ prompt: 'second', id: 'q2' }));
  await req.publish('d/prompt', JSON.stringify({ prompt: 'third', id: 'q3' }));
  const refused = await req.terminalOf('q3');
  assert.equal((refused.body.error as { code: string }).code, 'QUEUE_FULL');
  assert.equal(req.forId('q1').some(isTerminal), false, 'the refusal came before the running job ended');
  await req.terminalOf('q2');
  assert.deepEqual(runner.ran.map((r) => r.prompt), ['first', 'second']);
});

test('presence: retained online, last will offline on a dropped connection, reconnect with online again', async () => {
  const runner = new FakeRunner();
  const { tb, req } = await setup('e/prompt', runner, { baseTopic: 'robots/e', healthIntervalMs: 100 });
  await req.subscribe('robots/e/status');
  await req.waitFor((rs) => rs.some((r) => r.body.raw === 'online'), 5000, 'online');
  await req.subscribe('robots/e/health', 0);
  await req.waitFor((rs) => rs.some((r) => r.topic === 'robots/e/health'), 5000, 'a health snapshot');
  const health = req.replies.find((r) => r.topic === 'robots/e/health') as Reply;
  assert.equal(health.body.modelName, 'qwen3-ax650');
  assert.equal(typeof health.body.at, 'string');

  assert.ok(broker.dropClient('bridge-e/prompt'));
  await req.waitFor((rs) => rs.some((r) => r.body.raw === 'offline'), 5000, 'the will');
  await tb.waitForStatus('connected', 2);
  await req.waitFor((rs) => rs.filter((r) => r.body.raw === 'online').length >= 2, 5000, 'online again');
  await req.subscribe('e/prompt/response');
  await req.publish('e/prompt', JSON.stringify({ prompt: 'after reconnect', id: 'e1' }));
  assert.equal((await req.terminalOf('e1')).body.done, true);
});

test('close cancels its running and queued jobs, tells their requesters, then publishes offline', async () => {
  const runner = new FakeRunner({ tokensPerSecond: 20, reply: () => 'one two three four five six seven eight nine ten' });
  const { tb, req } = await setup('f/prompt', runner, { baseTopic: 'robots/f' });
  await req.subscribe('robots/f/status');
  await req.subscribe('f/prompt/response');
  await req.publish('f/prompt', JSON.stringify({ prompt: 'long', id: 'run' }));
  await req.publish('f/prompt', JSON.stringify({ prompt: 'waiting', id: 'wait' }));
  await req.waitFor((rs) => rs.some((r) => r.body.id === 'run' && r.body.delta !== undefined), 5000, 'the job to start');
  await tb.bridge.close();
  assert.equal(tb.bridge.connected, false);
  const running = await req.terminalOf('run');
  assert.equal((running.body.stats as { doneReason: string }).doneReason, 'abort');
  const queued = await req.terminalOf('wait');
  assert.equal((queued.body.error as { code: string }).code, 'ABORTED');
  await req.waitFor((rs) => rs.some((r) => r.body.raw === 'offline'), 5000, 'offline');
  assert.equal(runner.running, false);
  assert.deepEqual(runner.ran.map((r) => r.prompt), ['long']);
});

test('a refused subscription is reported, and the bridge reconnects and subscribes again with backoff', async () => {
  broker.allowSubscribe(false);
  const runner = new FakeRunner();
  const tb = await startTestBridge({ runner, url: broker.url, promptTopic: 'g/prompt', protocolVersion: 4, clientId: 'bridge-g' });
  cleanups.push(() => tb.bridge.close());
  assert.equal(tb.bridge.connected, false);
  await tb.waitForStatus('error', 2);
  assert.match(tb.statuses.find((s) => s.status === 'error')?.detail ?? '', /subscribe to g\/prompt failed/);
  broker.allowSubscribe(true);
  await tb.waitForStatus('connected', 1);
  const req = await Requester.connect(broker.url, { protocolVersion: 4 });
  cleanups.push(() => req.close());
  await req.subscribe('g/prompt/response');
  await req.publish('g/prompt', JSON.stringify({ prompt: 'now?', id: 'g1' }));
  assert.equal((await req.terminalOf('g1')).body.done, true);
});
