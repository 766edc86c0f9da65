/**
 * Issue 18 items 4 and 5 in whole Node-RED processes (both legs). Node-RED is killed with SIGKILL,
 * the runtime it started (the simulator run by node under stdbuf: an ELF) survives in its own group,
 * and the next Node-RED finds it by its owner marker, ends it and serves with exactly one runtime:
 * on the runtime kind under test (the 2025 runtime, then axllm serve). The 2025 runtime only: a
 * burst of foreign `/get_uid` requests at the built-in tokenizer's port cannot take the runtime's
 * session (the next prompt is answered, no restart; axllm has no tokenizer service). The same kill -9 and
 * reap in hardware mode for the two other ways a runtime command reaches the program: the model
 * folder's `#!` wrapper that execs it, and a run script that starts it as its child and waits (the 2025
 * runtime; axllm's `#!` wrapper on a port of its own: killed-node-red-axllm-flow.test.ts).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { simulatorTestEnv } from '../../simulator/env';
import { createSimModelDir, SIM_BINARY_NAME } from '../../simulator/model-dir';
import { createKindModelDir, kindOfProcess, onlyFor, TEST_KIND } from '../helpers/kind';
import { freeLoopbackPort, killNodeRed, startNodeRed } from '../helpers/node-red-process';
import { nodeRedPackage } from '../helpers/nr';
import { isAlive, processesIn } from '../runtime/helpers';
import { ask, askFlow } from './ask-flow';
import { writeRunScript } from './launchers';
import { isGone } from '../supervisor/helpers';

test('after kill -9 of Node-RED the orphaned runtime is reaped by the next Node-RED, which serves with exactly one runtime', async () => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'ax650-nrkill-'));
  const modelDir = path.join(root, 'model');
  const userDir = path.join(root, 'user');
  // A folder of the kind under test: runtime 'auto' starts the 2025 runtime or axllm serve from it.
  await createKindModelDir(modelDir, { axmodelNum: 4 });
  const ports = { runtime: await freeLoopbackPort(), tokenizer: await freeLoopbackPort() };
  // Asking inside a conversation leaves the 2025 runtime idle after the reply (see askFlow): it is not writing when Node-RED dies.
  const flows = askFlow(modelDir, ports, { conversation: 'robot' });
  let second: Awaited<ReturnType<typeof startNodeRed>> | undefined;
  try {
    const first = await startNodeRed({ nodeRed: nodeRedPackage, userDir, flows });
    await ask(first.url, 'Hello?');
    const orphans = await processesIn(modelDir);
    assert.equal(orphans.length, 1, `one runtime: ${orphans.join(', ')}`);
    assert.equal(await kindOfProcess(orphans[0]!), TEST_KIND, 'the runtime of the kind under test');
    await killNodeRed(first);
    assert.equal(isAlive(orphans[0]!), true, 'the runtime outlived Node-RED');

    second = await startNodeRed({ nodeRed: nodeRedPackage, userDir, flows });
    await ask(second.url, 'Are you there?');
    assert.equal(isGone(orphans[0]!), true, 'the orphan was ended (at most a zombie left for init)');
    const now = await processesIn(modelDir);
    assert.equal(now.length, 1, `exactly one runtime (${now.join(', ')})`);
  } finally {
    await second?.stop();
  }
  assert.deepEqual(await processesIn(modelDir), [], 'nothing left after the second Node-RED stopped');
  await rm(root, { recursive: true, force: true });
});

// The built-in tokenizer service exists for the 2025 runtime only: axllm has its tokenizer inside.
test('foreign /get_uid bursts at the built-in tokenizer cannot evict the 2025 runtime\'s session', onlyFor('main-api'), async () => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'ax650-uidburst-'));
  const modelDir = path.join(root, 'model');
  await createSimModelDir(modelDir, { axmodelNum: 4 });
  const ports = { runtime: await freeLoopbackPort(), tokenizer: await freeLoopbackPort() };
  let nr: Awaited<ReturnType<typeof startNodeRed>> | undefined;
  try {
    nr = await startNodeRed({ nodeRed: nodeRedPackage, userDir: path.join(root, 'user'), flows: askFlow(modelDir, ports, { conversation: 'robot' }) });
    await ask(nr.url, 'Hello?');
    for (let burst = 0; burst < 5; burst++) {
      const codes = await Promise.all(Array.from({ length: 70 }, () => fetch(`http://127.0.0.1:${ports.tokenizer}/get_uid`).then((r) => r.status)));
      assert.deepEqual([...new Set(codes)], [403], 'every foreign /get_uid is refused');
    }
    await ask(nr.url, 'Still there?');
    assert.doesNotMatch(nr.output(), /crashed|restarting/i, 'no restart was needed');
  } finally {
    await nr?.stop();
  }
  assert.deepEqual(await processesIn(modelDir), [], 'nothing left after Node-RED stopped');
  await rm(root, { recursive: true, force: true });
});

/** The 2025 runtime in hardware mode always listens on 8000 (fixed in the vendor binary). */
const G1_PORT = 8000;

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen({ port, host: '0.0.0.0', exclusive: true }, () => probe.close(() => resolve(true)));
  });
}

