import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { OWNER_MARKER_VAR, readPidFile, reapOrphan, type PidRecord } from '../../lib/supervisor';
import { waitFor } from '../../lib/supervisor/terminate';
import { assertGone, exitOf, fixture, isGone, startFixture, SUPERVISOR_LIB, tempDir, waitForLine } from './helpers';

function procStartTime(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\)/, '').trim().split(/\s+/)[19]);
}

function mustRead(pidFile: string): PidRecord {
  const r = readPidFile(pidFile);
  assert.ok(r.ok, 'pid file is readable');
  return r.record;
}

/**
 * Runs orphan-parent.js, which supervises `script` with a pid file, and SIGKILLs that parent once
 * `ready(line)` holds for a line the supervised child printed. Returns the surviving child's pid.
 */
async function orphan(pidFile: string, script: string, args: string[], ready: (line: string) => boolean): Promise<{ pid: number; lines: string[] }> {
  const parent: ChildProcess = spawn(process.execPath, [fixture('orphan-parent.js'), SUPERVISOR_LIB, pidFile, fixture(script), ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  let pid = 0;
  const rl = createInterface({ input: parent.stdout! });
  for await (const raw of rl) {
    const msg = JSON.parse(raw) as { pid: number; line: string };
    pid = msg.pid;
    lines.push(msg.line);
    if (ready(msg.line)) break;
  }
  rl.close();
  assert.ok(pid > 0, 'the parent reported its child');
  const exited = once(parent, 'exit');
  parent.kill('SIGKILL');
  await exited;
  assertGone(parent.pid!);
  assert.equal(isGone(pid), false, 'the child outlives its SIGKILLed parent');
  return { pid, lines };
}

test('the pid file records pid, start time and the owner marker the child carries, and goes away after a clean stop', async (t) => {
  const tmp = tempDir();
  t.after(tmp.remove);
  const pidFile = path.join(tmp.dir, 'run', 'runtime.pid');
  const child = await startFixture(t, 'stubborn.js', ['SIGHUP'], { pidFile });
  const rec = mustRead(pidFile);
  assert.equal(rec.pid, child.pid);
  assert.equal(rec.pgid, child.pid, 'the child leads its own process group');
  assert.equal(rec.startTime, procStartTime(child.pid));
  assert.match(readFileSync(`/proc/${child.pid}/environ`, 'utf8'), new RegExp(`(^|\0)${OWNER_MARKER_VAR}=${rec.marker}\0`));
  await child.stop();
  assert.equal(existsSync(pidFile), false);
  assertGone(child.pid);
});

test('a child orphaned by a SIGKILLed parent is found and ended; the escalation reaches SIGTERM when SIGINT is ignored', async (t) => {
  const tmp = tempDir();
  t.after(tmp.remove);
  const pidFile = path.join(tmp.dir, 'runtime.pid');
  const { pid } = await orphan(pidFile, 'stubborn.js', ['SIGINT'], (l) => l === 'ready');
  t.after(() => {
    if (!isGone(pid)) process.kill(-pid, 'SIGKILL');
  });

  const refused = await reapOrphan(pidFile, { expectCommand: '/opt/ax650/main_api_axcl_aarch64' });
  assert.deepEqual({ ...refused, reason: '' }, { found: true, pid, killed: false, reason: '' });
  assert.match(refused.reason, /not \/opt\/ax650\/main_api_axcl_aarch64/);
  assert.equal(isGone(pid), false, 'a command mismatch is left alone');

  const r = await reapOrphan(pidFile, { expectCommand: process.execPath, timings: { sigintMs: 300 } });
  assert.deepEqual({ ...r, reason: '' }, { found: true, pid, killed: true, reason: '' });
  assert.match(r.reason, /ended orphaned orphan \(pid \d+\) with SIGTERM/);
  assertGone(pid);
  assert.equal(existsSync(pidFile), false);
  assert.equal((await reapOrphan(pidFile)).reason, 'no pid file');
});

test('a stdbuf-wrapped orphan is recognised after stdbuf has exec\'d into the program', async (t) => {
  const tmp = tempDir();
  t.after(tmp.remove);
  const pidFile = path.join(tmp.dir, 'runtime.pid');
  const child = await startFixture(t, 'stubborn.js', [], { pidFile, lineBuffered: true });
  await waitForLine(child, (l) => l === 'ready');
  mustRead(pidFile);
  assert.deepEqual(readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').split('\0').slice(0, 2), [process.execPath, fixture('stubborn.js')], 'stdbuf has exec\'d');
  const r = await reapOrphan(pidFile, { expectCommand: process.execPath });
  assert.equal(r.killed, true, r.reason);
  assert.deepEqual(await exitOf(child), { code: null, signal: 'SIGINT', stopped: false });
  assertGone(child.pid);
});

test('helpers left in the group of an orphan whose leader died are ended', async (t) => {
  const tmp = tempDir();
  t.after(tmp.remove);
  const pidFile = path.join(tmp.dir, 'runtime.pid');
  const { pid, lines } = await orphan(pidFile, 'forker.js', ['stubborn-grandchild'], (l) => l === 'grandchild ready');
  const gc = Number(lines.find((l) => l.startsWith('grandchild '))?.split(' ')[1]);
  assert.ok(Number.isInteger(gc) && gc > 0, `grandchild pid in ${JSON.stringify(lines)}`);
  t.after(() => {
    if (!isGone(gc)) process.kill(gc, 'SIGKILL');
  });
  process.kill(pid, 'SIGKILL');
  assert.ok(await waitFor(() => isGone(pid), 2000), 'the leader died');
  const r = await reapOrphan(pidFile, { timings: { sigintMs: 200, sigtermMs: 200 } });
  assert.equal(r.found, true, r.reason);
  assert.equal(r.killed, true, r.reason);
  assert.match(r.reason, /ended 1 process\(es\) left by orphan/);
  assertGone(pid, gc);
});

test('a pid file naming a stranger (right pid, start time and command line, no owner marker) kills nothing', async (t) => {
  const tmp = tempDir();
  t.after(tmp.remove);
  const pidFile = path.join(tmp.dir, 'runtime.pid');
  const bystander = spawn(process.execPath, [fixture('stubborn.js')], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(async (t) => {
    if (bystander.exitCode === null && bystander.signalCode === null) {
      const gone = once(bystander, 'exit');
      bystander.kill('SIGKILL');
      await gone;
    }
  });
  await once(createInterface({ input: bystander.stdout! }), 'line');
  const pid = bystander.pid!;
  const real: PidRecord = {
    name: 'runtime', pid, pgid: pid, startTime: procStartTime(pid),
    cmdline: [process.execPath, fixture('stubborn.js')], writtenAt: new Date().toISOString(), marker: randomUUID(),
  };
  const cases: Array<[Partial<PidRecord>, RegExp]> = [
    [{}, /runs but is not ours/],
    [{ startTime: null }, /runs but is not ours/],
    [{ pid: process.pid, pgid: process.pid, startTime: 1 }, /this process/],
  ];
  for (const [change, why] of cases) {
    writeFileSync(pidFile, JSON.stringify({ ...real, ...change }));
    const r = await reapOrphan(pidFile, { timings: { sigintMs: 100, sigtermMs: 100, sigkillMs: 100 } });
    assert.equal(r.killed, false);
    assert.equal(r.found, false);
    assert.match(r.reason, why);
  }
  assert.equal(isGone(pid), false, 'the bystander is untouched');
  assert.equal(isGone(process.pid), false);

  const gone = once(bystander, 'exit');
  bystander.kill('SIGKILL');
  await gone;
  writeFileSync(pidFile, JSON.stringify(real));
  const r = await reapOrphan(pidFile);
  assert.deepEqual({ ...r, reason: '' }, { found: false, pid, killed: false, reason: '' });
  assert.equal(existsSync(pidFile), false, 'a stale pid file is removed');
  assertGone(pid);
});

test('an unreadable pid file is reported and removed', async (t) => {
  const tmp = tempDir();
  t.after(tmp.remove);
  const pidFile = path.join(tmp.dir, 'runtime.pid');
  for (const [content, reason] of [['not json', 'pid file is not JSON'], ['{"pid": 1}', 'pid file has unexpected content']] as const) {
    writeFileSync(pidFile, content);
    assert.deepEqual(await reapOrphan(pidFile), { found: false, killed: false, reason });
    assert.equal(existsSync(pidFile), false);
  }
});
