/**
 * A Runtime on the simulator for acceptance tests: a temp folder per runtime (model folder, state
 * folder for pid files, the simulator's request log), free loopback ports for the runtime and the
 * tokenizer, the fast simulator knobs, a short restart backoff, and a record of every state change,
 * spawn and pid. stop() proves that nothing the runtime started survives: every pid seen is gone
 * and no process runs with its working folder inside the temp folder.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { copyFile, mkdtemp, readFile, readdir, readlink, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Runtime, type RuntimeOptions } from '../../lib/runtime/runtime';
import { defaultConfig, pidFilePath, QWEN3_4B_FLAGS, type RuntimeConfig } from '../../lib/runtime/config';
import type { RuntimeLauncher } from '../../lib/runtime/processes';
import { runPreflight } from '../../lib/runtime/settings';
import { readPidFile } from '../../lib/supervisor';
import type { JobHandle, RuntimeInfo, RuntimeState } from '../../lib/runtime/types';
import { isAx650Error } from '../../lib/errors';
import { simulatorTestEnv } from '../../simulator/env';
import { simulatorLauncher } from '../../simulator/provider';
import { createSimModelDir, SIM_BINARY_NAME } from '../../simulator/model-dir';
import { createAxllmSimModelDir } from '../../simulator/axllm/model-dir';
import { TEST_KIND } from '../helpers/kind';
import type { RuntimeKind } from '../../lib/client/runtime-client';
import type { SimLogEntry } from '../../simulator/request-log';
import { freePort, isAlive } from '../helpers/sim';

export { freePort, isAlive };
export type { SimLogEntry };

export const VENDOR_TOKENIZER_FIXTURE = path.resolve(__dirname, '../fixtures/vendor-tokenizer/qwen3_tokenizer_uid.py');

export interface StateRecord {
  state: RuntimeState;
  at: number;
  pid: number | null;
}

/**
 * The runtime kind the simulator plays: AX650_TEST_KIND=axllm runs every test built on these helpers
 * against the axllm serve simulator instead of the 2025 runtime (scripts/run-tests.mjs does both).
 */
export { TEST_KIND };

export interface SimRuntimeOptions {
  /** Default TEST_KIND. */
  kind?: RuntimeKind;
  /** AX650_SIM_* knobs over the fast test defaults. */
  simEnv?: Record<string, string>;
  /** Config fields over the test defaults (short backoff, fast polling). */
  config?: Partial<RuntimeConfig>;
  /** axllm: a VL model folder (Qwen3-VL-2B, images at 448×448). */
  vision?: boolean;
  /** Decoder layers of the simulated model: fewer means a shorter load. Default 4. */
  axmodelNum?: number;
  /** Default: the package's runPreflight. */
  preflight?: RuntimeOptions['preflight'];
  timeouts?: RuntimeOptions['timeouts'];
  /** Copy the Python stand-in into the model folder and use tokenizerMode 'vendor'. */
  vendorTokenizer?: boolean;
  /** Reuse a folder (and its ports) of an earlier runtime, e.g. one left behind by a killed host. */
  reuse?: { root: string; runtimePort: number; tokenizerPort: number };
  /** Call start() and wait for ready. Default true. */
  start?: boolean;
  /** How the runtime process is started. Default: the simulator run directly by node (simulatorLauncher). */
  launcher?: RuntimeLauncher;
}

export interface SimRuntime {
  rt: Runtime;
  cfg: RuntimeConfig;
  root: string;
  modelDir: string;
  logFile: string;
  /** Every state change (progress-only events left out), with the runtime pid at that moment. */
  states: StateRecord[];
  /** Epoch ms of every runtime spawn (launcher call). */
  spawns: number[];
  /** Every runtime and tokenizer pid seen. */
  pids: Set<number>;
  /** Runtime log lines ('log' events) with their arrival time. */
  lines: Array<{ at: number; line: string }>;
  readSimLog(): Promise<SimLogEntry[]>;
  /** Re-reads the simulator's request log until `check` accepts it. */
  waitForLog(check: (entries: SimLogEntry[]) => boolean, timeoutMs?: number, what?: string): Promise<SimLogEntry[]>;
  /** Resolves with the current state or the first state event from now on that `check` accepts. */
  waitFor(check: (state: RuntimeState, info: RuntimeInfo) => boolean, timeoutMs?: number, what?: string): Promise<RuntimeInfo>;
  /** The vendor tokenizer's pid from its pid file (null when none runs). */
  tokenizerPid(): number | null;
  stop(): Promise<void>;
}

