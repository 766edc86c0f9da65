/**
 * Qwen3 replies start with a think block; with the vendor tokenizer's `/no_think` it is the empty
 * `<think>\n\n</think>\n\n` (reference §3). Deltas split it anywhere, so the filter holds back only
 * as much text as could still turn out to be part of the block, then streams everything through.
 */
const OPEN = '<think>';
const CLOSE = '</think>';

type Phase = 'start' | 'inside' | 'after' | 'pass';

export class ThinkFilter {
  private phase: Phase = 'start';
  private held = '';

  /** Returns the part of `chunk` that is visible now. */
  push(chunk: string): string {
    if (this.phase === 'pass') return chunk;
    this.held += chunk;
    if (this.phase === 'start') {
      const lead = this.held.trimStart();
      if (lead.length < OPEN.length && OPEN.startsWith(lead)) return '';
      if (!lead.startsWith(OPEN)) return this.release();
      this.phase = 'inside';
    }
    if (this.phase === 'inside') {
      const end = this.held.indexOf(CLOSE);
      if (end < 0) return '';
      this.held = this.held.slice(end + CLOSE.length);
      this.phase = 'after';
    }
    // Drop the blank lines that follow the block, even when they arrive in later deltas.
    this.held = this.held.replace(/^\s+/, '');
    return this.held === '' ? '' : this.release();
  }

  /** At the end of the stream: whatever was held back and never became a think block. */
  flush(): string {
    if (this.phase === 'start') return this.release();
    this.phase = 'pass';
    this.held = '';
    return '';
  }

  private release(): string {
    const out = this.held;
    this.held = '';
    this.phase = 'pass';
    return out;
  }
}
