/**
 * What user nodes see of an `ax650-runtime` config node: its Runtime and the MQTT-broker-style
 * register/deregister (node-red-anchors §3). Keeping a `users` map also makes Node-RED route the
 * config node's status and errors to the users' flows, so Catch and Status nodes see them.
 */
import type { Runtime } from '../../lib/runtime/runtime';
import type { RuntimeInfo, RuntimeState } from '../../lib/runtime/types';
import type { Node, NodeAPI, NodeStatus } from '../red-types';

export interface RuntimeConfigNode extends Node {
  runtime: Runtime;
  users: Record<string, Node>;
  register(user: Node): void;
  deregister(user: Node, done: () => void): void;
}

export function getRuntimeNode(RED: NodeAPI, id: unknown): RuntimeConfigNode | null {
  if (typeof id !== 'string' || id === '') return null;
  const n = RED.nodes.getNode(id) as RuntimeConfigNode | null;
  return n && typeof n.register === 'function' && n.runtime ? n : null;
}

const FILL: Record<RuntimeState, NodeStatus['fill']> = {
  stopped: 'grey',
  preflight: 'yellow',
  'starting-tokenizer': 'yellow',
  loading: 'yellow',
  resetting: 'yellow',
  ready: 'green',
  busy: 'blue',
  backoff: 'yellow',
  failed: 'red',
  stopping: 'grey',
};

/**
 * A short status for a runtime state, e.g. "loading 42%" or "failed: DEAD_CARD"; on the simulator
 * "ready (simulator: canned replies)", so a user who sees an unrelated reply knows why.
 */
export function runtimeStatus(RED: NodeAPI, info: RuntimeInfo, simulator = false): NodeStatus {
  const ns = '@axnpu/node-red-ax650/ax650-runtime:ax650-runtime.status';
  let text = RED._(`${ns}.${info.state}`);
  if (simulator && (info.state === 'ready' || info.state === 'busy')) text = RED._(`${ns}.simulated`, { state: text });
  if (info.state === 'loading') text = `${text} ${Math.round(info.loadProgress)}%`;
  if ((info.state === 'failed' || info.state === 'backoff') && info.lastError) text = `${text}: ${info.lastError.code}`;
  return { fill: FILL[info.state], shape: info.state === 'ready' || info.state === 'busy' || info.state === 'failed' ? 'dot' : 'ring', text };
}
