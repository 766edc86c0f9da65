/**
 * One model turn = one job through the Runtime's single queue. The deltas are passed on without any
 * tool-call markup (whatever the runtime kind left in them), and the settled result comes back.
 */
import type { ChatMessage, JobRequest, JobResult, JobRunner } from '../runtime/types';
import { ToolMarkupFilter } from './tool-markup';

export type DeltaSink = (text: string) => void;

export async function runTurn(runner: JobRunner, request: JobRequest, onDelta?: DeltaSink): Promise<JobResult> {
  const handle = runner.submit(request);
  if (onDelta) {
    const filter = new ToolMarkupFilter();
    handle.on('delta', (d) => {
      const t = filter.push(d);
      if (t !== '') onDelta(t);
    });
    handle.on('done', () => {
      const t = filter.flush();
      if (t !== '') onDelta(t);
    });
  }
  return handle.result;
}

/** The request as a transcript: its messages, or its system prompt and prompt. */
export function transcriptOf(request: JobRequest): ChatMessage[] {
  if (request.messages && request.messages.length > 0) return request.messages.map((m) => ({ ...m }));
  const out: ChatMessage[] = [];
  if (request.system !== undefined) out.push({ role: 'system', content: request.system });
  const user: ChatMessage = { role: 'user', content: request.prompt };
  if (request.images) user.images = request.images;
  out.push(user);
  return out;
}

/** The follow-up turn of a request: the same settings, the given transcript, no conversation key. */
export function followUp(request: JobRequest, messages: ChatMessage[]): JobRequest {
  const { conversation: _c, images: _i, ...rest } = request;
  return { ...rest, messages };
}

/** The next turn of a request in its stored conversation: the same settings and key, only the new input (no images, no transcript). */
export function conversationTurn(request: JobRequest, added: Pick<JobRequest, 'prompt' | 'toolResults'>): JobRequest {
  const { images: _i, toolResults: _r, messages: _m, ...rest } = request;
  return { ...rest, ...added };
}

/** The stats of several turns: the last turn's, with the token counts and times added up. */
export function sumStats(results: readonly JobResult[]): JobResult['stats'] {
  const last = results[results.length - 1]!.stats;
  const first = results[0]!.stats;
  return {
    ...last,
    promptTokens: results.reduce((n, r) => n + r.stats.promptTokens, 0),
    completionTokens: results.reduce((n, r) => n + r.stats.completionTokens, 0),
    durationMs: results.reduce((n, r) => n + r.stats.durationMs, 0),
    queueMs: results.reduce((n, r) => n + r.stats.queueMs, 0),
    ttftMs: first.ttftMs,
  };
}
