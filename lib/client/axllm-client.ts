/**
 * The client for `axllm serve` (reference axllm-serve-protocol.md): the whole transcript with every
 * request, the reply streamed over SSE, readiness from `/health`, limits from `/v1/models`.
 *
 * The runtime's own gate does not hold for streams and a closed stream does not stop its generation
 * (§5): the engine runs on to EOS or max_tokens. So after a reply that was cut short, the client
 * knows the engine is free only when the runtime's log shows the end of that run (`hit eos` /
 * `GetKVCache … precompute_len:…, remaining:…`); `engineFree` waits for it, and the Runtime sends
 * nothing before. One client per runtime process, one request at a time.
 */
import type { EventEmitter } from 'node:events';
import { Ax650Error } from '../errors';
import type { RequestStat, RuntimeLogEventMap } from '../runtime/log-parser';
import { makeToolCall, parseToolMarkup, ToolMarkupFilter } from '../actions/tool-markup';
import { hasToolTurns } from '../tokenizer/template-messages';
import { chatBody, errorMessage, isContextOverflow, parseModels, parseStreamData, type AxllmModel, type WireToolCall } from './axllm-protocol';
import { toClientError } from './g1-client';
import { classify, G1Transport, TransportError } from './g1-transport';
import type { ClientCapabilities, RuntimeClient, RuntimeLimits, TurnHooks, TurnOutcome, TurnRequest } from './runtime-client';
import { SseParser } from './sse';

export interface AxllmClientOptions {
  /** e.g. `http://127.0.0.1:8000`. */
  baseUrl: string;
  /** The runtime's log events (its stdout parsed): the end of each run. */
  log: EventEmitter<RuntimeLogEventMap>;
  /** Model id to send before `/v1/models` was read (config.json `model_name`). */
  modelName?: string;
  connectTimeoutMs?: number;
  /** Time to the response headers, ms. Default 10000. */
  requestTimeoutMs?: number;
}

const CAPABILITIES: ClientCapabilities = {
  statefulContext: false,
  stopEndsRun: false,
  maxTokens: true,
  thinkingSwitch: true,
  sampling: ['temperature', 'topP'],
};

export class AxllmClient implements RuntimeClient {
  readonly kind = 'axllm' as const;
  readonly capabilities = CAPABILITIES;
  private readonly transport: G1Transport;
  private model: AxllmModel | null = null;
  private modelName: string | undefined;
  private active = false;
  /** Runs the log has shown ending, and how many had ended when the last cut-short request was sent. */
  private runsEnded = 0;
  private owedEnd: number | null = null;
  private readonly onStat = (s: RequestStat): void => {
    if (s.kind === 'requestStart') this.lastWasEos = false;
    else if (s.kind === 'kvCache' || s.kind === 'hitEos') {
      // One run prints both: count the first of the pair only.
      if (s.kind === 'hitEos' || !this.lastWasEos) this.runsEnded++;
      this.lastWasEos = s.kind === 'hitEos';
      this.wakeEngineWaiters();
    }
  };
  private lastWasEos = false;
  /** PR56's native tools: unknown until a prompt with tools asked (nativeTools). */
  private toolsNative: boolean | undefined;
  private engineWaiters = new Set<() => void>();

  constructor(private readonly opts: AxllmClientOptions) {
    this.modelName = opts.modelName;
    this.transport = new G1Transport(opts.baseUrl, { connectTimeoutMs: opts.connectTimeoutMs ?? 1_000, requestTimeoutMs: opts.requestTimeoutMs ?? 10_000 });
    opts.log.on('stat', this.onStat);
  }

  /** `/health` exists only after the model loaded and the server listens (§3). */
  async probe(): Promise<boolean> {
    if (this.active) return true;
    try {
      const res = await this.transport.get('/health');
      return res.status === 200 && typeof res.body === 'object' && res.body !== null && (res.body as { status?: unknown }).status === 'healthy';
    } catch {
      return false;
    }
  }

  async reset(): Promise<{ prefillMs: number }> {
    return { prefillMs: 0 };
  }

