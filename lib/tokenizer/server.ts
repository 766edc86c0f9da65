/**
 * The built-in tokenizer service: the vendor's `qwen3_tokenizer_uid.py` protocol served in-process by
 * node:http. Differences from the vendor, by design: binds 127.0.0.1 by default; one tokenizer shared by
 * all sessions and a bounded LRU of sessions (session-store.ts); concurrent connections are fine (each
 * request is handled whole on the event loop, so requests never interleave inside a session).
 */
import { EventEmitter } from 'node:events';
import * as http from 'node:http';
import { isIP, type AddressInfo } from 'node:net';
import { Ax650Error } from '../errors';
import type { ChatMessage, ToolSpec } from '../runtime/types';
import { handleGet, handlePost, type ProtocolAnswer, type ProtocolContext, type ResetSpec, type TokenizerEventMap } from './protocol';
import { pyJsonDumps } from './py-json';
import { loadQwenTokenizer, type QwenTokenizer } from './qwen-tokenizer';
import { TokenizerSession } from './session';
import { DEFAULT_MAX_SESSIONS, SessionStore } from './session-store';

export type { TokenizerEventMap } from './protocol';

/** The vendor script's port. */
export const DEFAULT_TOKENIZER_PORT = 12345;
export const DEFAULT_TOKENIZER_HOST = '127.0.0.1';
/**
 * Request bodies above this are refused (413) without being read. The largest real request is an
 * `/encode` with one prompt and the last reply, both bounded by the context (2559 tokens for the
 * Qwen3-4B build; even at 32 bytes of JSON per token that is about 80 KiB). The bound also keeps any
 * one encode well under a second of Node-RED's event loop.
 */
export const MAX_BODY_BYTES = 128 * 1024;

/** The TCP ports of a request's connection, for the uid gate. */
export interface PeerPorts {
  clientPort: number;
  serverPort: number;
}

export interface TokenizerServerOptions {
  /** The model folder holding `qwen3_tokenizer/` (and optionally `qwen2.5_tokenizer/`). */
  modelDir: string;
  host?: string;
  /** 0 picks a free port. Default 12345. */
  port?: number;
  /** Sessions kept before the least recently used is evicted. Default 64. */
  maxSessions?: number;
  /** An already loaded tokenizer (saves about a second on a restart); `modelDir` is then not read. */
  tokenizer?: QwenTokenizer;
}

export interface TokenizerServer extends EventEmitter<TokenizerEventMap> {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly tokenizer: QwenTokenizer;
  /** Number of live uid sessions (bounded by maxSessions). */
  readonly sessionCount: number;
  /**
   * Arms the next `/reset` (of any uid, once): its history becomes [system, ...messages] and it answers the ids of
   * that history. `messages` alternate user/assistant starting with user and end with an assistant turn; an
   * assistant turn with toolCalls is followed by its 'tool' results. `tools` are rendered into the system turn
   * of that context (the model's chat template) for as long as it lives. null disarms.
   */
  setNextResetHistory(messages: ChatMessage[] | null, tools?: readonly ToolSpec[]): void;
  /** Arms the next `/encode` (once): its new turn is these tool results instead of the prompt text. null disarms. */
  setNextToolResults(messages: ChatMessage[] | null): void;
  /**
   * Only connections the gate accepts get a uid (and their sessions are pinned: never evicted); others
   * are refused with 403. null: anyone on loopback gets one (the standalone CLI).
   */
  setUidGate(gate: ((peer: PeerPorts) => boolean) | null): void;
  close(): Promise<void>;
}

/**
 * A browser sends Origin or Sec-Fetch-Site on the requests a web page can make, and a DNS-rebinding
 * page a host name; the runtime sends none of them. Returns why a request is refused, or null.
 */
