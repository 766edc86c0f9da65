/**
 * ax650-health in a real flow on the simulator (issue 6 acceptance): a hot card raises and clears
 * a temperature alert; a killed runtime raises an alert within 2 s and a recovery after the restart;
 * a kernel `device 1: dead!` line turns the next crash into `failed` (DEAD_CARD) with a deadCard alert.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { HealthChanges } from '../../lib/health/changes';
import type { HealthPayload } from '../../lib/health/snapshot';
import type { RuntimeState } from '../../lib/runtime/types';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { simulatorTestEnv } from '../../simulator/env';
import type { Runtime } from '../../lib/runtime/runtime';
import { freeLoopbackPort } from '../helpers/node-red-process';
import { TEST_KIND } from '../helpers/kind';
import { coreNode, getHelper, runtimeNode, type FlowNode } from '../helpers/nr';
import { healthNode, startHealthFlow, type HealthFlow } from './flow';
import type { NodeMessage } from '../../nodes/red-types';

const payloadOf = (m: NodeMessage): HealthPayload => m.payload as HealthPayload;
const changesOf = (m: NodeMessage): HealthChanges => m.changes as HealthChanges;

describe('ax650-health flow', () => {
  let f: HealthFlow;
  before(async () => {
    f = await startHealthFlow();
  });
  after(async () => {
    await f.close();
  });

  test('95 °C on the card: a temperature alert (copy of the input msg, yellow status), then a recovery at 37 °C', async () => {
    await f.setSmi({ temp: 95 });
    f.health.receive({ payload: 'check', robot: 'r2' });
    const hot = await f.next((m) => changesOf(m).raised.includes('temperature'), 10_000);
    const p = payloadOf(hot);
    assert.equal(hot.robot, 'r2', 'the answer to an input is a copy of it');
    assert.equal(hot.topic, 'robot/npu');
    assert.equal(p.level, 'warning');
    const alert = p.alerts.find((a) => a.id === 'temperature');
    assert.equal(alert?.value, 95);
    assert.equal(alert?.threshold, 85);
    assert.equal(p.device?.cards[0]?.temperatureC, 95);
    assert.equal(p.state, 'ready');
    assert.equal(f.statuses[f.statuses.length - 1]?.fill, 'yellow');

    await f.setSmi({ temp: 37 });
    const before = f.messages.length;
    f.health.receive({ payload: 'check' });
    const cool = await f.next((m) => changesOf(m).cleared.includes('temperature'), 10_000, before);
    assert.equal(payloadOf(cool).level, 'ok');
    assert.deepEqual(payloadOf(cool).alerts, []);
    assert.equal(f.statuses[f.statuses.length - 1]?.fill, 'green');

    // A check asked for by an input ("check now") is answered even in "only alerts" mode, with nothing raised or cleared.
    const quiet = f.messages.length;
    f.health.receive({ payload: 'check', press: 'now' });
    const answer = await f.next((m) => m.press === 'now', 5_000, quiet);
    assert.deepEqual([changesOf(answer).raised, changesOf(answer).cleared], [[], []]);
    assert.equal(f.messages.length, quiet + 1, 'one answer per input');
  });

  test('kill -9 of the runtime: an alert within 2 s, a recovery message once the restarted runtime is ready', async () => {
    const oldPid = f.runtime.info().pid;
    assert.ok(oldPid !== null);
    const from = f.messages.length;
    process.kill(oldPid, 'SIGKILL');
    const alert = await f.next((m) => changesOf(m).raised.includes('runtimeRestarting'), 2000, from);
    assert.equal(payloadOf(alert).state, 'backoff');
    assert.equal(payloadOf(alert).level, 'warning');
    assert.equal(payloadOf(alert).lastError?.code, 'RUNTIME_CRASHED');

    const recovered = await f.next((m) => changesOf(m).cleared.includes('runtimeRestarting'), 30_000, from);
    const p = payloadOf(recovered);
    assert.equal(p.state, 'ready');
    assert.equal(p.level, 'ok');
    assert.equal(p.restarts, 1);
    assert.ok(p.pid !== null && p.pid !== oldPid, 'a new runtime process');
    assert.deepEqual(p.capabilities, { vision: false, imageInput: null }, 'the text model of the simulator has no vision');
    assert.equal(f.statuses[f.statuses.length - 1]?.fill, 'green');
  });

  test('a kernel "device 1: dead!" line, then a crash: deadCard alert and the runtime fails with DEAD_CARD, no restart', async () => {
    const pid = f.runtime.info().pid;
    assert.ok(pid !== null);
    const from = f.messages.length;
    // A dead card: the kernel says so and axcl-smi lists no card any more (reference §4.2/§4.3).
    await f.appendKernel('[ 1840.998711] [heartbeat_recv_thread, 591]: device 1: dead!');
    await f.setSmi({ dead: true });
    process.kill(pid, 'SIGKILL');

    const dead = await f.next((m) => payloadOf(m).alerts.some((a) => a.id === 'deadCard') && payloadOf(m).state === 'failed', 10_000, from);
    const p = payloadOf(dead);
    assert.equal(p.level, 'critical');
    assert.deepEqual(p.device?.deadDevices, [1]);
    assert.equal(p.lastError?.code, 'DEAD_CARD');
    assert.ok(p.alerts.some((a) => a.id === 'runtimeFailed' && /DEAD_CARD/.test(a.message)));
    assert.equal(f.statuses[f.statuses.length - 1]?.fill, 'red');
    assert.equal(f.runtime.state, 'failed');

    // The next restart would have been due within 2.4 s (1 s base ×2, 20 % jitter); nothing may spawn.
    const seen = f.states.length;
    await new Promise((r) => setTimeout(r, 3000));
    const later: RuntimeState[] = f.states.slice(seen);
    assert.deepEqual(later, [], 'no state change after failed');
    assert.equal(f.runtime.info().pid, null);
    assert.equal(f.runtime.info().restarts, 2);
  });
});

describe(`ax650-health with a VL model folder (${TEST_KIND})`, () => {
  let f: HealthFlow;
  before(async () => {
    // No card probe: the status is then the runtime's state with the vision mark (the temperature would wrap it).
    f = await startHealthFlow({ device: 'off' }, {}, { vision: true });
  });
  after(async () => {
    await f.close();
  });

  test('the payload and the status say whether the model sees images (axllm VL: yes, 448×448; the 2025 runtime: no)', async () => {
    f.health.receive({ payload: 'check', press: 'caps' });
    const answer = await f.next((m) => m.press === 'caps', 10_000);
    // (The test helper loads no catalogs: the text is the key, ax650-health.status.vision = "<state> · vision".)
    const status = String(f.statuses[f.statuses.length - 1]?.text ?? '');
    if (TEST_KIND === 'axllm') {
      assert.deepEqual(payloadOf(answer).capabilities, { vision: true, imageInput: { width: 448, height: 448 } });
      assert.match(status, /vision/);
    } else {
      assert.deepEqual(payloadOf(answer).capabilities, { vision: false, imageInput: null }, 'the 2025 runtime has no vision');
      assert.doesNotMatch(status, /vision/);
    }
  });
});

describe('examples/health-alerts.json', () => {
  test('loads with core nodes only; the first health message goes through the switch by level', async () => {
    const example = JSON.parse(readFileSync(path.resolve(__dirname, '../../../examples/health-alerts.json'), 'utf8')) as FlowNode[];
    const ours = new Set(['ax650-runtime', 'ax650-health']);
    const core = new Set(['tab', 'comment', 'inject', 'switch', 'debug']);
    assert.deepEqual(example.filter((n) => !ours.has(n.type) && !core.has(n.type)), [], 'no third-party nodes');
    const rt = example.find((n) => n.type === 'ax650-runtime')!;
    assert.equal(rt.mode, 'auto');
    const sw = example.find((n) => n.type === 'switch')!;
    // Free ports instead of the vendor's fixed ones; each switch output also feeds a recorder.
    Object.assign(rt, { mode: 'simulator', tokenizerPort: await freeLoopbackPort(), runtimePort: await freeLoopbackPort(), simEnv: JSON.stringify(simulatorTestEnv) });
    const outs = ['critical', 'warning', 'ok'];
    sw.wires = (sw.wires as string[][]).map((w, i) => [...w, `rec-${outs[i]}`]);
    const flow = [...example, ...outs.map((o) => ({ id: `rec-${o}`, z: sw.z, type: 'helper' }))];
    const helper = getHelper();
    await helper.startServer();
    await helper.load([runtimeNode(), healthNode(), coreNode('function/10-switch.js'), coreNode('common/21-debug.js'), coreNode('common/20-inject.js'), coreNode('common/90-comment.js')], flow);
    const runtime = (helper.getNode(rt.id) as unknown as { runtime: Runtime }).runtime;
    const got: string[] = [];
    const first = new Promise<NodeMessage>((resolve) => {
      for (const o of outs) helper.getNode(`rec-${o}`)!.on('input', (m: NodeMessage) => {
        got.push(o);
        resolve(m);
      });
    });
    try {
      const msg = await first;
      assert.equal(msg.topic, 'ax650/health');
      assert.equal(got[0], payloadOf(msg).level === 'ok' ? 'ok' : payloadOf(msg).level);
      assert.equal(payloadOf(msg).device, null, '"auto" does not probe a card for the simulator');
      await runtime.start();
    } finally {
      const pid = runtime.info().pid;
      await helper.unload();
      await helper.stopServer();
      if (pid !== null) assert.throws(() => process.kill(pid, 0), 'runtime gone');
    }
  });
});
