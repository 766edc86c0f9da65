/**
 * A whole Node-RED process (test/helpers/node-red-process.ts: the package linked into a user
 * directory, loaded from package.json like on a Pi) with a runtime node on the simulator at the
 * NPU's pace, an `http in` → ax650-generate → `http response` flow and a join on the stream.
 * Measures, once the runtime node logs "ready": HTTP requests the runtime receives while nothing is
 * asked of it (the simulator's AX650_SIM_LOG), and the Node-RED process's own CPU (utime+stime of
 * its pid; the simulator is a separate process and not counted) idle and while streaming.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { createSimModelDir } from '../../simulator/model-dir';
import { simulatorTestEnv } from '../../simulator/env';
import { freeLoopbackPort, startNodeRed, type NodeRedProcess } from '../../test/helpers/node-red-process';
import { isAlive } from '../../test/helpers/sim';
import { cpuTicks, descendants, TICKS_PER_SECOND } from '../lib/proc';
import type { BenchRow } from '../lib/row';
import { prompts, REALISTIC_SIM } from '../lib/sim-env';
import { round } from '../lib/stats';

const SETTLE_MS = 5_000;
const IDLE_WINDOW_MS = 30_000;
const GENERATIONS = 2;
export const READY_LINE = 'NPU runtime ready after';

async function requestLines(logFile: string): Promise<number> {
  const text = await readFile(logFile, 'utf8').catch(() => '');
  return text.split('\n').filter((l) => l.includes('"event":"request"')).length;
}

export async function waitForOutput(nr: NodeRedProcess, needle: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!nr.output().includes(needle)) {
    if (Date.now() > deadline) throw new Error(`Node-RED did not log "${needle}" within ${timeoutMs} ms:\n${nr.output().slice(-2000)}`);
    await sleep(50);
  }
}

/** POST /bench → ax650-generate (+ a join on the stream) → http response, on a simulator runtime node with these settings. */
export async function benchFlow(runtime: Record<string, unknown>): Promise<Array<Record<string, unknown>>> {
  return [
    { id: 'tab', type: 'tab', label: 'bench' },
    { id: 'rt', type: 'ax650-runtime', mode: 'simulator', tokenizerPort: await freeLoopbackPort(), runtimePort: await freeLoopbackPort(), startOn: 'deploy', ...runtime },
    { id: 'in', z: 'tab', type: 'http in', url: '/bench', method: 'post', wires: [['gen']] },
    { id: 'gen', z: 'tab', type: 'ax650-generate', runtime: 'rt', wires: [['join'], ['out']] },
    { id: 'join', z: 'tab', type: 'join', mode: 'auto', wires: [[]] },
    { id: 'out', z: 'tab', type: 'http response', wires: [] },
  ];
}

export function cpuPercent(pid: number, ticks0: number, t0: number): number {
  const seconds = (performance.now() - t0) / 1000;
  return ((cpuTicks(pid) - ticks0) / TICKS_PER_SECOND / seconds) * 100;
}

