/**
 * #17.4 on the health node in real Node-RED: "check now" (any input) is answered in the default
 * only-on-change mode, every time; the simulator on its default loopback bind raises no
 * `exposedPort` warning, and the same flow with the faithful 0.0.0.0 bind does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HealthPayload } from '../../lib/health/snapshot';
import type { NodeMessage } from '../../nodes/red-types';
import { startHealthFlow } from '../health-node/flow';

const payloadOf = (m: NodeMessage): HealthPayload => m.payload as HealthPayload;

test('check now answers every time in only-on-change mode; no exposure warning on the loopback simulator', async () => {
  const f = await startHealthFlow({ mode: 'change', device: 'off', warnExposed: true });
  try {
    // The first check after the start is sent by the mode itself; wait for the runtime to be ready and that to settle.
    await f.next((m) => payloadOf(m).state === 'ready', 20_000, 0);
    for (const n of [1, 2, 3]) {
      const from = f.messages.length;
      f.health.receive({ payload: 'check now', press: n });
      const answer = await f.next((m) => m.press === n, 5_000, from);
      assert.equal(payloadOf(answer).state, 'ready');
      assert.deepEqual(payloadOf(answer).alerts, [], 'nothing to warn about');
    }
  } finally {
    await f.close();
  }
});

test('the faithful 0.0.0.0 bind (AX650_SIM_BIND) raises the exposedPort warning', async () => {
  const f = await startHealthFlow({ mode: 'change', device: 'off', warnExposed: true }, { AX650_SIM_BIND: '0.0.0.0' });
  try {
    await f.next((m) => payloadOf(m).state === 'ready', 20_000, 0);
    const from = f.messages.length;
    f.health.receive({ payload: 'check now' });
    const answer = await f.next(() => true, 5_000, from);
    assert.deepEqual(payloadOf(answer).alerts.map((a) => a.id), ['exposedPort']);
    assert.match(payloadOf(answer).alerts[0]?.message ?? '', /0\.0\.0\.0/);
  } finally {
    await f.close();
  }
});
