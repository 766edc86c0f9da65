/**
 * What the runtime needs from the model's tokenizer besides the service itself: counting tokens
 * (max_tokens, stats, status rates), cutting text at a token count, refusing prompts that cannot fit
 * one turn, and fitting a conversation into the context the init log reported.
 */
import { Ax650Error } from '../errors';
import type { QwenTokenizer } from '../tokenizer/qwen-tokenizer';
import { DEFAULT_LIMITS, fitHistory, type FitResult } from './conversation-fit';
import type { ChatMessage } from './types';

export interface ContextLimits {
  maxTokenLen: number | null;
  prefillMaxTokenNum: number | null;
}

export class TokenTools {
  constructor(private readonly tok: QwenTokenizer, private readonly limits: ContextLimits) {}

  count(text: string): number {
    return this.tok.encode(text).length;
  }

  /** The longest prefix of `text` that is at most `n` tokens (a character split across tokens is dropped). */
  truncate(text: string, n: number): string {
    return this.tok.decode(this.tok.encode(text).slice(0, n)).replace(/\uFFFD+$/, '');
  }

  /** Refuses a prompt the runtime could never prefill in one turn, before it is queued. */
  checkFits(prompt: string): void {
    const limit = this.limits.prefillMaxTokenNum;
    if (limit === null) return;
    // The chat template adds about a dozen tokens around the prompt (reference §3).
    const room = limit - 16;
    const tokens = this.count(prompt);
    if (tokens > room) {
      throw new Ax650Error('BAD_INPUT', `The prompt is ${tokens} tokens; the model takes at most about ${room} tokens in one turn. Shorten it or split it.`, {
        params: { field: 'prompt', tokens, limit: room },
      });
    }
  }

  /** max_tokens for a runtime that honours it: the cap, or less when the context leaves less room. */
  replyBudget(cap: number, contextTokens: number | undefined): number {
    const max = this.limits.maxTokenLen;
    if (max === null || contextTokens === undefined) return cap;
    return Math.max(1, Math.min(cap, max - contextTokens));
  }

  fit(system: string, turns: readonly ChatMessage[], prompt: string, maxTokens: number | undefined): FitResult {
    return fitHistory(this.tok, system, turns, prompt, {
      prefillMaxTokenNum: this.limits.prefillMaxTokenNum ?? DEFAULT_LIMITS.prefillMaxTokenNum,
      maxTokenLen: this.limits.maxTokenLen ?? DEFAULT_LIMITS.maxTokenLen,
      replyReserve: Math.min(maxTokens ?? DEFAULT_LIMITS.replyReserve, DEFAULT_LIMITS.replyReserve),
    });
  }
}
