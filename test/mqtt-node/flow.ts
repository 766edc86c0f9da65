/**
 * A real Node-RED flow around ax650-mqtt nodes: one or more ax650-runtime config nodes on the
 * simulator (own model folder, free ports, fast knobs) and the bridge nodes pointed at a real
 * broker. Records every status and warning of the bridge nodes, and proves at close that every
 * runtime process it started is gone.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createKindModelDir, promptsSent } from '../helpers/kind';
import { simulatorTestEnv } from '../../simulator/env';
import type { Runtime } from '../../lib/runtime/runtime';
import { freeLoopbackPort } from '../helpers/node-red-process';
import { getHelper, runtimeNode, type FlowNode, type NodeModule, type TestNode } from '../helpers/nr';
import { Signal } from '../mqtt/signal';
import { isGone, startMosquitto, stopMosquitto, type Mosquitto } from '../mqtt/brokers';
import { Requester } from '../mqtt/requester';
import type { NodeStatus } from '../../nodes/red-types';
import { completeJsonLines } from '../helpers/json-lines';

export interface BridgeSpec {
  id: string;
  runtime?: string;
  [key: string]: unknown;
}

export interface BridgeFlowOptions {
  broker: string;
  bridges: BridgeSpec[];
  /** Runtime config node ids; each gets its own simulator. Default ['rt']. */
  runtimes?: string[];
  simEnv?: Record<string, string>;
  credentials?: Record<string, { user?: string; password?: string }>;
  /** VL model folders (axllm kind; the 2025 layout has no vision). */
  vision?: boolean;
  /** More flow nodes on the tab (e.g. an ax650-api node) and the node modules they need. */
  extraNodes?: FlowNode[];
  extraModules?: NodeModule[];
}

export interface BridgeFlow {
  runtime(id?: string): Runtime;
  node(id: string): TestNode;
  statuses: Map<string, NodeStatus[]>;
  warnings: Map<string, string[]>;
  errors: Map<string, string[]>;
  /** Resolves once the node's latest status satisfies `pred`. */
  waitForStatus(id: string, pred: (s: NodeStatus) => boolean, what: string, timeoutMs?: number): Promise<void>;
  /** Resolves once the node has logged a warning matching `re`. */
  waitForWarning(id: string, re: RegExp, timeoutMs?: number): Promise<void>;
  /** The prompts each runtime's simulator received (G1 POST /api/generate, axllm chat requests), in order. */
  promptsSeenBy(runtimeId: string): Promise<string[]>;
  /** Every complete line of a runtime's simulator log (AX650_SIM_LOG), in order. */
  simLog(runtimeId: string): Promise<Array<Record<string, unknown>>>;
  /** The file of that runtime's simulator log (AX650_SIM_LOG: every request it was sent). */
  simLogFile(runtimeId: string): string;
  /** Every runtime pid this flow ever had. */
  pids(): number[];
  /** Unloads the flow (the nodes' close handlers run), stops Node-RED, proves the runtimes gone. Once. */
  close(): Promise<void>;
}

export const isConnected = (s: NodeStatus): boolean => s.fill === 'green';

export function mqttNode(): NodeModule {
  const mod = require(path.resolve(__dirname, '../../nodes/ax650-mqtt.js')) as { default: NodeModule };
  return mod.default;
}

