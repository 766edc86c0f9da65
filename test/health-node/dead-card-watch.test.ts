/** DeadCardWatch: only dead-card lines newer than the runtime's start stop a restart. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DeadCardWatch, kernelLogProbeOptions, parseKernelLogSetting } from '../../lib/device/dead-card-watch';

const DMESG_DEAD = path.resolve(__dirname, '../fixtures/axcl/dmesg-dead.txt');

function tempLog(t: { after: (fn: () => void) => void }): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ax650-deadwatch-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'kern.log');
  copyFileSync(DMESG_DEAD, file);
  return file;
}

test('the kernelLog setting: dmesg by default, off, or a file', () => {
  assert.deepEqual(parseKernelLogSetting(undefined), { kind: 'dmesg' });
  assert.deepEqual(parseKernelLogSetting(' dmesg '), { kind: 'dmesg' });
  assert.deepEqual(parseKernelLogSetting('off'), { kind: 'off' });
  assert.deepEqual(parseKernelLogSetting('/var/log/kern.log'), { kind: 'file', path: '/var/log/kern.log' });
  assert.deepEqual(kernelLogProbeOptions({ kind: 'off' }), { dmesg: null });
  assert.deepEqual(kernelLogProbeOptions({ kind: 'dmesg' }), {});
});

test('a simulated runtime is watched only through an explicit file', () => {
  assert.equal(new DeadCardWatch({ kind: 'dmesg' }).appliesTo({ simulator: true }), false);
  assert.equal(new DeadCardWatch({ kind: 'dmesg' }).appliesTo({ simulator: false }), true);
  assert.equal(new DeadCardWatch({ kind: 'file', path: '/x' }).appliesTo({ simulator: true }), true);
  assert.equal(new DeadCardWatch({ kind: 'off' }).appliesTo({ simulator: false }), false);
});

test('a dead line from before the start is ignored; one after it gives DEAD_CARD with the bus in hex', async (t) => {
  const file = tempLog(t);
  const watch = new DeadCardWatch({ kind: 'file', path: file });
  await watch.mark();
  assert.equal(await watch.check(), null, 'the fixture already holds `device 1: dead!` from before the start');
  appendFileSync(file, '[ 2001.000001] [axcl_pcie_port_manage, 917]: axcl pcie port create failed.\n');
  assert.equal(await watch.check(), null, 'other driver lines are not a dead card');
  appendFileSync(file, '[ 2002.500000] [heartbeat_recv_thread, 578]: device 81: dead!\n');
  const err = await watch.check();
  assert.equal(err?.code, 'DEAD_CARD');
  assert.equal(err?.params.device, '0x81');
  assert.match(err?.message ?? '', /reboot of the host/);
});

test('an unreadable log never blocks a restart', async () => {
  const watch = new DeadCardWatch({ kind: 'file', path: '/nonexistent/kern.log' });
  await watch.mark();
  assert.equal(await watch.check(), null);
});
