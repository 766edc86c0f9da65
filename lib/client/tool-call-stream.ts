/**
 * Splits a streamed Qwen reply into visible text and tool calls. Qwen2.5/Qwen3 write each call as
 * `<tool_call>\n{"name": …, "arguments": {…}}\n</tool_call>` (their chat template's instruction); a tag
 * can be split across any two deltas, so text that may be the start of `<tool_call>` is held back until
 * the next delta decides. The markup never reaches the visible text. A block whose JSON does not parse,
 * or that the reply ends inside, is kept as a call with its raw text and no `arguments`.
 */
import type { ToolCall } from '../runtime/types';

const OPEN = '<tool_call>';
const CLOSE = '</tool_call>';

/** Length of the longest suffix of `text` that is a proper prefix of `tag`. */
function partialTagAt(text: string, tag: string): number {
  for (let n = Math.min(tag.length - 1, text.length); n > 0; n--) {
    if (text.endsWith(tag.slice(0, n))) return n;
  }
  return 0;
}

/** One block's inside (between the tags) as a ToolCall; `index` makes the id unique within the reply. */
export function parseToolCallBlock(inside: string, index: number): ToolCall {
  const raw = inside.trim();
  const call: ToolCall = { id: `call_${index}`, name: '', raw };
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    const name = /"name"\s*:\s*"([^"]*)"/.exec(raw);
    if (name) call.name = name[1] as string;
    return call;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return call;
  const { name, arguments: args } = parsed as { name?: unknown; arguments?: unknown };
  if (typeof name === 'string') call.name = name;
  // Some fine-tunes write the arguments as a JSON string; both forms are what the model meant.
  let value: unknown = args;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return call;
    }
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) call.arguments = value as Record<string, unknown>;
  return call;
}

export class ToolCallStream {
  readonly calls: ToolCall[] = [];
  private pending = '';
  private inside: string | null = null;

  /** Feeds one delta; returns the text that may be shown now ('' while a tag is undecided or a block is open). */
  push(delta: string): string {
    this.pending += delta;
    let out = '';
    for (;;) {
      if (this.inside === null) {
        const at = this.pending.indexOf(OPEN);
        if (at < 0) {
          const keep = partialTagAt(this.pending, OPEN);
          out += this.pending.slice(0, this.pending.length - keep);
          this.pending = this.pending.slice(this.pending.length - keep);
          return out;
        }
        out += this.pending.slice(0, at);
        this.pending = this.pending.slice(at + OPEN.length);
        this.inside = '';
      }
      const end = this.pending.indexOf(CLOSE);
      if (end < 0) return out;
      this.calls.push(parseToolCallBlock(this.pending.slice(0, end), this.calls.length));
      this.pending = this.pending.slice(end + CLOSE.length);
      this.inside = null;
    }
  }

  /** The reply ended: held-back text that was not a tag after all, and an unterminated block kept as raw. */
  flush(): string {
    const rest = this.pending;
    this.pending = '';
    if (this.inside !== null) {
      this.inside = null;
      const call = parseToolCallBlock(rest, this.calls.length);
      // A block cut off by the end of the reply is never a complete call, whatever its text parses as.
      delete call.arguments;
      this.calls.push(call);
      return '';
    }
    return rest;
  }
}
