/**
 * With `think:true` the runtime keeps Qwen3's `<think>…</think>` block in the text; Ollama
 * clients expect it in a separate `thinking` field instead. Deltas arrive in arbitrary pieces,
 * so a tag split across two deltas is held back until it is complete.
 */
const OPEN = '<think>';
const CLOSE = '</think>';

export interface SplitText {
  thinking: string;
  content: string;
}

/** Length of the longest suffix of `text` that is a prefix of `tag` (a tag that may still be arriving). */
function partialTagLength(text: string, tag: string): number {
  for (let n = Math.min(tag.length - 1, text.length); n > 0; n--) {
    if (tag.startsWith(text.slice(-n))) return n;
  }
  return 0;
}

export class ThinkSplitter {
  private state: 'before' | 'inside' | 'closing' | 'after' = 'before';
  private pending = '';

  push(delta: string): SplitText {
    this.pending += delta;
    const out: SplitText = { thinking: '', content: '' };
    for (;;) {
      if (this.state === 'before') {
        const s = this.pending.trimStart();
        if (s.startsWith(OPEN)) {
          this.state = 'inside';
          this.pending = s.slice(OPEN.length);
          continue;
        }
        if (OPEN.startsWith(s)) return out;
        this.state = 'after';
        continue;
      }
      if (this.state === 'inside') {
        const at = this.pending.indexOf(CLOSE);
        if (at >= 0) {
          out.thinking += this.pending.slice(0, at);
          this.pending = this.pending.slice(at + CLOSE.length);
          this.state = 'closing';
          continue;
        }
        const keep = partialTagLength(this.pending, CLOSE);
        out.thinking += this.pending.slice(0, this.pending.length - keep);
        this.pending = this.pending.slice(this.pending.length - keep);
        return out;
      }
      if (this.state === 'closing') {
        // Qwen3 puts blank lines between the block and the answer; Ollama drops them.
        this.pending = this.pending.trimStart();
        if (this.pending === '') return out;
        this.state = 'after';
        continue;
      }
      out.content += this.pending;
      this.pending = '';
      return out;
    }
  }

  /** What is still held back when the reply ends (an unfinished tag is just text). */
  flush(): SplitText {
    const rest = this.pending;
    this.pending = '';
    return this.state === 'inside' ? { thinking: rest, content: '' } : { thinking: '', content: this.state === 'closing' ? '' : rest };
  }
}

export function splitThinking(text: string): SplitText {
  const s = new ThinkSplitter();
  const a = s.push(text);
  const b = s.flush();
  return { thinking: (a.thinking + b.thinking).trim(), content: a.content + b.content };
}
