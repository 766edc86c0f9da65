/**
 * The one owner of the NPU: a state machine over the tokenizer + runtime processes and a single
 * job queue that every ingress (flows, MQTT, HTTP) submits to. Only one job talks to the runtime
 * at a time; between jobs nothing is sent to it (idle = zero requests), except one reset prefill
 * right after a stateless job so the next stateless prompt starts at once.
 */
import { EventEmitter } from 'node:events';
import { Ax650Error, toAx650Error } from '../errors';
import type { RuntimeClient } from '../client/runtime-client';
import { RestartPolicy } from '../supervisor';
import type { QwenTokenizer } from '../tokenizer/qwen-tokenizer';
import { recipeFor } from './kinds';
import { StatsJoiner } from './stats-joiner';
import { ConversationStore, type ContextContent } from './context-tracker';
import { JobExecution } from './execution';
import { Job } from './job';
import { JobQueue } from './job-queue';
import { RuntimeMetrics } from './metrics';
import { TokenTools } from './token-tools';
import { ProcessSet, type RuntimeLauncher } from './processes';
import { validateRequest } from './validate';
import type { RuntimeConfig } from './config';
import type { JobHandle, JobRequest, JobRunner, RuntimeEventMap, RuntimeInfo, RuntimeState } from './types';

export interface RuntimeOptions {
  launcher: RuntimeLauncher;
  /** Checks run before anything is spawned; a throw ends in `failed` with that error. */
  preflight?: (cfg: RuntimeConfig) => Promise<void>;
  /** Default job timeouts, tuned for a 4 token/s NPU. */
  timeouts?: { firstTokenMs: number; idleMs: number; totalMs: number };
  /**
   * Asked after a crash, once the processes are down and before a restart is scheduled: an error
   * means restarting cannot help (a card the kernel reports dead) and the runtime goes to `failed` with it.
   */
  beforeRestart?: () => Promise<Ax650Error | null>;
}

const DEFAULT_TIMEOUTS = { firstTokenMs: 180_000, idleMs: 30_000, totalMs: 900_000 };

export class Runtime extends EventEmitter<RuntimeEventMap> implements JobRunner {
  private stateValue: RuntimeState = 'stopped';
  private readonly queue: JobQueue;
  private readonly procs: ProcessSet;
  private readonly joiner: StatsJoiner;
  private readonly restartPolicy: RestartPolicy;
  readonly conversations = new ConversationStore();
  private client: RuntimeClient | null = null;
  private counter: QwenTokenizer | null = null;
  private tools: TokenTools | null = null;
  private readonly metrics = new RuntimeMetrics();
  private context: ContextContent = { kind: 'unknown' };
  private current: { job: Job; exec: JobExecution } | null = null;
  private maintenance: Promise<void> | null = null;
  private booting: Promise<void> | null = null;
  private backoffTimer: NodeJS.Timeout | null = null;
  private seq = 0;
  private loadProgress = 0;
  private restarts = 0;
  private startedAt: number | null = null;
  private readyAt: number | null = null;
  private lastError: Ax650Error | null = null;
  private initLimits: { maxTokenLen: number | null; prefillMaxTokenNum: number | null } = { maxTokenLen: null, prefillMaxTokenNum: null };

  constructor(readonly cfg: RuntimeConfig, private readonly opts: RuntimeOptions) {
    super();
    this.queue = new JobQueue(cfg.queueLimit);
    this.procs = new ProcessSet(cfg, opts.launcher);
    this.joiner = new StatsJoiner({ source: this.procs.parser });
    this.restartPolicy = new RestartPolicy({ baseMs: cfg.restart.baseMs, maxMs: cfg.restart.maxMs, maxCrashes: cfg.restart.maxCrashes, windowMs: cfg.restart.windowMs });
    this.procs.on('progress', (p) => {
      this.loadProgress = p;
      this.emit('state', this.stateValue, this.info());
    });
    this.procs.on('line', (line) => this.emit('log', line));
    this.procs.on('warning', (message) => this.emit('warning', message));
    this.procs.on('exit', (which, info, tail) => {
      const how = info.signal ? `signal ${info.signal}` : `exit code ${info.code}`;
      this.crash(new Ax650Error('RUNTIME_CRASHED', `The NPU ${which} process ended unexpectedly (${how}).`, { tail }));
    });
    this.procs.parser.on('init', (i) => {
      if (i.maxTokenLen !== undefined) this.initLimits.maxTokenLen = i.maxTokenLen;
      if (i.prefillMaxTokenNum !== undefined) this.initLimits.prefillMaxTokenNum = i.prefillMaxTokenNum;
    });
    this.procs.on('deadCard', (device) => this.onDeadCard(device));
  }

