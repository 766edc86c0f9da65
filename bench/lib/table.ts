/** The one table: Markdown, so the same text goes to the terminal and into docs/bench.md. */
import type { BenchRow } from './row';

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function formatValue(row: BenchRow): string {
  if (Number.isNaN(row.value)) return 'n/a';
  return row.unit === '' ? String(row.value) : `${row.value} ${row.unit}`;
}

export function markdownTable(rows: readonly BenchRow[]): string {
  const lines = ['| Figure | Value | Target | Result | How it was measured |', '| --- | --- | --- | --- | --- |'];
  for (const r of rows) {
    lines.push(`| ${cell(r.name)} | ${cell(formatValue(r))} | ${cell(r.target)} | ${r.pass ? 'pass' : '**MISSED**'} | ${cell(r.how)} |`);
  }
  return lines.join('\n');
}
