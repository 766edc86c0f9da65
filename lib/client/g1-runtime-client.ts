/**
 * The 2025 G1 runtime behind the RuntimeClient interface: a stateful context the Runtime resets and
 * restores, every sampling key sent on every request, no max_tokens (the package cuts), and a stop
 * (`GET /api/stop`) that frees the engine before the generate call returns.
 */
import { G1Client, type G1ClientOptions } from './g1-client';
import { ToolCallStream } from './tool-call-stream';
import type { ClientCapabilities, RuntimeClient, RuntimeLimits, TurnHooks, TurnOutcome, TurnRequest } from './runtime-client';

const CAPABILITIES: ClientCapabilities = {
  statefulContext: true,
  stopEndsRun: true,
  maxTokens: false,
  thinkingSwitch: false,
  sampling: ['temperature', 'topK', 'topP', 'repetitionPenalty'],
};

export class G1RuntimeClient implements RuntimeClient {
  readonly kind = 'main-api' as const;
  readonly capabilities = CAPABILITIES;
  readonly g1: G1Client;

  constructor(opts: G1ClientOptions) {
    this.g1 = new G1Client(opts);
  }

  probe(): Promise<boolean> {
    return this.g1.probe();
  }

  reset(systemPrompt: string | undefined, opts: { signal?: AbortSignal } = {}): Promise<{ prefillMs: number }> {
    return this.g1.reset(systemPrompt, opts);
  }

  /**
   * With tools, the built-in tokenizer renders them into the prompt (the model's chat template) and the reply's
   * `<tool_call>` blocks are taken out of the stream into `toolCalls`: no delta carries their markup.
   */
  async generate(req: TurnRequest, hooks: TurnHooks): Promise<TurnOutcome> {
    const withTools = (req.tools?.length ?? 0) > 0 && req.toolChoice !== 'none';
    if (!withTools) return this.g1.generate({ prompt: req.prompt, ...req.sampling }, hooks);
    const stream = new ToolCallStream();
    let text = '';
    const show = (piece: string): void => {
      if (piece === '') return;
      text += piece;
      hooks.onDelta(piece);
    };
    const outcome = await this.g1.generate({ prompt: req.prompt, ...req.sampling }, { ...hooks, onDelta: (d) => show(stream.push(d)) });
    show(stream.flush());
    return stream.calls.length > 0 ? { text, reason: outcome.reason, toolCalls: stream.calls } : { text, reason: outcome.reason };
  }

  async limits(): Promise<RuntimeLimits> {
    return {};
  }

  /** A stopped G1 generate returns only once the runtime reports done: nothing is left running. */
  async engineFree(): Promise<void> {}

  close(): Promise<void> {
    return this.g1.close();
  }
}
