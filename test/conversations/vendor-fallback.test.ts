/**
 * With the vendor tokenizer (Python stand-in) the history cannot be put back into the context: the
 * runtime falls back to a fresh context and says so (issue 5).
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startSimRuntime, type SimRuntime } from '../runtime/helpers';

describe('vendor tokenizer fallback', () => {
  let s: SimRuntime | undefined;
  after(async () => {
    await s?.stop();
  });

  test('switching back to a conversation reports historyDropped; staying in one does not', async () => {
    s = await startSimRuntime({ vendorTokenizer: true, simEnv: { AX650_SIM_REPLY_TOKENS: '12' } });
    assert.equal(s.rt.tokenizerServer, null, 'no built-in tokenizer in this mode');
    const a1 = await s.rt.submit({ prompt: 'Hello from A.', conversation: 'A' }).result;
    const a2 = await s.rt.submit({ prompt: 'Still A.', conversation: 'A' }).result;
    assert.equal(a1.stats.historyDropped, undefined);
    assert.equal(a2.stats.historyDropped, undefined, 'continuing the active conversation keeps its context');
    await s.rt.submit({ prompt: 'Now B.', conversation: 'B' }).result;
    const back = await s.rt.submit({ prompt: 'Back to A.', conversation: 'A' }).result;
    assert.equal(back.stats.historyDropped, true, 'the fallback is reported');
    assert.equal(s.rt.conversations.get('A')!.turns.length, 2, 'A starts afresh from the fallback turn');
  });
});
