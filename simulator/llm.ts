/**
 * The model side of one turn, timed like the NPU: the reset prefill (GenerateKVCachePrefill), the
 * turn prefill in 128-token chunks, then decode with the token callback every 3 tokens, decoded
 * by the tokenizer service (`LLM.hpp` Run). Replies are real Qwen3 token ids.
 */
import { f2, Cqdm, type Logger } from './alog';
import type { SimConfig } from './env';
import { crash, hangForever, printDeadCard, printDeadCardGlued, wedge } from './faults';
import { KvCache, PREFILL_TOKEN_NUM } from './kv-cache';
import { replyTokenIds, THINK_BLOCK } from './replies';
import { ScriptedReplies } from './scripted-replies';
import type { RequestLog } from './request-log';
import type { StdioBuffer } from './stdout';
import type { TokenizerClient } from './tokenizer-client';

export type TokenCallback = (text: string) => void;

export interface LlmDeps {
  cfg: SimConfig;
  log: Logger;
  out: StdioBuffer;
  tokenizer: TokenizerClient;
  encodeLocal: (text: string) => number[];
  /** The model folder's tokenizer, ids to text (what the context the runtime holds says). */
  decodeLocal?: (ids: number[]) => string;
  requestLog: RequestLog;
}

const sleep = (ms: number): Promise<void> => (ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve());

export class SimLlm {
  readonly kv: KvCache;
  callback: TokenCallback | null = null;
  private stopRequested = false;
  private generatedTotal = 0;
  private readonly chunkMs: number;
  private readonly stepMs: number;

  constructor(private readonly d: LlmDeps) {
    this.kv = new KvCache(d.cfg.prefillMax, d.log);
    this.chunkMs = PREFILL_TOKEN_NUM * d.cfg.prefillMsPerToken;
    this.stepMs = 1000 / d.cfg.tokensPerSec;
  }

  /** GET /api/stop: seen by the prefill and decode loops of a running Run, cleared when Run starts. */
  stop(): void {
    this.stopRequested = true;
  }

  /** SetSystemPrompt: a failed tokenizer reset leaves the previous ids in place. */
  async setSystemPrompt(systemPrompt: string, previous: number[]): Promise<number[]> {
    const ids = await this.d.tokenizer.reset(systemPrompt);
    this.kv.resetLimit();
    return ids ?? previous;
  }

  /** GenerateKVCachePrefill; returns the new precompute_len. It does not look at the stop flag. */
  async prefillSystem(tokenIds: number[]): Promise<number> {
    const n = tokenIds.length;
    const split = Math.ceil(n / PREFILL_TOKEN_NUM);
    this.d.log.i('GenerateKVCachePrefill', 335, `input token num : ${n}, prefill_split_num : ${split} prefill_grpid : ${this.kv.groupFor(n)}`);
    this.d.requestLog.append({ event: 'prefill', kind: 'reset', tokens: n, precompute_len: n });
    if (n === 0) {
      this.d.log.i('GenerateKVCachePrefill', 350, 'input token num is 0, skip');
      return 0;
    }
    for (let p = 0; p < split; p++) {
      this.d.log.i('GenerateKVCachePrefill', 372, `input_num_token:${p === split - 1 ? n - p * PREFILL_TOKEN_NUM : PREFILL_TOKEN_NUM}`);
      await sleep(this.chunkMs);
    }
    return n;
  }

  private countToken(): void {
    this.generatedTotal++;
    const limit = this.d.cfg.crashAfterTokens;
    if (limit !== undefined && this.generatedTotal > limit) crash();
  }

  private scripted: ScriptedReplies | undefined;

  decodeLocal(ids: number[]): string {
    return ids.length === 0 || !this.d.decodeLocal ? '' : this.d.decodeLocal(ids);
  }

  /**
   * Run: returns the reply text and how many positions the KV cache now holds. `context` is the rendered
   * context the tokenizer sent (decoded): the tool script answers the turns whose context has the template's
   * tools block.
   */
  async run(prompt: string, precomputeLen: number, inputNum: number, context = ''): Promise<{ reply: string; filled: number }> {
    this.stopRequested = false;
    const { cfg, log, out, tokenizer } = this.d;
    const split = Math.ceil(inputNum / PREFILL_TOKEN_NUM);
    log.i('Run', 869, `input token num : ${inputNum}, prefill_split_num : ${split}`);
    const ttftStart = performance.now();
    for (let p = 0; p < split && !this.stopRequested; p++) {
      log.i('Run', 901, `input_num_token:${p === split - 1 ? inputNum - p * PREFILL_TOKEN_NUM : PREFILL_TOKEN_NUM}`);
      await sleep(this.chunkMs);
    }
    this.scripted ??= new ScriptedReplies(cfg.toolScript, cfg.replyScript);
    const script = this.scripted.next(context.includes('<tools>\n') && context.includes('</tools>'));
    // Qwen3 opens every /no_think reply with its empty think block, scripted ones too.
    const fixed = script === undefined ? cfg.reply : THINK_BLOCK + script;
    const reply = replyTokenIds(prompt, { seed: cfg.seed, fixed, tokens: script === undefined ? cfg.replyTokens : undefined }, this.d.encodeLocal);
    const eos = tokenizer.eosId;
    // The first token comes out of the prefill and is cached whether or not a callback is set.
    const tokenIds: number[] = [reply[0] ?? eos];
    let cached: number[] = [tokenIds[0] ?? eos];
    log.i('Run', 1030, `ttft: ${f2(performance.now() - ttftStart)} ms`);
    this.countToken();
    // AX650_SIM_FAULT_PROMPT narrows the generate-time faults to the prompts that contain it.
    const faulty = cfg.faultPrompt === undefined || prompt.includes(cfg.faultPrompt);
    let pieces = 0;
    const tCost = performance.now();
    const bar = this.callback === null ? new Cqdm(out, cfg.maxTokenLen) : undefined;
    let next = 1;
    let lastStep = -1;
    for (let indices = precomputeLen + inputNum; indices < cfg.maxTokenLen; indices++) {
      if (this.stopRequested) break;
      await sleep(this.stepMs);
      lastStep = indices;
      if (cfg.deadCard === 'generate' && faulty) {
        printDeadCard(out);
        await hangForever();
      }
      const token = next < reply.length ? (reply[next++] ?? eos) : eos;
      if (token === eos) {
        if (cached.length > 0 && this.callback) this.callback(await tokenizer.decode(cached));
        cached = [];
        break;
      }
      tokenIds.push(token);
      this.countToken();
      if (this.callback) {
        cached.push(token);
        if (cached.length >= 3) {
          const text = await tokenizer.decode(cached);
          cached = [];
          this.callback(text);
          pieces++;
          if (faulty && cfg.hang === 'generate') await hangForever();
          // The wedge and the glued report come after the third piece, past Qwen3's empty think block, so reply text has gone out.
          if (faulty && pieces >= 3 && cfg.hang === 'wedge') await wedge();
          if (faulty && pieces >= 3 && cfg.deadCard === 'glued') {
            await printDeadCardGlued(out);
            await hangForever();
          }
        }
      } else {
        bar?.update(indices, 'token', '');
      }
    }
    out.write('\n\n');
    out.flush();
    log.n('Run', 1182, `hit eos,avg ${f2(tokenIds.length / ((performance.now() - tCost) / 1000))} token/s\n`);
    const text = await tokenizer.decode(tokenIds);
    // GetKVCache reads the decode mask: every position up to the last decode step is filled.
    const filled = lastStep >= 0 ? lastStep + 1 : precomputeLen + inputNum;
    return { reply: text, filled };
  }
}
