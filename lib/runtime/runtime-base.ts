/**
 * The Runtime's process side (lib/runtime/runtime.ts has the queue side): its state and what it
 * reports (info), and what happens when the processes misbehave — a crash restarts with backoff under
 * the crash budget, a wedged runtime is ended and restarted, a dead card or a configuration error
 * fails it for good, a shutdown stops everything.
 */
import { EventEmitter } from 'node:events';
import { Ax650Error } from '../errors';
import type { RuntimeClient } from '../client/runtime-client';
import { RestartPolicy } from '../supervisor';
import type { QwenTokenizer } from '../tokenizer/qwen-tokenizer';
import { StatsJoiner } from './stats-joiner';
import { ConversationStore, type ContextContent } from './context-tracker';
import { JobExecution } from './execution';
import { Job } from './job';
import { JobQueue } from './job-queue';
import { RuntimeMetrics } from './metrics';
import { TokenTools } from './token-tools';
import { ProcessSet, type RuntimeLauncher } from './processes';
import type { RuntimeConfig } from './config';
import type { RuntimeEventMap, RuntimeInfo, RuntimeState } from './types';

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

export const DEFAULT_TIMEOUTS = { firstTokenMs: 180_000, idleMs: 30_000, totalMs: 900_000 };

export abstract class RuntimeBase extends EventEmitter<RuntimeEventMap> {
  protected stateValue: RuntimeState = 'stopped';
  protected readonly queue: JobQueue;
  protected readonly procs: ProcessSet;
  protected readonly joiner: StatsJoiner;
  protected readonly restartPolicy: RestartPolicy;
  readonly conversations = new ConversationStore();
  protected client: RuntimeClient | null = null;
  protected counter: QwenTokenizer | null = null;
  protected tools: TokenTools | null = null;
  protected readonly metrics = new RuntimeMetrics();
  protected context: ContextContent = { kind: 'unknown' };
  protected current: { job: Job; exec: JobExecution } | null = null;
  protected maintenance: Promise<void> | null = null;
  protected booting: Promise<void> | null = null;
  protected backoffTimer: NodeJS.Timeout | null = null;
  protected seq = 0;
  protected loadProgress = 0;
  protected restarts = 0;
  protected startedAt: number | null = null;
  protected readyAt: number | null = null;
  protected lastError: Ax650Error | null = null;
  protected initLimits: { maxTokenLen: number | null; prefillMaxTokenNum: number | null } = { maxTokenLen: null, prefillMaxTokenNum: null };
  /** Whether the loaded model takes images, and at what size (lib/vision); null until it loaded. */
  protected vision: { supported: boolean; input: { width: number; height: number } | null } | null = null;

  constructor(readonly cfg: RuntimeConfig, protected readonly opts: RuntimeOptions) {
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
  protected onDeadCard(device: number): void {
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
      kind: this.cfg.kind,
      pid: this.procs.runtime?.pid ?? null,
      vision: this.vision?.supported ?? null,
      visionInput: this.vision?.input ?? null,
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

  /**
   * The runtime is alive but does not obey: it ignored a stop for stopBoundMs or stayed busy through the
   * client's retries (a wedged NPU). It is ended and restarted under the restart policy like a crash,
   * and the queued prompts run on the new process.
   */
  protected wedged(cause: Ax650Error): void {
    if (this.stateValue !== 'ready' && this.stateValue !== 'busy' && this.stateValue !== 'resetting') return;
    this.crash(new Ax650Error('RUNTIME_WEDGED', `The NPU runtime stopped responding: ${cause.message} It was ended and is being restarted.`, { tail: this.procs.tail(), cause }));
  }

  /** A child died or the load failed: tell the running job now, keep the queue, restart with backoff. */
  protected crash(err: Ax650Error): void {
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
  protected async restartVerdict(): Promise<Ax650Error | null> {
    try {
      return (await this.opts.beforeRestart?.()) ?? null;
    } catch {
      return null;
    }
  }

  /** No more restarts until an explicit restart or redeploy; queued jobs are told why. */
  protected fail(err: Ax650Error): void {
    this.lastError = err;
    this.current?.exec.stop('crash', err);
    if (this.backoffTimer) clearTimeout(this.backoffTimer);
    this.setState('failed');
    const failed = new Ax650Error(err.code === 'RUNTIME_FAILED' ? 'RUNTIME_FAILED' : err.code, err.message, { tail: err.tail, params: err.params });
    for (const job of this.queue.drain()) job.fail(failed);
    void this.procs.stop();
  }

  protected async shutdown(why: 'stop' | 'restart'): Promise<void> {
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

  protected waitReady(resolve: () => void, reject: (e: Ax650Error) => void): void {
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

  protected setState(s: RuntimeState): void {
    if (s === this.stateValue && s !== 'loading') return;
    this.stateValue = s;
    this.emit('state', s, this.info());
  }

  /** Brings the processes up and the runtime to `ready` (the queue side). */
  protected abstract boot(): Promise<void>;
}
