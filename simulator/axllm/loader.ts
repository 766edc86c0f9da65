/**
 * LLM::Init of the axllm AXCL build as it logs [I, X, G, U; M5 capture]: workers per device, the
 * built-in tokenizer, the mem-guard preflight, one `#` bar per axmodel (axmodel_num + 3 in all), the
 * context limits, the embed table, the vision encoder of a VL model, post_config.json, `LLM init ok`.
 * Every failure logs its vendor line and returns undefined; main then logs `LLM.Init failed` (255).
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { loadQwenTokenizer, type QwenTokenizer } from '../../lib/tokenizer/qwen-tokenizer';
import { hangForever, printDeadCard } from '../faults';
import { dump, type Json } from '../json-compat';
import { prefillGroups, PREFILL_TOKEN_NUM } from '../kv-cache';
import { layerPath } from '../loader';
import type { AxllmConfig } from './config';
import type { AxllmKnobs } from './knobs';
import { Progress, type AxLogger } from './logger';

export const SIM_CARD_COUNT = 1;
const CMM_TOTAL_MB = 7040;
const MODEL_CMM_MB = 2300;
/** What the simulated card has free when AX650_SIM_MEM_GUARD refuses the load. */
const CMM_TIGHT_MB = 900;
const SUPPORTED_TOKENIZERS = ['qwen3', 'qwen3vl', 'qwen2.5', 'qwen3.5', 'qwen3omni'];

export interface LoadedAxllm {
  tokenizer: QwenTokenizer;
  maxTokenLen: number;
  prefillMaxTokenNum: number;
  vision: boolean;
  remainCmmMb: number;
}

const sleep = (ms: number): Promise<void> => (ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve());

/** The simulator reads only the Qwen3 tokenizer.json inside a `qwen3_tokenizer/` folder. */
async function loadTokenizer(file: string): Promise<QwenTokenizer | undefined> {
  if (!existsSync(file)) return undefined;
  if (path.basename(file) !== 'tokenizer.json' || path.basename(path.dirname(file)) !== 'qwen3_tokenizer') {
    process.stderr.write(`ax650-sim: url_tokenizer_model must name <dir>/qwen3_tokenizer/tokenizer.json for the simulator, got ${file}\n`);
    return undefined;
  }
  return loadQwenTokenizer(path.dirname(path.dirname(file))).catch(() => undefined);
}

function logPostConfig(cfg: AxllmConfig, log: AxLogger): void {
  let config: Json;
  try {
    config = JSON.parse(readFileSync(cfg.postConfigPath, 'utf8')) as Json;
  } catch {
    log.e('load_config:41', `config file(${cfg.postConfigPath}) open failed`);
    log.w('Init:1046', `load postprocess config(${cfg.postConfigPath}) failed`);
    return;
  }
  log.i('load_config:48', `load config: \n${dump(config, 4)}`);
}

function memGuardRefuses(what: string, estimateMb: number, remainMb: number, cfg: AxllmConfig, log: AxLogger): boolean {
  const left = remainMb - estimateMb;
  process.stderr.write(`[mem-guard] UNSAFE: loading '${what}' (~${estimateMb} MB) would leave ~${left} MB free (< floor ${cfg.memGuardFloorMb} MB); remaining=${remainMb} MB\n`);
  if (cfg.memGuardOnUnsafe === 'warn') {
    log.w('Init:512', `mem-guard: continuing despite low memory (mem_guard_on_unsafe=warn)`);
    return false;
  }
  log.e('Init:518', `mem-guard aborted device load: ${what} (est ${estimateMb} MB, remain ${remainMb} MB)`);
  return true;
}

