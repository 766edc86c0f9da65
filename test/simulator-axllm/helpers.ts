/**
 * Helpers for the axllm-serve conformance tests: a temp flat model folder plus an `axllm` wrapper,
 * the simulator spawned as `axllm serve <dir> --port P` in its own process group (fast test timings,
 * AX650_SIM_LOG in the temp folder), readiness as a client must do it (`Models:` line, then /health),
 * and a stop that proves the pid gone and removes the folder.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { simulatorTestEnv } from '../../simulator/env';
import { createAxllmSimBinary, createAxllmSimModelDir, type AxllmSimModelDirOptions } from '../../simulator/axllm/model-dir';
import { freePort, spawnSim, stopSim, waitForHttp, type ExitInfo, type SimProcess } from '../helpers/sim';

export const strip = (s: string): string => s.replace(/\x1b\[[0-9;]*m/g, '');

export interface AxllmFolder {
  root: string;
  dir: string;
  bin: string;
  modelName: string;
  logFile: string;
  remove(): Promise<void>;
}

export async function makeAxllmFolder(opts: AxllmSimModelDirOptions = {}): Promise<AxllmFolder> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'axllm-sim-'));
  const dir = path.join(root, 'model');
  const made = await createAxllmSimModelDir(dir, { axmodelNum: 4, ...opts });
  const bin = await createAxllmSimBinary(path.join(root, 'bin'));
  return { root, dir, bin, modelName: made.modelName, logFile: path.join(root, 'sim-log.jsonl'), remove: () => rm(root, { recursive: true, force: true }) };
}

/** Spawns `axllm <args>` (default `serve <dir> --port <port>`) with the fast test timings. */
export function spawnAxllm(folder: AxllmFolder, opts: { args?: string[]; env?: Record<string, string>; port?: number } = {}): SimProcess {
  const args = opts.args ?? ['serve', folder.dir, ...(opts.port === undefined ? [] : ['--port', String(opts.port)])];
  return spawnSim({ modelDir: folder.root, command: folder.bin, args, env: { ...simulatorTestEnv, AX650_SIM_LOG: folder.logFile, ...opts.env } });
}

export interface AxllmRun {
  folder: AxllmFolder;
  sim: SimProcess;
  port: number;
  baseUrl: string;
  readLog(): Promise<Array<Record<string, unknown>>>;
  stop(): Promise<ExitInfo>;
}

export async function readSimLog(file: string): Promise<Array<Record<string, unknown>>> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** A ready simulator: the `Models:` line has been printed and /health answers. */
export async function startAxllm(opts: { folder?: AxllmFolder; dirOpts?: AxllmSimModelDirOptions; env?: Record<string, string> } = {}): Promise<AxllmRun> {
  const folder = opts.folder ?? (await makeAxllmFolder(opts.dirOpts));
  const port = await freePort();
  const sim = spawnAxllm(folder, { port, env: opts.env ?? {} });
  const baseUrl = `http://127.0.0.1:${port}`;
  let stopping: Promise<ExitInfo> | undefined;
  const stop = (): Promise<ExitInfo> =>
    (stopping ??= (async () => {
      const info = await stopSim(sim);
      if (!opts.folder) await folder.remove();
      return info;
    })());
  try {
    await sim.waitFor(/^Models: .*\n/m);
    await waitForHttp(`${baseUrl}/health`, sim.exited);
  } catch (e) {
    await stop();
    throw e;
  }
  return { folder, sim, port, baseUrl, readLog: () => readSimLog(folder.logFile), stop };
}

export interface Reply {
  status: number;
  headers: Headers;
  text: string;
}

export async function post(baseUrl: string, pathname: string, body: unknown, init: RequestInit = {}): Promise<Reply> {
  const res = await fetch(`${baseUrl}${pathname}`, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'Content-Type': 'application/json' }, ...init });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** The `data:` payloads of an SSE body, in order. */
export function sseData(text: string): string[] {
  return text.split('\n\n').filter((b) => b.startsWith('data: ')).map((b) => b.slice('data: '.length));
}

export function chatBody(modelName: string, content: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { model: modelName, messages: [{ role: 'user', content }], ...extra };
}
