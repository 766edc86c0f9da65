/**
 * Reconnect delays: exponential with jitter. MQTT.js alone retries on a fixed 1 s interval with no
 * jitter (reliability §4.1), so a fleet of bridges would reconnect in lockstep after a broker
 * restart and hammer it; spreading each delay over [½d, d] avoids that while keeping growth.
 */
export interface BackoffOptions {
  /** First delay, ms. Default 500. */
  baseMs?: number;
  /** Ceiling, ms. Default 30 000. */
  maxMs?: number;
  factor?: number;
  /** Returns [0, 1); injectable so tests are exact. */
  random?: () => number;
}

export interface Backoff {
  /** The delay before the next attempt; each call grows the following one. */
  next(): number;
  /** After a successful connection: start again from the base delay. */
  reset(): void;
  readonly attempts: number;
}

export function createBackoff(opts: BackoffOptions = {}): Backoff {
  const baseMs = opts.baseMs ?? 500;
  const maxMs = opts.maxMs ?? 30_000;
  const factor = opts.factor ?? 2;
  const random = opts.random ?? Math.random;
  let attempts = 0;
  return {
    next(): number {
      const ceiling = Math.min(maxMs, baseMs * factor ** attempts);
      attempts += 1;
      return Math.round(ceiling / 2 + (random() * ceiling) / 2);
    },
    reset(): void {
      attempts = 0;
    },
    get attempts(): number {
      return attempts;
    },
  };
}
