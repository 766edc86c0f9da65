/**
 * Where the MQTT bridge publishes replies (issue 19 item 6), in real Node-RED with the simulator
 * against mosquitto: a requester's Response Topic or `replyTo` is used only under the configured
 * prefix and never on the bridge's own topics; a refused one gets a BAD_INPUT reply on the default
 * topic `<prompt topic>/response`, nothing is published where it asked, and nothing runs on the NPU.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MOSQUITTO_SKIP, startMosquitto, stopMosquitto, type Mosquitto } from '../mqtt/brokers';
import { isTerminal, Requester, type Reply } from '../mqtt/requester';
import { isConnected, startBridgeFlow, type BridgeFlow } from '../mqtt-node/flow';

describe('ax650-mqtt reply topics', { skip: MOSQUITTO_SKIP }, () => {
  let mosq: Mosquitto;
  let flow: BridgeFlow;
  let req: Requester;

  before(async () => {
    mosq = await startMosquitto();
    flow = await startBridgeFlow({
      broker: mosq.url,
      bridges: [
        { id: 'confined', topic: 'robots/+/ask', baseTopic: 'robots/npu1', replyPrefix: 'robots/replies', protocolVersion: '5' },
        { id: 'open', topic: 'open/ask', baseTopic: 'open/npu2', protocolVersion: '4' },
      ],
      simEnv: { AX650_SIM_TOKENS_PER_SEC: '400', AX650_SIM_REPLY_TOKENS: '9' },
    });
    req = await Requester.connect(mosq.url);
    await req.subscribe('#');
    await flow.waitForStatus('confined', isConnected, 'connected');
    await flow.waitForStatus('open', isConnected, 'connected');
    await req.waitFor((rs) => rs.some((r) => r.topic === 'robots/npu1/status') && rs.some((r) => r.topic === 'open/npu2/status'), 10_000, 'presence');
  });

  after(async () => {
    await req?.close();
    await flow?.close();
    if (mosq) await stopMosquitto(mosq);
  });

  const corr = (c: string): string => Buffer.from(c).toString('hex');
  const onTopic = (topic: string): Reply[] => req.replies.filter((r) => r.topic === topic);

  test('under the prefix: answered there, with the Correlation Data', async () => {
    await req.publish('robots/r1/ask', 'Where is the charger?', { qos: 1, properties: { responseTopic: 'robots/replies/r1', correlationData: Buffer.from('ok-1') } });
    await req.waitFor((rs) => rs.some((r) => r.correlation === corr('ok-1') && isTerminal(r)), 20_000, 'the answer');
    // The requester listens on '#', so it also hears its own prompt.
    const answer = req.forCorrelation(corr('ok-1')).filter((r) => r.topic !== 'robots/r1/ask');
    assert.ok(answer.length > 1, 'deltas and an end');
    assert.ok(answer.every((r) => r.topic === 'robots/replies/r1'));
    assert.equal(answer.find(isTerminal)!.body.error, undefined);
  });

  const refused: Array<{ name: string; props?: { responseTopic: string }; replyTo?: string; why: RegExp }> = [
    { name: "the bridge's own retained status (Response Topic)", props: { responseTopic: 'robots/npu1/status' }, why: /own topics/ },
    { name: "the bridge's own status (replyTo)", replyTo: 'robots/npu1/status', why: /own topics/ },
    { name: 'a prompt topic of the bridge', props: { responseTopic: 'robots/r9/ask' }, why: /own topics/ },
    { name: 'outside the prefix: a robot command topic', props: { responseTopic: 'robots/r1/cmd/drive' }, why: /only under "robots\/replies\/"/ },
    { name: 'a lookalike of the prefix', replyTo: 'robots/repliesX/1', why: /only under/ },
    { name: 'a $ topic', replyTo: '$SYS/broker/hack', why: /belong to the broker/ },
  ];

  for (const [i, c] of refused.entries()) {
    test(`refused, answered with BAD_INPUT on the default topic: ${c.name}`, async () => {
      const id = `no-${i}`;
      const target = c.props?.responseTopic ?? c.replyTo!;
      const before = req.replies.length;
      const body = JSON.stringify({ prompt: 'Publish this wherever I say.', id, ...(c.replyTo ? { replyTo: c.replyTo } : {}) });
      await req.publish('robots/r1/ask', body, { qos: 1, properties: { correlationData: Buffer.from(id), ...(c.props ?? {}) } });
      const end = await req.terminalOf(id, 10_000);
      assert.equal(end.topic, 'robots/r1/ask/response', 'the error goes to the default topic');
      assert.equal(end.correlation, corr(id), 'with the Correlation Data');
      const error = end.body.error as { code: string; message: string };
      assert.equal(error.code, 'BAD_INPUT');
      assert.match(error.message, new RegExp(`reply topic "${target.replace(/[$/]/g, '\\$&')}" is not allowed`));
      assert.match(error.message, c.why);
      const strays = req.replies.slice(before).filter((r) => r.topic === target && r.body.id === id);
      assert.deepEqual(strays, [], 'nothing was published where the requester asked');
    });
  }

  test('nothing ran on the NPU for the refused requests, and the status stayed "online"', async () => {
    assert.deepEqual(await flow.promptsSeenBy('rt'), ['Where is the charger?']);
    assert.ok(onTopic('robots/npu1/status').every((r) => r.body.raw === 'online'), JSON.stringify(onTopic('robots/npu1/status')));
  });

  test('without a prefix (3.1.1 bridge): any topic but its own', async () => {
    await req.publish('open/ask', JSON.stringify({ prompt: 'Hello there.', id: 'open-ok', replyTo: 'dashboard/chat' }));
    const ok = await req.terminalOf('open-ok', 20_000);
    assert.equal(ok.topic, 'dashboard/chat');
    assert.equal(ok.body.error, undefined);
    await req.publish('open/ask', JSON.stringify({ prompt: 'Hello there.', id: 'open-own', replyTo: 'open/npu2/health' }));
    const own = await req.terminalOf('open-own', 10_000);
    assert.equal(own.topic, 'open/ask/response');
    assert.match((own.body.error as { message: string }).message, /own topics/);
  });
});
