/** One line of the bench table; the shape bench/tokenizer.ts already returns. */
export type { BenchRow } from '../tokenizer';
import type { BenchRow } from '../tokenizer';

export type RowModule = () => Promise<BenchRow[]>;

/** A row whose figure could not be taken: reported as a miss with the reason, never left out. */
export function notMeasured(name: string, target: string, reason: string): BenchRow {
  return { name, value: NaN, unit: '', target, pass: false, how: `NOT MEASURED: ${reason}` };
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message.split('\n')[0] ?? e.message : String(e);
}
