/**
 * The one NPU engine behind `axllm serve`: prefill in 128-token chunks, then decode at
 * AX650_SIM_TOKENS_PER_SEC, handing each decoded piece to the stream callback (or drawing a `token`
 * bar for a non-stream request), then `hit eos` and the GetKVCache line [M, X]. Nothing serialises
 * callers: two streams run at once, exactly like two `llm.Run` on the real engine, and every such
 * overlap is written to AX650_SIM_LOG so tests can fail on it. Faults: crash after N tokens, hang
 * after the first piece, dead card at the first decode step; after the third piece a wedged NPU
 * (SIGINT ignored, only SIGKILL ends it) or the dead-card report glued to the token text. The
 * generate-time faults hit only prompts containing AX650_SIM_FAULT_PROMPT when it is set.
 */
import type { QwenTokenizer } from '../../lib/tokenizer/qwen-tokenizer';
import { f2 } from '../alog';
import type { SimConfig } from '../env';
import { crash, hangForever, printDeadCard, printDeadCardGlued, wedge } from '../faults';
import { PREFILL_TOKEN_NUM } from '../kv-cache';
import type { RequestLog } from '../request-log';
import { KvSlots } from './kv-slots';
import { Progress, type AxLogger } from './logger';

/** [FL]'s context-overflow text; upstream's own wording is not verified. */
export const CONTEXT_OVERFLOW_MESSAGE = '当前会话上下文已超过该模型的长度上限，请发送 /reset 重置上下文。';

export interface RunSpec {
  id: number;
  /** The prompt as token ids (images as 256 ids derived from their bytes). */
  promptIds: number[];
  reply: number[];
  maxTokens: number;
  /** Stream callback (set for a stream request, null for non-stream). */
  onText: ((text: string) => void) | null;
  /** The generate-time faults apply (AX650_SIM_FAULT_PROMPT unset, or the last user turn contains it). */
  faulty: boolean;
}

export interface RunOutcome {
  text: string;
  tokens: number;
  /** GetLastError(): non-empty when the model failed. */
  error: string;
}

const sleep = (ms: number): Promise<void> => (ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve());

export class AxEngine {
  private readonly running = new Set<number>();
  private generatedTotal = 0;
  private readonly slots: KvSlots;

  constructor(
    private readonly sim: SimConfig,
    private readonly log: AxLogger,
    private readonly tokenizer: QwenTokenizer,
    private readonly requestLog: RequestLog,
    kvCacheSlots = 1,
  ) {
    this.slots = new KvSlots(kvCacheSlots);
  }

  /** Generations in progress (more than one means they overlap). */
  get active(): number {
    return this.running.size;
  }

  private countToken(): void {
    this.generatedTotal++;
    const limit = this.sim.crashAfterTokens;
    if (limit !== undefined && this.generatedTotal > limit) crash();
  }

  async run(spec: RunSpec): Promise<RunOutcome> {
    if (this.running.size > 0) this.requestLog.append({ event: 'overlap', id: spec.id, active: this.running.size + 1, running: [...this.running] });
    this.running.add(spec.id);
    const { slot, cached } = this.slots.acquire(spec.promptIds);
    this.requestLog.append({ event: 'run', id: spec.id, phase: 'start', active: this.running.size, prompt_tokens: spec.promptIds.length, cached_tokens: cached });
    try {
      const outcome = await this.generate(spec, cached);
      // A failed run resets the KV cache (main.cpp calls ResetKVCache after a model error).
      if (outcome.error !== '') this.slots.store(slot, [], []);
      else this.slots.store(slot, spec.promptIds, outcome.ids);
      const reason = outcome.error !== '' ? 'error' : outcome.tokens >= spec.maxTokens ? 'max_tokens' : 'eos';
      this.requestLog.append({ event: 'run', id: spec.id, phase: 'end', active: this.running.size - 1, generated: outcome.tokens, reason });
      return outcome;
    } finally {
      this.running.delete(spec.id);
    }
  }

  private async generate(spec: RunSpec, cached: number): Promise<RunOutcome & { ids: number[] }> {
    const { sim, log } = this;
    const n = spec.promptIds.length;
    if (n > sim.prefillMax) {
      log.e('Run:1320', `input token num ${n} > prefill_max_token_num ${sim.prefillMax}`);
      return { text: '', tokens: 0, error: CONTEXT_OVERFLOW_MESSAGE, ids: [] };
    }
    // Only the tokens past the cached prefix are prefilled, in whole 128-token chunks.
    const fresh = n - cached;
    const split = Math.ceil(fresh / PREFILL_TOKEN_NUM);
    if (cached === 0) log.i('Run:1318', 'first run');
    log.i('Run:1331', `input token num : ${fresh}, prefill_split_num : ${split}`);
    const started = performance.now();
    for (let p = 0; p < split; p++) await sleep(PREFILL_TOKEN_NUM * sim.prefillMsPerToken);
    log.i('Run:1402', `ttft: ${f2(performance.now() - started)} ms`);
    const budget = Math.max(0, Math.min(spec.maxTokens, sim.maxTokenLen - n));
    const ids: number[] = [];
    let emitted = '';
    let pieces = 0;
    const bar = spec.onText === null ? new Progress(log, sim.maxTokenLen, 'token') : undefined;
    const decodeStart = performance.now();
    const stepMs = 1000 / sim.tokensPerSec;
    for (let i = 0; i < spec.reply.length && i < budget; i++) {
      // The first token comes out of the prefill; each further one costs a decode step.
      if (i > 0) await sleep(stepMs);
      if (sim.deadCard === 'generate' && spec.faulty) {
        printDeadCard(log.out);
        await hangForever();
      }
      ids.push(spec.reply[i] ?? this.tokenizer.eosId);
      this.countToken();
      if (spec.onText) {
        const full = this.tokenizer.decode(ids);
        // A character split across tokens waits for its last byte.
        if (full.endsWith('\uFFFD') && i + 1 < spec.reply.length) continue;
        const piece = full.slice(emitted.length);
        emitted = full;
        if (piece !== '') {
          spec.onText(piece);
          pieces++;
        }
      } else {
        bar?.update('');
        pieces++;
      }
      if (!spec.faulty) continue;
      if (sim.hang === 'generate') await hangForever();
      // The wedge and the glued report come after the third piece, so reply text has gone out first.
      if (pieces >= 3 && sim.hang === 'wedge') await wedge();
      if (pieces >= 3 && sim.deadCard === 'glued') {
        await printDeadCardGlued(log.out);
        await hangForever();
      }
    }
    const seconds = (performance.now() - decodeStart) / 1000;
    log.printFlush('\n\n');
    log.n('Run:1498', `hit eos,avg ${f2(ids.length / Math.max(seconds, 1e-3))} token/s`);
    log.i('GetKVCache:1610', `precompute_len:${n + ids.length}, remaining:${Math.max(0, sim.prefillMax - n - ids.length)}`);
    return { text: this.tokenizer.decode(ids), tokens: ids.length, error: '', ids };
  }
}
