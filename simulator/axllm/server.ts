/**
 * The openai-api.cpp HTTP server as axllm runs it [S, E, R, H, Q]: routes, status codes and bodies,
 * CORS only on OPTIONS, 404 with an empty body for anything else, the concurrency gate, the
 * non-stream wait bounded by server_timeout_ms (504, generation goes on), SSE streams whose slot is
 * freed before the first byte and that outlive a disconnected client, and a close that waits for
 * every response still being written.
 */
import * as http from 'node:http';
import { JsonTypeError, parseBody } from '../json-compat';
import { loggableBody, type RequestLog } from '../request-log';
import { runChat, type ChatDeps, type OutputChunk, type Provider } from './chat';
import { hasImageUrlPart } from './messages';
import { parseChatRequest } from './request';
import * as R from './responses';
import { Slot } from './slot';

export interface ServerDeps extends ChatDeps {
  modelName: string;
  vision: boolean;
  maxTokenLen: number;
  prefillMaxTokenNum: number;
  timeoutMs: number;
  requestLog: RequestLog;
}

interface Reply {
  status: number;
  body?: string;
  headers?: Record<string, string>;
}

const CHAT_PATHS = new Set(['/v1/chat/completions', '/chat/completions']);
const UNAVAILABLE_PATHS = new Set(['/v1/embeddings', '/embeddings', '/embedding', '/v1/audio/transcriptions', '/v1/audio/translations', '/v1/audio/speech', '/v1/images/generations']);

export class AxServer {
  readonly server: http.Server;
  readonly slot = new Slot();
  private readonly inFlight = new Set<Promise<void>>();

  constructor(private readonly d: ServerDeps) {
    this.server = http.createServer((req, res) => this.track(this.onRequest(req, res)));
    this.server.keepAliveTimeout = 5000;
  }

  private track(p: Promise<void>): void {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
  }

  /** server.stop(): no new connections; resolves once every response in progress has ended. */
  async close(): Promise<void> {
    this.server.close();
    this.server.closeIdleConnections();
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    this.server.closeAllConnections();
  }

  private async onRequest(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    try {
      for await (const c of req) chunks.push(c as Buffer);
    } catch {
      // The client went away while sending the body: httplib drops the connection, nothing else happens.
      return;
    }
    const raw = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', 'http://sim');
    const method = req.method ?? 'GET';
    this.d.requestLog.append({ event: 'request', method, path: url.pathname, query: url.search, body: loggableBody(raw) });
    if (method === 'OPTIONS') {
      return this.send(res, { status: 200, headers: { 'Access-Control-Allow-Origin': '*', 'Access-Control-Allow-Methods': 'GET, POST, OPTIONS', 'Access-Control-Allow-Headers': 'Content-Type, Authorization' } });
    }
    // httplib answers HEAD with its GET handler, minus the body.
    const get = method === 'GET' || method === 'HEAD';
    if (get && url.pathname === '/health') return this.send(res, { status: 200, body: R.healthBody(this.slot.concurrency) });
    if (get && (url.pathname === '/v1/models' || url.pathname === '/models')) return this.send(res, { status: 200, body: this.models() });
    if (method === 'POST' && CHAT_PATHS.has(url.pathname)) return this.chat(raw, res);
    if (method === 'POST' && UNAVAILABLE_PATHS.has(url.pathname)) {
      return this.send(res, { status: 400, body: R.errorBody('invalid_request_error', `${url.pathname} is not available for model '${this.d.modelName}'`) });
    }
    return this.send(res, { status: 404 });
  }

  private models(): string {
    return R.modelsBody({ id: this.d.modelName, vision: this.d.vision, prefillMaxTokenNum: this.d.prefillMaxTokenNum, maxTokenLen: this.d.maxTokenLen, thinkingMode: this.d.cfg.thinking, serverMaxOutputTokens: this.d.cfg.serverMaxOutputTokens });
  }

  private send(res: http.ServerResponse, reply: Reply): void {
    if (res.destroyed) return;
    res.statusCode = reply.status;
    for (const [k, v] of Object.entries(reply.headers ?? {})) res.setHeader(k, v);
    const body = Buffer.from(reply.body ?? '', 'utf8');
    if (reply.body !== undefined) res.setHeader('Content-Type', 'application/json');
    res.setHeader('Content-Length', body.length);
    res.end(res.req.method === 'HEAD' ? undefined : body);
  }

