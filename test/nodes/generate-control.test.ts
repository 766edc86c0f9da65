/**
 * ax650-generate control paths in real flows (issue 4): stop really stops and frees the NPU,
 * max_tokens is exact, a stateless prompt after another does not wait for the reset prefill.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type Harness } from './flow-harness';
import { TEST_KIND } from '../helpers/kind';

interface Stats {
  doneReason: string;
  completionTokens: number;
  ttftMs: number;
  resetMs?: number;
  queueMs: number;
}

describe('ax650-generate control', () => {
  let h: Harness;
  before(async () => {
    // Slow enough to stop mid-stream; a visible prefill cost for the reset-ahead check.
    h = await startHarness({ simEnv: { AX650_SIM_TOKENS_PER_SEC: '20', AX650_SIM_REPLY_TOKENS: '60', AX650_SIM_PREFILL_MS_PER_TOKEN: '8' } });
  });
  after(async () => {
    await h.close();
  });

  test('msg.stop mid-stream: doneReason abort, partial text on output 2, the next job starts within 1 s', async () => {
    const gen = h.node('gen');
    gen.receive({ payload: 'Tell me a long story.', topic: 'long' });
    await h.waitFor('gen-stream', 2);
    gen.receive({ topic: 'stop', stop: true });
    const [final] = await h.waitFor('gen-final', 1);
    const stats = final!.stats as Stats;
    assert.equal(stats.doneReason, 'abort');
    assert.ok((final!.payload as string).length > 0, 'partial text kept');
    const stoppedAt = Date.now();
    gen.receive({ payload: 'And now a short one.', topic: 'next' });
    const started = await new Promise<number>((resolve) => {
      const onState = (s: string) => {
        if (s === 'busy') {
          h.runtime.off('state', onState);
          resolve(Date.now());
        }
      };
      h.runtime.on('state', onState);
    });
    // axllm generates on after a stop (its reference §5): the next job waits for the stopped run's end,
    // at most the rest of its 60-token reply at 20 tokens/s (docs/axllm.md).
    const bound = TEST_KIND === 'axllm' ? 1000 + (60 / 20) * 1000 : 1000;
    assert.ok(started - stoppedAt < bound, `next job started ${started - stoppedAt} ms after the stop`);
    const finals = await h.waitFor('gen-final', 2);
    assert.equal((finals[1]!.stats as Stats).doneReason, 'stop');
  });

  test('max_tokens 5 gives exactly 5 completion tokens and doneReason length', async () => {
    h.received.set('gen-final', []);
    h.node('gen').receive({ payload: 'Count to one hundred.', options: { max_tokens: 5 } });
    const [final] = await h.waitFor('gen-final', 1);
    const stats = final!.stats as Stats;
    assert.equal(stats.doneReason, 'length');
    assert.equal(stats.completionTokens, 5);
    assert.equal(h.runtime.countTokens(final!.payload as string), 5);
  });

  test('a stateless prompt after another, once idle, does not wait for the reset prefill', async () => {
    h.received.set('gen-final', []);
    const gen = h.node('gen');
    const idle = waitIdleReset(h);
    gen.receive({ payload: 'First question.', options: { max_tokens: 3 } });
    await h.waitFor('gen-final', 1);
    await idle;
    gen.receive({ payload: 'Second question.', options: { max_tokens: 3 } });
    const finals = await h.waitFor('gen-final', 2);
    const second = finals[1]!.stats as Stats;
    assert.equal(second.resetMs, 0, 'no reset prefill before the second prompt');
  });
});

/** Resolves at the runtime's next `idle` (nothing queued or running, reset ahead finished). */
function waitIdleReset(h: Harness): Promise<void> {
  return new Promise((resolve) => h.runtime.once('idle', () => resolve()));
}
