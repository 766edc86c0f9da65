/**
 * Runs one job on a ready runtime: brings the KV cache to the context the job needs (reset, with a
 * conversation's history restored when the tokenizer allows it), generates through the runtime's client (lib/client/runtime-client.ts),
 * and turns the raw deltas into what the caller asked for (think block stripped, max_tokens cut,
 * timeouts) and into stats. A context-full answer is retried once in a fresh context.
 */
import { Ax650Error, toAx650Error } from '../errors';
import type { RuntimeClient, TurnOutcome } from '../client/runtime-client';
import { contextSystem, planFor, prepareContext, type Plan, type PrepContext } from './context-prep';
import { ThinkFilter } from './think-filter';
import type { Job } from './job';
import { turnRecord } from './tool-turns';
import type { DoneReason, JobResult, JobStats, ToolCall } from './types';

export interface RuntimeReportedStats {
  runtimeTtftMs?: number;
  runtimeTokensPerSecond?: number;
  inputTokens?: number;
  /** `precompute_len` after the turn: what the KV cache now holds. */
  precomputeLen?: number;
}

export interface ExecutionContext extends PrepContext {
  client: RuntimeClient;
  countTokens(text: string): number;
  /** The longest prefix of `text` that is at most `n` tokens. */
  truncateToTokens(text: string, n: number): string;
  sampling: { temperature: number; topK: number; topP: number; repetitionPenalty: number };
  /** Reply budget sent to a runtime that honours max_tokens when the job sets none, given the context's tokens. */
  replyBudget(contextTokens: number | undefined): number;
  beginGenerate(jobId: string): void;
  /** The runtime's recent output, for a crash the client noticed before the process exit was reported. */
  logTail?(): string;
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
  /** What the runtime reported its KV cache holds after this turn. */
  private heldTokens: number | undefined;
  /** The max_tokens sent to a runtime that honours it. */
  private sentMaxTokens: number | undefined;
  /** The tool calls the client took out of the reply. */
  private toolCalls: ToolCall[] | undefined;

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
      job.fail(this.timeoutError(limits), this.partialResult(visible, started, firstAt, queueMs, 'timeout', { ...stats }, plan));
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

