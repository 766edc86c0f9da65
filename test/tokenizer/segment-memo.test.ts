import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import type { ChatMessage } from '../../lib/runtime/types';
import { BUNDLED_TEMPLATE_CONFIG, templateFromConfig } from '../../lib/tokenizer/chat-template';
import { buildHfTokenizer, type HfTokenizer } from '../../lib/tokenizer/hf-build';
import { SegmentEncoder, SegmentMemo, splittableAddedTokens } from '../../lib/tokenizer/segment-memo';
import { asLivedTurn } from '../../lib/tokenizer/session';
import { QWEN3_TOKENIZER_FILES } from '../helpers/tokenizer-dir';
import { generated, LISTED, POOLS, prng } from './corpus';

const readJson = (file: string): Record<string, unknown> => JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;

describe('encoding by segments between added tokens, memoised', () => {
  let hf: HfTokenizer;
  let json: Record<string, unknown>;
  let render: (messages: ChatMessage[]) => string;
  const plain = (text: string): number[] => hf.encode(text).ids;

  before(async () => {
    const { Tokenizer } = await import('@huggingface/tokenizers');
    const { Template } = await import('@huggingface/jinja');
    const text = readFileSync(path.join(QWEN3_TOKENIZER_FILES, 'tokenizer.json'), 'utf8');
    const built = buildHfTokenizer(Tokenizer, text, readJson(path.join(QWEN3_TOKENIZER_FILES, 'tokenizer_config.json')), { fast: false });
    assert.ok(built);
    ({ tokenizer: hf, json } = built);
    const template = new Template(templateFromConfig(readJson(BUNDLED_TEMPLATE_CONFIG)) ?? '');
    render = (messages) => template.render({ messages, add_generation_prompt: true, bos_token: '', eos_token: '<|im_end|>' });
  });

  function encoder(memo = new SegmentMemo()): { enc: SegmentEncoder; calls: string[] } {
    const tokens = splittableAddedTokens(json);
    assert.ok(tokens, 'Qwen3 can be encoded by segments');
    assert.equal(tokens.get('<|im_start|>'), 151644);
    assert.equal(tokens.get('</think>'), 151668);
    const calls: string[] = [];
    const enc = new SegmentEncoder(tokens, (text) => (calls.push(text), plain(text)), memo);
    return { enc, calls };
  }

  it('gives the library ids for every corpus string, alone and glued to special tokens, cold and from the memo', () => {
    const { enc } = encoder();
    const rnd = prng(12);
    const corpus = [...LISTED, ...generated(220)];
    const glued = corpus.map((s, i) => {
      const pick = (): string => POOLS.special[Math.floor(rnd() * POOLS.special.length)] as string;
      return pick() + s + pick() + (corpus[(i * 7) % corpus.length] as string) + '<|im_end|><|im_start|>' + s;
    });
    for (const pass of ['cold', 'memo']) {
      const wrong = [...corpus, ...glued].filter((s) => JSON.stringify(enc.encode(s)) !== JSON.stringify(plain(s)));
      assert.deepEqual(wrong, [], pass);
    }
    assert.ok(enc.memo.size > 200);
  });

  it('gives the library ids for templated multi-turn conversations, encoding only the new text of each turn', () => {
    const { enc, calls } = encoder();
    const rnd = prng(7);
    const corpus = [...LISTED, ...generated(80)];
    const pick = (): string => corpus[Math.floor(rnd() * corpus.length)] as string;
    for (let conversation = 0; conversation < 6; conversation++) {
      const messages: ChatMessage[] = [{ role: 'system', content: pick() }];
      for (let turn = 0; turn < 12; turn++) {
        messages.push(asLivedTurn({ role: 'user', content: `${pick()} (${conversation}.${turn})` }));
        calls.length = 0;
        const text = render(messages);
        assert.deepEqual(enc.encode(text), plain(text), `conversation ${conversation} turn ${turn}`);
        // After the first turn only the two turns added since the last render (and the generation prompt's "assistant\n") are new pieces.
        // (Turns may hold added tokens themselves, so their text can be several pieces.)
        const added = messages.slice(-2).map((m) => `<|im_start|>${m.role}\n${m.content}<|im_end|>`);
        const old = calls.filter((piece) => piece !== 'assistant\n' && !added.some((turnText) => turnText.includes(piece)));
        if (turn > 0) assert.deepEqual(old, [], `conversation ${conversation} turn ${turn}`);
        assert.ok(turn === 0 || calls.length >= 1, 'the new user turn is encoded');
        messages.push(asLivedTurn({ role: 'assistant', content: `<think>\n\n</think>\n\n${pick()}` }));
      }
    }
  });

  it('does not keep the growing tail of a text (a streamed reply counted after every delta)', () => {
    const { enc } = encoder();
    const reply = '<think>\n\n</think>\n\n' + 'The arm moves to the red block, 12.5 N. 位置已确认。'.repeat(40);
    for (let n = 1; n <= reply.length; n += 9) {
      const partial = reply.slice(0, n);
      assert.deepEqual(enc.encode(partial), plain(partial));
    }
    assert.equal(enc.memo.size, 1, 'only the finished piece between the think tags is kept');
    assert.equal(enc.memo.totalChars, 2);
  });

  it('refuses to split where pieces would not encode apart', () => {
    const token = { id: 1, content: '<x>', special: true, normalized: false, lstrip: false, rstrip: false };
    const base = { added_tokens: [token], post_processor: null, pre_tokenizer: { type: 'ByteLevel' } };
    assert.deepEqual(splittableAddedTokens(base), new Map([['<x>', 1]]));
    assert.equal(splittableAddedTokens({ ...base, added_tokens: [{ ...token, lstrip: true }] }), undefined);
    assert.equal(splittableAddedTokens({ ...base, added_tokens: [{ ...token, rstrip: true }] }), undefined);
    assert.equal(splittableAddedTokens({ ...base, added_tokens: [{ ...token, normalized: true }] }), undefined);
    assert.equal(splittableAddedTokens({ ...base, added_tokens: [{ id: 1, content: '<x>' }] }), undefined, 'normalized defaults to !special');
    assert.equal(splittableAddedTokens({ ...base, post_processor: { type: 'TemplateProcessing' } }), undefined);
    assert.equal(splittableAddedTokens({ ...base, pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'Metaspace' }] } }), undefined);
  });

  it('bounds the memo by characters, dropping the least recently used piece', () => {
    const memo = new SegmentMemo(80);
    memo.set('a'.repeat(10), [1]);
    memo.set('b'.repeat(10), [2]);
    memo.set('x'.repeat(11), [9]);
    assert.equal(memo.size, 2, 'a piece over an eighth of the bound is not kept');
    assert.deepEqual(memo.get('a'.repeat(10)), [1]);
    for (let i = 0; i < 7; i++) memo.set(String(i).repeat(10), [i]);
    assert.equal(memo.totalChars, 80);
    assert.deepEqual(memo.get('a'.repeat(10)), [1]);
    assert.equal(memo.get('b'.repeat(10)), undefined);
  });
});
