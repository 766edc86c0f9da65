/**
 * Follows one accepted `/api/generate` by polling `/api/generate_provider` until the runtime is
 * idle again, and decides how it ended.
 *
 * "Started" means the poll showed `done:false` or produced text. Before that, `done:true` is
 * ambiguous: `handle_generate` only queues the task and the worker thread sets `gllm_runing`
 * when it picks it up, so an early poll sees the idle answer (reference §1.6, start race). A
 * generation cannot finish unobserved in practice: the prefill alone takes hundreds of ms on the
 * NPU (done:false), and `Run` always flushes its cached tokens at EOS, so a finished job leaves
 * text in the queue. `done:true` with nothing seen is therefore only trusted after `startGraceMs`.
 */
import { Ax650Error } from '../errors';
import { CONTEXT_FULL_MARKER, type GenerateOutcome, type ProviderChunk } from './g1-protocol';
import { wait } from './wait';

export interface PollTiming {
  /** Interval while text is flowing, ms. */
  pollIntervalMs: number;
  startGraceMs: number;
  wedgeMs: number;
}

export interface GenerationPollDeps {
  poll(): Promise<ProviderChunk>;
  /** Best effort `GET /api/stop`; never rejects. */
  stop(): Promise<void>;
  onDelta(text: string): void;
  signal?: AbortSignal;
}

// Fast first polls catch a short job and the end of the start race; 15 ms is ~1 request per token
// group at the fastest simulated rates and nothing next to a 1.3 s NPU prefill.
export const EARLY_WINDOW_MS = 250;
export const EARLY_INTERVAL_MS = 15;
const STOPPING_INTERVAL_MS = 20;
// Once text flows, pieces come at a steady pace (3 tokens per decode callback, ~0.67 s apart at 4.5
// tokens/s). Sleep until shortly before the next piece is due, then poll at pollIntervalMs until it
// comes: ~3 requests per piece instead of ~13, and each piece still seen within pollIntervalMs.
const WAKE_BEFORE_DUE = 0.85;
const MAX_SLEEP_MS = 1000;
// `Run` clears b_stop when it begins, so a stop that lands while the task is still queued or
// encoding is lost; while the runtime still reports done:false after an abort, stop again.
const RESTOP_EVERY_MS = 100;

export async function followGeneration(deps: GenerationPollDeps, timing: PollTiming): Promise<GenerateOutcome> {
  const t0 = Date.now();
  let started = false;
  let text = '';
  let firstText = false;
  let lastActivity = t0;
  let aborted = false;
  let lastStopAt = Number.NEGATIVE_INFINITY;
  let lastTextAt = 0;
  let gapMs: number | null = null;
  let hookError: unknown;
  const stops: Promise<void>[] = [];
  const wake = new AbortController();

  const sendStop = (): void => {
    lastStopAt = Date.now();
    stops.push(deps.stop());
  };
  const onAbort = (): void => {
    if (aborted) return;
    aborted = true;
    sendStop();
    wake.abort();
  };
  const deliver = (piece: string): void => {
    if (piece === '' || aborted) return;
    text += piece;
    firstText = true;
    try {
      deps.onDelta(piece);
    } catch (e) {
      hookError = e;
      onAbort();
    }
  };

  if (deps.signal?.aborted) onAbort();
  deps.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      const chunk = await deps.poll();
      const now = Date.now();
      const cut = chunk.response.indexOf(CONTEXT_FULL_MARKER);
      if (cut >= 0) {
        deliver(chunk.response.slice(0, cut));
        return finish({ text, reason: 'context-full' });
      }
      if (chunk.response !== '') {
        if (lastTextAt > 0) gapMs = gapMs === null ? now - lastTextAt : gapMs * 0.7 + (now - lastTextAt) * 0.3;
        lastTextAt = now;
        started = true;
        lastActivity = now;
        deliver(chunk.response);
      }
      if (chunk.done) {
        if (started || now - t0 >= timing.startGraceMs) return finish({ text, reason: aborted ? 'stopped' : 'done' });
      } else {
        if (!started) lastActivity = now;
        started = true;
        if (now - lastActivity > timing.wedgeMs) {
          sendStop();
          throw new Ax650Error('RUNTIME_WEDGED', `The runtime reported work in progress for ${timing.wedgeMs} ms without producing text.`, {
            params: { ms: timing.wedgeMs },
          });
        }
        if (aborted && now - lastStopAt >= RESTOP_EVERY_MS) sendStop();
      }
      await wait(nextInterval(now), aborted ? undefined : wake.signal);
    }
  } finally {
    deps.signal?.removeEventListener('abort', onAbort);
    await Promise.all(stops);
  }

  function nextInterval(now: number): number {
    if (aborted) return STOPPING_INTERVAL_MS;
    if (now - t0 < EARLY_WINDOW_MS) return EARLY_INTERVAL_MS;
    // Until the first token the interval decides the added time-to-first-token: halve it.
    // Before the first text the interval is added time-to-first-token; a long prefill (seconds on the NPU) makes
    // every poll count, so poll a little faster than while text flows, not twice as fast.
    if (!firstText) return Math.max(EARLY_INTERVAL_MS, timing.pollIntervalMs * 0.8);
    if (gapMs === null) return timing.pollIntervalMs;
    const untilDue = lastTextAt + gapMs * WAKE_BEFORE_DUE - now;
    return untilDue > timing.pollIntervalMs ? Math.min(untilDue, MAX_SLEEP_MS) : timing.pollIntervalMs;
  }

  function finish(outcome: GenerateOutcome): GenerateOutcome {
    if (hookError !== undefined) {
      throw new Ax650Error('INTERNAL', `A delta handler threw: ${hookError instanceof Error ? hookError.message : String(hookError)}`, {
        cause: hookError,
      });
    }
    return outcome;
  }
}
