/**
 * Context limits (issue 5): a conversation longer than the context keeps working, its oldest turns
 * dropped and reported, and the runtime never answers `SetKVCache failed`. The simulator's context
 * is made small so the limit comes after a few turns.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSimRuntime, type SimRuntime } from '../runtime/helpers';
import type { JobResult } from '../../lib/runtime/types';

describe('conversation longer than the context', () => {
  let s: SimRuntime | undefined;
  after(async () => {
    await s?.stop();
  });

  test('50 turns: oldest turns dropped, truncatedTurns reported, never a context-full answer', async () => {
    s = await startSimRuntime({ simEnv: { AX650_SIM_REPLY_TOKENS: '40', AX650_SIM_MAX_TOKEN_LEN: '1023', AX650_SIM_PREFILL_MAX: '768' } });
    const info = s.rt.info();
    assert.equal(info.prefillMaxTokenNum, 768, 'limits read from the init log');
    assert.equal(info.maxTokenLen, 1023);
    let truncated = 0;
    for (let i = 0; i < 50; i++) {
      const r: JobResult = await s.rt.submit({ prompt: `Turn ${i}: tell me one more thing about the sea, please, in a sentence or two.`, conversation: 'long' }).result;
      assert.equal(r.stats.doneReason, 'stop', `turn ${i}`);
      assert.equal(r.stats.contextReset, undefined, `turn ${i} needed no context-full retry`);
      assert.ok(r.text.length > 0);
      truncated += r.stats.truncatedTurns ?? 0;
    }
    assert.ok(truncated > 0, 'some turns were dropped');
    const log = await s.readSimLog();
    const full = log.filter((e) => JSON.stringify(e).includes('SetKVCache failed'));
    assert.deepEqual(full, [], 'the runtime never refused a turn');
    const prefills = log.filter((e) => (e as { event: string }).event === 'prefill') as Array<{ precompute_len: number }>;
    assert.ok(Math.max(...prefills.map((p) => p.precompute_len)) <= 768, 'the KV cache stayed within the prefill limit');
    const kept = s.rt.conversations.get('long')!.turns.length;
    assert.ok(kept < 100 && kept >= 2, `history bounded (${kept} messages kept)`);
  });
});
