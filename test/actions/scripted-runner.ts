/**
 * A JobRunner whose n-th job answers with the n-th scripted reply: its text's `<tool_call>` blocks
 * become `toolCalls` when the job offered tools (as the runtime clients do), the rest streams as deltas.
 */
import { EventEmitter } from 'node:events';
import { parseToolMarkup } from '../../lib/actions';
import type { JobEventMap, JobHandle, JobRequest, JobResult, JobRunner, RuntimeEventMap, RuntimeInfo } from '../../lib/runtime/types';

export class ScriptedRunner extends EventEmitter<RuntimeEventMap> implements JobRunner {
  readonly requests: JobRequest[] = [];
  constructor(private readonly script: string[]) {
    super();
  }

  submit(request: JobRequest): JobHandle {
    this.requests.push(request);
    const reply = this.script[this.requests.length - 1] ?? 'Plain reply.';
    const handle = new EventEmitter<JobEventMap>() as EventEmitter<JobEventMap> & { id: string; request: JobRequest; result: Promise<JobResult>; cancel(): void };
    handle.id = String(this.requests.length);
    handle.request = request;
    handle.cancel = () => undefined;
    const parsed = request.tools && request.toolChoice !== 'none' ? parseToolMarkup(reply) : { text: reply, calls: [] };
    const result: JobResult = { text: parsed.text, stats: { promptTokens: 10, completionTokens: 5, ttftMs: 1, tokensPerSecond: 10, durationMs: 2, queueMs: 0, doneReason: 'stop' } };
    if (parsed.calls.length > 0) result.toolCalls = parsed.calls;
    handle.result = new Promise((resolve) => {
      setImmediate(() => {
        // the raw reply streams in small pieces, markup and all, as a runtime without a filter would
        for (let i = 0; i < reply.length; i += 3) handle.emit('delta', reply.slice(i, i + 3), i);
        handle.emit('done', result);
        resolve(result);
      });
    });
    return handle;
  }

  cancelOwner(): number {
    return 0;
  }

  info(): RuntimeInfo {
    throw new Error('not used');
  }
}
