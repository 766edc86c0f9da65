/** Linux /proc readings: CPU time of one process (not its children) and its descendants. */
import { readdirSync, readFileSync } from 'node:fs';

/** Fields after the command name of /proc/<pid>/stat (the name may contain spaces and parentheses). */
function statFields(pid: number): string[] {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return text.slice(text.lastIndexOf(')') + 2).split(' ');
}

/** utime + stime in clock ticks (USER_HZ, 100 on Linux): the process's own CPU, children excluded. */
export function cpuTicks(pid: number): number {
  const f = statFields(pid);
  return Number(f[11]) + Number(f[12]);
}

export const TICKS_PER_SECOND = 100;

export function descendants(root: number): number[] {
  const parentOf = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    try {
      parentOf.set(pid, Number(statFields(pid)[1]));
    } catch {
      // Gone between readdir and read.
    }
  }
  const found: number[] = [];
  const frontier = [root];
  while (frontier.length > 0) {
    const p = frontier.pop() as number;
    for (const [child, parent] of parentOf) {
      if (parent === p) {
        found.push(child);
        frontier.push(child);
      }
    }
  }
  return found;
}
