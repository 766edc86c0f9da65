/**
 * What differs between the runtime kinds inside the Runtime, in one place: whether a tokenizer
 * service starts first, which client talks to the runtime, and where the package's own token
 * counter comes from. The launch command itself comes from the injected launcher (lib/runtime/launcher.ts).
 */
import { AxllmClient } from '../client/axllm-client';
import { G1RuntimeClient } from '../client/g1-runtime-client';
import type { RuntimeClient, RuntimeKind } from '../client/runtime-client';
import { loadAxllmTokenizer } from '../tokenizer/axllm-tokenizer';
import { loadQwenTokenizer, type QwenTokenizer } from '../tokenizer/qwen-tokenizer';
import type { RuntimeConfig } from './config';
import type { RuntimeLogParser } from './log-parser';

export interface KindRecipe {
  kind: RuntimeKind;
  /** The G1 runtime needs the tokenizer service running before it starts; axllm has its tokenizer inside. */
  tokenizerService: boolean;
  createClient(cfg: RuntimeConfig, log: RuntimeLogParser): RuntimeClient;
  /** The model's tokenizer for the package's own counting, trimming and max_tokens. */
  loadTokenizer(cfg: RuntimeConfig): Promise<QwenTokenizer>;
}

const G1: KindRecipe = {
  kind: 'main-api',
  tokenizerService: true,
  createClient: (cfg) => new G1RuntimeClient({ baseUrl: `http://127.0.0.1:${cfg.runtimePort}`, pollIntervalMs: cfg.pollIntervalMs }),
  loadTokenizer: (cfg) => loadQwenTokenizer(cfg.modelDir),
};

const AXLLM: KindRecipe = {
  kind: 'axllm',
  tokenizerService: false,
  createClient: (cfg, log) => new AxllmClient({ baseUrl: `http://127.0.0.1:${cfg.runtimePort}`, log }),
  loadTokenizer: (cfg) => loadAxllmTokenizer(cfg.modelDir),
};

export function recipeFor(kind: RuntimeKind): KindRecipe {
  return kind === 'axllm' ? AXLLM : G1;
}
