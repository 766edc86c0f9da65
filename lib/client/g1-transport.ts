/**
 * JSON over HTTP to the G1 runtime on a dedicated undici Pool: keep-alive within one runtime
 * process, a short connect timeout, per-request timeouts, and no proxy (a Pool never consults
 * HTTP_PROXY). One transport belongs to one runtime process; close it when the process goes.
 */
import type { Pool } from 'undici';

export type TransportFailure = 'refused' | 'reset' | 'timeout' | 'aborted' | 'closed' | 'other';

export class TransportError extends Error {
  override readonly name = 'TransportError';
  constructor(
    readonly failure: TransportFailure,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface JsonResponse {
  status: number;
  body: unknown;
}

export interface TransportOptions {
  connectTimeoutMs: number;
  requestTimeoutMs: number;
}

function codeOf(e: unknown): string | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string') return code;
  // autoSelectFamily (e.g. `localhost` → ::1 and 127.0.0.1) reports an AggregateError of attempts.
  const inner = (e as { errors?: unknown }).errors;
  if (Array.isArray(inner)) return inner.map(codeOf).find((c) => c !== undefined);
  return codeOf((e as { cause?: unknown }).cause);
}

export function classify(e: unknown): TransportFailure {
  switch (codeOf(e)) {
    case 'ECONNREFUSED':
      return 'refused';
    case 'ECONNRESET':
    case 'EPIPE':
    case 'UND_ERR_SOCKET':
      return 'reset';
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
      return 'timeout';
    case 'UND_ERR_ABORTED':
    case 'ABORT_ERR':
      return 'aborted';
    case 'UND_ERR_DESTROYED':
    case 'UND_ERR_CLOSED':
      return 'closed';
    default:
      return 'other';
  }
}

export class G1Transport {
  private readonly pool: Pool;
  private readonly requestTimeoutMs: number;

  constructor(baseUrl: string, opts: TransportOptions) {
    this.requestTimeoutMs = opts.requestTimeoutMs;
    // Loaded on first use, not when Node-RED requires the node files (package load time, issue 10).
    const { Pool: PoolClass } = require('undici') as typeof import('undici');
    this.pool = new PoolClass(new URL(baseUrl).origin, {
      connections: 4,
      pipelining: 1,
      connect: { timeout: opts.connectTimeoutMs },
      // cpp-httplib closes idle keep-alive sockets after 5 s (CPPHTTPLIB_KEEPALIVE_TIMEOUT_SECOND);
      // closing ours first avoids sending a request into a socket the server is closing.
      keepAliveTimeout: 2_000,
      keepAliveMaxTimeout: 2_000,
    });
  }

  get(path: string, signal?: AbortSignal): Promise<JsonResponse> {
    return this.send('GET', path, undefined, signal, true);
  }

  post(path: string, body: unknown, signal?: AbortSignal): Promise<JsonResponse> {
    return this.send('POST', path, JSON.stringify(body), signal, false);
  }

  /**
   * POST with a streamed answer (axllm's SSE): resolves at the headers; the body is read by the caller.
   * No body timeout: a reply streams for minutes; the caller watches for silence itself.
   */
  async postStream(path: string, body: unknown, signal?: AbortSignal): Promise<{ status: number; body: AsyncIterable<Buffer>; text(): Promise<string> }> {
    try {
      const res = await this.pool.request({
        method: 'POST',
        path,
        body: JSON.stringify(body),
        signal,
        headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
        headersTimeout: this.requestTimeoutMs,
        bodyTimeout: 0,
      });
      return { status: res.statusCode, body: res.body, text: () => res.body.text() };
    } catch (e) {
      throw new TransportError(classify(e), `POST ${path}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  }

  async close(): Promise<void> {
    if (!this.pool.destroyed) await this.pool.destroy();
  }

  private async send(
    method: 'GET' | 'POST',
    path: string,
    body: string | undefined,
    signal: AbortSignal | undefined,
    idempotent: boolean,
  ): Promise<JsonResponse> {
    try {
      return await this.once(method, path, body, signal);
    } catch (e) {
      // A reused keep-alive socket can be closed under us by the server; a GET is safe to repeat
      // once on a fresh connection, and if the server is really gone the retry is refused.
      if (!idempotent || !(e instanceof TransportError) || e.failure !== 'reset') throw e;
      return this.once(method, path, body, signal);
    }
  }

  private async once(method: 'GET' | 'POST', path: string, body: string | undefined, signal?: AbortSignal): Promise<JsonResponse> {
    try {
      const res = await this.pool.request({
        method,
        path,
        body,
        signal,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        headersTimeout: this.requestTimeoutMs,
        bodyTimeout: this.requestTimeoutMs,
      });
      const text = await res.body.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // The runtime always answers JSON; a non-JSON body is kept as a string for the caller to reject.
      }
      return { status: res.statusCode, body: parsed };
    } catch (e) {
      if (e instanceof TransportError) throw e;
      const failure = classify(e);
      throw new TransportError(failure, `${method} ${path}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  }
}
