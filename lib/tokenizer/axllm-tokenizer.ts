/**
 * The package's own token counter for an axllm folder (usage is always zero there, and trimming a
 * transcript to the context needs counts): the tokenizer file config.json names, when it is a
 * Hugging Face tokenizer.json, else a tokenizer.json in the folder. The runtime renders its own chat
 * template; the counter uses the Qwen template of lib/tokenizer/chat-template.ts.
 */
import { access } from 'node:fs/promises';
import path from 'node:path';
import { Ax650Error } from '../errors';
import { configPath, readAxllmConfig } from '../runtime/axllm-config';
import { loadChatTemplate } from './chat-template';
import { buildQwenTokenizer, readJson, readText, type QwenTokenizer } from './qwen-tokenizer';

const exists = (p: string) => access(p).then(() => true, () => false);

/** Where the counter reads from: config.json's tokenizer file when it is JSON, else a tokenizer.json in the folder. */
export async function axllmTokenizerFile(modelDir: string): Promise<string | null> {
  const cfg = await readAxllmConfig(modelDir);
  const named = configPath(modelDir, cfg.tokenizerFile);
  const candidates = [named.endsWith('.json') ? named : null, path.join(modelDir, 'tokenizer.json'), path.join(path.dirname(named), 'tokenizer.json')];
  for (const c of candidates) if (c && (await exists(c))) return c;
  return null;
}

export async function loadAxllmTokenizer(modelDir: string): Promise<QwenTokenizer> {
  const file = await axllmTokenizerFile(modelDir);
  if (!file) {
    throw new Ax650Error(
      'MODEL_FILES_MISSING',
      `No tokenizer.json in ${modelDir}: the package counts tokens itself (axllm reports none) and reads the model's Hugging Face tokenizer.json. Copy tokenizer.json (and tokenizer_config.json) of the original model (e.g. Qwen/Qwen3-1.7B) into the folder.`,
      { params: { file: path.join(modelDir, 'tokenizer.json') } },
    );
  }
  const configFile = path.join(path.dirname(file), 'tokenizer_config.json');
  const [text, config, source] = await Promise.all([
    readText(file),
    (await exists(configFile)) ? readJson(configFile) : Promise.resolve({ eos_token: '<|im_end|>' }),
    loadChatTemplate(modelDir),
  ]);
  return buildQwenTokenizer(file, text, config, source.template);
}
