/**
 * The built-in tokenizer service, measured by bench/tokenizer.ts's benchTokenizer() in a fresh
 * process (so "resident memory added" is not blurred by what other rows loaded), and judged
 * against issue 10's targets rather than that module's own looser ones.
 */
import path from 'node:path';
import { runJsonChild } from '../lib/child-json';
import type { BenchRow } from '../lib/row';

const ISSUE_TARGETS: Record<string, { target: string; pass: (v: number) => boolean }> = {
  'tokenizer: time to ready': { target: '≤ 1500', pass: (v) => v <= 1500 },
  'tokenizer: resident memory added': { target: '≤ 200', pass: (v) => v <= 200 },
  'tokenizer: encode 2,000-token conversation p99': { target: '≤ 10', pass: (v) => v <= 10 },
  'tokenizer: encode 2,000-token conversation p50': { target: 'none (p99 is the target)', pass: () => true },
};

function isRow(v: unknown): v is BenchRow {
  const r = v as BenchRow;
  return typeof v === 'object' && v !== null && typeof r.name === 'string' && typeof r.value === 'number' && typeof r.how === 'string';
}

export async function tokenizerRows(): Promise<BenchRow[]> {
  const out = await runJsonChild(path.join(__dirname, 'tokenizer-child.js'));
  if (!Array.isArray(out) || !out.every(isRow)) throw new Error(`tokenizer child printed ${JSON.stringify(out)}`);
  return out.map((row) => {
    const judged = ISSUE_TARGETS[row.name];
    if (!judged) throw new Error(`benchTokenizer() returned an unexpected row "${row.name}"`);
    return { ...row, target: judged.target, pass: judged.pass(row.value), how: `${row.how}; fresh Node process` };
  });
}
