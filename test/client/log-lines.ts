/** Reads a runtime stdout fixture and splits it the way the supervisor does: on `\r` and `\n`, ANSI codes stripped. */
import { readFileSync } from 'node:fs';
import path from 'node:path';

const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;

export function splitStdout(raw: string): string[] {
  return raw
    .split(/\r\n|\r|\n/)
    .map((l) => l.replace(ANSI, ''))
    .filter((l) => l.trim() !== '');
}

export function fixtureLines(name: string): string[] {
  const file = path.resolve(__dirname, '../fixtures/runtime-log', name);
  return splitStdout(readFileSync(file, 'utf8'));
}
