/**
 * Issue 3 acceptance: Node-RED killed with SIGKILL mid-generation, then started again. The runtime
 * and the tokenizer run in their own process groups, so they outlive the killed parent; the next
 * Runtime with the same state folder and ports finds them through the pid files, ends them, and
 * serves jobs with exactly one runtime process.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { after, test } from 'node:test';
import { createSimModelDir } from '../../simulator/model-dir';
import { assertAllGone, freePort, isAlive, processesIn, startSimRuntime, stopAll } from './helpers';

after(stopAll);

interface HostEvent {
  event: string;
  runtimePid?: number;
  tokenizerPid?: number;
  message?: string;
}

test('a runtime orphaned by a SIGKILLed host is found through the pid file and ended; exactly one runtime runs', async () => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'ax650-orphan-'));
  await createSimModelDir(path.join(root, 'model'), { axmodelNum: 4 });
  const runtimePort = await freePort();
  let tokenizerPort = await freePort();
  while (tokenizerPort === runtimePort) tokenizerPort = await freePort();
  const reuse = { root, runtimePort, tokenizerPort };

  const host = spawn(process.execPath, [path.join(__dirname, 'orphan-host.js'), JSON.stringify(reuse)], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const hostPid = host.pid!;
    const hostExit = new Promise<NodeJS.Signals | null>((resolve) => host.once('exit', (_c, signal) => resolve(signal)));
    const events = createInterface({ input: host.stdout! });
    const midGeneration = await new Promise<HostEvent>((resolve, reject) => {
      events.on('line', (line) => {
        const e = JSON.parse(line) as HostEvent;
        if (e.event === 'delta') resolve(e);
        if (e.event === 'error') reject(new Error(`host: ${e.message}`));
      });
      void hostExit.then(() => reject(new Error('the host exited before generating')));
    });
    const oldRuntime = midGeneration.runtimePid!;
    const oldTokenizer = midGeneration.tokenizerPid!;
    host.kill('SIGKILL');
    assert.equal(await hostExit, 'SIGKILL');
    assert.equal(isAlive(hostPid), false);
    // Both children lead their own process groups, so the kill does not reach them. Each one dies
    // later only if it writes to its broken stdout pipe: the simulator on its next token (as the
    // binary would by SIGPIPE), the Python tokenizer seldom (it ignores SIGPIPE). Whatever survives
    // holds a port the next start needs.
    const survivors = await processesIn(root);
    assert.ok(survivors.length > 0 && survivors.every((p) => p === oldRuntime || p === oldTokenizer), `orphans: ${JSON.stringify(survivors)}`);
    const pidFile = await readFile(path.join(root, 'state', `ax650-tokenizer-${tokenizerPort}.pid`), 'utf8');
    assert.match(pidFile, new RegExp(`"pid": ${oldTokenizer}`));

    const sim = await startSimRuntime({ reuse, vendorTokenizer: true, simEnv: { AX650_SIM_REPLY_TOKENS: '6' } });
    assert.equal(isAlive(oldRuntime), false, 'the orphaned runtime is gone');
    assert.equal(isAlive(oldTokenizer), false, 'the orphaned tokenizer is gone');
    const runtimes = [];
    for (const pid of await processesIn(root)) {
      const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
      if (cmdline.includes('simulator/cli.js')) runtimes.push(pid);
    }
    assert.deepEqual(runtimes, [sim.rt.info().pid], 'exactly one runtime runs');
    const r = await sim.rt.submit({ prompt: 'after the orphan was reaped' }).result;
    assert.equal(r.stats.doneReason, 'stop');
    await sim.stop();
    await assertAllGone(root, [hostPid, oldRuntime, oldTokenizer]);
  } finally {
    // After a failed assertion too, nothing the test started may outlive it (the assertion above already failed the test).
    host.kill('SIGKILL');
    await assertAllGone(root, []).catch(() => undefined);
    await rm(root, { recursive: true, force: true });
  }
});