const live = new Set<SimRuntime>();

export async function startSimRuntime(opts: SimRuntimeOptions = {}): Promise<SimRuntime> {
  const root = opts.reuse?.root ?? (await mkdtemp(path.join(os.tmpdir(), 'ax650-rt-')));
  const modelDir = path.join(root, 'model');
  const kind = opts.kind ?? TEST_KIND;
  if (!opts.reuse && kind === 'axllm') await createAxllmSimModelDir(modelDir, { axmodelNum: opts.axmodelNum ?? 4, ...(opts.vision ? { vision: true } : {}) });
  else if (!opts.reuse) await createSimModelDir(modelDir, { axmodelNum: opts.axmodelNum ?? 4 });
  if (opts.vendorTokenizer) await copyFile(VENDOR_TOKENIZER_FIXTURE, path.join(modelDir, 'qwen3_tokenizer_uid.py'));
  const runtimePort = opts.reuse?.runtimePort ?? (await freePort());
  let tokenizerPort = opts.reuse?.tokenizerPort ?? (await freePort());
  while (tokenizerPort === runtimePort) tokenizerPort = await freePort();
  const logFile = path.join(root, 'sim.log');
  const cfg = defaultConfig({
    kind,
    modelDir,
    binary: kind === 'axllm' ? '' : SIM_BINARY_NAME,
    flags: { ...QWEN3_4B_FLAGS, axmodel_num: String(opts.axmodelNum ?? 4) },
    simulator: true,
    runtimePort,
    tokenizerPort,
    tokenizerMode: opts.vendorTokenizer ? 'vendor' : 'builtin',
    python: opts.vendorTokenizer ? realPython() : 'python3',
    stateDir: path.join(root, 'state'),
    simulatorEnv: { ...simulatorTestEnv, AX650_SIM_LOG: logFile, ...opts.simEnv },
    restart: { baseMs: 100, maxMs: 2000, maxCrashes: 10, windowMs: 60_000 },
    loadStallMs: 10_000,
    pollIntervalMs: 10,
    ...opts.config,
  });

  const spawns: number[] = [];
  const launcher: RuntimeLauncher = (c, url) => {
    spawns.push(Date.now());
    return (opts.launcher ?? simulatorLauncher)(c, url);
  };
  const runtimeOpts: RuntimeOptions = { launcher, preflight: opts.preflight ?? runPreflight };
  if (opts.timeouts) runtimeOpts.timeouts = opts.timeouts;
  const rt = new Runtime(cfg, runtimeOpts);
  const states: StateRecord[] = [];
  const pids = new Set<number>();
  const lines: SimRuntime['lines'] = [];
  const tokenizerPid = (): number | null => {
    const rec = readPidFile(pidFilePath(cfg, 'tokenizer'));
    return rec.ok ? rec.record.pid : null;
  };
  rt.on('state', (state, info) => {
    if (info.pid !== null) pids.add(info.pid);
    const tok = tokenizerPid();
    if (tok !== null) pids.add(tok);
    if (states[states.length - 1]?.state !== state) states.push({ state, at: Date.now(), pid: info.pid });
  });
  rt.on('log', (line) => lines.push({ at: Date.now(), line }));

  const readSimLog = async (): Promise<SimLogEntry[]> => {
    const text = await readFile(logFile, 'utf8').catch(() => '');
    return text
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as SimLogEntry);
  };

  let stopping: Promise<void> | undefined;
  const sim: SimRuntime = {
    rt,
    cfg,
    root,
    modelDir,
    logFile,
    states,
    spawns,
    pids,
    lines,
    readSimLog,
    waitForLog: async (check, timeoutMs = 10_000, what = 'a simulator log entry') => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const entries = await readSimLog();
        if (check(entries)) return entries;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; log tail: ${JSON.stringify(entries.slice(-5))}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    waitFor: (check, timeoutMs = 15_000, what = 'a runtime state') =>
      new Promise<RuntimeInfo>((resolve, reject) => {
        const timer = setTimeout(() => {
          rt.off('state', onState);
          reject(new Error(`timed out waiting for ${what}; states: ${states.map((s) => s.state).join(' → ')}`));
        }, timeoutMs);
        const onState = (state: RuntimeState, info: RuntimeInfo): void => {
          if (!check(state, info)) return;
          clearTimeout(timer);
          rt.off('state', onState);
          resolve(info);
        };
        rt.on('state', onState);
        onState(rt.state, rt.info());
      }),
    tokenizerPid,
    stop: () =>
      (stopping ??= (async () => {
        live.delete(sim);
        await rt.stop();
        await assertAllGone(root, pids);
        await rm(root, { recursive: true, force: true });
      })()),
  };
  live.add(sim);
  if (opts.start !== false) {
    try {
      await rt.start();
    } catch (e) {
      await sim.stop().catch((stopError: unknown) => {
        throw new Error(`start failed (${String(e)}) and then stop failed: ${String(stopError)}`, { cause: e });
      });
      throw e;
    }
  }
  return sim;
}

