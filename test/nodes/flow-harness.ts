/**
 * A real Node-RED flow around the generate node: an ax650-runtime on the simulator (own temp
 * model folder, free ports, fast knobs), generate nodes wired to helper nodes and a core join, and
 * a Catch node. Shared by the generate-node tests of both Node-RED legs.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createKindModelDir } from '../helpers/kind';
import { simulatorTestEnv } from '../../simulator/env';
import type { Runtime } from '../../lib/runtime/runtime';
import { freeLoopbackPort } from '../helpers/node-red-process';
import { coreNode, generateNode, getHelper, runtimeNode, type FlowNode, type NodeModule, type TestNode } from '../helpers/nr';
import type { NodeMessage } from '../../nodes/red-types';

export interface Harness {
  runtime: Runtime;
  node(id: string): TestNode;
  /** Every message each helper node got, in arrival order. */
  received: Map<string, NodeMessage[]>;
  /** Resolves once `id` has received `n` messages in all. */
  waitFor(id: string, n: number, timeoutMs?: number): Promise<NodeMessage[]>;
  simLog: string;
  /** What a node logged with node.error (the text a user reads in the log and the debug sidebar). */
  errorsOf(id: string): string[];
  close(): Promise<void>;
}

export interface HarnessOptions {
  generators?: Array<{ id: string; [k: string]: unknown }>;
  simEnv?: Record<string, string>;
  runtime?: Record<string, unknown>;
  /** A VL model folder (axllm kind). */
  vision?: boolean;
  /** More flow nodes (on the tab) and the node modules they need. */
  extraNodes?: FlowNode[];
  extraModules?: NodeModule[];
}

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const helper = getHelper();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ax650-flow-'));
  const modelDir = path.join(dir, 'model');
  await createKindModelDir(modelDir, opts.vision ? { vision: true } : {});
  const simLog = path.join(dir, 'sim.log');
  const gens = opts.generators ?? [{ id: 'gen' }];
  const flow: FlowNode[] = [
    { id: 'tab', type: 'tab', label: 'test' },
    {
      id: 'rt', type: 'ax650-runtime', mode: 'simulator', modelDir, tokenizerPort: await freeLoopbackPort(), runtimePort: await freeLoopbackPort(),
      simEnv: JSON.stringify({ ...simulatorTestEnv, AX650_SIM_TOKENS_PER_SEC: '200', AX650_SIM_LOG: simLog, ...opts.simEnv }), startOn: 'deploy', ...opts.runtime,
    },
    { id: 'joiner', z: 'tab', type: 'join', mode: 'auto', wires: [['joined']] },
    { id: 'joined', z: 'tab', type: 'helper' },
    { id: 'catch', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 'tab', type: 'helper' },
  ];
  for (const g of gens) {
    flow.push({ type: 'ax650-generate', z: 'tab', runtime: 'rt', wires: [[`${g.id}-stream`, 'joiner'], [`${g.id}-final`]], ...g });
    flow.push({ id: `${g.id}-stream`, z: 'tab', type: 'helper' }, { id: `${g.id}-final`, z: 'tab', type: 'helper' });
  }
  flow.push(...(opts.extraNodes ?? []));
  // Node-RED tells flow nodes from config nodes by their editor position: give every tab node one.
  for (const n of flow) if (n.z === 'tab') Object.assign(n, { x: 100, y: 100 });
  await helper.startServer();
  await helper.load([runtimeNode(), generateNode(), coreNode('sequence/17-split.js'), ...(opts.extraModules ?? [])], flow);
  const received = new Map<string, NodeMessage[]>();
  const waiters: Array<{ id: string; n: number; resolve: (m: NodeMessage[]) => void }> = [];
  for (const n of flow.filter((f) => f.type === 'helper')) {
    received.set(n.id, []);
    helper.getNode(n.id)!.on('input', (msg: NodeMessage) => {
      const list = received.get(n.id)!;
      list.push(msg);
      for (const w of [...waiters]) {
        if (w.id === n.id && list.length >= w.n) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(list);
        }
      }
    });
  }
  const rtNode = helper.getNode('rt') as unknown as { runtime: Runtime };
  await rtNode.runtime.start();
  return {
    runtime: rtNode.runtime,
    node: (id) => helper.getNode(id)!,
    received,
    simLog,
    errorsOf: (id) => {
      const log = helper.log();
      return log.args.map(([entry]) => entry).filter((e) => e.level === log.ERROR && e.id === id).map((e) => String(e.msg));
    },
    waitFor: (id, n, timeoutMs = 60_000) =>
      new Promise((resolve, reject) => {
        const list = received.get(id)!;
        if (list.length >= n) return resolve(list);
        const timer = setTimeout(() => reject(new Error(`${id}: expected ${n} messages, got ${list.length}`)), timeoutMs);
        waiters.push({ id, n, resolve: (m) => { clearTimeout(timer); resolve(m); } });
      }),
    close: async () => {
      const pid = rtNode.runtime.info().pid;
      await helper.unload();
      await helper.stopServer();
      if (pid !== null) {
        let alive = true;
        try { process.kill(pid, 0); } catch { alive = false; }
        if (alive) throw new Error(`runtime pid ${pid} still alive after the flow closed`);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The reply text a stream spelled out, from its messages (ignoring the empty end marker). */
export function streamText(msgs: NodeMessage[]): string {
  return msgs.map((m) => String(m.payload)).join('');
}

/** Tool-call markup (Qwen3's tags, the native `tool_calls` field) that must never reach output 1. */
const TOOL_MARKUP = /<\/?tool_call>|<\/?tool_response>|"tool_calls"/;

/** Fails when any of these output-1 messages carries tool markup, in its text or in any of its properties. */
export function assertNoToolMarkup(msgs: readonly NodeMessage[]): void {
  for (const m of msgs) {
    assert.doesNotMatch(String(m.payload), TOOL_MARKUP, `tool markup in an output-1 message: ${JSON.stringify(m.payload)}`);
    assert.doesNotMatch(JSON.stringify(m), TOOL_MARKUP, 'tool markup in a property of an output-1 message');
  }
}
