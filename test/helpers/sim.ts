/**
 * Test helpers around the runtime simulator: a temp vendor-like model folder, the built-in
 * tokenizer on a free port (in-process), and `main_api_axcl_aarch64` (the simulator) spawned in its
 * own process group with the vendor's flags, CWD = model folder. Everything started is provably
 * gone after stop().
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { startTokenizerServer, type TokenizerServer } from '../../lib/tokenizer/server';
import { simulatorTestEnv } from '../../simulator/env';
import { createSimModelDir, SIM_BINARY_NAME } from '../../simulator/model-dir';

export interface SimStack {
  baseUrl: string;
  port: number;
  pid: number;
  modelDir: string;
  tokenizer: TokenizerServer;
  logFile: string;
  /** The AX650_SIM_LOG lines so far, parsed. */
  readLog(): Promise<unknown[]>;
  /** Everything the simulator wrote to stdout so far (raw, ANSI codes and `\r` included). */
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit of the simulator process. */
  exited: Promise<ExitInfo>;
  /** SIGINT to the group (the runtime's clean path), SIGKILL after a grace period; proves the pid gone; closes the tokenizer; removes the folder. */
  stop(): Promise<void>;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** The flags of the vendor's aarch64 `_api.sh`, pointed at a tokenizer URL. */
export function vendorArgs(tokenizerUrl: string, axmodelNum = 36): string[] {
  return [
    '--system_prompt', 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.',
    '--template_filename_axmodel', 'qwen3-4b-ax650/qwen3_p128_l%d_together.axmodel',
    '--axmodel_num', String(axmodelNum),
    '--url_tokenizer_model', tokenizerUrl,
    '--filename_post_axmodel', 'qwen3-4b-ax650/qwen3_post.axmodel',
    '--filename_tokens_embed', 'qwen3-4b-ax650/model.embed_tokens.weight.bfloat16.bin',
    '--tokens_embed_num', '151936',
    '--tokens_embed_size', '2560',
    '--use_mmap_load_embed', '1',
    '--devices', '0',
  ];
}

export async function makeSimModelDir(axmodelNum?: number): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ax650-sim-'));
  await createSimModelDir(dir, axmodelNum === undefined ? {} : { axmodelNum });
  return dir;
}

export interface SimProcess {
  child: ChildProcess;
  pid: number;
  stdout(): string;
  stderr(): string;
  exited: Promise<ExitInfo>;
  /** Resolves when stdout (or stderr) has matched; rejects if the process exits first or after timeoutMs. */
  waitFor(pattern: RegExp, opts?: { stream?: 'stdout' | 'stderr'; timeoutMs?: number }): Promise<void>;
  /** Signals the whole process group. */
  signal(sig: NodeJS.Signals): void;
  /** SIGKILL to the group if still alive, then waits for the exit. */
  kill(): Promise<ExitInfo>;
}

/** Groups still running when the test process exits are killed, so a failed test leaves no orphans. */
const liveGroups = new Set<number>();
process.once('exit', () => {
  for (const pid of liveGroups) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
});

/** Spawns the model folder's `main_api_axcl_aarch64` (or `command`) in its own process group. */
export function spawnSim(opts: { modelDir: string; args: string[]; env?: Record<string, string>; command?: string }): SimProcess {
  const env: Record<string, string> = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: process.env['HOME'] ?? os.tmpdir(), ...opts.env };
  const command = opts.command ?? path.join(opts.modelDir, SIM_BINARY_NAME);
  const child = spawn(command, opts.args, { cwd: opts.modelDir, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error('spawn failed');
  const pid = child.pid;
  let out = '';
  let err = '';
  const listeners = new Set<() => void>();
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    out += d;
    listeners.forEach((l) => l());
  });
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    err += d;
    listeners.forEach((l) => l());
  });
  liveGroups.add(pid);
  const exited = new Promise<ExitInfo>((resolve) =>
    child.once('close', (code, signal) => {
      liveGroups.delete(pid);
      resolve({ code, signal });
    }),
  );
  let done = false;
  void exited.then(() => {
    done = true;
    listeners.forEach((l) => l());
  });
  const signal = (sig: NodeJS.Signals): void => {
    try {
      process.kill(-pid, sig);
    } catch {
      // The group is already gone.
    }
  };
  return {
    child,
    pid,
    stdout: () => out,
    stderr: () => err,
    exited,
    signal,
    waitFor: (pattern, { stream = 'stdout', timeoutMs = 15_000 } = {}) =>
      new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (pattern.test(stream === 'stdout' ? out : err)) finish();
          else if (done) finish(new Error(`exited before ${pattern}; stdout tail: ${JSON.stringify(out.slice(-600))} stderr: ${JSON.stringify(err.slice(-600))}`));
        };
        const timer = setTimeout(() => finish(new Error(`timeout waiting for ${pattern}; stdout tail: ${JSON.stringify(out.slice(-600))}`)), timeoutMs);
        const finish = (e?: Error): void => {
          clearTimeout(timer);
          listeners.delete(check);
          if (e) reject(e);
          else resolve();
        };
        listeners.add(check);
        check();
      }),
    kill: async () => {
      signal('SIGKILL');
      return exited;
    },
  };
}