  /**
   * The driver's dead-card report: the running prompt fails with DEAD_CARD at once and the runtime is
   * not restarted (only a host reboot helps). A prompt that itself contains such a report could be
   * echoed by the runtime or the model; then the report is not trusted (the kernel-log watch and the
   * timeouts still apply).
   */
  private onDeadCard(device: number): void {
    const req = this.current?.job.request;
    const texts = req ? [req.prompt, req.system ?? '', ...(req.messages ?? []).map((m) => m.content)] : [];
    if (texts.some((t) => /device manager/.test(t) && /is dead/.test(t))) {
      this.emit('warning', 'A dead-card report appeared while the running prompt contains one; it is ignored.');
      return;
    }
    this.fail(new Ax650Error('DEAD_CARD', `The NPU card (PCIe bus ${device}) stopped answering: the driver reports it dead. Only a reboot of the host brings it back; check cooling and power.`, { params: { device }, tail: this.procs.tail() }));
  }

  get state(): RuntimeState {
    return this.stateValue;
  }

  /** Loads the model (idempotent). Resolves when ready; rejects if this attempt failed (restarts may follow). */
  start(): Promise<void> {
    if (this.stateValue === 'ready' || this.stateValue === 'busy') return Promise.resolve();
    if (this.booting) return this.booting;
    if (this.stateValue === 'backoff') return new Promise((resolve, reject) => this.waitReady(resolve, reject));
    if (this.stateValue === 'failed') this.restartPolicy.onHealthy();
    this.booting = this.boot().finally(() => {
      this.booting = null;
    });
    return this.booting;
  }

  /** Leaves `failed` (or any state) and loads again; the explicit way out after the crash budget is spent. */
  async restart(): Promise<void> {
    await this.shutdown('restart');
    this.restartPolicy.onHealthy();
    return this.start();
  }

  /** Stops both processes; every queued and running job ends with RUNTIME_STOPPED. */
  async stop(): Promise<void> {
    await this.shutdown('stop');
    for (const job of this.queue.drain()) job.fail(new Ax650Error('RUNTIME_STOPPED', 'The NPU runtime was stopped before this prompt ran.'));
    this.setState('stopped');
  }

  submit(request: JobRequest): JobHandle {
    validateRequest(request);
    this.tools?.checkFits(request.messages?.find((m) => m.role === 'system')?.content ?? request.system ?? this.cfg.systemPrompt, request.prompt);
    if (this.stateValue === 'failed') {
      throw new Ax650Error('RUNTIME_FAILED', `The NPU runtime has failed and is not restarting: ${this.lastError?.message ?? 'see the log'}. Fix the cause and redeploy.`, { tail: this.lastError?.tail });
    }
    const job = new Job(request, this.seq++, (j) => this.cancelJob(j));
    const position = this.queue.push(job);
    queueMicrotask(() => {
      if (job.phase === 'queued') job.emit('queued', position);
    });
    if (this.stateValue === 'stopped') this.start().catch(() => undefined);
    queueMicrotask(() => this.pump());
    return job;
  }

  /**
   * msg.reset: forgets a conversation. When the runtime's context holds it, that context goes too:
   * reset at once when the NPU is idle, otherwise before the next job (which then never continues it).
   */
  forgetConversation(key: string): boolean {
    const had = this.conversations.delete(key);
    if (this.context.kind === 'conversation' && this.context.key === key) {
      this.context = { kind: 'unknown' };
      if (!this.current && !this.maintenance && this.queue.length === 0 && this.stateValue === 'ready') this.resetAhead();
    }
    return had;
  }

