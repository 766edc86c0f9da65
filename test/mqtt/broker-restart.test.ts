/**
 * A mosquitto restart in the middle of a reply stream (persistence on, so both persistent
 * sessions survive it): the bridge reconnects with backoff, the prompt ends exactly once, never
 * twice, and the bridge keeps serving.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeRunner } from '../helpers/fake-runner';
import { MOSQUITTO_SKIP, startMosquitto, stopMosquitto, type Mosquitto } from './brokers';
import { startTestBridge } from './harness';
import { isTerminal, Requester } from './requester';

describe('broker restart', { skip: MOSQUITTO_SKIP }, () => {
  let mosq: Mosquitto;
  const cleanups: Array<() => Promise<void>> = [];

  before(async () => {
    mosq = await startMosquitto({ persistence: true });
  });

  after(async () => {
    for (const c of cleanups.reverse()) await c();
    await stopMosquitto(mosq);
  });

  test('the broker restarted mid-stream: the prompt ends once and the bridge serves the next one', async () => {
    const runner = new FakeRunner({ tokensPerSecond: 20, reply: () => 'tick '.repeat(30) });
    const tb = await startTestBridge({ runner, url: mosq.url, promptTopic: 'rs/prompt', clientId: 'rs-bridge', baseTopic: 'robots/rs' });
    cleanups.push(() => tb.bridge.close());
    const req = await Requester.connect(mosq.url, {
      clientId: 'rs-requester',
      clean: false,
      properties: { sessionExpiryInterval: 300 },
    });
    cleanups.push(() => req.close());
    await req.subscribe('rs/resp');
    const ask = (id: string, prompt: string) =>
      req.publish('rs/prompt', JSON.stringify({ prompt, id }), {
        qos: 1,
        properties: { responseTopic: 'rs/resp', correlationData: Buffer.from(id) },
      });

    await ask('mid', 'a long answer');
    await req.waitFor((rs) => rs.some((r) => r.body.id === 'mid' && r.body.delta !== undefined), 5000, 'the stream to start');
    await mosq.restart();
    await tb.waitForStatus('disconnected', 1);
    await tb.waitForStatus('connected', 2);
    const end = await req.terminalOf('mid', 15_000);
    assert.ok(end.body.text === 'tick '.repeat(30) || end.body.error !== undefined, JSON.stringify(end.body));

    await ask('next', 'after the restart');
    await req.terminalOf('next', 10_000);
    assert.equal(req.forId('mid').filter(isTerminal).length, 1, 'one end, never two');
    assert.deepEqual(runner.ran.map((r) => r.prompt), ['a long answer', 'after the restart']);
  });

  test('a bridge started while the broker is down resolves at once, connects when it comes up, and closes while it is down', async () => {
    await mosq.stop();
    const runner = new FakeRunner();
    const tb = await startTestBridge({ runner, url: mosq.url, promptTopic: 'late/prompt', clientId: 'late-bridge' });
    cleanups.push(() => tb.bridge.close());
    assert.equal(tb.bridge.connected, false);
    await tb.waitForStatus('connecting', 3);
    const attempts = tb.statuses.filter((s) => s.status === 'connecting').map((s) => s.detail);
    assert.deepEqual(attempts.slice(0, 3), [undefined, 'attempt 2', 'attempt 3']);

    await mosq.start();
    await tb.waitForStatus('connected', 1);
    const req = await Requester.connect(mosq.url);
    cleanups.push(() => req.close());
    await req.subscribe('late/prompt/response');
    await req.publish('late/prompt', JSON.stringify({ prompt: 'are you up?', id: 'late' }));
    assert.equal((await req.terminalOf('late')).body.done, true);

    await mosq.stop();
    await tb.waitForStatus('disconnected', 1);
    await tb.bridge.close();
    assert.equal(tb.bridge.connected, false);
    await mosq.start();
  });
});
