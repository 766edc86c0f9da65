/**
 * A freshly downloaded axllm folder may carry only axllm's own tokenizer export (`qwen3_tokenizer.txt`,
 * the vendor's convert_tokenizer.py, type 3): the package rebuilds a tokenizer from it and counts exactly
 * what the Hugging Face tokenizer.json counts. The export is written here the way the vendor script
 * writes it (b64: only for tokens with whitespace).
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { loadAxllmTokenizer } from '../../lib/tokenizer/axllm-tokenizer';
import { tokenizerJsonFromAxllmTxt } from '../../lib/tokenizer/axllm-txt';
import { createAxllmSimModelDir } from '../../simulator/axllm/model-dir';

interface HfJson {
  model: { vocab: Record<string, number>; merges: Array<[string, string] | string> };
  added_tokens: Array<{ id: number; content: string }>;
}

function exportTxt(json: HfJson): string {
  const vocab: string[] = [];
  for (const [t, id] of Object.entries(json.model.vocab)) vocab[id] = t;
  for (const a of json.added_tokens) vocab[a.id] = a.content;
  const b64 = (t: string) => `b64:${Buffer.from(t, 'utf8').toString('base64')}`;
  const bad = (t: string) => /[\n\r]/.test(t) || t.startsWith('b64:') || t === '';
  const specials = json.added_tokens.map((a) => a.id);
  const lines = ['430 3', `${specials.length} 1 0`, `${specials.join(' ')} 151645 `, `${vocab.length} ${json.model.merges.length} 1`];
  for (const t of vocab) lines.push(bad(t ?? '') ? b64(t ?? '') : (t ?? '<unk>'));
  for (const m of json.model.merges) {
    const [l, r] = typeof m === 'string' ? (m.split(' ') as [string, string]) : m;
    lines.push(bad(l) || bad(r) || /[ \t]/.test(l + r) ? `${b64(l)} ${b64(r)}` : `${l} ${r}`);
  }
  return `${lines.join('\n')}\n`;
}

const SAMPLES = ['Hello, robot! Move 3 steps left.', '你好，世界！机器人向前走两步。', 'tabs\tand\nnewlines\r\n  spaced   out', 'emoji 🤖🦾 and <|im_start|>user\nhi<|im_end|>', 'café naïve ﬁ'];

test('a folder with only qwen3_tokenizer.txt counts exactly like its tokenizer.json', async () => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'ax650-tok-txt-'));
  try {
    const withJson = path.join(root, 'json');
    const withTxt = path.join(root, 'txt');
    await createAxllmSimModelDir(withJson, { axmodelNum: 1 });
    await createAxllmSimModelDir(withTxt, { axmodelNum: 1, config: { url_tokenizer_model: 'qwen3_tokenizer.txt' } });
    const json = JSON.parse(await readFile(path.join(withJson, 'qwen3_tokenizer/tokenizer.json'), 'utf8')) as HfJson;
    await writeFile(path.join(withTxt, 'qwen3_tokenizer.txt'), exportTxt(json));
    await rm(path.join(withTxt, 'qwen3_tokenizer'), { recursive: true });
    const [a, b] = await Promise.all([loadAxllmTokenizer(withJson), loadAxllmTokenizer(withTxt)]);
    for (const s of SAMPLES) {
      assert.deepEqual(b.encode(s), a.encode(s), s);
      assert.equal(b.decode(b.encode(s)), s);
    }
    assert.equal(b.eosId, a.eosId);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

test('an export of another type or pre-tokenizer family is not guessed at', () => {
  assert.equal(tokenizerJsonFromAxllmTxt('430 1\n0 0 0\n\n3\nYQ==\n'), null);
  assert.equal(tokenizerJsonFromAxllmTxt('430 3\n0 0 0\n\n2 0 4\na\nb\n'), null);
  assert.equal(tokenizerJsonFromAxllmTxt('not a tokenizer'), null);
});
