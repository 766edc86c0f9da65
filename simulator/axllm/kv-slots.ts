/**
 * The engine's context(s) [X; docs/multi_slot_kv_cache.md]: each slot remembers the tokens its KV
 * holds (prompt + reply). A request reuses the slot sharing the longest common token prefix with it
 * and prefills only the rest; with no common prefix the least recently used slot is reset and the whole
 * prompt is prefilled. `kv_cache_slots` 1 (default) is the single context of the builds before it.
 */
export class KvSlots {
  private readonly slots: Array<{ tokens: number[]; promptLen: number; used: number }>;
  private tick = 0;

  constructor(count: number) {
    this.slots = Array.from({ length: Math.max(1, count) }, () => ({ tokens: [], promptLen: 0, used: 0 }));
  }

  /** Picks the slot for `tokens`; returns its index and how many leading tokens are already cached. */
  acquire(tokens: readonly number[]): { slot: number; cached: number } {
    let best = -1;
    let bestLen = 0;
    this.slots.forEach((s, i) => {
      let n = 0;
      while (n < s.tokens.length && n < tokens.length && s.tokens[n] === tokens[n]) n++;
      if (n > bestLen) [best, bestLen] = [i, n];
    });
    // With several slots, a prefix that shares only the template head with a slot would evict that slot's
    // conversation for nothing: the simulator counts it a hit only when it keeps at least half of that
    // slot's last prompt (the vendor's exact rule is not published; one slot always rolls back to the
    // common prefix).
    const kept = this.slots[best]?.promptLen ?? 0;
    if (best >= 0 && this.slots.length > 1 && bestLen * 2 < kept) best = -1;
    if (best < 0) {
      best = this.slots.reduce((lru, s, i) => (s.used < (this.slots[lru]?.used ?? Infinity) ? i : lru), 0);
      bestLen = 0;
    }
    // At least the last prompt token runs through the model, or there are no logits to decode from.
    return { slot: best, cached: Math.min(bestLen, Math.max(0, tokens.length - 1)) };
  }

  /** After a run: the slot now holds the prompt and the reply. */
  store(slot: number, prompt: number[], reply: number[]): void {
    const s = this.slots[slot];
    if (!s) return;
    s.tokens = [...prompt, ...reply];
    s.promptLen = prompt.length;
    s.used = ++this.tick;
  }
}