  cancelOwner(owner: string): number {
    let n = 0;
    for (const job of this.queue.drain((j) => j.request.owner === owner)) {
      job.fail(new Ax650Error('ABORTED', 'The prompt was cancelled before it ran.'));
      n++;
    }
    if (this.current && this.current.job.phase === 'running' && this.current.job.request.owner === owner) {
      this.current.exec.stop('abort');
      n++;
    }
    return n;
  }

  info(): RuntimeInfo {
    return {
      state: this.stateValue,
      loadProgress: this.loadProgress,
      queueDepth: this.queue.length,
      running: this.current !== null,
      restarts: this.restarts,
      startedAt: this.startedAt,
      readyAt: this.readyAt,
      lastError: this.lastError ? { code: this.lastError.code, message: this.lastError.message } : null,
      lastTokensPerSecond: this.metrics.lastTokensPerSecond,
      avgTokensPerSecond: this.metrics.avgTokensPerSecond,
      lastTtftMs: this.metrics.lastTtftMs,
      maxTokenLen: this.initLimits.maxTokenLen,
      prefillMaxTokenNum: this.initLimits.prefillMaxTokenNum,
      modelName: this.cfg.modelName,
      pid: this.procs.runtime?.pid ?? null,
    };
  }

  /** Tokens in a piece of text, once the model's tokenizer is loaded (status rates); null before. */
  countTokens(text: string): number | null {
    return this.tools ? this.tools.count(text) : null;
  }

  /** The built-in tokenizer service, when that mode runs (conversation restore, exact counts). */
  get tokenizerServer() {
    return this.procs.tokenizer;
  }

  private async boot(): Promise<void> {
    this.lastError = null;
    this.loadProgress = 0;
    try {
      this.setState('preflight');
      // A host killed with SIGKILL leaves its children running on the very ports the pre-flight checks.
      await this.procs.reapOrphans();
      await this.opts.preflight?.(this.cfg);
    } catch (e) {
      this.fail(toAx650Error(e, 'CONFIG_INVALID'));
      throw this.lastError;
    }
    try {
      // The kind was decided with the folder in the pre-flight; from here on only the recipe knows it.
      const recipe = recipeFor(this.cfg.kind);
      if (recipe.tokenizerService) {
        this.setState('starting-tokenizer');
        await this.procs.startTokenizer();
      }
      this.counter = this.procs.tokenizer?.tokenizer ?? this.counter ?? (await recipe.loadTokenizer(this.cfg));
      this.tools = new TokenTools(this.counter, this.initLimits);
      this.setState('loading');
      this.startedAt = Date.now();
      this.joiner.reset();
      this.client = recipe.createClient(this.cfg, this.procs.parser);
      const client = this.client;
      await this.procs.startRuntime(() => client.probe());
      const limits = await client.limits();
      if (limits.maxTokenLen !== undefined) this.initLimits.maxTokenLen = limits.maxTokenLen;
      if (limits.prefillMaxTokenNum !== undefined) this.initLimits.prefillMaxTokenNum = limits.prefillMaxTokenNum;
      if (client.capabilities.statefulContext) {
        // The G1 runtime never prefills its system prompt at start (reference §1.6): do it now.
        this.setState('resetting');
        await client.reset(this.cfg.systemPrompt);
      }
      this.context = { kind: 'fresh', system: this.cfg.systemPrompt };
      this.readyAt = Date.now();
      this.loadProgress = 100;
      this.setState('ready');
      this.pump();
    } catch (e) {
      const err = toAx650Error(e, 'RUNTIME_FAILED');
      if (this.stateValue === 'stopping' || this.stateValue === 'stopped' || this.stateValue === 'failed') throw err;
      const configError = ['TOKENIZER_PORT_IN_USE', 'PORT_IN_USE', 'DUPLICATE_RUNTIME', 'CONFIG_INVALID', 'MODEL_FILES_MISSING', 'NPU_MEMORY_LOW'].includes(err.code);
      if (configError) this.fail(err);
      else this.crash(err);
      throw err;
    }
  }

