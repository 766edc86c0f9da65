/**
 * The shipped example, examples/mqtt-bridge.json: its ax650-mqtt node (pointed at a mosquitto on a
 * free port, its runtime on the simulator) answers the `mosquitto_pub` commands its comment gives.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { isGone, MOSQUITTO_SKIP, startMosquitto, stopMosquitto, type Mosquitto } from '../mqtt/brokers';
import { isTerminal, Requester } from '../mqtt/requester';
import { isConnected, startBridgeFlow, type BridgeFlow } from './flow';

interface ExampleNode {
  id: string;
  type: string;
  info?: string;
  [key: string]: unknown;
}

const example = JSON.parse(readFileSync(path.resolve(__dirname, '../../../examples/mqtt-bridge.json'), 'utf8')) as ExampleNode[];

/** The `mosquitto_pub` lines of the comment, split into argv (single-quoted words kept whole). */
function pubCommands(): string[][] {
  const info = example.find((n) => n.type === 'comment')?.info ?? '';
  return info.split('\n').filter((l) => l.startsWith('mosquitto_pub '))
    .map((l) => (l.match(/'[^']*'|\S+/g) ?? []).map((w) => w.replace(/^'|'$/g, '')));
}

describe('the mqtt-bridge example', { skip: MOSQUITTO_SKIP }, () => {
  let mosq: Mosquitto;
  let flow: BridgeFlow;
  let req: Requester;

  before(async () => {
    mosq = await startMosquitto();
    const bridge = example.find((n) => n.type === 'ax650-mqtt');
    assert.ok(bridge, 'the example has an ax650-mqtt node');
    assert.equal(example.find((n) => n.type === 'ax650-runtime')?.mode, 'auto');
    assert.deepEqual(new Set(example.map((n) => n.type)), new Set(['comment', 'ax650-mqtt', 'ax650-runtime']), 'no third-party nodes');
    const { type: _type, runtime: _runtime, x: _x, y: _y, wires: _wires, ...settings } = bridge;
    flow = await startBridgeFlow({ broker: mosq.url, bridges: [{ ...settings, broker: mosq.url }] });
    await flow.waitForStatus(bridge.id, isConnected, 'connected');
    req = await Requester.connect(mosq.url);
    await req.subscribe('robots/#');
  });

  after(async () => {
    await req?.close();
    await flow?.close();
    if (mosq) await stopMosquitto(mosq);
  });

  test('both mosquitto_pub commands of the comment get one complete reply each', async () => {
    const commands = pubCommands();
    assert.equal(commands.length, 2);
    for (const [cmd, ...args] of commands) {
      const child = spawn(cmd!, [...args, '-h', '127.0.0.1', '-p', String(mosq.port)], { stdio: 'ignore' });
      const [code] = (await once(child, 'exit')) as [number | null];
      assert.equal(code, 0, `${cmd} ${args.join(' ')}`);
      assert.ok(child.pid !== undefined && isGone(child.pid));
    }
    await req.waitFor((rs) => rs.filter(isTerminal).length >= 2, 30_000, 'two final replies');
    const v5 = req.replies.filter((r) => r.topic === 'robots/r1/llm/reply');
    assert.equal(v5.filter(isTerminal).length, 1);
    assert.ok(v5.every((r) => r.correlation === Buffer.from('r1-0001').toString('hex')));
    const v3 = req.replies.filter((r) => r.topic === 'robots/r1/llm/request/response');
    assert.equal(v3.filter(isTerminal).length, 1);
    assert.equal(v3.find(isTerminal)!.body.id, '1');
    assert.deepEqual(req.replies.filter((r) => r.topic === 'robots/npu1/status').at(-1)?.body, { raw: 'online' });
  });
});