/**
 * The interpreter itself rather than a `python3` on PATH: a version-manager shim (pyenv) is a
 * script that execs Python, so the pid file records the shim's command line and reapOrphan later
 * refuses the exec'd process as "a different command line" (a supervisor limitation, reported).
 */
function realPython(): string {
  return execFileSync('python3', ['-c', 'import sys; print(sys.executable)'], { encoding: 'utf8' }).trim();
}

/** Stops every runtime the helpers started that a test has not stopped itself. */
export async function stopAll(): Promise<void> {
  const errors: unknown[] = [];
  for (const sim of [...live]) await sim.stop().catch((e: unknown) => errors.push(e));
  if (errors.length > 0) throw errors[0];
}

/** Pids of processes whose working folder lies inside `root`: what a test started there and left running. */
export async function processesIn(root: string): Promise<number[]> {
  const found: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const cwd = await readlink(`/proc/${name}/cwd`).catch(() => '');
    if (cwd === root || cwd.startsWith(root + path.sep)) {
      const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
      // A zombie keeps its /proc entry until its parent reaps it, but it is no longer running.
      if (!/^\d+ \(.*\) Z /.test(stat)) found.push(Number(name));
    }
  }
  return found;
}

export async function assertAllGone(root: string, pids: Iterable<number>): Promise<void> {
  const alive = [...pids].filter((pid) => isAlive(pid) && !isZombie(pid));
  const stray = await processesIn(root);
  if (alive.length > 0 || stray.length > 0) {
    // Fail the test, but leave nothing behind for the next one.
    for (const pid of new Set([...alive, ...stray])) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    throw new Error(`processes left running: pids ${JSON.stringify(alive)}, in ${root}: ${JSON.stringify(stray)}`);
  }
}

function isZombie(pid: number): boolean {
  try {
    return /^\d+ \(.*\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** The POST /api/generate bodies the simulator received, in order. */
export function generateBodies(entries: SimLogEntry[]): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const e of entries) {
    if (e.event === 'request' && e.method === 'POST' && e.path === '/api/generate' && typeof e.body === 'object' && e.body !== null) {
      out.push(e.body as Record<string, unknown>);
    }
  }
  return out;
}

/** One sentence per job outcome, so a failure shows what every job did. */
export async function outcome(job: JobHandle): Promise<string> {
  try {
    const r = await job.result;
    return r.text === '' ? 'empty' : 'done';
  } catch (e) {
    return isAx650Error(e) ? e.code : String(e);
  }
}

/** Kills with SIGKILL, as `kill -9` would. */
export function kill9(pid: number | null): number {
  if (pid === null) throw new Error('no pid to kill');
  process.kill(pid, 'SIGKILL');
  return pid;
}
