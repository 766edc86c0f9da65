/**
 * What a job needs in the runtime's context before it generates, for both kinds of client:
 * - a stateful runtime (G1) holds one KV cache: reset it unless it already holds this job's context,
 *   restoring a conversation's history through the built-in tokenizer when it can;
 * - a stateless runtime (axllm) gets the whole transcript with every request: trimmed to the context
 *   with the model's tokenizer by the same rules (lib/runtime/conversation-fit.ts; oldest exchanges
 *   first, never the system prompt) and sent as it is, so its prefix stays stable between turns.
 */
import { Ax650Error } from '../errors';
import { contextFullError, normalizeHistory, type FitResult, type NewTurn } from './conversation-fit';
import { answersOpenCalls, closeOpenCalls } from './tool-turns';
import type { ContextContent, Conversation, ConversationStore } from './context-tracker';
import type { ChatMessage, JobRequest, JobStats, PreparedImage, ToolSpec } from './types';
import type { RuntimeClient } from '../client/runtime-client';
import { keepImageBudget } from '../vision/transcript';

export interface Plan {
  prompt: string;
  system: string;
  /** Turns to have in the context before the prompt; null for a stateless prompt. */
  history: ChatMessage[] | null;
  conversation: string | null;
  /** The history came with the job (msg.messages, /api/chat): always restored. */
  transcript: boolean;
  /** The stored conversation this turn continues; a msg.reset during the turn replaces it. */
  stored: Conversation | null;
  /** Images of the prompt (lib/vision), sent with it. */
  images: PreparedImage[];
  /** Tokens of the templated context the runtime prefills (from the fit). */
  contextTokens?: number;
  /** Tools rendered for this turn (none when toolChoice is 'none'). */
  tools?: ToolSpec[];
  /**
   * Tool results, the new turn in place of a prompt: a transcript's trailing ones, or a conversation's
   * (JobRequest.toolResults). A stateful kind arms them for its tokenizer; a stateless one sends them after the history.
   */
  toolResults?: ChatMessage[];
  /** The conversation no longer holds the calls these tool results answer (a msg.reset while the tools ran). */
  lostCalls?: boolean;
}

export interface PrepContext {
  client: RuntimeClient;
  defaultSystem: string;
  conversations: ConversationStore;
  getContext(): ContextContent;
  setContext(c: ContextContent): void;
  /** Arms the built-in tokenizer so the next reset restores this history (and renders these tools); null with a tokenizer that cannot. */
  restoreHistory: ((messages: ChatMessage[], tools?: readonly ToolSpec[]) => void) | null;
  /** Arms the built-in tokenizer so the next turn is these tool results; null with a tokenizer that cannot. */
  armToolResults?: ((messages: ChatMessage[]) => void) | null;
  /** Drops the oldest turns until history + prompt (+ the tools' block) fit the runtime's context (conversation-fit.ts); null when limits are unknown. */
  fit(system: string, turns: readonly ChatMessage[], input: NewTurn, maxTokens: number | undefined, heldTokens?: number, tools?: readonly ToolSpec[]): FitResult | null;
  /** Resolves when a reset already under way (the reset ahead) has finished; never rejects. */
  settle(): Promise<void>;
}

export function planFor(req: JobRequest, ctx: Pick<PrepContext, 'conversations' | 'defaultSystem'>): Plan {
  const plan = basePlan(req, ctx);
  if (req.tools && req.tools.length > 0 && req.toolChoice !== 'none') plan.tools = req.tools;
  return plan;
}

/**
 * What a stateful runtime's context is, for reuse: the system prompt and the tools rendered with it (the
 * template writes them into the system turn, so a context with other tools cannot be continued).
 */
export function contextSystem(plan: Pick<Plan, 'system' | 'tools'>): string {
  return plan.tools ? `${plan.system}\u0000tools:${JSON.stringify(plan.tools)}` : plan.system;
}

function basePlan(req: JobRequest, ctx: Pick<PrepContext, 'conversations' | 'defaultSystem'>): Plan {
  if (req.messages && req.messages.length > 0) {
    const sys = req.messages.find((m) => m.role === 'system');
    const rest = req.messages.filter((m) => m.role !== 'system');
    const last = rest[rest.length - 1];
    // A transcript that ends with tool results continues the assistant's turn: no new user prompt.
    const endsUser = last !== undefined && last.role === 'user';
    const prompt = endsUser ? last.content : last && last.role === 'tool' ? '' : req.prompt;
    const history = keepImageBudget(normalizeHistory(endsUser ? rest.slice(0, -1) : rest));
    const images = endsUser && last.images ? last.images : (req.images ?? []);
    const plan: Plan = { prompt, system: sys?.content ?? req.system ?? ctx.defaultSystem, history, conversation: req.conversation ?? null, transcript: true, stored: null, images };
    return withTrailingResults(plan);
  }
  if (req.conversation && req.toolResults) {
    // A tool round of a stored conversation: its last assistant turn made the calls these results answer.
    const conv = ctx.conversations.get(req.conversation);
    const base: Plan = { prompt: '', system: conv?.system ?? req.system ?? ctx.defaultSystem, history: conv ? [...conv.turns] : [], conversation: req.conversation, transcript: false, stored: conv ?? null, images: [] };
    return { ...base, toolResults: req.toolResults.map((m) => ({ ...m })), ...(conv && answersOpenCalls(conv.turns, req.toolResults) ? {} : { lostCalls: true }) };
  }
  if (req.conversation) {
    const conv = ctx.conversations.getOrCreate(req.conversation, req.system ?? ctx.defaultSystem);
    // Calls the flow never answered are text by now: a new prompt follows them.
    return { prompt: req.prompt, system: conv.system, history: closeOpenCalls(conv.turns), conversation: req.conversation, transcript: false, stored: conv, images: req.images ?? [] };
  }
  return { prompt: req.prompt, system: req.system ?? ctx.defaultSystem, history: null, conversation: null, transcript: false, stored: null, images: req.images ?? [] };
}

