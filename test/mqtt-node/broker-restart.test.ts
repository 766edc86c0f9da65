/**
 * mosquitto (persistence on) restarted while the real runtime is streaming a reply through the
 * node: the node shows disconnected then connected again, the prompt ends exactly once, and the
 * next prompt is served. Then the flow is stopped and a QoS 1 prompt published while no bridge is
 * there is answered by the redeployed node (same client id: the broker kept its session).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MOSQUITTO_SKIP, startMosquitto, stopMosquitto, type Mosquitto } from '../mqtt/brokers';
import { isTerminal, Requester } from '../mqtt/requester';
import { isConnected, startBridgeFlow, type BridgeFlow } from './flow';

describe('ax650-mqtt across broker and bridge outages', { skip: MOSQUITTO_SKIP }, () => {
  let mosq: Mosquitto;
  let req: Requester;
  const flows: BridgeFlow[] = [];
  const bridge = { id: 'bridge', clientId: 'restart-bridge', topic: 'rs/ask', baseTopic: 'robots/rs' };
  // About 2 s per reply, so that the restart lands mid-stream.
  const simEnv = { AX650_SIM_TOKENS_PER_SEC: '100', AX650_SIM_REPLY_TOKENS: '200' };

  before(async () => {
    mosq = await startMosquitto({ persistence: true });
    req = await Requester.connect(mosq.url, { clientId: 'rs-requester', clean: false, properties: { sessionExpiryInterval: 300 } });
    await req.subscribe('rs/reply');
  });

  after(async () => {
    await req?.close();
    for (const f of flows) await f.close();
    if (mosq) await stopMosquitto(mosq);
  });

  const ask = (id: string, prompt: string): Promise<void> =>
    req.publish('rs/ask', JSON.stringify({ prompt, id }), {
      qos: 1,
      properties: { responseTopic: 'rs/reply', correlationData: Buffer.from(id) },
    });

  test('a broker restart mid-stream: one clear end, never two, and the next prompt is served', async () => {
    const flow = await startBridgeFlow({ broker: mosq.url, bridges: [bridge], simEnv });
    flows.push(flow);
    await flow.waitForStatus('bridge', isConnected, 'connected');
    await ask('mid', 'Describe the warehouse in detail.');
    await req.waitFor((rs) => rs.some((r) => r.body.id === 'mid' && r.body.delta !== undefined), 30_000, 'the stream to start');
    await mosq.restart();
    await flow.waitForStatus('bridge', (s) => s.fill === 'red', 'disconnected');
    await flow.waitForStatus('bridge', isConnected, 'connected again');
    const end = await req.terminalOf('mid', 30_000);
    assert.ok(typeof end.body.text === 'string' || end.body.error !== undefined, JSON.stringify(end.body));

    await ask('next', 'And now the loading dock?');
    await req.terminalOf('next', 30_000);
    assert.equal(req.forId('mid').filter(isTerminal).length, 1, 'one end, never two');
    assert.deepEqual(await flow.promptsSeenBy('rt'), ['Describe the warehouse in detail.', 'And now the loading dock?'], 'each prompt ran once');
    await flow.close();
  });

  test('a QoS 1 prompt published while the node was away is answered when it is redeployed', async () => {
    await ask('away', 'Are you back?');
    const flow = await startBridgeFlow({ broker: mosq.url, bridges: [bridge], simEnv });
    flows.push(flow);
    const end = await req.terminalOf('away', 30_000);
    assert.equal(typeof end.body.text, 'string', JSON.stringify(end.body));
    assert.equal(req.forId('away').filter(isTerminal).length, 1);
    assert.deepEqual(await flow.promptsSeenBy('rt'), ['Are you back?']);
  });
});
