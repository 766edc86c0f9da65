/**
 * `<model_dir>/config.json` as axllm's ModelConfig::load_from_json reads it [M, cfg]: the required keys
 * one by one in a fixed order, values converted like nlohmann `get<T>()`. Any failure is logged and is
 * NOT fatal: what was parsed so far stays, the rest keeps its defaults, and main goes on ("Using default
 * configuration"), usually to fail later in LLM.Init on the empty paths.
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { getNumber, getString, isObject, JsonTypeError, toInt, typeName, type Json } from '../json-compat';
import type { AxLogger } from './logger';

export type ThinkingMode = 'default' | 'think' | 'no_think';

export interface AxllmConfig {
  modelName: string;
  templateFilenameAxmodel: string;
  filenamePostAxmodel: string;
  urlTokenizerModel: string;
  tokenizerType: string;
  filenameTokensEmbed: string;
  axmodelNum: number;
  tokensEmbedNum: number;
  tokensEmbedSize: number;
  postConfigPath: string;
  port: number;
  serverTimeoutMs: number;
  serverDefaultMaxTokens: number;
  serverMaxOutputTokens: number;
  devices: number[];
  systemPrompt: string;
  thinking: ThinkingMode;
  vlmType: string;
  filenameImageEncoderAxmodel: string;
  useMmapLoadEmbed: boolean;
  memGuardEnable: boolean;
  memGuardFloorMb: number;
  memGuardOnUnsafe: string;
  kvCacheSlots: number;
}

export const DEFAULT_MODEL_NAME = 'AXERA-TECH/Qwen3-1.7B';

export function defaultConfig(): AxllmConfig {
  return {
    modelName: DEFAULT_MODEL_NAME,
    templateFilenameAxmodel: '',
    filenamePostAxmodel: '',
    urlTokenizerModel: '',
    tokenizerType: '',
    filenameTokensEmbed: '',
    axmodelNum: 0,
    tokensEmbedNum: 0,
    tokensEmbedSize: 0,
    postConfigPath: '',
    port: 8000,
    serverTimeoutMs: 300000,
    serverDefaultMaxTokens: 0,
    serverMaxOutputTokens: 0,
    devices: [0],
    systemPrompt: '',
    thinking: 'default',
    vlmType: 'None',
    filenameImageEncoderAxmodel: '',
    useMmapLoadEmbed: false,
    memGuardEnable: true,
    memGuardFloorMb: 128,
    memGuardOnUnsafe: 'prompt',
    kvCacheSlots: 1,
  };
}

class MissingKey extends Error {}

/** json_thinking_mode_value: enable_thinking (bool) wins over thinking_mode (string). */
export function thinkingFrom(obj: { [key: string]: Json }): ThinkingMode | undefined {
  const enable = obj['enable_thinking'];
  if (typeof enable === 'boolean') return enable ? 'think' : 'no_think';
  const mode = obj['thinking_mode'];
  if (typeof mode !== 'string') return undefined;
  const m = mode.toLowerCase();
  if (['default', 'unspecified', 'auto'].includes(m)) return 'default';
  if (['think', 'thinking', 'enable_thinking'].includes(m)) return 'think';
  if (['no_think', 'nothink', 'non_thinking', 'disable_thinking'].includes(m)) return 'no_think';
  return undefined;
}

function boolish(value: Json | undefined, fallback: boolean): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number' && Number.isInteger(value)) return value !== 0;
  return fallback;
}

