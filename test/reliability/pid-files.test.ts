/**
 * Issue 18 items 3 and 4. A pid file on every start (200 starts of an ELF program under `stdbuf -oL`,
 * where /proc/<pid>/cmdline reads empty until the exec has happened, and 40 starts of each kind's
 * simulator, the program the issue saw without a pid file); after a SIGKILLed host
 * ("kill -9 of Node-RED") the orphaned runtime is found and ended whether the configured command is
 * the program itself (ELF), a `#!` wrapper that execs it, or a run script that runs it as a child;
 * and a stranger, even one matching the recorded pid, start time and command line, or living in the
 * process group of a dead leader, is never signalled.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, test } from 'node:test';
import { ManagedChild, OWNER_MARKER_VAR, provenProcesses, readPidFile, reapOrphan } from '../../lib/supervisor';
import { waitFor } from '../../lib/supervisor/terminate';
import { defaultConfig, QWEN3_4B_FLAGS } from '../../lib/runtime/config';
import { simulatorTestEnv } from '../../simulator/env';
import { createSimModelDir } from '../../simulator/model-dir';
import { simulatorCliPath, simulatorLauncher } from '../../simulator/provider';
import { createKindModelDir } from '../helpers/kind';
import { assertAllGone, freePort, isAlive, processesIn, startSimRuntime, stopAll } from '../runtime/helpers';
import { fixture, isGone } from '../supervisor/helpers';
import { LAUNCH_VARIANTS, launcherFor } from './launchers';

after(stopAll);

function startTime(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\)/, '').trim().split(/\s+/)[19]);
}

test('200 starts of an ELF program under stdbuf -oL leave 200 pid files, each proving its process', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ax650-pidfiles-'));
  try {
    let written = 0;
    for (let batch = 0; batch < 20; batch++) {
      await Promise.all(
        Array.from({ length: 10 }, async (_, i) => {
          const pidFile = path.join(dir, `runtime-${batch}-${i}.pid`);
          const child = await ManagedChild.start({ name: 'runtime', command: 'sleep', args: ['30'], cwd: dir, lineBuffered: true, pidFile });
          try {
            // Read at once: nothing in the file may depend on the exec having happened.
            const read = readPidFile(pidFile);
            assert.ok(read.ok, `start ${batch * 10 + i}: ${read.ok ? '' : read.reason}`);
            assert.equal(read.record.pid, child.pid);
            assert.equal(read.record.pgid, child.pid);
            assert.equal(child.pidFileProblem, undefined);
            // Once stdbuf has exec'd into sleep, the marker in its environment proves the process ours.
            assert.ok(await waitFor(() => provenProcesses(read.record).includes(child.pid), 2000), 'the owner marker survives the exec');
            written++;
          } finally {
            await child.stop({ sigintMs: 500 });
          }
        }),
      );
    }
    assert.equal(written, 200);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('40 starts of each kind\'s simulator (2025 runtime, axllm serve) under stdbuf -oL: a pid file proving the process every time, gone after the stop', async () => {
  // What the issue saw failing: the simulator, not `sleep`, started as the runtime is (ManagedChild, stdbuf, pid file).
  const root = await mkdtemp(path.join(os.tmpdir(), 'ax650-simstarts-'));
  try {
    for (const kind of ['main-api', 'axllm'] as const) {
      const modelDir = path.join(root, kind);
      await createKindModelDir(modelDir, { axmodelNum: 4, kind });
      let proven = 0;
      for (let batch = 0; batch < 10; batch++) {
        await Promise.all(
          Array.from({ length: 4 }, async (_, i) => {
            const start = `${kind} start ${batch * 4 + i}`;
            // A long load keeps the simulator running (and its port unused by others) until the stop.
            const cfg = defaultConfig({ kind, modelDir, simulator: true, runtimePort: await freePort(), flags: { ...QWEN3_4B_FLAGS, axmodel_num: '4' }, simulatorEnv: { ...simulatorTestEnv, AX650_SIM_LOAD_MS: '60000' } });
            const spec = simulatorLauncher(cfg, 'http://127.0.0.1:9/');
            const pidFile = path.join(root, `${kind}-${batch}-${i}.pid`);
            const child = await ManagedChild.start({ name: 'runtime', command: spec.command, args: spec.args, cwd: modelDir, env: spec.env, lineBuffered: cfg.lineBuffered, pidFile });
            try {
              const read = readPidFile(pidFile);
              assert.ok(read.ok, `${start}: ${read.ok ? '' : read.reason}`);
              assert.equal(read.record.pid, child.pid);
              assert.equal(child.pidFileProblem, undefined);
              const simulator = (): boolean => readFileSync(`/proc/${child.pid}/cmdline`, 'utf8').includes(simulatorCliPath());
              assert.ok(await waitFor(() => simulator() && provenProcesses(read.record).includes(child.pid), 5000), `${start}: the pid file proves the simulator after the exec`);
              proven++;
            } finally {
              await child.stop({ sigintMs: 500 });
            }
            assert.equal(isGone(child.pid), true, `${start}: the simulator was stopped`);
            assert.equal(existsSync(pidFile), false, `${start}: its pid file was removed`);
          }),
        );
      }
      assert.equal(proven, 40, kind);
      assert.deepEqual(await processesIn(modelDir), [], `no ${kind} simulator left`);
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

for (const variant of LAUNCH_VARIANTS) {
  test(`kill -9 of the host: the orphaned runtime (${variant}) is found by its marker and ended; the next start serves`, async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), `ax650-orphan-${variant}-`));
    await createSimModelDir(path.join(root, 'model'), { axmodelNum: 4 });
    const runtimePort = await freePort();
    let tokenizerPort = await freePort();
    while (tokenizerPort === runtimePort) tokenizerPort = await freePort();
    const reuse = { root, runtimePort, tokenizerPort };
    const host = spawn(process.execPath, [path.join(__dirname, 'orphan-host.js'), JSON.stringify({ ...reuse, variant })], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const [line] = (await once(createInterface({ input: host.stdout! }), 'line')) as [string];
      const ready = JSON.parse(line) as { event: string; runtimePid?: number; message?: string };
      assert.equal(ready.event, 'ready', ready.message);
      const exited = once(host, 'exit');
      host.kill('SIGKILL');
      await exited;
      // The built-in tokenizer died with the host; the runtime (and, for the run script, its program) lives on.
      const orphans = await processesIn(path.join(root, 'model'));
      assert.ok(orphans.includes(ready.runtimePid!), `the runtime outlived the host: ${JSON.stringify(orphans)}`);
      if (variant === 'script') assert.equal(orphans.length, 2, 'the run script and the program it started');
      const rec = readPidFile(path.join(root, 'state', `ax650-runtime-${runtimePort}.pid`));
      assert.ok(rec.ok);
      assert.deepEqual(provenProcesses(rec.record), [...orphans].sort((a, b) => a - b), 'every orphan carries the marker');

      const sim = await startSimRuntime({ reuse, launcher: launcherFor(variant, path.join(root, 'model')) });
      // An orphan's parent is gone, so an ended one may linger as a zombie until the init process reaps it.
      for (const pid of orphans) assert.equal(isGone(pid), true, `orphan ${pid} was ended`);
      const r = await sim.rt.submit({ prompt: 'after the orphan was reaped' }).result;
      assert.equal(r.stats.doneReason, 'stop');
      await sim.stop();
      await assertAllGone(root, [host.pid!, ...orphans]);
    } finally {
      host.kill('SIGKILL');
      await assertAllGone(root, []).catch(() => undefined);
      await rm(root, { recursive: true, force: true });
    }
  });
}

test('strangers are never signalled: matching pid, start time and argv; a dead leader\'s group taken over later', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ax650-stranger-'));
  // A stranger group: a leader and the helper it forked, started after the "runtime" the pid file names.
  const stranger = spawn(process.execPath, [fixture('forker.js')], { stdio: ['ignore', 'pipe', 'ignore'], detached: true });
  t.after(async () => {
    try {
      process.kill(-stranger.pid!, 'SIGKILL');
    } catch {
      // gone
    }
    await rm(dir, { recursive: true, force: true });
  });
  const lines = createInterface({ input: stranger.stdout! });
  let helper = 0;
  for await (const l of lines) {
    if (l.startsWith('grandchild ')) helper = Number(l.split(' ')[1]);
    if (helper > 0) break;
  }
  const pid = stranger.pid!;
  const pidFile = path.join(dir, 'ax650-runtime-8000.pid');
  const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0$/, '').split('\0');
  const forged = { name: 'runtime', pid, pgid: pid, startTime: startTime(pid), cmdline: argv, marker: randomUUID(), writtenAt: new Date().toISOString() };
  const cases = [
    forged,
    // The recorded leader is dead; its group id now belongs to a group started later.
    { ...forged, pid: 2 ** 22 - 7, startTime: startTime(pid) - 1000 },
  ];
  for (const rec of cases) {
    writeFileSync(pidFile, JSON.stringify(rec));
    const r = await reapOrphan(pidFile, { timings: { sigintMs: 100, sigtermMs: 100, sigkillMs: 100 } });
    assert.equal(r.found, false, r.reason);
    assert.equal(r.killed, false);
    assert.equal(isAlive(pid), true, 'the stranger leader lives');
    assert.equal(isAlive(helper), true, 'the member of its group lives');
  }
  assert.doesNotMatch(await readFile(`/proc/${pid}/environ`, 'utf8'), new RegExp(OWNER_MARKER_VAR));
});
