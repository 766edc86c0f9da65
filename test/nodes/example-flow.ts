/**
 * An example flow (examples/*.json) loaded as shipped into real Node-RED for the runtime kind under test:
 * only its runtime node is pointed at the simulator (own model folder, free ports, the given knobs). The
 * runtime config node goes first, as the editor saves it (the generate node looks it up when it is created);
 * every other node goes on one tab. `close` unloads the flow and proves the runtime process gone.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { simulatorTestEnv } from '../../simulator/env';
import type { Runtime } from '../../lib/runtime/runtime';
import { createKindModelDir } from '../helpers/kind';
import { freeLoopbackPort, repoRoot } from '../helpers/node-red-process';
import { generateNode, getHelper, runtimeNode, type FlowNode, type NodeModule } from '../helpers/nr';

export interface ExampleFlowOptions {
  /** The file under examples/. */
  file: string;
  /** Simulator knobs over the fast test defaults (tokens at 400/s). */
  simEnv?: Record<string, string>;
  /** A VL model folder (axllm kind). */
  vision?: boolean;
  /** The node modules the example needs besides the runtime and generate nodes. */
  modules: NodeModule[];
  /** Adapts the example before it is loaded (only what a test must: file paths, helper wires) and returns extra nodes for the tab. */
  prepare?(nodes: FlowNode[], dir: string): FlowNode[] | Promise<FlowNode[]>;
}

export interface ExampleFlow {
  /** The example's nodes as loaded. */
  nodes: FlowNode[];
  runtime: Runtime;
  /** A temp folder of this flow (removed at close). */
  dir: string;
  /** The simulator's request log (AX650_SIM_LOG). */
  simLog: string;
  /** The example's node of that type (and name). */
  find(type: string, name?: string): FlowNode;
  close(): Promise<void>;
}

export async function startExampleFlow(opts: ExampleFlowOptions): Promise<ExampleFlow> {
  const helper = getHelper();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ax650-example-'));
  const modelDir = path.join(dir, 'model');
  const simLog = path.join(dir, 'sim.log');
  await createKindModelDir(modelDir, opts.vision ? { vision: true } : {});
  const nodes = JSON.parse(await readFile(path.join(repoRoot, 'examples', opts.file), 'utf8')) as FlowNode[];
  const find = (type: string, name?: string): FlowNode => {
    const found = nodes.find((n) => n.type === type && (name === undefined || n['name'] === name));
    assert.ok(found, `${opts.file} has a ${type} node${name === undefined ? '' : ` named "${name}"`}`);
    return found;
  };
  const flow: FlowNode[] = [{ id: 'tab', type: 'tab', label: 'example' }];
  for (const n of nodes) {
    if (n.type === 'ax650-runtime') {
      const simEnv = { ...simulatorTestEnv, AX650_SIM_TOKENS_PER_SEC: '400', AX650_SIM_LOG: simLog, ...opts.simEnv };
      Object.assign(n, { mode: 'simulator', modelDir, tokenizerPort: await freeLoopbackPort(), runtimePort: await freeLoopbackPort(), simEnv: JSON.stringify(simEnv) });
      flow.splice(1, 0, n);
    } else {
      n.z = 'tab';
      flow.push(n);
    }
  }
  for (const extra of (await opts.prepare?.(nodes, dir)) ?? []) flow.push({ z: 'tab', x: 1, y: 1, ...extra });
  await helper.startServer();
  const pids = new Set<number>();
  let runtime: Runtime;
  try {
    await helper.load([runtimeNode(), generateNode(), ...opts.modules], flow);
    runtime = (helper.getNode(find('ax650-runtime').id) as unknown as { runtime: Runtime }).runtime;
    runtime.on('state', (_s, info) => {
      if (info.pid !== null) pids.add(info.pid);
    });
    await runtime.start();
  } catch (e) {
    await helper.unload();
    await helper.stopServer();
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
  let closed = false;
  return {
    nodes,
    runtime,
    dir,
    simLog,
    find,
    async close() {
      if (closed) return;
      closed = true;
      const pid = runtime.info().pid;
      if (pid !== null) pids.add(pid);
      await helper.unload();
      await helper.stopServer();
      await rm(dir, { recursive: true, force: true });
      for (const p of pids) assert.throws(() => process.kill(p, 0), { code: 'ESRCH' }, `runtime pid ${p} gone after the flow closed`);
    },
  };
}
