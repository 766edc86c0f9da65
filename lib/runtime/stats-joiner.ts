/**
 * Attributes the runtime's per-request stdout statistics to the job that caused them.
 *
 * The runtime names no request in its log, and when its stdout is a pipe glibc buffers it fully:
 * `hit eos` and `precompute_len:…, remaining:…` can sit in the buffer until the NEXT request's
 * token callback flushes it (reference §2.1). So lines are joined by order, not by time: every
 * accepted `POST /api/generate` runs `Worker::RunSync`, which prints exactly one
 * `SetKVCache` line (`prefill_grpid:… precompute_len:… input_num_token:…`) before anything else,
 * so the k-th such line opens the k-th generate's block.
 * Resets print `input token num : N, prefill_split_num : S prefill_grpid : G` from
 * `GenerateKVCachePrefill` and no SetKVCache/ttft/eos/GetKVCache lines [src: gregm123456/ax-llm
 * @086f4e6 src/runner/LLM.hpp], so they open no block and are ignored.
 * Call `beginGenerate` only for generates the runtime accepted (HTTP 200), in acceptance order,
 * and `reset()` whenever a new runtime process starts.
 */
import type { EventEmitter } from 'node:events';
import type { RequestStat, RuntimeLogEventMap } from './log-parser';

export interface RuntimeJobStats {
  runtimeTtftMs?: number;
  runtimeTokensPerSecond?: number;
  inputTokens?: number;
  precomputeLen?: number;
  remaining?: number;
  /** The KV cache was empty when this generate started (`first run`). */
  firstRun?: boolean;
  /** SetKVCache refused the turn: the context was full. */
  contextFull?: boolean;
}

interface Block {
  stats: RuntimeJobStats;
  complete: boolean;
}

interface Waiter {
  ordinal: number;
  resolve: () => void;
}

export interface StatsJoinerOptions {
  /** Subscribe to this parser's `stat` events (otherwise call `observe`). */
  source?: EventEmitter<RuntimeLogEventMap>;
  /** How many recent generates to remember. Default 64. */
  keep?: number;
}

export class StatsJoiner {
  private readonly blocks = new Map<number, Block>();
  private readonly jobs = new Map<string, number>();
  private readonly waiters = new Set<Waiter>();
  private readonly keep: number;
  private readonly source: EventEmitter<RuntimeLogEventMap> | undefined;
  private readonly listener = (stat: RequestStat): void => this.observe(stat);
  private opened = 0;
  private begun = 0;

  constructor(opts: StatsJoinerOptions = {}) {
    this.keep = opts.keep ?? 64;
    this.source = opts.source;
    this.source?.on('stat', this.listener);
  }

  /** The runtime accepted a generate for this job. */
  beginGenerate(jobId: string): void {
    this.begun += 1;
    this.jobs.set(jobId, this.begun);
    if (this.jobs.size > this.keep) {
      for (const [id, ordinal] of this.jobs) if (ordinal <= this.begun - this.keep) this.jobs.delete(id);
    }
  }

  /**
   * The runtime's own figures for a job, as soon as its block is complete (the GetKVCache line or a
   * context-full refusal was seen, or the next generate began), or whatever is known after `waitMs`.
   */
  async statsFor(jobId: string, waitMs: number): Promise<RuntimeJobStats> {
    const ordinal = this.jobs.get(jobId);
    if (ordinal === undefined) return {};
    if (!this.isComplete(ordinal) && waitMs > 0) {
      await new Promise<void>((resolve) => {
        const waiter: Waiter = {
          ordinal,
          resolve: () => {
            clearTimeout(timer);
            this.waiters.delete(waiter);
            resolve();
          },
        };
        const timer = setTimeout(waiter.resolve, waitMs);
        this.waiters.add(waiter);
      });
    }
    return { ...(this.blocks.get(ordinal)?.stats ?? {}) };
  }

  observe(stat: RequestStat): void {
    const current = this.blocks.get(this.opened);
    switch (stat.kind) {
      case 'setKvCache':
        this.open();
        break;
      case 'inputTokens':
        if (stat.reset) return;
        // Fallback for a log without the SetKVCache line: a second Run header means a new generate.
        if (!current || current.complete || current.stats.inputTokens !== undefined) this.open();
        this.update({ inputTokens: stat.tokens });
        break;
      case 'firstRun':
        this.update({ firstRun: true });
        break;
      case 'ttft':
        this.update({ runtimeTtftMs: stat.ms });
        break;
      case 'hitEos':
        this.update({ runtimeTokensPerSecond: stat.tokensPerSecond });
        break;
      case 'kvCache':
        this.update({ precomputeLen: stat.precomputeLen, remaining: stat.remaining }, true);
        break;
      case 'contextFull':
        this.update({ contextFull: true }, true);
        break;
    }
    this.wake();
  }

  /** A new runtime process: its log starts counting from zero again. */
  reset(): void {
    this.opened = 0;
    this.begun = 0;
    this.blocks.clear();
    this.jobs.clear();
    for (const w of [...this.waiters]) w.resolve();
  }

  dispose(): void {
    this.source?.off('stat', this.listener);
    for (const w of [...this.waiters]) w.resolve();
  }

  private open(): void {
    const previous = this.blocks.get(this.opened);
    if (previous) previous.complete = true;
    this.opened += 1;
    this.blocks.set(this.opened, { stats: {}, complete: false });
    this.blocks.delete(this.opened - this.keep);
  }

  private update(patch: RuntimeJobStats, completes = false): void {
    const block = this.blocks.get(this.opened);
    if (!block || block.complete) return;
    Object.assign(block.stats, patch);
    if (completes) block.complete = true;
  }

  private isComplete(ordinal: number): boolean {
    return this.blocks.get(ordinal)?.complete === true || this.opened > ordinal;
  }

  private wake(): void {
    for (const w of [...this.waiters]) if (this.isComplete(w.ordinal)) w.resolve();
  }
}