export async function nodeRedProcessRows(): Promise<BenchRow[]> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ax650-bench-nr-'));
  const modelDir = path.join(dir, 'model');
  await createSimModelDir(modelDir);
  const simLog = path.join(dir, 'sim.jsonl');
  const simEnv = { ...simulatorTestEnv, ...REALISTIC_SIM, AX650_SIM_REPLY_TOKENS: '30', AX650_SIM_LOG: simLog };
  const flows = await benchFlow({ modelDir, simEnv: JSON.stringify(simEnv) });
  const nr = await startNodeRed({ flows, settings: { logging: { console: { level: 'info' } } } });
  let family: number[] = [];
  try {
    await waitForOutput(nr, READY_LINE, 60_000);
    family = descendants(nr.pid);
    const requestsAtReady = await requestLines(simLog);
    await sleep(SETTLE_MS);
    const idleT0 = performance.now();
    const idleTicks = cpuTicks(nr.pid);
    await sleep(IDLE_WINDOW_MS);
    const idleCpu = cpuPercent(nr.pid, idleTicks, idleT0);
    // A second window right after: V8 collects the tokenizer's load-time garbage (a large heap) in the
    // first half minute after a load; this window shows the steady state.
    const steadyT0 = performance.now();
    const steadyTicks = cpuTicks(nr.pid);
    await sleep(IDLE_WINDOW_MS);
    const steadyCpu = cpuPercent(nr.pid, steadyTicks, steadyT0);
    const idleRequests = (await requestLines(simLog)) - requestsAtReady;

    const requestsBeforeGen = await requestLines(simLog);
    const genT0 = performance.now();
    const genTicks = cpuTicks(nr.pid);
    let chars = 0;
    for (const prompt of prompts(GENERATIONS, 'CPU')) {
      const res = await fetch(`${nr.url}/bench`, { method: 'POST', body: prompt, headers: { 'Content-Type': 'text/plain' } });
      const text = await res.text();
      if (res.status !== 200 || text === '') throw new Error(`the flow answered ${res.status}: ${text}`);
      chars += text.length;
    }
    const genSeconds = (performance.now() - genT0) / 1000;
    const genCpu = cpuPercent(nr.pid, genTicks, genT0);
    const genRequests = (await requestLines(simLog)) - requestsBeforeGen;
    const ready = `Node-RED ${nr.output().match(/Node-RED version: (v\S+)/)?.[1] ?? '?'} on Node ${process.version}, sim 4.5 tok/s with realistic prefill`;
    return [
      {
        name: 'idle: HTTP requests to the runtime while idle',
        value: idleRequests,
        unit: `in ${round((SETTLE_MS + 2 * IDLE_WINDOW_MS) / 1000, 0)} s`,
        target: '0',
        pass: idleRequests === 0,
        how: `${ready}; request lines in the simulator's AX650_SIM_LOG from the runtime node's "ready" log line to the end of the idle window`,
      },
      {
        name: 'idle: Node-RED process CPU, idle and ready',
        value: round(idleCpu, 2),
        unit: '% of a core',
        target: '≤ 1',
        pass: idleCpu <= 1,
        how: `${ready}; utime+stime of the Node-RED pid from /proc over ${IDLE_WINDOW_MS / 1000} s, starting ${SETTLE_MS / 1000} s after "ready"; built-in tokenizer in-process, simulator not counted`,
      },
      {
        name: 'idle: Node-RED process CPU, the next 30 s (steady state)',
        value: round(steadyCpu, 2),
        unit: '% of a core',
        target: '≤ 1',
        pass: steadyCpu <= 1,
        how: `${ready}; the same measure over the following ${IDLE_WINDOW_MS / 1000} s (${(SETTLE_MS + IDLE_WINDOW_MS) / 1000}–${(SETTLE_MS + 2 * IDLE_WINDOW_MS) / 1000} s after "ready"): what remains once V8 has collected the load-time garbage of the in-process tokenizer`,
      },
      {
        name: 'generation: Node-RED process CPU while streaming at 4.5 tok/s',
        value: round(genCpu, 2),
        unit: '% of a core',
        target: '≤ 3',
        pass: genCpu <= 3,
        how: `${ready}; ${GENERATIONS} prompts of 30 tokens back to back via http in → ax650-generate (+ join on output 1) → http response, ${round(genSeconds, 1)} s window, ${chars} characters returned, ${genRequests} HTTP requests to the runtime (${round(genRequests / genSeconds, 1)}/s, nearly all generate_provider polls); utime+stime of the Node-RED pid (its in-process tokenizer serves the runtime's decode calls, counted)`,
      },
    ];
  } finally {
    await nr.stop();
    await rm(dir, { recursive: true, force: true });
    const left = [nr.pid, ...family].filter(isAlive);
    if (left.length > 0) throw new Error(`processes still alive after Node-RED stopped: ${left.join(', ')}`);
  }
}
