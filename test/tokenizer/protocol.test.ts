import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isAx650Error } from '../../lib/errors';
import { loadQwenTokenizer } from '../../lib/tokenizer/qwen-tokenizer';
import { startTokenizerServer, type TokenizerEventMap, type TokenizerServer } from '../../lib/tokenizer/server';
import { makeTokenizerModelDir } from '../helpers/tokenizer-dir';
import { call, ids, loadReferenceTokenizer, type ReferenceTokenizer } from './support';

const IM_START = 151644;
const IM_END = 151645;
const GENERATION_PROMPT = [IM_START, 77091, 198]; // "<|im_start|>", "assistant", "\n"

// The conversation a runtime lives through, and the exact text the vendor's template gives at each step.
const SYSTEM = 'You are a robot arm controller.';
const REPLY_1 = '<think>\n\n</think>\n\nHi there!';
const REPLY_2 = '<think>\nThe user adds.\n</think>\n\n4\n';
const SYS_TEXT = '<|im_start|>system\nYou are a robot arm controller.<|im_end|>\n';
const U1_TEXT = '<|im_start|>user\nHello/no_think<|im_end|>\n';
const A1_TEXT = '<|im_start|>assistant\nHi there!<|im_end|>\n';
const U2_TEXT = '<|im_start|>user\nWhat is 2+2?/no_think<|im_end|>\n';
const A2_TEXT = '<|im_start|>assistant\nThe user adds.\n\n\n4<|im_end|>\n';
const U3_TEXT = '<|im_start|>user\nThanks!/no_think<|im_end|>\n';
const GEN_TEXT = '<|im_start|>assistant\n';
const TURN_1 =
  '<|im_start|>system\nYou are a robot arm controller.<|im_end|>\n' +
  '<|im_start|>user\nHello/no_think<|im_end|>\n' +
  '<|im_start|>assistant\n';
const TURN_2 =
  '<|im_start|>system\nYou are a robot arm controller.<|im_end|>\n' +
  '<|im_start|>user\nHello/no_think<|im_end|>\n' +
  '<|im_start|>assistant\nHi there!<|im_end|>\n' +
  '<|im_start|>user\nWhat is 2+2?/no_think<|im_end|>\n' +
  '<|im_start|>assistant\n';
const TURN_3 =
  '<|im_start|>system\nYou are a robot arm controller.<|im_end|>\n' +
  '<|im_start|>user\nHello/no_think<|im_end|>\n' +
  '<|im_start|>assistant\nHi there!<|im_end|>\n' +
  '<|im_start|>user\nWhat is 2+2?/no_think<|im_end|>\n' +
  '<|im_start|>assistant\nThe user adds.\n\n\n4<|im_end|>\n' +
  '<|im_start|>user\nThanks!/no_think<|im_end|>\n' +
  '<|im_start|>assistant\n';

function assertSameText(actual: string, expected: string): void {
  const n = Math.min(actual.length, expected.length);
  let i = 0;
  while (i < n && actual[i] === expected[i]) i++;
  assert.equal(actual, expected, `texts differ at character ${i}: ${JSON.stringify(actual.slice(i, i + 20))} vs ${JSON.stringify(expected.slice(i, i + 20))}`);
}

