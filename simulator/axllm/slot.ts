/**
 * openai-api.cpp's concurrency gate [S]: `max_concurrency` 1, a request waits `wait_timeout` for it
 * (5000 ms: setWaitTimeout is never called) and is refused with 503 after that. The holder releases it
 * when the HTTP handler returns — for a stream that is before the first byte.
 */
export class Slot {
  private held = 0;
  private readonly waiters: Array<() => void> = [];

  get concurrency(): number {
    return this.held;
  }

  acquire(waitMs: number): Promise<boolean> {
    if (this.held === 0) {
      this.held = 1;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => {
      const grant = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(grant);
        if (i >= 0) this.waiters.splice(i, 1);
        resolve(false);
      }, waitMs);
      this.waiters.push(grant);
    });
  }

  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.held = 0;
  }
}
