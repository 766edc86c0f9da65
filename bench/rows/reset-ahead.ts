/**
 * Back-to-back stateless prompts at the simulator's realistic prefill cost (10.46 ms/token, whole
 * 128-token chunks). With reset-ahead the runtime prefills a fresh context in the idle time after
 * each stateless job; "without" forces a reset inside every job by giving each one its own system
 * prompt. Pairs alternate on one runtime; each prompt goes in once the runtime is idle again.
 */
import { performance } from 'node:perf_hooks';
import { DEFAULT_SYSTEM_PROMPT } from '../../lib/runtime/config';
import type { Runtime } from '../../lib/runtime/runtime';
import type { JobRequest } from '../../lib/runtime/types';
import { nextIdle } from '../lib/flow';
import type { BenchRow } from '../lib/row';
import { prompts, REALISTIC_SIM } from '../lib/sim-env';
import { startSimRuntime } from '../lib/sim-runtime';
import { median, round, spread } from '../lib/stats';

const PAIRS = 4;

async function ttftOf(runtime: Runtime, request: JobRequest): Promise<number> {
  const idle = nextIdle(runtime);
  const t0 = performance.now();
  const job = runtime.submit(request);
  let first = NaN;
  job.on('delta', (text) => {
    if (Number.isNaN(first) && text !== '') first = performance.now() - t0;
  });
  await job.result;
  await idle;
  return first;
}

export async function resetAheadRows(): Promise<BenchRow[]> {
  const withAhead: number[] = [];
  const without: number[] = [];
  const sim = await startSimRuntime({ ...REALISTIC_SIM, AX650_SIM_REPLY_TOKENS: '8' });
  try {
    let i = 0;
    for (const prompt of prompts(PAIRS, 'Stateless')) {
      withAhead.push(await ttftOf(sim.runtime, { prompt }));
      without.push(await ttftOf(sim.runtime, { prompt, system: `${DEFAULT_SYSTEM_PROMPT} Job ${i++}.` }));
    }
  } finally {
    await sim.stop();
  }
  const a = median(withAhead);
  const b = median(without);
  return [
    {
      name: 'back-to-back stateless: time to first token with reset-ahead',
      value: round(a, 0),
      unit: 'ms',
      target: '< without reset-ahead (issue 10 sets no number)',
      pass: a < b,
      how: `sim 4.5 tok/s, 10.46 ms/token prefill; Runtime API, ${PAIRS} alternating pairs, each prompt submitted when the runtime is idle; with reset-ahead ${round(a, 0)} ms (${spread(withAhead, 0, ' ms')}), without (own system prompt per job, so the reset runs inside the job) ${round(b, 0)} ms (${spread(without, 0, ' ms')}): ${round(b - a, 0)} ms saved per prompt`,
    },
  ];
}