export async function initAxllm(cfg: AxllmConfig, devices: number[], knobs: AxllmKnobs, log: AxLogger): Promise<LoadedAxllm | undefined> {
  const sim = knobs.sim;
  log.i('Init:890', 'LLM init start');
  for (const devid of devices) {
    if (devid < 0 || devid >= SIM_CARD_COUNT) {
      log.e('init:386', `Invalid AXCL device id ${devid}, find total ${SIM_CARD_COUNT} device.`);
      log.e('Init:905', `axcl_Init(${devid}) failed`);
      return undefined;
    }
    log.i('run:30', `AXCLWorker start with devid ${devid}`);
  }
  const n = cfg.axmodelNum;
  const bar = new Progress(log, n + 3);
  if (!SUPPORTED_TOKENIZERS.includes(cfg.tokenizerType.toLowerCase())) {
    log.e('Init:921', `create_tokenizer(${cfg.tokenizerType}) failed`);
    return undefined;
  }
  log.i('Init:925', 'tokenizer_type = 1');
  const tokenizer = await loadTokenizer(cfg.urlTokenizerModel);
  if (!tokenizer) {
    log.e('Init:930', `tokenizer.init(${cfg.urlTokenizerModel}) failed`);
    return undefined;
  }
  bar.update('tokenizer init ok');

  const guard = knobs.memGuard !== undefined && cfg.memGuardEnable;
  // Preflight: clearly too small. Mid-load: the file sizes fit, but the measured per-layer growth would not.
  const freeAtStart = !guard ? CMM_TOTAL_MB : knobs.memGuard === 'preflight' ? CMM_TIGHT_MB : Math.round(MODEL_CMM_MB * 0.75);
  if (guard && knobs.memGuard === 'preflight' && memGuardRefuses('decoder layers + post', MODEL_CMM_MB, freeAtStart, cfg, log)) return undefined;

  const perLayer = MODEL_CMM_MB / Math.max(1, n + 1);
  const remainAt = (loaded: number): number => Math.round(freeAtStart - perLayer * loaded);
  const layerMs = (sim.loadMs * 0.9) / Math.max(1, n);
  const middle = Math.floor(n / 2);
  const devOf = (i: number): number => devices[Math.min(devices.length - 1, Math.floor((i * devices.length) / Math.max(1, n)))] ?? 0;
  for (let i = 0; i < n; i++) {
    if (i === middle) {
      if (sim.hang === 'load') await hangForever();
      if (sim.deadCard === 'load') {
        printDeadCard(log.out);
        await hangForever();
      }
      await sleep(sim.loadStallMs);
      if (guard && knobs.memGuard === 'midload' && cfg.memGuardOnUnsafe !== 'warn') {
        log.e('Init:1001', `mem-guard aborted mid-load: layer ${i} (remain ${remainAt(i)} MB)`);
        return undefined;
      }
    }
    await sleep(layerMs);
    const file = layerPath(cfg.templateFilenameAxmodel, i);
    // The AXCL bar says "ok" even for a layer that failed; the failure is logged afterwards.
    bar.update(`init ${i} axmodel ok,devid(${devOf(i)}) remain_cmm(${remainAt(i + 1)} MB)`);
    if ((sim.initFail === 'axmodel' && i === middle) || !existsSync(file)) {
      log.e('Init:1010', `init axmodel(${file}) failed`);
      return undefined;
    }
  }
  await sleep(sim.loadMs * 0.05);
  if (sim.initFail === 'post' || !existsSync(cfg.filenamePostAxmodel)) {
    log.e('Init:1030', `init post axmodel(${cfg.filenamePostAxmodel}) failed`);
    return undefined;
  }
  const remain = remainAt(n + 1);
  bar.update(`init post axmodel ok,remain_cmm(${remain} MB)`);

  const groups = prefillGroups(sim.prefillMax).slice(1);
  log.i('Init:1052', `max_token_len : ${sim.maxTokenLen}`);
  log.i('Init:1055', `kv_cache_size : 1024, kv_cache_num: ${sim.maxTokenLen}`);
  log.i('Init:1060', `prefill_token_num : ${PREFILL_TOKEN_NUM}`);
  log.i('Init:1066', `decode grp: 0, gid: 0, max_token_len : ${sim.maxTokenLen}`);
  groups.forEach((g, i) => log.i('Init:1072', `prefill grp: ${i + 1}, gid: ${i + 1}, history_cap: ${g - PREFILL_TOKEN_NUM}, total_cap: ${g}, symbolic_cap: ${g}`));
  log.i('Init:1078', `prefill_max_token_num : ${sim.prefillMax}`);

  if (cfg.useMmapLoadEmbed) log.i('LLaMaEmbedSelector:45', 'LLaMaEmbedSelector use mmap');
  await sleep(sim.loadMs * 0.05);
  if (sim.initFail === 'embed' || !existsSync(cfg.filenameTokensEmbed)) {
    log.e('Init:1090', `embed_selector.Init(${cfg.filenameTokensEmbed}, ${cfg.tokensEmbedNum}, ${cfg.tokensEmbedSize}) failed`);
    return undefined;
  }
  bar.update('embed_selector init ok');
  bar.finish();
  const vision = cfg.vlmType !== 'None' && cfg.vlmType !== '';
  if (vision && !existsSync(cfg.filenameImageEncoderAxmodel)) {
    log.e('Init:1110', `vision.Init(vlm_type=${cfg.vlmType}) failed: init image encoder axmodel(${cfg.filenameImageEncoderAxmodel}) failed`);
    return undefined;
  }
  logPostConfig(cfg, log);
  log.i('Init:1140', 'LLM init ok');
  return { tokenizer, maxTokenLen: sim.maxTokenLen, prefillMaxTokenNum: sim.prefillMax, vision, remainCmmMb: remain };
}