  /** Checks 2–7 of §4 in order, then hands the request to the detached chat callback. */
  private async chat(raw: Buffer, res: http.ServerResponse): Promise<void> {
    if (!(await this.slot.acquire(this.d.knobs.slotWaitMs))) {
      return this.send(res, { status: 503, body: R.errorBody('rate_limit_exceeded', 'Rate limit exceeded') });
    }
    let holding = true;
    const release = (): void => {
      if (holding) this.slot.release();
      holding = false;
    };
    try {
      const body = parseBody(raw);
      if (body === undefined) {
        return this.send(res, { status: 400, body: R.errorBody('invalid_request_error', `Invalid JSON: ${invalidJsonWhat(raw)}`) });
      }
      let req;
      try {
        req = parseChatRequest(body);
      } catch (e) {
        if (!(e instanceof JsonTypeError)) throw e;
        return this.send(res, { status: 500, headers: { EXCEPTION_WHAT: e.message } });
      }
      if (req.model === undefined || req.model === '') return this.send(res, { status: 400, body: R.errorBody('invalid_request_error', "Missing 'model' field") });
      if (req.model !== this.d.modelName) {
        return this.send(res, { status: 400, body: R.errorBody('invalid_request_error', `Model '${req.model}' is not available. Available models: ${this.d.modelName}`) });
      }
      if (!this.d.vision && hasImageUrlPart(req.messages)) {
        return this.send(res, { status: 400, body: R.errorBody('invalid_request_error', `Model '${req.model}' does not support image inputs`) });
      }
      const model = req.model;
      if (req.stream) {
        const provider = new SseProvider(res, model, this.d.timeoutMs);
        // The callback thread is detached; the handler returns and frees the slot at once.
        void runChat(req, this.d, provider).catch((e: unknown) => setImmediate(() => { throw e; }));
        release();
        await provider.closed;
        return;
      }
      const provider = new SingleResultProvider();
      void runChat(req, this.d, provider).catch((e: unknown) => setImmediate(() => { throw e; }));
      const result = await provider.wait(this.d.timeoutMs);
      release();
      if (result === 'timeout') return this.send(res, { status: 504, body: R.errorBody('server_error', 'Request timeout') });
      if (result.kind === 'final') return this.send(res, { status: 200, body: R.completionBody(result.text, model) });
      if (result.kind === 'tools') return this.send(res, { status: 200, body: R.completionBody(null, model, result.calls) });
      // The JSON encoder ignores Error chunks: a normal-looking empty completion under a 400.
      return this.send(res, { status: 400, body: R.completionBody('', 'gpt-4') });
    } finally {
      release();
    }
  }
}

function invalidJsonWhat(raw: Buffer): string {
  try {
    JSON.parse(raw.toString('utf8'));
    return '[json.exception.parse_error.101] parse error: invalid UTF-8 byte';
  } catch (e) {
    return `[json.exception.parse_error.101] parse error: ${(e as Error).message}`;
  }
}

/** The chunked content provider of a stream: SSE out, not writable once the client is gone. */
class SseProvider implements Provider {
  readonly closed: Promise<void>;
  private ended = false;
  private gone = false;
  private finish: () => void = () => undefined;

  constructor(
    private readonly res: http.ServerResponse,
    private readonly model: string,
    timeoutMs: number,
  ) {
    this.closed = new Promise((r) => (this.finish = r));
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
    res.flushHeaders();
    res.once('close', () => {
      this.gone = true;
      this.finish();
    });
    // A stream older than server_timeout_ms gets [DONE] and is closed mid-generation.
    const timer = setTimeout(() => this.end(), timeoutMs);
    void this.closed.then(() => clearTimeout(timer));
  }

  isWritable(): boolean {
    return !this.gone && !this.ended && this.res.writable;
  }

  push(chunk: OutputChunk): void {
    if (!this.isWritable()) return;
    if (chunk.kind === 'delta') this.res.write(R.deltaChunk(chunk.text, this.model));
    else if (chunk.kind === 'final') this.res.write(R.finishChunk(this.model));
    else if (chunk.kind === 'tools') this.res.write(R.toolCallsChunk(chunk.calls, this.model) + R.finishChunk(this.model, 'tool_calls'));
    else this.res.write(R.errorChunk(chunk.code, chunk.message));
  }

  end(): void {
    if (this.ended) return;
    if (this.isWritable()) this.res.end(R.DONE);
    this.ended = true;
    this.finish();
  }
}

/** Non-stream: the handler waits for the one result (final text, tool calls or an error). */
class SingleResultProvider implements Provider {
  private result: OutputChunk | undefined;
  private done: () => void = () => undefined;
  private readonly ended = new Promise<void>((r) => (this.done = r));

  isWritable(): boolean {
    return true;
  }

  push(chunk: OutputChunk): void {
    if (this.result === undefined || this.result.kind === 'error') this.result = chunk;
  }

  end(): void {
    this.done();
  }

  async wait(timeoutMs: number): Promise<OutputChunk | 'timeout'> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutMs)));
    const outcome = await Promise.race([this.ended.then(() => this.result ?? { kind: 'error' as const, code: 'model_error', message: '' }), timeout]);
    clearTimeout(timer);
    return outcome;
  }
}
