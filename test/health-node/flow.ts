/**
 * A real Node-RED flow for the health node: an ax650-runtime on the simulator (own temp model
 * folder, free ports, a kernel-log file instead of dmesg) and an ax650-health node reading the
 * fake axcl-smi, wired to a helper node that records every message.
 */
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createKindModelDir } from '../helpers/kind';
import { simulatorTestEnv } from '../../simulator/env';
import type { Runtime } from '../../lib/runtime/runtime';
import type { RuntimeState } from '../../lib/runtime/types';
import { freeLoopbackPort } from '../helpers/node-red-process';
import { getHelper, runtimeNode, type FlowNode, type NodeModule, type TestNode } from '../helpers/nr';
import type { NodeMessage, NodeStatus } from '../../nodes/red-types';

export const FAKE_SMI = path.resolve(__dirname, '../fixtures/axcl/axcl-smi');

/** The first lines of a Pi 5 boot log with the AXCL driver loaded, before anything goes wrong. */
const BOOT_LOG = [
  '[    0.000000] Booting Linux on physical CPU 0x0000000000 [0x414fd0b1]',
  '[    4.812345] axcl_host: loading out-of-tree module taints kernel.',
  '[    5.102938] [axcl_pcie_probe, 310]: axcl pcie probe ok',
].join('\n');

export const healthNode = (): NodeModule => {
  const mod = require(path.resolve(__dirname, '../../nodes/ax650-health.js')) as { default: NodeModule };
  return mod.default;
};

export interface HealthFlow {
  runtime: Runtime;
  health: TestNode;
  /** Every message the health node sent, in order. */
  messages: NodeMessage[];
  statuses: NodeStatus[];
  /** Every runtime pid seen, to prove at the end that all are gone. */
  pids: Set<number>;
  /** Every state the runtime entered since the flow started. */
  states: RuntimeState[];
  /** Resolves with the first message sent from now on (or already sent after `from`) that satisfies `match`. */
  next(match: (m: NodeMessage) => boolean, timeoutMs: number, from?: number): Promise<NodeMessage>;
  setSmi(state: Record<string, unknown>): Promise<void>;
  appendKernel(line: string): Promise<void>;
  close(): Promise<void>;
}

/** `opts.vision`: a VL model folder (axllm kind; the 2025 layout has no vision). */
export async function startHealthFlow(health: Record<string, unknown> = {}, simEnv: Record<string, string> = {}, opts: { vision?: boolean } = {}): Promise<HealthFlow> {
  const helper = getHelper();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ax650-health-'));
  const modelDir = path.join(dir, 'model');
  await createKindModelDir(modelDir, opts.vision ? { vision: true } : {});
  const kernelLog = path.join(dir, 'kern.log');
  const smiState = path.join(dir, 'smi.json');
  await writeFile(kernelLog, `${BOOT_LOG}\n`);
  await writeFile(smiState, '{}');
  // The fake axcl-smi is a `#!/usr/bin/env node` script: make sure this Node is the one it finds.
  process.env.PATH = `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}`;
  process.env.FAKE_SMI_STATE_FILE = smiState;

  const flow: FlowNode[] = [
    { id: 'tab', type: 'tab', label: 'health' },
    {
      id: 'rt', type: 'ax650-runtime', mode: 'simulator', modelDir, tokenizerPort: await freeLoopbackPort(), runtimePort: await freeLoopbackPort(),
      simEnv: JSON.stringify({ ...simulatorTestEnv, AX650_SIM_LOG: path.join(dir, 'sim.log'), ...simEnv }), startOn: 'deploy', kernelLog,
    },
    {
      id: 'health', z: 'tab', type: 'ax650-health', runtime: 'rt', mode: 'alerts', interval: 0, device: 'on', smi: FAKE_SMI, kernelLog,
      warnExposed: false, topic: 'robot/npu', wires: [['out']], ...health,
    },
    { id: 'out', z: 'tab', type: 'helper' },
  ];
  await helper.startServer();
  await helper.load([runtimeNode(), healthNode()], flow);
  const runtime = (helper.getNode('rt') as unknown as { runtime: Runtime }).runtime;
  const healthTest = helper.getNode('health')!;
  const messages: NodeMessage[] = [];
  const statuses: NodeStatus[] = [];
  const pids = new Set<number>();
  const states: RuntimeState[] = [];
  const waiters = new Set<() => void>();
  healthTest.on('call:status', (call) => statuses.push(call.args[0] as NodeStatus));
  helper.getNode('out')!.on('input', (msg: NodeMessage) => {
    messages.push(msg);
    for (const w of [...waiters]) w();
  });
  runtime.on('state', (s, info) => {
    if (states[states.length - 1] !== s) states.push(s);
    if (info.pid !== null) pids.add(info.pid);
  });
  await runtime.start();
  const pid = runtime.info().pid;
  if (pid !== null) pids.add(pid);

  return {
    runtime,
    health: healthTest,
    messages,
    statuses,
    pids,
    states,
    next: (match, timeoutMs, from = messages.length) =>
      new Promise((resolve, reject) => {
        const look = (): boolean => {
          const hit = messages.slice(from).find(match);
          if (hit) {
            waiters.delete(onMessage);
            clearTimeout(timer);
            resolve(hit);
          }
          return hit !== undefined;
        };
        const onMessage = (): void => void look();
        const timer = setTimeout(() => {
          waiters.delete(onMessage);
          reject(new Error(`no matching health message within ${timeoutMs} ms; got ${JSON.stringify(messages.slice(from).map((m) => m.changes))}`));
        }, timeoutMs);
        if (!look()) waiters.add(onMessage);
      }),
    setSmi: (state) => writeFile(smiState, JSON.stringify(state)),
    appendKernel: (line) => appendFile(kernelLog, `${line}\n`),
    close: async () => {
      await helper.unload();
      await helper.stopServer();
      const alive = [...pids].filter((p) => {
        try {
          process.kill(p, 0);
          return true;
        } catch {
          return false;
        }
      });
      await rm(dir, { recursive: true, force: true });
      if (alive.length > 0) throw new Error(`runtime pids still alive after the flow closed: ${alive.join(', ')}`);
    },
  };
}
