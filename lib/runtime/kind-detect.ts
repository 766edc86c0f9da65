/**
 * Which runtime serves a model folder, decided once (issue 14 item 1): `auto` looks at the folder —
 * a config.json in the axllm layout means `axllm serve`; a `main_api_*` binary or a `run_*api*.sh`
 * script means the 2025 runtime — and says in words when it finds neither.
 */
import { readdir } from 'node:fs/promises';
import { Ax650Error } from '../errors';
import type { RuntimeKind } from '../client/runtime-client';
import { looksLikeAxllmFolder } from './axllm-config';

export type RuntimeKindSetting = 'auto' | RuntimeKind;

export const RUNTIME_KIND_SETTINGS: readonly RuntimeKindSetting[] = ['auto', 'axllm', 'main-api'];

async function hasMainApi(dir: string): Promise<boolean> {
  const names = await readdir(dir).catch(() => [] as string[]);
  // The 2025 Python tokenizer (script or its folder) is the hallmark too: folders often lack the binary for this CPU.
  return names.some((n) => /^main_api_/.test(n) || /^run_.*api.*\.sh$/.test(n) || /axcl_.*api.*\.sh$/.test(n) || /^qwen3_tokenizer(_uid\.py)?$/.test(n));
}

/** What the folder holds: null when it is neither layout (or does not exist). */
export async function detectKind(dir: string): Promise<RuntimeKind | null> {
  if (await looksLikeAxllmFolder(dir)) return 'axllm';
  if (await hasMainApi(dir)) return 'main-api';
  return null;
}

export function parseKindSetting(value: unknown): RuntimeKindSetting {
  if (value === undefined || value === null || value === '') return 'auto';
  if (typeof value === 'string' && (RUNTIME_KIND_SETTINGS as readonly string[]).includes(value)) return value as RuntimeKindSetting;
  throw new Ax650Error('CONFIG_INVALID', `The runtime setting must be "auto", "axllm" or "main-api", got ${JSON.stringify(value)}.`);
}

/**
 * The kind to run. `auto` with a folder of neither layout: the simulator plays axllm (what a folder
 * downloaded today is); on hardware it is an error that says what a folder must hold.
 */
export async function resolveKind(setting: RuntimeKindSetting, dir: string, simulator: boolean): Promise<RuntimeKind> {
  if (setting !== 'auto') return setting;
  const found = dir ? await detectKind(dir) : null;
  if (found) return found;
  if (simulator) return 'axllm';
  throw new Ax650Error(
    'CONFIG_INVALID',
    `${dir || 'No model folder is set'}: neither an axllm model folder (config.json with template_filename_axmodel) nor a 2025 one (main_api_* binary or run_*api*.sh). Point the runtime node at the downloaded model folder, or choose the runtime kind.`,
    { params: { path: dir } },
  );
}
