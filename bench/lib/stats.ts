/** Order statistics for noisy machines: medians and min–max instead of means. */

export function sorted(values: readonly number[]): number[] {
  return [...values].sort((a, b) => a - b);
}

export function median(values: readonly number[]): number {
  const s = sorted(values);
  if (s.length === 0) return NaN;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** Nearest-rank percentile. */
export function percentile(values: readonly number[], p: number): number {
  const s = sorted(values);
  if (s.length === 0) return NaN;
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))] as number;
}

export function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** "min–max" of a sample, for the how column. */
export function spread(values: readonly number[], digits: number, unit = ''): string {
  const s = sorted(values);
  if (s.length === 0) return 'no samples';
  return `${round(s[0] as number, digits)}–${round(s[s.length - 1] as number, digits)}${unit}`;
}
