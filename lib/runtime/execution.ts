/**
 * Runs one job on a ready runtime: brings the KV cache to the context the job needs (reset, with a
 * conversation's history restored when the tokenizer allows it), generates through the G1 client,
 * and turns the raw deltas into what the caller asked for (think block stripped, max_tokens cut,
 * timeouts) and into stats. A context-full answer is retried once in a fresh context.
 */
import { Ax650Error, toAx650Error } from '../errors';
import type { ContextContent, ConversationStore } from './context-tracker';
import { ThinkFilter } from './think-filter';
import { normalizeHistory, type FitResult } from './conversation-fit';
import { measuredResult, timeoutError, type RuntimeReportedStats } from './job-outcome';
import type { Job } from './job';
import type { ChatMessage, DoneReason, JobResult, JobStats } from './types';

export interface GenerateClient {
  reset(systemPrompt: string | undefined, opts?: { signal?: AbortSignal }): Promise<{ prefillMs: number }>;
  generate(
    req: { prompt: string; temperature: number; topK: number; topP: number; repetitionPenalty: number },
    hooks: { onDelta(text: string): void; onAccepted?(): void; signal?: AbortSignal; wedgeMs?: number },
  ): Promise<{ text: string; reason: 'done' | 'stopped' | 'context-full' }>;
}

export type { RuntimeReportedStats } from './job-outcome';

export interface ExecutionContext {
  client: GenerateClient;
  countTokens(text: string): number;
  /** The longest prefix of `text` that is at most `n` tokens. */
  truncateToTokens(text: string, n: number): string;
  sampling: { temperature: number; topK: number; topP: number; repetitionPenalty: number };
  defaultSystem: string;
  conversations: ConversationStore;
  getContext(): ContextContent;
  setContext(c: ContextContent): void;
  /** Arms the built-in tokenizer so the next reset restores this history; null with a tokenizer that cannot. */
  restoreHistory: ((messages: ChatMessage[]) => void) | null;
  /** Drops the oldest turns until history + prompt fit the runtime's context; null when limits are unknown. */
  fit(system: string, turns: readonly ChatMessage[], prompt: string, maxTokens: number | undefined): FitResult | null;
  beginGenerate(jobId: string): void;
  /** The runtime's recent output, for a crash the client noticed before the process exit was reported. */
  logTail?(): string;
  /** Resolves when a reset already under way (the reset ahead) has finished; never rejects. */
  settle(): Promise<void>;
  runtimeStats(jobId: string): Promise<RuntimeReportedStats>;
  wedgeMs: number;
  timeouts: { firstTokenMs: number; idleMs: number; totalMs: number };
  /**
   * How long the runtime may take to come back from a stop (timeout, abort, max_tokens) before it is
   * declared wedged: `onStuck` is then called while the job's generate is still under way.
   */
  stopBoundMs?: number;
  /** The runtime ignores the stop (a wedged NPU): the owner ends the process and restarts it. */
  onStuck?(error: Ax650Error): void;
}

type StopReason = 'abort' | 'timeout' | 'length' | 'crash';

interface Plan {
  prompt: string;
  system: string;
  /** Turns to have in the context before the prompt; null for a stateless prompt. */
  history: ChatMessage[] | null;
  conversation: string | null;
  /** The history came with the job (msg.messages, /api/chat): always restored. */
  transcript: boolean;
}

export class JobExecution {
  private readonly ctl = new AbortController();
  private stopReason: StopReason | null = null;
  private crashError: Ax650Error | null = null;
  private timeoutWhich = '';
  /** The runtime accepted a generate for this job (its KV cache now holds the turn, even a stopped one). */
  private accepted = false;
  private stuckTimer: NodeJS.Timeout | undefined;
  private finished = false;
  /** The client reported the runtime wedged (RUNTIME_WEDGED) during this job: the owner must restart it. */
  wedgedError: Ax650Error | null = null;

  constructor(private readonly job: Job, private readonly ctx: ExecutionContext) {}

  /** Ends the job early; the generate loop stops the runtime and the job settles with the matching reason. */
  stop(reason: StopReason, error?: Ax650Error): void {
    if (this.stopReason) return;
    this.stopReason = reason;
    if (error) this.crashError = error;
    this.ctl.abort();
    // A crash has already ended the process; any other stop needs the runtime to obey /api/stop.
    const bound = this.ctx.stopBoundMs;
    if (reason !== 'crash' && bound !== undefined && this.ctx.onStuck && !this.finished) {
      this.stuckTimer = setTimeout(() => {
        if (this.finished) return;
        this.ctx.onStuck?.(
          new Ax650Error('RUNTIME_WEDGED', `The runtime did not come back from a stop within ${bound} ms (it ignores /api/stop, as a wedged NPU does).`, { params: { ms: bound } }),
        );
      }, bound);
    }
  }

