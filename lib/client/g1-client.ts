/**
 * The client for the G1 runtime's `/api` protocol (main_api_axcl_aarch64): reset, generate with
 * polled deltas, stop. One client per runtime process, one job at a time (the Runtime's queue
 * serialises jobs; the runtime itself refuses overlap with 400 `llm is running`). It makes no
 * request while no job runs, so an idle runtime sees no traffic and no timer is left behind.
 */
import { Ax650Error } from '../errors';
import {
  errorText,
  generateBody,
  invalidSampling,
  isBusy,
  parseChunk,
  type GenerateHooks,
  type GenerateOutcome,
  type GenerateRequest,
  type ProviderChunk,
} from './g1-protocol';
import { EARLY_INTERVAL_MS, EARLY_WINDOW_MS, followGeneration } from './generation-poll';
import { G1Transport, TransportError, type JsonResponse } from './g1-transport';
import { wait } from './wait';

export type { GenerateHooks, GenerateOutcome, GenerateRequest, GenerateReason } from './g1-protocol';

export interface G1ClientOptions {
  /** e.g. `http://127.0.0.1:8000`. */
  baseUrl: string;
  /** Poll interval while text is flowing; halved before the first token. Default 100. */
  pollIntervalMs?: number;
  /** Per-request timeout (headers and body), ms. Default 5000. */
  requestTimeoutMs?: number;
  /** TCP connect timeout, ms. Default 1000. */
  connectTimeoutMs?: number;
  /** How long `done:true` with nothing observed is taken for "not started yet", ms. Default 500. */
  startGraceMs?: number;
  /** Default watchdog for generate and reset, ms. Default 60000. */
  wedgeMs?: number;
  /** Attempts while the runtime answers 400 `llm is running`. Default 30 (about 10 s with backoff). */
  busyRetries?: number;
}

export interface ResetOptions {
  signal?: AbortSignal;
  /** Overrides the client's `busyRetries`. */
  busyRetries?: number;
  wedgeMs?: number;
}

const DEFAULT_BUSY_RETRIES = 30;
const BUSY_BACKOFF_FIRST_MS = 50;
const BUSY_BACKOFF_MAX_MS = 400;

/** Control flow only: the caller's signal fired before the runtime accepted the request. */
class Aborted extends Error {}

export class G1Client {
  private readonly transport: G1Transport;
  private readonly pollIntervalMs: number;
  private readonly startGraceMs: number;
  private readonly wedgeMs: number;
  private readonly busyRetries: number;
  private active = false;

  constructor(opts: G1ClientOptions) {
    this.pollIntervalMs = opts.pollIntervalMs ?? 100;
    this.startGraceMs = opts.startGraceMs ?? 500;
    this.wedgeMs = opts.wedgeMs ?? 60_000;
    this.busyRetries = opts.busyRetries ?? DEFAULT_BUSY_RETRIES;
    this.transport = new G1Transport(opts.baseUrl, {
      connectTimeoutMs: opts.connectTimeoutMs ?? 1_000,
      requestTimeoutMs: opts.requestTimeoutMs ?? 5_000,
    });
  }

  /**
   * `GET /api/generate_provider` answers 200 JSON: the server is up. While a job runs this returns
   * true without a request, because a poll drains the job's queued text.
   */
  async probe(): Promise<boolean> {
    if (this.active) return true;
    try {
      const res = await this.transport.get('/api/generate_provider');
      return res.status === 200 && parseChunk(res.body) !== undefined;
    } catch {
      return false;
    }
  }

  /** `POST /api/reset`, then waits for the prefill of the system prompt to finish. A prefill cannot be stopped. */
  async reset(systemPrompt: string | undefined, opts: ResetOptions = {}): Promise<{ prefillMs: number }> {
    // An empty body is 400 "Invalid request format"; `{}` resets to the tokenizer's default prompt.
    const body = systemPrompt === undefined ? {} : { system_prompt: systemPrompt };
    return this.exclusive(async () => {
      try {
        await this.postAccepted('/api/reset', body, opts.busyRetries ?? this.busyRetries, opts.signal);
        return { prefillMs: await this.followReset(opts.wedgeMs ?? this.wedgeMs, opts.signal) };
      } catch (e) {
        if (e instanceof Aborted) throw new Ax650Error('ABORTED', 'The reset was cancelled.');
        throw e;
      }
    });
  }