export function browserReason(headers: http.IncomingHttpHeaders): string | null {
  if (headers.origin !== undefined) return 'requests with an Origin header are refused';
  // Browsers send Sec-Fetch-Site on every request a page makes, also the no-cors GETs that carry no Origin.
  if (headers['sec-fetch-site'] !== undefined) return 'requests from a browser are refused';
  const host = (headers.host ?? '').replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  // DNS rebinding needs a name; the runtime sends the IP literal (or localhost) it was given.
  if (host !== '' && host !== 'localhost' && isIP(host) === 0) return `Host ${host} is not an address of this service`;
  return null;
}

/** The roles a restored history may have after each role: tool results follow an assistant turn that called tools. */
function allowedAfter(prev: ChatMessage | undefined): ChatMessage['role'][] {
  if (!prev) return ['user'];
  if (prev.role === 'user') return ['assistant'];
  if (prev.role === 'tool') return ['tool', 'assistant'];
  return prev.role === 'assistant' && (prev.toolCalls?.length ?? 0) > 0 ? ['tool'] : ['user'];
}

function validateRestore(messages: ChatMessage[]): ChatMessage[] {
  messages.forEach((m, i) => {
    const allowed = allowedAfter(messages[i - 1]);
    if (!allowed.includes(m.role) || typeof m.content !== 'string') {
      throw new Ax650Error('BAD_INPUT', `Restored message ${i} must be a ${allowed.join(' or ')} turn with string content.`, { params: { index: i } });
    }
  });
  const last = messages[messages.length - 1];
  // An assistant turn that called tools may end it: the next encode then carries the results (setNextToolResults).
  if (last && last.role !== 'assistant') {
    throw new Ax650Error('BAD_INPUT', 'A restored history must end with an assistant turn.');
  }
  return messages.map((m) => {
    const copy: ChatMessage = { role: m.role, content: m.content };
    if (m.toolCalls && m.toolCalls.length > 0) copy.toolCalls = m.toolCalls;
    if (m.toolName !== undefined) copy.toolName = m.toolName;
    if (m.toolCallId !== undefined) copy.toolCallId = m.toolCallId;
    return copy;
  });
}

function validateToolResults(messages: ChatMessage[]): ChatMessage[] {
  if (messages.length === 0 || messages.some((m) => m.role !== 'tool' || typeof m.content !== 'string')) {
    throw new Ax650Error('BAD_INPUT', 'Tool results must be one or more tool turns with string content.');
  }
  return messages.map((m) => ({ ...m }));
}

class BuiltinTokenizerServer extends EventEmitter<TokenizerEventMap> implements TokenizerServer {
  private restore: ResetSpec | null = null;
  private toolResults: ChatMessage[] | null = null;
  private uidGate: ((peer: PeerPorts) => boolean) | null = null;
  private readonly sessions: SessionStore<TokenizerSession>;
  private readonly http: http.Server;
  private readonly context: ProtocolContext;
  host = '';
  port = 0;

  constructor(readonly tokenizer: QwenTokenizer, maxSessions: number) {
    super();
    this.sessions = new SessionStore(maxSessions);
    this.context = {
      sessions: this.sessions,
      bosId: tokenizer.bosId,
      eosId: tokenizer.eosId,
      newSession: () => new TokenizerSession(tokenizer),
      takeRestore: () => {
        const armed = this.restore;
        this.restore = null;
        return armed;
      },
      takeToolResults: () => {
        const armed = this.toolResults;
        this.toolResults = null;
        return armed;
      },
      // The generic emit cannot relate K to its args inside a closure; the context's signature keeps callers typed.
      emit: (event, ...args) => (this.emit as EventEmitter['emit']).call(this, event, ...args),
    };
    this.http = http.createServer((req, res) => this.onRequest(req, res));
  }

