/**
 * Redeploys never leak processes (issue 3): a real Node-RED process, 20 full redeploys in a row
 * (some while the model is still loading, some while a prompt streams), then Node-RED stopped.
 * Every process whose command line points into this test's folder must be gone, and the runtime's
 * and tokenizer's ports must be free again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, readlink, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createKindModelDir, promptsSent } from '../helpers/kind';
import { simulatorTestEnv } from '../../simulator/env';
import { freeLoopbackPort, startNodeRed } from '../helpers/node-red-process';
import { nodeRedPackage } from '../helpers/nr';
import { completeJsonLines } from '../helpers/json-lines';

/** Pids of live processes working in `dir` (the runtime runs in the model folder) or naming it on their command line. */
async function processesMentioning(dir: string): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmd = await readFile(`/proc/${entry}/cmdline`, 'utf8');
      const cwd = await readlink(`/proc/${entry}/cwd`).catch(() => '');
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if ((cmd.includes(dir) || cwd.startsWith(dir)) && state !== 'Z') pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '0.0.0.0', () => srv.close(() => resolve(true)));
  });
}

function flows(modelDir: string, ports: { runtime: number; tokenizer: number }, round: number, simLog: string): unknown[] {
  return [
    { id: 't', type: 'tab', label: `round ${round}` },
    {
      id: 'rt', type: 'ax650-runtime', mode: 'simulator', modelDir, runtimePort: ports.runtime, tokenizerPort: ports.tokenizer, startOn: 'deploy',
      simEnv: JSON.stringify({ ...simulatorTestEnv, AX650_SIM_TOKENS_PER_SEC: '30', AX650_SIM_LOAD_MS: '400', AX650_SIM_REPLY_TOKENS: '200', AX650_SIM_LOG: simLog }),
    },
    { id: 'in', z: 't', type: 'http in', url: '/ask', method: 'post', x: 100, y: 100, wires: [['gen']] },
    { id: 'gen', z: 't', type: 'ax650-generate', runtime: 'rt', name: `gen ${round}`, x: 300, y: 100, wires: [[], ['out']] },
    { id: 'out', z: 't', type: 'http response', x: 500, y: 100, wires: [] },
  ];
}

test('20 redeploys, then Node-RED stopped: no process left, ports free', async () => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'ax650-redeploy-'));
  const modelDir = path.join(root, 'model');
  const simLog = path.join(root, 'sim.log');
  await createKindModelDir(modelDir, { axmodelNum: 4 });
  const ports = { runtime: await freeLoopbackPort(), tokenizer: await freeLoopbackPort() };
  // Node-RED itself runs in its user directory, outside the model folder this test watches.
  const userDir = await mkdtemp(path.join(os.tmpdir(), 'ax650-redeploy-user-'));
  const nr = await startNodeRed({ nodeRed: nodeRedPackage, userDir, flows: flows(modelDir, ports, 0, simLog) });
  const seen = new Set<number>();
  const started = (): number => nr.output().split('] Started flows').length - 1;
  const deploy = async (round: number) => {
    const before = started();
    const res = await fetch(`${nr.url}/flows`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'Node-RED-Deployment-Type': 'full' },
      body: JSON.stringify(flows(modelDir, ports, round, simLog)),
    });
    assert.equal(res.status, 204, await res.text());
    // Node-RED answers a deploy once the old flows have stopped and starts the new ones after it: an ask sent at
    // once can find no /ask route yet (404; seen in CI as "no generation within 60 s").
    await waitFor(async () => started() > before, 60_000);
  };
  try {
    for (let round = 1; round <= 20; round++) {
      for (const pid of await processesMentioning(modelDir)) seen.add(pid);
      if (round % 5 === 0) {
        // Let this round load and start a reply, so the redeploy stops a generation mid-stream.
        const generatesBefore = await generates(simLog);
        const asked: string[] = [];
        void fetch(`${nr.url}/ask`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'Tell me a long story.' }).then(
          (r) => asked.push(`HTTP ${r.status}`),
          (e: unknown) => asked.push(`fetch failed: ${String(e)}`),
        );
        await waitFor(async () => (await generates(simLog)) > generatesBefore, 60_000).catch((e: Error) => {
          throw new Error(`round ${round}: ${e.message}; the ask: ${asked.join(', ') || 'no answer yet'}; Node-RED said:\n${nr.output().slice(-6000)}`);
        });
        for (const pid of await processesMentioning(modelDir)) seen.add(pid);
      }
      await deploy(round);
    }
    for (const pid of await processesMentioning(modelDir)) seen.add(pid);
    assert.ok(seen.size > 0, 'the flows really started processes');
  } finally {
    await nr.stop();
  }
  const left = await processesMentioning(modelDir);
  assert.deepEqual(left, [], `processes left: ${left.join(', ')}`);
  for (const pid of seen) assert.throws(() => process.kill(pid, 0), `pid ${pid} gone`);
  assert.equal(await portFree(ports.runtime), true, 'runtime port free');
  assert.equal(await portFree(ports.tokenizer), true, 'tokenizer port free');
  await rm(root, { recursive: true, force: true });
  await rm(userDir, { recursive: true, force: true });
});

async function generates(simLog: string): Promise<number> {
  return promptsSent(completeJsonLines(await readFile(simLog, 'utf8').catch(() => '')) as Array<Record<string, unknown>>).length;
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}