  async run(): Promise<void> {
    const { job, ctx } = this;
    const req = job.request;
    const started = job.startedAt ?? Date.now();
    const queueMs = started - job.submittedAt;
    const think = req.think === true;
    const filter = think ? null : new ThinkFilter();
    const limits = { ...ctx.timeouts, ...stripUndefined(req.timeouts ?? {}) };
    let raw = '';
    let visible = '';
    let firstAt: number | null = null;
    let idleTimer: NodeJS.Timeout | undefined;
    const timers: NodeJS.Timeout[] = [];
    const timeout = (which: string) => () => {
      if (this.stopReason) return;
      this.timeoutWhich = which;
      this.stop('timeout');
      // The error reaches the caller now; stopping the runtime goes on behind it (and is bounded by stopBoundMs).
      job.fail(timeoutError(this.timeoutWhich, limits), measuredResult(ctx.countTokens, { prompt: plan.prompt, text: visible, started, firstAt, queueMs, doneReason: 'timeout' }, { ...stats }));
    };
    timers.push(setTimeout(timeout('first token'), limits.firstTokenMs));
    timers.push(setTimeout(timeout('total'), limits.totalMs));

    const emitVisible = (text: string) => {
      if (text === '' || this.stopReason) return;
      if (firstAt === null) {
        firstAt = Date.now();
        clearTimeout(timers[0]);
      }
      clearTimeout(idleTimer);
      idleTimer = setTimeout(timeout('idle'), limits.idleMs);
      if (req.maxTokens !== undefined) {
        const candidate = visible + text;
        if (ctx.countTokens(candidate) >= req.maxTokens) {
          const cut = ctx.truncateToTokens(candidate, req.maxTokens);
          const rest = cut.slice(visible.length);
          visible = cut;
          job.pushDelta(rest);
          this.stop('length');
          return;
        }
      }
      visible += text;
      job.pushDelta(text);
    };

    const plan = this.plan();
    const stats: Partial<JobStats> = {};
    try {
      stats.resetMs = await this.prepareContext(plan, stats);
      let outcome = await this.generateOnce(plan.prompt, (d) => {
        raw += d;
        emitVisible(filter ? filter.push(d) : d);
      });
      if (outcome.reason === 'context-full' && !this.stopReason) {
        stats.contextReset = true;
        if (plan.conversation) ctx.conversations.delete(plan.conversation);
        ctx.setContext({ kind: 'unknown' });
        stats.resetMs = (stats.resetMs ?? 0) + (await ctx.client.reset(plan.system, { signal: this.ctl.signal })).prefillMs;
        outcome = await this.generateOnce(plan.prompt, (d) => {
          raw += d;
          emitVisible(filter ? filter.push(d) : d);
        });
        if (outcome.reason === 'context-full') {
          ctx.setContext({ kind: 'unknown' });
          throw new Ax650Error('CONTEXT_FULL', 'The prompt does not fit in the model context even after a reset; shorten it.');
        }
      }
      if (filter && !this.stopReason) emitVisible(filter.flush());
    } catch (e) {
      const err = toAx650Error(e);
      if (err.code === 'RUNTIME_WEDGED') this.wedgedError = err;
      // A stop during the reset surfaces as a rejected reset; the stop reason decides how the job ends.
      if (!this.stopReason || this.stopReason === 'crash') {
        this.finish();
        this.finishTimers(timers, idleTimer);
        ctx.setContext({ kind: 'unknown' });
        job.fail(withTail(this.crashError ?? err, ctx.logTail), await this.result(plan.prompt, visible, started, firstAt, queueMs, 'abort', stats));
        return;
      }
      ctx.setContext({ kind: 'unknown' });
    }
    this.finish();
    this.finishTimers(timers, idleTimer);
    this.afterTurn(plan, raw);
    const reason: DoneReason = this.stopReason === 'abort' ? 'abort' : this.stopReason === 'length' ? 'length' : this.stopReason === 'timeout' ? 'timeout' : 'stop';
    const result = await this.result(plan.prompt, visible, started, firstAt, queueMs, reason, stats);
    if (this.stopReason === 'crash') {
      job.fail(this.crashError ?? new Ax650Error('RUNTIME_CRASHED', 'The NPU runtime stopped during generation.'), result);
    } else if (this.stopReason === 'timeout') {
      // Normally settled when the timer fired; this covers nothing but keeps the outcome explicit.
      job.fail(timeoutError(this.timeoutWhich, limits), result);
    } else {
      job.finish(result);
    }
  }

  /** The run is over (the runtime answered or failed): a stop can no longer be stuck. */
  private finish(): void {
    this.finished = true;
    clearTimeout(this.stuckTimer);
  }

