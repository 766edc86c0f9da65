/**
 * One job's handle: the events an ingress listens to and a result promise that settles once.
 * The Runtime drives it through `markStarted`, `pushDelta`, `finish` and `fail`; everything after
 * the first settlement is ignored, so a late delta can never follow an error or a done.
 */
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { Ax650Error } from '../errors';
import type { JobEventMap, JobHandle, JobRequest, JobResult } from './types';

export type JobPhase = 'queued' | 'running' | 'settled';

export class Job extends EventEmitter<JobEventMap> implements JobHandle {
  readonly id = randomUUID();
  readonly request: Readonly<JobRequest>;
  readonly result: Promise<JobResult>;
  readonly submittedAt = Date.now();
  /** Submission order, the tie-breaker between equal priorities. */
  readonly seq: number;
  phase: JobPhase = 'queued';
  startedAt: number | null = null;
  private deltaIndex = 0;
  private resolveResult!: (r: JobResult) => void;
  private rejectResult!: (e: Ax650Error) => void;
  private readonly onCancel: (job: Job) => void;
  private readonly abortListener: (() => void) | null = null;

  constructor(request: JobRequest, seq: number, onCancel: (job: Job) => void) {
    super();
    this.request = request;
    this.seq = seq;
    this.onCancel = onCancel;
    this.result = new Promise<JobResult>((resolve, reject) => {
      this.resolveResult = resolve;
      this.rejectResult = reject;
    });
    // Nobody is obliged to await `result`; the `error` event is the primary channel.
    this.result.catch(() => undefined);
    if (request.signal) {
      if (request.signal.aborted) queueMicrotask(() => this.cancel());
      else {
        this.abortListener = () => this.cancel();
        request.signal.addEventListener('abort', this.abortListener, { once: true });
      }
    }
  }

  get priority(): number {
    return this.request.priority ?? 0;
  }

  cancel(): void {
    if (this.phase !== 'settled') this.onCancel(this);
  }

  markStarted(): void {
    if (this.phase !== 'queued') return;
    this.phase = 'running';
    this.startedAt = Date.now();
    this.emit('started');
  }

  pushDelta(text: string): void {
    if (this.phase !== 'running' || text === '') return;
    this.emit('delta', text, this.deltaIndex++);
  }

  get deltaCount(): number {
    return this.deltaIndex;
  }

  finish(result: JobResult): void {
    if (!this.settle()) return;
    this.emit('done', result);
    this.resolveResult(result);
  }

  fail(error: Ax650Error, partial?: JobResult): void {
    if (!this.settle()) return;
    const err = error as Ax650Error & { partial?: JobResult };
    if (partial) err.partial = partial;
    // An 'error' event without listeners would throw; the result promise still carries it.
    if (this.listenerCount('error') > 0) this.emit('error', err);
    this.rejectResult(err);
  }

  private settle(): boolean {
    if (this.phase === 'settled') return false;
    this.phase = 'settled';
    if (this.abortListener && this.request.signal) this.request.signal.removeEventListener('abort', this.abortListener);
    return true;
  }
}
