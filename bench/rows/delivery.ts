/**
 * Delivery at the NPU's real pace (4.5 tokens/s, realistic prefill): the raw simulator read by a
 * bare 5 ms poll loop, against the same prompts through a Node-RED flow and through the HTTP
 * facade's /api/chat on the flow's own runtime (flow and HTTP jobs alternate, so both see the same
 * machine load). Same prompts → same replies on every side.
 */
import { DEFAULT_SYSTEM_PROMPT } from '../../lib/runtime/config';
import { startApiServer } from '../../lib/ollama/server';
import { startSimStack } from '../../test/helpers/sim';
import { bareGenerate, bareReset } from '../lib/bare-client';
import { tokenCounter } from '../lib/counter';
import { nextIdle, startFlowBench } from '../lib/flow';
import { chatStream } from '../lib/http-chat';
import type { BenchRow } from '../lib/row';
import { prompts, REALISTIC_SIM } from '../lib/sim-env';
import { median, round, spread } from '../lib/stats';
import { figures, stripThink, type StreamFigures } from '../lib/stream';

const JOBS = 4;
const REPLY_TOKENS = '30';
const RAW_POLL_MS = 10;

export async function deliveryRows(): Promise<BenchRow[]> {
  const count = await tokenCounter();
  const env = { ...REALISTIC_SIM, AX650_SIM_REPLY_TOKENS: REPLY_TOKENS };
  const list = prompts(JOBS, 'Delivery');

  const raw: StreamFigures[] = [];
  const flow: StreamFigures[] = [];
  const http: StreamFigures[] = [];
  // Both stacks stay up and the jobs alternate raw → flow → HTTP, so a slow spell of this shared
  // machine hits all three sides alike; an idle simulator costs nothing.
  const stack = await startSimStack({ env });
  try {
    const bench = await startFlowBench(env);
    try {
      const api = await startApiServer({ runner: bench.runtime, port: 0 });
      try {
        for (const prompt of list) {
          await bareReset(stack.baseUrl, DEFAULT_SYSTEM_PROMPT, RAW_POLL_MS);
          raw.push(figures(await bareGenerate(stack.baseUrl, prompt, RAW_POLL_MS), stripThink, count));
          let idle = nextIdle(bench.runtime);
          flow.push(figures(await bench.generate(prompt), (s) => s, count));
          await idle;
          idle = nextIdle(bench.runtime);
          http.push(figures(await chatStream(api.url, 'qwen3-ax650', prompt), (s) => s, count));
          await idle;
        }
      } finally {
        await api.close();
      }
    } finally {
      await bench.close();
    }
  } finally {
    await stack.stop();
  }

  for (let i = 0; i < JOBS; i++) {
    if (flow[i]?.text !== raw[i]?.text) throw new Error(`flow reply ${i} differs from the simulator's: ${JSON.stringify(flow[i]?.text)} vs ${JSON.stringify(raw[i]?.text)}`);
  }
  const rate = (xs: StreamFigures[]) => xs.map((x) => x.tokensPerSecond);
  const ttft = (xs: StreamFigures[]) => xs.map((x) => x.ttftMs);
  const pairs = (a: number[], b: number[], f: (x: number, y: number) => number) => a.map((x, i) => f(x, b[i] ?? NaN));
  const deliveryPairs = pairs(rate(flow), rate(raw), (x, y) => x / y);
  const ttftPairs = pairs(ttft(flow), ttft(raw), (x, y) => x - y);
  const httpPairs = pairs(rate(http), rate(flow), (x, y) => x / y);
  const deliveryRatio = median(deliveryPairs);
  const addedTtft = median(ttftPairs);
  const httpRatio = median(httpPairs);
  const setup = `sim 4.5 tok/s, 10.46 ms/token prefill, ${REPLY_TOKENS}-token replies, ${JOBS} prompts per side, fresh context before each`;
  return [
    {
      name: 'delivery: flow tok/s ÷ simulator tok/s',
      value: round(deliveryRatio, 3),
      unit: 'ratio',
      target: '≥ 0.99',
      pass: deliveryRatio >= 0.99,
      how: `${setup}; tok/s = tokens between the first and last visible delta ÷ time between them; simulator read by a bare ${RAW_POLL_MS} ms poll loop (think block stripped), flow at the helper node after ax650-generate; median of ${JOBS} back-to-back pairs, pair ratios ${spread(deliveryPairs, 3)}; flow ${spread(rate(flow), 3)} tok/s, sim ${spread(rate(raw), 3)} tok/s`,
    },
    {
      name: 'delivery: added time to first token, flow − simulator',
      value: round(addedTtft, 1),
      unit: 'ms',
      target: 'median ≤ 60',
      pass: addedTtft <= 60,
      how: `${setup}; prompt handed over → first visible text; median of per-pair differences (${spread(ttftPairs, 0, ' ms')}); flow ${spread(ttft(flow), 0, ' ms')}, sim first delta ${spread(ttft(raw), 0, ' ms')}; the package polls every 50 ms while generating`,
    },
    {
      name: 'HTTP API: /api/chat tok/s ÷ flow tok/s',
      value: round(httpRatio, 3),
      unit: 'ratio',
      target: '≥ 0.98',
      pass: httpRatio >= 0.98,
      how: `${setup}; Ollama /api/chat streamed (NDJSON lines timed as parsed) on the flow's own runtime, right after each flow job; median of pair ratios (${spread(httpPairs, 3)}); http ${spread(rate(http), 3)} tok/s`,
    },
  ];
}
