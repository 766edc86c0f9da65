/**
 * The real stack behind the HTTP facade for the api tests: the Runtime (built-in tokenizer in
 * process, the simulator as the runtime binary in its own process group) on free loopback ports
 * with fast sim knobs, and the facade on port 0 in front of it. close() proves the runtime pid gone.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { defaultConfig } from '../../lib/runtime/config';
import { simulatorLauncher } from '../../lib/runtime/launcher';
import { Runtime } from '../../lib/runtime/runtime';
import { runPreflight } from '../../lib/runtime/settings';
import { startApiServer, type ApiServer, type ApiServerOptions } from '../../lib/ollama/server';
import { createSimModelDir } from '../../simulator/model-dir';
import { simulatorTestEnv } from '../../simulator/env';
import { freePort, isAlive } from '../helpers/sim';

export { waitFor } from '../ollama/harness';

export interface RealStack {
  runtime: Runtime;
  server: ApiServer;
  url: string;
  simLog: string;
  /** The simulator's request log (AX650_SIM_LOG), parsed. */
  readLog(): Promise<SimLogLine[]>;
  close(): Promise<void>;
}

export interface SimLogLine {
  event: 'request' | 'prefill';
  method?: string;
  path?: string;
  body?: unknown;
  kind?: 'reset' | 'generate';
  tokens?: number;
}

export interface StackOptions {
  simEnv?: Record<string, string>;
  server?: Omit<ApiServerOptions, 'runner'>;
  queueLimit?: number;
}

export async function startRealStack(opts: StackOptions = {}): Promise<RealStack> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ax650-api-'));
  const modelDir = path.join(dir, 'model');
  await createSimModelDir(modelDir);
  const simLog = path.join(dir, 'sim.log');
  const cfg = defaultConfig({
    modelDir,
    simulator: true,
    runtimePort: await freePort(),
    tokenizerPort: await freePort(),
    stateDir: dir,
    queueLimit: opts.queueLimit ?? 32,
    simulatorEnv: { ...simulatorTestEnv, AX650_SIM_TOKENS_PER_SEC: '200', AX650_SIM_LOG: simLog, ...opts.simEnv },
  });
  const runtime = new Runtime(cfg, { launcher: simulatorLauncher, preflight: runPreflight });
  let server: ApiServer | undefined;
  const close = async (): Promise<void> => {
    const pid = runtime.info().pid;
    await server?.close();
    await runtime.stop();
    if (pid !== null && isAlive(pid)) throw new Error(`runtime pid ${pid} still alive after stop()`);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await runtime.start();
    server = await startApiServer({ runner: runtime, port: 0, ...opts.server });
  } catch (e) {
    await close();
    throw e;
  }
  return {
    runtime,
    server,
    url: server.url,
    simLog,
    readLog: async () => {
      const text = await readFile(simLog, 'utf8').catch(() => '');
      return text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as SimLogLine);
    },
    close,
  };
}

/** The prompts the runtime received on POST /api/generate, in arrival order. */
export function generatedPrompts(log: SimLogLine[]): string[] {
  return log
    .filter((l) => l.event === 'request' && l.method === 'POST' && l.path === '/api/generate')
    .map((l) => (typeof l.body === 'object' && l.body !== null ? String((l.body as { prompt?: unknown }).prompt) : ''));
}

/** The body of the last POST /api/reset before the runtime was asked to generate `prompt` (its last such request). */
export function resetBefore(log: SimLogLine[], prompt: string): unknown {
  const requests = log.filter((l) => l.event === 'request');
  let gen = -1;
  requests.forEach((l, i) => {
    if (l.path === '/api/generate' && typeof l.body === 'object' && l.body !== null && (l.body as { prompt?: unknown }).prompt === prompt) gen = i;
  });
  return requests.slice(0, Math.max(gen, 0)).filter((l) => l.path === '/api/reset').at(-1)?.body;
}
