/**
 * The tool nodes of each named toolbox, and the calls waiting for an ax650-tool-result node (the
 * pairing http in / http response use: the call's id travels in msg.toolCall). Module state: one per
 * Node-RED process, like Node-RED's own http routes.
 *
 * A tool name is one tool node per toolbox: the one registered first holds it. A later tool node of the same
 * name is a duplicate (its node shows the error): never offered, never fired, until the holder is removed; then the
 * earliest duplicate takes over and is told so (`onActive`).
 */
import { validateAgainst } from '../../lib/actions';
import { Ax650Error } from '../../lib/errors';
import type { ToolCall, ToolSpec } from '../../lib/runtime/types';

export interface ToolEndpoint {
  spec: ToolSpec;
  /** Fires the tool node's branch with the call; `origin`: properties of the asking message the branch gets too. */
  fire(call: ToolCall, key: string, origin: Record<string, unknown>): void;
  /** A duplicate became the tool node its name calls (the one before it was removed). */
  onActive?(): void;
}

export interface ToolRegistration {
  /** Another tool node of the toolbox holds the name: this one is not offered and never fires while that one stays. */
  duplicate: boolean;
  remove(): void;
}

/** toolbox → tool name → its tool nodes in registration order; the first one is the one called. */
const boxes = new Map<string, Map<string, ToolEndpoint[]>>();
const pending = new Map<string, (value: unknown) => void>();
let seq = 0;

export function addTool(toolbox: string, endpoint: ToolEndpoint): ToolRegistration {
  let box = boxes.get(toolbox);
  if (!box) boxes.set(toolbox, (box = new Map()));
  const name = endpoint.spec.function.name;
  let nodes = box.get(name);
  if (!nodes) box.set(name, (nodes = []));
  nodes.push(endpoint);
  const list = nodes;
  return {
    duplicate: list.length > 1,
    remove: () => {
      const i = list.indexOf(endpoint);
      if (i < 0) return;
      list.splice(i, 1);
      if (list.length === 0) box.delete(name);
      else if (i === 0) list[0]!.onActive?.();
    },
  };
}

/** The tool node a name calls in a toolbox (the first registered), if any. */
function holder(toolbox: string, name: string): ToolEndpoint | undefined {
  return boxes.get(toolbox)?.get(name)?.[0];
}

export function toolboxSpecs(toolbox: string): ToolSpec[] {
  return [...(boxes.get(toolbox)?.values() ?? [])].map((nodes) => nodes[0]!.spec);
}

export function hasTool(toolbox: string, name: string): boolean {
  return holder(toolbox, name) !== undefined;
}

/**
 * Fires the tool node and resolves with what its ax650-tool-result node hands back. The arguments are checked against
 * the tool node's own schema first (whatever schema the loop checked them against, e.g. a tool node redeployed with
 * another schema mid-prompt): a tool node never fires with arguments its schema refuses.
 */
export function callTool(toolbox: string, call: ToolCall, signal: AbortSignal, origin: Record<string, unknown> = {}): Promise<unknown> {
  const endpoint = holder(toolbox, call.name);
  if (!endpoint) return Promise.reject(new Error(`no tool node "${call.name}" in toolbox "${toolbox}"`));
  const schema = endpoint.spec.function.parameters;
  const check = schema ? validateAgainst(schema, call.arguments ?? {}, `tool "${call.name}"`) : { ok: true as const };
  if (!check.ok) {
    const reason = check.message.replace(/^the value/, 'the arguments');
    return Promise.reject(new Ax650Error('TOOL_ARGS_INVALID', `The arguments of "${call.name}" do not match its tool node's JSON Schema (${reason}); the tool node was not fired.`, { params: { name: call.name, reason } }));
  }
  const key = `${Date.now().toString(36)}-${++seq}`;
  return new Promise((resolve) => {
    pending.set(key, resolve);
    signal.addEventListener('abort', () => pending.delete(key), { once: true });
    endpoint.fire(call, key, origin);
  });
}

/** An ax650-tool-result node got a message: false when no call waits for that id (timed out, or not a tool message). */
export function answerTool(key: unknown, value: unknown): boolean {
  if (typeof key !== 'string') return false;
  const resolve = pending.get(key);
  if (!resolve) return false;
  pending.delete(key);
  resolve(value);
  return true;
}
