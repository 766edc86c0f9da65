/**
 * Issue 14's CPU row for both runtime kinds: the CPU of a whole Node-RED process (its pid's
 * utime+stime; the simulator is its own process and not counted) while an `http in` →
 * ax650-generate → `http response` flow streams replies at the NPU's 4.5 tokens/s, on the 2025
 * runtime (polled, with the built-in tokenizer in-process) and on `axllm serve` (one SSE stream).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import type { RuntimeKind } from '../../lib/client/runtime-client';
import { simulatorTestEnv } from '../../simulator/env';
import { createKindModelDir } from '../../test/helpers/kind';
import { startNodeRed } from '../../test/helpers/node-red-process';
import { isAlive } from '../../test/helpers/sim';
import { cpuTicks, descendants } from '../lib/proc';
import type { BenchRow } from '../lib/row';
import { prompts, REALISTIC_SIM } from '../lib/sim-env';
import { round } from '../lib/stats';
import { benchFlow, cpuPercent, READY_LINE, waitForOutput } from './node-red-process';

const GENERATIONS = 3;
const REPLY_TOKENS = 30;
/** The load's own garbage (the in-process tokenizer's) is collected within the first 30 s after ready (idle rows). */
const SETTLE_MS = 30_000;
const TARGET = 2;

async function streamingCpu(kind: RuntimeKind): Promise<BenchRow> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `ax650-bench-stream-${kind}-`));
  const modelDir = path.join(dir, 'model');
  await createKindModelDir(modelDir, { kind });
  const simEnv = { ...simulatorTestEnv, ...REALISTIC_SIM, AX650_SIM_REPLY_TOKENS: String(REPLY_TOKENS) };
  const flows = await benchFlow({ runtime: kind, modelDir, simEnv: JSON.stringify(simEnv) });
  const nr = await startNodeRed({ flows, settings: { logging: { console: { level: 'info' } } } });
  let family: number[] = [];
  try {
    await waitForOutput(nr, READY_LINE, 60_000);
    family = descendants(nr.pid);
    // Steady state, as a robot streams for months after one load: one warm-up reply (JIT, first-use loads), then past
    // the load's own garbage collection, as the idle rows' second window.
    const warm = await fetch(`${nr.url}/bench`, { method: 'POST', body: `Warm up ${kind}`, headers: { 'Content-Type': 'text/plain' } });
    await warm.text();
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const t0 = performance.now();
    const ticks0 = cpuTicks(nr.pid);
    for (const prompt of prompts(GENERATIONS, `Stream ${kind}`)) {
      const res = await fetch(`${nr.url}/bench`, { method: 'POST', body: prompt, headers: { 'Content-Type': 'text/plain' } });
      const text = await res.text();
      if (res.status !== 200 || text === '') throw new Error(`the flow answered ${res.status}: ${text}`);
    }
    const seconds = (performance.now() - t0) / 1000;
    const cpu = cpuPercent(nr.pid, ticks0, t0);
    const version = nr.output().match(/Node-RED version: (v\S+)/)?.[1] ?? '?';
    return {
      name: `streaming: Node-RED process CPU at 4.5 tok/s, ${kind === 'axllm' ? 'axllm serve' : '2025 main_api'} runtime`,
      value: round(cpu, 2),
      unit: '% of a core',
      target: `≤ ${TARGET}`,
      pass: cpu <= TARGET,
      how: `Node-RED ${version} on Node ${process.version}; ${GENERATIONS} prompts of ${REPLY_TOKENS} tokens back to back via http in → ax650-generate (+ join on output 1) → http response, simulator (${kind}) at 4.5 tok/s with realistic prefill, ${round(seconds, 1)} s window after one warm-up reply and ${SETTLE_MS / 1000} s more (steady state, past the load's garbage collection); utime+stime of the Node-RED pid from /proc${kind === 'axllm' ? '' : ' (its in-process tokenizer serves the runtime\'s decode calls, counted)'}`,
    };
  } finally {
    await nr.stop();
    await rm(dir, { recursive: true, force: true });
    const left = [nr.pid, ...family].filter(isAlive);
    if (left.length > 0) throw new Error(`processes still alive after Node-RED stopped: ${left.join(', ')}`);
  }
}

export async function nodeRedStreamingRows(): Promise<BenchRow[]> {
  return [await streamingCpu('main-api'), await streamingCpu('axllm')];
}
