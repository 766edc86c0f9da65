/**
 * The vendor's console formats: `sample_log.h` ALOG macros (printf to stdout, ANSI colours,
 * `[L][%32s][%4d]: `) and the `cqdm.cpp` `\r` progress bar. Line numbers are the ones seen in the
 * Qwen3-4B README log where known; clients must match text, never numbers.
 */
import type { StdioBuffer } from './stdout';

export const ANSI = {
  red: '\x1b[1;30;31m',
  green: '\x1b[1;30;32m',
  yellow: '\x1b[1;30;33m',
  purple: '\x1b[1;30;35m',
  white: '\x1b[1;30;37m',
  end: '\x1b[0m',
} as const;

type Level = 'E' | 'W' | 'I' | 'N' | 'D';

const COLOUR: Record<Level, string> = { E: ANSI.red, W: ANSI.yellow, I: ANSI.green, N: ANSI.purple, D: ANSI.white };

export function alogLine(level: Level, fn: string, line: number, message: string): string {
  return `${COLOUR[level]}[${level}][${fn.padStart(32)}][${String(line).padStart(4)}]: ${message}${ANSI.end}\n`;
}

export class Logger {
  constructor(readonly out: StdioBuffer) {}

  i(fn: string, line: number, message: string): void {
    this.out.write(alogLine('I', fn, line, message));
  }

  w(fn: string, line: number, message: string): void {
    this.out.write(alogLine('W', fn, line, message));
  }

  e(fn: string, line: number, message: string): void {
    this.out.write(alogLine('E', fn, line, message));
  }

  n(fn: string, line: number, message: string): void {
    this.out.write(alogLine('N', fn, line, message));
  }

  /** Plain printf. */
  raw(text: string): void {
    this.out.write(text);
  }
}

/** `printf("%.2f")`. */
export function f2(value: number): string {
  if (Number.isNaN(value)) return '-nan';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  return value.toFixed(2);
}

/** cqdm: a progress bar redrawn in place with `\r`, flushed on every update. */
export class Cqdm {
  private count = 0;
  private totalTime = 0;
  private lastTime: number;

  constructor(
    private readonly out: StdioBuffer,
    readonly total: number,
    private readonly size = 32,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.lastTime = now();
  }

  update(x: number, unit: string, logStr: string): void {
    const now = this.now();
    this.count++;
    this.totalTime += (now - this.lastTime) / 1000;
    const average = this.totalTime / this.count;
    this.lastTime = now;
    const temp = (x + 1) / this.total;
    let text = `${ANSI.yellow}\r${String(Math.trunc(temp * 100)).padStart(3)}% | `;
    for (let i = 0; i < temp * this.size; i++) text += '█';
    for (let i = 0; i < this.size - temp * this.size; i++) text += ' ';
    text += ` | ${String(x + 1).padStart(3)} / ${String(this.total).padStart(3)} [${f2(this.totalTime)}s<${f2(average * this.total)}s, ${f2(1 / average)} ${unit}/s] ${ANSI.green}${logStr}${ANSI.end}`;
    this.out.writeFlush(text);
  }
}
