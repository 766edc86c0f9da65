/**
 * `LLM::Init` of the AXCL ctx runtime as it prints on a Pi 5 (Qwen3-4B README log): tokenizer
 * connect/uid/reset, embed table, per-layer axmodel loads on the `\r` progress bar
 * (total = axmodel_num + 3), post model, context limits, the remain-CMM table, post_config.json.
 * Files named by the flags are opened relative to the working directory, like the binary does.
 */
import { existsSync, readFileSync } from 'node:fs';
import { ANSI, Cqdm, type Logger } from './alog';
import type { RuntimeArgs } from './cmdline';
import type { SimConfig } from './env';
import { hangForever, printDeadCard } from './faults';
import { dump, type Json } from './json-compat';
import { prefillGroups, PREFILL_TOKEN_NUM } from './kv-cache';
import { applyPostConfig, defaultPostProcess, type PostProcessState } from './sampling';
import type { StdioBuffer } from './stdout';
import { TokenizerClient } from './tokenizer-client';

export const SIM_CARD_COUNT = 1;
const CMM_TOTAL_MB = 7040;
const CMM_AFTER_LOAD_MB = 691;

export interface LoadedModel {
  tokenizer: TokenizerClient;
  sampling: PostProcessState;
}

const sleep = (ms: number): Promise<void> => (ms > 0 ? new Promise((r) => setTimeout(r, ms)) : Promise.resolve());

/** sprintf(template, i) for the one `%d` the template carries. */
export function layerPath(template: string, index: number): string {
  return template.replace(/%%|%d/g, (m, offset: number) => (m === '%%' ? '%' : template.indexOf('%d') === offset ? String(index) : m));
}

function loadPostConfig(log: Logger): PostProcessState {
  const state = defaultPostProcess();
  let config: Json | undefined;
  try {
    config = JSON.parse(readFileSync('post_config.json', 'utf8')) as Json;
  } catch {
    log.w('Init', 274, 'load postprocess config(post_config.json) failed');
    return state;
  }
  applyPostConfig(state, config);
  log.i('load_config', 282, `load config: \n${dump(config, 4)}\n`);
  return state;
}

export async function initLlm(args: RuntimeArgs, devices: number[], cfg: SimConfig, log: Logger, out: StdioBuffer): Promise<LoadedModel | undefined> {
  log.i('Init', 136, 'LLM init start');
  const bar = new Cqdm(out, args.axmodelNum + 3);
  const tokenizer = new TokenizerClient(args.urlTokenizerModel, log);
  if (!(await tokenizer.init())) {
    log.e('Init', 140, `tokenizer.Init(${args.urlTokenizerModel}) failed`);
    return undefined;
  }
  await tokenizer.reset(args.systemPrompt);
  bar.update(0, 'count', 'tokenizer init ok');

  if (args.useMmapLoadEmbed) log.i('Init', 45, 'LLaMaEmbedSelector use mmap');
  await sleep(cfg.loadMs * 0.02);
  if (cfg.initFail === 'embed' || !existsSync(args.filenameTokensEmbed)) {
    log.e('Init', 150, `embed_selector.Init(${args.filenameTokensEmbed}, ${args.tokensEmbedNum}, ${args.tokensEmbedSize}) failed`);
    return undefined;
  }
  bar.update(1, 'count', 'embed_selector init ok');
  log.raw('\n');

  for (const devid of devices) {
    if (devid < 0 || devid >= SIM_CARD_COUNT) {
      log.e('init', 386, `Invalid AXCL device id ${devid}, find total ${SIM_CARD_COUNT} device.`);
      log.e('Init', 160, `axcl_Init(${devid}) failed`);
      return undefined;
    }
    log.i('run', 30, `AXCLWorker start with devid ${devid}`);
  }

  const n = args.axmodelNum;
  const layerMs = (cfg.loadMs * 0.95) / Math.max(1, n);
  const middle = Math.floor(n / 2);
  const devOf = (i: number): number => devices[Math.min(devices.length - 1, Math.floor((i * devices.length) / Math.max(1, n)))] ?? 0;
  const remainAt = (loaded: number): number => Math.round(CMM_TOTAL_MB - ((CMM_TOTAL_MB - CMM_AFTER_LOAD_MB) * loaded) / (n + 1));
  for (let i = 0; i < n; i++) {
    if (i === middle) {
      if (cfg.hang === 'load') await hangForever();
      if (cfg.deadCard === 'load') {
        printDeadCard(out);
        await hangForever();
      }
      await sleep(cfg.loadStallMs);
    }
    const path = layerPath(args.templateFilenameAxmodel, i);
    await sleep(layerMs);
    if ((cfg.initFail === 'axmodel' && i === middle) || !existsSync(path)) {
      log.e('Init', 190, `init axmodel(${path}) failed`);
      return undefined;
    }
    bar.update(i + 2, 'count', `init ${i} axmodel ok,devid(${devOf(i)}) remain_cmm(${remainAt(i + 1)} MB)`);
  }

  await sleep(cfg.loadMs * 0.03);
  if (cfg.initFail === 'post' || !existsSync(args.filenamePostAxmodel)) {
    log.e('Init', 200, `init post axmodel(${args.filenamePostAxmodel}) failed`);
    return undefined;
  }
  bar.update(n + 2, 'count', `init post axmodel ok,remain_cmm(${remainAt(n + 1)} MB)`);
  log.raw('\n');

  const groups = prefillGroups(cfg.prefillMax);
  log.i('Init', 237, `max_token_len : ${cfg.maxTokenLen}`);
  log.i('Init', 240, `kv_cache_size : 1024, kv_cache_num: ${cfg.maxTokenLen}`);
  log.i('Init', 248, `prefill_token_num : ${PREFILL_TOKEN_NUM}`);
  groups.forEach((g, i) => log.i('Init', 252, `grp: ${i + 1}, prefill_max_token_num : ${g}`));
  log.i('Init', 256, `prefill_max_token_num : ${cfg.prefillMax}`);
  let table = `${ANSI.purple}________________________\n|${'ID'.padStart(6)}|${'remain cmm(MB)'.padStart(15)}|\n========================\n`;
  for (const devid of devices) table += `|${String(devid).padStart(6)}|${String(CMM_AFTER_LOAD_MB).padStart(15)}|\n`;
  log.raw(`${table}¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯\n${ANSI.end}`);
  const sampling = loadPostConfig(log);
  log.i('Init', 279, 'LLM init ok');
  return { tokenizer, sampling };
}
