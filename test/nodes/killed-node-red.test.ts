/**
 * Node-RED killed with SIGKILL mid-generation, then started again (issue 3): the runtime and the
 * vendor tokenizer it had started outlive it in their own process groups; the next start finds them
 * through the pid files, ends them, and exactly one runtime and one tokenizer run afterwards.
 * (The vendor-script tokenizer mode is used because it is a second child process; the built-in
 * tokenizer dies with Node-RED.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, readdir, readFile, readlink, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createKindModelDir, promptsSent, TEST_KIND } from '../helpers/kind';
import { simulatorTestEnv } from '../../simulator/env';
import { freeLoopbackPort, startNodeRed } from '../helpers/node-red-process';
import { nodeRedPackage } from '../helpers/nr';
import { VENDOR_TOKENIZER_FIXTURE } from '../runtime/helpers';
import { completeJsonLines } from '../helpers/json-lines';

async function processesIn(dir: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cwd = await readlink(`/proc/${entry}/cwd`);
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      if (cwd.startsWith(dir) && stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z') pids.push(Number(entry));
    } catch {
      // gone while we looked
    }
  }
  return pids.sort((a, b) => a - b);
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('Node-RED SIGKILLed mid-generation, started again: orphans found by pid file and ended; one runtime', async () => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'ax650-killed-'));
  const modelDir = path.join(root, 'model');
  const userDir = path.join(root, 'user');
  const simLog = path.join(root, 'sim.log');
  await createKindModelDir(modelDir, { axmodelNum: 4 });
  // axllm has its tokenizer inside: one child. The 2025 runtime with the vendor tokenizer script: two.
  const children = TEST_KIND === 'axllm' ? 1 : 2;
  if (TEST_KIND !== 'axllm') await copyFile(VENDOR_TOKENIZER_FIXTURE, path.join(modelDir, 'qwen3_tokenizer_uid.py'));
  const ports = { runtime: await freeLoopbackPort(), tokenizer: await freeLoopbackPort() };
  const flows = [
    { id: 't', type: 'tab', label: 'ask' },
    {
      id: 'rt', type: 'ax650-runtime', mode: 'simulator', modelDir, runtimePort: ports.runtime, tokenizerPort: ports.tokenizer, tokenizerMode: 'vendor', startOn: 'deploy',
      simEnv: JSON.stringify({ ...simulatorTestEnv, AX650_SIM_TOKENS_PER_SEC: '10', AX650_SIM_REPLY_TOKENS: '300', AX650_SIM_LOG: simLog }),
    },
    { id: 'in', z: 't', type: 'http in', url: '/ask', method: 'post', x: 100, y: 100, wires: [['gen']] },
    { id: 'gen', z: 't', type: 'ax650-generate', runtime: 'rt', x: 300, y: 100, wires: [[], ['out']] },
    { id: 'out', z: 't', type: 'http response', x: 500, y: 100, wires: [] },
  ];
  const generates = async () => promptsSent(completeJsonLines(await readFile(simLog, 'utf8').catch(() => '')) as Array<Record<string, unknown>>).length;
  let second: Awaited<ReturnType<typeof startNodeRed>> | undefined;
  try {
    const first = await startNodeRed({ nodeRed: nodeRedPackage, userDir, flows });
    void fetch(`${first.url}/ask`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'Tell me a long story.' }).catch(() => null);
    await until(async () => (await generates()) >= 1, 'the generation to start');
    await until(async () => (await processesIn(modelDir)).length >= children, 'runtime and tokenizer');
    const orphans = await processesIn(modelDir);
    process.kill(first.pid, 'SIGKILL');
    await until(async () => !alive(first.pid), 'Node-RED to die');
    const survivors = (await processesIn(modelDir)).filter((p) => orphans.includes(p));
    assert.ok(survivors.length >= 1, 'at least one child outlived Node-RED (its own process group)');

    second = await startNodeRed({ nodeRed: nodeRedPackage, userDir, flows });
    const res = await fetch(`${second.url}/ask`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'Are you there?', signal: AbortSignal.timeout(60_000) });
    assert.equal(res.status, 200, await res.clone().text());
    assert.ok((await res.text()).length > 0);
    for (const pid of orphans) assert.equal(alive(pid), false, `orphan ${pid} was ended`);
    const now = await processesIn(modelDir);
    assert.equal(now.length, children, `exactly one runtime (and one tokenizer) run (${now.join(', ')})`);
    assert.equal(now.filter((p) => orphans.includes(p)).length, 0);
  } finally {
    await second?.stop();
  }
  assert.deepEqual(await processesIn(modelDir), [], 'nothing left after the second Node-RED stopped');
  await rm(root, { recursive: true, force: true });
});
