/**
 * Remembers recently answered requests so that a QoS 1 redelivery (at-least-once, so duplicates
 * are normal: reliability §4.2) is answered once. Bounded in count, in age and in bytes: a bridge
 * that runs for months must not grow, a key reused a long time later is a new request, and a
 * requester's key (topic + id or correlation data, any length) is kept only as a fixed-size digest,
 * so 2,048 entries never hold more than ENTRY_BYTES each however long the ids were.
 */
import { createHash } from 'node:crypto';

export interface DedupeOptions {
  /** Most keys kept; the oldest is forgotten first. Default 2048. */
  maxEntries?: number;
  /** How long a key is remembered, ms. Default 10 minutes (well past any broker's redelivery). */
  ttlMs?: number;
  now?: () => number;
}

/** A base64 SHA-256 digest (44 characters) plus the Map entry and timestamp, generously rounded up. */
export const ENTRY_BYTES = 256;

export class DedupeMemory {
  /** Insertion order is age order, so the first key is always the oldest. */
  private readonly seenAt = new Map<string, number>();
  private readonly maxEntries: number;
  private readonly ttlMs: number;
  private readonly now: () => number;

  constructor(opts: DedupeOptions = {}) {
    this.maxEntries = opts.maxEntries ?? 2048;
    this.ttlMs = opts.ttlMs ?? 10 * 60 * 1000;
    this.now = opts.now ?? Date.now;
  }

  get size(): number {
    return this.seenAt.size;
  }

  /** The most memory the keys can take: every entry has the same size whatever the key was. */
  get maxBytes(): number {
    return this.maxEntries * ENTRY_BYTES;
  }

  /** Records the key; true when it was already there (a duplicate), false the first time. */
  checkAndRemember(key: string): boolean {
    const now = this.now();
    this.evictExpired(now);
    const digest = createHash('sha256').update(key).digest('base64');
    if (this.seenAt.has(digest)) return true;
    this.seenAt.set(digest, now);
    while (this.seenAt.size > this.maxEntries) {
      const oldest = this.seenAt.keys().next().value as string;
      this.seenAt.delete(oldest);
    }
    return false;
  }

  private evictExpired(now: number): void {
    for (const [key, at] of this.seenAt) {
      if (now - at < this.ttlMs) break;
      this.seenAt.delete(key);
    }
  }
}
