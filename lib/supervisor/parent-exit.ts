/**
 * Backstop for a parent that exits without stopping its children (execa's own cleanup is off for
 * detached children). Only synchronous work is possible in 'exit', so each group gets SIGINT, the
 * runtime's clean path; one that ignores it is left to reapOrphan() on the next start via its pid
 * file. A SIGKILLed parent runs no handler at all, which is what the pid file is for.
 */
import { signalGroup } from './terminate';

interface Killable {
  readonly pid: number;
  readonly exited: boolean;
}

const live = new Set<Killable>();
let hooked = false;

function onParentExit(): void {
  for (const child of live) {
    if (!child.exited) {
      try {
        signalGroup(child.pid, 'SIGINT');
      } catch {
        // EPERM at exit: nothing more can be done synchronously; the pid file remains for reaping.
      }
    }
  }
}

export function trackChild(child: Killable): void {
  if (!hooked) {
    process.once('exit', onParentExit);
    hooked = true;
  }
  live.add(child);
}

export function untrackChild(child: Killable): void {
  live.delete(child);
}
