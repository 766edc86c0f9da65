/**
 * The tool nodes of each named toolbox, and the calls waiting for an ax650-tool-result node (the
 * pairing http in / http response use: the call's id travels in msg.toolCall). Module state: one per
 * Node-RED process, like Node-RED's own http routes.
 */
import { validateAgainst } from '../../lib/actions';
import { Ax650Error } from '../../lib/errors';
import type { ToolCall, ToolSpec } from '../../lib/runtime/types';

export interface ToolEndpoint {
  spec: ToolSpec;
  /** Fires the tool node's branch with the call; `origin`: properties of the asking message the branch gets too. */
  fire(call: ToolCall, key: string, origin: Record<string, unknown>): void;
}

const boxes = new Map<string, Map<string, ToolEndpoint>>();
const pending = new Map<string, (value: unknown) => void>();
let seq = 0;

export function addTool(toolbox: string, endpoint: ToolEndpoint): () => void {
  let box = boxes.get(toolbox);
  if (!box) boxes.set(toolbox, (box = new Map()));
  box.set(endpoint.spec.function.name, endpoint);
  return () => {
    if (box.get(endpoint.spec.function.name) === endpoint) box.delete(endpoint.spec.function.name);
  };
}

export function toolboxSpecs(toolbox: string): ToolSpec[] {
  return [...(boxes.get(toolbox)?.values() ?? [])].map((e) => e.spec);
}

export function hasTool(toolbox: string, name: string): boolean {
  return boxes.get(toolbox)?.has(name) === true;
}

/**
 * Fires the tool node and resolves with what its ax650-tool-result node hands back. The arguments are checked against
 * the tool node's own schema first (whatever schema the loop checked them against, e.g. a tool node redeployed with
 * another schema mid-prompt): a tool node never fires with arguments its schema refuses.
 */
export function callTool(toolbox: string, call: ToolCall, signal: AbortSignal, origin: Record<string, unknown> = {}): Promise<unknown> {
  const endpoint = boxes.get(toolbox)?.get(call.name);
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