/**
 * Brings the runtime to the context `plan` needs; returns the reset prefill time (0 without a reset).
 * With the built-in tokenizer a conversation's (or transcript's) history is restored in the reset's
 * prefill (lib/tokenizer/session.ts); otherwise the history is dropped and the stats say so.
 */
export async function prepareContext(ctx: PrepContext, plan: Plan, maxTokens: number | undefined, stats: Partial<JobStats>, signal: AbortSignal): Promise<number> {
  await ctx.settle();
  if (signal.aborted) return 0;
  if (plan.lostCalls) {
    throw new Ax650Error('ABORTED', `The conversation "${plan.conversation ?? ''}" was reset while its tools ran: the tool results were not sent to the model.`, { params: { conversation: plan.conversation ?? '' } });
  }
  const stateful = ctx.client.capabilities.statefulContext;
  if (stateful && plan.toolResults && !ctx.armToolResults) throw toolsUnsupported();
  const system = contextSystem(plan);
  let mustReset = plan.transcript;
  // Both of the runtime's rules (lib/runtime/conversation-fit.ts): oldest exchanges go first, the turn itself is refused only if it cannot fit alone.
  const now = ctx.getContext();
  const live = stateful && now.kind === 'conversation' && now.key === plan.conversation && now.system === system && !plan.transcript;
  const fit = ctx.fit(plan.system, plan.history ?? [], plan.toolResults ?? plan.prompt, maxTokens, live ? now.heldTokens : undefined, plan.tools);
  if (fit && !fit.fits) throw contextFullError(fit);
  if (fit) plan.contextTokens = fit.prefixTokens + fit.inputTokens;
  if (fit && plan.history && fit.droppedTurns > 0) {
    stats.truncatedTurns = fit.droppedTurns;
    stats.truncatedTokens = fit.droppedTokens;
    plan.history = fit.turns;
    if (plan.conversation && !plan.transcript) ctx.conversations.setTurns(plan.conversation, fit.turns);
    mustReset = true;
  }
  // The transcript goes with the request: nothing to prepare in the runtime.
  if (!stateful) return 0;
  if (!mustReset && plan.conversation && now.kind === 'conversation' && now.key === plan.conversation && now.system === system) return 0;
  // A fresh context with the right system prompt serves any turn that starts from no history (the reset ahead prepared it).
  const fromNothing = plan.history === null || (plan.history.length === 0 && !stats.truncatedTurns);
  if (fromNothing && now.kind === 'fresh' && now.system === system) return 0;
  if (plan.tools && !ctx.restoreHistory) throw toolsUnsupported();
  if (plan.tools) ctx.restoreHistory?.(plan.history ?? [], plan.tools);
  else if (plan.history && plan.history.length > 0) {
    if (ctx.restoreHistory) ctx.restoreHistory(plan.history);
    else {
      stats.historyDropped = true;
      plan.history = [];
      if (plan.conversation) ctx.conversations.setTurns(plan.conversation, []);
    }
  }
  ctx.setContext({ kind: 'unknown' });
  const { prefillMs } = await ctx.client.reset(plan.system, { signal });
  return prefillMs;
}

/**
 * The vendor's `qwen3_tokenizer_uid.py` calls `apply_chat_template(messages, add_generation_prompt=True)` without
 * `tools` and its `/encode` takes only text: a context rendered by it can hold neither tools nor tool results.
 */
function toolsUnsupported(): Ax650Error {
  return new Ax650Error(
    'TOOLS_UNSUPPORTED',
    "Tools need the package's built-in tokenizer on the 2025 runtime: the vendor's Python tokenizer (qwen3_tokenizer_uid.py) cannot render them. Switch the runtime node's tokenizer to built-in, or send the prompt without tools.",
  );
}

/** A transcript that ends with tool results continues with them as the new turn (the prompt is not used). */
function withTrailingResults(plan: Plan): Plan {
  const history = plan.history ?? [];
  let start = history.length;
  while (start > 0 && history[start - 1]?.role === 'tool') start--;
  if (start === history.length) return plan;
  return { ...plan, toolResults: history.slice(start), history: history.slice(0, start) };
}
