/**
 * main_api.cpp's Worker: one task thread that runs queued generate/reset tasks in order, the
 * `gllm_runing` flag (set only when a task starts, hence the start race), `last_reply`, the
 * server-side precompute_len, and the poll queue that /api/generate_provider drains.
 */
import type { SimConfig } from './env';
import { terminate } from './faults';
import type { SimLlm } from './llm';
import type { StdioBuffer } from './stdout';
import type { TokenizerClient } from './tokenizer-client';
import type { RequestLog } from './request-log';

export const CONTEXT_FULL_MESSAGE = 'error: SetKVCache failed: %d,the context may be full,please reset';

type Task = () => Promise<unknown>;

export class Worker {
  running = false;
  lastReply = '';
  precomputeLen = 0;
  private systemTokenIds: number[] = [];
  private readonly tasks: Task[] = [];
  private draining: Promise<void> | undefined;
  /** g_msg_queue */
  readonly messages: string[] = [];

  constructor(
    private readonly llm: SimLlm,
    private readonly tokenizer: TokenizerClient,
    private readonly out: StdioBuffer,
    private readonly cfg: SimConfig,
    private readonly requestLog: RequestLog,
    private readonly sampling: () => unknown,
  ) {}

  runAsync(prompt: string): void {
    this.addTask(() =>
      this.runSync(prompt, (text) => {
        this.out.writeFlush(text);
        this.messages.push(text);
      }),
    );
  }

  resetAsync(systemPrompt: string): void {
    this.addTask(() => this.resetSync(systemPrompt));
  }

  /** Worker::Stop: the thread exits only once the queue is empty, so a running turn finishes first. */
  async stop(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private addTask(task: Task): void {
    this.tasks.push(task);
    this.draining ??= this.drain().finally(() => {
      this.draining = undefined;
    });
  }

  private async drain(): Promise<void> {
    for (let task = this.tasks.shift(); task; task = this.tasks.shift()) {
      // The thread wakes after the handler has answered; AX650_SIM_START_DELAY_MS widens that gap.
      await new Promise((r) => (this.cfg.startDelayMs > 0 ? setTimeout(r, this.cfg.startDelayMs) : setImmediate(r)));
      try {
        await task();
      } catch (e) {
        terminate(e);
      }
    }
  }

  async resetSync(systemPrompt: string): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.systemTokenIds = await this.llm.setSystemPrompt(systemPrompt, this.systemTokenIds);
    this.precomputeLen = await this.llm.prefillSystem(this.systemTokenIds);
    this.running = false;
  }

  /** RunSync: also called directly (and with no callback) by /api/chat on the HTTP thread. */
  async runSync(prompt: string, callback: ((text: string) => void) | null): Promise<string> {
    if (this.running) return '';
    this.running = true;
    this.llm.callback = callback;
    // Encode's failure is not checked by RunSync: the turn goes on with no new tokens.
    const encoded = await this.tokenizer.encode(prompt, this.lastReply);
    const diff = encoded?.diff ?? [];
    this.requestLog.append({ event: 'prefill', kind: 'generate', tokens: diff.length, precompute_len: this.precomputeLen, sampling: this.sampling() });
    if (this.llm.kv.set(this.precomputeLen, diff.length) !== 0) {
      // The fixed revision (@086f4e6) clears the flag and reports; the older one leaves it set forever.
      if (this.cfg.contextFull === 'wedge') return CONTEXT_FULL_MESSAGE;
      this.running = false;
      this.messages.push(CONTEXT_FULL_MESSAGE);
      return CONTEXT_FULL_MESSAGE;
    }
    const { reply, filled } = await this.llm.run(prompt, this.precomputeLen, diff.length, this.llm.decodeLocal(encoded?.tokenIds ?? []));
    this.lastReply = reply;
    this.precomputeLen = this.llm.kv.get(filled);
    this.running = false;
    return reply;
  }
}
