/**
 * Prompts through a real Node-RED flow (node-red-node-test-helper, test/nodes/flow-harness.ts):
 * inject into the ax650-generate node, time every output-1 message at the helper node behind it,
 * finish on the output-2 message. The runtime node underneath is the package's own Runtime on the
 * simulator, so MQTT and HTTP rows can submit to the very same queue for paired comparisons.
 */
import { performance } from 'node:perf_hooks';
import { startHarness, type Harness } from '../../test/nodes/flow-harness';
import type { Runtime } from '../../lib/runtime/runtime';
import type { NodeMessage } from '../../nodes/red-types';
import type { TimedStream } from './stream';

export interface FlowReply extends TimedStream {
  final: NodeMessage;
  /** parts.index of every output-1 message in arrival order (the end marker included). */
  indexes: number[];
}

export interface FlowBench {
  runtime: Runtime;
  generate(prompt: string, extra?: Record<string, unknown>): Promise<FlowReply>;
  close(): Promise<void>;
}

interface Pending {
  reply: FlowReply;
  resolve(r: FlowReply): void;
  reject(e: Error): void;
}

function benchId(msg: NodeMessage): number | undefined {
  const id = (msg as { _benchId?: unknown })._benchId;
  return typeof id === 'number' ? id : undefined;
}

function partsIndex(msg: NodeMessage): number {
  const parts = (msg as { parts?: { index?: unknown } }).parts;
  return typeof parts?.index === 'number' ? parts.index : -1;
}

export async function startFlowBench(simEnv: Record<string, string>): Promise<FlowBench> {
  const harness: Harness = await startHarness({ simEnv });
  const pending = new Map<number, Pending>();
  let next = 0;
  harness.node('gen-stream').on('input', (msg: NodeMessage) => {
    const t = performance.now();
    const p = pending.get(benchId(msg) ?? -1);
    if (!p) return;
    p.reply.indexes.push(partsIndex(msg));
    if (typeof msg.payload === 'string' && msg.payload !== '') p.reply.deltas.push({ t, text: msg.payload });
  });
  harness.node('gen-final').on('input', (msg: NodeMessage) => {
    const id = benchId(msg) ?? -1;
    const p = pending.get(id);
    if (!p) return;
    pending.delete(id);
    p.reply.final = msg;
    p.resolve(p.reply);
  });
  harness.node('caught').on('input', (msg: NodeMessage) => {
    const id = benchId(msg) ?? -1;
    const p = pending.get(id);
    if (!p) return;
    pending.delete(id);
    p.reject(new Error(`flow error: ${JSON.stringify((msg as { error?: unknown }).error)}`));
  });
  return {
    runtime: harness.runtime,
    generate: (prompt, extra = {}) =>
      new Promise<FlowReply>((resolve, reject) => {
        const id = next++;
        const reply: FlowReply = { start: performance.now(), deltas: [], indexes: [], final: {} as NodeMessage };
        pending.set(id, { reply, resolve, reject });
        harness.node('gen').receive({ ...extra, payload: prompt, _benchId: id } as NodeMessage);
      }),
    close: () => harness.close(),
  };
}

/**
 * Resolves on the runtime's next `idle` (ready, nothing queued or running, no reset-ahead under
 * way). Arm it before submitting: the runtime cannot go idle while the job is queued or running.
 */
export function nextIdle(runtime: Runtime): Promise<void> {
  return new Promise((resolve) => runtime.once('idle', () => resolve()));
}
