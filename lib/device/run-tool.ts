/**
 * Runs a short-lived host tool (axcl-smi, lspci, dmesg) under a hard timeout and reports what
 * happened as a value: probes must never throw, and a hung tool must never outlive its probe.
 */
import { spawn } from 'node:child_process';

/** A command: a program path, or a program followed by fixed leading arguments (e.g. `[process.execPath, script]`). */
export type ToolCommand = string | readonly string[];

export type ToolResult =
  | { kind: 'exited'; code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }
  | { kind: 'not-found'; command: string }
  | { kind: 'timeout'; stdout: string; stderr: string; pid: number | null; reaped: boolean }
  | { kind: 'spawn-error'; message: string };

export interface RunToolOptions {
  timeoutMs: number;
  env?: NodeJS.ProcessEnv;
  /** Stop collecting output beyond this many bytes per stream (dmesg can be large). */
  maxOutputBytes?: number;
}

/**
 * How long to wait for the process to vanish after SIGKILL. A process stuck in the driver
 * (uninterruptible sleep on a dead card) ignores SIGKILL until the ioctl returns, so the probe
 * reports `reaped:false` instead of waiting for ever.
 */
const REAP_GRACE_MS = 1000;

export function commandParts(command: ToolCommand): [string, string[]] {
  if (typeof command === 'string') return [command, []];
  const [file, ...rest] = command;
  if (file === undefined) throw new TypeError('empty tool command');
  return [file, rest];
}

export function runTool(command: ToolCommand, args: readonly string[], opts: RunToolOptions): Promise<ToolResult> {
  const [file, lead] = commandParts(command);
  const limit = opts.maxOutputBytes ?? 4 * 1024 * 1024;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (r: ToolResult): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      process.removeListener('exit', killGroup);
      resolve(r);
    };
    // detached: the tool gets its own process group, so a timeout kills anything it forked too.
    const child = spawn(file, [...lead, ...args], { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: opts.env ?? process.env });
    // A detached tool would outlive Node-RED if it exited mid-probe; a hung axcl-smi never ends by itself.
    const killGroup = (): void => {
      if (child.pid === undefined) return;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    process.once('exit', killGroup);
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let outBytes = 0;
    let errBytes = 0;
    child.stdout.on('data', (b: Buffer) => {
      if (outBytes < limit) out.push(b);
      outBytes += b.length;
    });
    child.stderr.on('data', (b: Buffer) => {
      if (errBytes < limit) err.push(b);
      errBytes += b.length;
    });
    const text = (bufs: Buffer[]): string => Buffer.concat(bufs).toString('utf8');

    const timer = setTimeout(() => {
      const pid = child.pid ?? null;
      killGroup();
      child.stdout.destroy();
      child.stderr.destroy();
      const reapTimer = setTimeout(() => finish({ kind: 'timeout', stdout: text(out), stderr: text(err), pid, reaped: false }), REAP_GRACE_MS);
      child.once('exit', () => {
        clearTimeout(reapTimer);
        finish({ kind: 'timeout', stdout: text(out), stderr: text(err), pid, reaped: true });
      });
      if (child.exitCode !== null || child.signalCode !== null) {
        clearTimeout(reapTimer);
        finish({ kind: 'timeout', stdout: text(out), stderr: text(err), pid, reaped: true });
      }
    }, opts.timeoutMs);

    // 'exit' never fires when 'error' fires before the spawn; 'close' waits for both pipes.
    child.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') finish({ kind: 'not-found', command: file });
      else finish({ kind: 'spawn-error', message: `${file}: ${e.message}` });
    });
    child.once('close', (code, signal) => {
      finish({ kind: 'exited', code, signal, stdout: text(out), stderr: text(err) });
    });
  });
}