    const plan = planFor(req, ctx);
    const stats: Partial<JobStats> = {};
    try {
      stats.resetMs = await prepareContext(ctx, plan, req.maxTokens, stats, this.ctl.signal);
      let outcome = await this.generateOnce(plan, (d) => {
        raw += d;
        emitVisible(filter ? filter.push(d) : d);
      });
      // Tool results cannot go into a fresh context without the calls they answer.
      if (outcome.reason === 'context-full' && plan.toolResults) {
        ctx.setContext({ kind: 'unknown' });
        throw new Ax650Error('CONTEXT_FULL', 'The tool results do not fit in the model context after the conversation so far; shorten the tool results or reset the conversation.');
      }
      if (outcome.reason === 'context-full' && !this.stopReason) {
        // Only when the fit could not see the limits: the history goes, the conversation and this turn stay.
        stats.contextReset = true;
        if (plan.history && plan.history.length > 0) stats.truncatedTurns = (stats.truncatedTurns ?? 0) + Math.ceil(plan.history.length / 2);
        plan.history = plan.history ? [] : null;
        if (plan.conversation && !plan.transcript) ctx.conversations.setTurns(plan.conversation, []);
        ctx.setContext({ kind: 'unknown' });
        stats.resetMs = (stats.resetMs ?? 0) + (await ctx.client.reset(plan.system, { signal: this.ctl.signal })).prefillMs;
        outcome = await this.generateOnce(plan, (d) => {
          raw += d;
          emitVisible(filter ? filter.push(d) : d);
        });
        if (outcome.reason === 'context-full') {
          ctx.setContext({ kind: 'unknown' });
          throw new Ax650Error('CONTEXT_FULL', 'The prompt does not fit in the model context even after a reset; shorten it.');
        }
      }
      if (outcome.toolCalls && outcome.toolCalls.length > 0) this.toolCalls = outcome.toolCalls;
      if (filter && !this.stopReason) emitVisible(filter.flush());
      // A runtime that honours max_tokens ends such a reply like any other (axllm's finish_reason is always "stop").
      const limit = this.sentMaxTokens;
      if (!this.stopReason && limit !== undefined && ((outcome.pieces ?? 0) >= limit || ctx.countTokens(raw) >= limit)) this.stopReason = 'length';
    } catch (e) {
      const err = toAx650Error(e);
      if (err.code === 'RUNTIME_WEDGED') this.wedgedError = err;
      // A stop during the reset surfaces as a rejected reset; the stop reason decides how the job ends.
      if (!this.stopReason || this.stopReason === 'crash') {
        this.finish();
        this.finishTimers(timers, idleTimer);
        ctx.setContext({ kind: 'unknown' });
        job.fail(withTail(this.crashError ?? err, ctx.logTail), await this.result(plan, visible, started, firstAt, queueMs, 'abort', stats));
        return;
      }
      ctx.setContext({ kind: 'unknown' });
    }
    this.finish();
    this.finishTimers(timers, idleTimer);
    this.afterTurn(plan, raw);
    const reason: DoneReason = this.stopReason === 'abort' ? 'abort' : this.stopReason === 'length' ? 'length' : this.stopReason === 'timeout' ? 'timeout' : 'stop';
    const result = await this.result(plan, visible, started, firstAt, queueMs, reason, stats);
    const now = ctx.getContext();
    if (now.kind === 'conversation' && this.heldTokens !== undefined) ctx.setContext({ ...now, heldTokens: this.heldTokens });
    if (this.stopReason === 'crash') {
      job.fail(this.crashError ?? new Ax650Error('RUNTIME_CRASHED', 'The NPU runtime stopped during generation.'), result);
    } else if (this.stopReason === 'timeout') {
      // Normally settled when the timer fired; this covers nothing but keeps the outcome explicit.
      job.fail(this.timeoutError(limits), result);
    } else {
      job.finish(result);
    }
  }

  private timeoutError(limits: { firstTokenMs: number; idleMs: number; totalMs: number }): Ax650Error {
    const which = this.timeoutWhich;
    const ms = which === 'idle' ? limits.idleMs : which === 'total' ? limits.totalMs : limits.firstTokenMs;
    const what = which === 'total' ? 'end of the reply' : which === 'idle' ? 'new token' : 'first token';
    return new Ax650Error('TIMEOUT', `No ${what} within ${ms} ms (${which} timeout); the generation was stopped.`, { params: { which, ms } });
  }

  /** The run is over (the runtime answered or failed): a stop can no longer be stuck. */
  private finish(): void {
    this.finished = true;
    clearTimeout(this.stuckTimer);
  }

  private async generateOnce(plan: Plan, onDelta: (d: string) => void): Promise<TurnOutcome> {
    const { ctx } = this;
    const req = this.job.request;
    const sampling = { ...ctx.sampling, ...stripUndefined(req.sampling ?? {}) };
    // A stateless runtime gets tool results after the history; a stateful one gets them armed in its tokenizer.
    const stateless = !ctx.client.capabilities.statefulContext;
    const history = stateless && plan.toolResults ? [...(plan.history ?? []), ...plan.toolResults] : (plan.history ?? []);
    const turn: Parameters<RuntimeClient['generate']>[0] = { prompt: plan.prompt, system: plan.system, history, sampling, think: req.think === true };
    if (plan.images.length > 0) turn.images = plan.images;
    if (ctx.client.capabilities.maxTokens) turn.maxTokens = this.sentMaxTokens = req.maxTokens ?? ctx.replyBudget(plan.contextTokens);
    if (plan.tools) turn.tools = plan.tools;
    if (req.toolChoice !== undefined) turn.toolChoice = req.toolChoice;
    if (plan.toolResults && !stateless) ctx.armToolResults?.(plan.toolResults);
    // The stats joiner counts only generates the runtime accepted, in order (lib/runtime/stats-joiner.ts).
    const onAccepted = () => {
      this.accepted = true;
      ctx.beginGenerate(this.job.id);
    };
    const outcome = await ctx.client.generate(turn, { onDelta, onAccepted, signal: this.ctl.signal, wedgeMs: ctx.wedgeMs });
    this.toolCalls = outcome.toolCalls;
    return outcome;
  }

  private afterTurn(plan: Plan, raw: string): void {
    const { ctx } = this;
    if (!this.accepted) {
      ctx.setContext({ kind: 'unknown' });
      return;
    }
    // A msg.reset of this conversation while the turn ran: the turn belongs to the forgotten history.
    const forgotten = plan.stored !== null && ctx.conversations.get(plan.conversation ?? '') !== plan.stored;
    if (plan.conversation && this.stopReason !== 'crash' && !forgotten) {
      // The runtime keeps even a stopped reply as last_reply (reference §1.6), so the history does too.
      if (plan.transcript) ctx.conversations.setTurns(plan.conversation, plan.history ?? [], plan.system);
      ctx.conversations.append(plan.conversation, turnRecord(plan, stripThink(raw), this.toolCalls));
      ctx.setContext({ kind: 'conversation', key: plan.conversation, system: contextSystem(plan) });
    } else {
      ctx.setContext(this.stopReason === 'crash' ? { kind: 'unknown' } : { kind: 'used' });
    }
  }

  private async result(plan: Plan, text: string, started: number, firstAt: number | null, queueMs: number, doneReason: DoneReason, extra: Partial<JobStats>): Promise<JobResult> {
    // The runtime prints a run's stats at its end: not yet for a crash, nor for a stop that does not end the run (axllm).
    const noStats = this.stopReason === 'crash' || (this.stopReason !== null && this.stopReason !== 'length' && !this.ctx.client.capabilities.stopEndsRun);
    const rt = noStats ? {} : await this.ctx.runtimeStats(this.job.id).catch(() => ({} as RuntimeReportedStats));
    return this.partialResult(text, started, firstAt, queueMs, doneReason, extra, plan, rt);
  }

  /** The result from what the package measured itself, without waiting for the runtime's own log lines. */
  private partialResult(text: string, started: number, firstAt: number | null, queueMs: number, doneReason: DoneReason, extra: Partial<JobStats>, plan: Plan, rt: RuntimeReportedStats = {}): JobResult {
    const end = Date.now();
    const completionTokens = text === '' ? 0 : this.ctx.countTokens(text);
    const decodeMs = firstAt === null ? 0 : end - firstAt;
    const stats: JobStats = {
      // A stateless runtime prefills the whole transcript; its log counts only what its prefix cache missed.
      promptTokens: (this.ctx.client.capabilities.statefulContext ? undefined : plan.contextTokens) ?? rt.inputTokens ?? this.ctx.countTokens(plan.prompt),
      completionTokens,
      ttftMs: firstAt === null ? null : firstAt - started,
      tokensPerSecond: completionTokens > 1 && decodeMs > 0 ? round((completionTokens - 1) / (decodeMs / 1000)) : null,
      durationMs: end - started,
      queueMs,
      doneReason,
      ...extra,
    };
    this.heldTokens = rt.precomputeLen;
    if (rt.runtimeTtftMs !== undefined) stats.runtimeTtftMs = rt.runtimeTtftMs;
    if (rt.runtimeTokensPerSecond !== undefined) stats.runtimeTokensPerSecond = rt.runtimeTokensPerSecond;
    return this.toolCalls && this.toolCalls.length > 0 ? { text, stats, toolCalls: this.toolCalls } : { text, stats };
  }

  private finishTimers(timers: NodeJS.Timeout[], idle: NodeJS.Timeout | undefined): void {
    for (const t of timers) clearTimeout(t);
    clearTimeout(idle);
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

/** A refused connection reaches the job before the exit event that carries the tail (the pipes drain first). */
function withTail(err: Ax650Error, logTail: (() => string) | undefined): Ax650Error {
  if (err.code !== 'RUNTIME_CRASHED' || err.tail || !logTail) return err;
  return new Ax650Error(err.code, err.message, { params: err.params, tail: logTail(), cause: err });
}

export function stripThink(text: string): string {
  return text.replace(/^\s*<think>[\s\S]*?<\/think>\s*/, '');
}
