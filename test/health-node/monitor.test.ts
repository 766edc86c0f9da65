/**
 * HealthMonitor without Node-RED: the send modes, the immediate reaction to runtime state changes,
 * no axcl-smi while the runtime loads, and a missing tool as a reading.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter, once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HealthMonitor, type HealthMonitorOptions, type HealthReport } from '../../lib/health/monitor';
import type { HealthMode } from '../../lib/health/changes';
import type { RuntimeEventMap, RuntimeInfo, RuntimeState } from '../../lib/runtime/types';
import { runtimeInfo } from '../health/helpers';

const FAKE_SMI = path.resolve(__dirname, '../fixtures/axcl/axcl-smi');

class FakeRuntime extends EventEmitter<RuntimeEventMap> {
  current: RuntimeInfo = runtimeInfo({ lastTokensPerSecond: null, avgTokensPerSecond: null });
  info(): RuntimeInfo {
    return { ...this.current };
  }
  go(state: RuntimeState, over: Partial<RuntimeInfo> = {}): void {
    this.current = { ...this.current, ...over, state };
    this.emit('state', state, this.info());
  }
}

/** A started monitor on a fake runtime, once its start-up check has been reported. */
async function monitor(t: { after: (fn: () => Promise<void>) => void }, mode: HealthMode, over: Partial<HealthMonitorOptions> = {}, runner = new FakeRuntime()) {
  const m = new HealthMonitor({ runner, probe: null, listenAllInterfaces: false, mode, intervalMs: 0, ...over });
  const reports: HealthReport[] = [];
  m.on('report', (r) => reports.push(r));
  t.after(() => m.stop());
  const first = once(m, 'report');
  m.start();
  await first;
  return { runner, m, reports };
}

/** The fake axcl-smi behind a wrapper that counts its runs in a file. */
function countingSmi(t: { after: (fn: () => void) => void }): { cmd: string[]; runs: () => number; env: NodeJS.ProcessEnv } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ax650-health-smi-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const marker = path.join(dir, 'runs');
  const wrapper = path.join(dir, 'smi.js');
  writeFileSync(wrapper, `require('node:fs').appendFileSync(${JSON.stringify(marker)}, 'run\\n');\nrequire(${JSON.stringify(FAKE_SMI)});\n`);
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('FAKE_SMI_')) env[k] = v;
  return { cmd: [process.execPath, wrapper], runs: () => (existsSync(marker) ? readFileSync(marker, 'utf8').split('\n').filter(Boolean).length : 0), env };
}

test('"change" sends the first check, then only state, level or alert changes', async (t) => {
  const { runner, m, reports } = await monitor(t, 'change');
  assert.deepEqual(reports.map((r) => [r.trigger, r.send]), [['start', true]]);
  assert.equal((await m.check('interval')).send, false, 'nothing changed');
  assert.equal((await m.check('input')).send, true, 'a check asked for by an input ("check now") is always answered');
  runner.go('busy', { running: true });
  const last = reports[reports.length - 1]!;
  assert.equal(last.trigger, 'state');
  assert.equal(last.send, true);
  assert.deepEqual(last.changes.state, { from: 'ready', to: 'busy' });
  runner.go('busy', { running: true });
  assert.equal(reports.length, 4, 'a repeated state (load progress) is not a change');
  runner.current = { ...runner.current, queueDepth: 9 };
  const queued = await m.check('interval');
  assert.equal(queued.send, true);
  assert.deepEqual(queued.changes.raised, ['queueDepth']);
  assert.deepEqual(queued.changes.level, { from: 'ok', to: 'warning' });
});

test('"alerts" sends a crash at once (no probe awaited), not the reload, then the recovery', async (t) => {
  const { runner, m, reports } = await monitor(t, 'alerts');
  assert.equal(reports[0]?.send, false, 'healthy: nothing to say');
  assert.equal((await m.check('interval')).send, false);
  assert.equal((await m.check('input')).send, true, 'an input is answered even with no alert');
  runner.go('backoff', { restarts: 1, lastError: { code: 'RUNTIME_CRASHED', message: 'signal SIGKILL' } });
  const crash = reports[reports.length - 1]!;
  assert.equal(crash.trigger, 'state', 'reported synchronously inside the state event');
  assert.equal(crash.send, true);
  assert.deepEqual(crash.changes.raised, ['runtimeRestarting']);
  for (const s of ['preflight', 'starting-tokenizer', 'loading', 'resetting'] as const) runner.go(s);
  assert.ok(reports.filter((r) => r.trigger === 'state').slice(1).every((r) => !r.send), 'the reload itself is no alert transition');
  runner.go('ready');
  const back = reports[reports.length - 1]!;
  assert.equal(back.send, true);
  assert.deepEqual(back.changes.cleared, ['runtimeRestarting']);
  assert.equal(back.payload.level, 'ok');
});

test('"always" sends every check; stop() ends reports and the state subscription', async (t) => {
  const { runner, m, reports } = await monitor(t, 'always');
  assert.equal((await m.check('input')).send, true);
  assert.equal((await m.check('input')).send, true);
  await m.stop();
  runner.go('busy');
  assert.equal(runner.listenerCount('state'), 0);
  assert.equal(reports.length, 3);
});

test('axcl-smi is not run while the runtime loads, and a skipped axcl-smi does not make the card missing', async (t) => {
  const smi = countingSmi(t);
  const probe = { smi: smi.cmd, env: smi.env, lspci: null, dmesg: null, devNodePath: '/nonexistent/axcl_host' };
  const loadingRuntime = new FakeRuntime();
  loadingRuntime.current = { ...loadingRuntime.current, state: 'loading', loadProgress: 40, restarts: 0 };
  const { runner, m } = await monitor(t, 'always', { probe }, loadingRuntime);
  assert.equal(smi.runs(), 0, 'the start-up check ran while loading');
  const loading = await m.check('input');
  assert.equal(smi.runs(), 0);
  assert.equal(loading.payload.device?.smi.skipped, 'runtime loading');
  assert.equal(loading.payload.device?.present, true);
  assert.ok(!loading.payload.alerts.some((a) => a.id === 'noCard'));
  runner.go('ready');
  const ready = await m.check('input');
  assert.equal(smi.runs(), 1);
  assert.equal(ready.payload.device?.smi.ok, true);
  assert.equal(ready.payload.device?.cards[0]?.temperatureC, 37);
  assert.equal(ready.payload.device?.cards[0]?.name, 'AX650N');
});

test('a missing axcl-smi and no card are a reading with a noCard alert, not an error', async (t) => {
  const probe = { smi: '/nonexistent/axcl-smi', lspci: null, dmesg: null, devNodePath: '/nonexistent/axcl_host' };
  const { m } = await monitor(t, 'always', { probe });
  const r = await m.check('input');
  assert.equal(r.payload.device?.present, false);
  assert.equal(r.payload.device?.smi.error, 'not-found');
  assert.match(r.payload.device?.smi.message ?? '', /not installed/);
  assert.equal(r.payload.level, 'critical');
  assert.deepEqual(r.payload.alerts.map((a) => a.id), ['noCard']);
});

test('probeDevice() false leaves the device section null', async (t) => {
  const { m } = await monitor(t, 'always', { probe: { smi: '/nonexistent/axcl-smi' }, probeDevice: () => false });
  const r = await m.check('input');
  assert.equal(r.payload.device, null);
  assert.deepEqual(r.payload.alerts, []);
});
