/**
 * The `config.json` of an axllm model folder (reference axllm-serve-protocol.md §2). axllm does not
 * refuse a bad config: a missing file, bad JSON or a missing key makes it log "Using default
 * configuration" and go on with defaults (another model name, port 8000, empty paths). So the
 * package reads it first and refuses what the runtime would silently replace, with a sentence each.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Ax650Error } from '../errors';

/** Required keys, in the order axllm checks them. */
export const REQUIRED_KEYS = [
  'template_filename_axmodel',
  'filename_post_axmodel',
  'url_tokenizer_model',
  'tokenizer_type',
  'filename_tokens_embed',
  'axmodel_num',
  'tokens_embed_num',
  'tokens_embed_size',
  'model_name',
] as const;

const STRING_KEYS = new Set(['template_filename_axmodel', 'filename_post_axmodel', 'url_tokenizer_model', 'filename_tokens_embed', 'model_name']);
const COUNT_KEYS = new Set(['axmodel_num', 'tokens_embed_num', 'tokens_embed_size']);
/** Optional keys whose wrong type also sends axllm to its defaults. */
const OPTIONAL_TYPES: Readonly<Record<string, 'number' | 'string' | 'boolean' | 'int-array'>> = {
  port: 'number',
  server_timeout_ms: 'number',
  server_default_max_tokens: 'number',
  server_max_output_tokens: 'number',
  system_prompt: 'string',
  post_config_path: 'string',
  vlm_type: 'string',
  filename_image_encoder_axmodel: 'string',
  mem_guard_enable: 'boolean',
  mem_guard_floor_mb: 'number',
  kv_cache_slots: 'number',
  enable_thinking: 'boolean',
  devices: 'int-array',
};

export interface AxllmConfig {
  modelName: string;
  tokenizerType: string;
  /** The raw object, for the file list and the optional keys. */
  raw: Record<string, unknown>;
  /** Model files named by the config, relative to the folder, `%d` expanded. */
  files: string[];
  /** The tokenizer file (a local path; axllm reads no URL). */
  tokenizerFile: string;
  vision: boolean;
}

export const CONFIG_FILE = 'config.json';

/** A folder in the axllm layout: a config.json with the model keys (a Hugging Face config.json has none). */
export async function looksLikeAxllmFolder(dir: string): Promise<boolean> {
  try {
    const raw: unknown = JSON.parse(await readFile(path.join(dir, CONFIG_FILE), 'utf8'));
    return typeof raw === 'object' && raw !== null && 'template_filename_axmodel' in raw;
  } catch {
    return false;
  }
}

function typeOk(v: unknown, t: (typeof OPTIONAL_TYPES)[string]): boolean {
  if (t === 'int-array') return Array.isArray(v) && v.every((x) => Number.isInteger(x) && (x as number) >= 0);
  return typeof v === t;
}

/** Reads and checks config.json; throws CONFIG_INVALID (or MODEL_FILES_MISSING when absent) saying what to fix. */
export async function readAxllmConfig(dir: string): Promise<AxllmConfig> {
  const file = path.join(dir, CONFIG_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    throw new Ax650Error('MODEL_FILES_MISSING', `${file} is missing: axllm needs the config.json of the model folder (download the whole folder again).`, { params: { file } });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new Ax650Error('CONFIG_INVALID', `${file} is not valid JSON (${e instanceof Error ? e.message : String(e)}); axllm would silently use its defaults instead. Fix or re-download it.`, { params: { file } });
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new Ax650Error('CONFIG_INVALID', `${file} must be a JSON object.`, { params: { file } });
  }
  const cfg = raw as Record<string, unknown>;
  const wrong: string[] = [];
  for (const key of REQUIRED_KEYS) {
    const v = cfg[key];
    if (v === undefined) wrong.push(`"${key}" is missing`);
    else if (STRING_KEYS.has(key) && (typeof v !== 'string' || v === '')) wrong.push(`"${key}" must be a non-empty string`);
    else if (COUNT_KEYS.has(key) && !(Number.isInteger(v) && (v as number) > 0)) wrong.push(`"${key}" must be a positive whole number`);
    else if (key === 'tokenizer_type' && typeof v !== 'string' && typeof v !== 'number') wrong.push('"tokenizer_type" must be a name or a number');
  }
  for (const [key, t] of Object.entries(OPTIONAL_TYPES)) {
    if (cfg[key] !== undefined && !typeOk(cfg[key], t)) wrong.push(`"${key}" must be ${t === 'int-array' ? 'a list of card numbers' : `a ${t}`}`);
  }
  if (typeof cfg['url_tokenizer_model'] === 'string' && /^https?:/.test(cfg['url_tokenizer_model'])) {
    wrong.push('"url_tokenizer_model" is a URL, but axllm reads only a local tokenizer file');
  }
  if (typeof cfg['vlm_type'] === 'string' && typeof cfg['filename_image_encoder_axmodel'] !== 'string') wrong.push('"vlm_type" is set but "filename_image_encoder_axmodel" is missing');
  if (wrong.length > 0) {
    throw new Ax650Error('CONFIG_INVALID', `${file}: ${wrong.join('; ')}. axllm would silently replace these by its defaults; fix the file (or download the folder again).`, {
      params: { file, problems: wrong.length },
    });
  }
  const count = cfg['axmodel_num'] as number;
  const template = cfg['template_filename_axmodel'] as string;
  const files = Array.from({ length: count }, (_, i) => template.replace(/%d/g, String(i)));
  files.push(cfg['filename_post_axmodel'] as string, cfg['filename_tokens_embed'] as string);
  if (typeof cfg['filename_image_encoder_axmodel'] === 'string') files.push(cfg['filename_image_encoder_axmodel']);
  return {
    modelName: cfg['model_name'] as string,
    tokenizerType: String(cfg['tokenizer_type']),
    raw: cfg,
    files,
    tokenizerFile: cfg['url_tokenizer_model'] as string,
    vision: typeof cfg['vlm_type'] === 'string',
  };
}

/** A path of the config, as axllm resolves it: against the folder (the runtime runs with the folder as CWD, so `./x` too). */
export function configPath(dir: string, p: string): string {
  return path.isAbsolute(p) ? p : path.join(dir, p);
}
