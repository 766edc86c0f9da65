/**
 * One supervised child process: spawned in its own process group with argument arrays (no
 * shell), both pipes drained into line events and a bounded tail, stopped SIGINT → SIGTERM →
 * SIGKILL to the whole group, and recorded in a pid file so a later start can reap it.
 */
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import type { Readable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import { Ax650Error } from '../errors';
import { stripAnsi } from './ansi';
import { planLaunch, spawnError, type SpawnSpec } from './launch';
import { LineSplitter } from './line-splitter';
import { describeChild, OWNER_MARKER_VAR, removePidFile, writePidFile } from './pid-file';
import { OutputTail } from './tail';
import { escalate, groupGone, signalGroup, waitFor, type StopTimings } from './terminate';
import { trackChild, untrackChild } from './parent-exit';

export type { SpawnSpec } from './launch';

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** true when stop() was called before the process exited. */
  stopped: boolean;
}

export type ChildStream = 'stdout' | 'stderr';

export interface ManagedChildEvents {
  /** A complete line, ANSI codes removed; empty lines are skipped. */
  line: [line: string, stream: ChildStream];
  /** Every decoded chunk as read, before line splitting (for markers that may sit inside a line). */
  output: [text: string, stream: ChildStream];
  exit: [ExitInfo];
}

/**
 * After the leader exits, output still in the pipes is read until both close; a grandchild that
 * inherited the pipes could keep them open indefinitely, so that wait is bounded.
 */
const EXIT_DRAIN_MS = 300;
/** Bound on waiting for SIGKILLed helpers of a crashed child to disappear. */
const HELPER_KILL_MS = 1000;

export class ManagedChild extends EventEmitter<ManagedChildEvents> {
  readonly pid: number;
  readonly name: string;
  /** Epoch ms of the spawn, for uptime. */
  readonly startedAt: number;
  private readonly outputTail = new OutputTail();
  private readonly pidFile: string | undefined;
  private info: ExitInfo | undefined;
  private stopRequested = false;
  private stopping: Promise<ExitInfo> | undefined;

  private constructor(spec: SpawnSpec, proc: ChildProcess, pid: number) {
    super();
    this.name = spec.name;
    this.pid = pid;
    this.pidFile = spec.pidFile;
    this.startedAt = Date.now();
    this.drain(proc.stdout, 'stdout');
    this.drain(proc.stderr, 'stderr');
    proc.on('error', (e) => this.outputTail.append(`\n[${this.name}: ${e.message}]\n`));
    proc.once('exit', (code, signal) => void this.onLeaderExit(proc, code, signal));
  }

  /** Resolves once the process runs (pid known); rejects with an Ax650Error if it cannot be spawned. */
  static async start(spec: SpawnSpec): Promise<ManagedChild> {
    // The owner marker goes into the environment before the spawn: it is what later proves the process ours.
    const marker = randomUUID();
    const launch = planLaunch({ ...spec, env: { ...spec.env, [OWNER_MARKER_VAR]: marker } });
    const { execa } = await import('execa');
    const proc = execa(launch.file, launch.args, {
      cwd: spec.cwd,
      env: launch.env,
      extendEnv: false,
      // Leader of a new process group, so the whole tree can be signalled with kill(-pid).
      detached: true,
      // execa skips its parent-exit cleanup for detached children; parent-exit.ts does it instead.
      cleanup: false,
      // Output is consumed as a stream below; execa must not accumulate it (a runtime prints for hours).
      buffer: false,
      reject: false,
      stdin: 'ignore',
      stdout: 'pipe',
      stderr: 'pipe',
    });
    const failure = await spawnOutcome(proc);
    if (failure !== undefined || proc.pid === undefined) throw spawnError(spec, failure?.code, failure);
    const child = new ManagedChild(spec, proc, proc.pid);
    trackChild(child);
    if (spec.pidFile) {
      // Written now, on every start: nothing in the record waits for the child's exec (pid-file.ts).
      try {
        writePidFile(spec.pidFile, describeChild(proc.pid, spec.name, marker));
        child.pidFileWritten = true;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code ?? 'error';
        child.pidFileProblem = `Cannot write the pid file ${spec.pidFile} (${code}): ${spec.name} runs without one, so if Node-RED is killed it cannot be found and ended by the next start. Make the state folder writable.`;
      }
    }
    return child;
  }

