/** What every route handler receives: the shared server context and one HTTP exchange. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { JobRunner } from '../runtime/types';
import type { ServedModel } from './model';

export interface Exchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly url: URL;
  /** `performance.now()` when the request arrived, for `total_duration`. */
  readonly startedAt: number;
  /** Aborts when the client disconnects or the server closes. */
  readonly signal: AbortSignal;
}

export interface ApiContext {
  readonly runner: JobRunner;
  /** JobRequest.owner of every job this server submits, so they can be cancelled together. */
  readonly owner: string;
  readonly model: ServedModel;
  readonly version: string;
  readonly bodyLimit: number;
}

export type Handler = (ctx: ApiContext, ex: Exchange) => Promise<void> | void;
