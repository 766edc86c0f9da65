/**
 * Keeps a conversation inside the runtime's context, by the two rules the runtime's SetKVCache
 * applies to every turn (reference §1.6 and §2.4; `simulator/kv-cache.ts` reproduces them):
 *   1. the context before the turn (`precompute_len`) plus the new input fits the largest prefill
 *      group (`prefill_max_token_num` of the init log, 2,048 for the Qwen3-4B ctx build);
 *   2. the new input alone is at most ALIGN_DOWN(prefill_max_token_num − precompute_len, 128).
 * Rule 2 is the stricter one near the edge: with 1,950 tokens in a 2,048 context no input fits.
 * Decoding also stops silently at `max_token_len`, so some room is kept for the reply.
 *
 * The fit is a pure function of token counts, usable by any runtime kind: a stateful runtime (G1)
 * that restores the kept turns in a reset prefill, and a stateless one (axllm) that sends them with
 * every request. Its contract:
 *   - the system prompt and the new user turn are always kept; turns are dropped oldest first, a
 *     whole exchange at a time (a user turn and everything up to the next one: its reply, or its tool
 *     calls, their results and the answer; lib/runtime/tool-turns.ts), so the kept history stays a
 *     suffix of the given one (a stable prefix for a runtime that reuses its KV cache) and never holds
 *     a tool result without its call;
 *   - the new turn may be tool results (a tool round of a conversation): then the exchange they belong
 *     to is still open and is never dropped;
 *   - history is dropped only when a rule fails or the reply room is short, and then down to
 *     TRIM_TO of the context, so the next turns continue the live context instead of each paying a
 *     reset prefill of the whole history (about 20 s for 2,000 tokens on the NPU); the last exchange
 *     is kept whenever the rules allow it;
 *   - `heldTokens`: what the runtime reports its live context holds for the whole given history
 *     (`precompute_len`); used instead of the count when larger (a reply's think block, lived but
 *     not stored), and only while nothing is dropped (a trimmed history is restored afresh);
 *   - `fits: false` means even the system prompt and the new turn alone break a rule: the caller
 *     refuses the turn with `contextFullError` (code CONTEXT_FULL), never with another code.
 */
import { Ax650Error } from '../errors';
import { asLivedTurn, DEFAULT_SYSTEM_PROMPT } from '../tokenizer/session';
import type { QwenTokenizer } from '../tokenizer/qwen-tokenizer';
import { dropOldestExchange, exchangeCount } from './tool-turns';
import type { ChatMessage, ToolSpec } from './types';

export interface FitLimits {
  /** Largest prefill group (`prefill_max_token_num` of the init log). */
  prefillMaxTokenNum: number;
  /** `max_token_len` of the init log. */
  maxTokenLen: number;
  /** Tokens kept free for the reply (history is dropped to make room; the rules above do not depend on it). */
  replyReserve: number;
}

export const DEFAULT_LIMITS: FitLimits = { prefillMaxTokenNum: 2048, maxTokenLen: 2559, replyReserve: 512 };

/** The runtime's prefill chunk (`prefill_token_num`), the alignment of rule 2. */
export const PREFILL_TOKEN_NUM = 128;

/**
 * Slack on top of the counted prefix: a live context holds a few tokens more than the template
 * counts (the think block of each lived reply, the vendor's `[:-3]` bookkeeping).
 */
export const MARGIN = 16;

/** Share of `prefill_max_token_num` a trimmed conversation is cut down to. */
export const TRIM_TO = 0.75;

/**
 * How a runtime kind counts a conversation; both counts are of the templated text the model sees,
 * with the turn's tools rendered into the system turn (the chat template's tools block).
 */
export interface ConversationCounter {
  /** The context before the new turn (`precompute_len` once the turns are in the KV cache). */
  prefix(system: string, turns: readonly ChatMessage[], tools?: readonly ToolSpec[]): number;
  /** Prefix + the new turn (a user prompt, or tool results) + the generation prompt. */
  total(system: string, turns: readonly ChatMessage[], input: NewTurn, tools?: readonly ToolSpec[]): number;
}

/** A turn's new input: the user's prompt, or the results of the tools the last assistant turn called. */
export type NewTurn = string | readonly ChatMessage[];

export interface FitResult {
  /** The kept history, a suffix of the given turns. */
  turns: ChatMessage[];
  /** User/assistant exchanges dropped from the front. */
  droppedTurns: number;
  /** Tokens those exchanges took in the context. */
  droppedTokens: number;
  /** Context before the new turn, margin included. */
  prefixTokens: number;
  /** The new turn's input (what the runtime prefills in this turn). */
  inputTokens: number;
  /** Rule 2's limit for this prefix. */
  inputLimit: number;
  /** Rule 1's limit (`prefill_max_token_num`). */
  contextLimit: number;
  /** Both rules hold; false only when the system prompt and the new turn alone break one. */
  fits: boolean;
}

const alignDown = (x: number, a: number): number => Math.max(0, Math.floor(x / a) * a);

/** Rule 2's limit on a turn's new input for a context that already holds `prefix` tokens. */
export function inputLimitFor(prefix: number, prefillMaxTokenNum: number): number {
  return alignDown(prefillMaxTokenNum - prefix, PREFILL_TOKEN_NUM);
}

interface Measure {
  prefix: number;
  input: number;
  inputLimit: number;
  rulesHold: boolean;
  replyRoom: boolean;
}

