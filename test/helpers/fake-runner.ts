/**
 * An in-memory JobRunner that behaves like the real Runtime's queue as seen from an ingress:
 * one job at a time, priority then FIFO, a bounded waiting queue that rejects synchronously,
 * events on later ticks (so a caller can attach listeners after `submit` returns), paced
 * deltas, cancellation, expiry and a token budget. Tests assert on `ran` and `running`.
 */
import { EventEmitter } from 'node:events';
import { Ax650Error } from '../../lib/errors';
import type {
  DoneReason,
  JobEventMap,
  JobHandle,
  JobRequest,
  JobResult,
  JobRunner,
  RuntimeEventMap,
  RuntimeInfo,
  RuntimeState,
  ToolCall,
} from '../../lib/runtime/types';

export interface FakeRunnerOptions {
  /** How many jobs may wait (the running one not counted). Default 8. */
  queueLimit?: number;
  /** Delta pace; each delta is one "token" of 1–4 characters. Default 200. */
  tokensPerSecond?: number;
  /** The reply text for a request. Default: a fixed sentence that echoes the prompt's length. */
  reply?: (req: JobRequest) => string;
  modelName?: string;
  /** The tool calls a request with `tools` ends with (their markup is never in the text, as with the real clients). */
  toolCalls?: (req: JobRequest) => ToolCall[] | undefined;
  /** Fault injection: every job fails with RUNTIME_CRASHED (carrying the partial result) after this many deltas. */
  crashAfterTokens?: number;
}

type Phase = 'queued' | 'running' | 'settled';

/** Splits a reply into token-like pieces of 1–4 characters, keeping whitespace with the next word. */
export function splitIntoTokens(text: string): string[] {
  return text.match(/\s*[^\s]{1,4}|\s+$/g) ?? [];
}

