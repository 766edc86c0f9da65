/**
 * The marker that lets the next start find a runtime orphaned by a killed Node-RED (SIGKILL, OOM
 * killer). Identity is not the command line (a `#!` wrapper or `stdbuf` exec's into another one, and
 * `/proc/<pid>/cmdline` reads empty while the child is still exec-ing) but a random owner marker put
 * into the child's environment at spawn: it survives every exec and is inherited by every process
 * the child forks, and a stranger never has it (proc.ts `hasOwnerMarker`). So the file can be
 * written at once after the spawn, from nothing that depends on the exec having happened.
 */
import { mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { readCmdline, readStat } from './proc';

/** The environment variable that carries the owner marker into every supervised child. */
export const OWNER_MARKER_VAR = 'AX650_SUPERVISED_CHILD';

export interface PidRecord {
  name: string;
  pid: number;
  /** The group the child leads (spawned detached, so this equals pid). */
  pgid: number;
  /** /proc/<pid>/stat field 22 (clock ticks after boot), set at fork; null where /proc is missing. */
  startTime: number | null;
  /** The value of OWNER_MARKER_VAR in the child's environment: what proves a process is ours. */
  marker: string;
  /** /proc/<pid>/cmdline when the file was written, if it could be read then; for people reading the file. */
  cmdline?: string[];
  /** ISO time, for people reading the file. */
  writtenAt: string;
}

/** The record for a child just spawned: needs nothing from /proc but the start time, which exists from the fork on. */
export function describeChild(pid: number, name: string, marker: string): PidRecord {
  const stat = readStat(pid);
  const rec: PidRecord = { name, pid, pgid: pid, startTime: stat?.startTime ?? null, marker, writtenAt: new Date().toISOString() };
  const cmdline = readCmdline(pid);
  if (cmdline) rec.cmdline = cmdline;
  return rec;
}

/** Written to a temporary name and renamed, so a reader never sees half a file. Throws the fs error. */
export function writePidFile(path: string, rec: PidRecord): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, JSON.stringify(rec, null, 2) + '\n', { mode: 0o644 });
    renameSync(tmp, path);
  } catch (e) {
    tryUnlink(tmp);
    throw e;
  }
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
  if (isPidRecord(data)) return { ok: true, record: data };
  const legacy = typeof data === 'object' && data !== null && !('marker' in data) && 'cmdline' in data;
  return { ok: false, missing: false, reason: legacy ? 'pid file of an older version has no owner marker; nothing is signalled' : 'pid file has unexpected content' };
}

/**
 * Removes the file only while it still names `pid`, so a newer instance's marker survives. Never
 * throws: a read-only state folder (EROFS, EACCES) leaves the file, which the next start handles.
 * Returns the error code when the file could not be removed.
 */
export function removePidFile(path: string, pid?: number): string | undefined {
  if (pid !== undefined) {
    const cur = readPidFile(path);
    if (cur.ok && cur.record.pid !== pid) return undefined;
  }
  return tryUnlink(path);
}

function tryUnlink(path: string): string | undefined {
  try {
    unlinkSync(path);
    return undefined;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    return code === 'ENOENT' ? undefined : code;
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
    (r.startTime === null || Number.isSafeInteger(r.startTime)) &&
    typeof r.marker === 'string' && /^[0-9a-f-]{32,64}$/.test(r.marker) &&
    (r.cmdline === undefined || isStringArray(r.cmdline)) &&
    typeof r.writtenAt === 'string'
  );
}
