/**
 * The real stack behind the HTTP facade for the api tests: the Runtime (built-in tokenizer in
 * process, the simulator as the runtime binary in its own process group) on free loopback ports
 * with fast sim knobs (bench/lib/sim-runtime.ts), and the facade on port 0 in front of it.
 * close() proves the simulator pid gone.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { RuntimeKind } from '../../lib/client/runtime-client';
import type { Runtime } from '../../lib/runtime/runtime';
import { startApiServer, type ApiServer, type ApiServerOptions } from '../../lib/ollama/server';
import { startSimRuntime } from '../../bench/lib/sim-runtime';

export { waitFor } from '../ollama/harness';
import { promptsSent } from '../helpers/kind';
import { completeJsonLines } from '../helpers/json-lines';

export interface RealStack {
  runtime: Runtime;
  server: ApiServer;
  url: string;
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
  /** The simulated runtime's kind; default the 2025 runtime. */
  kind?: RuntimeKind;
}

export async function startRealStack(opts: StackOptions = {}): Promise<RealStack> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ax650-api-'));
  const simLog = path.join(dir, 'sim.log');
  const sim = await startSimRuntime({ AX650_SIM_TOKENS_PER_SEC: '200', AX650_SIM_LOG: simLog, ...opts.simEnv }, opts.kind).catch(async (e: unknown) => {
    await rm(dir, { recursive: true, force: true });
    throw e;
  });
  let server: ApiServer | undefined;
  const close = async (): Promise<void> => {
    await server?.close();
    await sim.stop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    server = await startApiServer({ runner: sim.runtime, port: 0, ...opts.server });
  } catch (e) {
    await close();
    throw e;
  }
  return {
    runtime: sim.runtime,
    server,
    url: server.url,
    readLog: async () => {
      const text = await readFile(simLog, 'utf8').catch(() => '');
      return completeJsonLines(text) as SimLogLine[];
    },
    close,
  };
}

/** The prompts the runtime received (G1 POST /api/generate, or axllm's chat requests), in arrival order. */
export function generatedPrompts(log: SimLogLine[]): string[] {
  return promptsSent(log);
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
