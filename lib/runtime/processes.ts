/**
 * Starts and stops the two services in the vendor's order: the tokenizer first (the runtime
 * connects to it during init and gives up after 10 tries, reference §2.4), then the runtime binary
 * in the model folder. Readiness is the `Server running on port 8000...` line AND a 200 from
 * `GET /api/generate_provider` (reference §2.2); the load is timed out only when it stalls.
 */
import { EventEmitter } from 'node:events';
import net from 'node:net';
import { Ax650Error, type ErrorCode } from '../errors';
import { ManagedChild, reapOrphan, type ExitInfo } from '../supervisor';
import { groupMembers } from '../supervisor/proc';
import { connectionOwnedBy } from '../supervisor/socket-owner';
import { startTokenizerServer, type TokenizerServer } from '../tokenizer/server';
import type { QwenTokenizer } from '../tokenizer/qwen-tokenizer';
import { execFileSync } from 'node:child_process';
import { loadFailureCause } from './load-cause';
import { RuntimeLogParser } from './log-parser';
import { DeadCardScanner } from '../device/dead-card-watch';
import { pidFilePath, type RuntimeConfig } from './config';

export interface ProcessEventMap {
  /** A child ended without being asked to. */
  exit: [which: 'runtime' | 'tokenizer', info: ExitInfo, tail: string];
  progress: [percent: number];
  line: [line: string];
  /** Raw runtime output as it arrives (token text is printed with no newline, so it makes no line until the reply ends). */
  output: [text: string];
  /** The AXCL dead-card report appeared anywhere in the runtime's output. */
  deadCard: [device: number];
  /** Something the user should fix that does not stop the runtime (e.g. no pid file in a read-only state folder). */
  warning: [message: string];
}

export interface LaunchSpec {
  command: string;
  args: string[];
  env: Record<string, string>;
}

/** Resolves the command that runs the runtime: the vendor binary, or the simulator standing in for it. */
export type RuntimeLauncher = (cfg: RuntimeConfig, tokenizerUrl: string) => LaunchSpec;

export class ProcessSet extends EventEmitter<ProcessEventMap> {
  tokenizer: TokenizerServer | null = null;
  tokenizerChild: ManagedChild | null = null;
  runtime: ManagedChild | null = null;
  readonly parser = new RuntimeLogParser();
  private stopping = false;
  private readonly ending = new Set<Promise<void>>();
  private loadedTokenizer: QwenTokenizer | null = null;

  constructor(private readonly cfg: RuntimeConfig, private readonly launch: RuntimeLauncher) {
    super();
  }

  get tokenizerUrl(): string {
    if (this.cfg.tokenizerMode === 'external') return this.cfg.tokenizerUrl;
    const port = this.tokenizer?.port ?? this.cfg.tokenizerPort;
    return `http://${this.cfg.tokenizerHost === 'localhost' ? 'localhost' : '127.0.0.1'}:${port}`;
  }

  tail(): string {
    return [this.tokenizerChild?.tail() ?? '', this.runtime?.tail() ?? ''].filter(Boolean).join('\n');
  }

  /** Ends the children a killed host left behind, found through their pid files (never signals a stranger: see reapOrphan). */
  async reapOrphans(): Promise<void> {
    const files = [pidFilePath(this.cfg, 'runtime')];
    if (this.cfg.tokenizerMode === 'vendor') files.push(pidFilePath(this.cfg, 'tokenizer'));
    await Promise.all(files.map((f) => reapOrphan(f).catch(() => undefined)));
  }

