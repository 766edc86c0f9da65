/**
 * Issue 18 items 4 and 5 in whole Node-RED processes (both legs), with the built-in tokenizer: a
 * burst of foreign `/get_uid` requests at the tokenizer port cannot take the runtime's session (the
 * next prompt is answered, no restart); then Node-RED is killed with SIGKILL, the runtime it started
 * (the simulator run by node under stdbuf: an ELF) survives in its own group, and the next Node-RED
 * finds it by its owner marker, ends it and serves with exactly one runtime.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { simulatorTestEnv } from '../../simulator/env';
import { createSimModelDir } from '../../simulator/model-dir';
import { freeLoopbackPort, startNodeRed } from '../helpers/node-red-process';
import { nodeRedPackage } from '../helpers/nr';
import { isAlive, processesIn } from '../runtime/helpers';

async function ask(url: string, prompt: string): Promise<string> {
  const res = await fetch(`${url}/ask`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: prompt, signal: AbortSignal.timeout(60_000) });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return text;
}

test('foreign uid bursts cannot evict the runtime\'s session; after kill -9 of Node-RED the orphan is reaped by the next one', async () => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'ax650-nrkill-'));
  const modelDir = path.join(root, 'model');
  const userDir = path.join(root, 'user');
  await createSimModelDir(modelDir, { axmodelNum: 4 });
  const ports = { runtime: await freeLoopbackPort(), tokenizer: await freeLoopbackPort() };
  const flows = [
    { id: 't', type: 'tab', label: 'ask' },
    { id: 'rt', type: 'ax650-runtime', mode: 'simulator', modelDir, runtimePort: ports.runtime, tokenizerPort: ports.tokenizer, startOn: 'deploy', simEnv: JSON.stringify({ ...simulatorTestEnv, AX650_SIM_REPLY_TOKENS: '8' }) },
    { id: 'in', z: 't', type: 'http in', url: '/ask', method: 'post', x: 100, y: 100, wires: [['gen']] },
    { id: 'gen', z: 't', type: 'ax650-generate', runtime: 'rt', x: 300, y: 100, wires: [[], ['out']] },
    { id: 'out', z: 't', type: 'http response', x: 500, y: 100, wires: [] },
  ];
  let second: Awaited<ReturnType<typeof startNodeRed>> | undefined;
  try {
    const first = await startNodeRed({ nodeRed: nodeRedPackage, userDir, flows });
    assert.ok((await ask(first.url, 'Hello?')).length > 0);
    for (let burst = 0; burst < 5; burst++) {
      const codes = await Promise.all(Array.from({ length: 70 }, () => fetch(`http://127.0.0.1:${ports.tokenizer}/get_uid`).then((r) => r.status)));
      assert.deepEqual([...new Set(codes)], [403], 'every foreign /get_uid is refused');
    }
    assert.ok((await ask(first.url, 'Still there?')).length > 0, 'the runtime kept its session');
    assert.doesNotMatch(first.output(), /crashed|restarting/i, 'no restart was needed');

    const orphans = await processesIn(modelDir);
    assert.equal(orphans.length, 1, `one runtime: ${orphans.join(', ')}`);
    process.kill(first.pid, 'SIGKILL');
    const deadline = Date.now() + 10_000;
    while (isAlive(first.pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    assert.equal(isAlive(orphans[0]!), true, 'the runtime outlived Node-RED');

    second = await startNodeRed({ nodeRed: nodeRedPackage, userDir, flows });
    assert.ok((await ask(second.url, 'Are you there?')).length > 0);
    assert.equal(isAlive(orphans[0]!), false, 'the orphan was ended');
    const now = await processesIn(modelDir);
    assert.equal(now.length, 1, `exactly one runtime (${now.join(', ')})`);
  } finally {
    await second?.stop();
  }
  assert.deepEqual(await processesIn(modelDir), [], 'nothing left after the second Node-RED stopped');
  await rm(root, { recursive: true, force: true });
});
