/**
 * Reading request bodies and writing plain JSON answers and errors, in the two error dialects
 * the facade speaks: Ollama's `{"error":"…"}` and OpenAI's `{"error":{message,type,param,code}}`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

export type ErrorDialect = 'ollama' | 'openai';

export type OpenAiErrorType = 'invalid_request_error' | 'authentication_error' | 'not_found_error' | 'api_error';

/** An answer that ends a request before (or instead of) its normal response. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** OpenAI's `error.code` (e.g. `model_not_found`); Ollama bodies carry only the message. */
    readonly code: string | null = null,
  ) {
    super(message);
  }
}

export function openAiErrorType(status: number): OpenAiErrorType {
  if (status === 401) return 'authentication_error';
  if (status === 404) return 'not_found_error';
  if (status >= 400 && status < 500) return 'invalid_request_error';
  return 'api_error';
}

export function errorBody(dialect: ErrorDialect, err: HttpError): unknown {
  if (dialect === 'ollama') return { error: err.message };
  return { error: { message: err.message, type: openAiErrorType(err.status), param: null, code: err.code } };
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

export function sendText(res: ServerResponse, status: number, text: string): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': String(Buffer.byteLength(text)) });
  res.end(text);
}

export function sendError(res: ServerResponse, dialect: ErrorDialect, err: HttpError, headers: Record<string, string> = {}): void {
  sendJson(res, err.status, errorBody(dialect, err), headers);
}

function sizeText(bytes: number): string {
  if (bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  return bytes % 1024 === 0 ? `${bytes / 1024} KiB` : `${bytes} bytes`;
}

/** 413 with what counts: images are most of a large body, as base64 (a third larger than the file). */
export function bodyTooLarge(limit: number): HttpError {
  return new HttpError(
    413,
    `request body too large: the limit is ${sizeText(limit)} (${limit} bytes). Images count towards it as base64 (a third larger than the file), in "images" or in "image_url" data URIs: send fewer or smaller images per request (each one is scaled down to the model's input size, e.g. 448×448, anyway), or raise the API node's request limit.`,
  );
}

/** Bodies larger than this are not even drained: the connection is closed after the 413. */
const DRAIN_CAP_BYTES = 64 * 1024 * 1024;

/**
 * Reads the whole body as UTF-8, refusing more than `limit` bytes with 413. An oversized body
 * is drained (up to a cap) before answering, because a client still writing its body often
 * reports ECONNRESET instead of reading a response that arrives early.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const tooLarge = (): HttpError => bodyTooLarge(limit);
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared > DRAIN_CAP_BYTES) {
      req.destroy();
      reject(tooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let over = declared > limit;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) over = true;
      if (size > DRAIN_CAP_BYTES) req.destroy();
      if (!over) chunks.push(chunk);
    });
    req.on('end', () => (over ? reject(tooLarge()) : resolve(Buffer.concat(chunks).toString('utf8'))));
    req.on('error', reject);
    req.on('close', () => {
      if (!req.complete) reject(over ? tooLarge() : new HttpError(400, 'the request body was cut off'));
    });
  });
}

/** Parses a body that must be one JSON object (Ollama answers an empty one with "missing request body"). */
export function parseJsonObject(text: string): Record<string, unknown> {
  if (text.trim() === '') throw new HttpError(400, 'missing request body');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const detail = e instanceof Error ? e.message : String(e);
    throw new HttpError(400, `invalid JSON in the request body: ${detail}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new HttpError(400, 'the request body must be a JSON object');
  }
  return value as Record<string, unknown>;
}

export async function readJsonBody(req: IncomingMessage, limit: number): Promise<Record<string, unknown>> {
  return parseJsonObject(await readBody(req, limit));
}
