import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import { scanBpeJson } from '../../lib/tokenizer/bpe-json-scan';
import { buildHfTokenizer, type BuiltTokenizer, type HfTokenizerClass } from '../../lib/tokenizer/hf-build';
import { QWEN3_TOKENIZER_FILES } from '../helpers/tokenizer-dir';
import { generated, LISTED } from './corpus';

interface HfTokenizerWithModel {
  encode(text: string): { ids: number[] };
  decode(ids: number[]): string;
  token_to_id(token: string): number | undefined;
  model: unknown;
}

interface ModelState {
  vocab: string[];
  tokens_to_ids: Map<string, number>;
  bpe_ranks: Map<string, number>;
  unk_token_id?: number;
}

function modelState(built: BuiltTokenizer): ModelState {
  const model = built.tokenizer.model as Partial<ModelState> | null;
  assert.ok(model && Array.isArray(model.vocab) && model.tokens_to_ids instanceof Map && model.bpe_ranks instanceof Map);
  return model as ModelState;
}

function assertSameMap(actual: Map<string, number>, expected: Map<string, number>, what: string): void {
  assert.equal(actual.size, expected.size, `${what} size`);
  const wrong = [...expected].filter(([k, v]) => actual.get(k) !== v).slice(0, 5);
  assert.deepEqual(wrong, [], `${what} entries that differ`);
}

function assertSameModel(fast: BuiltTokenizer, plain: BuiltTokenizer): void {
  const a = modelState(fast);
  const b = modelState(plain);
  assertSameMap(a.tokens_to_ids, b.tokens_to_ids, 'tokens_to_ids');
  assertSameMap(a.bpe_ranks, b.bpe_ranks, 'bpe_ranks');
  assert.equal(a.vocab.length, b.vocab.length);
  assert.ok(a.vocab.every((t, i) => t === b.vocab[i]) && Object.keys(a.vocab).length === Object.keys(b.vocab).length, 'vocab arrays differ');
  assert.equal(a.unk_token_id, b.unk_token_id);
}

/** A small byte-level BPE tokenizer.json in the layout the real one has; `model` parts can be replaced per test. */
function miniJson(model: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    version: '1.0',
    added_tokens: [{ id: 9, content: '<|end|>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }],
    normalizer: { type: 'NFC' },
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: true },
    post_processor: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
    decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: false },
    ...extra,
    model: {
      type: 'BPE',
      unk_token: null,
      byte_fallback: false,
      vocab: { a: 0, b: 1, ab: 2, 'Ġ': 3, 'Ġab': 4, '"': 5, '\\': 6, '"a': 7, c: 8 },
      merges: [['a', 'b'], ['Ġ', 'ab'], ['"', 'a']],
      ...model,
    },
  };
}

