/**
 * When to restart a crashed child and when to stop trying. Exponential backoff with jitter
 * (Pebble: 0.5 s × 2 up to 30 s; PM2 resets after 30 s of uptime) plus a crash budget (systemd's
 * StartLimitBurst within StartLimitIntervalSec; FlowFuse's safe mode after repeated quick crashes).
 * Pure: the clock and the random source are injected, nothing is scheduled here.
 */
export interface RestartPolicyOptions {
  /** First delay. Default 1000 ms. */
  baseMs?: number;
  /** Growth per consecutive crash. Default 2. */
  factor?: number;
  /** Cap on the delay. Default 30 000 ms. */
  maxMs?: number;
  /** Relative spread: the delay is scaled by a factor in [1 - jitter, 1 + jitter]. Default 0.2. */
  jitter?: number;
  /** Crashes tolerated within `windowMs`; the next one gives up. Default 5. */
  maxCrashes?: number;
  /**
   * Budget window. Default 10 minutes: a model load takes 65–135 s on a Pi 5, so a shorter window
   * could never see a crash loop during loading.
   */
  windowMs?: number;
  /** A run at least this long counts as stable: the backoff starts over at `baseMs`. Default 60 000 ms. */
  stableMs?: number;
  now?: () => number;
  /** Uniform in [0, 1). */
  random?: () => number;
}

export type RestartDecision =
  | { action: 'restart'; delayMs: number; attempt: number }
  | { action: 'give-up'; reason: string };

export class RestartPolicy {
  private readonly baseMs: number;
  private readonly factor: number;
  private readonly maxMs: number;
  private readonly jitter: number;
  private readonly maxCrashes: number;
  private readonly windowMs: number;
  private readonly stableMs: number;
  private readonly now: () => number;
  private readonly random: () => number;
  /** Consecutive crashes since the last stable run: the backoff exponent. */
  private attempt = 0;
  private crashTimes: number[] = [];
  private gaveUp: string | undefined;

  constructor(opts: RestartPolicyOptions = {}) {
    this.baseMs = nonNegative('baseMs', opts.baseMs ?? 1000);
    this.factor = nonNegative('factor', opts.factor ?? 2);
    this.maxMs = nonNegative('maxMs', opts.maxMs ?? 30_000);
    this.jitter = Math.min(1, nonNegative('jitter', opts.jitter ?? 0.2));
    this.maxCrashes = nonNegative('maxCrashes', opts.maxCrashes ?? 5);
    this.windowMs = nonNegative('windowMs', opts.windowMs ?? 600_000);
    this.stableMs = nonNegative('stableMs', opts.stableMs ?? 60_000);
    this.now = opts.now ?? Date.now;
    this.random = opts.random ?? Math.random;
  }

  /** Call once per unexpected exit, with how long that run lasted. */
  onCrash(uptimeMs: number): RestartDecision {
    if (this.gaveUp !== undefined) return { action: 'give-up', reason: this.gaveUp };
    const t = this.now();
    this.crashTimes = this.crashTimes.filter((c) => t - c < this.windowMs);
    this.crashTimes.push(t);
    if (this.crashTimes.length > this.maxCrashes) {
      this.gaveUp = `crashed ${this.crashTimes.length} times within ${formatSeconds(this.windowMs)} (budget ${this.maxCrashes})`;
      return { action: 'give-up', reason: this.gaveUp };
    }
    if (uptimeMs >= this.stableMs) this.attempt = 0;
    this.attempt += 1;
    const raw = Math.min(this.maxMs, this.baseMs * this.factor ** (this.attempt - 1));
    const spread = 1 + this.jitter * (2 * this.random() - 1);
    const delayMs = Math.max(0, Math.min(this.maxMs, Math.round(raw * spread)));
    return { action: 'restart', delayMs, attempt: this.attempt };
  }

  /**
   * The child has run long enough to be trusted again: the next crash starts the backoff over.
   * The crash budget keeps counting, so a runtime that loads and then dies on every first request
   * still ends in give-up. After a give-up, a start can only come from an operator (redeploy,
   * explicit restart), so there this is a full reset().
   */
  onHealthy(): void {
    if (this.gaveUp !== undefined) this.reset();
    this.attempt = 0;
  }

  /** Operator action (redeploy, explicit restart): forget the crash history and a give-up. */
  reset(): void {
    this.attempt = 0;
    this.crashTimes = [];
    this.gaveUp = undefined;
  }

  /** The give-up reason, once the budget is spent. */
  get failedReason(): string | undefined {
    return this.gaveUp;
  }
}

function nonNegative(name: string, v: number): number {
  if (!Number.isFinite(v) || v < 0) throw new RangeError(`RestartPolicy: ${name} must be a finite number >= 0, got ${v}`);
  return v;
}

function formatSeconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}
