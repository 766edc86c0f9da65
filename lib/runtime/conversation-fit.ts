/**
 * Keeps a conversation inside the runtime's context. The runtime refuses a turn when the tokens
 * already in its KV cache plus the new ones exceed its largest prefill group (`SetKVCache failed`,
 * reference §1.6; 2,048 for the Qwen3-4B ctx build) and silently stops decoding at `max_token_len`
 * (2,559). So before a turn, the whole templated history + the new user turn must fit the prefill
 * limit with room left for the reply; the oldest user/assistant pairs are dropped until it does
 * (never the system prompt).
 */
import { asLivedTurn } from '../tokenizer/session';
import type { QwenTokenizer } from '../tokenizer/qwen-tokenizer';
import type { ChatMessage } from './types';

export interface FitLimits {
  /** Largest prefill group (`prefill_max_token_num` of the init log). */
  prefillMaxTokenNum: number;
  /** `max_token_len` of the init log. */
  maxTokenLen: number;
  /** Tokens kept free for the reply. */
  replyReserve: number;
}

export const DEFAULT_LIMITS: FitLimits = { prefillMaxTokenNum: 2048, maxTokenLen: 2559, replyReserve: 512 };

/** Template slack: the vendor's `[:-3]` bookkeeping and the think block of the coming reply. */
const MARGIN = 16;

export function contextTokens(tok: QwenTokenizer, system: string, turns: readonly ChatMessage[], prompt: string): number {
  const messages: ChatMessage[] = [{ role: 'system', content: system }, ...turns.map(asLivedTurn), asLivedTurn({ role: 'user', content: prompt })];
  return tok.encode(tok.applyChatTemplate(messages, true)).length;
}

export interface FitResult {
  turns: ChatMessage[];
  /** User/assistant pairs dropped from the front. */
  droppedTurns: number;
  tokens: number;
  budget: number;
}

export function fitHistory(tok: QwenTokenizer, system: string, turns: readonly ChatMessage[], prompt: string, limits: FitLimits): FitResult {
  const budget = Math.min(limits.prefillMaxTokenNum, limits.maxTokenLen - limits.replyReserve) - MARGIN;
  let kept = [...turns];
  let dropped = 0;
  let tokens = contextTokens(tok, system, kept, prompt);
  while (tokens > budget && kept.length > 0) {
    // Drop whole exchanges so the history keeps alternating user/assistant.
    const cut = kept[0]?.role === 'user' && kept[1]?.role === 'assistant' ? 2 : 1;
    kept = kept.slice(cut);
    dropped++;
    tokens = contextTokens(tok, system, kept, prompt);
  }
  return { turns: kept, droppedTurns: dropped, tokens, budget };
}

/**
 * Makes a transcript's history restorable: user and assistant turns alternating, starting with a
 * user turn and ending with an assistant turn (what the tokenizer's restore takes). Consecutive turns
 * of one role are joined, as a chat client would have sent them in one message.
 */
export function normalizeHistory(messages: readonly ChatMessage[]): ChatMessage[] {
  const out: ChatMessage[] = [];
  for (const m of messages) {
    if (m.role === 'system') continue;
    const last = out[out.length - 1];
    if (last && last.role === m.role) last.content = `${last.content}\n\n${m.content}`;
    else out.push({ role: m.role, content: m.content });
  }
  while (out[0]?.role === 'assistant') out.shift();
  if (out[out.length - 1]?.role === 'user') out.pop();
  return out;
}
