/**
 * The package's own token counter for an axllm folder (usage is always zero there, and trimming a
 * transcript to the context needs counts): the tokenizer file config.json names when it is a Hugging
 * Face tokenizer.json, else a tokenizer.json in the folder, else axllm's own export
 * (`qwen3_tokenizer.txt`) rebuilt as one (lib/tokenizer/axllm-txt.ts). The runtime renders its own chat
 * template; the counter uses the Qwen template of lib/tokenizer/chat-template.ts.
 */
import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Ax650Error } from '../errors';
import { configPath, readAxllmConfig } from '../runtime/axllm-config';
import { tokenizerJsonFromAxllmTxt } from './axllm-txt';
import { loadChatTemplate } from './chat-template';
import { buildQwenTokenizer, readJson, readText, type QwenTokenizer } from './qwen-tokenizer';

const exists = (p: string) => access(p).then(() => true, () => false);

export interface AxllmTokenizerSource {
  file: string;
  /** tokenizer.json text (read, or rebuilt from axllm's export). */
  text: string;
}

/** Where the counter reads from; null when the folder has nothing the package can read. */
export async function axllmTokenizerSource(modelDir: string): Promise<AxllmTokenizerSource | null> {
  const cfg = await readAxllmConfig(modelDir);
  const named = configPath(modelDir, cfg.tokenizerFile);
  const candidates = [named.endsWith('.json') ? named : null, path.join(modelDir, 'tokenizer.json'), path.join(path.dirname(named), 'tokenizer.json')];
  for (const c of candidates) if (c && (await exists(c))) return { file: c, text: await readText(c) };
  const exported = await readFile(named, 'utf8').catch(() => null);
  const text = exported === null ? null : tokenizerJsonFromAxllmTxt(exported);
  return text === null ? null : { file: named, text };
}

export async function loadAxllmTokenizer(modelDir: string): Promise<QwenTokenizer> {
  const source = await axllmTokenizerSource(modelDir);
  if (!source) {
    throw new Ax650Error(
      'MODEL_FILES_MISSING',
      `No tokenizer the package can read in ${modelDir}: it counts tokens itself (axllm reports none) from the model's Hugging Face tokenizer.json or a Qwen qwen3_tokenizer.txt. Copy tokenizer.json (and tokenizer_config.json) of the original model (e.g. Qwen/Qwen3-1.7B) into the folder.`,
      { params: { file: path.join(modelDir, 'tokenizer.json') } },
    );
  }
  const configFile = path.join(path.dirname(source.file), 'tokenizer_config.json');
  const [config, template] = await Promise.all([
    (await exists(configFile)) ? readJson(configFile) : Promise.resolve({ eos_token: '<|im_end|>' }),
    loadChatTemplate(modelDir),
  ]);
  return buildQwenTokenizer(source.file, source.text, config, template.template);
}