for (const variant of ['wrapper', 'script'] as const) {
  // A run script belongs to the 2025 folders (axllm folders have none); the 2025 runtime in hardware mode needs port 8000.
  // These start the 2025 runtime whatever the kind under test, so they run in the main-api pass only.
  test(`hardware mode, the runtime started by ${variant === 'wrapper' ? 'the folder\'s #! wrapper' : 'a run script'}: after kill -9 of Node-RED the orphan is reaped by the next one`, onlyFor('main-api'), async (t) => {
    if (!(await portFree(G1_PORT))) {
      t.skip(`port ${G1_PORT} is in use on this machine: the 2025 runtime in hardware mode always listens there`);
      return;
    }
    const root = await mkdtemp(path.join(os.tmpdir(), `ax650-nrkill-${variant}-`));
    const modelDir = path.join(root, 'model');
    const userDir = path.join(root, 'user');
    await createSimModelDir(modelDir, { axmodelNum: 4 });
    // The folder's main_api_axcl_aarch64 is a `#!` wrapper that execs the simulator.
    const binary = variant === 'script' ? writeRunScript(modelDir) : path.join(modelDir, SIM_BINARY_NAME);
    const tokenizer = await freeLoopbackPort();
    const flows = askFlow(modelDir, { runtime: G1_PORT, tokenizer }, { conversation: 'robot' }).map((n) => (n['id'] === 'rt' ? { ...n, mode: 'hardware', runtime: 'main-api', binary, devices: '0', simEnv: undefined } : n));
    // The simulator stands in for the vendor binary: its knobs come from the environment it inherits.
    const env = { ...simulatorTestEnv, AX650_SIM_REPLY_TOKENS: '8' };
    const processes = variant === 'script' ? 2 : 1;
    let second: Awaited<ReturnType<typeof startNodeRed>> | undefined;
    try {
      const first = await startNodeRed({ nodeRed: nodeRedPackage, userDir, flows, env });
      await ask(first.url, 'Hello?').catch((e: unknown) => assert.fail(`${String(e)}\n${first.output()}`));
      const orphans = await processesIn(modelDir);
      assert.equal(orphans.length, processes, `the runtime's processes: ${orphans.join(', ')}`);
      await killNodeRed(first);
      for (const pid of orphans) assert.equal(isAlive(pid), true, `pid ${pid} outlived Node-RED`);

      second = await startNodeRed({ nodeRed: nodeRedPackage, userDir, flows, env });
      const next = second;
      await ask(next.url, 'Are you there?').catch((e: unknown) => assert.fail(`${String(e)}\n${next.output()}`));
      for (const pid of orphans) assert.equal(isGone(pid), true, `the orphan ${pid} was ended (at most a zombie left for init)`);
      const now = await processesIn(modelDir);
      assert.equal(now.length, processes, `exactly one runtime (${now.join(', ')})`);
    } finally {
      await second?.stop();
    }
    assert.deepEqual(await processesIn(modelDir), [], 'nothing left after the second Node-RED stopped');
    await rm(root, { recursive: true, force: true });
  });
}
