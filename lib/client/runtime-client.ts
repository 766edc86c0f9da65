/**
 * The one interface the Runtime's queue drives, whatever runtime kind sits behind it: the 2025 G1
 * runtime (`main_api_*` + tokenizer service, polled `/api`, one stateful context) or `axllm serve`
 * (OpenAI SSE, stateless, tokenizer inside). Nothing above a client asks which kind it is: the
 * differences the Runtime must know are the capabilities the client reports.
 */
import type { ChatMessage, PreparedImage, ToolCall, ToolChoice, ToolSpec } from '../runtime/types';

export type RuntimeKind = 'main-api' | 'axllm';

export interface ClientCapabilities {
  /**
   * true: the runtime keeps ONE chat context (its KV cache) between requests, so the Runtime resets it,
   * restores histories through the tokenizer and prepares fresh contexts ahead. false: every request
   * carries the whole transcript (the runtime may still reuse a cached prefix by itself).
   */
  statefulContext: boolean;
  /** A stop ends the run in the runtime (G1 `/api/stop`); false: the run goes on to its end (axllm, §5). */
  stopEndsRun: boolean;
  /** The runtime honours `max_tokens` itself (the package still counts and cuts). */
  maxTokens: boolean;
  /** Per-request thinking switch; without it the think block is only stripped from the output. */
  thinkingSwitch: boolean;
  /** Sampling keys the runtime honours per request; the others come from the model folder's own settings. */
  sampling: ReadonlyArray<'temperature' | 'topK' | 'topP' | 'repetitionPenalty'>;
}

export interface Sampling {
  temperature: number;
  topK: number;
  topP: number;
  repetitionPenalty: number;
}

export interface TurnRequest {
  prompt: string;
  system: string;
  /** Completed turns before the prompt. A stateful client has them in its context already and ignores them. */
  history: readonly ChatMessage[];
  sampling: Sampling;
  /** Completion-token limit the runtime should stop at (only when `capabilities.maxTokens`). */
  maxTokens?: number;
  think: boolean;
  /** Images of the prompt (only when `capabilities.vision`). */
  images?: readonly PreparedImage[];
  tools?: readonly ToolSpec[];
  toolChoice?: ToolChoice;
}

export interface TurnHooks {
  /** Each non-empty piece of new text, in order. */
  onDelta(text: string): void;
  /** The runtime accepted the request: the k-th call is the k-th request in its log. */
  onAccepted?(): void;
  /** Aborting ends the reply at once; the outcome is `stopped`. */
  signal?: AbortSignal;
  /** Longest time without progress before RUNTIME_WEDGED. */
  wedgeMs?: number;
}

export type TurnReason = 'done' | 'stopped' | 'context-full';

export interface TurnOutcome {
  /** Exactly the concatenation of the deltas passed to `onDelta`. */
  text: string;
  reason: TurnReason;
  /** Text pieces the runtime streamed: one per generated token on axllm (a retokenized text can count fewer). */
  pieces?: number;
  /** Tool calls of the reply; their markup is not in `text` nor in any delta. */
  toolCalls?: ToolCall[];
}

export interface RuntimeLimits {
  maxTokenLen?: number;
  prefillMaxTokenNum?: number;
  vision?: boolean;
}

export interface RuntimeClient {
  readonly kind: RuntimeKind;
  readonly capabilities: ClientCapabilities;
  /** The runtime's HTTP server answers (readiness after the load log said so). */
  probe(): Promise<boolean>;
  /** Stateful kinds: a fresh context with this system prompt, after its prefill. Stateless kinds: nothing to do. */
  reset(systemPrompt: string | undefined, opts?: { signal?: AbortSignal }): Promise<{ prefillMs: number }>;
  generate(req: TurnRequest, hooks: TurnHooks): Promise<TurnOutcome>;
  /** Limits the runtime reports over HTTP (axllm `/v1/models`); {} when it only prints them (G1 init log). */
  limits(): Promise<RuntimeLimits>;
  /**
   * Resolves when the engine has really finished the last request, so the next one cannot overlap it
   * (axllm keeps generating after a stream is closed). Rejects RUNTIME_WEDGED when it does not within
   * `maxMs`: only a restart frees the engine then.
   */
  engineFree(maxMs: number): Promise<void>;
  close(): Promise<void>;
}