  async generate(req: GenerateRequest, hooks: GenerateHooks): Promise<GenerateOutcome> {
    const invalid = invalidSampling(req);
    if (invalid) throw new Ax650Error('BAD_INPUT', invalid);
    return this.exclusive(async () => {
      try {
        await this.postAccepted('/api/generate', generateBody(req), this.busyRetries, hooks.signal);
      } catch (e) {
        if (e instanceof Aborted) return { text: '', reason: 'stopped' };
        throw e;
      }
      hooks.onAccepted?.();
      return followGeneration(
        { poll: () => this.poll(), stop: () => this.stop().catch(() => undefined), onDelta: hooks.onDelta, signal: hooks.signal },
        { pollIntervalMs: this.pollIntervalMs, startGraceMs: this.startGraceMs, wedgeMs: hooks.wedgeMs ?? this.wedgeMs },
      );
    });
  }

  /** `GET /api/stop`: breaks the runtime's prefill and decode loops; answered 200 even when idle. */
  async stop(): Promise<void> {
    const res = await this.call(() => this.transport.get('/api/stop'));
    if (res.status !== 200) throw unexpected('GET /api/stop', res);
  }

  async close(): Promise<void> {
    await this.transport.close();
  }

  private async exclusive<T>(job: () => Promise<T>): Promise<T> {
    if (this.active) throw new Ax650Error('INTERNAL', 'G1Client runs one job at a time.');
    this.active = true;
    try {
      return await job();
    } finally {
      this.active = false;
    }
  }

  /** POST until accepted; 400 `llm is running` means a stop or reset is still finishing, so retry with backoff. */
  private async postAccepted(path: string, body: unknown, busyRetries: number, signal?: AbortSignal): Promise<void> {
    let delay = BUSY_BACKOFF_FIRST_MS;
    for (let attempt = 0; ; attempt += 1) {
      if (signal?.aborted) throw new Aborted();
      const res = await this.call(() => this.transport.post(path, body));
      if (res.status === 200) return;
      if (!isBusy(res.status, res.body)) throw unexpected(`POST ${path}`, res);
      if (attempt >= busyRetries) {
        throw new Ax650Error('RUNTIME_WEDGED', `The runtime stayed busy ("llm is running") through ${busyRetries} retries of ${path}.`);
      }
      await wait(delay, signal);
      delay = Math.min(BUSY_BACKOFF_MAX_MS, delay * 1.6);
    }
  }

  private async followReset(wedgeMs: number, signal?: AbortSignal): Promise<number> {
    const t0 = Date.now();
    let started = false;
    for (;;) {
      if (signal?.aborted) throw new Aborted();
      // Text here would be left over from an earlier job; a reset produces none.
      const chunk = await this.poll();
      const elapsed = Date.now() - t0;
      if (chunk.done && (started || elapsed >= this.startGraceMs)) return started ? elapsed : 0;
      if (!chunk.done) {
        started = true;
        if (elapsed > wedgeMs) throw new Ax650Error('RUNTIME_WEDGED', `The reset prefill did not finish within ${wedgeMs} ms.`);
      }
      await wait(elapsed < EARLY_WINDOW_MS ? EARLY_INTERVAL_MS : Math.max(EARLY_INTERVAL_MS, this.pollIntervalMs / 2), signal);
    }
  }

  private async poll(): Promise<ProviderChunk> {
    const res = await this.call(() => this.transport.get('/api/generate_provider'));
    const chunk = res.status === 200 ? parseChunk(res.body) : undefined;
    if (!chunk) throw unexpected('GET /api/generate_provider', res);
    return chunk;
  }

  private async call(request: () => Promise<JsonResponse>): Promise<JsonResponse> {
    try {
      return await request();
    } catch (e) {
      throw toClientError(e);
    }
  }
}

function unexpected(what: string, res: JsonResponse): Ax650Error {
  const detail = errorText(res.body) ?? JSON.stringify(res.body).slice(0, 200);
  return new Ax650Error('INTERNAL', `${what} answered ${res.status}: ${detail}`, { params: { status: res.status } });
}

/** A transport failure in words: refused/reset = the runtime is gone, timeout = wedged. */
export function toClientError(e: unknown): Ax650Error {
  if (e instanceof Ax650Error) return e;
  if (!(e instanceof TransportError)) return new Ax650Error('INTERNAL', String(e), { cause: e });
  switch (e.failure) {
    case 'refused':
    case 'reset':
      return new Ax650Error('RUNTIME_CRASHED', `The runtime closed or refused the connection (${e.message}).`, { cause: e });
    case 'timeout':
      return new Ax650Error('RUNTIME_WEDGED', `The runtime did not answer in time (${e.message}).`, { cause: e });
    case 'closed':
      return new Ax650Error('RUNTIME_STOPPED', 'The runtime client was closed.', { cause: e });
    default:
      return new Ax650Error('INTERNAL', e.message, { cause: e });
  }
}
