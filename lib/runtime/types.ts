/**
 * The contract between the one Runtime (which owns the NPU) and every ingress: the generate
 * node, the MQTT bridge and the Ollama/OpenAI HTTP facade. Ingresses submit a JobRequest and
 * get a JobHandle whose events describe the job's life: queued → started → delta* → done | error.
 */
import type { EventEmitter } from 'node:events';
import type { Ax650Error } from '../errors';
import type { RuntimeKind } from '../client/runtime-client';

export type RuntimeState =
  | 'stopped'
  | 'preflight'
  | 'starting-tokenizer'
  | 'loading'
  | 'resetting'
  | 'ready'
  | 'busy'
  | 'backoff'
  | 'failed'
  | 'stopping';

/** Sampling as the vendor runtime understands it (sent as `temperature`, `top-k`, `top-p`, `repetition_penalty`). */
export interface SamplingOptions {
  temperature?: number;
  topK?: number;
  topP?: number;
  repetitionPenalty?: number;
}

/** A tool the model may call, in the OpenAI function format that Ollama and axllm take. */
export interface ToolSpec {
  type: 'function';
  function: {
    name: string;
    description?: string;
    /** JSON Schema of the arguments object. */
    parameters?: Record<string, unknown>;
  };
}

/** `auto` (default), `none`, `required`, or one named tool. */
export type ToolChoice = 'auto' | 'none' | 'required' | { name: string };

/** A tool call the model made. `arguments` is the parsed object, undefined when `raw` is not a JSON object. */
export interface ToolCall {
  id: string;
  name: string;
  arguments?: Record<string, unknown>;
  /** The arguments exactly as the model wrote them. */
  raw: string;
}

/** An image ready for the runtime: re-encoded and sized for the model (lib/vision). */
export interface PreparedImage {
  /** `data:image/jpeg;base64,…` or `data:image/png;base64,…`, what axllm's `image_url` takes. */
  dataUri: string;
  mime: 'image/jpeg' | 'image/png';
  width: number;
  height: number;
  /** Size of the encoded image, bytes. */
  bytes: number;
}

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string;
  /** Assistant turns: the tools it called (content may then be ''). */
  toolCalls?: ToolCall[];
  /** Tool turns: the call this result answers. */
  toolCallId?: string;
  /** Tool turns: the tool's name. */
  toolName?: string;
  /** User turns: the images sent with it, in order. */
  images?: PreparedImage[];
}

export interface JobTimeouts {
  /** From start (leaving the queue) to the first non-empty delta. */
  firstTokenMs?: number;
  /** Longest silence between two deltas. */
  idleMs?: number;
  /** Whole job from start to end. */
  totalMs?: number;
}

export interface JobRequest {
  prompt: string;
  /** System prompt for this job; for a conversation, the one it was started with. */
  system?: string;
  /** Conversation key; undefined means stateless (a fresh context for this prompt). */
  conversation?: string;
  /** A whole transcript (OpenAI style); the last user message is the prompt. */
  messages?: ChatMessage[];
  /** Images of the prompt (the last user message's when `messages` is given). */
  images?: PreparedImage[];
  /** Tools the model may call this turn; a reply that calls them ends with `JobResult.toolCalls`. */
  tools?: ToolSpec[];
  toolChoice?: ToolChoice;
  /**
   * With `conversation`: the results (role 'tool') of the calls the conversation's last assistant turn made.
   * They are this turn's input in place of `prompt`, and are stored in the conversation with the reply.
   */
  toolResults?: ChatMessage[];
  sampling?: SamplingOptions;
  /** Stop after this many completion tokens (counted by the package; the runtime has no such setting). */
  maxTokens?: number;
  /** true: keep Qwen3's <think> block in the output. Default false: strip it. */
  think?: boolean;
  /** Higher runs first; equal priorities run in submission order. Default 0. */
  priority?: number;
  /** Who submitted it (a node id, "http", "mqtt:<client>") so that an owner's jobs can be cancelled together. */
  owner?: string;
  timeouts?: JobTimeouts;
  /** Epoch ms after which the job must not start (MQTT message expiry, HTTP deadline). */
  notAfter?: number;
  /** Aborting cancels the job: queued → never runs; running → runtime stopped. */
  signal?: AbortSignal;
}

