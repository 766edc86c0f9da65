/**
 * Status updates for a node that shows a runtime's work. Editors choke on per-token updates, so
 * changes are coalesced: at most one update per `minIntervalMs`, the latest one always wins.
 */
export class StatusThrottle<T> {
  private last = 0;
  private pending: T | undefined;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly apply: (s: T) => void, private readonly minIntervalMs = 500) {}

  /** `urgent` bypasses the throttle (errors, done) and drops anything pending. */
  set(status: T, urgent = false): void {
    if (urgent) {
      this.clear();
      this.write(status);
      return;
    }
    const wait = this.last + this.minIntervalMs - Date.now();
    if (wait <= 0 && !this.timer) {
      this.write(status);
      return;
    }
    this.pending = status;
    this.timer ??= setTimeout(() => {
      this.timer = null;
      if (this.pending !== undefined) this.write(this.pending);
    }, Math.max(wait, 0));
  }

  clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.pending = undefined;
  }

  private write(s: T): void {
    this.pending = undefined;
    this.last = Date.now();
    this.apply(s);
  }
}