  /**
   * Why no pid file could be written (a read-only or full state folder), as a sentence for a warning;
   * undefined when it was written or none was asked for. The child runs either way.
   */
  pidFileProblem: string | undefined;
  private pidFileWritten = false;

  get exited(): boolean {
    return this.info !== undefined;
  }

  /** How the process ended; undefined while it runs. */
  get exitInfo(): ExitInfo | undefined {
    return this.info;
  }

  /** The last 8 KiB of both streams in arrival order, ANSI stripped, including a trailing partial line. */
  tail(): string {
    return this.outputTail.text();
  }

  /** Sends `signal` to the whole process group; a no-op once it has exited. */
  kill(signal: NodeJS.Signals): void {
    if (!this.exited) signalGroup(this.pid, signal);
  }

  /**
   * SIGINT, wait, SIGTERM, wait, SIGKILL to the group; resolves when the leader has exited and no
   * process is left in its group. Idempotent: every call returns the same promise.
   */
  stop(opts: StopTimings = {}): Promise<ExitInfo> {
    if (this.info) return Promise.resolve(this.info);
    this.stopRequested = true;
    this.stopping ??= this.runStop(opts);
    return this.stopping;
  }

  private async runStop(opts: StopTimings): Promise<ExitInfo> {
    const wake = (cb: () => void): (() => void) => {
      this.on('exit', cb);
      return () => this.off('exit', cb);
    };
    const r = await escalate((s) => signalGroup(this.pid, s), () => this.exited && groupGone(this.pid), opts, wake);
    if (!r.gone || !this.info) {
      throw new Ax650Error('INTERNAL', `${this.name} (pid ${this.pid}) is still running after SIGKILL`, {
        params: { name: this.name, pid: this.pid },
        tail: this.tail(),
      });
    }
    return this.info;
  }

  private drain(stream: Readable | null, which: ChildStream): void {
    if (!stream) return;
    const decoder = new StringDecoder('utf8');
    const splitter = new LineSplitter();
    const take = (text: string, lines: string[]): void => {
      this.outputTail.append(text);
      if (text !== '') this.emit('output', text, which);
      for (const line of lines) {
        const clean = stripAnsi(line);
        if (clean !== '') this.emit('line', clean, which);
      }
    };
    stream.on('data', (buf: Buffer) => {
      const text = decoder.write(buf);
      take(text, splitter.push(text));
    });
    stream.on('end', () => {
      const text = decoder.end();
      take(text, [...splitter.push(text), ...splitter.flush()]);
    });
    stream.on('error', (e) => this.outputTail.append(`\n[${this.name} ${which}: ${e.message}]\n`));
  }

  private async onLeaderExit(proc: ChildProcess, code: number | null, signal: NodeJS.Signals | null): Promise<void> {
    if (proc.stdout?.readableEnded === false || proc.stderr?.readableEnded === false) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        once(proc, 'close'),
        new Promise((resolve) => {
          timer = setTimeout(resolve, EXIT_DRAIN_MS);
        }),
      ]);
      clearTimeout(timer);
    }
    // Helpers the child forked must not outlive it holding ports or the NPU; on a stop, the
    // escalation in runStop() ends them instead.
    if (!this.stopRequested && !groupGone(this.pid) && signalGroup(this.pid, 'SIGKILL')) {
      await waitFor(() => groupGone(this.pid), HELPER_KILL_MS);
    }
    // Never throws: a read-only state folder must not turn an exit into an uncaught exception.
    if (this.pidFile && this.pidFileWritten) removePidFile(this.pidFile, this.pid);
    untrackChild(this);
    this.info = { code, signal, stopped: this.stopRequested };
    this.emit('exit', this.info);
  }
}

/**
 * undefined once the process runs; the spawn error otherwise. 'exit' never fires when 'error'
 * fires before 'spawn' (ENOENT, EACCES), so whichever of the two comes first decides.
 */
function spawnOutcome(proc: ChildProcess): Promise<NodeJS.ErrnoException | undefined> {
  return new Promise((resolve) => {
    const onSpawn = (): void => settle(undefined);
    const onError = (e: NodeJS.ErrnoException): void => settle(e);
    function settle(e: NodeJS.ErrnoException | undefined): void {
      proc.off('spawn', onSpawn);
      proc.off('error', onError);
      resolve(e);
    }
    proc.once('spawn', onSpawn);
    proc.once('error', onError);
  });
}