function estimateTokens(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

class FakeJob extends EventEmitter<JobEventMap> implements JobHandle {
  readonly result: Promise<JobResult>;
  phase: Phase = 'queued';
  readonly submittedAt = Date.now();
  startedAt = 0;
  firstDeltaAt: number | null = null;
  text = '';
  tokens = 0;
  toolCalls: ToolCall[] | undefined;
  timer: NodeJS.Timeout | null = null;
  private resolveResult!: (r: JobResult) => void;
  private rejectResult!: (e: Ax650Error) => void;
  private readonly onAbort = (): void => this.cancel();

  constructor(
    readonly id: string,
    readonly request: Readonly<JobRequest>,
    private readonly onCancel: (job: FakeJob) => void,
  ) {
    super();
    this.result = new Promise<JobResult>((resolve, reject) => {
      this.resolveResult = resolve;
      this.rejectResult = reject;
    });
    // A caller that only listens to events must not get an unhandled rejection.
    this.result.catch(() => undefined);
    request.signal?.addEventListener('abort', this.onAbort, { once: true });
  }

  cancel(): void {
    if (this.phase !== 'settled') this.onCancel(this);
  }

  finish(doneReason: DoneReason, promptTokens: number): JobResult {
    const result = this.snapshot(doneReason, promptTokens);
    this.settle();
    this.emit('done', result);
    this.resolveResult(result);
    return result;
  }

  /** What was generated so far (also an error's `partial`). */
  snapshot(doneReason: DoneReason, promptTokens: number): JobResult {
    const now = Date.now();
    const decodeMs = this.firstDeltaAt === null ? 0 : now - this.firstDeltaAt;
    const calls = this.toolCalls && doneReason === 'stop' ? { toolCalls: this.toolCalls } : {};
    return {
      ...calls,
      text: this.text,
      stats: {
        promptTokens,
        completionTokens: this.tokens,
        ttftMs: this.firstDeltaAt === null ? null : this.firstDeltaAt - this.startedAt,
        tokensPerSecond: this.tokens > 1 && decodeMs > 0 ? ((this.tokens - 1) * 1000) / decodeMs : null,
        durationMs: now - this.startedAt,
        queueMs: this.startedAt - this.submittedAt,
        doneReason,
      },
    };
  }

  fail(error: Ax650Error): void {
    this.settle();
    if (this.listenerCount('error') > 0) this.emit('error', error);
    this.rejectResult(error);
  }

  private settle(): void {
    this.phase = 'settled';
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.request.signal?.removeEventListener('abort', this.onAbort);
  }
}

export class FakeRunner extends EventEmitter<RuntimeEventMap> implements JobRunner {
  /** Every request that reached the "runtime", in the order they started. */
  readonly ran: JobRequest[] = [];
  /** Every request accepted by `submit`, whether it ran or not. */
  readonly submitted: JobRequest[] = [];
  /** The handle of every accepted job, in submission order, to await its outcome from a test. */
  readonly handles: JobHandle[] = [];
  private readonly queue: FakeJob[] = [];
  private current: FakeJob | null = null;
  private nextId = 1;
  private pumpScheduled = false;
  private readonly queueLimit: number;
  private readonly tokenIntervalMs: number;
  private readonly reply: (req: JobRequest) => string;
  private readonly modelName: string;
  private readonly crashAfterTokens: number | undefined;
  private readonly toolCalls: FakeRunnerOptions['toolCalls'];
  private readonly startedAt = Date.now();
  private lastTokensPerSecond: number | null = null;
  private lastTtftMs: number | null = null;

  constructor(opts: FakeRunnerOptions = {}) {
    super();
    this.queueLimit = opts.queueLimit ?? 8;
    this.tokenIntervalMs = 1000 / (opts.tokensPerSecond ?? 200);
    this.reply = opts.reply ?? ((req) => `This is a simulated reply to a prompt of ${req.prompt.length} characters.`);
    this.modelName = opts.modelName ?? 'qwen3-ax650';
    this.crashAfterTokens = opts.crashAfterTokens;
    this.toolCalls = opts.toolCalls;
  }

  get running(): boolean {
    return this.current !== null;
  }

  get queueDepth(): number {
    return this.queue.length;
  }

  submit(request: JobRequest): JobHandle {
    if (typeof request.prompt !== 'string' || request.prompt.trim() === '') {
      throw new Ax650Error('BAD_INPUT', 'The prompt must be a non-empty string.');
    }
    if (this.queue.length >= this.queueLimit) {
      throw new Ax650Error('QUEUE_FULL', 'server busy, please try again.  maximum pending requests exceeded', {
        params: { limit: this.queueLimit },
      });
    }
    const job = new FakeJob(`fake-${this.nextId++}`, request, (j) => this.cancelJob(j));
    this.submitted.push(request);
    this.handles.push(job);
    const ahead = this.queue.filter((j) => (j.request.priority ?? 0) >= (request.priority ?? 0)).length;
    this.queue.splice(ahead, 0, job);
    process.nextTick(() => {
      if (job.phase === 'queued') job.emit('queued', ahead + 1);
    });
    if (request.signal?.aborted) process.nextTick(() => job.cancel());
    this.schedulePump();
    return job;
  }

  cancelOwner(owner: string): number {
    const mine = [...this.queue, ...(this.current ? [this.current] : [])].filter((j) => j.request.owner === owner);
    for (const j of mine) j.cancel();
    return mine.length;
  }

  info(): RuntimeInfo {
    return {
      state: this.state(),
      loadProgress: 100,
      queueDepth: this.queue.length,
      running: this.running,
      restarts: 0,
      startedAt: this.startedAt,
      readyAt: this.startedAt,
      lastError: null,
      lastTokensPerSecond: this.lastTokensPerSecond,
      avgTokensPerSecond: this.lastTokensPerSecond,
      lastTtftMs: this.lastTtftMs,
      maxTokenLen: 2559,
      prefillMaxTokenNum: 1024,
      modelName: this.modelName,
      pid: null,
    };
  }

  private state(): RuntimeState {
    return this.current ? 'busy' : 'ready';
  }

  private cancelJob(job: FakeJob): void {
    if (job.phase === 'queued') {
      this.queue.splice(this.queue.indexOf(job), 1);
      job.fail(new Ax650Error('ABORTED', 'The job was cancelled before it started.'));
    } else if (job.phase === 'running') {
      this.endCurrent(job, 'abort');
    }
  }

  private schedulePump(): void {
    if (this.pumpScheduled) return;
    this.pumpScheduled = true;
    // Start on a later turn so the submitter sees `queued` before `started`.
    setImmediate(() => {
      this.pumpScheduled = false;
      this.pump();
    });
  }

  private pump(): void {
    while (!this.current && this.queue.length > 0) {
      const job = this.queue.shift() as FakeJob;
      const notAfter = job.request.notAfter;
      if (notAfter !== undefined && Date.now() > notAfter) {
        job.fail(new Ax650Error('EXPIRED', 'The job expired while it waited in the queue.'));
        continue;
      }
      this.start(job);
    }
  }

  private start(job: FakeJob): void {
    this.current = job;
    job.phase = 'running';
    job.startedAt = Date.now();
    this.ran.push(job.request);
    this.emit('state', 'busy', this.info());
    job.emit('started');
    if (job.request.tools && job.request.tools.length > 0) job.toolCalls = this.toolCalls?.(job.request);
    const pieces = splitIntoTokens(this.reply(job.request));
    const limit = job.request.maxTokens;
    const step = (): void => {
      if (job.phase !== 'running') return;
      if (limit !== undefined && job.tokens >= limit) return this.endCurrent(job, 'length');
      if (this.crashAfterTokens !== undefined && job.tokens >= this.crashAfterTokens) return this.crashCurrent(job);
      const piece = pieces[job.tokens];
      if (piece === undefined) return this.endCurrent(job, 'stop');
      if (job.firstDeltaAt === null) job.firstDeltaAt = Date.now();
      job.text += piece;
      job.emit('delta', piece, job.tokens);
      job.tokens += 1;
      job.timer = setTimeout(step, this.tokenIntervalMs);
    };
    job.timer = setTimeout(step, this.tokenIntervalMs);
  }

  private crashCurrent(job: FakeJob): void {
    this.current = null;
    const partial = job.snapshot('stop', this.promptTokens(job.request));
    const error = Object.assign(
      new Ax650Error('RUNTIME_CRASHED', 'The AX650 runtime exited unexpectedly (signal SIGSEGV) while generating.'),
      { partial },
    );
    job.fail(error);
    this.emit('state', 'ready', this.info());
    this.schedulePump();
  }

  private promptTokens(req: JobRequest): number {
    const promptText = (req.messages ?? []).map((m) => m.content).join('\n') || req.prompt;
    return estimateTokens((req.system ?? '') + promptText);
  }

  private endCurrent(job: FakeJob, reason: DoneReason): void {
    // Free the runtime before `done` fires, as the real one is idle once it reports the end.
    this.current = null;
    const { stats } = job.finish(reason, this.promptTokens(job.request));
    this.lastTtftMs = stats.ttftMs;
    this.lastTokensPerSecond = stats.tokensPerSecond;
    this.emit('state', 'ready', this.info());
    this.schedulePump();
  }
}
