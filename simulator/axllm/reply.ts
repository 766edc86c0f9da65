/**
 * What the simulated axllm model says. The answer is the 2025 simulator's deterministic corpus pick,
 * keyed by the rendered prompt when decoding is greedy and by the prompt plus a random draw when it
 * samples (so the temperature-0 bug shows as replies that change). Qwen3 thinks unless told not to:
 * `no_think` gives the bare answer, `think`/`default` a short `<think>` block first. A VL model
 * starts by describing the image it was given; a scripted tool call replaces the answer.
 */
import { randomBytes } from 'node:crypto';
import { pickReply, replyTokenIds, THINK_BLOCK } from '../replies';
import type { SimConfig } from '../env';
import type { ThinkingMode } from './config';
import { describeForReply } from './media';
import type { Turn } from './messages';

export interface ReplyPlan {
  promptText: string;
  turns: Turn[];
  thinking: ThinkingMode;
  greedy: boolean;
  /** Scripted answer text (tool calls or a scripted reply), replacing the corpus answer. */
  scripted: string | undefined;
}

export function lastUserText(turns: Turn[]): string {
  for (let i = turns.length - 1; i >= 0; i--) if (turns[i]?.role === 'user') return turns[i]?.text ?? '';
  return '';
}

export function replyText(plan: ReplyPlan, sim: SimConfig): string {
  const key = plan.greedy ? plan.promptText : `${plan.promptText}\u0000${randomBytes(8).toString('hex')}`;
  let answer = pickReply(key, sim.seed).slice(THINK_BLOCK.length);
  const media = plan.turns.flatMap((t) => t.media);
  if (media.length > 0) answer = `${media.map(describeForReply).join(' ')} ${answer}`;
  if (plan.scripted !== undefined) answer = plan.scripted;
  if (plan.thinking === 'no_think') return answer;
  const said = lastUserText(plan.turns).replace(/\s+/g, ' ').slice(0, 40);
  return `<think>\nThe user wrote "${said}". A short, direct answer is best.\n</think>\n\n${answer}`;
}

/** The reply as Qwen3 token ids (AX650_SIM_REPLY / AX650_SIM_REPLY_TOKENS apply). */
export function replyIds(plan: ReplyPlan, sim: SimConfig, encode: (text: string) => number[]): number[] {
  return replyTokenIds(plan.promptText, { seed: sim.seed, fixed: plan.scripted !== undefined ? replyText(plan, sim) : (sim.reply ?? replyText(plan, sim)), tokens: sim.replyTokens }, encode);
}
