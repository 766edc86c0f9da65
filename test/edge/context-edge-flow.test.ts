/**
 * Conversations at the context edge (issue 19 items 2 and 3), in real Node-RED on the simulator,
 * whose SetKVCache applies both of the runtime's rules (simulator/kv-cache.ts): the context before a
 * turn plus its input fits prefill_max_token_num, and the input alone is at most
 * ALIGN_DOWN(prefill_max_token_num − precompute_len, 128). The context is made 640 tokens so that
 * the second rule is the one that bites (with 540 tokens in the cache no input fits at all).
 * On axllm (stateless: the whole transcript every request) the runtime refuses a prompt longer than
 * prefill_max_token_num; the package trims by the same rules, so every request sent stays within it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TEST_KIND } from '../helpers/kind';
import { startHarness, type Harness } from '../nodes/flow-harness';
import type { ChatMessage } from '../../lib/runtime/types';
import { chatMessages, prefills, readSimLog, spyContexts, type ContextSpy, type SimEvent } from './sim-log';
import { loadAxllmTokenizer } from '../../lib/tokenizer/axllm-tokenizer';
import type { QwenTokenizer } from '../../lib/tokenizer/qwen-tokenizer';

const PREFILL_MAX = 640;
const alignDown = (x: number): number => Math.floor(x / 128) * 128;

interface Stats {
  doneReason: string;
  contextReset?: boolean;
  truncatedTurns?: number;
  truncatedTokens?: number;
}

const generations = (log: readonly SimEvent[]): SimEvent[] =>
  log.filter((e) => e.event === 'request' && e.method === 'POST' && (e.path === '/api/generate' || e.path === '/v1/chat/completions'));

describe('a conversation at the context edge', () => {
  let h: Harness;
  let seen: ContextSpy;
  let tok: QwenTokenizer;
  before(async () => {
    h = await startHarness({ simEnv: { AX650_SIM_PREFILL_MAX: String(PREFILL_MAX), AX650_SIM_REPLY_TOKENS: '40' } });
    seen = spyContexts(h);
    tok = TEST_KIND === 'main-api' ? h.runtime.tokenizerServer!.tokenizer : await loadAxllmTokenizer(h.runtime.cfg.modelDir);
  });
  after(async () => {
    await h.close();
  });

  test('driven past the context several times: recent turns kept, never an empty history, every turn stored, drops reported', async () => {
    assert.equal(h.runtime.info().prefillMaxTokenNum, PREFILL_MAX);
    const gen = h.node('gen');
    const trimmedAt: number[] = [];
    let finals = h.received.get('gen-final')!.length;
    for (let i = 0; i < 24; i++) {
      const prompt = `Turn ${i}, marker Q${i}X: the arm moved to shelf ${i}. Note its position, the time and the battery level, and say briefly whether anything looked unusual.`;
      const storedBefore: ChatMessage[] = (h.runtime.conversations.get('robot')?.turns ?? []).map((t) => ({ ...t }));
      gen.receive({ payload: prompt, conversation: 'robot', topic: `turn-${i}` });
      const final = (await h.waitFor('gen-final', ++finals))[finals - 1]!;
      const stats = final.stats as Stats;
      assert.equal(final.topic, `turn-${i}`);
      assert.equal(stats.doneReason, 'stop', `turn ${i}`);
      assert.equal(stats.contextReset, undefined, `turn ${i}: the runtime never refused the turn`);

      const dropped = stats.truncatedTurns ?? 0;
      if (dropped > 0) {
        trimmedAt.push(i);
        assert.ok((stats.truncatedTokens ?? 0) > 0, `turn ${i}: the dropped tokens are reported`);
      }
      const stored = h.runtime.conversations.get('robot')!.turns;
      const expected = [...storedBefore.slice(dropped * 2), { role: 'user', content: prompt }, { role: 'assistant', content: final.payload }];
      assert.deepEqual(stored, expected, `turn ${i}: the oldest ${dropped} exchanges went, the rest and this turn are stored`);

      const saw = await seen.last();
      assert.match(saw, new RegExp(`Q${i}X`), `turn ${i}: the model saw the prompt`);
      if (i > 0) assert.match(saw, new RegExp(`Q${i - 1}X`), `turn ${i}: the model saw the previous turn (never an empty history)`);
      for (const t of storedBefore.slice(0, dropped * 2)) {
        if (t.role === 'user') assert.ok(!saw.includes(t.content.slice(0, 30)), `turn ${i}: a dropped turn is not in the context`);
      }
      for (const t of stored.filter((m) => m.role === 'user')) assert.ok(saw.includes(t.content.slice(0, 30)), `turn ${i}: every kept turn is in the context`);
    }
    assert.ok(trimmedAt.length >= 3, `the context filled several times (trimmed at turns ${trimmedAt.join(', ')})`);

    const log = await readSimLog(h.simLog);
    if (TEST_KIND === 'main-api') {
      for (const p of prefills(log, 'generate')) {
        if (p.precompute_len === 0) continue;
        assert.ok(p.precompute_len + p.tokens <= PREFILL_MAX, `rule 1 held: ${p.precompute_len} + ${p.tokens}`);
        assert.ok(p.tokens <= alignDown(PREFILL_MAX - p.precompute_len), `rule 2 held: ${p.tokens} new tokens on ${p.precompute_len}`);
      }
    } else {
      const sent = chatMessages(log);
      assert.equal(sent.length, 24);
      for (const [k, messages] of sent.entries()) {
        assert.deepEqual(messages[0], { role: 'system', content: h.runtime.cfg.systemPrompt }, `request ${k}: the system prompt is kept first`);
      }
      const chats = log.flatMap((e) => (e.event === 'chat' ? [e] : []));
      assert.equal(chats.length, 24);
      for (const c of chats) assert.ok(c.prompt_tokens <= PREFILL_MAX, `the runtime's prefill limit held: ${c.prompt_tokens} prompt tokens`);
      const ends = log.flatMap((e) => (e.event === 'run' && e.phase === 'end' ? [e.reason] : []));
      assert.deepEqual(ends, Array<string>(24).fill('eos'), 'no run failed on the context');
    }
  });

  test('a prompt too long for one turn is CONTEXT_FULL whichever rule refuses it, with the counts and the limit', async () => {
    const system = h.runtime.cfg.systemPrompt;
    const systemIds = tok.encode(tok.applyChatTemplate([{ role: 'system', content: system }], true)).length - 3;
    const inputOf = (prompt: string): number =>
      tok.encode(tok.applyChatTemplate([{ role: 'system', content: system }, { role: 'user', content: `${prompt}/no_think` }], true)).length - systemIds;
    const words = (n: number): string => Array.from({ length: n }, (_, k) => `w${k % 10}`).join(' ');
    // Too long for the whole context (rule 1), and short enough for the context but not for one turn (rule 2 only).
    const huge = words(700);
    let edge = '';
    for (let n = 100; n < 700; n += 5) {
      edge = words(n);
      if (inputOf(edge) > alignDown(PREFILL_MAX - systemIds)) break;
    }
    assert.ok(inputOf(huge) + systemIds > PREFILL_MAX);
    assert.ok(inputOf(edge) + systemIds <= PREFILL_MAX, 'the edge prompt fits the context as a whole');

    const gen = h.node('gen');
    const before = h.received.get('caught')!.length;
    const logBefore = (await readSimLog(h.simLog)).length;
    for (const [k, prompt] of [huge, edge].entries()) {
      gen.receive({ payload: prompt, topic: `long-${k}` });
      const caught = (await h.waitFor('caught', before + k + 1))[before + k]!;
      const err = caught.error as { message: string; code?: string };
      assert.equal(err.code, 'CONTEXT_FULL', `prompt ${k}: ${err.message}`);
      const m = /needs (\d+) tokens.*at most (\d+) new tokens.*context limit (\d+) tokens/.exec(err.message);
      assert.ok(m, `prompt ${k}: counts and limit in "${err.message}"`);
      assert.equal(Number(m[1]), inputOf(prompt), `prompt ${k}: the token count is the turn's input`);
      assert.ok(Number(m[2]) < Number(m[1]) && Number(m[2]) % 128 === 0 && Number(m[2]) <= alignDown(PREFILL_MAX - systemIds));
      assert.equal(Number(m[3]), PREFILL_MAX);
    }
    assert.deepEqual(generations((await readSimLog(h.simLog)).slice(logBefore)), [], 'neither reached the runtime');
  });
});