export async function startBridgeFlow(opts: BridgeFlowOptions): Promise<BridgeFlow> {
  const helper = getHelper();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ax650-mqtt-flow-'));
  const runtimeIds = opts.runtimes ?? ['rt'];
  const flow: FlowNode[] = [{ id: 'tab', type: 'tab', label: 'mqtt' }];
  for (const id of runtimeIds) {
    const modelDir = path.join(dir, id);
    await createKindModelDir(modelDir, opts.vision ? { vision: true } : {});
    flow.push({
      id, type: 'ax650-runtime', mode: 'simulator', modelDir, startOn: 'deploy',
      tokenizerPort: await freeLoopbackPort(), runtimePort: await freeLoopbackPort(),
      simEnv: JSON.stringify({ ...simulatorTestEnv, AX650_SIM_LOG: path.join(dir, `${id}.log`), ...opts.simEnv }),
    });
  }
  for (const b of opts.bridges) {
    flow.push({ type: 'ax650-mqtt', z: 'tab', runtime: runtimeIds[0], broker: opts.broker, ...b });
  }
  flow.push(...(opts.extraNodes ?? []));

  const statuses = new Map<string, NodeStatus[]>();
  const warnings = new Map<string, string[]>();
  const errors = new Map<string, string[]>();
  const signal = new Signal();
  await helper.startServer();
  await helper.load([runtimeNode(), mqttNode(), ...(opts.extraModules ?? [])], flow, opts.credentials ?? {});
  for (const b of opts.bridges) {
    const n = helper.getNode(b.id);
    if (!n) throw new Error(`node ${b.id} was not created`);
    statuses.set(b.id, []);
    warnings.set(b.id, []);
    errors.set(b.id, []);
    n.on('call:status', (call) => {
      statuses.get(b.id)!.push(call.args[0] as NodeStatus);
      signal.notify();
    });
    n.on('call:warn', (call) => {
      warnings.get(b.id)!.push(String(call.args[0]));
      signal.notify();
    });
    n.on('call:error', (call) => {
      errors.get(b.id)!.push(String(call.args[0]));
      signal.notify();
    });
  }
  const runtimes = new Map(runtimeIds.map((id) => [id, (helper.getNode(id) as unknown as { runtime: Runtime }).runtime]));
  const pids = new Set<number>();
  for (const rt of runtimes.values()) {
    rt.on('state', (_s, info) => {
      if (info.pid !== null) pids.add(info.pid);
    });
  }
  await Promise.all([...runtimes.values()].map((rt) => rt.start()));
  let closed = false;
  const simLog = async (runtimeId: string) => completeJsonLines(await readFile(path.join(dir, `${runtimeId}.log`), 'utf8').catch(() => '')) as Array<Record<string, unknown>>;

  return {
    runtime: (id = runtimeIds[0]!) => runtimes.get(id)!,
    node: (id) => helper.getNode(id)!,
    statuses,
    warnings,
    errors,
    waitForStatus(id, pred, what, timeoutMs = 15_000) {
      return signal.until(() => {
        const list = statuses.get(id) ?? [];
        const last = list[list.length - 1];
        return last !== undefined && pred(last);
      }, timeoutMs, () => `${id} to be ${what}; statuses ${JSON.stringify(statuses.get(id))}`);
    },
    waitForWarning(id, re, timeoutMs = 15_000) {
      return signal.until(() => (warnings.get(id) ?? []).some((w) => re.test(w)), timeoutMs,
        () => `a warning ${re} from ${id}; got ${JSON.stringify(warnings.get(id))}`);
    },
    async promptsSeenBy(runtimeId) {
      return promptsSent(await simLog(runtimeId));
    },
    simLog,
    simLogFile: (runtimeId) => path.join(dir, `${runtimeId}.log`),
    pids: () => [...pids],
    async close() {
      if (closed) return;
      closed = true;
      for (const rt of runtimes.values()) {
        const pid = rt.info().pid;
        if (pid !== null) pids.add(pid);
      }
      await helper.unload();
      await helper.stopServer();
      for (const pid of pids) if (!isGone(pid)) throw new Error(`runtime pid ${pid} still alive after the flow closed`);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A private mosquitto, a bridge flow on it and a requester (MQTT 5) subscribed to its reply topics. */
export interface MosquittoRig {
  mosq: Mosquitto;
  flow: BridgeFlow;
  req: Requester;
  /** Closes the requester, the flow and the broker (each proven gone), whatever was started. */
  close(): Promise<void>;
}

export async function startMosquittoRig(opts: Omit<BridgeFlowOptions, 'broker'> & { subscribe: string[] }): Promise<MosquittoRig> {
  const mosq = await startMosquitto();
  let flow: BridgeFlow | undefined;
  let req: Requester | undefined;
  const close = async (): Promise<void> => {
    await req?.close();
    await flow?.close();
    await stopMosquitto(mosq);
  };
  try {
    flow = await startBridgeFlow({ ...opts, broker: mosq.url });
    req = await Requester.connect(mosq.url);
    for (const topic of opts.subscribe) await req.subscribe(topic);
    for (const b of opts.bridges) await flow.waitForStatus(b.id, isConnected, 'connected');
    return { mosq, flow, req, close };
  } catch (e) {
    await close();
    throw e;
  }
}
