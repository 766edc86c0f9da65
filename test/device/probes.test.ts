import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { appendFileSync, copyFileSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { isAx650Error } from '../../lib/errors';
import { KernelLogCursor } from '../../lib/device/kernel-log';
import { listCards, probeDevices, probeSmi, readCmmInfo, type ProbeOptions } from '../../lib/device/probes';
import { eventually, FAKE_SMI, fixture, isGone, printFile, SMI_CMD, smiEnv, tempDir } from './helpers';

/** Every tool a fake; nothing on this host is consulted. */
function fakes(knobs: Record<string, string> = {}, extra: ProbeOptions = {}): ProbeOptions {
  return {
    smi: SMI_CMD,
    env: smiEnv(knobs),
    lspci: printFile(fixture('lspci-n.txt')),
    dmesg: null,
    meminfoPath: fixture('meminfo.txt'),
    devNodePath: '/nonexistent/axcl_host',
    ...extra,
  };
}

test('a healthy card: smi table, lspci, meminfo in one reading', async () => {
  const r = await probeDevices(fakes({ FAKE_SMI_TEMP: '61', FAKE_SMI_NPU: '93' }));
  assert.equal(r.present, true);
  assert.deepEqual(r.pciAddresses, ['0000:01:00.0']);
  assert.equal(r.devNode, false);
  assert.equal(r.smi.ok, true);
  assert.equal(r.smi.driverVersion, 'V3.4.0_20250423020139');
  assert.deepEqual(r.smi.cards.map((c) => [c.index, c.name, c.temperatureC, c.npuPercent]), [[0, 'AX650N', 61, 93]]);
  assert.equal(r.smi.processes[0]?.pid, 84643);
  assert.deepEqual(r.memory, { memTotalKiB: 8245360, memAvailableKiB: 5123456, cmaTotalKiB: 65536, cmaFreeKiB: 42016 });
  assert.equal(r.kernel.source, null);
});

test('the fake axcl-smi stays executable in dist and runs by its shebang', async () => {
  assert.ok((statSync(FAKE_SMI).mode & 0o111) !== 0, `${FAKE_SMI} lost its executable bits`);
  const smi = await probeSmi({ smi: FAKE_SMI, env: smiEnv({ FAKE_SMI_NAME: 'AX8850', FAKE_SMI_CARDS: '2' }) });
  assert.equal(smi.ok, true);
  assert.equal(smi.smiVersion?.startsWith('V3.10.2'), true);
  assert.deepEqual(smi.cards.map((c) => `${c.index}:${c.name}:${c.busNumber}`), ['0:AX8850:1', '1:AX8850:2']);
});

test('a dead card (no rows) is ok:true with zero cards while lspci still sees it', async () => {
  const r = await probeDevices(fakes({ FAKE_SMI_DEAD: '1' }));
  assert.equal(r.smi.ok, true);
  assert.deepEqual(r.smi.cards, []);
  assert.equal(r.present, true);
});

test('a hanging axcl-smi gives a timeout reading, and it and its child are gone', async (t) => {
  const pidFile = path.join(tempDir(t), 'pids.json');
  const r = await probeSmi({ smi: SMI_CMD, timeoutMs: 2500, env: smiEnv({ FAKE_SMI_HANG: '1', FAKE_SMI_PID_FILE: pidFile }) });
  assert.equal(r.ok, false);
  assert.equal(r.error, 'timeout');
  assert.ok(existsSync(pidFile), 'the fake never started within the timeout');
  const { pid, grandchild } = JSON.parse(readFileSync(pidFile, 'utf8')) as { pid: number; grandchild: number };
  assert.equal(isGone(pid), true);
  assert.equal(await eventually(() => isGone(grandchild)), true, 'the process group was not killed');
});

test('missing tools: present:false readings, never a throw', async () => {
  const r = await probeDevices({
    smi: '/nonexistent/axcl-smi', lspci: '/nonexistent/lspci', dmesg: '/nonexistent/dmesg',
    meminfoPath: '/nonexistent/meminfo', devNodePath: '/nonexistent/axcl_host',
  });
  assert.equal(r.present, false);
  assert.equal(r.smi.present, false);
  assert.equal(r.smi.error, 'not-found');
  assert.equal(r.pciAddresses, null);
  assert.equal(r.memory, null);
  assert.match(r.kernel.error ?? '', /dmesg failed/);
});

test('runtime loading: axcl-smi is not run at all', async (t) => {
  const pidFile = path.join(tempDir(t), 'pids.json');
  const r = await probeDevices(fakes({ FAKE_SMI_HANG: '1', FAKE_SMI_PID_FILE: pidFile }, { runtimeLoading: true, timeoutMs: 2500 }));
  assert.equal(r.smi.skipped, 'runtime loading');
  assert.equal(r.smi.ok, false);
  assert.equal(existsSync(pidFile), false);
  assert.equal(r.present, true);
});

test('vendor error strings become readings: busy, init failure', async () => {
  const busy = await probeSmi({ smi: SMI_CMD, env: smiEnv({ FAKE_SMI_BUSY: '1' }) });
  assert.deepEqual([busy.ok, busy.error, busy.message], [false, 'busy', 'axcl-smi is already running, please try later.']);
  const init = await probeSmi({ smi: SMI_CMD, env: smiEnv({ FAKE_SMI_INIT_FAIL: '8030010b' }) });
  assert.deepEqual([init.ok, init.error], [false, 'init-failed']);
});

test('the state file is re-read on every run', async (t) => {
  const state = path.join(tempDir(t), 'state.json');
  writeFileSync(state, JSON.stringify({ temp: 40 }));
  const opts: ProbeOptions = { smi: SMI_CMD, env: smiEnv({ FAKE_SMI_STATE_FILE: state, FAKE_SMI_TEMP: '30' }) };
  assert.equal((await probeSmi(opts)).cards[0]?.temperatureC, 40);
  writeFileSync(state, JSON.stringify({ temp: 97, npu: 55 }));
  const hot = await probeSmi(opts);
  assert.deepEqual([hot.cards[0]?.temperatureC, hot.cards[0]?.npuPercent], [97, 55]);
});

test('kernel log: dead card and allocation failures, only new lines each probe', async (t) => {
  const log = path.join(tempDir(t), 'kern.log');
  copyFileSync(fixture('dmesg-dead.txt'), log);
  const cursor = new KernelLogCursor();
  const opts = fakes({ FAKE_SMI_DEAD: '1' }, { kernelLogFile: log, kernelLog: cursor });
  const first = await probeDevices(opts);
  assert.equal(first.kernel.source, 'file');
  assert.deepEqual(first.kernel.newDeadDevices, [1]);
  assert.deepEqual(first.kernel.deadDevices, [1]);
  assert.equal(first.kernel.newAllocFailures.length, 2);
  assert.match(first.kernel.newAllocFailures[0] ?? '', /ax_sglist_alloc_mem, 212\]: alloc size: 0x4000000/);

  const again = await probeDevices(opts);
  assert.deepEqual([again.kernel.newLines, again.kernel.newAllocFailures.length], [0, 0]);
  assert.deepEqual(again.kernel.deadDevices, [1], 'a dead card stays reported');

  appendFileSync(log, readFileSync(fixture('dmesg-more.txt')));
  const more = await probeDevices(opts);
  assert.equal(more.kernel.newLines, 2);
  assert.deepEqual(more.kernel.newDeadDevices, [0x81]);
  assert.deepEqual(more.kernel.deadDevices, [1, 0x81]);
  assert.deepEqual(more.kernel.newAllocFailures, ['[ 1900.100000] [ax_sglist_alloc_mem, 240]: there are no free entries']);
});