describe('tokenizer.json scanned straight into the BPE maps', () => {
  let Tokenizer: HfTokenizerClass;
  before(async () => {
    ({ Tokenizer } = await import('@huggingface/tokenizers'));
  });
  const build = (json: unknown, fast: boolean, indent = 2): BuiltTokenizer | undefined =>
    buildHfTokenizer(Tokenizer, JSON.stringify(json, null, indent), {}, { fast });

  it('builds the real Qwen3 tokenizer with exactly the maps the library builds, and the same ids', () => {
    const text = readFileSync(path.join(QWEN3_TOKENIZER_FILES, 'tokenizer.json'), 'utf8');
    const config = JSON.parse(readFileSync(path.join(QWEN3_TOKENIZER_FILES, 'tokenizer_config.json'), 'utf8')) as object;
    const fast = buildHfTokenizer(Tokenizer, text, config);
    const plain = buildHfTokenizer(Tokenizer, text, config, { fast: false });
    assert.ok(fast && plain);
    assert.equal(fast.fast, true);
    assert.equal(plain.fast, false);
    assert.equal(modelState(fast).tokens_to_ids.size, 151669, 'vocab + added tokens');
    assertSameModel(fast, plain);
    const corpus = [...LISTED, ...generated(60)];
    assert.deepEqual(
      corpus.filter((s) => JSON.stringify(fast.tokenizer.encode(s).ids) !== JSON.stringify(plain.tokenizer.encode(s).ids)),
      [],
    );
  });

  it('reads escaped tokens and takes any JSON layout (compact, indented, CRLF)', () => {
    for (const indent of [0, 1, '\t']) {
      const json = miniJson();
      const fast = build(json, true, indent as number);
      const plain = build(json, false);
      assert.ok(fast && plain);
      assert.equal(fast.fast, true);
      assertSameModel(fast, plain);
      assert.deepEqual(fast.tokenizer.encode(' ab"a<|end|>').ids, [4, 5, 0, 9]);
    }
    const crlf = JSON.stringify(miniJson(), null, 2).replaceAll('\n', '\r\n');
    assert.equal(buildHfTokenizer(Tokenizer, crlf, {})?.fast, true);
  });

  it('falls back to the library on anything it does not handle, with the same result', () => {
    const cases: Array<[string, Record<string, unknown>]> = [
      ['old "a b" merges', miniJson({ merges: ['a b', 'Ġ ab'] })],
      ['a fractional id', miniJson({ vocab: { a: 0, b: 1.5 } })],
      ['two tokens on one id', miniJson({ vocab: { a: 0, b: 0, ab: 2 } })],
      ['a "vocab" object outside the model, seen first', miniJson({}, { normalizer: { type: 'NFC', vocab: { x: 1 } } })],
      ['a WordPiece model', miniJson({ type: 'WordPiece', continuing_subword_prefix: '##', max_input_chars_per_word: 100, unk_token: 'c' })],
    ];
    for (const [what, json] of cases) {
      const built = build(json, true);
      const plain = build(json, false);
      assert.ok(built && plain, what);
      assert.equal(built.fast, false, what);
      assert.deepEqual(built.tokenizer.encode('ab ab').ids, plain.tokenizer.encode('ab ab').ids, what);
    }
  });

  it('falls back when a vocab token appears twice (the last one wins in JSON.parse)', () => {
    const text = JSON.stringify(miniJson(), null, 2).replace('"ab": 2,', '"ab": 2,\n      "a": 10,');
    const built = buildHfTokenizer(Tokenizer, text, {});
    const plain = buildHfTokenizer(Tokenizer, text, {}, { fast: false });
    assert.ok(built && plain);
    assert.equal(built.fast, false);
    assert.deepEqual(built.tokenizer.encode('a').ids, [10]);
    assert.deepEqual(built.tokenizer.encode('a').ids, plain.tokenizer.encode('a').ids);
  });

  it('stays off when the library keys its merges another way (a future version)', () => {
    class RekeyedTokenizer extends (Tokenizer as unknown as new (json: object, config: object) => HfTokenizerWithModel) {
      constructor(json: object, config: object) {
        super(json, config);
        const model = this.model as ModelState;
        model.bpe_ranks = new Map([...model.bpe_ranks].map(([key, rank]) => [(JSON.parse(key) as string[]).join(' '), rank]));
      }
    }
    const built = buildHfTokenizer(RekeyedTokenizer, JSON.stringify(miniJson(), null, 2), {});
    assert.equal(built?.fast, false);
    assert.ok(build(miniJson(), true)?.fast, 'the real library passes the same check');
  });

  it('rejects what JSON.parse rejects', () => {
    const text = JSON.stringify(miniJson(), null, 2);
    assert.throws(() => buildHfTokenizer(Tokenizer, text.slice(0, -3), {}), SyntaxError);
    assert.throws(() => buildHfTokenizer(Tokenizer, text.replace('"ab": 2', '"ab": 02'), {}), SyntaxError);
    assert.throws(() => buildHfTokenizer(Tokenizer, text.replace('"ab": 2', '"a\tb": 2'), {}), SyntaxError);
    assert.equal(buildHfTokenizer(Tokenizer, '[1, 2]', {}), undefined);
    assert.equal(scanBpeJson(text.replace('"ab": 2', '"ab": 2e0')), undefined);
  });
});
