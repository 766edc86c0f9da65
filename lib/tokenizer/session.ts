/**
 * One uid's conversation, following `Tokenizer_Http` in the vendor's `qwen3_tokenizer_uid.py`
 * (gregm123456/Qwen3-4B @4d24db7, a copy of the HF AXERA-TECH/Qwen3-4B file):
 * - L17-22 `__init__`: history starts as [default system prompt], `token_ids` and the decode cache empty.
 * - L24-29 `remove_think`: every `<think>` and `</think>` removed, then `strip("\n")` (newlines only, both ends).
 * - L31-42 `encode` with `last_reply` (sent whenever it is not None): the think-stripped reply is appended as the
 *   assistant turn and `token_ids` becomes `encode(template(history, add_generation_prompt=True))[:-3]`, i.e. the
 *   history without the trailing `<|im_start|>assistant\n` (3 tokens).
 * - L43-46: `/no_think` is appended to a prompt that does not already end with it; the prompt becomes a user turn.
 * - L48-59: `token_ids` = encode(template(history, True)); `diff` = the new ids past the previous length (by length,
 *   not by comparing prefixes); the template is the qwen2.5_tokenizer one, the ids the qwen3_tokenizer ones.
 * - L61-69 `decode`: ids accumulate in a cache; while the decoded cache contains U+FFFD the answer is "" and the
 *   cache is kept, otherwise the text is returned and the cache cleared. (The qwen2.5 variant gives up after 9 ids;
 *   this one never does.)
 * - L88-100 `reset`: history = [system prompt], `token_ids` = encode(template(history, True))[:-3].
 *   Handler L174-187: the default prompt is used when `system_prompt` is absent (the runtime omits it when empty,
 *   ax-llm Tokenizer.cpp `Reset`), and here also when it is "".
 * Deliberate difference (conversation restore relies on it): the runtime never clears its `last_reply` on
 * `/api/reset` (gregm123456/ax-llm @086f4e6 main_api.cpp: the reset task only calls `Reset`; `last_reply` is
 * assigned after each `Run`), so the first `/encode` after a reset carries the reply of the conversation
 * that came BEFORE the reset. The vendor script appends it to the fresh history, leaking the previous
 * chat's last answer into the new context. Here the first encode after a reset ignores that `last_reply`:
 * the KV cache holds exactly the reset's tokens, and the diff stays the new user turn.
 * Deliberate difference: the vendor also runs its debug `print(self.decode(...))` on every encode/reset (L42, L58, L99),
 * which goes through the same cache. With an empty cache that just clears it; with bytes left over from a reply cut
 * mid-character it merges them into the prompt text and the cache then never decodes cleanly again. Here encode and
 * reset clear the cache directly, which matches the normal case and avoids that wedge.
 */
import type { ChatMessage, ToolSpec } from '../runtime/types';
import type { QwenTokenizer } from './qwen-tokenizer';

export const DEFAULT_SYSTEM_PROMPT = 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.';
const NO_THINK = '/no_think';
/** `<|im_start|>`, `assistant`, `\n`: the generation prompt the vendor cuts off with `[:-3]`. */
const GENERATION_PROMPT_TOKENS = 3;

export function removeThink(text: string): string {
  return text.replaceAll('<think>', '').replaceAll('</think>', '').replace(/^\n+|\n+$/g, '');
}

export function withNoThink(prompt: string): string {
  return prompt.endsWith(NO_THINK) ? prompt : prompt + NO_THINK;
}

/** A turn as the vendor stores it after living it: `/no_think` on user turns, think tags stripped from replies. */
export function asLivedTurn(message: ChatMessage): ChatMessage {
  if (message.role === 'user') return { role: 'user', content: withNoThink(message.content) };
  if (message.role === 'assistant') {
    const lived: ChatMessage = { role: 'assistant', content: removeThink(message.content) };
    if (message.toolCalls && message.toolCalls.length > 0) lived.toolCalls = message.toolCalls;
    return lived;
  }
  return { ...message };
}

export interface EncodeResult {
  tokenIds: number[];
  diff: number[];
}

export class TokenizerSession {
  private messages: ChatMessage[] = [{ role: 'system', content: DEFAULT_SYSTEM_PROMPT }];
  private tokenIds: number[] = [];
  private decodeCache: number[] = [];
  /** A reset happened and no encode since: the next `last_reply` belongs to the context before the reset. */
  private freshFromReset = false;
  /** Tools rendered into this context's system turn (set by the reset that started it). */
  private tools: ToolSpec[] | undefined;

  constructor(private readonly tokenizer: QwenTokenizer) {}

  get history(): readonly ChatMessage[] {
    return this.messages;
  }

  /**
   * `toolResults` (role 'tool' turns, armed by the package): this turn answers the model's tool calls, so
   * they are the new turn (the template writes them as a user turn of `<tool_response>` blocks) instead of
   * `prompt`, and no `/no_think` is added to them.
   */
  encode(prompt: string, lastReply?: string, toolResults?: readonly ChatMessage[]): EncodeResult {
    this.decodeCache = [];
    const stale = this.freshFromReset;
    this.freshFromReset = false;
    if (lastReply !== undefined && !stale) {
      this.messages.push(asLivedTurn({ role: 'assistant', content: lastReply }));
      this.tokenIds = this.templatedIds().slice(0, -GENERATION_PROMPT_TOKENS);
    }
    if (toolResults && toolResults.length > 0) this.messages.push(...toolResults.map((m) => ({ ...m })));
    else this.messages.push(asLivedTurn({ role: 'user', content: prompt }));
    const tokenIds = this.templatedIds();
    const diff = tokenIds.slice(this.tokenIds.length);
    this.tokenIds = tokenIds;
    return { tokenIds, diff };
  }

  decode(ids: number[]): string {
    this.decodeCache.push(...ids);
    const text = this.tokenizer.decode(this.decodeCache);
    if (text.includes('\ufffd')) return '';
    this.decodeCache = [];
    return text;
  }

  /**
   * Starts a new context. `restore` (turns alternating user/assistant, ending with an assistant turn) is put
   * back into the history as if those turns had been lived one by one, so the ids equal those the vendor
   * holds right after the last reply came back with the next `encode`.
   */
  reset(systemPrompt?: string, restore: readonly ChatMessage[] = [], tools?: readonly ToolSpec[]): number[] {
    this.tools = tools && tools.length > 0 ? [...tools] : undefined;
    this.decodeCache = [];
    const system = systemPrompt === undefined || systemPrompt === '' ? DEFAULT_SYSTEM_PROMPT : systemPrompt;
    this.messages = [{ role: 'system', content: system }, ...restore.map(asLivedTurn)];
    this.tokenIds = this.templatedIds().slice(0, -GENERATION_PROMPT_TOKENS);
    this.freshFromReset = true;
    return this.tokenIds;
  }

  private templatedIds(): number[] {
    return this.tokenizer.encode(this.tokenizer.applyChatTemplate(this.messages, true, this.tools));
  }
}