  async limits(): Promise<RuntimeLimits> {
    const res = await this.call(() => this.transport.get('/v1/models'));
    const model = res.status === 200 ? parseModels(res.body) : undefined;
    if (!model) throw new Ax650Error('RUNTIME_FAILED', `GET /v1/models answered ${res.status} without a model list; is this axllm serve?`);
    this.model = model;
    this.modelName = model.id;
    const out: RuntimeLimits = {};
    if (model.maxTokenLen !== undefined) out.maxTokenLen = model.maxTokenLen;
    if (model.prefillMaxTokenNum !== undefined) out.prefillMaxTokenNum = model.prefillMaxTokenNum;
    if (model.vision !== undefined) out.vision = model.vision;
    return out;
  }

  /**
   * Whether this build speaks tools natively (PR56, reference §6), asked once per runtime process with the
   * smallest request only such a build accepts: a `tool` turn answering an assistant's `tool_calls`, one token.
   * A build without PR56 refuses it as a model error (400) before generating; it then gets the tools as the
   * chat template's text (axllm-text-tools.ts). Asked only when a prompt has tools, so an idle runtime sees nothing.
   */
  private async nativeTools(signal: AbortSignal): Promise<boolean> {
    if (this.toolsNative !== undefined) return this.toolsNative;
    const call = { id: 'call_0_probe', type: 'function', function: { name: 'probe', arguments: '{}' } };
    const body = {
      model: this.modelName ?? 'default',
      stream: false,
      max_tokens: 1,
      tools: [{ type: 'function', function: { name: 'probe', description: 'Probe.', parameters: { type: 'object', properties: {} } } }],
      messages: [{ role: 'user', content: 'probe' }, { role: 'assistant', content: null, tool_calls: [call] }, { role: 'tool', tool_call_id: call.id, content: 'ok' }],
    };
    const before = this.runsEnded;
    const res = await this.call(() => this.transport.post('/v1/chat/completions', body, signal));
    if (res.status === 200) {
      // Its one-token run shows its end in the log; counting it later would free the engine too early.
      this.owedEnd = before;
      await this.engineFree(10_000).catch(() => {
        this.owedEnd = null;
      });
    }
    // Any other answer (503, 5xx) says nothing of the build: this prompt goes as text, and the next one asks again.
    if (res.status === 200) this.toolsNative = true;
    else if (res.status === 400) this.toolsNative = false;
    return this.toolsNative ?? false;
  }

  /** `server_max_output_tokens` of config.json, when the server reported one (it clamps max_tokens). */
  get serverMaxOutputTokens(): number | undefined {
    return this.model?.serverMaxOutputTokens;
  }

