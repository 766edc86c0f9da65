/**
 * The G1 `/api` wire format: request bodies, the poll chunk, and the runtime's in-band error
 * strings [src: gregm123456/ax-llm @086f4e6 src/main_api.cpp].
 */

export interface GenerateRequest {
  prompt: string;
  temperature: number;
  topK: number;
  topP: number;
  repetitionPenalty: number;
}

export interface GenerateHooks {
  /** Each non-empty piece of new text, in order. Not called after an abort or for the context-full string. */
  onDelta(text: string): void;
  /** The runtime accepted the request (HTTP 200): the k-th call is the k-th generate in its log. */
  onAccepted?(): void;
  /** Aborting sends `GET /api/stop` and resolves `reason: 'stopped'` once the runtime is idle again. */
  signal?: AbortSignal;
  /** Longest time the runtime may report `done:false` without producing text before RUNTIME_WEDGED. */
  wedgeMs?: number;
}

export type GenerateReason = 'done' | 'stopped' | 'context-full';

export interface GenerateOutcome {
  /** Exactly the concatenation of the deltas passed to `onDelta`. */
  text: string;
  reason: GenerateReason;
}

export interface ProviderChunk {
  response: string;
  done: boolean;
}

/**
 * Pushed into the poll queue by the fixed revision when the turn does not fit the context; the
 * `%d` is really sent unformatted (reference §1.6). Matched on its stable prefix.
 */
export const CONTEXT_FULL_MARKER = 'error: SetKVCache failed';

/** All four sampling keys, every time: the runtime keeps the last values it was sent (set_llm_config). */
export function generateBody(req: GenerateRequest): Record<string, string | number> {
  return {
    prompt: req.prompt,
    temperature: req.temperature,
    // `int top_k = body["top-k"]`: send an integer so nothing depends on nlohmann's float→int cast.
    'top-k': Math.round(req.topK),
    'top-p': req.topP,
    repetition_penalty: req.repetitionPenalty,
  };
}

export function invalidSampling(req: GenerateRequest): string | undefined {
  if (typeof req.prompt !== 'string') return 'prompt must be a string';
  for (const key of ['temperature', 'topK', 'topP', 'repetitionPenalty'] as const) {
    if (typeof req[key] !== 'number' || !Number.isFinite(req[key])) return `${key} must be a finite number`;
  }
  return undefined;
}

export function parseChunk(body: unknown): ProviderChunk | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const { response, done } = body as { response?: unknown; done?: unknown };
  if (typeof response !== 'string' || typeof done !== 'boolean') return undefined;
  return { response, done };
}

/** 400 `{"error": "llm is running"}`: a generation or a reset prefill is still running (check_model_available). */
export function isBusy(status: number, body: unknown): boolean {
  return status === 400 && errorText(body) === 'llm is running';
}

export function errorText(body: unknown): string | undefined {
  if (typeof body === 'string') return body;
  if (typeof body !== 'object' || body === null) return undefined;
  const error = (body as { error?: unknown }).error;
  return typeof error === 'string' ? error : undefined;
}
