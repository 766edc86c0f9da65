/**
 * Splits a decoded text stream into lines on `\n`, `\r` and `\r\n`. The vendor progress bar
 * redraws with a bare `\r` (cqdm.cpp), so every redraw becomes its own line. Only complete lines
 * are returned; the runtime echoes generated tokens without a newline, and that partial text stays
 * pending until a break arrives or flush() is called at end of stream.
 */
export interface LineSplitterOptions {
  /**
   * A pending line longer than this is returned in pieces of this size, so a child that never
   * prints a newline cannot grow memory without bound. Default 64 KiB.
   */
  maxLineLength?: number;
}

const DEFAULT_MAX_LINE = 64 * 1024;

export class LineSplitter {
  private pending = '';
  /** The previous chunk ended in `\r`: a `\n` at the start of the next one completes a `\r\n`. */
  private afterCR = false;
  private readonly maxLineLength: number;

  constructor(opts: LineSplitterOptions = {}) {
    this.maxLineLength = Math.max(1, opts.maxLineLength ?? DEFAULT_MAX_LINE);
  }

  push(chunk: string): string[] {
    const lines: string[] = [];
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i);
      if (c === 10 /* \n */) {
        if (this.afterCR && i === start && this.pending === '') {
          this.afterCR = false;
          start = i + 1;
          continue;
        }
        lines.push(this.pending + chunk.slice(start, i));
        this.pending = '';
        this.afterCR = false;
        start = i + 1;
      } else if (c === 13 /* \r */) {
        lines.push(this.pending + chunk.slice(start, i));
        this.pending = '';
        this.afterCR = true;
        start = i + 1;
      } else if (this.afterCR) {
        this.afterCR = false;
      }
    }
    this.pending += chunk.slice(start);
    while (this.pending.length > this.maxLineLength) {
      lines.push(this.pending.slice(0, this.maxLineLength));
      this.pending = this.pending.slice(this.maxLineLength);
    }
    return lines;
  }

  /** The text after the last line break (what the child printed without a newline yet). */
  partial(): string {
    return this.pending;
  }

  /** Ends the stream: returns the pending partial line, if any. */
  flush(): string[] {
    const rest = this.pending;
    this.pending = '';
    this.afterCR = false;
    return rest === '' ? [] : [rest];
  }
}