function readInto(cfg: AxllmConfig, j: { [key: string]: Json }): void {
  const need = (key: string): Json => {
    if (!Object.prototype.hasOwnProperty.call(j, key)) throw new MissingKey(key);
    return j[key] as Json;
  };
  const str = (key: string): string => getString(need(key));
  const int = (key: string): number => toInt(getNumber(need(key)));
  cfg.templateFilenameAxmodel = str('template_filename_axmodel');
  cfg.filenamePostAxmodel = str('filename_post_axmodel');
  cfg.urlTokenizerModel = str('url_tokenizer_model');
  cfg.tokenizerType = str('tokenizer_type');
  cfg.thinking = thinkingFrom(j) ?? cfg.thinking;
  cfg.filenameTokensEmbed = str('filename_tokens_embed');
  cfg.postConfigPath = 'post_config_path' in j ? getString(j['post_config_path']) : 'post_config.json';
  cfg.axmodelNum = int('axmodel_num');
  cfg.kvCacheSlots = Math.max(1, typeof j['kv_cache_slots'] === 'number' ? toInt(j['kv_cache_slots']) : 1);
  cfg.tokensEmbedNum = int('tokens_embed_num');
  cfg.tokensEmbedSize = int('tokens_embed_size');
  const opt = (key: string): Json | undefined => j[key];
  if (opt('port') !== undefined) cfg.port = toInt(getNumber(opt('port')));
  if (opt('server_timeout_ms') !== undefined) cfg.serverTimeoutMs = toInt(getNumber(opt('server_timeout_ms')));
  if (opt('server_default_max_tokens') !== undefined) cfg.serverDefaultMaxTokens = toInt(getNumber(opt('server_default_max_tokens')));
  if (opt('server_max_output_tokens') !== undefined) cfg.serverMaxOutputTokens = toInt(getNumber(opt('server_max_output_tokens')));
  if (opt('system_prompt') !== undefined) cfg.systemPrompt = getString(opt('system_prompt'));
  const devices = opt('devices');
  if (Array.isArray(devices)) cfg.devices = devices.map((d) => toInt(getNumber(d)));
  const vlm = opt('vlm_type') ?? opt('VLM_TYPE');
  if (vlm !== undefined) cfg.vlmType = getString(vlm);
  if (opt('filename_image_encoder_axmodel') !== undefined) cfg.filenameImageEncoderAxmodel = getString(opt('filename_image_encoder_axmodel'));
  cfg.useMmapLoadEmbed = boolish(opt('use_mmap_load_embed') ?? opt('b_use_mmap_load_embed'), false);
  cfg.memGuardEnable = boolish(opt('mem_guard_enable'), true);
  if (typeof opt('mem_guard_floor_mb') === 'number') cfg.memGuardFloorMb = toInt(getNumber(opt('mem_guard_floor_mb')));
  if (typeof opt('mem_guard_on_unsafe') === 'string') cfg.memGuardOnUnsafe = getString(opt('mem_guard_on_unsafe'));
  cfg.modelName = str('model_name');
}

/** nlohmann's parse error text, close enough to be recognised. */
function parseErrorText(e: unknown): string {
  return `[json.exception.parse_error.101] parse error: ${e instanceof Error ? e.message : String(e)}`;
}

/** Returns true when the whole config was read; logs like load_from_json on every failure. */
export function loadConfig(configPath: string, cfg: AxllmConfig, log: AxLogger): boolean {
  if (!existsSync(configPath)) {
    log.e('load_from_json:318', `Config file not found: ${configPath}`);
    return false;
  }
  let j: Json;
  try {
    j = JSON.parse(readFileSync(configPath, 'utf8')) as Json;
  } catch (e) {
    log.e('load_from_json:612', `Failed to parse config file: ${parseErrorText(e)}`);
    return false;
  }
  try {
    if (!isObject(j)) throw new JsonTypeError(305, `cannot use operator[] with a string argument with ${typeName(j)}`);
    readInto(cfg, j);
    return true;
  } catch (e) {
    if (e instanceof MissingKey) log.e('load_from_json:339', `Key not found: ${e.message}`);
    else log.e('load_from_json:612', `Failed to parse config file: ${e instanceof Error ? e.message : String(e)}`);
    return false;
  }
}

/** resolve_path: relative to the model dir, except `./…`, which is relative to the CWD. */
export function resolvePath(modelDir: string, p: string): string {
  if (p === '' || path.isAbsolute(p)) return p;
  if (p.startsWith('./')) return path.resolve(process.cwd(), p);
  return path.join(modelDir, p);
}

export function resolveConfigPaths(cfg: AxllmConfig, modelDir: string): void {
  cfg.templateFilenameAxmodel = resolvePath(modelDir, cfg.templateFilenameAxmodel);
  cfg.filenamePostAxmodel = resolvePath(modelDir, cfg.filenamePostAxmodel);
  cfg.urlTokenizerModel = resolvePath(modelDir, cfg.urlTokenizerModel);
  cfg.filenameTokensEmbed = resolvePath(modelDir, cfg.filenameTokensEmbed);
  cfg.postConfigPath = resolvePath(modelDir, cfg.postConfigPath);
  cfg.filenameImageEncoderAxmodel = resolvePath(modelDir, cfg.filenameImageEncoderAxmodel);
}
