/**
 * Real Node-RED for flow tests through node-red-node-test-helper, typed. Which Node-RED runs is
 * chosen by AX650_NODE_RED (`node-red` = 4.1 on Node 20, `node-red-5` on Node 22; see
 * scripts/run-tests.mjs), so the same tests prove both legs.
 */
import type { EventEmitter } from 'node:events';
import path from 'node:path';
import type { Node, NodeAPI, NodeMessage } from '../../nodes/red-types';

export type NodeModule = (RED: NodeAPI) => void;

export interface FlowNode {
  id: string;
  type: string;
  [key: string]: unknown;
}

export interface TestNode extends Node {
  receive(msg: NodeMessage): void;
  on(event: 'input', listener: (msg: NodeMessage) => void): void;
  on(event: 'call:error' | 'call:warn' | 'call:status', listener: (call: { args: unknown[] }) => void): void;
  on(event: string, listener: (...args: never[]) => void): void;
}

interface Helper {
  init(nodeRedRuntime: string, userSettings?: Record<string, unknown>): void;
  startServer(): Promise<void>;
  stopServer(): Promise<void>;
  load(nodes: NodeModule | NodeModule[], flow: FlowNode[], credentials?: Record<string, unknown>): Promise<void>;
  unload(): Promise<void>;
  getNode(id: string): TestNode | undefined;
  settings(s: Record<string, unknown>): void;
  /** A spy on Node-RED's log since the last load: each call's first argument is the entry ({level, id, msg, …}). */
  log(): { args: Array<[{ level?: number; id?: string; msg?: unknown }]>; ERROR: number };
  _RED: { version(): string };
  /** The runtime's event bus: a debug node's sidebar output is its `comms` event with topic `debug`. */
  _events: EventEmitter;
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const helper = require('node-red-node-test-helper') as Helper;

export const nodeRedPackage = process.env.AX650_NODE_RED ?? 'node-red';
let initialised = false;

export function nodeRedVersion(): string {
  const pkg = require(path.join(path.dirname(require.resolve(`${nodeRedPackage}/package.json`)), 'package.json')) as { version: string };
  return pkg.version;
}

export function getHelper(settings: Record<string, unknown> = {}): Helper {
  if (!initialised) {
    helper.init(require.resolve(nodeRedPackage), settings);
    initialised = true;
  }
  return helper;
}

const distNodes = path.resolve(__dirname, '../../nodes');

function loadModule(name: string): NodeModule {
  const mod = require(path.join(distNodes, `${name}.js`)) as { default?: NodeModule } & NodeModule;
  return mod.default ?? mod;
}

export const runtimeNode = (): NodeModule => loadModule('ax650-runtime');
export const generateNode = (): NodeModule => loadModule('ax650-generate');
export const toolNodes = (): NodeModule[] => [loadModule('ax650-tool'), loadModule('ax650-tool-result')];

/** Core nodes a flow test may use (join, catch, status are registered by the helper itself). */
export function coreNode(relPath: string): NodeModule {
  const base = path.dirname(require.resolve(`${nodeRedPackage}/package.json`));
  const nodesDir = path.join(path.dirname(require.resolve('@node-red/nodes/package.json', { paths: [base] })), 'core');
  return require(path.join(nodesDir, relPath)) as NodeModule;
}

/** Resolves with the next `count` messages a helper node receives. */
export function collect(node: TestNode, count: number, timeoutMs = 30_000): Promise<NodeMessage[]> {
  return new Promise((resolve, reject) => {
    const got: NodeMessage[] = [];
    const timer = setTimeout(() => reject(new Error(`expected ${count} messages on ${node.id}, got ${got.length}`)), timeoutMs);
    node.on('input', (msg: NodeMessage) => {
      got.push(msg);
      if (got.length === count) {
        clearTimeout(timer);
        resolve(got);
      }
    });
  });
}

/** One entry of the editor's debug sidebar, as a debug node publishes it (RED.comms "debug"). */
export interface SidebarEntry {
  /** The debug node's id and name. */
  id: string;
  name?: string;
  /** What the sidebar shows: the value as Node-RED encodes it (JSON text for objects and errors). */
  msg: string;
  format: string;
}

/** Records what the debug nodes of the loaded flow show in the debug sidebar, from now until `stop`. */
export function watchDebugSidebar(): { entries: SidebarEntry[]; stop(): void } {
  const events = getHelper()._events;
  const entries: SidebarEntry[] = [];
  const listener = (e: { topic?: string; data?: SidebarEntry }): void => {
    if (e.topic === 'debug' && e.data !== undefined) entries.push(e.data);
  };
  events.on('comms', listener);
  return { entries, stop: () => events.off('comms', listener) };
}