  private pump(): void {
    if (this.current || (this.stateValue !== 'ready' && this.stateValue !== 'busy')) return;
    const job = this.queue.shift();
    if (!job) {
      if (this.stateValue === 'ready' && !this.maintenance) this.emit('idle');
      return;
    }
    if (job.request.notAfter !== undefined && Date.now() > job.request.notAfter) {
      job.fail(new Ax650Error('EXPIRED', 'The prompt expired before the NPU was free; it was not run.'));
      return this.pump();
    }
    const client = this.client!;
    const tools = this.tools!;
    const tokServer = this.procs.tokenizer;
    const exec = new JobExecution(job, {
      client,
      countTokens: (t) => tools.count(t),
      truncateToTokens: (t, n) => tools.truncate(t, n),
      sampling: this.cfg.sampling,
      defaultSystem: this.cfg.systemPrompt,
      conversations: this.conversations,
      getContext: () => this.context,
      setContext: (c) => {
        this.context = c;
      },
      restoreHistory: tokServer ? (m) => tokServer.setNextResetHistory(m) : null,
      fit: (system, turns, prompt, maxTokens, held) => tools.fit(system, turns, prompt, maxTokens, held),
      replyBudget: (contextTokens) => tools.replyBudget(this.cfg.maxReplyTokens, contextTokens),
      beginGenerate: (id) => this.joiner.beginGenerate(id),
      runtimeStats: (id) => this.joiner.statsFor(id, 300),
      logTail: () => this.procs.tail(),
      // A job that arrives during the reset ahead starts at once and waits for that prefill instead of repeating it.
      settle: () => this.maintenance ?? Promise.resolve(),
      wedgeMs: this.cfg.wedgeMs,
      timeouts: this.opts.timeouts ?? DEFAULT_TIMEOUTS,
      stopBoundMs: this.cfg.stopBoundMs,
      onStuck: (err) => this.wedged(err),
    });
    this.current = { job, exec };
    this.setState('busy');
    job.markStarted();
    exec.run().finally(() => {
      // A crash or wedge detaches the job at once; a late end of its run must not touch the next runtime's job.
      if (this.current?.exec !== exec) return;
      job.result.then((r) => this.metrics.record(r.stats.tokensPerSecond, r.stats.ttftMs), () => undefined);
      if (exec.wedgedError) {
        this.current = null;
        return this.wedged(exec.wedgedError);
      }
      // The job has its answer; the next one waits until the engine has really finished this one (axllm
      // generates on after a stop, docs/axllm.md). One that does not get there within stopDrainMs is restarted.
      // Not `maintenance`: a shutdown must not wait for it (closing the client ends the wait).
      void client.engineFree(this.cfg.stopDrainMs).then(
        () => undefined,
        (e: unknown) => this.wedged(toAx650Error(e, 'RUNTIME_WEDGED')),
      ).finally(() => {
        if (this.current?.exec !== exec) return;
        this.current = null;
        if (this.stateValue !== 'busy') return;
        this.setState('ready');
        const stale = this.context.kind !== 'fresh' && this.context.kind !== 'conversation';
        if (this.queue.length === 0 && stale && client.capabilities.statefulContext) this.resetAhead();
        else this.pump();
      });
    });
  }

  /** Prefills a fresh context while idle, so the next stateless prompt does not wait for it. */
  private resetAhead(): void {
    const client = this.client;
    if (!client) return;
    const system = this.cfg.systemPrompt;
    this.maintenance = client
      .reset(system)
      .then(
        () => {
          this.context = { kind: 'fresh', system };
        },
        (e: unknown) => {
          this.context = { kind: 'unknown' };
          if (toAx650Error(e).code === 'RUNTIME_WEDGED') this.wedged(toAx650Error(e));
        },
      )
      .finally(() => {
        this.maintenance = null;
        if (!this.current) this.pump();
      });
  }

  private cancelJob(job: Job): void {
    if (this.queue.remove(job)) job.fail(new Ax650Error('ABORTED', 'The prompt was cancelled before it ran.'));
    else if (this.current?.job === job) this.current.exec.stop('abort');
  }