test('kernel log through a dmesg command; a card listed alive again clears its dead mark', async () => {
  const cursor = new KernelLogCursor();
  const r = await probeDevices(fakes({}, { dmesg: printFile(fixture('dmesg-dead.txt')), kernelLog: cursor }));
  assert.equal(r.kernel.source, 'dmesg');
  assert.deepEqual(r.kernel.newDeadDevices, [1]);
  assert.deepEqual(r.kernel.deadDevices, [], 'axcl-smi reads card 0 on bus 1 with a temperature');
  assert.deepEqual(cursor.currentDead(), []);
});

test('kernel log cursor falls back to timestamps when the last line rotated out', () => {
  const c = new KernelLogCursor();
  c.scan('[ 10.0] a\n[ 20.0] b\n');
  const s = c.scan('[ 15.0] x\n[ 25.0] device 4: dead!\n');
  assert.deepEqual([s.newLines, s.newDeadDevices], [1, [4]]);
});

test('listCards: 0-based indices for devices = auto; none → NO_CARD', async () => {
  assert.deepEqual(await listCards({ smi: SMI_CMD, env: smiEnv({ FAKE_SMI_CARDS: '3' }) }), [0, 1, 2]);
  await assert.rejects(listCards({ smi: SMI_CMD, env: smiEnv({ FAKE_SMI_DEAD: '1' }) }), (e: unknown) => isAx650Error(e) && e.code === 'NO_CARD' && /lists no card/.test(e.message));
  await assert.rejects(listCards({ smi: '/nonexistent/axcl-smi' }), (e: unknown) => isAx650Error(e) && e.code === 'NO_CARD' && /not installed/.test(e.message));
});

test('readCmmInfo: exact KiB figures; an index past the last card is the vendor error', async () => {
  const ok = await readCmmInfo(0, { smi: SMI_CMD, env: smiEnv({ FAKE_SMI_CMM_USED: '1000' }) });
  assert.deepEqual(ok, { ok: true, info: { busNumber: 1, totalKiB: 7208960, usedKiB: 1024000, remainKiB: 6184960 } });
  const bad = await readCmmInfo(1, { smi: SMI_CMD, env: smiEnv() });
  assert.deepEqual(bad, { ok: false, error: 'out-of-range', message: 'device index 1 is out of connected devices number 1' });
});

test('a hung axcl-smi does not outlive the Node process that started it', async (t) => {
  const pidFile = path.join(tempDir(t), 'pids.json');
  const runTool = path.resolve(__dirname, '../../lib/device/run-tool.js');
  const script = `
    const fs = require('node:fs');
    require(${JSON.stringify(runTool)}).runTool(${JSON.stringify(SMI_CMD)}, [], { timeoutMs: 60000 });
    const wait = setInterval(() => { if (fs.existsSync(${JSON.stringify(pidFile)})) { clearInterval(wait); process.exit(0); } }, 20);`;
  const parent = spawn(process.execPath, ['-e', script], { env: smiEnv({ FAKE_SMI_HANG: '1', FAKE_SMI_PID_FILE: pidFile }), stdio: 'ignore' });
  const [code] = (await once(parent, 'exit')) as [number | null];
  assert.equal(code, 0);
  const { pid, grandchild } = JSON.parse(readFileSync(pidFile, 'utf8')) as { pid: number; grandchild: number };
  assert.equal(await eventually(() => isGone(pid) && isGone(grandchild)), true, 'the tool group was left running');
});
