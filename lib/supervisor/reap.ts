/**
 * Ends a runtime left behind by a parent that died without stopping it (the child runs in its own
 * process group, so it survives a SIGKILLed Node-RED and keeps port 8000 and the NPU). Only a
 * process proven to be ours is ever signalled: one whose environment carries the pid file's owner
 * marker (pid-file.ts). That holds for the child after any number of execs (`stdbuf`, a `#!` wrapper
 * that execs the program) and for everything it forked (a run script's program), and never for a
 * stranger, even one with the recorded pid, start time and command line, nor for a process that
 * later took over a dead leader's pid or group. Each proven process is signalled by pid, never by
 * group, so nothing unproven in the group is touched.
 */
import { basename } from 'node:path';
import { OWNER_MARKER_VAR, readPidFile, removePidFile, type PidRecord } from './pid-file';
import { groupMembers, hasEnvEntry, isRunning, readCmdline, readStat } from './proc';
import { escalate, sendSignal, type StopTimings } from './terminate';

export interface ReapResult {
  /** A live process proven to be the recorded child (or one it forked) was found. */
  found: boolean;
  pid?: number;
  /** It was found and is gone now. */
  killed: boolean;
  /** One sentence for logs: what was found and what was done. */
  reason: string;
}

export interface ReapOptions {
  /** Only end the orphan if its leader's command line runs this program (full path or base name). */
  expectCommand?: string;
  timings?: StopTimings;
}

function runsCommand(argv: string[], command: string): boolean {
  const want = basename(command);
  return argv.some((arg) => arg === command || basename(arg) === want);
}

function describe(rec: PidRecord): string {
  return `${rec.name} (pid ${rec.pid})`;
}

/** The recorded pid and its group's members that carry the record's owner marker, running (not zombies). */
export function provenProcesses(rec: PidRecord): number[] {
  const candidates = new Set<number>([rec.pid, ...groupMembers(rec.pgid)]);
  const out: number[] = [];
  for (const pid of candidates) {
    if (pid === process.pid || pid === process.ppid) continue;
    if (!isRunning(pid)) continue;
    if (hasEnvEntry(pid, OWNER_MARKER_VAR, rec.marker)) out.push(pid);
  }
  return out.sort((a, b) => a - b);
}

export async function reapOrphan(pidFile: string, opts: ReapOptions = {}): Promise<ReapResult> {
  const read = readPidFile(pidFile);
  if (!read.ok) {
    if (!read.missing) removePidFile(pidFile);
    return { found: false, killed: false, reason: read.reason };
  }
  const rec = read.record;
  const pid = rec.pid;
  if (pid === process.pid || pid === process.ppid) {
    removePidFile(pidFile, pid);
    return { found: false, pid, killed: false, reason: `pid file names this process or its parent (pid ${pid}); left alone` };
  }
  const proven = provenProcesses(rec);
  if (proven.length === 0) {
    removePidFile(pidFile, pid);
    const why = isRunning(pid) ? `pid ${pid} runs but is not ours (no owner marker in its environment); left alone` : `${describe(rec)} is no longer running`;
    return { found: false, pid, killed: false, reason: why };
  }
  if (opts.expectCommand !== undefined && proven.includes(pid)) {
    const cmdline = readCmdline(pid) ?? [];
    if (!runsCommand(cmdline, opts.expectCommand)) {
      return { found: true, pid, killed: false, reason: `${describe(rec)} runs ${cmdline[0] ?? '?'}, not ${opts.expectCommand}; left alone` };
    }
  }
  const leaderAlive = proven.includes(pid);
  const startMatches = rec.startTime === null || readStat(pid)?.startTime === rec.startTime;
  // Proven processes are re-listed before every signal: ones the orphan forks meanwhile carry the marker too.
  const send = (signal: NodeJS.Signals): boolean => {
    let any = false;
    for (const p of provenProcesses(rec)) any = sendSignal(p, signal) || any;
    return any;
  };
  try {
    const r = await escalate(send, () => provenProcesses(rec).length === 0, opts.timings);
    if (!r.gone) return { found: true, pid, killed: false, reason: `${describe(rec)} (or what it forked) is still running after SIGKILL` };
    removePidFile(pidFile, pid);
    const what = leaderAlive && startMatches ? `orphaned ${describe(rec)}` : `${proven.length} process(es) left by ${describe(rec)}`;
    return { found: true, pid, killed: true, reason: `ended ${what}${r.lastSignal ? ` with ${r.lastSignal}` : ''}` };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    return { found: true, pid, killed: false, reason: `cannot signal ${describe(rec)}: ${code}` };
  }
}
