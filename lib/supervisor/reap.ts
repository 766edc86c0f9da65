/**
 * Ends a runtime left behind by a parent that died without stopping it (the child runs in its own
 * process group, so it survives a SIGKILLed Node-RED and keeps port 8000 and the NPU). Nothing is
 * signalled unless the pid file's identity still matches: a recycled pid is someone else's process.
 */
import { basename } from 'node:path';
import { readPidFile, removePidFile, type PidRecord } from './pid-file';
import { groupMembers, isRunning, readCmdline, readStat } from './proc';
import { escalate, sendSignal, signalGroup, type StopTimings } from './terminate';

export interface ReapResult {
  /** A live process (or its leftover group) matching the pid file was found. */
  found: boolean;
  pid?: number;
  /** It was found and is gone now. */
  killed: boolean;
  /** One sentence for logs: what was found and what was done. */
  reason: string;
}

export interface ReapOptions {
  /** Only end the orphan if its command line runs this program (full path or base name). */
  expectCommand?: string;
  timings?: StopTimings;
}

function sameArgv(a: string[], b: string[] | undefined): boolean {
  return b !== undefined && a.length === b.length && a.every((x, i) => x === b[i]);
}

function runsCommand(argv: string[], command: string): boolean {
  const want = basename(command);
  return argv.some((arg) => arg === command || basename(arg) === want);
}

function describe(rec: PidRecord): string {
  return `${rec.name} (pid ${rec.pid})`;
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
    return { found: false, pid, killed: false, reason: `pid file names this process or its parent (pid ${pid}); left alone` };
  }

  if (!isRunning(pid)) return reapLeftoverGroup(pidFile, rec, opts.timings);

  const stat = readStat(pid);
  const cmdline = readCmdline(pid);
  if (!stat || stat.startTime !== rec.startTime) {
    removePidFile(pidFile, pid);
    return { found: false, pid, killed: false, reason: `pid ${pid} now belongs to another process (start time differs); left alone` };
  }
  if (!cmdline || !(sameArgv(rec.cmdline, cmdline) || sameArgv(cmdline, rec.execCmdline))) {
    removePidFile(pidFile, pid);
    return { found: false, pid, killed: false, reason: `pid ${pid} runs a different command line; left alone` };
  }
  if (opts.expectCommand !== undefined && !runsCommand(cmdline, opts.expectCommand)) {
    return { found: true, pid, killed: false, reason: `${describe(rec)} runs ${cmdline[0] ?? '?'}, not ${opts.expectCommand}; left alone` };
  }

  // A group is signalled only while the process still leads the group it was recorded with.
  const asGroup = stat.pgid === pid && rec.pgid === pid;
  const send = (signal: NodeJS.Signals): boolean => (asGroup ? signalGroup(pid, signal) : sendSignal(pid, signal));
  const gone = (): boolean => !isRunning(pid) && (!asGroup || groupMembers(pid).length === 0);
  try {
    const r = await escalate(send, gone, opts.timings);
    if (!r.gone) return { found: true, pid, killed: false, reason: `${describe(rec)} is still running after SIGKILL` };
    removePidFile(pidFile, pid);
    return { found: true, pid, killed: true, reason: `ended orphaned ${describe(rec)}${r.lastSignal ? ` with ${r.lastSignal}` : ''}` };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    return { found: true, pid, killed: false, reason: `cannot signal ${describe(rec)}: ${code}` };
  }
}

/**
 * The leader is gone but helpers it forked may still hold the group. Linux does not hand out a pid
 * that is still in use as a process-group id, so members of that group are the leader's own
 * descendants; the start-time check guards the case where the group died and was recreated.
 */
async function reapLeftoverGroup(pidFile: string, rec: PidRecord, timings?: StopTimings): Promise<ReapResult> {
  const pid = rec.pid;
  const members = (): number[] =>
    groupMembers(rec.pgid).filter((m) => (readStat(m)?.startTime ?? -1) >= rec.startTime);
  const left = rec.pgid === pid ? members() : [];
  if (left.length === 0) {
    removePidFile(pidFile, pid);
    return { found: false, pid, killed: false, reason: `${describe(rec)} is no longer running` };
  }
  try {
    const r = await escalate((s) => signalGroup(rec.pgid, s), () => members().length === 0, timings);
    if (!r.gone) return { found: true, pid, killed: false, reason: `processes left by ${describe(rec)} survive SIGKILL` };
    removePidFile(pidFile, pid);
    return { found: true, pid, killed: true, reason: `${describe(rec)} had exited; ended ${left.length} process(es) it left in its group` };
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    return { found: true, pid, killed: false, reason: `cannot signal the group of ${describe(rec)}: ${code}` };
  }
}
