import { stripAnsi } from './ansi';

/**
 * The last few KiB a child printed, for error messages (Ollama's StatusWriter keeps 8 KiB for
 * the same purpose). Raw text is kept with some slack so an escape sequence cut at the front or
 * split across two chunks is still removed whole when the tail is read.
 */
export const TAIL_LIMIT = 8 * 1024;

export class OutputTail {
  private raw = '';

  constructor(private readonly limit: number = TAIL_LIMIT) {}

  append(text: string): void {
    this.raw += text;
    const keep = this.limit * 2;
    if (this.raw.length > keep * 2) this.raw = this.raw.slice(-keep);
  }

  /** At most `limit` characters, ANSI codes removed, every `\r` turned into a line break. */
  text(): string {
    const clean = stripAnsi(this.raw).replace(/\r\n?/g, '\n');
    return clean.length > this.limit ? clean.slice(-this.limit) : clean;
  }
}
