/**
 * The marker that lets the next start find a runtime orphaned by a killed Node-RED (SIGKILL, OOM
 * killer): pid plus the identity that survives only as long as that very process does (start time
 * and command line), so a recycled pid is never mistaken for ours.
 */
import { mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { readCmdline, readStat } from './proc';

export interface PidRecord {
  name: string;
  pid: number;
  /** The group we signal; the child leads its own group, so this equals pid. */
  pgid: number;
  /** /proc/<pid>/stat field 22, clock ticks after boot. */
  startTime: number;
  /** /proc/<pid>/cmdline when the file was written. */
  cmdline: string[];
  /**
   * The argv the process becomes once a wrapper (stdbuf) has exec'd into the real program; the
   * record may have been taken before or after that exec, so either one identifies the process.
   */
  execCmdline?: string[];
  /** ISO time, for people reading the file. */
  writtenAt: string;
}

/** Reads the identity of a live process from /proc; undefined when it is gone or unreadable. */
export function describeProcess(pid: number, name: string, execCmdline?: string[]): PidRecord | undefined {
  const stat = readStat(pid);
  const cmdline = readCmdline(pid);
  if (!stat || !cmdline || stat.state === 'Z') return undefined;
  const rec: PidRecord = { name, pid, pgid: stat.pgid, startTime: stat.startTime, cmdline, writtenAt: new Date().toISOString() };
  if (execCmdline) rec.execCmdline = execCmdline;
  return rec;
}

/** Written to a temporary name and renamed, so a reader never sees half a file. */
export function writePidFile(path: string, rec: PidRecord): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(rec, null, 2) + '\n', { mode: 0o644 });
  renameSync(tmp, path);
}

export type PidFileRead = { ok: true; record: PidRecord } | { ok: false; missing: boolean; reason: string };

export function readPidFile(path: string): PidFileRead {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return { ok: false, missing: code === 'ENOENT', reason: code === 'ENOENT' ? 'no pid file' : `cannot read pid file (${code ?? 'error'})` };
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return { ok: false, missing: false, reason: 'pid file is not JSON' };
  }
  return isPidRecord(data) ? { ok: true, record: data } : { ok: false, missing: false, reason: 'pid file has unexpected content' };
}

/** Removes the file only while it still names `pid`, so a newer instance's marker survives. */
export function removePidFile(path: string, pid?: number): void {
  if (pid !== undefined) {
    const cur = readPidFile(path);
    if (cur.ok && cur.record.pid !== pid) return;
  }
  try {
    unlinkSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((x) => typeof x === 'string');
}

function isPidRecord(v: unknown): v is PidRecord {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return (
    typeof r.name === 'string' &&
    Number.isInteger(r.pid) && (r.pid as number) > 1 &&
    Number.isInteger(r.pgid) && (r.pgid as number) > 1 &&
    Number.isSafeInteger(r.startTime) &&
    isStringArray(r.cmdline) && r.cmdline.length > 0 &&
    (r.execCmdline === undefined || isStringArray(r.execCmdline)) &&
    typeof r.writtenAt === 'string'
  );
}
