/**
 * ax650-mqtt speaking MQTT 3.1.1 to aedes (in-process, with username/password) over TCP and over
 * WebSocket, with the real Runtime on the simulator: replies to `<topic>/response` or the JSON
 * `replyTo`, deltas then one final, and the periodic health publish under the base topic.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startAedes, type AedesBroker } from '../mqtt/brokers';
import { isTerminal, Requester } from '../mqtt/requester';
import { isConnected, startBridgeFlow, type BridgeFlow } from './flow';

describe('ax650-mqtt on aedes (MQTT 3.1.1, TCP and WebSocket)', () => {
  let broker: AedesBroker;
  let flow: BridgeFlow;
  let req: Requester;
  const creds = { user: 'planner', password: 'pässword' };

  before(async () => {
    broker = await startAedes({ users: { [creds.user]: creds.password }, websocket: true });
    flow = await startBridgeFlow({
      broker: broker.url,
      bridges: [
        { id: 'tcp', topic: 'v3/ask', protocolVersion: '4', baseTopic: 'robots/v3', healthInterval: '0.2' },
        { id: 'ws', topic: 'ws/ask', protocolVersion: '4', broker: broker.wsUrl },
      ],
      credentials: { tcp: creds, ws: creds },
    });
    await flow.waitForStatus('tcp', isConnected, 'connected');
    await flow.waitForStatus('ws', isConnected, 'connected over WebSocket');
    req = await Requester.connect(broker.url, { protocolVersion: 4, username: creds.user, password: creds.password });
    await req.subscribe('v3/ask/response');
    await req.subscribe('ws/ask/response');
    await req.subscribe('planner/inbox');
  });

  after(async () => {
    await req?.close();
    await flow?.close();
    await broker?.close();
  });

  test('a plain-text prompt is answered on <topic>/response: deltas, then one final with the same text', async () => {
    await req.publish('v3/ask', 'Which shelf holds the spare wheels?');
    await req.waitFor((rs) => rs.some((r) => r.topic === 'v3/ask/response' && isTerminal(r)), 30_000, 'the final reply');
    const replies = req.replies.filter((r) => r.topic === 'v3/ask/response');
    const id = replies[0]!.body.id;
    assert.equal(typeof id, 'string', 'a made-up id names the request');
    assert.ok(replies.every((r) => r.body.id === id && r.correlation === undefined));
    const end = replies.filter(isTerminal);
    assert.equal(end.length, 1);
    const deltas = replies.filter((r) => !isTerminal(r));
    assert.ok(deltas.length > 0);
    assert.equal(end[0]!.body.text, deltas.map((d) => d.body.delta).join(''));
  });

  test('a JSON prompt with replyTo and id is answered there, over a WebSocket bridge', async () => {
    await req.publish('ws/ask', JSON.stringify({ prompt: 'Plan a route to dock 4.', id: 42, replyTo: 'planner/inbox', options: { max_tokens: 5 } }));
    const end = await req.terminalOf('42', 30_000);
    assert.equal(end.topic, 'planner/inbox');
    const stats = end.body.stats as { doneReason: string; completionTokens: number };
    assert.equal(stats.doneReason, 'length', 'max_tokens reached the runtime');
    assert.ok(stats.completionTokens <= 5);
    assert.equal(req.replies.filter((r) => r.topic === 'ws/ask/response').length, 0);
  });

  test('the health snapshot is published periodically under the base topic, beside the retained presence', async () => {
    const health = await Requester.connect(broker.url, { protocolVersion: 4, username: creds.user, password: creds.password });
    try {
      await health.subscribe('robots/v3/#');
      await health.waitFor((rs) => rs.filter((r) => r.topic === 'robots/v3/health').length >= 2, 5000, 'two health messages');
      const snap = health.replies.find((r) => r.topic === 'robots/v3/health')!.body;
      assert.equal(snap.state, 'ready');
      assert.equal(typeof snap.at, 'string');
      assert.equal(typeof snap.queueDepth, 'number');
      assert.deepEqual(health.replies.find((r) => r.topic === 'robots/v3/status')?.body, { raw: 'online' });
    } finally {
      await health.close();
    }
  });
});