export type DoneReason = 'stop' | 'length' | 'abort' | 'timeout' | 'context';

export interface JobStats {
  promptTokens: number;
  completionTokens: number;
  /** Wall clock from job start to the first non-empty delta, ms (null if none came). */
  ttftMs: number | null;
  /** Completion tokens per second of decode time, as measured by the package. */
  tokensPerSecond: number | null;
  /** Wall clock from job start to end, ms. */
  durationMs: number;
  /** Time spent waiting in the queue, ms. */
  queueMs: number;
  doneReason: DoneReason;
  /** What the runtime itself printed (`ttft: … ms`, `hit eos,avg … token/s`), when it did. */
  runtimeTtftMs?: number;
  runtimeTokensPerSecond?: number;
  /** Time spent prefilling a reset before this job could generate, ms. */
  resetMs?: number;
  /** The context was full: it was reset and the prompt retried once in a fresh context. */
  contextReset?: boolean;
  /** Oldest conversation exchanges (a user turn and its reply) dropped so the history fits the context. */
  truncatedTurns?: number;
  /** Context tokens those exchanges took. */
  truncatedTokens?: number;
  /** The conversation's history could not be restored (vendor tokenizer): it started afresh. */
  historyDropped?: boolean;
}

export interface JobResult {
  /** The reply's text, with any tool-call markup removed. */
  text: string;
  stats: JobStats;
  /** The tools the model called (only when the request had `tools`). */
  toolCalls?: ToolCall[];
}

export interface JobEventMap {
  queued: [position: number];
  started: [];
  delta: [text: string, index: number];
  done: [result: JobResult];
  error: [error: Ax650Error & { partial?: JobResult }];
}

export interface JobHandle extends EventEmitter<JobEventMap> {
  readonly id: string;
  readonly request: Readonly<JobRequest>;
  /** Settles once: resolves with the result, rejects with the Ax650Error the `error` event carried. */
  readonly result: Promise<JobResult>;
  /** Queued: removed, emits error ABORTED, never reaches the runtime. Running: runtime stopped, done with doneReason `abort`. */
  cancel(): void;
}

export interface RuntimeInfo {
  state: RuntimeState;
  /** Load progress 0–100 while loading. */
  loadProgress: number;
  queueDepth: number;
  running: boolean;
  restarts: number;
  startedAt: number | null;
  readyAt: number | null;
  lastError: { code: string; message: string } | null;
  lastTokensPerSecond: number | null;
  avgTokensPerSecond: number | null;
  lastTtftMs: number | null;
  /** The runtime's context limits, read from its init log (`max_token_len`, `prefill_max_token_num`). */
  maxTokenLen: number | null;
  prefillMaxTokenNum: number | null;
  modelName: string;
  /** Which runtime runs the model folder: the 2025 `main_api` (no vision at all) or `axllm serve`. */
  kind?: RuntimeKind;
  pid: number | null;
  /** The loaded model takes images (axllm `/v1/models` capabilities); false on the 2025 runtime; null before it loaded. */
  vision?: boolean | null;
  /** The image size the model takes (lib/vision/model-input.ts), when it has vision. */
  visionInput?: { width: number; height: number } | null;
}

export interface RuntimeEventMap {
  state: [state: RuntimeState, info: RuntimeInfo];
  log: [line: string];
  /** A problem that does not stop the runtime but needs the user (e.g. a read-only state folder). */
  warning: [message: string];
  /** Ready, nothing queued, nothing running, no reset prefill under way: the runtime gets no requests now. */
  idle: [];
}

/** What every ingress depends on. Implemented by lib/runtime/runtime.ts. */
export interface JobRunner extends EventEmitter<RuntimeEventMap> {
  /** Throws Ax650Error QUEUE_FULL (queue at its limit) or BAD_INPUT synchronously; nothing is queued then. */
  submit(request: JobRequest): JobHandle;
  /** Cancels every queued and running job of an owner (a stop button, a redeploy). */
  cancelOwner(owner: string): number;
  info(): RuntimeInfo;
}
