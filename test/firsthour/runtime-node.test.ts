/**
 * #17.4 in a real Node-RED process: "NPU runtime ready after N ms" is logged once per load, not
 * after every reply (busy → ready is no new load); on the simulator that line and the generate
 * node's status (as the editor receives it over /comms) say that its replies are canned.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { startNodeRed } from '../helpers/node-red-process';
import { nodeRedPackage } from '../helpers/nr';
import { alive, simulatorRuntime, waitForText } from '../editor/flows';

const count = (text: string, re: RegExp): number => (text.match(new RegExp(re.source, 'g')) ?? []).length;

test('ready is logged once per load, not after each of three replies; the status says simulator', async () => {
  const runtime = await simulatorRuntime('f1a5700000000001', { AX650_SIM_REPLY_TOKENS: '8' });
  const flows = [
    { id: 'f1a5700000000002', type: 'tab', label: 'first hour' },
    runtime,
    { id: 'f1a5700000000003', type: 'inject', z: 'f1a5700000000002', name: 'ask', props: [{ p: 'payload' }], payload: 'Hello there', payloadType: 'str', repeat: '', once: false, x: 100, y: 100, wires: [['f1a5700000000004']] },
    {
      id: 'f1a5700000000004', type: 'ax650-generate', z: 'f1a5700000000002', name: 'gen', runtime: runtime.id, system: '', temperature: '', topK: '', topP: '',
      repetitionPenalty: '', maxTokens: '', think: false, firstTokenTimeout: 60, idleTimeout: 30, totalTimeout: 120, x: 300, y: 100, wires: [[], ['f1a5700000000005']],
    },
    { id: 'f1a5700000000005', type: 'debug', z: 'f1a5700000000002', name: 'final-reply', active: true, tosidebar: false, console: true, tostatus: false, complete: 'stats.doneReason', targetType: 'msg', x: 500, y: 100, wires: [] },
  ];
  const nr = await startNodeRed({ nodeRed: nodeRedPackage, flows });
  const ws = new WebSocket(`${nr.url.replace('http', 'ws')}/comms`);
  const statuses: string[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    ws.on('message', (data: WebSocket.RawData) => {
      const parsed = JSON.parse(data.toString()) as unknown;
      for (const m of (Array.isArray(parsed) ? parsed : [parsed]) as Array<{ topic?: string; data?: { text?: string } }>) {
        if (m.topic === 'status/f1a5700000000004' && m.data?.text) statuses.push(m.data.text);
      }
    });
    ws.send(JSON.stringify({ subscribe: 'status/#' }));
    await waitForText(nr.output, /NPU runtime ready after|\[error\]/, 60_000);
    for (let i = 1; i <= 3; i++) {
      const res = await fetch(`${nr.url}/inject/f1a5700000000003`, { method: 'POST' });
      assert.equal(res.status, 200);
      await waitForText(() => String(count(nr.output(), /\[debug:final-reply\]/)), String(i), 30_000);
    }
    // After the last reply the runtime goes busy → ready, which used to log readiness again: wait for that status.
    await waitForText(() => statuses.join('\n'), /done[^]*ready \(simulator: canned replies\)$/, 10_000);
    const log = nr.output();
    assert.equal(count(log, /NPU runtime ready after \d+ ms/), 1, log);
    assert.match(log, /NPU runtime ready after \d+ ms, on the simulator \(no AX650 card in use\): its replies are canned text that does not depend on the prompt/);
    assert.ok(statuses.some((s) => s === 'ready (simulator: canned replies)'), `status seen by the editor: ${statuses.join(' | ')}`);
    assert.doesNotMatch(log, /\[error\]/);
  } finally {
    ws.close();
    await nr.stop();
  }
  assert.equal(alive(nr.pid), false, 'Node-RED gone');
});
