/**
 * The uid → session map. The vendor keeps every session forever (`tokenizers[new_uid] = Tokenizer_Http()`,
 * two tokenizers each), so anything that polls `/get_uid` grows it without end. Here the map holds at most
 * `maxSize` sessions and evicts the least recently used one; an evicted uid answers `Invalid uid`.
 * The runtime binary fetches one uid at start and then uses it on every request, so its session stays
 * the most recently used one unless more than `maxSize` other uids are created and used in between.
 */
export const DEFAULT_MAX_SESSIONS = 64;

export class SessionStore<T> {
  private readonly entries = new Map<string, T>();

  constructor(readonly maxSize: number = DEFAULT_MAX_SESSIONS) {
    if (!Number.isInteger(maxSize) || maxSize < 1) throw new RangeError(`maxSessions must be a positive integer, got ${maxSize}`);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Adds a session and returns the uids evicted to make room. */
  add(uid: string, session: T): string[] {
    this.entries.set(uid, session);
    const evicted: string[] = [];
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= this.maxSize) break;
      this.entries.delete(oldest);
      evicted.push(oldest);
    }
    return evicted;
  }

  /** Looks a session up and marks it most recently used (Map order is insertion order). */
  get(uid: string): T | undefined {
    const session = this.entries.get(uid);
    if (session !== undefined) {
      this.entries.delete(uid);
      this.entries.set(uid, session);
    }
    return session;
  }
}
