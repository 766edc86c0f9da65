/**
 * What a Runtime needs to know, with the defaults of the vendor Qwen3-4B AXCL set-up
 * (reference §1.2–§1.3), and the translation into the runtime binary's command line.
 */
import path from 'node:path';
import os from 'node:os';

import type { RuntimeKind } from '../client/runtime-client';

export type TokenizerMode = 'builtin' | 'vendor' | 'external';

export interface RestartConfig {
  baseMs: number;
  maxMs: number;
  maxCrashes: number;
  windowMs: number;
}

export interface RuntimeConfig {
  /** Which runtime serves the folder: the 2025 `main_api_*` (G1) or `axllm serve`. Decided once from the folder. */
  kind: RuntimeKind;
  /** The vendor model folder (the binary's working directory). */
  modelDir: string;
  /** Runtime binary, relative to modelDir or absolute. Empty: found in the folder. */
  binary: string;
  /** Runtime flags without the leading `--` (values from the run script, overridden by the user). */
  flags: Record<string, string>;
  /** `--devices`: 0-based card indices, e.g. "0" or "0,1". */
  devices: string;
  systemPrompt: string;
  tokenizerMode: TokenizerMode;
  tokenizerHost: string;
  tokenizerPort: number;
  /** For tokenizerMode 'external': the service's URL. */
  tokenizerUrl: string;
  /** For tokenizerMode 'vendor': the script in the model folder and the Python to run it. */
  tokenizerScript: string;
  python: string;
  /** Run the bundled simulator instead of the binary (no card needed). */
  simulator: boolean;
  /** Extra environment for the simulator (its knobs, AX650_SIM_*). */
  simulatorEnv: Record<string, string>;
  /** The runtime's HTTP port. The vendor binary always uses 8000; only the simulator can move. */
  runtimePort: number;
  /** Fail a load that prints nothing and makes no progress for this long. */
  loadStallMs: number;
  queueLimit: number;
  restart: RestartConfig;
  /** Where the pid files that find orphans after a killed Node-RED live. */
  stateDir: string;
  /** Run the binary under `stdbuf -oL` where available (its stdout is block-buffered on a pipe). */
  lineBuffered: boolean;
  /** Model name shown to API clients. */
  modelName: string;
  /** Sampling applied when a job does not set it (sent on every request, reference §1.6). */
  sampling: { temperature: number; topK: number; topP: number; repetitionPenalty: number };
  /** Delays the runtime never exceeds between polls while it generates. */
  pollIntervalMs: number;
  /** Polls with no progress after which a generating runtime is declared wedged. */
  wedgeMs: number;
  /**
   * axllm: how long a stopped reply may keep the engine busy (it generates on after a stop, to EOS or
   * max_tokens) before the runtime is restarted instead of waited for.
   */
  stopDrainMs: number;
  /** axllm: max_tokens sent when a prompt sets none (bounds the work a stop leaves behind). */
  maxReplyTokens: number;
  /**
   * How long a stop (timeout, abort, max_tokens) may take before the runtime is declared wedged, ended
   * (SIGINT, then SIGTERM and SIGKILL to its group) and restarted. Above the longest prefill, which
   * cannot be stopped (2048 tokens ≈ 21 s on a Pi 5).
   */
  stopBoundMs: number;
}

export const DEFAULT_SYSTEM_PROMPT = 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.';

/** The flags of the vendor's Qwen3-4B run script (reference §1.3), used when the folder has no run script. */
export const QWEN3_4B_FLAGS: Readonly<Record<string, string>> = {
  template_filename_axmodel: 'qwen3-4b-ax650/qwen3_p128_l%d_together.axmodel',
  axmodel_num: '36',
  filename_post_axmodel: 'qwen3-4b-ax650/qwen3_post.axmodel',
  filename_tokens_embed: 'qwen3-4b-ax650/model.embed_tokens.weight.bfloat16.bin',
  tokens_embed_num: '151936',
  tokens_embed_size: '2560',
  use_mmap_load_embed: '1',
};

export function defaultConfig(overrides: Partial<RuntimeConfig> & { modelDir: string }): RuntimeConfig {
  return {
    kind: 'main-api',
    binary: '',
    flags: { ...QWEN3_4B_FLAGS },
    devices: '0',
    systemPrompt: DEFAULT_SYSTEM_PROMPT,
    tokenizerMode: 'builtin',
    tokenizerHost: '127.0.0.1',
    tokenizerPort: 12345,
    tokenizerUrl: '',
    tokenizerScript: 'qwen3_tokenizer_uid.py',
    python: 'python3',
    simulator: false,
    simulatorEnv: {},
    runtimePort: 8000,
    loadStallMs: 60_000,
    queueLimit: 32,
    restart: { baseMs: 1_000, maxMs: 30_000, maxCrashes: 5, windowMs: 120_000 },
    stateDir: os.tmpdir(),
    lineBuffered: true,
    modelName: 'qwen3-ax650',
    sampling: { temperature: 0.7, topK: 20, topP: 0.8, repetitionPenalty: 1.05 },
    pollIntervalMs: 50,
    wedgeMs: 120_000,
    stopDrainMs: 60_000,
    maxReplyTokens: 1024,
    stopBoundMs: 30_000,
    ...overrides,
  };
}

/** The argument list of the runtime binary, in the vendor script's order. */
export function runtimeArgs(cfg: RuntimeConfig, tokenizerUrl: string): string[] {
  const flags: Record<string, string> = {
    system_prompt: cfg.systemPrompt,
    ...cfg.flags,
    url_tokenizer_model: tokenizerUrl,
    devices: cfg.devices,
  };
  return Object.entries(flags).flatMap(([k, v]) => [`--${k}`, v]);
}

export function pidFilePath(cfg: RuntimeConfig, which: 'runtime' | 'tokenizer'): string {
  const port = which === 'runtime' ? cfg.runtimePort : cfg.tokenizerPort;
  return path.join(cfg.stateDir, `ax650-${which}-${port}.pid`);
}
