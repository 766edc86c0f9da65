import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diffAlerts, evaluateAlerts, worstLevel, type Alert, type AlertId, type HealthInput } from '../../lib/health/rules';
import { card, device, runtimeInfo } from './helpers';

const healthy: HealthInput = { runtime: runtimeInfo(), device: device(), listenAllInterfaces: false };
const ids = (alerts: Alert[]): AlertId[] => alerts.map((a) => a.id);

test('a healthy snapshot raises nothing', () => {
  assert.deepEqual(evaluateAlerts(healthy), []);
  assert.equal(worstLevel([]), 'ok');
});

const cases: { id: AlertId; level: Alert['level']; input: HealthInput; message: RegExp; value?: number; threshold?: number }[] = [
  { id: 'temperature', level: 'warning', input: { ...healthy, device: device({ cards: [card(), card({ index: 1, temperatureC: 88 })] }) }, message: /Card 1 is at 88 °C/, value: 88, threshold: 85 },
  { id: 'temperature', level: 'critical', input: { ...healthy, device: device({ cards: [card({ temperatureC: 110 })] }) }, message: /resets itself at 120 °C/, value: 110, threshold: 105 },
  { id: 'deadCard', level: 'critical', input: { ...healthy, device: device({ kernel: { deadDevices: [0x81] } }) }, message: /PCIe bus 0x81 dead\. Reboot the host/, value: 0x81 },
  { id: 'deadCard', level: 'critical', input: { ...healthy, device: device({ cards: [] }) }, message: /lists no card: it is probably dead/ },
  { id: 'deadCard', level: 'warning', input: { ...healthy, device: device({ cards: [], smi: { ok: false, error: 'timeout' } }) }, message: /did not answer in time/ },
  { id: 'runtimeFailed', level: 'critical', input: { ...healthy, runtime: runtimeInfo({ state: 'failed', lastError: { code: 'LOAD_STALLED', message: 'no progress for 60 s' } }) }, message: /LOAD_STALLED: no progress for 60 s/ },
  { id: 'runtimeRestarting', level: 'warning', input: { ...healthy, runtime: runtimeInfo({ state: 'backoff', restarts: 2 }) }, message: /restart 2/, value: 2 },
  { id: 'runtimeRestarting', level: 'warning', input: { ...healthy, runtime: runtimeInfo({ state: 'loading', restarts: 1, loadProgress: 40 }) }, message: /loading again .*restart 1, 40 %/, value: 1 },
  { id: 'queueDepth', level: 'warning', input: { ...healthy, runtime: runtimeInfo({ queueDepth: 5 }) }, message: /5 jobs are waiting/, value: 5, threshold: 5 },
  { id: 'slowTokens', level: 'warning', input: { ...healthy, runtime: runtimeInfo({ lastTokensPerSecond: 0.4 }) }, message: /0\.40 tokens\/s, below 1/, value: 0.4, threshold: 1 },
  { id: 'cmmFull', level: 'warning', input: { ...healthy, device: device({ cards: [card({ cmmUsedMiB: 6900 })] }) }, message: /98 % full/, value: 98, threshold: 95 },
  { id: 'exposedPort', level: 'warning', input: { ...healthy, listenAllInterfaces: true }, message: /0\.0\.0\.0:8000/ },
  { id: 'allocFailure', level: 'warning', input: { ...healthy, device: device({ kernel: { newAllocFailures: ['[ 1.0] alloc pages failed'] } }) }, message: /\(\[ 1\.0\] alloc pages failed\)/, value: 1 },
  { id: 'noCard', level: 'critical', input: { ...healthy, device: { ...device({ cards: [], present: false, smi: { ok: false, present: false, error: 'not-found' } }), pciAddresses: [], devNode: false } }, message: /No AX650 card found/ },
];

for (const c of cases) {
  test(`${c.id} (${c.level}) is raised, then cleared when the cause goes away`, () => {
    const raised = evaluateAlerts(c.input);
    assert.deepEqual(ids(raised), [c.id]);
    const [a] = raised as [Alert];
    assert.equal(a.level, c.level);
    assert.match(a.message, c.message);
    assert.equal(a.value, c.value);
    assert.equal(a.threshold, c.threshold);
    const cleared = evaluateAlerts(healthy);
    assert.deepEqual(diffAlerts(raised, cleared), { raised: [], cleared: [a], changed: [] });
    assert.deepEqual(diffAlerts(cleared, raised), { raised: [a], cleared: [], changed: [] });
  });
}

test('thresholds are configurable; a floor of 0 disables slowTokens', () => {
  const slow = { ...healthy, runtime: runtimeInfo({ lastTokensPerSecond: 0.4, queueDepth: 2 }) };
  assert.deepEqual(ids(evaluateAlerts(slow, { tokensPerSecondFloor: 0, queueDepth: 2 })), ['queueDepth']);
  assert.deepEqual(evaluateAlerts({ ...healthy, device: device({ cards: [card({ temperatureC: 70 })] }) }, { temperatureWarnC: 70 }).map((a) => a.level), ['warning']);
});

test('no device alerts without a device reading; the port is exposed only while the runtime listens', () => {
  assert.deepEqual(evaluateAlerts({ ...healthy, device: null }), []);
  assert.deepEqual(ids(evaluateAlerts({ ...healthy, runtime: runtimeInfo({ state: 'loading' }), listenAllInterfaces: true })), []);
  assert.deepEqual(ids(evaluateAlerts({ ...healthy, runtime: runtimeInfo({ state: 'busy' }), listenAllInterfaces: true })), ['exposedPort']);
});

test('critical alerts come first; a level change is reported as changed', () => {
  const warm = evaluateAlerts({ ...healthy, runtime: runtimeInfo({ queueDepth: 9 }), device: device({ cards: [card({ temperatureC: 90 })] }) });
  const hot = evaluateAlerts({ ...healthy, runtime: runtimeInfo({ queueDepth: 9 }), device: device({ cards: [card({ temperatureC: 115 })], kernel: { deadDevices: [1] } }) });
  assert.deepEqual(hot.map((a) => `${a.id}:${a.level}`), ['deadCard:critical', 'temperature:critical', 'queueDepth:warning']);
  const d = diffAlerts(warm, hot);
  assert.deepEqual(ids(d.raised), ['deadCard']);
  assert.deepEqual(ids(d.changed), ['temperature']);
  assert.deepEqual(d.cleared, []);
  assert.equal(worstLevel(warm), 'warning');
  assert.equal(worstLevel(hot), 'critical');
});
