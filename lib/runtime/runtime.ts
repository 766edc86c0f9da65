/**
 * The one owner of the NPU: a state machine over the tokenizer + runtime processes and a single
 * job queue that every ingress (flows, MQTT, HTTP) submits to. Only one job talks to the runtime
 * at a time; between jobs nothing is sent to it (idle = zero requests), except one reset prefill
 * right after a stateless job so the next stateless prompt starts at once. What happens when the
 * processes misbehave (crash, wedge, dead card, shutdown) is in runtime-base.ts.
 */
import { Ax650Error, toAx650Error } from '../errors';
import { recipeFor } from './kinds';
import { watchSilence } from './drain-watch';
import { JobExecution } from './execution';
import { Job } from './job';
import { TokenTools } from './token-tools';
import { validateRequest } from './validate';
import { hasImages } from '../vision/transcript';
import { visionTargetOf } from '../vision/model-input';
import { visionUnsupported } from '../vision/for-runtime';
import { DEFAULT_TIMEOUTS, RuntimeBase } from './runtime-base';
import type { JobHandle, JobRequest, JobRunner } from './types';

export type { RuntimeOptions } from './runtime-base';

export class Runtime extends RuntimeBase implements JobRunner {
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
    if (this.vision?.supported === false && hasImages(request)) throw visionUnsupported(this.info());
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

  protected async boot(): Promise<void> {
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
      // The 2025 runtime has no vision; axllm says in /v1/models whether the loaded model has.
      this.vision = limits.vision === true ? { supported: true, input: await visionTargetOf(this.cfg.modelDir) } : { supported: false, input: null };
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

  protected pump(): void {
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
    if (this.vision?.supported !== true && hasImages(job.request)) {
      job.fail(visionUnsupported(this.info()));
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
      restoreHistory: tokServer ? (m, t) => tokServer.setNextResetHistory(m, t) : null,
      armToolResults: tokServer ? (m) => tokServer.setNextToolResults(m) : null,
      fit: (system, turns, input, maxTokens, held, toolSpecs) => tools.fit(system, turns, input, maxTokens, held, toolSpecs),
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
      // A drain that prints nothing for stopBoundMs is a wedged NPU, not a long reply (drain-watch.ts).
      const silence = watchSilence(this.procs, this.cfg.stopBoundMs);
      void Promise.race([client.engineFree(this.cfg.stopDrainMs), silence.silent]).then(
        () => undefined,
        (e: unknown) => this.wedged(toAx650Error(e, 'RUNTIME_WEDGED')),
      ).finally(() => {
        silence.dispose();
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
  protected resetAhead(): void {
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

  protected cancelJob(job: Job): void {
    if (this.queue.remove(job)) job.fail(new Ax650Error('ABORTED', 'The prompt was cancelled before it ran.'));
    else if (this.current?.job === job) this.current.exec.stop('abort');
  }
}
