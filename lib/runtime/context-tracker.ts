/**
 * What the runtime's single KV cache holds right now, so a job can skip the reset prefill when the
 * context is already the one it needs: a conversation's, or a fresh one with the right system prompt
 * (prepared ahead of time after a stateless job, while the NPU is otherwise idle).
 */
import { keepImageBudget, restoredTurn } from '../vision/transcript';
import { capTurns, closeOpenCalls, readStoredTurns } from './tool-turns';
import type { ChatMessage, PreparedImage } from './types';

export type ContextContent =
  | { kind: 'unknown' }
  | { kind: 'fresh'; system: string }
  | { kind: 'conversation'; key: string; system: string; /** `precompute_len` the runtime reported after the last turn. */ heldTokens?: number }
  | { kind: 'used' };

export interface Conversation {
  system: string;
  /** Completed turns, oldest first: user, assistant, user, assistant…; a tool round is assistant (calls), tool…, assistant. */
  turns: ChatMessage[];
}

/** Conversations kept in memory, least recently used evicted first. */
export class ConversationStore {
  private readonly map = new Map<string, Conversation>();
  /** Called after every change (persistence hooks in here; see toJSON/load). */
  onChange: (() => void) | null = null;

  constructor(private readonly maxConversations = 64, private readonly maxTurns = 200) {}

  /** Every conversation, oldest use first: what a context store persists. */
  toJSON(): Record<string, Conversation> {
    return Object.fromEntries(this.map);
  }

  /** Restores persisted conversations; malformed entries are skipped, not trusted. */
  load(data: unknown): number {
    if (typeof data !== 'object' || data === null) return 0;
    let n = 0;
    for (const [key, value] of Object.entries(data as Record<string, unknown>)) {
      const c = value as Partial<Conversation> | null;
      if (!c || typeof c.system !== 'string' || !Array.isArray(c.turns)) continue;
      // Tool rounds read back whole or not at all (lib/runtime/tool-turns.ts).
      const turns = readStoredTurns(c.turns).map(restoredTurn);
      this.map.set(key, { system: c.system, turns });
      n++;
    }
    while (this.map.size > this.maxConversations) this.map.delete(this.map.keys().next().value as string);
    return n;
  }

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
    this.onChange?.();
    return c;
  }

  addTurn(key: string, user: string, assistant: string, images: readonly PreparedImage[] = []): void {
    this.append(key, [{ role: 'user', content: user, ...(images.length > 0 ? { images: [...images] } : {}) }, { role: 'assistant', content: assistant }]);
  }

  /**
   * Adds a turn's messages: a prompt and its reply, or a tool round's results and the reply after them.
   * Calls left unanswered before a new prompt are closed into text; the cap drops whole exchanges.
   */
  append(key: string, turns: readonly ChatMessage[]): void {
    const c = this.map.get(key);
    if (!c || turns.length === 0) return;
    if (turns[0]!.role !== 'tool') c.turns = closeOpenCalls(c.turns);
    c.turns.push(...turns.map((t) => ({ ...t })));
    // Images stay within a budget (lib/vision/transcript.ts): older ones become the text "[image]".
    if (turns.some((t) => t.images && t.images.length > 0)) c.turns = keepImageBudget(c.turns);
    if (c.turns.length > this.maxTurns * 2) c.turns = capTurns(c.turns, this.maxTurns * 2);
    this.onChange?.();
  }

  /** Replaces a conversation's turns (truncation, a transcript), creating it if needed. */
  setTurns(key: string, turns: readonly ChatMessage[], system?: string): void {
    const c = this.getOrCreate(key, system ?? '');
    if (system !== undefined) c.system = system;
    c.turns = turns.map((t) => ({ ...t }));
    this.onChange?.();
  }

  delete(key: string): boolean {
    const had = this.map.delete(key);
    if (had) this.onChange?.();
    return had;
  }

  get size(): number {
    return this.map.size;
  }
}
