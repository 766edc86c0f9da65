/**
 * Linux /proc readers used to recognise a process across restarts of the parent. A pid alone is
 * not an identity (pids are recycled); pid + start time (stat field 22, clock ticks since boot)
 * + command line is.
 */
import { readFileSync, readdirSync } from 'node:fs';

export interface ProcStat {
  pid: number;
  /** One-letter state; `Z` is a zombie (exited, not yet reaped: no longer running). */
  state: string;
  pgid: number;
  /** Field 22: start time in clock ticks after boot. */
  startTime: number;
}

/**
 * Field 2 (comm) is in parentheses and may itself contain spaces and `)`, so the remaining
 * fields are split after the LAST `)`; field 3 (state) is then at index 0.
 */
export function parseStat(text: string): ProcStat | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) return undefined;
  const pid = Number(text.slice(0, open).trim());
  const rest = text.slice(close + 1).trim().split(/\s+/);
  const state = rest[0];
  const pgid = Number(rest[2]);
  const startTime = Number(rest[19]);
  if (!Number.isInteger(pid) || !state || !Number.isInteger(pgid) || !Number.isSafeInteger(startTime)) return undefined;
  return { pid, state, pgid, startTime };
}

export function readStat(pid: number): ProcStat | undefined {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

/** The argv the kernel recorded at exec, NUL-separated in /proc. undefined when the process is gone. */
export function readCmdline(pid: number): string[] | undefined {
  try {
    const raw = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (raw === '') return undefined;
    return raw.replace(/\0$/, '').split('\0');
  } catch {
    return undefined;
  }
}

/**
 * True when the process's initial environment (what it was exec'd with, `/proc/<pid>/environ`)
 * holds `name=value`. The kernel lets only the owner (and root) read it, and a process that is not
 * ours cannot have a random value we generated, so this is the proof of ownership reapOrphan needs.
 * False when unreadable (another user, hidepid, no /proc): unproven means not ours.
 */
export function hasEnvEntry(pid: number, name: string, value: string): boolean {
  let raw: Buffer;
  try {
    raw = readFileSync(`/proc/${pid}/environ`);
  } catch {
    return false;
  }
  const entry = Buffer.from(`${name}=${value}\0`);
  if (raw.subarray(0, entry.length).equals(entry)) return true;
  return raw.includes(Buffer.concat([Buffer.from([0]), entry]));
}

/** True while the process exists and is not a zombie. EPERM counts as alive (it exists, not ours). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  const st = readStat(pid);
  return st === undefined ? hasNoProc() : st.state !== 'Z';
}

/** Pids of the running (non-zombie) members of a process group. */
export function groupMembers(pgid: number): number[] {
  if (hasNoProc()) {
    try {
      process.kill(-pgid, 0);
      return [pgid];
    } catch {
      return [];
    }
  }
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const st = readStat(Number(name));
    if (st && st.pgid === pgid && st.state !== 'Z') out.push(st.pid);
  }
  return out;
}

let procMissing: boolean | undefined;
function hasNoProc(): boolean {
  if (procMissing === undefined) {
    try {
      readFileSync('/proc/self/stat');
      procMissing = false;
    } catch {
      procMissing = true;
    }
  }
  return procMissing;
}
