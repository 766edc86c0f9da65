import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { probeDevices } from '../../lib/device/probes';
import { buildHealthSnapshot } from '../../lib/health/snapshot';
import { card, device, runtimeInfo } from './helpers';

test('the payload carries runtime figures, device readings, host memory and alerts', () => {
  const p = buildHealthSnapshot({
    runtime: runtimeInfo({ state: 'busy', running: true, queueDepth: 1, restarts: 1 }),
    device: device({ cards: [card({ temperatureC: 91, cmmUsedMiB: 3520 })] }),
    listenAllInterfaces: true,
    now: 62_000,
  });
  assert.equal(p.at, 62_000);
  assert.equal(p.level, 'warning');
  assert.deepEqual([p.state, p.ready, p.running, p.queueDepth, p.restarts, p.uptimeMs], ['busy', true, true, 1, 1, 60_000]);
  assert.deepEqual(p.tokensPerSecond, { last: 3.6, avg: 3.7 });
  assert.deepEqual([p.ttftMs, p.model, p.pid, p.lastError, p.loadProgress], [1339, 'Qwen3-4B', 4242, null, 100]);
  assert.deepEqual(p.device?.cards, [{
    index: 0, name: 'AX650N', busId: '0001:01:00.0', temperatureC: 91, npuPercent: 40, cpuPercent: 2,
    memoryUsedMiB: 193, memoryTotalMiB: 945, cmmUsedMiB: 3520, cmmTotalMiB: 7040, cmmPercent: 50,
  }]);
  assert.deepEqual(p.device?.smi, { ok: true, error: null, skipped: null, message: null, driverVersion: 'V3.4.0' });
  assert.deepEqual(p.host, { memAvailableMiB: 5003, cmaTotalMiB: 64, cmaFreeMiB: 41 });
  assert.deepEqual(p.alerts.map((a) => a.id), ['temperature', 'exposedPort']);
  assert.deepEqual(JSON.parse(JSON.stringify(p)), p, 'the payload is plain JSON');
});

test('while loading: progress, no uptime, axcl-smi skipped, no device section without probing', () => {
  const loading = buildHealthSnapshot({ runtime: runtimeInfo({ state: 'loading', loadProgress: 42, readyAt: null }), device: null, listenAllInterfaces: true, now: 1 });
  assert.deepEqual([loading.state, loading.loadProgress, loading.ready, loading.uptimeMs, loading.device, loading.level], ['loading', 42, false, null, null, 'ok']);
  assert.deepEqual(loading.host, { memAvailableMiB: null, cmaTotalMiB: null, cmaFreeMiB: null });
});

test('end to end with the fake axcl-smi: a hot card becomes a critical alert in the payload', async () => {
  const fixtures = path.resolve(__dirname, '../fixtures/axcl');
  const env: NodeJS.ProcessEnv = { ...process.env, FAKE_SMI_TEMP: '108', FAKE_SMI_NAME: 'AX8850' };
  const reading = await probeDevices({
    smi: [process.execPath, path.join(fixtures, 'axcl-smi')], env, lspci: null, dmesg: null,
    meminfoPath: path.join(fixtures, 'meminfo.txt'), devNodePath: '/nonexistent/axcl_host',
  });
  const p = buildHealthSnapshot({ runtime: runtimeInfo(), device: reading, listenAllInterfaces: false });
  assert.equal(p.level, 'critical');
  assert.deepEqual(p.alerts.map((a) => [a.id, a.level, a.value]), [['temperature', 'critical', 108]]);
  assert.equal(p.device?.cards[0]?.name, 'AX8850');
  assert.equal(p.device?.processes[0]?.pid, 84643);
});

test('capabilities: a VL model says vision and its image size; a text model false; before load null', () => {
  const vl = buildHealthSnapshot({ runtime: runtimeInfo({ vision: true, visionInput: { width: 448, height: 448 } }), device: null, listenAllInterfaces: false });
  assert.deepEqual(vl.capabilities, { vision: true, imageInput: { width: 448, height: 448 } });
  const text = buildHealthSnapshot({ runtime: runtimeInfo({ vision: false, visionInput: null }), device: null, listenAllInterfaces: false });
  assert.deepEqual(text.capabilities, { vision: false, imageInput: null });
  const loading = buildHealthSnapshot({ runtime: runtimeInfo({ state: 'loading' }), device: null, listenAllInterfaces: false });
  assert.deepEqual(loading.capabilities, { vision: null, imageInput: null });
});
