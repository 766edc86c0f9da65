/** The real Qwen3 tokenizer, loaded once, to count the tokens a client received. */
import { loadQwenTokenizer, type QwenTokenizer } from '../../lib/tokenizer/qwen-tokenizer';
import { makeTokenizerModelDir } from '../../test/helpers/tokenizer-dir';

let loading: Promise<QwenTokenizer> | undefined;

async function load(): Promise<QwenTokenizer> {
  const model = await makeTokenizerModelDir();
  try {
    return await loadQwenTokenizer(model.dir);
  } finally {
    await model.cleanup();
  }
}

export async function tokenCounter(): Promise<(text: string) => number> {
  loading ??= load();
  const tokenizer = await loading;
  return (text) => tokenizer.encode(text).length;
}
