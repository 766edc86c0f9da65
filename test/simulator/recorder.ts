/**
 * A recording HTTP proxy between the simulator and the tokenizer service, so tests can assert the exact
 * bytes the runtime sends (`Tokenizer.cpp` builds every body with nlohmann::json::dump), and a simulator
 * stack wired through it. Everything started is provably gone after stop() (stopSim checks the pid).
 */
import { rm } from 'node:fs/promises';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { startTokenizerServer, type TokenizerServer } from '../../lib/tokenizer/server';
import { simulatorTestEnv } from '../../simulator/env';
import { freePort, makeSimModelDir, spawnSim, stopSim, vendorArgs, waitForHttp, type SimProcess } from '../helpers/sim';

export interface Exchange {
  method: string;
  /** Path and query as sent. */
  url: string;
  contentType: string | undefined;
  /** The request body exactly as received (UTF-8). */
  body: string;
  status: number;
  /** The tokenizer's answer, passed on unchanged. */
  response: string;
}

export interface RecordingProxy {
  readonly url: string;
  readonly exchanges: Exchange[];
  /** Resolves with the first exchange at index >= `from` that matches. */
  next(match: (e: Exchange) => boolean, from?: number, timeoutMs?: number): Promise<Exchange>;
  close(): Promise<void>;
}

function readAll(stream: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    stream.on('error', reject);
  });
}

function forward(targetPort: number, req: http.IncomingMessage, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const headers: http.OutgoingHttpHeaders = { 'Content-Length': Buffer.byteLength(body) };
    if (req.headers['content-type'] !== undefined) headers['Content-Type'] = req.headers['content-type'];
    const out = http.request({ host: '127.0.0.1', port: targetPort, method: req.method, path: req.url, headers, agent: false }, (res) => {
      readAll(res).then((text) => resolve({ status: res.statusCode ?? 0, text }), reject);
    });
    out.on('error', reject);
    out.end(body);
  });
}

/** Decides per request: pass it on (undefined), cut the connection without an answer, or answer instead of the tokenizer. */
export type Intercept = (req: { method: string; url: string }) => 'drop' | { status: number; body: string } | undefined;

export async function startRecordingProxy(targetPort: number, intercept: Intercept = () => undefined): Promise<RecordingProxy> {
  const exchanges: Exchange[] = [];
  const waiters = new Set<() => void>();
  const server = http.createServer((req, res) => {
    void (async () => {
      const body = await readAll(req);
      const action = intercept({ method: req.method ?? '', url: req.url ?? '' });
      if (action === 'drop') {
        req.socket.destroy();
        return;
      }
      const answer = action === undefined ? await forward(targetPort, req, body) : { status: action.status, text: action.body };
      // Recorded before the runtime sees the answer, so anything it does next is already on record.
      exchanges.push({ method: req.method ?? '', url: req.url ?? '', contentType: req.headers['content-type'], body, status: answer.status, response: answer.text });
      waiters.forEach((w) => w());
      res.writeHead(answer.status, { 'Content-Type': 'application/json' });
      res.end(answer.text);
    })().catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    exchanges,
    next: (match, from = 0, timeoutMs = 15_000) =>
      new Promise<Exchange>((resolve, reject) => {
        const check = (): void => {
          const hit = exchanges.slice(from).find(match);
          if (hit) finish(hit);
        };
        const timer = setTimeout(() => finish(undefined), timeoutMs);
        const finish = (hit: Exchange | undefined): void => {
          clearTimeout(timer);
          waiters.delete(check);
          if (hit) resolve(hit);
          else reject(new Error(`no matching tokenizer request after #${from} within ${timeoutMs} ms`));
        };
        waiters.add(check);
        check();
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

export interface RecordedSim {
  baseUrl: string;
  sim: SimProcess;
  proxy: RecordingProxy;
  tokenizer: TokenizerServer;
  logFile: string;
  stop(): Promise<void>;
}

export interface RecordedSimOptions {
  env?: Record<string, string>;
  axmodelNum?: number;
  systemPrompt?: string;
  intercept?: Intercept;
}

/** The simulator with the vendor flags (optionally another --system_prompt), talking to the tokenizer through a recorder; not waited for. */
export async function spawnRecordedSim(opts: RecordedSimOptions = {}): Promise<RecordedSim> {
  const axmodelNum = opts.axmodelNum ?? 2;
  const modelDir = await makeSimModelDir(axmodelNum);
  const tokenizer = await startTokenizerServer({ modelDir, port: 0 });
  const proxy = await startRecordingProxy(tokenizer.port, opts.intercept);
  const port = await freePort();
  const logFile = path.join(modelDir, 'sim-requests.jsonl');
  const args = vendorArgs(proxy.url, axmodelNum);
  if (opts.systemPrompt !== undefined) args[args.indexOf('--system_prompt') + 1] = opts.systemPrompt;
  const sim = spawnSim({ modelDir, args, env: { ...simulatorTestEnv, _STDBUF_O: 'L', ...opts.env, AX650_SIM_PORT: String(port), AX650_SIM_LOG: logFile } });
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      await stopSim(sim);
      await proxy.close();
      await tokenizer.close();
      await rm(modelDir, { recursive: true, force: true });
    })());
  return { baseUrl: `http://127.0.0.1:${port}`, sim, proxy, tokenizer, logFile, stop };
}

/** spawnRecordedSim, then waits until the API answers (everything is stopped if it never does). */
export async function startRecordedSim(opts: RecordedSimOptions = {}): Promise<RecordedSim> {
  const stack = await spawnRecordedSim(opts);
  try {
    await stack.sim.waitFor(/Server running on port/);
    await waitForHttp(`${stack.baseUrl}/api/generate_provider`, stack.sim.exited);
  } catch (e) {
    await stack.stop();
    throw e;
  }
  return stack;
}
