/**
 * The stop sequence shared by ManagedChild.stop() and reapOrphan(): SIGINT first (the vendor
 * runtime's only clean path: svr.stop → Deinit → axclFinalize; SIGTERM has no handler and skips
 * the deinit), then SIGTERM, then SIGKILL, each to the whole process group, waiting a bounded time
 * after each so the total stays well inside Node-RED's 15 s close budget.
 */
import { groupMembers } from './proc';

export interface StopTimings {
  /** Wait after SIGINT before escalating. Default 4000. */
  sigintMs?: number;
  /** Wait after SIGTERM before SIGKILL. Default 3000. */
  sigtermMs?: number;
  /** Wait after SIGKILL for the kernel to tear the group down. Default 2000. */
  sigkillMs?: number;
}

export const DEFAULT_STOP: Required<StopTimings> = { sigintMs: 4000, sigtermMs: 3000, sigkillMs: 2000 };

/** How often /proc is re-read while waiting for processes that are not our children to go. */
const POLL_MS = 25;

/** Sends `signal` to process group `pgid`; false when no process is left in it. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  return sendSignal(-pgid, signal);
}

/** process.kill that reports a vanished target as false instead of throwing. */
export function sendSignal(target: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(target, signal);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw e;
  }
}

/** True when no running (non-zombie) process is left in the group. */
export function groupGone(pgid: number): boolean {
  return groupMembers(pgid).length === 0;
}

/**
 * Resolves true as soon as `done()` holds, false after `ms`. `done` is re-checked on a short poll
 * (exits of processes that are not our children raise no event) and whenever `wake` fires.
 */
export function waitFor(done: () => boolean, ms: number, wake?: (cb: () => void) => () => void): Promise<boolean> {
  if (done()) return Promise.resolve(true);
  return new Promise((resolve) => {
    const check = (): void => {
      if (done()) finish(true);
    };
    const poll = setInterval(check, POLL_MS);
    const deadline = setTimeout(() => finish(done()), ms);
    const unsubscribe = wake?.(check);
    function finish(ok: boolean): void {
      clearInterval(poll);
      clearTimeout(deadline);
      unsubscribe?.();
      resolve(ok);
    }
  });
}

export interface EscalationResult {
  /** The last signal that had to be sent; null when everything was already gone. */
  lastSignal: NodeJS.Signals | null;
  gone: boolean;
}

export async function escalate(
  send: (signal: NodeJS.Signals) => boolean,
  gone: () => boolean,
  timings: StopTimings = {},
  wake?: (cb: () => void) => () => void,
): Promise<EscalationResult> {
  const t = { ...DEFAULT_STOP, ...timings };
  const steps: Array<[NodeJS.Signals, number]> = [
    ['SIGINT', t.sigintMs],
    ['SIGTERM', t.sigtermMs],
    ['SIGKILL', t.sigkillMs],
  ];
  let lastSignal: NodeJS.Signals | null = null;
  for (const [signal, ms] of steps) {
    if (gone()) return { lastSignal, gone: true };
    if (!send(signal)) return { lastSignal, gone: await waitFor(gone, ms, wake) };
    lastSignal = signal;
    if (await waitFor(gone, ms, wake)) return { lastSignal, gone: true };
  }
  return { lastSignal, gone: gone() };
}