/** Retries GET until the server answers 200 (the port refuses connections until listen()). */
export async function waitForHttp(url: string, exited: Promise<ExitInfo>, timeoutMs = 15_000): Promise<void> {
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (gone) throw new Error(`simulator exited before ${url} answered`);
    const status = await fetch(url).then((r) => r.status, () => 0);
    if (status === 200) return;
    if (Date.now() > deadline) throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export async function stopSim(sim: SimProcess, graceMs = 5000): Promise<ExitInfo> {
  if (isAlive(sim.pid)) sim.signal('SIGINT');
  const timer = setTimeout(() => sim.signal('SIGKILL'), graceMs);
  const info = await sim.exited;
  clearTimeout(timer);
  // The shell wrapper execs node, so the pid is the simulator itself.
  if (isAlive(sim.pid)) throw new Error(`simulator pid ${sim.pid} still alive`);
  return info;
}

export async function startSimStack(opts: { env?: Record<string, string>; axmodelNum?: number } = {}): Promise<SimStack> {
  const modelDir = await makeSimModelDir(opts.axmodelNum);
  const tokenizer = await startTokenizerServer({ modelDir, port: 0 });
  const port = await freePort();
  const logFile = path.join(modelDir, 'sim-requests.jsonl');
  const env = { ...simulatorTestEnv, ...opts.env, AX650_SIM_PORT: String(port), AX650_SIM_LOG: logFile };
  const sim = spawnSim({ modelDir, args: vendorArgs(tokenizer.url, opts.axmodelNum ?? 36), env });
  let stopping: Promise<void> | undefined;
  const cleanup = (): Promise<void> =>
    (stopping ??= (async () => {
      await stopSim(sim);
      await tokenizer.close();
      await rm(modelDir, { recursive: true, force: true });
    })());
  const baseUrl = `http://127.0.0.1:${port}`;
  try {
    await sim.waitFor(/Server running on port/);
    await waitForHttp(`${baseUrl}/api/generate_provider`, sim.exited);
  } catch (e) {
    await cleanup();
    throw e;
  }
  return {
    baseUrl,
    port,
    pid: sim.pid,
    modelDir,
    tokenizer,
    logFile,
    readLog: async () => {
      const text = await readFile(logFile, 'utf8').catch(() => '');
      return text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as unknown);
    },
    stdout: sim.stdout,
    stderr: sim.stderr,
    exited: sim.exited,
    stop: cleanup,
  };
}

export interface HttpReply {
  status: number;
  headers: Headers;
  text: string;
}

export async function request(baseUrl: string, method: string, pathname: string, body?: string): Promise<HttpReply> {
  const res = await fetch(`${baseUrl}${pathname}`, body === undefined ? { method } : { method, body, headers: { 'Content-Type': 'application/json' } });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

export interface PollResult {
  text: string;
  polls: Array<{ response: string; done: boolean }>;
}

/** Polls /api/generate_provider until done:true after some text (or after `idleDone` polls of done:true with none). */
export async function pollUntilDone(baseUrl: string, opts: { intervalMs?: number; requireText?: boolean; timeoutMs?: number } = {}): Promise<PollResult> {
  const { intervalMs = 5, requireText = true, timeoutMs = 20_000 } = opts;
  const polls: PollResult['polls'] = [];
  let text = '';
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const reply = (await (await fetch(`${baseUrl}/api/generate_provider`)).json()) as { response: string; done: boolean };
    polls.push(reply);
    text += reply.response;
    if (reply.done && (!requireText || text !== '')) return { text, polls };
    if (Date.now() > deadline) throw new Error(`not done after ${timeoutMs} ms: ${JSON.stringify(polls.slice(-3))}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
