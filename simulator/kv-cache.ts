/**
 * The context bookkeeping of the AXCL ctx `LLM.hpp`: prefill groups, SetKVCache's checks (including
 * the quirks: `prefill_max_token_num` shrinks again after a failed SetKVCache, and a `prefill_grpid`
 * that no group fits keeps its previous value) and GetKVCache's `precompute_len, remaining` line.
 */
import type { Logger } from './alog';

export const PREFILL_TOKEN_NUM = 128;

/** Qwen3-4B ctx build: grp 1 is the single-token decode group, then 256 … 2048 (README init log). */
export function prefillGroups(prefillMax: number): number[] {
  const groups = [1];
  for (const g of [256, 512, 1024, 1536]) if (g < prefillMax) groups.push(g);
  groups.push(prefillMax);
  return groups;
}

const alignDown = (x: number, a: number): number => x & ~(a - 1);

export class KvCache {
  readonly groups: number[];
  prefillMaxTokenNum: number;
  prefillGrpid = -1;

  constructor(
    prefillMax: number,
    private readonly log: Logger,
  ) {
    this.groups = prefillGroups(prefillMax);
    this.prefillMaxTokenNum = this.lastGroup;
  }

  get lastGroup(): number {
    return this.groups[this.groups.length - 1] ?? 0;
  }

  /** Group of a fresh prefill (GenerateKVCachePrefill). */
  groupFor(tokens: number): number {
    const i = this.groups.findIndex((g) => tokens <= g);
    return i < 0 ? this.groups.length : i + 1;
  }

  resetLimit(): void {
    this.prefillMaxTokenNum = this.lastGroup;
  }

  /** 0 when the new turn fits, -1 when the context is full (the caller then reports it). */
  set(precomputeLen: number, inputNumToken: number): number {
    const i = this.groups.findIndex((g) => precomputeLen + inputNumToken <= g);
    if (i >= 0) this.prefillGrpid = i + 1;
    const kvCacheNum = this.groups[this.prefillGrpid - 1] ?? this.lastGroup;
    this.log.i('SetKVCache', 628, `prefill_grpid:${this.prefillGrpid} kv_cache_num:${kvCacheNum} precompute_len:${precomputeLen} input_num_token:${inputNumToken}`);
    this.prefillMaxTokenNum = alignDown(this.prefillMaxTokenNum - precomputeLen, PREFILL_TOKEN_NUM);
    this.log.i('SetKVCache', 631, `current prefill_max_token_num:${this.prefillMaxTokenNum}`);
    if (precomputeLen === 0) {
      this.log.i('SetKVCache', 633, 'first run');
      return 0;
    }
    if (precomputeLen + inputNumToken > kvCacheNum) {
      this.log.e('SetKVCache', 638, `precompute_len(${precomputeLen}) + input_num_token(${inputNumToken}) > _attr.prefill_max_kv_cache_num_grp[${this.prefillGrpid - 1}]`);
      return -1;
    }
    if (inputNumToken > this.prefillMaxTokenNum) {
      this.log.e('SetKVCache', 644, `input_num_token(${inputNumToken}) > _attr.prefill_max_token_num(${this.prefillMaxTokenNum})`);
      return -1;
    }
    return 0;
  }

  /** Logs and returns the new precompute_len; `filled` is what the decode mask says is in the cache. */
  get(filled: number): number {
    this.log.i('GetKVCache', 597, `precompute_len:${filled}, remaining:${this.lastGroup - filled}`);
    this.resetLimit();
    return filled;
  }
}