function measure(counter: ConversationCounter, system: string, turns: readonly ChatMessage[], prompt: NewTurn, limits: FitLimits, held?: number, tools?: readonly ToolSpec[]): Measure {
  const counted = counter.prefix(system, turns, tools);
  const input = counter.total(system, turns, prompt, tools) - counted;
  const prefix = Math.max(counted, held ?? 0) + MARGIN;
  const total = prefix + input;
  const inputLimit = inputLimitFor(prefix, limits.prefillMaxTokenNum);
  const rulesHold = total <= limits.prefillMaxTokenNum && input <= inputLimit;
  return { prefix, input, inputLimit, rulesHold, replyRoom: total + limits.replyReserve <= limits.maxTokenLen };
}

/** Drops the oldest exchanges until the runtime takes the turn with room for the reply. */
export function fitConversation(
  counter: ConversationCounter,
  system: string,
  turns: readonly ChatMessage[],
  prompt: NewTurn,
  limits: FitLimits,
  heldTokens?: number,
  tools?: readonly ToolSpec[],
): FitResult {
  // Tool results continue the last exchange: it stays, whatever else goes.
  const open = typeof prompt === 'string' ? 0 : 1;
  let kept = [...turns];
  let dropped = 0;
  let m = measure(counter, system, kept, prompt, limits, heldTokens, tools);
  const before = m.prefix;
  const target = Math.floor(limits.prefillMaxTokenNum * TRIM_TO);
  const dropOldest = (): void => {
    // Whole exchanges, so a tool round goes with the prompt it belongs to.
    kept = dropOldestExchange(kept);
    dropped++;
    m = measure(counter, system, kept, prompt, limits, undefined, tools);
  };
  while (exchangeCount(kept) > open && !(m.rulesHold && m.replyRoom)) {
    // Keep the last exchange when only the reply room is short: an answer with context beats a longer one without.
    if (m.rulesHold && exchangeCount(kept) <= 1) break;
    dropOldest();
  }
  while (dropped > 0 && exchangeCount(kept) > 1 && m.prefix + m.input > target) dropOldest();
  return {
    turns: kept,
    droppedTurns: dropped,
    droppedTokens: before - m.prefix,
    prefixTokens: m.prefix,
    inputTokens: m.input,
    inputLimit: m.inputLimit,
    contextLimit: limits.prefillMaxTokenNum,
    fits: m.rulesHold,
  };
}

/** The one error for a turn the runtime cannot take, with the counts and the limit in the sentence. */
export function contextFullError(fit: Pick<FitResult, 'prefixTokens' | 'inputTokens' | 'inputLimit' | 'contextLimit'>): Ax650Error {
  const { prefixTokens, inputTokens, inputLimit, contextLimit } = fit;
  return new Ax650Error(
    'CONTEXT_FULL',
    `The prompt needs ${inputTokens} tokens in one turn, but the model takes at most ${inputLimit} new tokens on top of the ${prefixTokens} tokens the context holds before it (context limit ${contextLimit} tokens). Shorten the prompt or the system prompt.`,
    { params: { tokens: inputTokens, limit: inputLimit, prefix: prefixTokens, context: contextLimit } },
  );
}

/** The G1 runtime's counts: the vendor tokenizer's templating of lived turns (lib/tokenizer/session.ts). */
export function qwenCounter(tok: QwenTokenizer): ConversationCounter {
  const lived = (system: string, turns: readonly ChatMessage[]): ChatMessage[] => [
    { role: 'system', content: system === '' ? DEFAULT_SYSTEM_PROMPT : system },
    ...turns.map(asLivedTurn),
  ];
  const count = (messages: ChatMessage[], tools?: readonly ToolSpec[]): number => tok.encode(tok.applyChatTemplate(messages, true, tools && tools.length > 0 ? tools : undefined)).length;
  return {
    // The reset's token_ids: the history without the 3-token generation prompt.
    prefix: (system, turns, tools) => count(lived(system, turns), tools) - 3,
    total: (system, turns, input, tools) => count([...lived(system, turns), ...(typeof input === 'string' ? [{ role: 'user' as const, content: input }] : input).map(asLivedTurn)], tools),
  };
}

/**
 * Makes a transcript's history restorable: user and assistant turns alternating, starting with a
 * user turn and ending with an assistant turn (what the tokenizer's restore takes). Consecutive turns
 * of one role are joined, as a chat client would have sent them in one message.
 */
function toolFields(m: ChatMessage): ChatMessage {
  const copy: ChatMessage = { role: m.role, content: m.content };
  if (m.toolCalls && m.toolCalls.length > 0) copy.toolCalls = m.toolCalls;
  if (m.toolCallId !== undefined) copy.toolCallId = m.toolCallId;
  if (m.toolName !== undefined) copy.toolName = m.toolName;
  if (m.images) copy.images = [...m.images];
  return copy;
}

export function normalizeHistory(messages: readonly ChatMessage[]): ChatMessage[] {
  const out: ChatMessage[] = [];
  for (const m of messages) {
    if (m.role === 'system') continue;
    const last = out[out.length - 1];
    // Tool rounds stay as they are: an assistant turn's calls, each tool result its own turn.
    if (last && last.role === m.role && m.role !== 'tool' && !last.toolCalls && !m.toolCalls) {
      last.content = `${last.content}\n\n${m.content}`;
      if (m.images) last.images = [...(last.images ?? []), ...m.images];
    } else out.push(toolFields(m));
  }
  while (out[0] && out[0].role !== 'user') out.shift();
  if (out[out.length - 1]?.role === 'user') out.pop();
  return out;
}
