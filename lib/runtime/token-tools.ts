/**
 * What the runtime needs from the model's tokenizer besides the service itself: counting tokens
 * (max_tokens, stats, status rates), cutting text at a token count, refusing prompts that cannot fit
 * one turn, and fitting a conversation into the context the init log reported.
 */
import type { QwenTokenizer } from '../tokenizer/qwen-tokenizer';
import { contextFullError, DEFAULT_LIMITS, fitConversation, qwenCounter, type ConversationCounter, type FitLimits, type FitResult, type NewTurn } from './conversation-fit';
import type { ChatMessage, ToolSpec } from './types';

export interface ContextLimits {
  maxTokenLen: number | null;
  prefillMaxTokenNum: number | null;
}

export class TokenTools {
  private readonly counter: ConversationCounter;

  constructor(private readonly tok: QwenTokenizer, private readonly limits: ContextLimits) {
    this.counter = qwenCounter(tok);
  }

  count(text: string): number {
    return this.tok.encode(text).length;
  }

  /** The longest prefix of `text` that is at most `n` tokens (a character split across tokens is dropped). */
  truncate(text: string, n: number): string {
    return this.tok.decode(this.tok.encode(text).slice(0, n)).replace(/\uFFFD+$/, '');
  }

  /**
   * Refuses, before it is queued, a prompt the runtime could never take in one turn even in a fresh
   * context with only the system prompt: the same rules and the same CONTEXT_FULL as the fit itself.
   */
  checkFits(system: string, prompt: string): void {
    if (this.limits.prefillMaxTokenNum === null) return;
    const fit = fitConversation(this.counter, system, [], prompt, this.fitLimits(undefined));
    if (!fit.fits) throw contextFullError(fit);
  }

  /** max_tokens for a runtime that honours it: the cap, or less when the context leaves less room. */
  replyBudget(cap: number, contextTokens: number | undefined): number {
    const max = this.limits.maxTokenLen;
    if (max === null || contextTokens === undefined) return cap;
    return Math.max(1, Math.min(cap, max - contextTokens));
  }

  fit(system: string, turns: readonly ChatMessage[], input: NewTurn, maxTokens: number | undefined, heldTokens?: number, tools?: readonly ToolSpec[]): FitResult {
    return fitConversation(this.counter, system, turns, input, this.fitLimits(maxTokens), heldTokens, tools);
  }

  private fitLimits(maxTokens: number | undefined): FitLimits {
    return {
      prefillMaxTokenNum: this.limits.prefillMaxTokenNum ?? DEFAULT_LIMITS.prefillMaxTokenNum,
      maxTokenLen: this.limits.maxTokenLen ?? DEFAULT_LIMITS.maxTokenLen,
      replyReserve: Math.min(maxTokens ?? DEFAULT_LIMITS.replyReserve, DEFAULT_LIMITS.replyReserve),
    };
  }
}
