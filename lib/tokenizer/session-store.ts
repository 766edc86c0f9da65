/**
 * The uid → session map. The vendor keeps every session forever (`tokenizers[new_uid] = Tokenizer_Http()`,
 * two tokenizers each), so anything that polls `/get_uid` grows it without end. Here the map holds at most
 * `maxSize` sessions and evicts the least recently used one; an evicted uid answers `Invalid uid`.
 * Sessions handed to the package's own runtime are pinned: they are never evicted, whatever else asks
 * for uids (a runtime whose uid vanishes aborts on its next request). At most MAX_PINNED are kept pinned.
 */
export const DEFAULT_MAX_SESSIONS = 64;
/** A runtime takes one uid per start (a few more when Init retries); older pins are released first. */
const MAX_PINNED = 4;

export class SessionStore<T> {
  private readonly entries = new Map<string, T>();
  private readonly pinned: string[] = [];

  constructor(readonly maxSize: number = DEFAULT_MAX_SESSIONS) {
    if (!Number.isInteger(maxSize) || maxSize < 1) throw new RangeError(`maxSessions must be a positive integer, got ${maxSize}`);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Adds a session and returns the uids evicted to make room (never a pinned one). */
  add(uid: string, session: T): string[] {
    this.entries.set(uid, session);
    const evicted: string[] = [];
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= Math.max(this.maxSize, this.pinned.length + 1)) break;
      if (this.pinned.includes(oldest) || oldest === uid) continue;
      this.entries.delete(oldest);
      evicted.push(oldest);
    }
    return evicted;
  }

  /** Keeps `uid` whatever else is added (it belongs to the package's runtime). */
  pin(uid: string): void {
    if (!this.entries.has(uid) || this.pinned.includes(uid)) return;
    this.pinned.push(uid);
    while (this.pinned.length > MAX_PINNED) this.pinned.shift();
  }

  isPinned(uid: string): boolean {
    return this.pinned.includes(uid);
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
