/**
 * Ties a Job to one HTTP exchange: the job shares the flows' queue (owner "http" by default), the
 * exchange's signal cancels it when the client goes away (queued: never runs; running: the
 * runtime is stopped), and runtime errors become HTTP statuses.
 */
import { isAx650Error, type ErrorCode } from '../errors';
import type { ChatMessage, JobRequest, JobResult, JobRunner, RuntimeState, SamplingOptions } from '../runtime/types';
import type { ApiContext, Exchange } from './context';
import { HttpError } from './http-io';
import { normalizeTranscript } from './transcript';
import { lastUserPrompt } from './validate';

/** Ollama's ErrMaxQueue text, word for word (two spaces included): clients match on it. */
export const SERVER_BUSY = 'server busy, please try again.  maximum pending requests exceeded';

export const SHUTTING_DOWN = new HttpError(503, 'the API server is shutting down', 'RUNTIME_STOPPED');

/** Why an exchange's signal fired: the server closing says so; otherwise the client went away. */
function abortError(signal: AbortSignal): HttpError {
  return signal.reason instanceof HttpError ? signal.reason : new HttpError(499, 'request canceled', 'ABORTED');
}

const STATUS_BY_CODE: Partial<Record<ErrorCode, number>> = {
  BAD_INPUT: 400,
  VISION_UNSUPPORTED: 400,
  CONTEXT_FULL: 400,
  QUEUE_FULL: 503,
  ABORTED: 499,
  // The model's reply failed its tools or format after the repair round: the request was fine, the reply is not usable.
  SCHEMA_MISMATCH: 422,
  TOOL_ARGS_INVALID: 422,
  TOOL_NOT_CALLED: 422,
  TOOL_UNKNOWN: 422,
  EXPIRED: 504,
  TIMEOUT: 504,
  RUNTIME_CRASHED: 503,
  RUNTIME_FAILED: 503,
  RUNTIME_STOPPED: 503,
  RUNTIME_WEDGED: 503,
  LOAD_STALLED: 503,
  TOKENIZER_FAILED: 503,
  DEAD_CARD: 503,
  NO_CARD: 503,
  NPU_MEMORY_LOW: 503,
};

export function toHttpError(e: unknown): HttpError {
  if (e instanceof HttpError) return e;
  if (!isAx650Error(e)) return new HttpError(500, e instanceof Error ? e.message : String(e), 'INTERNAL');
  if (e.code === 'QUEUE_FULL') return new HttpError(503, SERVER_BUSY, e.code);
  if (e.code === 'ABORTED') return new HttpError(499, 'request canceled', e.code);
  return new HttpError(STATUS_BY_CODE[e.code] ?? 500, e.message, e.code);
}

export type JobSpec = Omit<JobRequest, 'owner' | 'signal'>;

/** Images of a request, prepared for the runtime (lib/vision); a refusal is the HTTP error it maps to. */
export async function withImages<T>(prepare: () => Promise<T>): Promise<T> {
  try {
    return await prepare();
  } catch (e) {
    throw toHttpError(e);
  }
}

/**
 * A chat job: the whole transcript (normalised, see transcript.ts) goes to the Runtime, its last
 * user turn is the prompt, and the system prompt is also given as `system` so a Runtime that
 * cannot replay a transcript (vendor tokenizer) still keeps it.
 */
export function transcriptSpec(raw: ChatMessage[], sampling: SamplingOptions, maxTokens: number | undefined): JobSpec {
  // The client's own last turn must be a non-empty user message; after merging, the prompt is the whole last user run.
  lastUserPrompt(raw);
  const messages = normalizeTranscript(raw);
  const spec: JobSpec = { prompt: lastUserPrompt(messages), messages, sampling };
  if (messages[0]?.role === 'system') spec.system = messages[0].content;
  if (maxTokens !== undefined) spec.maxTokens = maxTokens;
  return spec;
}

/** A job's failure as the client sees it: its own disconnect stays a 499 "request canceled". */
export function jobFailure(e: unknown, signal: AbortSignal): HttpError {
  return isAx650Error(e) && e.code === 'ABORTED' && signal.aborted ? abortError(signal) : toHttpError(e);
}

/** Throws the exchange's abort reason when the client is already gone. */
export function abortIfGone(signal: AbortSignal): void {
  if (signal.aborted) throw abortError(signal);
}

export function runJob(ctx: Pick<ApiContext, 'runner' | 'owner'>, spec: JobSpec, ex: Exchange, onDelta: (text: string) => void): Promise<JobResult> {
  if (ex.signal.aborted) return Promise.reject(abortError(ex.signal));
  let handle;
  try {
    handle = ctx.runner.submit({ ...spec, owner: ctx.owner, signal: ex.signal });
  } catch (e) {
    return Promise.reject(toHttpError(e));
  }
  // The outcome is read from `result`; without a listener an `error` event would throw.
  handle.on('error', () => undefined);
  handle.on('delta', (text) => onDelta(text));
  return handle.result.catch((e: unknown) => {
    throw jobFailure(e, ex.signal);
  });
}

const LOADED: readonly RuntimeState[] = ['ready', 'busy', 'resetting'];
const COMING: readonly RuntimeState[] = ['preflight', 'starting-tokenizer', 'loading', 'backoff'];

/**
 * Ollama's load request (an empty prompt) answers once the model is in memory: wait for the
 * runtime while it starts, refuse at once when nothing is starting it.
 */
export function waitUntilLoaded(runner: JobRunner, signal: AbortSignal): Promise<void> {
  const notRunning = (state: RuntimeState): HttpError =>
    new HttpError(503, `the AX650 runtime is not running (state: ${state})`, 'RUNTIME_STOPPED');
  const now = runner.info().state;
  if (LOADED.includes(now)) return Promise.resolve();
  if (!COMING.includes(now)) return Promise.reject(notRunning(now));
  return new Promise<void>((resolve, reject) => {
    const finish = (err?: HttpError): void => {
      runner.off('state', onState);
      signal.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve();
    };
    const onState = (state: RuntimeState): void => {
      if (LOADED.includes(state)) finish();
      else if (!COMING.includes(state)) finish(notRunning(state));
    };
    const onAbort = (): void => finish(abortError(signal));
    runner.on('state', onState);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
