import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadQwenTokenizer, type QwenTokenizer } from '../../lib/tokenizer/qwen-tokenizer';
import { makeTokenizerModelDir } from '../helpers/tokenizer-dir';
import { generated, LISTED } from './corpus';
import { loadReferenceTokenizer, type ReferenceTokenizer } from './support';

describe('Qwen3 ids agree with an independent implementation (@lenml/tokenizers)', () => {
  let ours: QwenTokenizer;
  let ref: ReferenceTokenizer;
  let cleanup: () => Promise<void>;
  const corpus = [...LISTED, ...generated(220)];

  before(async () => {
    const model = await makeTokenizerModelDir();
    cleanup = model.cleanup;
    ours = await loadQwenTokenizer(model.dir);
    ref = loadReferenceTokenizer();
  });
  after(() => cleanup());

  it(`encodes all ${corpus.length} strings to the same ids`, () => {
    assert.ok(corpus.length >= 200);
    const mismatches = corpus.filter((s) => JSON.stringify(ours.encode(s)) !== JSON.stringify(ref.encode(s)));
    assert.deepEqual(mismatches, []);
  });

  it('decodes the ids back to the (NFC-normalised) text, like the reference', () => {
    const wrong = corpus.filter((s) => {
      const idsOf = ref.encode(s);
      return ours.decode(idsOf) !== s.normalize('NFC') || ours.decode(idsOf) !== ref.decode(idsOf);
    });
    assert.deepEqual(wrong, []);
  });

  it('covers every kind of input it claims to', () => {
    const multiToken = corpus.filter((s) => [...s].some((ch) => /\p{Extended_Pictographic}/u.test(ch) && ref.encode(ch).length > 1));
    assert.ok(multiToken.length > 10, 'emoji split across byte tokens');
    assert.ok(corpus.filter((s) => ref.encode(s).includes(151644)).length > 10, 'special tokens recognised in text');
    assert.ok(corpus.filter((s) => /\s{3,}/.test(s)).length > 10, 'whitespace runs');
    assert.ok(corpus.filter((s) => /\p{Script=Han}/u.test(s)).length > 20, 'CJK');
  });
});
