/**
 * The package in front of `axllm serve` (issue 14 bench rows), on one simulated axllm at the Pi 5 pace:
 * the same prompts read by a bare SSE client straight from the simulator and through the package's
 * Runtime, alternating; the requests the simulator gets while the runtime idles; and the CPU this process
 * (the Runtime, as Node-RED hosts it) spends while a reply streams at 4.5 tokens/s.
 */
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { DEFAULT_SYSTEM_PROMPT } from '../../lib/runtime/config';
import { SseParser } from '../../lib/client/sse';
import { tokenCounter } from '../lib/counter';
import type { BenchRow } from '../lib/row';
import { prompts, REALISTIC_SIM } from '../lib/sim-env';
import { startSimRuntime } from '../lib/sim-runtime';
import { median, round, spread } from '../lib/stats';
import { figures, type StreamFigures, type TimedStream } from '../lib/stream';

const JOBS = 4;
const REPLY_TOKENS = '24';
const IDLE_MS = 5000;

async function bareSse(baseUrl: string, model: string, prompt: string): Promise<TimedStream> {
  const start = performance.now();
  const res = await fetch(`${baseUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model, stream: true, enable_thinking: false, messages: [{ role: 'system', content: DEFAULT_SYSTEM_PROMPT }, { role: 'user', content: prompt }] }),
  });
  const deltas: TimedStream['deltas'] = [];
  const sse = new SseParser((data) => {
    if (data === '[DONE]') return;
    const text = (JSON.parse(data) as { choices?: Array<{ delta?: { content?: string } }> }).choices?.[0]?.delta?.content;
    if (text) deltas.push({ t: performance.now(), text });
  });
  for await (const chunk of res.body as unknown as AsyncIterable<Buffer>) sse.push(chunk);
  return { start, deltas };
}

export async function axllmRows(): Promise<BenchRow[]> {
  const count = await tokenCounter();
  const logFile = path.join(os.tmpdir(), `ax650-bench-axllm-${process.pid}.log`);
  const sim = await startSimRuntime({ ...REALISTIC_SIM, AX650_SIM_REPLY_TOKENS: REPLY_TOKENS, AX650_SIM_LOG: logFile }, 'axllm');
  const rt = sim.runtime;
  const bare: StreamFigures[] = [];
  const pkg: StreamFigures[] = [];
  const cpu: number[] = [];
  let idleRequests = NaN;
  try {
    const baseUrl = `http://127.0.0.1:${rt.cfg.runtimePort}`;
    const model = ((await (await fetch(`${baseUrl}/v1/models`)).json()) as { data: Array<{ id: string }> }).data[0]!.id;
    for (const [i, prompt] of prompts(JOBS, 'Axllm').entries()) {
      // Who goes first alternates: the second of a pair finds the system prompt in the prefix cache.
      const viaBare = async () => bare.push(figures(await bareSse(baseUrl, model, prompt), (s) => s, count));
      if (i % 2 === 0) await viaBare();
      const job = rt.submit({ prompt });
      const s: TimedStream = { start: performance.now(), deltas: [] };
      const c0 = process.cpuUsage();
      const w0 = performance.now();
      job.on('delta', (text) => s.deltas.push({ t: performance.now(), text }));
      await job.result;
      const used = process.cpuUsage(c0);
      cpu.push(((used.user + used.system) / 1000 / (performance.now() - w0)) * 100);
      pkg.push(figures(s, (x) => x, count));
      if (i % 2 === 1) await viaBare();
    }
    const requests = async () => (await readFile(logFile, 'utf8')).split('\n').filter((l) => l.includes('"event":"request"')).length;
    const before = await requests();
    await new Promise((r) => setTimeout(r, IDLE_MS));
    idleRequests = (await requests()) - before;
  } finally {
    await sim.stop();
  }
  const ratios = pkg.map((p, i) => p.tokensPerSecond / (bare[i]?.tokensPerSecond ?? NaN));
  const added = pkg.map((p, i) => p.ttftMs - (bare[i]?.ttftMs ?? NaN));
  const setup = `ax650-sim serve at 4.5 tok/s, 10.46 ms/token prefill, ${REPLY_TOKENS}-token replies, ${JOBS} prompts, bare SSE client and package on one simulator, each first in turn (prefix cache)`;
  return [
    { name: 'axllm: package tok/s ÷ bare SSE client tok/s', value: round(median(ratios), 3), unit: 'ratio', target: '≥ 0.995', pass: median(ratios) >= 0.995, how: `${setup}; pair ratios ${spread(ratios, 3)}` },
    { name: 'axllm: added time to first token, package − bare SSE client', value: round(median(added), 1), unit: 'ms', target: 'median ≤ 10', pass: median(added) <= 10, how: `${setup}; per-pair differences ${spread(added, 0, ' ms')} (the package also counts and trims the transcript with the tokenizer first)` },
    { name: 'axllm: requests to the runtime while idle', value: idleRequests, unit: 'requests', target: '0', pass: idleRequests === 0, how: `the simulator's request log over ${IDLE_MS / 1000} s after the last reply` },
    { name: 'axllm: CPU of the process hosting the Runtime while streaming at 4.5 tok/s', value: round(median(cpu), 2), unit: '% of a core', target: '≤ 2', pass: median(cpu) <= 2, how: `process.cpuUsage() over each whole job ÷ its wall time, median of ${JOBS} (${spread(cpu, 2, ' %')}); the Runtime without Node-RED around it` },
  ];
}
