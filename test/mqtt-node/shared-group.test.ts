/**
 * A fleet behind one topic: two ax650-mqtt nodes on two runtimes (two simulators) subscribe in one
 * shared-subscription group on mosquitto; the broker splits 20 prompts between them and every
 * prompt is answered exactly once, by the runtime that ran it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MOSQUITTO_SKIP, startMosquitto, stopMosquitto, type Mosquitto } from '../mqtt/brokers';
import { isTerminal, Requester } from '../mqtt/requester';
import { isConnected, startBridgeFlow, type BridgeFlow } from './flow';

describe('two bridges in one shared-subscription group', { skip: MOSQUITTO_SKIP }, () => {
  let mosq: Mosquitto;
  let flow: BridgeFlow;
  let req: Requester;

  before(async () => {
    mosq = await startMosquitto();
    flow = await startBridgeFlow({
      broker: mosq.url,
      runtimes: ['rt-a', 'rt-b'],
      bridges: [
        { id: 'npu-a', runtime: 'rt-a', topic: 'fleet/ask', shareGroup: 'npus', stream: false },
        { id: 'npu-b', runtime: 'rt-b', topic: 'fleet/ask', shareGroup: 'npus', stream: false },
      ],
    });
    await flow.waitForStatus('npu-a', isConnected, 'connected');
    await flow.waitForStatus('npu-b', isConnected, 'connected');
    req = await Requester.connect(mosq.url);
    await req.subscribe('fleet/answers');
  });

  after(async () => {
    await req?.close();
    await flow?.close();
    if (mosq) await stopMosquitto(mosq);
  });

  test('20 prompts are split between the two runtimes and each is answered exactly once', async () => {
    const prompts = Array.from({ length: 20 }, (_, i) => `Robot ${i}, report your battery level.`);
    for (const [i, prompt] of prompts.entries()) {
      await req.publish('fleet/ask', prompt, {
        qos: 1,
        properties: { responseTopic: 'fleet/answers', correlationData: Buffer.from(`p${i}`) },
      });
    }
    const corr = (i: number) => Buffer.from(`p${i}`).toString('hex');
    await req.waitFor((rs) => prompts.every((_, i) => rs.some((r) => r.correlation === corr(i) && isTerminal(r))), 60_000, 'all 20 answers');
    for (const [i] of prompts.entries()) {
      const replies = req.forCorrelation(corr(i));
      assert.equal(replies.length, 1, `prompt ${i}: one message (stream off), got ${replies.length}`);
      assert.equal(replies[0]!.body.done, true);
      assert.equal(typeof replies[0]!.body.text, 'string', JSON.stringify(replies[0]!.body));
    }
    const a = await flow.promptsSeenBy('rt-a');
    const b = await flow.promptsSeenBy('rt-b');
    assert.ok(a.length > 0 && b.length > 0, `both runtimes worked: ${a.length} + ${b.length}`);
    assert.equal(a.length + b.length, 20, 'no prompt ran twice');
    assert.deepEqual([...a, ...b].sort(), [...prompts].sort(), 'every prompt ran on exactly one runtime');
  });
});