  private plan(): Plan {
    const req = this.job.request;
    if (req.messages && req.messages.length > 0) {
      const sys = req.messages.find((m) => m.role === 'system');
      const rest = req.messages.filter((m) => m.role !== 'system');
      const last = rest[rest.length - 1];
      const prompt = last && last.role === 'user' ? last.content : req.prompt;
      const history = normalizeHistory(last && last.role === 'user' ? rest.slice(0, -1) : rest);
      return { prompt, system: sys?.content ?? req.system ?? this.ctx.defaultSystem, history, conversation: req.conversation ?? null, transcript: true };
    }
    if (req.conversation) {
      const conv = this.ctx.conversations.getOrCreate(req.conversation, req.system ?? this.ctx.defaultSystem);
      return { prompt: req.prompt, system: conv.system, history: conv.turns, conversation: req.conversation, transcript: false };
    }
    return { prompt: req.prompt, system: req.system ?? this.ctx.defaultSystem, history: null, conversation: null, transcript: false };
  }

  /**
   * Resets the runtime unless its context is already the one this job needs; returns the prefill time.
   * With the built-in tokenizer a conversation's (or transcript's) history is restored in the reset's
   * prefill (lib/tokenizer/session.ts); otherwise the history is dropped and the stats say so.
   */
  private async prepareContext(plan: Plan, stats: Partial<JobStats>): Promise<number> {
    const { ctx } = this;
    await ctx.settle();
    if (this.stopReason) return 0;
    let mustReset = plan.transcript;
    if (plan.history) {
      const fit = ctx.fit(plan.system, plan.history, plan.prompt, this.job.request.maxTokens);
      if (fit && fit.droppedTurns > 0) {
        stats.truncatedTurns = fit.droppedTurns;
        plan.history = fit.turns;
        if (plan.conversation) ctx.conversations.setTurns(plan.conversation, fit.turns);
        mustReset = true;
      }
    }
    const now = ctx.getContext();
    if (!mustReset && plan.conversation && now.kind === 'conversation' && now.key === plan.conversation && now.system === plan.system) return 0;
    if (!mustReset && !plan.conversation && !plan.history && now.kind === 'fresh' && now.system === plan.system) return 0;
    if (plan.history && plan.history.length > 0) {
      if (ctx.restoreHistory) ctx.restoreHistory(plan.history);
      else {
        stats.historyDropped = true;
        plan.history = [];
        if (plan.conversation) ctx.conversations.setTurns(plan.conversation, []);
      }
    }
    ctx.setContext({ kind: 'unknown' });
    const { prefillMs } = await ctx.client.reset(plan.system, { signal: this.ctl.signal });
    return prefillMs;
  }

  private async generateOnce(prompt: string, onDelta: (d: string) => void) {
    const s = { ...this.ctx.sampling, ...stripUndefined(this.job.request.sampling ?? {}) };
    // The stats joiner counts only generates the runtime accepted, in order (lib/runtime/stats-joiner.ts).
    return this.ctx.client.generate({ prompt, ...s }, { onDelta, onAccepted: () => {
        this.accepted = true;
        this.ctx.beginGenerate(this.job.id);
      }, signal: this.ctl.signal, wedgeMs: this.ctx.wedgeMs });
  }

  private afterTurn(plan: Plan, raw: string): void {
    const { ctx } = this;
    if (!this.accepted) {
      ctx.setContext({ kind: 'unknown' });
      return;
    }
    if (plan.conversation && this.stopReason !== 'crash') {
      // The runtime keeps even a stopped reply as last_reply (reference §1.6), so the history does too.
      if (plan.transcript) ctx.conversations.setTurns(plan.conversation, plan.history ?? [], plan.system);
      ctx.conversations.addTurn(plan.conversation, plan.prompt, stripThink(raw));
      ctx.setContext({ kind: 'conversation', key: plan.conversation, system: plan.system });
    } else {
      ctx.setContext(this.stopReason === 'crash' ? { kind: 'unknown' } : { kind: 'used' });
    }
  }

  private async result(prompt: string, text: string, started: number, firstAt: number | null, queueMs: number, doneReason: DoneReason, extra: Partial<JobStats>): Promise<JobResult> {
    const rt = this.stopReason === 'crash' ? {} : await this.ctx.runtimeStats(this.job.id).catch(() => ({} as RuntimeReportedStats));
    return measuredResult(this.ctx.countTokens, { prompt, text, started, firstAt, queueMs, doneReason }, extra, rt);
  }

  private finishTimers(timers: NodeJS.Timeout[], idle: NodeJS.Timeout | undefined): void {
    for (const t of timers) clearTimeout(t);
    clearTimeout(idle);
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}


/** A refused connection reaches the job before the exit event that carries the tail (the pipes drain first). */
function withTail(err: Ax650Error, logTail: (() => string) | undefined): Ax650Error {
  if (err.code !== 'RUNTIME_CRASHED' || err.tail || !logTail) return err;
  return new Ax650Error(err.code, err.message, { params: err.params, tail: logTail(), cause: err });
}

export function stripThink(text: string): string {
  return text.replace(/^\s*<think>[\s\S]*?<\/think>\s*/, '');
}
