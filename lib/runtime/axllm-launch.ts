/**
 * The launch recipe of `axllm serve` (reference axllm-serve-protocol.md §1): the vendor installs one
 * binary to /usr/bin/axllm (found on PATH, or the path set in the runtime node), started as
 * `axllm serve <model_dir> --port P` with the folder as working directory (config.json paths starting
 * `./` resolve against the CWD), one card per process through AXLLM_DEVICES.
 */
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import type { RuntimeConfig } from './config';

export const AXLLM_BINARY = 'axllm';
export const AXLLM_DEFAULT_PATH = '/usr/bin/axllm';

/** The configured binary (absolute, or relative to the model folder), else `axllm` on PATH, else /usr/bin/axllm. */
export function axllmBinaryPath(cfg: Pick<RuntimeConfig, 'binary' | 'modelDir'>, envPath: string | undefined = process.env['PATH']): string {
  if (cfg.binary) return path.isAbsolute(cfg.binary) ? cfg.binary : path.join(cfg.modelDir, cfg.binary);
  for (const dir of (envPath ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, AXLLM_BINARY);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return AXLLM_DEFAULT_PATH;
}

export function axllmArgs(cfg: Pick<RuntimeConfig, 'modelDir' | 'runtimePort'>): string[] {
  return ['serve', cfg.modelDir, '--port', String(cfg.runtimePort)];
}

/** AXLLM_DEVICES overrides config.json's `devices`: each runtime node drives its own card(s). No colour codes on the pipe. */
export function axllmEnv(cfg: Pick<RuntimeConfig, 'devices'>): Record<string, string> {
  return { AXLLM_DEVICES: cfg.devices, NO_COLOR: '1' };
}
