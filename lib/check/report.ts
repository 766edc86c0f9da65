/**
 * The ax650-check report: labelled lines grouped in sections, each line ok / warn / fail, printed as
 * plain text that pastes into an issue. A fail makes the check exit non-zero; a warn is information
 * (e.g. a reference the machine cannot provide).
 */
export type Verdict = 'ok' | 'warn' | 'fail' | 'info';

export interface ReportLine {
  section: string;
  label: string;
  text: string;
  verdict: Verdict;
}

export class CheckReport {
  readonly lines: ReportLine[] = [];

  constructor(private readonly header: string) {}

  add(section: string, label: string, text: string, verdict: Verdict = 'info'): void {
    this.lines.push({ section, label, text, verdict });
  }

  get failures(): ReportLine[] {
    return this.lines.filter((l) => l.verdict === 'fail');
  }

  format(): string {
    const width = Math.max(...this.lines.map((l) => l.label.length), 10);
    const out = [this.header];
    let section = '';
    for (const l of this.lines) {
      if (l.section !== section) {
        section = l.section;
        out.push('', section);
      }
      const mark = l.verdict === 'info' ? '    ' : l.verdict === 'ok' ? 'ok  ' : l.verdict === 'warn' ? 'WARN' : 'FAIL';
      const [first, ...rest] = l.text.split('\n');
      out.push(`  ${mark} ${l.label.padEnd(width)}  ${first ?? ''}`);
      for (const more of rest) out.push(`       ${' '.repeat(width)}  ${more}`);
    }
    const failures = this.failures;
    out.push('', failures.length === 0 ? 'Result: PASS' : `Result: FAIL (${failures.length}): ${failures.map((f) => `${f.label}: ${f.text.split('\n')[0]}`).join('; ')}`);
    return out.join('\n') + '\n';
  }
}

export function ms(value: number | null | undefined): string {
  return value === null || value === undefined ? 'n/a' : `${Math.round(value)} ms`;
}
