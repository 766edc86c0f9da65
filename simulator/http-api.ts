/**
 * The G1 `/api` HTTP server of main_api.cpp on cpp-httplib: the pre-routing handler (CORS header on
 * everything, OPTIONS → 200), exact bodies and status codes, HEAD served by GET routes, 404 with an
 * empty body for anything unrouted (including POST /api/stop), and handler exceptions turned into
 * an empty 500 with an EXCEPTION_WHAT header.
 */
import * as http from 'node:http';
import type { Logger } from './alog';
import { terminate } from './faults';
import { contains, dump, getArray, getString, isObject, JsonTypeError, parseBody, type Json } from './json-compat';
import type { SimLlm } from './llm';
import { loggableBody, type RequestLog } from './request-log';
import { setLlmConfig, type PostProcessState } from './sampling';
import type { Worker } from './worker';

interface Reply {
  status: number;
  body?: string;
  headers?: Record<string, string>;
}

const INVALID_REQUEST = '{"error": "Invalid request format"}';
const LLM_RUNNING = '{"error": "llm is running"}';
const OK = '{"status": "ok"}';

export interface ApiDeps {
  worker: Worker;
  llm: SimLlm;
  sampling: PostProcessState;
  log: Logger;
  requestLog: RequestLog;
}

export class ApiServer {
  readonly server: http.Server;

  constructor(private readonly d: ApiDeps) {
    this.server = http.createServer((req, res) => this.onRequest(req, res));
    // httplib keeps connections alive between requests (5 s idle).
    this.server.keepAliveTimeout = 5000;
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const url = new URL(req.url ?? '/', 'http://sim');
      const method = req.method ?? 'GET';
      this.d.requestLog.append({ event: 'request', method, path: url.pathname, query: url.search, body: loggableBody(raw) });
      this.route(method, url.pathname, raw).then(
        (reply) => this.send(res, method, reply),
        (e: unknown) => {
          if (e instanceof JsonTypeError) {
            this.send(res, method, { status: 500, headers: { EXCEPTION_WHAT: e.message } });
          } else {
            terminate(e);
          }
        },
      );
    });
  }

  private send(res: http.ServerResponse, method: string, reply: Reply): void {
    res.statusCode = reply.status;
    res.setHeader('Access-Control-Allow-Origin', '*');
    for (const [k, v] of Object.entries(reply.headers ?? {})) res.setHeader(k, v);
    const body = Buffer.from(reply.body ?? '', 'utf8');
    if (reply.body !== undefined) res.setHeader('Content-Type', 'application/json');
    res.setHeader('Content-Length', body.length);
    res.end(method === 'HEAD' ? undefined : body);
  }

  private async route(method: string, path: string, raw: Buffer): Promise<Reply> {
    if (method === 'OPTIONS') {
      return { status: 200, headers: { 'Access-Control-Allow-Methods': 'GET, POST, OPTIONS', 'Access-Control-Allow-Headers': 'Content-Type' } };
    }
    const get = method === 'GET' || method === 'HEAD';
    if (get && path === '/api/stop') return this.stop();
    if (get && path === '/api/generate_provider') return this.provider();
    if (method === 'POST' && path === '/api/reset') return this.reset(raw);
    if (method === 'POST' && path === '/api/generate') return this.generate(raw);
    if (method === 'POST' && path === '/api/chat') return this.chat(raw);
    return { status: 404 };
  }

  private busy(fn: string): Reply | undefined {
    if (!this.d.worker.running) return undefined;
    this.d.log.e(fn, 390, 'model not available');
    return { status: 400, body: LLM_RUNNING };
  }

  private stop(): Reply {
    this.d.llm.stop();
    return { status: 200, body: OK };
  }

  private provider(): Reply {
    const response = this.d.worker.messages.splice(0).join('');
    return { status: 200, body: dump({ response, done: !this.d.worker.running }) };
  }

  private generate(raw: Buffer): Reply {
    const body = parseBody(raw);
    if (body === undefined || !contains(body, 'prompt')) return { status: 400, body: INVALID_REQUEST };
    const busy = this.busy('handle_generate');
    if (busy) return busy;
    setLlmConfig(this.d.sampling, body, this.d.log);
    const prompt = getString(isObject(body) ? body['prompt'] : undefined);
    this.d.log.i('handle_generate', 372, prompt);
    this.d.worker.runAsync(prompt);
    return { status: 200, body: OK };
  }

  private reset(raw: Buffer): Reply {
    const body = parseBody(raw);
    if (body === undefined) {
      this.d.log.e('handle_reset', 396, `Invalid request format, body is discarded ${raw.toString('utf8')}`);
      return { status: 400, body: INVALID_REQUEST };
    }
    const systemPrompt = contains(body, 'system_prompt') && isObject(body) ? getString(body['system_prompt']) : '';
    const busy = this.busy('handle_reset');
    if (busy) return busy;
    this.d.worker.resetAsync(systemPrompt);
    return { status: 200, body: OK };
  }

  /** Blocks until the turn ends; runs only the first message with role and content; streams nothing. */
  private async chat(raw: Buffer): Promise<Reply> {
    const body = parseBody(raw);
    if (body === undefined || !contains(body, 'messages')) {
      this.d.log.e('handle_chat', 420, 'Invalid request format');
      return { status: 400, body: INVALID_REQUEST };
    }
    const busy = this.busy('handle_chat');
    if (busy) return busy;
    setLlmConfig(this.d.sampling, body, this.d.log);
    const messages: Json[] = getArray(isObject(body) ? body['messages'] : undefined);
    for (const message of messages) {
      if (isObject(message) && contains(message, 'role') && contains(message, 'content')) {
        const content = getString(message['content']);
        const output = await this.d.worker.runSync(content, null).catch((e: unknown) => terminate(e));
        return { status: 200, body: dump({ message: output, done: true }) };
      }
    }
    return { status: 400, body: '{"error": "Invalid message format"}' };
  }
}
