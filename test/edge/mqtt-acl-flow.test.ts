/**
 * The broker ACL that docs/mqtt.md recommends for a shared broker, run as written (the block is read
 * from the page) on mosquitto, with the bridge in real Node-RED on the simulator: a robot gets its
 * answer and its error replies, another robot cannot read them or ask in its name.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from '../helpers/node-red-process';
import { MOSQUITTO_SKIP, startMosquitto, stopMosquitto, type Mosquitto } from '../mqtt/brokers';
import { isTerminal, Requester } from '../mqtt/requester';
import { isConnected, startBridgeFlow, type BridgeFlow } from '../mqtt-node/flow';

function documentedAcl(): string {
  const page = readFileSync(path.join(repoRoot, 'docs/mqtt.md'), 'utf8');
  const block = /```acl\n([\s\S]*?)```/.exec(page);
  if (!block) throw new Error('docs/mqtt.md has no ```acl block');
  return block[1]!;
}

const PASSWORDS = { 'npu-bridge': 'bridge pass', r1: 'r1 pass', r2: 'r2 pass' };

describe('the documented mosquitto ACL for a shared broker', { skip: MOSQUITTO_SKIP }, () => {
  let mosq: Mosquitto;
  let flow: BridgeFlow;
  let r1: Requester;
  let r2: Requester;

  before(async () => {
    mosq = await startMosquitto({ users: PASSWORDS, acl: documentedAcl() });
    flow = await startBridgeFlow({
      broker: mosq.url,
      // In a share group, as several NPU hosts would be: mosquitto checks the ACL on the filter without $share/<group>/.
      bridges: [{ id: 'bridge', topic: 'robots/+/ask', shareGroup: 'npus', baseTopic: 'robots/npu1', replyPrefix: 'robots/replies', protocolVersion: '5' }],
      credentials: { bridge: { user: 'npu-bridge', password: PASSWORDS['npu-bridge'] } },
      simEnv: { AX650_SIM_TOKENS_PER_SEC: '400', AX650_SIM_REPLY_TOKENS: '9' },
    });
    r1 = await Requester.connect(mosq.url, { username: 'r1', password: PASSWORDS.r1 });
    r2 = await Requester.connect(mosq.url, { username: 'r2', password: PASSWORDS.r2 });
    await flow.waitForStatus('bridge', isConnected, 'connected');
  });

  after(async () => {
    await r1?.close();
    await r2?.close();
    await flow?.close();
    if (mosq) await stopMosquitto(mosq);
  });

  test('a robot asks on its topic and gets its answer under robots/replies/<robot>; the presence is readable', async () => {
    await r1.subscribe('robots/replies/r1/#');
    await r1.subscribe('robots/r1/ask/response');
    await r1.subscribe('robots/npu1/status');
    await r1.waitFor((rs) => rs.some((r) => r.topic === 'robots/npu1/status' && r.body.raw === 'online'), 10_000, 'presence');
    await r1.publish('robots/r1/ask', 'Which dock is free?', { qos: 1, properties: { responseTopic: 'robots/replies/r1/1', correlationData: Buffer.from('acl-1') } });
    await r1.waitFor((rs) => rs.some((r) => r.correlation === Buffer.from('acl-1').toString('hex') && isTerminal(r)), 20_000, 'the answer');
    const end = r1.forCorrelation(Buffer.from('acl-1').toString('hex')).find(isTerminal)!;
    assert.equal(end.topic, 'robots/replies/r1/1');
    assert.equal(end.body.error, undefined);
  });

  test('a refused reply topic: the error reply reaches the robot on its default topic through the ACL', async () => {
    await r1.publish('robots/r1/ask', JSON.stringify({ prompt: 'Drive.', id: 'acl-cmd', replyTo: 'robots/r1/cmd' }));
    const end = await r1.terminalOf('acl-cmd', 10_000);
    assert.equal(end.topic, 'robots/r1/ask/response');
    assert.equal((end.body.error as { code: string }).code, 'BAD_INPUT');
  });

  test("another robot can neither read r1's replies nor ask in r1's name", async () => {
    // mosquitto grants the subscription and checks the read ACL on every message it would deliver.
    await r2.subscribe('robots/replies/#');
    await r1.publish('robots/r1/ask', 'Is dock 3 free?', { qos: 1, properties: { responseTopic: 'robots/replies/r1/2', correlationData: Buffer.from('acl-2') } });
    await r1.waitFor((rs) => rs.some((r) => r.correlation === Buffer.from('acl-2').toString('hex') && isTerminal(r)), 20_000, "r1's answer");
    const before = await flow.promptsSeenBy('rt');
    // mosquitto drops a PUBLISH the ACL denies (MQTT 5: PUBACK 0x87); the bridge never sees it.
    await r2.publish('robots/r1/ask', 'I am r1, honest.', { qos: 1, properties: { responseTopic: 'robots/replies/r2/x', correlationData: Buffer.from('spoof') } }).catch(() => undefined);
    await r2.publish('robots/r2/ask', 'And this is really me.', { qos: 1, properties: { responseTopic: 'robots/replies/r2/y', correlationData: Buffer.from('real') } });
    await r2.waitFor((rs) => rs.some((r) => r.correlation === Buffer.from('real').toString('hex') && isTerminal(r)), 20_000, "r2's own answer");
    assert.deepEqual((await flow.promptsSeenBy('rt')).slice(before.length), ['And this is really me.'], 'only the allowed prompt ran');
    assert.deepEqual(r2.forCorrelation(Buffer.from('spoof').toString('hex')), []);
    assert.deepEqual(r2.replies.filter((r) => r.topic.startsWith('robots/replies/r1/')), [], "r2 never saw r1's replies (they came before its own)");
  });
});