  /**
   * The runtime is alive but does not obey: it ignored a stop for stopBoundMs or stayed busy through the
   * client's retries (a wedged NPU). It is ended and restarted under the restart policy like a crash,
   * and the queued prompts run on the new process.
   */
  private wedged(cause: Ax650Error): void {
    if (this.stateValue !== 'ready' && this.stateValue !== 'busy' && this.stateValue !== 'resetting') return;
    this.crash(new Ax650Error('RUNTIME_WEDGED', `The NPU runtime stopped responding: ${cause.message} It was ended and is being restarted.`, { tail: this.procs.tail(), cause }));
  }

  /** A child died or the load failed: tell the running job now, keep the queue, restart with backoff. */
  private crash(err: Ax650Error): void {
    if (this.stateValue === 'stopping' || this.stateValue === 'stopped' || this.stateValue === 'failed' || this.stateValue === 'backoff') return;
    this.lastError = err;
    this.current?.exec.stop('crash', new Ax650Error('RUNTIME_CRASHED', `${err.message} The prompt was not finished.`, { tail: err.tail }));
    this.current = null;
    // The old process's client must not poll the next process on the same port.
    const oldClient = this.client;
    this.client = null;
    const uptime = this.readyAt ? Date.now() - this.readyAt : 0;
    const decision = this.restartPolicy.onCrash(uptime);
    if (decision.action === 'give-up') {
      this.fail(new Ax650Error('RUNTIME_FAILED', `${err.message} Not restarting: ${decision.reason}.`, { tail: err.tail, params: err.params }));
      return;
    }
    this.restarts++;
    this.setState('backoff');
    void this.procs.stop().then(() => this.restartVerdict(), () => this.restartVerdict()).then(async (verdict) => {
      await oldClient?.close().catch(() => undefined);
      if (this.stateValue !== 'backoff') return;
      if (verdict) return this.fail(verdict);
      this.backoffTimer = setTimeout(() => {
        this.backoffTimer = null;
        if (this.stateValue !== 'backoff') return;
        this.booting = this.boot().catch(() => undefined).finally(() => {
          this.booting = null;
        });
      }, decision.delayMs);
    });
  }

  /** The beforeRestart hook's answer; a hook that throws does not block the restart. */
  private async restartVerdict(): Promise<Ax650Error | null> {
    try {
      return (await this.opts.beforeRestart?.()) ?? null;
    } catch {
      return null;
    }
  }

  /** No more restarts until an explicit restart or redeploy; queued jobs are told why. */
  private fail(err: Ax650Error): void {
    this.lastError = err;
    this.current?.exec.stop('crash', err);
    if (this.backoffTimer) clearTimeout(this.backoffTimer);
    this.setState('failed');
    const failed = new Ax650Error(err.code === 'RUNTIME_FAILED' ? 'RUNTIME_FAILED' : err.code, err.message, { tail: err.tail, params: err.params });
    for (const job of this.queue.drain()) job.fail(failed);
    void this.procs.stop();
  }

  private async shutdown(why: 'stop' | 'restart'): Promise<void> {
    if (this.backoffTimer) clearTimeout(this.backoffTimer);
    this.backoffTimer = null;
    this.setState('stopping');
    this.current?.exec.stop('crash', new Ax650Error('RUNTIME_STOPPED', why === 'stop' ? 'The NPU runtime was stopped during generation.' : 'The NPU runtime was restarted during generation.'));
    await Promise.allSettled([this.booting, this.maintenance]);
    await this.procs.stop();
    await this.client?.close();
    this.client = null;
    this.context = { kind: 'unknown' };
    this.readyAt = null;
  }

  private waitReady(resolve: () => void, reject: (e: Ax650Error) => void): void {
    const onState = (s: RuntimeState) => {
      if (s === 'ready') {
        this.off('state', onState);
        resolve();
      } else if (s === 'failed' || s === 'stopped') {
        this.off('state', onState);
        reject(this.lastError ?? new Ax650Error('RUNTIME_STOPPED', 'The NPU runtime stopped.'));
      }
    };
    this.on('state', onState);
  }

  private setState(s: RuntimeState): void {
    if (s === this.stateValue && s !== 'loading') return;
    this.stateValue = s;
    this.emit('state', s, this.info());
  }
}
