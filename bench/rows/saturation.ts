/**
 * Saturation: the simulator at 1,000 tokens/s and 200 stateless prompts in a closed loop (the next
 * prompt goes in when the previous reply is complete). Every flow reply is checked against the
 * raw simulator's reply to the same prompt, delta by delta; throughput is compared with a bare
 * polling client doing the same work (reset, generate, poll) in an A-B-B-A order against drift.
 */
import { performance } from 'node:perf_hooks';
import { DEFAULT_SYSTEM_PROMPT } from '../../lib/runtime/config';
import { startSimStack } from '../../test/helpers/sim';
import { bareGenerate, bareReset } from '../lib/bare-client';
import { tokenCounter } from '../lib/counter';
import { startFlowBench, type FlowBench, type FlowReply } from '../lib/flow';
import type { BenchRow } from '../lib/row';
import { prompts, SATURATION_SIM } from '../lib/sim-env';
import { round } from '../lib/stats';
import { stripThink } from '../lib/stream';

const PROMPTS = 200;
/** The package's steady poll interval (RuntimeConfig.pollIntervalMs default). */
const PACKAGE_POLL_MS = 50;
const TIGHT_POLL_MS = 5;

async function bareRun(baseUrl: string, list: string[], pollMs: number, texts: Map<string, string>): Promise<number> {
  const t0 = performance.now();
  for (const prompt of list) {
    await bareReset(baseUrl, DEFAULT_SYSTEM_PROMPT, pollMs);
    texts.set(prompt, (await bareGenerate(baseUrl, prompt, pollMs)).text);
  }
  return performance.now() - t0;
}

async function flowRun(bench: FlowBench, list: string[], replies: Map<string, FlowReply>): Promise<number> {
  const t0 = performance.now();
  for (const prompt of list) replies.set(prompt, await bench.generate(prompt));
  return performance.now() - t0;
}

/** Why a flow reply is not the simulator's reply, delivered in order; null when it is. */
function defect(reply: FlowReply, rawText: string | undefined): string | null {
  const expected = stripThink(rawText ?? '');
  const streamed = reply.deltas.map((d) => d.text).join('');
  const inOrder = reply.indexes.every((ix, i) => ix === i);
  if (!inOrder) return `parts.index out of order: ${reply.indexes.join(',')}`;
  if (streamed !== expected) return `stream ${JSON.stringify(streamed)} ≠ simulator ${JSON.stringify(expected)}`;
  if (reply.final.payload !== expected) return `final payload ${JSON.stringify(reply.final.payload)} ≠ simulator`;
  return null;
}

export async function saturationRows(): Promise<BenchRow[]> {
  const count = await tokenCounter();
  const list = prompts(PROMPTS, 'Saturation');
  const half = [list.slice(0, PROMPTS / 2), list.slice(PROMPTS / 2)] as const;
  const rawTexts = new Map<string, string>();
  const tightTexts = new Map<string, string>();
  const replies = new Map<string, FlowReply>();
  let bareMs = 0;
  let flowMs = 0;
  let tightMs = 0;
  const stack = await startSimStack({ env: { ...SATURATION_SIM } });
  try {
    const bench = await startFlowBench({ ...SATURATION_SIM });
    try {
      bareMs += await bareRun(stack.baseUrl, half[0], PACKAGE_POLL_MS, rawTexts);
      flowMs += await flowRun(bench, half[0], replies);
      flowMs += await flowRun(bench, half[1], replies);
      bareMs += await bareRun(stack.baseUrl, half[1], PACKAGE_POLL_MS, rawTexts);
      tightMs = await bareRun(stack.baseUrl, list, TIGHT_POLL_MS, tightTexts);
    } finally {
      await bench.close();
    }
  } finally {
    await stack.stop();
  }
  const defects = list.map((p) => defect(replies.get(p) as FlowReply, rawTexts.get(p))).filter((d): d is string => d !== null);
  const deltas = [...replies.values()].reduce((n, r) => n + r.deltas.length, 0);
  const tokens = list.reduce((n, p) => n + count(rawTexts.get(p) ?? ''), 0);
  const rate = (ms: number) => tokens / (ms / 1000);
  const ratio = rate(flowMs) / rate(bareMs);
  const tightRatio = rate(flowMs) / rate(tightMs);
  const setup = `sim 1,000 tok/s, 0.05 ms/token prefill, ${PROMPTS} distinct stateless prompts in a closed loop, ${tokens} tokens in all`;
  return [
    {
      name: 'saturation: flow replies with a delta lost or reordered',
      value: defects.length,
      unit: `of ${PROMPTS}`,
      target: '0',
      pass: defects.length === 0,
      how: `${setup}; ${deltas} output-1 messages; each reply's parts.index must run 0…n in arrival order and its deltas must spell exactly the raw simulator's reply to the same prompt (think block stripped), as must the output-2 payload${defects.length ? `; first defect: ${defects[0]}` : ''}`,
    },
    {
      name: `saturation: flow throughput ÷ bare polling client (${PACKAGE_POLL_MS} ms polls)`,
      value: round(ratio, 3),
      unit: 'ratio',
      target: '≥ 0.95',
      pass: ratio >= 0.95,
      how: `${setup}; bare client = reset + generate + poll every ${PACKAGE_POLL_MS} ms (the package's steady interval) on the raw simulator, A-B-B-A halves; flow ${round(rate(flowMs), 0)} tok/s (${round(flowMs / 1000, 1)} s), bare ${round(rate(bareMs), 0)} tok/s (${round(bareMs / 1000, 1)} s)`,
    },
    {
      name: `saturation: flow throughput ÷ bare polling client (${TIGHT_POLL_MS} ms polls)`,
      value: round(tightRatio, 3),
      unit: 'ratio',
      target: '≥ 0.95',
      pass: tightRatio >= 0.95,
      how: `${setup}; the same bare loop polling every ${TIGHT_POLL_MS} ms, run after the others: ${round(rate(tightMs), 0)} tok/s (${round(tightMs / 1000, 1)} s). At this rate a job is shorter than a few polls, so the poll interval decides the figure`,
    },
  ];
}
