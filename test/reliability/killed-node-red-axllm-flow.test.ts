/**
 * Issue 18 item 4 on axllm, in whole Node-RED processes (both legs): hardware mode, runtime kind axllm,
 * the configured axllm binary a `#!` wrapper script that execs the program (the simulator's `serve`,
 * standing in for /usr/bin/axllm), on a port of its own. Node-RED is killed with SIGKILL while the runtime
 * is idle; the runtime survives in its own group with the wrapper's command line gone (exec'd away); the
 * next Node-RED with the same flow and state folder must recognise it as its own, end it and serve with
 * exactly one runtime on that port. The 2025 runtime's counterparts (the folder's wrapper, a run script)
 * are in killed-node-red-flow.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { checkPortFree } from '../../lib/device/preflight';
import { createAxllmSimBinary, createAxllmSimModelDir } from '../../simulator/axllm/model-dir';
import { simulatorTestEnv } from '../../simulator/env';
import { kindOfProcess, onlyFor } from '../helpers/kind';
import { freeLoopbackPort, killNodeRed, startNodeRed, type NodeRedProcess } from '../helpers/node-red-process';
import { nodeRedPackage } from '../helpers/nr';
import { isAlive, processesIn } from '../runtime/helpers';
import { isGone } from '../supervisor/helpers';
import { ask, askFlow } from './ask-flow';
import { cardViewEnv, cardViewNode } from './card-view';

test('hardware mode, axllm started by a #! wrapper on its own port: after kill -9 of Node-RED the orphan is reaped by the next one', onlyFor('axllm'), async (t) => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'ax650-nrkill-axllm-'));
  const view = cardViewNode(root);
  if ('skip' in view) {
    await rm(root, { recursive: true, force: true });
    t.skip(view.skip);
    return;
  }
  const modelDir = path.join(root, 'model');
  // A failed step must not leave its runtime running for the tests after this one.
  t.after(async () => {
    for (const pid of await processesIn(modelDir)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // ended meanwhile
      }
    }
    await rm(root, { recursive: true, force: true });
  });
  const userDir = path.join(root, 'user');
  await createAxllmSimModelDir(modelDir, { axmodelNum: 4 });
  // The user's axllm: a shell script that execs the program, so the runtime's command line after the exec is not the one spawned.
  const binary = await createAxllmSimBinary(path.join(root, 'bin'));
  const port = await freeLoopbackPort();
  const flows = askFlow(modelDir, { runtime: port, tokenizer: await freeLoopbackPort() }, { conversation: 'robot' })
    .map((n) => (n['id'] === 'rt' ? { ...n, mode: 'hardware', runtime: 'axllm', binary, devices: '0', simEnv: undefined } : n));
  // The simulator stands in for axllm: its knobs come from the environment it inherits.
  const env = { ...simulatorTestEnv, AX650_SIM_REPLY_TOKENS: '8', ...cardViewEnv() };
  const start = () => startNodeRed({ nodeRed: nodeRedPackage, nodeBin: view.node, userDir, flows, env });
  const answer = (nr: NodeRedProcess, prompt: string) => ask(nr.url, prompt).catch((e: unknown) => assert.fail(`${String(e)}\n${nr.output()}`));
  let second: NodeRedProcess | undefined;
  let runtimes: number[] = [];
  let orphan = 0;
  try {
    const first = await start();
    // Inside a conversation, so the runtime is idle (writing nothing into the dead pipe) when Node-RED dies.
    await answer(first, 'Hello?');
    assert.match(first.output(), /NPU runtime ready after \d+ ms$/m, 'hardware mode: the configured binary ran, not the simulator mode');
    const orphans = await processesIn(modelDir);
    assert.equal(orphans.length, 1, `one runtime: ${orphans.join(', ')}`);
    orphan = orphans[0]!;
    assert.equal(await kindOfProcess(orphan), 'axllm', 'the wrapper exec\'d axllm serve');
    await killNodeRed(first);
    assert.equal(isAlive(orphan), true, 'the runtime outlived Node-RED');
    assert.ok(await checkPortFree(port, 'PORT_IN_USE'), `the orphan still holds port ${port}`);

    second = await start();
    await answer(second, 'Are you there?');
    assert.equal(isGone(orphan), true, `the orphan ${orphan} was ended (at most a zombie left for init)`);
    runtimes = await processesIn(modelDir);
    assert.equal(runtimes.length, 1, `exactly one runtime (${runtimes.join(', ')})`);
    assert.notEqual(runtimes[0], orphan, 'a new runtime answered');
    assert.equal(await kindOfProcess(runtimes[0]!), 'axllm');
  } finally {
    await second?.stop();
  }
  for (const pid of [orphan, ...runtimes]) assert.equal(isGone(pid), true, `pid ${pid} is still running`);
  assert.deepEqual(await processesIn(modelDir), [], 'nothing left after the second Node-RED stopped');
  assert.equal(await checkPortFree(port, 'PORT_IN_USE'), null, `port ${port} is free again`);
});