  async generate(req: TurnRequest, hooks: TurnHooks): Promise<TurnOutcome> {
    if (this.active) throw new Ax650Error('INTERNAL', 'AxllmClient runs one request at a time.');
    if (hooks.signal?.aborted) return { text: '', reason: 'stopped' };
    this.active = true;
    let text = '';
    let raw = '';
    let pieces = 0;
    let finished = false;
    const ctl = new AbortController();
    const onAbort = () => ctl.abort();
    hooks.signal?.addEventListener('abort', onAbort, { once: true });
    let endedBefore = this.runsEnded;
    try {
      const withTools = req.tools !== undefined && req.tools.length > 0 && req.toolChoice !== 'none';
      const nativeTools = withTools || hasToolTurns(req.history) ? await this.nativeTools(ctl.signal) : true;
      // The probe's own run, if it made one, has ended (nativeTools waits for it): it is not this request's.
      endedBefore = this.runsEnded;
      const body = chatBody(this.modelName ?? 'default', req, nativeTools);
      const res = await this.call(() => this.transport.postStream('/v1/chat/completions', body, ctl.signal));
      if (res.status !== 200) {
        const msg = errorMessage(await res.text().catch(() => ''));
        throw new Ax650Error(res.status === 400 ? 'BAD_INPUT' : res.status === 503 ? 'RUNTIME_WEDGED' : 'INTERNAL', `The runtime refused the prompt (HTTP ${res.status}): ${msg}`, { params: { status: res.status } });
      }
      hooks.onAccepted?.();
      // From here the runtime runs this request to its end, whatever happens to the stream.
      this.owedEnd = endedBefore;
      // Tool calls: PR56 sends them as `delta.tool_calls` (pieces merged by index); a build without it
      // prints Qwen3's <tool_call> markup as text, which is kept out of the deltas and parsed at the end.
      const markup = withTools ? new ToolMarkupFilter() : null;
      const wire = new Map<number, WireToolCall>();
      let failure: Ax650Error | null = null;
      let overflow = false;
      const sse = new SseParser((data) => {
        for (const ev of parseStreamData(data)) {
          if (ev.kind === 'delta' && !ctl.signal.aborted) {
            raw += ev.text;
            pieces++;
            const shown = markup ? markup.push(ev.text) : ev.text;
            text += shown;
            if (shown !== '') hooks.onDelta(shown);
          } else if (ev.kind === 'tool_calls') {
            for (const c of ev.calls) {
              const had = wire.get(c.index) ?? { index: c.index };
              wire.set(c.index, { ...had, ...c, arguments: (had.arguments ?? '') + (c.arguments ?? '') });
            }
          } else if (ev.kind === 'done') finished = true;
          else if (ev.kind === 'error') {
            if (isContextOverflow(ev.message)) overflow = true;
            else failure = new Ax650Error('INTERNAL', `The runtime reported an error for this prompt (${ev.type || 'error'}): ${ev.message}`);
          }
        }
      });
      try {
        for await (const chunk of res.body) {
          sse.push(chunk);
          if (finished) break;
        }
      } catch (e) {
        if (!ctl.signal.aborted) throw toClientError(new TransportError(classify(e), `reply stream: ${e instanceof Error ? e.message : String(e)}`, { cause: e }));
      }
      if (ctl.signal.aborted) return { text, reason: 'stopped' };
      if (!finished) throw new Ax650Error('RUNTIME_CRASHED', 'The runtime closed the reply stream before its end.');
      // `[DONE]` comes after the run returned: the engine is free.
      this.owedEnd = null;
      if (failure) throw failure;
      const rest = markup?.flush() ?? '';
      if (rest !== '') {
        text += rest;
        hooks.onDelta(rest);
      }
      const outcome: TurnOutcome = { text, reason: overflow ? 'context-full' : 'done', pieces };
      if (withTools) {
        const calls = wire.size > 0 ? [...wire.values()].sort((a, b) => a.index - b.index).map((c, i) => makeToolCall(c.id ?? `call_${i}_${c.name ?? ''}`, c.name ?? '', c.arguments ?? '{}')) : parseToolMarkup(raw).calls;
        if (calls.length > 0) outcome.toolCalls = calls;
      }
      return outcome;
    } catch (e) {
      if (e instanceof Ax650Error) throw e;
      if (ctl.signal.aborted) return { text, reason: 'stopped' };
      throw toClientError(e);
    } finally {
      hooks.signal?.removeEventListener('abort', onAbort);
      this.active = false;
    }
  }

  engineFree(maxMs: number): Promise<void> {
    if (this.owedEnd === null || this.runsEnded > this.owedEnd) {
      this.owedEnd = null;
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      const check = () => {
        if (this.owedEnd !== null && this.runsEnded <= this.owedEnd) return;
        clearTimeout(timer);
        this.engineWaiters.delete(check);
        this.owedEnd = null;
        resolve();
      };
      const timer = setTimeout(() => {
        this.engineWaiters.delete(check);
        reject(new Ax650Error('RUNTIME_WEDGED', `The runtime went on generating a stopped reply for more than ${Math.round(maxMs / 1000)} s; it is restarted so the next prompt does not overlap it.`, { params: { ms: maxMs } }));
      }, maxMs);
      this.engineWaiters.add(check);
    });
  }

  /** The process is gone or going: nothing runs on its engine any more. */
  async close(): Promise<void> {
    this.opts.log.off('stat', this.onStat);
    this.owedEnd = null;
    this.wakeEngineWaiters();
    await this.transport.close();
  }

  private wakeEngineWaiters(): void {
    for (const w of [...this.engineWaiters]) w();
  }

  private async call<T>(request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (e) {
      throw toClientError(e);
    }
  }
}
