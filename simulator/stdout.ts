/**
 * glibc stdio buffering of the runtime's stdout. printf output to a pipe or file sits in a 4096-byte
 * buffer until it fills or the code calls fflush (progress bar, token callback, std::endl on
 * `Server running`, exit); a TTY or `stdbuf -oL` makes it line-buffered. A process killed by a
 * signal loses what is still buffered, exactly like the real binary.
 */

export type BufferMode = 'full' | 'line' | 'unbuffered';

export const STDIO_BUFSIZ = 4096;

export interface ByteSink {
  write(chunk: Buffer): void;
}

export class StdioBuffer {
  private pending: Buffer[] = [];
  private size = 0;

  constructor(
    private readonly sink: ByteSink,
    readonly mode: BufferMode,
  ) {}

  /** printf / std::cout without a flush. */
  write(text: string): void {
    const bytes = Buffer.from(text, 'utf8');
    if (this.mode === 'unbuffered') {
      this.sink.write(bytes);
      return;
    }
    this.pending.push(bytes);
    this.size += bytes.length;
    if (this.mode === 'line' && bytes.includes(0x0a)) {
      this.flush();
      return;
    }
    while (this.size >= STDIO_BUFSIZ) {
      const all = Buffer.concat(this.pending);
      this.sink.write(all.subarray(0, STDIO_BUFSIZ));
      const rest = all.subarray(STDIO_BUFSIZ);
      this.pending = rest.length > 0 ? [rest] : [];
      this.size = rest.length;
    }
  }

  /** fflush(stdout). */
  flush(): void {
    if (this.size === 0) return;
    const all = Buffer.concat(this.pending);
    this.pending = [];
    this.size = 0;
    this.sink.write(all);
  }

  /** printf then fflush, the pattern of the progress bar and the token callback. */
  writeFlush(text: string): void {
    this.write(text);
    this.flush();
  }
}

/** stdout is synchronous for files, TTYs and pipes on Linux, so ordering with process exit is kept. */
export function processStdoutSink(): ByteSink {
  return { write: (chunk) => void process.stdout.write(chunk) };
}

export function chooseMode(isTTY: boolean, stdbuf: 'line' | 'unbuffered' | undefined): BufferMode {
  if (stdbuf === 'unbuffered') return 'unbuffered';
  if (stdbuf === 'line' || isTTY) return 'line';
  return 'full';
}
