/**
 * axllm's logger [L]: `HH:MM:SS.mmm TAG func:line | msg`, one prefix per line of a multi-line message,
 * WRN/ERR on stderr, INF/NTC on stdout, every line flushed (which also flushes whatever printf left in
 * the stdout buffer), colour only on a TTY, and a line-buffered copy in AXLLM_LOG_FILE.
 * Also the cqdm progress bar [C]: `#` cells, erased in place on a TTY, glued by `\r` on a pipe.
 */
import { appendFileSync } from 'node:fs';
import { f2 } from '../alog';
import type { StdioBuffer } from '../stdout';

export type Tag = 'DBG' | 'INF' | 'NTC' | 'WRN' | 'ERR';

const COLOUR: Record<Tag, string> = { DBG: '\x1b[37m', INF: '\x1b[32m', NTC: '\x1b[35m', WRN: '\x1b[33m', ERR: '\x1b[31m' };

export function clock(date: Date): string {
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${p(date.getHours())}:${p(date.getMinutes())}:${p(date.getSeconds())}.${p(date.getMilliseconds(), 3)}`;
}

export interface LoggerSinks {
  out: StdioBuffer;
  err: (text: string) => void;
  colour: boolean;
  logFile: string | undefined;
}

export class AxLogger {
  /** True while a pipe-mode progress bar is the last thing on stdout (no newline after it). */
  private barOpen = false;

  constructor(private readonly s: LoggerSinks) {}

  get out(): StdioBuffer {
    return this.s.out;
  }

  line(tag: Tag, where: string, message: string): void {
    const stamp = clock(new Date());
    const head = this.s.colour ? `${COLOUR[tag]}${stamp} ${tag}\x1b[0m` : `${stamp} ${tag}`;
    const text = message.split('\n').map((m) => `${head} ${where} | ${m}\n`).join('');
    if (this.s.logFile !== undefined) {
      appendFileSync(this.s.logFile, message.split('\n').map((m) => `${stamp} ${tag} ${where} | ${m}\n`).join(''));
    }
    if (tag === 'WRN' || tag === 'ERR') {
      this.s.out.flush();
      this.s.err(text);
      return;
    }
    this.s.out.write(text);
    this.s.out.flush();
    this.barOpen = false;
  }

  i(where: string, message: string): void {
    this.line('INF', where, message);
  }

  n(where: string, message: string): void {
    this.line('NTC', where, message);
  }

  w(where: string, message: string): void {
    this.line('WRN', where, message);
  }

  e(where: string, message: string): void {
    this.line('ERR', where, message);
  }

  /** printf without a flush (main's console output; on a pipe it waits for the next flushed line). */
  printf(text: string): void {
    this.s.out.write(text);
  }

  /** printf + fflush (streamed deltas, the final non-stream reply). */
  printFlush(text: string): void {
    this.s.out.writeFlush(text);
  }

  /** A progress bar frame; on a TTY the previous frame is erased, on a pipe frames are just glued. */
  bar(text: string): void {
    this.s.out.writeFlush(this.s.colour ? `\r\x1b[2K${text}` : `\r${text}`);
    this.barOpen = true;
  }

  /** finish_inplace_line(): ends the bar with a newline, on a TTY only. */
  finishBar(): void {
    if (this.s.colour && this.barOpen) this.s.out.writeFlush('\n');
    this.barOpen = false;
  }
}

/** cqdm: `\r%3d%% | ####      | %3d / %3d [%.2fs<%.2fs, %.2f count/s] <msg>`, 32 cells. */
export class Progress {
  private count = 0;
  private readonly start = performance.now();

  constructor(
    private readonly log: AxLogger,
    readonly total: number,
    private readonly unit = 'count',
  ) {}

  update(message: string): void {
    this.count++;
    const elapsed = (performance.now() - this.start) / 1000;
    const ratio = Math.min(1, this.count / this.total);
    const cells = Math.round(ratio * 32);
    const rate = elapsed > 0 ? this.count / elapsed : 0;
    const eta = rate > 0 ? (this.total - this.count) / rate : 0;
    const pct = String(Math.trunc(ratio * 100)).padStart(3);
    const n = (v: number): string => String(v).padStart(3);
    this.log.bar(`${pct}% | ${'#'.repeat(cells)}${' '.repeat(32 - cells)} | ${n(this.count)} / ${n(this.total)} [${f2(elapsed)}s<${f2(eta)}s, ${f2(rate)} ${this.unit}/s] ${message}`);
  }

  finish(): void {
    this.log.finishBar();
  }
}
