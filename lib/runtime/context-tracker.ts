/**
 * What the runtime's single KV cache holds right now, so a job can skip the reset prefill when the
 * context is already the one it needs: a conversation's, or a fresh one with the right system prompt
 * (prepared ahead of time after a stateless job, while the NPU is otherwise idle).
 */
import type { ChatMessage } from './types';

export type ContextContent =
  | { kind: 'unknown' }
  | { kind: 'fresh'; system: string }
  | { kind: 'conversation'; key: string; system: string }
  | { kind: 'used' };

export interface Conversation {
  system: string;
  /** Completed turns, oldest first: user, assistant, user, assistant… */
  turns: ChatMessage[];
}

/** Conversations kept in memory, least recently used evicted first. */
export class ConversationStore {
  private readonly map = new Map<string, Conversation>();

  constructor(private readonly maxConversations = 64, private readonly maxTurns = 200) {}

  get(key: string): Conversation | undefined {
    const c = this.map.get(key);
    if (c) {
      this.map.delete(key);
      this.map.set(key, c);
    }
    return c;
  }

  getOrCreate(key: string, system: string): Conversation {
    const existing = this.get(key);
    if (existing) return existing;
    const c: Conversation = { system, turns: [] };
    this.map.set(key, c);
    while (this.map.size > this.maxConversations) this.map.delete(this.map.keys().next().value as string);
    return c;
  }

  addTurn(key: string, user: string, assistant: string): void {
    const c = this.map.get(key);
    if (!c) return;
    c.turns.push({ role: 'user', content: user }, { role: 'assistant', content: assistant });
    if (c.turns.length > this.maxTurns * 2) c.turns.splice(0, c.turns.length - this.maxTurns * 2);
  }

  /** Replaces a conversation's turns (truncation, a transcript), creating it if needed. */
  setTurns(key: string, turns: readonly ChatMessage[], system?: string): void {
    const c = this.getOrCreate(key, system ?? '');
    if (system !== undefined) c.system = system;
    c.turns = turns.map((t) => ({ ...t }));
  }

  delete(key: string): boolean {
    return this.map.delete(key);
  }

  get size(): number {
    return this.map.size;
  }
}