  get url(): string {
    return `http://${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.port}`;
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  setNextResetHistory(messages: ChatMessage[] | null, tools?: readonly ToolSpec[]): void {
    if (messages === null) this.restore = null;
    else this.restore = tools && tools.length > 0 ? { history: validateRestore(messages), tools: [...tools] } : { history: validateRestore(messages) };
  }

  setNextToolResults(messages: ChatMessage[] | null): void {
    this.toolResults = messages === null ? null : validateToolResults(messages);
  }

  setUidGate(gate: ((peer: PeerPorts) => boolean) | null): void {
    this.uidGate = gate;
  }

  listen(host: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (e: NodeJS.ErrnoException): void => {
        reject(
          e.code === 'EADDRINUSE'
            ? new Ax650Error('TOKENIZER_PORT_IN_USE', `Tokenizer port ${host}:${port} is already in use.`, { params: { host, port }, cause: e })
            : new Ax650Error('TOKENIZER_FAILED', `The tokenizer service cannot listen on ${host}:${port}: ${e.message}`, { params: { host, port }, cause: e }),
        );
      };
      this.http.once('error', onError);
      this.http.listen(port, host, () => {
        this.http.off('error', onError);
        const address = this.http.address() as AddressInfo;
        this.host = host;
        this.port = address.port;
        resolve();
      });
    });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.http.listening) return resolve();
      this.http.close(() => resolve());
      this.http.closeAllConnections();
    });
  }

  private answer(method: string | undefined, path: string, body: string): ProtocolAnswer {
    try {
      if (method === 'GET') return handleGet(this.context, path);
      if (method !== 'POST') return { status: 501, body: { error: `Unsupported method ('${method ?? ''}')` } };
      return handlePost(this.context, path, body);
    } catch (e) {
      // A throw here would otherwise end the process that hosts Node-RED; the vendor drops the connection instead.
      return { status: 200, body: { error: `Internal error: ${e instanceof Error ? e.message : String(e)}` } };
    }
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const send = (answer: ProtocolAnswer, close = false): void => {
      const body = pyJsonDumps(answer.body);
      const headers: http.OutgoingHttpHeaders = { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) };
      if (close) headers['Connection'] = 'close';
      res.writeHead(answer.status, headers);
      res.end(body);
    };
    const refused = browserReason(req.headers);
    if (refused) return this.refuse(req, send, 403, `This tokenizer serves the NPU runtime only: ${refused}.`);
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > MAX_BODY_BYTES) return this.refuse(req, send, 413, `Request body too large (limit ${MAX_BODY_BYTES} bytes).`);
    const path = req.url ?? '/';
    let uidForRuntime = false;
    if (req.method === 'GET' && path.includes('/get_uid') && this.uidGate) {
      const peer = { clientPort: req.socket.remotePort ?? 0, serverPort: req.socket.localPort ?? 0 };
      if (!this.uidGate(peer)) return this.refuse(req, send, 403, 'Only the NPU runtime started with this tokenizer gets a uid.');
      uidForRuntime = true;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
      else if (!res.headersSent) this.refuse(req, send, 413, `Request body too large (limit ${MAX_BODY_BYTES} bytes).`);
    });
    req.on('end', () => {
      if (res.headersSent) return;
      const answer = this.answer(req.method, path, Buffer.concat(chunks).toString('utf8'));
      const uid = answer.body['uid'];
      if (uidForRuntime && typeof uid === 'string') this.sessions.pin(uid);
      send(answer);
    });
  }

  /** Answers at once and closes the connection afterwards; a body still arriving is discarded unread. */
  private refuse(req: http.IncomingMessage, send: (a: ProtocolAnswer, close?: boolean) => void, status: number, error: string): void {
    send({ status, body: { error } }, true);
    req.removeAllListeners('data');
    req.resume();
  }
}

/** Loads the tokenizer (unless given) and listens. Rejects with MODEL_FILES_MISSING, TOKENIZER_PORT_IN_USE or TOKENIZER_FAILED. */
export async function startTokenizerServer(opts: TokenizerServerOptions): Promise<TokenizerServer> {
  const tokenizer = opts.tokenizer ?? (await loadQwenTokenizer(opts.modelDir));
  const server = new BuiltinTokenizerServer(tokenizer, opts.maxSessions ?? DEFAULT_MAX_SESSIONS);
  await server.listen(opts.host ?? DEFAULT_TOKENIZER_HOST, opts.port ?? DEFAULT_TOKENIZER_PORT);
  return server;
}
