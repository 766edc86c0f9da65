/**
 * The bounded waiting line in front of the single NPU: highest priority first, submission order
 * within a priority. A full queue is refused at once (like Ollama's 503) so a caller can back off
 * instead of piling up prompts the robot no longer needs.
 */
import { Ax650Error } from '../errors';
import type { Job } from './job';

export class JobQueue {
  private readonly jobs: Job[] = [];

  constructor(private readonly limit: number) {}

  get length(): number {
    return this.jobs.length;
  }

  /** Adds a job, or throws QUEUE_FULL without side effects. Returns its 1-based position. */
  push(job: Job): number {
    if (this.jobs.length >= this.limit) {
      throw new Ax650Error('QUEUE_FULL', `The NPU queue is full (${this.limit} prompts waiting); try again later.`, {
        params: { limit: this.limit },
      });
    }
    let i = this.jobs.length;
    while (i > 0 && this.jobs[i - 1]!.priority < job.priority) i--;
    this.jobs.splice(i, 0, job);
    return i + 1;
  }

  shift(): Job | undefined {
    return this.jobs.shift();
  }

  remove(job: Job): boolean {
    const i = this.jobs.indexOf(job);
    if (i < 0) return false;
    this.jobs.splice(i, 1);
    return true;
  }

  /** Removes and returns every job matching the predicate, in queue order. */
  drain(match: (job: Job) => boolean = () => true): Job[] {
    const taken = this.jobs.filter(match);
    for (const job of taken) this.remove(job);
    return taken;
  }
}
