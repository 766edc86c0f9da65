/** Waits for a line on a child's output stream: readiness is a printed line, never a sleep. */
import type { Readable } from 'node:stream';

export function waitForLine(stream: Readable, match: (line: string) => boolean, timeoutMs: number): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let buffered = '';
    const seen: string[] = [];
    const cleanup = (): void => {
      clearTimeout(timer);
      stream.off('data', onData);
      stream.off('end', onEnd);
    };
    const onData = (chunk: Buffer | string): void => {
      buffered += chunk.toString();
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      for (const line of parts) {
        seen.push(line);
        if (match(line)) {
          cleanup();
          resolve(line);
          return;
        }
      }
    };
    const onEnd = (): void => {
      cleanup();
      reject(new Error(`stream ended before the expected line; saw:\n${seen.slice(-20).join('\n')}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no matching line within ${timeoutMs} ms; saw:\n${seen.slice(-20).join('\n')}`));
    }, timeoutMs);
    stream.on('data', onData);
    stream.on('end', onEnd);
  });
}
