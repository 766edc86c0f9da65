/**
 * Why a runtime that died while loading died, in words taken from its own log: the vendor binary
 * prints its errors as ALOG `[E]` lines (`[E][  Init][ 160]: axcl_Init(0) failed`, then
 * `[E][  main][ 444]: lLaMa.Init failed`), and the driver prints `… fail, errno: 2 No such file or
 * directory` lines (reference §"Failure modes"). The first error is the root cause, the last one the
 * consequence; both go into the error sentence so a user does not have to dig in `tail`.
 */
import { stripAnsi } from '../supervisor/ansi';

/** `[E][function][line]: message`, the vendor's error level (sample_log.h). */
const ALOG_ERROR = /\[E\]\[[^\]]*\]\[\s*\d+\]:\s*(.+)$/;
/** Lines without the ALOG frame that still name a failure (driver, dynamic loader, shell). */
const PLAIN_ERROR = /(No such file or directory|cannot open shared object|not found|Permission denied|errno: \d+|Segmentation fault|Aborted|Illegal instruction)/i;

const MAX_CAUSE = 300;

/** The failure lines of a log tail, oldest first, without ANSI codes and without duplicates. */
export function failureLines(tail: string): string[] {
  const found: string[] = [];
  for (const raw of tail.split(/\r|\n/)) {
    const line = stripAnsi(raw).trim();
    if (line === '') continue;
    const alog = ALOG_ERROR.exec(line);
    const text = alog ? alog[1]!.trim() : PLAIN_ERROR.test(line) ? line : null;
    if (text !== null && !found.includes(text)) found.push(text);
  }
  return found;
}

/**
 * A short cause for an error sentence: the first failure line and, when different, the last
 * (e.g. "axcl_Init(0) failed … lLaMa.Init failed"); null when the log names no failure.
 */
export function loadFailureCause(tail: string): string | null {
  const lines = failureLines(tail);
  if (lines.length === 0) return null;
  const first = lines[0]!;
  const last = lines[lines.length - 1]!;
  const cause = first === last ? first : `${first} … ${last}`;
  return cause.length > MAX_CAUSE ? `${cause.slice(0, MAX_CAUSE - 1)}…` : cause;
}