  async startTokenizer(): Promise<void> {
    const { cfg } = this;
    this.stopping = false;
    if (cfg.tokenizerMode === 'builtin') {
      try {
        // A restart reuses the parsed tokenizer: loading tokenizer.json blocks the event loop for seconds on a Pi.
        const opts = { modelDir: cfg.modelDir, host: cfg.tokenizerHost, port: cfg.tokenizerPort };
        this.tokenizer = await startTokenizerServer(this.loadedTokenizer ? { ...opts, tokenizer: this.loadedTokenizer } : opts);
        this.loadedTokenizer = this.tokenizer.tokenizer;
        // Uids (and so sessions that are never evicted) only for the runtime this set started.
        this.tokenizer.setUidGate((peer) => this.isRuntimeConnection(peer.clientPort, peer.serverPort));
      } catch (e) {
        throw tokenizerError(e, cfg.tokenizerPort);
      }
      return;
    }
    if (cfg.tokenizerMode === 'external') {
      if (!(await portOpen(new URL(cfg.tokenizerUrl), 5000))) {
        throw new Ax650Error('TOKENIZER_FAILED', `The tokenizer service at ${cfg.tokenizerUrl} does not answer; start it or choose the built-in tokenizer.`);
      }
      return;
    }
    const pidFile = pidFilePath(cfg, 'tokenizer');
    await reapOrphan(pidFile).catch(() => undefined);
    const child = await ManagedChild.start({
      name: 'tokenizer',
      command: realPython(cfg.python),
      args: ['-u', cfg.tokenizerScript, '--host', cfg.tokenizerHost, '--port', String(cfg.tokenizerPort)],
      cwd: cfg.modelDir,
      env: { PYTHONUNBUFFERED: '1' },
      pidFile,
    });
    if (child.pidFileProblem) this.emit('warning', child.pidFileProblem);
    this.tokenizerChild = child;
    child.on('line', (line) => this.emit('line', `[tokenizer] ${line}`));
    child.once('exit', (info) => {
      if (!this.stopping) this.emit('exit', 'tokenizer', info, child.tail());
    });
    // Probing the port, never /get_uid: each get_uid leaks a session holding two tokenizers (reference §3).
    const url = new URL(this.tokenizerUrl);
    const deadline = Date.now() + 60_000;
    while (!(await portOpen(url, 500))) {
      if (child.exited) throw new Ax650Error('TOKENIZER_FAILED', 'The vendor tokenizer script exited during start-up.', { tail: child.tail() });
      if (Date.now() > deadline) throw new Ax650Error('TOKENIZER_FAILED', 'The vendor tokenizer script did not open its port within 60 s.', { tail: child.tail() });
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** The connection comes from the runtime process or one it forked; true where /proc cannot tell. */
  private isRuntimeConnection(clientPort: number, serverPort: number): boolean {
    const runtime = this.runtime;
    if (!runtime || runtime.exited) return false;
    return connectionOwnedBy([...new Set([runtime.pid, ...groupMembers(runtime.pid)])], clientPort, serverPort) ?? true;
  }

  /**
   * Spawns the runtime and resolves when it printed its ready line (G1 `Server running…`, axllm `Models: NAME`)
   * and `probe` answers; rejects on exit, stall, or a fatal line (axllm goes on after some of them).
   */
  async startRuntime(probe: () => Promise<boolean>): Promise<number> {
    const { cfg } = this;
    // A kind without a tokenizer service starts here: exits from now on are crashes again.
    this.stopping = false;
    const pidFile = pidFilePath(cfg, 'runtime');
    await reapOrphan(pidFile).catch(() => undefined);
    const spec = this.launch(cfg, this.tokenizerUrl);
    const child = await ManagedChild.start({
      name: 'runtime',
      command: spec.command,
      args: spec.args,
      cwd: cfg.modelDir,
      env: spec.env,
      lineBuffered: cfg.lineBuffered,
      pidFile,
    });
    if (child.pidFileProblem) this.emit('warning', child.pidFileProblem);
    this.runtime = child;
    const deadCard = new DeadCardScanner();
    child.on('output', (text) => {
      this.emit('output', text);
      const device = deadCard.push(text);
      if (device !== null) this.emit('deadCard', device);
    });
    child.on('line', (line) => {
      this.parser.push(line);
      this.emit('line', line);
    });
    const loaded = new Promise<void>((resolve, reject) => {
      let stallTimer: NodeJS.Timeout | undefined;
      let settled = false;
      const armStall = () => {
        // A listener copied by the emitter before cleanup() can still run once: never re-arm after settling.
        if (settled) return;
        clearTimeout(stallTimer);
        stallTimer = setTimeout(() => {
          cleanup();
          reject(new Ax650Error('LOAD_STALLED', `The model load printed nothing and made no progress for ${Math.round(cfg.loadStallMs / 1000)} s; the runtime was stopped.`, { tail: child.tail() }));
        }, cfg.loadStallMs);
      };
      const onLine = () => armStall();
      const onProgress = (p: { percent: number }) => this.emit('progress', p.percent);
      const onRunning = () => {
        cleanup();
        resolve();
      };
      let initFailure = '';
      const onInitFailed = (f: { reason: string }) => {
        initFailure = f.reason;
      };
      const onFatal = (f: { code: ErrorCode; message: string }) => {
        cleanup();
        reject(new Ax650Error(f.code, f.message, { tail: child.tail() }));
      };
      const onExit = (info: ExitInfo) => {
        cleanup();
        const tail = child.tail();
        // The G1 runtime's ALOG [E] lines name the root cause and its consequence; axllm's ERR lines are
        // collected by the log parser as the LLM.Init failure's reason.
        const fromLog = loadFailureCause(tail);
        const cause = initFailure && (fromLog === null || !fromLog.includes(initFailure)) ? `LLM.Init failed: ${initFailure}` : fromLog;
        const params = { exit: describeExit(info), ...(cause === null ? {} : { cause }) };
        reject(new Ax650Error('RUNTIME_CRASHED', `The runtime exited while loading the model (${params.exit})${cause === null ? '' : `: ${cause}`}.`, { tail, params }));
      };
      const cleanup = () => {
        settled = true;
        clearTimeout(stallTimer);
        child.off('line', onLine);
        child.off('exit', onExit);
        this.parser.off('progress', onProgress);
        this.parser.off('serverRunning', onRunning);
        this.parser.off('fatal', onFatal);
        this.parser.off('initFailed', onInitFailed);
      };
      child.on('line', onLine);
      child.once('exit', onExit);
      this.parser.on('progress', onProgress);
      this.parser.once('serverRunning', onRunning);
      this.parser.on('fatal', onFatal);
      this.parser.on('initFailed', onInitFailed);
      armStall();
    });
    try {
      await loaded;
      // The line is printed just before listen() (reference §1.4): wait for the port to answer.
      const deadline = Date.now() + 15_000;
      while (!(await probe())) {
        if (child.exited) throw new Ax650Error('PORT_IN_USE', `The runtime announced its server and exited: port ${cfg.runtimePort} is probably taken by another program.`, { tail: child.tail() });
        if (Date.now() > deadline) throw new Ax650Error('RUNTIME_FAILED', 'The runtime said it was running but its HTTP port never answered.', { tail: child.tail() });
        await new Promise((r) => setTimeout(r, 50));
      }
    } catch (e) {
      await child.stop();
      throw e;
    }
    child.once('exit', (info) => {
      if (!this.stopping) this.emit('exit', 'runtime', info, child.tail());
    });
    return child.pid;
  }

  /** Resolves when every child is gone, including those a stop still under way (a crash's) is ending. */
  async stop(): Promise<void> {
    this.stopping = true;
    const runtime = this.runtime;
    const tokChild = this.tokenizerChild;
    const tok = this.tokenizer;
    this.runtime = null;
    this.tokenizerChild = null;
    this.tokenizer = null;
    const ending = (async () => {
      // Runtime first: it holds a uid in the tokenizer and would throw on a vanished session.
      if (runtime) await runtime.stop();
      await Promise.all([tokChild?.stop(), tok?.close()]);
    })();
    this.ending.add(ending);
    void ending.finally(() => this.ending.delete(ending)).catch(() => undefined);
    await Promise.all([...this.ending]);
  }
}

function describeExit(info: ExitInfo): string {
  return info.signal ? `signal ${info.signal}` : `exit code ${info.code}`;
}

function tokenizerError(e: unknown, port: number): Ax650Error {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EADDRINUSE') {
    return new Ax650Error('TOKENIZER_PORT_IN_USE', `The tokenizer port ${port} is already in use; stop what holds it or choose another port.`, { params: { port }, cause: e });
  }
  if (e instanceof Ax650Error) return e;
  return new Ax650Error('TOKENIZER_FAILED', `The built-in tokenizer could not start: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
}

export function portOpen(url: URL, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const host = url.hostname === 'localhost' ? '127.0.0.1' : url.hostname;
    const socket = net.connect({ host, port: Number(url.port) || 80 });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}


/**
 * The interpreter itself rather than a wrapper: version managers (pyenv) put a shim script on PATH
 * that execs Python, so the pid file would record the shim's command line and a later start would
 * refuse to reap the orphaned interpreter as "a different command line".
 */
export function realPython(python: string): string {
  try {
    const exe = execFileSync(python, ['-c', 'import sys; print(sys.executable)'], { timeout: 5000, encoding: 'utf8' }).trim();
    return exe || python;
  } catch {
    return python;
  }
}
