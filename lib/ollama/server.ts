/**
 * The Ollama- and OpenAI-compatible HTTP facade over a JobRunner (node:http only). Each request
 * gets an AbortSignal that fires when its client disconnects, so an abandoned job leaves the
 * shared queue or stops the runtime; `close()` ends open streams and cancels their jobs.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { JobRunner } from '../runtime/types';
import { Access, type AccessPolicy } from './access';
import type { ApiContext, Exchange } from './context';
import { HttpError, sendError } from './http-io';
import { SHUTTING_DOWN } from './job-bridge';
import { ServedModel, type ModelDescription, type ModelNameSource } from './model';
import { allowedMethods, authorize, dialectOf, resolveRoute } from './router';

export interface ApiServerOptions {
  runner: JobRunner;
  /** Default 127.0.0.1: the facade has no TLS and, without a token, no authentication. */
  host?: string;
  /** Default 11434 (Ollama's); 0 picks a free port. */
  port?: number;
  /** Default 'qwen3-ax650'; clients may add ':latest'. A function is read on every request. */
  modelName?: ModelNameSource;
  /** When set, every endpoint but `/` requires `Authorization: Bearer <token>`. */
  token?: string;
  /** Reported by /api/version; clients gate features on Ollama versions. */
  version?: string;
  /** Largest accepted request body, bytes. Default 16 MiB: a few full-size camera frames as base64. */
  bodyLimit?: number;
  /** JobRequest.owner of the jobs this server submits. Default 'http'. */
  owner?: string;
  /** Model details for /api/tags, /api/ps and /api/show. */
  model?: ModelDescription;
  /** Origins and Host names allowed beyond this machine's own (lib/ollama/access.ts). */
  access?: AccessPolicy;
}

export interface ApiServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

const DEFAULT_VERSION = '0.12.0';
export const DEFAULT_BODY_LIMIT = 16 * 1024 * 1024;
/** How long close() lets cancelled jobs write their last chunk before cutting connections. */
const CLOSE_GRACE_MS = 2000;

interface Live {
  readonly abort: AbortController;
  readonly finished: Promise<void>;
}

async function dispatch(ctx: ApiContext, token: string | undefined, access: Access, ex: Exchange): Promise<void> {
  const { req, res, url } = ex;
  const method = req.method ?? 'GET';
  try {
    // Browser rules first: a refused page learns nothing and starts nothing.
    for (const [name, value] of Object.entries(access.admit(req))) res.setHeader(name, value);
    if (method === 'OPTIONS') {
      res.writeHead(204, { Allow: allowedMethods(url.pathname) ?? 'GET, HEAD, POST', ...(req.headers.origin ? access.preflightHeaders(req) : {}) });
      res.end();
      return;
    }
    const route = resolveRoute(method, url.pathname);
    if (!route.open) authorize(req, token);
    await route.handler(ctx, ex);
  } catch (e) {
    const err = e instanceof HttpError ? e : new HttpError(500, e instanceof Error ? e.message : String(e));
    const headers: Record<string, string> = {};
    const allow = err.status === 405 ? allowedMethods(url.pathname) : undefined;
    if (allow) headers.Allow = allow;
    if (err.status === 401) headers['WWW-Authenticate'] = 'Bearer';
    // A body we stopped reading must not be parsed as the next request on this connection.
    if (err.status === 413 || !req.complete) headers.Connection = 'close';
    sendError(res, dialectOf(url.pathname), err, headers);
  } finally {
    // Drain what the handler did not read (errors before the body was parsed) so keep-alive stays sane.
    if (!req.complete && !req.destroyed) req.resume();
  }
}

/** The request target as a URL; a path that starts with `//` stays a path. Null when it cannot be parsed. */
function requestUrl(target: string | undefined): URL | null {
  try {
    const t = target ?? '/';
    return new URL(t.startsWith('/') ? `http://localhost${t}` : t);
  } catch {
    return null;
  }
}

export async function startApiServer(opts: ApiServerOptions): Promise<ApiServer> {
  const ctx: ApiContext = {
    runner: opts.runner,
    owner: opts.owner ?? 'http',
    model: new ServedModel(opts.modelName ?? 'qwen3-ax650', opts.runner, opts.model),
    version: opts.version ?? DEFAULT_VERSION,
    bodyLimit: opts.bodyLimit ?? DEFAULT_BODY_LIMIT,
  };
  const access = new Access(opts.access ?? {}, opts.host ?? '127.0.0.1');
  const live = new Set<Live>();
  let closing = false;

  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const abort = new AbortController();
    // 'close' fires when the response is done or the socket went away; aborting a settled job is a no-op.
    res.once('close', () => abort.abort());
    const url = requestUrl(req.url);
    if (!url) {
      sendError(res, 'ollama', new HttpError(400, `the request target ${JSON.stringify(req.url)} is not a valid URL path`), { Connection: 'close' });
      return;
    }
    const ex: Exchange = { req, res, url, startedAt: performance.now(), signal: abort.signal };
    if (closing) {
      sendError(res, dialectOf(url.pathname), SHUTTING_DOWN, { Connection: 'close' });
      return;
    }
    const entry: Live = {
      abort,
      finished: dispatch(ctx, opts.token, access, ex).finally(() => {
        if (!res.headersSent) sendError(res, dialectOf(url.pathname), new HttpError(500, 'the server produced no answer'));
        live.delete(entry);
      }),
    };
    live.add(entry);
  };

  const server = createServer(onRequest);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 11434, opts.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    async close(): Promise<void> {
      closing = true;
      const pending = [...live];
      for (const entry of pending) entry.abort.abort(SHUTTING_DOWN);
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, CLOSE_GRACE_MS);
      });
      await Promise.race([Promise.allSettled(pending.map((e) => e.finished)), grace]);
      clearTimeout(timer);
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
