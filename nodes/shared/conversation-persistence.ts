/**
 * Keeps the runtime's conversations in a Node-RED context store (e.g. a `localfilesystem` store named
 * in settings.js), so chats continue after a restart of Node-RED. Writes are coalesced: at most one
 * every half second, and a last one when the node closes.
 */
import type { ConversationStore } from '../../lib/runtime/context-tracker';
import type { Node } from '../red-types';

const KEY = 'ax650_conversations';

export interface NodeContextStore {
  get(key: string, store: string, cb: (err: Error | null, value: unknown) => void): void;
  set(key: string, value: unknown, store: string, cb: (err: Error | null) => void): void;
}

/** Starts persisting; returns a flush for the close handler (resolves once the last write is done). */
export function persistConversations(node: Node & { context(): NodeContextStore }, conversations: ConversationStore, store: string): () => Promise<void> {
  const ctx = node.context();
  let timer: NodeJS.Timeout | null = null;
  let dirty = false;
  const write = () =>
    new Promise<void>((resolve) => {
      dirty = false;
      ctx.set(KEY, conversations.toJSON(), store, (err) => {
        if (err) node.warn(`conversations not saved to context store "${store}": ${err.message}`);
        resolve();
      });
    });
  ctx.get(KEY, store, (err, value) => {
    if (err) node.warn(`conversations not read from context store "${store}": ${err.message}`);
    else if (value !== undefined) conversations.load(value);
  });
  conversations.onChange = () => {
    dirty = true;
    timer ??= setTimeout(() => {
      timer = null;
      void write();
    }, 500);
  };
  return async () => {
    conversations.onChange = null;
    if (timer) clearTimeout(timer);
    timer = null;
    if (dirty) await write();
  };
}
