/**
 * Response writers for streamed answers. Headers leave with the first chunk (as in Ollama's
 * `streamResponse`), so an error before it still gets its real status and a JSON body; after
 * it, the error becomes one last NDJSON line or SSE event and the response ends, because
 * ollama-js and the OpenAI SDKs turn exactly that into an exception.
 */
import type { ServerResponse } from 'node:http';
import { errorBody, sendError, type ErrorDialect, type HttpError } from './http-io';

export interface ResponseStream {
  readonly started: boolean;
  write(chunk: unknown): void;
  fail(err: HttpError): void;
  end(): void;
}

abstract class BaseStream implements ResponseStream {
  private begun = false;

  constructor(
    protected readonly res: ServerResponse,
    private readonly dialect: ErrorDialect,
    private readonly contentType: string,
  ) {}

  get started(): boolean {
    return this.begun;
  }

  protected abstract frame(chunk: unknown): string;

  protected abstract closing(): string;

  write(chunk: unknown): void {
    if (this.res.destroyed || this.res.writableEnded) return;
    if (!this.begun) {
      this.begun = true;
      this.res.writeHead(200, {
        'Content-Type': this.contentType,
        'Cache-Control': 'no-cache',
        'X-Accel-Buffering': 'no',
      });
    }
    this.res.write(this.frame(chunk));
  }

  fail(err: HttpError): void {
    if (this.res.destroyed || this.res.writableEnded) return;
    if (!this.begun) {
      sendError(this.res, this.dialect, err);
      return;
    }
    this.res.end(this.frame(errorBody(this.dialect, err)));
  }

  end(): void {
    if (this.res.destroyed || this.res.writableEnded) return;
    this.res.end(this.closing());
  }
}

export class NdjsonStream extends BaseStream {
  constructor(res: ServerResponse) {
    super(res, 'ollama', 'application/x-ndjson');
  }

  protected frame(chunk: unknown): string {
    return `${JSON.stringify(chunk)}\n`;
  }

  protected closing(): string {
    return '';
  }
}

export class SseStream extends BaseStream {
  constructor(res: ServerResponse) {
    super(res, 'openai', 'text/event-stream');
  }

  protected frame(chunk: unknown): string {
    return `data: ${JSON.stringify(chunk)}\n\n`;
  }

  protected closing(): string {
    return 'data: [DONE]\n\n';
  }
}