describe('tokenizer service protocol (vendor qwen3_tokenizer_uid.py)', () => {
  let server: TokenizerServer;
  let ref: ReferenceTokenizer;
  let cleanup: () => Promise<void>;
  let base: string;
  const events: Array<[keyof TokenizerEventMap, unknown]> = [];

  before(async () => {
    const model = await makeTokenizerModelDir();
    cleanup = model.cleanup;
    server = await startTokenizerServer({ modelDir: model.dir, port: 0, maxSessions: 8 });
    base = server.url;
    ref = loadReferenceTokenizer();
    server.on('reset', (e) => events.push(['reset', e]));
    server.on('encode', (e) => events.push(['encode', e]));
    server.on('decode', (e) => events.push(['decode', e]));
  });
  after(async () => {
    await server.close();
    await cleanup();
  });

  async function newUid(): Promise<string> {
    const r = await call(base, 'GET', '/get_uid');
    assert.match(r.text, /^\{"uid": "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"\}$/);
    return String(r.json['uid']);
  }

  it('binds 127.0.0.1 by default and knows the special tokens', async () => {
    assert.equal(server.host, '127.0.0.1');
    assert.deepEqual(server.tokenizer.encode('<|im_start|><|im_end|>'), [IM_START, IM_END]);
    assert.equal(server.tokenizer.eosId, IM_END);
    assert.equal(server.tokenizer.bosId, -1);
  });

  it('answers bos_id -1 and eos_id 151645 over HTTP, 200 application/json, in Python json.dumps format', async () => {
    const uid = await newUid();
    const bos = await call(base, 'GET', `/bos_id?uid=${uid}`);
    const eos = await call(base, 'GET', `/eos_id?uid=${uid}`);
    assert.equal(bos.status, 200);
    assert.equal(bos.contentType, 'application/json');
    assert.equal(bos.text, '{"bos_id": -1}');
    assert.equal(eos.text, '{"eos_id": 151645}');
    // Substring routing, like `'/eos_id' in self.path`.
    assert.equal((await call(base, 'GET', `/x/eos_id/y?uid=${uid}`)).text, '{"eos_id": 151645}');
  });

  it('lives a three-turn conversation exactly like the vendor: [:-3] after reset and replies, diff by length, /no_think, think tags stripped', async () => {
    const uid = await newUid();
    events.length = 0;
    const reset = ids((await call(base, 'POST', '/reset', { uid, system_prompt: SYSTEM })).json['token_ids']);
    assertSameText(ref.decode(reset), SYS_TEXT);
    assert.deepEqual(reset, ref.encode(SYS_TEXT + GEN_TEXT).slice(0, -3));
    assert.equal(reset[0], IM_START);
    assert.equal(reset.at(-2), IM_END);

    const r1 = await call(base, 'POST', '/encode', { uid, text: 'Hello', img_prompt: false });
    const t1 = ids(r1.json['token_ids']);
    const d1 = ids(r1.json['diff']);
    assertSameText(ref.decode(t1), TURN_1);
    assert.deepEqual(t1, ref.encode(TURN_1));
    assert.deepEqual(t1.slice(-3), GENERATION_PROMPT);
    assert.deepEqual(d1, t1.slice(reset.length));
    assertSameText(ref.decode(d1), U1_TEXT + GEN_TEXT);

    const r2 = await call(base, 'POST', '/encode', { uid, text: 'What is 2+2?', last_reply: REPLY_1, img_prompt: false });
    const t2 = ids(r2.json['token_ids']);
    const d2 = ids(r2.json['diff']);
    assertSameText(ref.decode(t2), TURN_2);
    assert.deepEqual(t2, ref.encode(TURN_2));
    const afterReply1 = ref.encode(SYS_TEXT + U1_TEXT + A1_TEXT + GEN_TEXT).slice(0, -3);
    assert.deepEqual(d2, t2.slice(afterReply1.length));
    assertSameText(ref.decode(d2), U2_TEXT + GEN_TEXT);

    const r3 = await call(base, 'POST', '/encode', { uid, text: 'Thanks!/no_think', last_reply: REPLY_2 });
    const t3 = ids(r3.json['token_ids']);
    const d3 = ids(r3.json['diff']);
    assertSameText(ref.decode(t3), TURN_3);
    assert.deepEqual(t3, ref.encode(TURN_3));
    assert.equal(t3.filter((id) => id === IM_END).length, 6);
    assert.deepEqual(d3, t3.slice(ref.encode(SYS_TEXT + U1_TEXT + A1_TEXT + U2_TEXT + A2_TEXT + GEN_TEXT).length - 3));
    assertSameText(ref.decode(d3), U3_TEXT + GEN_TEXT);

    assert.deepEqual(
      events.map(([name]) => name),
      ['reset', 'encode', 'encode', 'encode'],
    );
    assert.deepEqual(events[0]?.[1], { uid, tokenIds: reset, restored: false });
    assert.deepEqual(events[3]?.[1], { uid, tokenIds: t3, diff: d3 });
  });

  it('resets to the default system prompt when none or an empty one is given', async () => {
    const uid = await newUid();
    const expected = '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n';
    assertSameText(ref.decode(ids((await call(base, 'POST', '/reset', { uid })).json['token_ids'])), expected);
    assertSameText(ref.decode(ids((await call(base, 'POST', '/reset', { uid, system_prompt: '' })).json['token_ids'])), expected);
    // A fresh uid's history already holds the default system prompt (vendor __init__), so the first encode's diff is everything.
    const fresh = await newUid();
    const r = await call(base, 'POST', '/encode', { uid: fresh, text: 'hi' });
    assert.deepEqual(r.json['diff'], r.json['token_ids']);
    assertSameText(ref.decode(ids(r.json['token_ids'])), expected + '<|im_start|>user\nhi/no_think<|im_end|>\n' + GEN_TEXT);
  });

  it('restoring a history in the reset gives the same ids as living it turn by turn', async () => {
    const lived = await newUid();
    await call(base, 'POST', '/reset', { uid: lived, system_prompt: SYSTEM });
    await call(base, 'POST', '/encode', { uid: lived, text: 'Hello' });
    await call(base, 'POST', '/encode', { uid: lived, text: 'What is 2+2?', last_reply: REPLY_1 });
    const livedTurn = await call(base, 'POST', '/encode', { uid: lived, text: 'Thanks!/no_think', last_reply: REPLY_2 });
    const livedIds = ids(livedTurn.json['token_ids']);
    const livedDiff = ids(livedTurn.json['diff']);

    const restored = await newUid();
    events.length = 0;
    server.setNextResetHistory([
      { role: 'user', content: 'Hello' },
      { role: 'assistant', content: REPLY_1 },
      { role: 'user', content: 'What is 2+2?' },
      { role: 'assistant', content: REPLY_2 },
    ]);
    const reset = ids((await call(base, 'POST', '/reset', { uid: restored, system_prompt: SYSTEM })).json['token_ids']);
    assert.deepEqual(reset, livedIds.slice(0, livedIds.length - livedDiff.length));
    assertSameText(ref.decode(reset), SYS_TEXT + U1_TEXT + A1_TEXT + U2_TEXT + A2_TEXT);
    assert.deepEqual(events[0], ['reset', { uid: restored, tokenIds: reset, restored: true }]);
    const next = await call(base, 'POST', '/encode', { uid: restored, text: 'Thanks!/no_think' });
    assert.deepEqual(next.json, { token_ids: livedIds, diff: livedDiff });

    const again = await call(base, 'POST', '/reset', { uid: restored, system_prompt: SYSTEM });
    assertSameText(ref.decode(ids(again.json['token_ids'])), SYS_TEXT);
    assert.deepEqual(events.at(-1), ['reset', { uid: restored, tokenIds: ids(again.json['token_ids']), restored: false }]);
  });

  it('refuses a restore history that does not alternate user/assistant and end with a reply', () => {
    for (const bad of [
      [{ role: 'user' as const, content: 'a' }],
      [{ role: 'assistant' as const, content: 'a' }, { role: 'user' as const, content: 'b' }],
      [{ role: 'system' as const, content: 'a' }, { role: 'assistant' as const, content: 'b' }],
    ]) {
      assert.throws(() => server.setNextResetHistory(bad), (e: unknown) => isAx650Error(e) && e.code === 'BAD_INPUT');
    }
  });

  it('decodes a CJK character and an emoji split across tokens as "" then the whole character', async () => {
    const uid = await newUid();
    for (const ch of ['龘', '🫠']) {
      const parts = ref.encode(ch);
      assert.ok(parts.length > 1, `${ch} must be split across tokens for this test to mean anything`);
      assert.deepEqual(server.tokenizer.encode(ch), parts);
      const answers: string[] = [];
      for (const id of parts) answers.push(String((await call(base, 'POST', '/decode', { uid, token_ids: [id] })).json['text']));
      assert.deepEqual(answers, [...parts.slice(0, -1).map(() => ''), ch]);
    }
    const raw = await call(base, 'POST', '/decode', { uid, token_ids: ref.encode('é 🫠') });
    assert.equal(raw.text, '{"text": "\\u00e9 \\ud83e\\udee0"}');
    assert.deepEqual((await call(base, 'POST', '/decode', { uid, token_ids: [] })).json, { text: '' });
    assert.deepEqual(events.at(-1), ['decode', { uid, ids: [], text: '' }]);
  });

  it('answers HTTP 200 with the vendor error bodies for bad uids and unknown endpoints', async () => {
    const cases: Array<[method: 'GET' | 'POST', path: string, body: unknown, expected: string]> = [
      ['GET', '/bos_id?uid=nope', undefined, '{"error": "Invalid uid"}'],
      ['GET', '/eos_id', undefined, '{"error": "Invalid uid"}'],
      ['GET', '/', undefined, '{"error": "Invalid GET endpoint"}'],
      ['GET', '/encode', undefined, '{"error": "Invalid GET endpoint"}'],
      ['POST', '/encode', { uid: 'nope', text: 'x' }, '{"error": "Invalid uid"}'],
      ['POST', '/decode', { uid: 'nope', token_ids: [1] }, '{"error": "Invalid uid"}'],
      ['POST', '/reset', { system_prompt: 'x' }, '{"error": "Invalid uid"}'],
      ['POST', '/get_uid', {}, '{"error": "Invalid POST endpoint"}'],
      ['POST', '/nothing', {}, '{"error": "Invalid POST endpoint"}'],
      ['POST', '/encode', 'not json', '{"error": "Invalid JSON body"}'],
    ];
    for (const [method, path, body, expected] of cases) {
      const r = await call(base, method, path, body);
      assert.equal(r.status, 200, `${method} ${path}`);
      assert.equal(r.contentType, 'application/json', `${method} ${path}`);
      assert.equal(r.text, expected, `${method} ${path}`);
    }
    const uid = await newUid();
    assert.deepEqual((await call(base, 'POST', '/encode', { uid })).json, { error: 'Invalid text' });
    assert.deepEqual((await call(base, 'POST', '/decode', { uid, token_ids: ['a'] })).json, { error: 'Invalid token_ids' });
  });

  it('keeps concurrent sessions apart', async () => {
    const uids = await Promise.all(Array.from({ length: 6 }, () => newUid()));
    const answers = await Promise.all(uids.map((uid, i) => call(base, 'POST', '/encode', { uid, text: `robot ${i}` })));
    answers.forEach((a, i) => {
      assertSameText(
        ref.decode(ids(a.json['token_ids'])),
        '<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n' +
          `<|im_start|>user\nrobot ${i}/no_think<|im_end|>\n` + GEN_TEXT,
      );
    });
  });

  it('rejects a second server on the same port with TOKENIZER_PORT_IN_USE', async () => {
    await assert.rejects(
      startTokenizerServer({ modelDir: '/unused', tokenizer: server.tokenizer, port: server.port }),
      (e: unknown) => isAx650Error(e) && e.code === 'TOKENIZER_PORT_IN_USE',
    );
  });

  it('rejects a missing model folder with MODEL_FILES_MISSING', async () => {
    await assert.rejects(loadQwenTokenizer('/nonexistent/model'), (e: unknown) => isAx650Error(e) && e.code === 'MODEL_FILES_MISSING');
  });
});
