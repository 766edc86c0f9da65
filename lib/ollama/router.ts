/**
 * The route table, method checks and bearer-token authorisation. Unknown paths answer 404 and
 * wrong methods 405 with an `Allow` header, both with a sentence naming what is offered.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { ApiContext, Exchange, Handler } from './context';
import { HttpError, type ErrorDialect } from './http-io';
import * as ollama from './ollama-handlers';
import * as openai from './openai-handlers';

interface Route {
  readonly methods: Readonly<Record<string, Handler>>;
  /** `/` stays open without the token: it is a liveness probe (`ollama` CLI Heartbeat) that reveals nothing. */
  readonly open?: boolean;
}

const ROUTES: Readonly<Record<string, Route>> = {
  '/': { methods: { GET: ollama.root, HEAD: ollama.root }, open: true },
  '/api/version': { methods: { GET: ollama.version, HEAD: ollama.version } },
  '/api/tags': { methods: { GET: ollama.tags, HEAD: ollama.tags } },
  '/api/ps': { methods: { GET: ollama.ps } },
  '/api/show': { methods: { POST: ollama.show } },
  '/api/generate': { methods: { POST: ollama.generate } },
  '/api/chat': { methods: { POST: ollama.chat } },
  '/v1/models': { methods: { GET: openai.listModels } },
  '/v1/chat/completions': { methods: { POST: openai.chatCompletions } },
};

const MODEL_PREFIX = '/v1/models/';

export interface ResolvedRoute {
  readonly handler: Handler;
  readonly dialect: ErrorDialect;
  readonly open: boolean;
}

export function dialectOf(pathname: string): ErrorDialect {
  return pathname.startsWith('/v1/') ? 'openai' : 'ollama';
}

/** Returns the handler, or throws 404/405. Trailing slashes are ignored, as clients add them freely. */
export function resolveRoute(method: string, pathname: string): ResolvedRoute {
  const path = pathname.length > 1 ? pathname.replace(/\/+$/, '') : pathname;
  const dialect = dialectOf(path);
  if (path.startsWith(MODEL_PREFIX) && path.length > MODEL_PREFIX.length) {
    if (method !== 'GET') throw new HttpError(405, `method ${method} is not allowed on ${path}; use GET`);
    const id = decodePathPart(path.slice(MODEL_PREFIX.length));
    return { handler: (ctx: ApiContext, ex: Exchange) => openai.getModel(ctx, ex, id), dialect, open: false };
  }
  const route = ROUTES[path];
  if (!route) {
    throw new HttpError(404, `unknown endpoint ${method} ${path}; this server offers ${Object.keys(ROUTES).join(', ')}`);
  }
  const handler = route.methods[method];
  if (!handler) {
    const allowed = Object.keys(route.methods).join(', ');
    throw new HttpError(405, `method ${method} is not allowed on ${path}; use ${allowed}`);
  }
  return { handler, dialect, open: route.open === true };
}

/** A percent-encoded path segment; malformed encoding (`%E0%A4%A`) is the client's error, not the server's. */
function decodePathPart(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new HttpError(400, `the model name in the URL is not valid percent-encoding: "${part}"; encode it with encodeURIComponent`, 'invalid_model_name');
  }
}

export function allowedMethods(pathname: string): string | undefined {
  const path = pathname.length > 1 ? pathname.replace(/\/+$/, '') : pathname;
  if (path.startsWith(MODEL_PREFIX)) return 'GET';
  const route = ROUTES[path];
  return route ? Object.keys(route.methods).join(', ') : undefined;
}

/** Constant-time comparison so the token cannot be guessed byte by byte from response times. */
export function authorize(req: IncomingMessage, token: string | undefined): void {
  if (!token) return;
  const header = req.headers.authorization ?? '';
  const match = /^Bearer\s+(.+)$/i.exec(header.trim());
  const given = Buffer.from(match?.[1] ?? '');
  const wanted = Buffer.from(token);
  if (given.length !== wanted.length || !timingSafeEqual(given, wanted)) {
    throw new HttpError(
      401,
      match ? 'invalid API token' : 'missing API token: send the header "Authorization: Bearer <token>"',
      'invalid_api_key',
    );
  }
}
