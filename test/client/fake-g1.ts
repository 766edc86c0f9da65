/**
 * A scripted in-process G1 server for client tests. It keeps the vendor's state machine
 * (main_api.cpp @086f4e6): a poll queue drained by `generate_provider`, `done = !running`,
 * the worker setting `running` only when it starts (start race), `Run` clearing the stop flag when
 * it begins (so an early stop is lost), 400 `llm is running`, and both context-full behaviours.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeG1Script {
  /** Pieces pushed into the poll queue, in order (the runtime's 3-token groups). */
  reply?: string[];
  chunkIntervalMs?: number;
  prefillMs?: number;
  /** Gap between the 200 and the worker setting `running`. */
  startDelayMs?: number;
  /** Answer this many generate/reset POSTs with 400 `llm is running` first. */
  busyFirst?: number;
  /** fixed: running cleared, then the error string pushed `markerDelayMs` later. wedge: running forever. */
  contextFull?: 'fixed' | 'wedge';
  markerDelayMs?: number;
  resetPrefillMs?: number;
  /** Never answer polls (a hung HTTP thread). */
  hangPolls?: boolean;
}

export interface RecordedRequest {
  method: string;
  path: string;
  body: unknown;
  at: number;
}

export const MARKER = 'error: SetKVCache failed: %d,the context may be full,please reset';

export class FakeG1 {
  readonly requests: RecordedRequest[] = [];
  /** Polls answered idle while a generate was accepted but not yet started. */
  racePolls = 0;
  running = false;
  private queue: string[] = [];
  private stopFlag = false;
  private pendingStart = false;
  private busyLeft: number;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly server: http.Server;

  constructor(readonly script: FakeG1Script = {}) {
    this.busyLeft = script.busyFirst ?? 0;
    this.server = http.createServer((req, res) => this.handle(req, res));
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** The process died: every socket is cut and the port refuses connections. */
  async crash(): Promise<void> {
    this.clearTimers();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  async close(): Promise<void> {
    if (this.server.listening) await this.crash();
    this.clearTimers();
  }

  count(path: string): number {
    return this.requests.filter((r) => r.path === path).length;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      let body: unknown;
      try {
        body = raw === '' ? undefined : JSON.parse(raw);
      } catch {
        body = raw;
      }
      this.requests.push({ method: req.method ?? '', path: req.url ?? '', body, at: Date.now() });
      const send = (status: number, json: unknown): void => {
        res.writeHead(status, { 'content-type': 'application/json', 'access-control-allow-origin': '*' });
        res.end(JSON.stringify(json));
      };
      const route = `${req.method} ${req.url}`;
      if (route === 'GET /api/generate_provider') {
        if (this.script.hangPolls) return;
        if (this.pendingStart && !this.running) this.racePolls += 1;
        const response = this.queue.join('');
        this.queue = [];
        return send(200, { response, done: !this.running });
      }
      if (route === 'GET /api/stop') {
        this.stopFlag = true;
        return send(200, { status: 'ok' });
      }
      if (route === 'POST /api/generate' || route === 'POST /api/reset') {
        if (typeof body !== 'object' || body === null) return send(400, { error: 'Invalid request format' });
        if (this.running || this.busyLeft > 0) {
          this.busyLeft = Math.max(0, this.busyLeft - 1);
          return send(400, { error: 'llm is running' });
        }
        if (route === 'POST /api/reset') this.startReset();
        else this.startGenerate();
        return send(200, { status: 'ok' });
      }
      send(404, { error: 'not found' });
    });
  }

  private later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  private clearTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private startReset(): void {
    this.pendingStart = true;
    this.later(this.script.startDelayMs ?? 0, () => {
      this.pendingStart = false;
      this.running = true;
      this.later(this.script.resetPrefillMs ?? 100, () => (this.running = false));
    });
  }

  private startGenerate(): void {
    this.pendingStart = true;
    this.later(this.script.startDelayMs ?? 0, () => {
      this.pendingStart = false;
      this.running = true;
      if (this.script.contextFull === 'wedge') return;
      if (this.script.contextFull === 'fixed') {
        // RunSync clears gllm_runing BEFORE pushing the string, without the queue lock.
        this.running = false;
        this.later(this.script.markerDelayMs ?? 0, () => this.queue.push(MARKER));
        return;
      }
      this.stopFlag = false;
      const pieces = [...(this.script.reply ?? ['<think>\n\n</think>\n\n', 'Hello there', ', robot.'])];
      const next = (): void => {
        const piece = pieces.shift();
        if (this.stopFlag || piece === undefined) {
          this.running = false;
          return;
        }
        this.queue.push(piece);
        this.later(this.script.chunkIntervalMs ?? 20, next);
      };
      this.later(this.script.prefillMs ?? 30, next);
    });
  }
}
