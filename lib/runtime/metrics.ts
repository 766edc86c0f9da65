/** The rates and latencies a runtime reports in `info()` (health node, /api/ps): the last and a rolling average. */
export class RuntimeMetrics {
  private readonly rates: number[] = [];
  private ttft: number | null = null;

  constructor(private readonly window = 20) {}

  record(tokensPerSecond: number | null, ttftMs: number | null): void {
    if (tokensPerSecond !== null) {
      this.rates.push(tokensPerSecond);
      if (this.rates.length > this.window) this.rates.shift();
    }
    if (ttftMs !== null) this.ttft = ttftMs;
  }

  get lastTokensPerSecond(): number | null {
    return this.rates.length ? this.rates[this.rates.length - 1]! : null;
  }

  get avgTokensPerSecond(): number | null {
    if (!this.rates.length) return null;
    return Math.round((this.rates.reduce((a, b) => a + b, 0) / this.rates.length) * 100) / 100;
  }

  get lastTtftMs(): number | null {
    return this.ttft;
  }
}
