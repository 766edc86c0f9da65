/**
 * Timeouts (issue 4): time to first token, silence between deltas and the whole reply each end the
 * job with TIMEOUT (partial text and stats attached) at that moment (issue 18), and stop the runtime,
 * which takes the next job as soon as the stop has run.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isAx650Error, type Ax650Error } from '../../lib/errors';
import type { JobResult } from '../../lib/runtime/types';
import { startSimRuntime, type SimRuntime } from './helpers';

type TimedOut = Ax650Error & { partial?: JobResult };

async function timedOut(s: SimRuntime, timeouts: { firstTokenMs?: number; idleMs?: number; totalMs?: number }): Promise<TimedOut> {
  const job = s.rt.submit({ prompt: 'Tell me a long story about a robot.', timeouts });
  const err = await job.result.then(
    () => assert.fail('expected a timeout'),
    (e: unknown) => e,
  );
  assert.ok(isAx650Error(err));
  assert.equal(err.code, 'TIMEOUT');
  return err as TimedOut;
}

async function nextJobRuns(s: SimRuntime): Promise<void> {
  const r = await s.rt.submit({ prompt: 'Short one.', maxTokens: 3 }).result;
  assert.equal(r.stats.doneReason, 'length');
  // The TIMEOUT is reported at once and the stop runs behind it; a prefill cannot be stopped (~1.5 s here).
  assert.ok(r.stats.queueMs < 2500, `the runtime was free again once the stop had run (waited ${r.stats.queueMs} ms)`);
}

describe('job timeouts', () => {
  let s: SimRuntime;
  before(async () => {
    // 5 tokens/s with a 1.5 s prefill: a first piece after ~1.5 s, then one every ~0.6 s.
    s = await startSimRuntime({ simEnv: { AX650_SIM_TOKENS_PER_SEC: '5', AX650_SIM_REPLY_TOKENS: '60', AX650_SIM_PREFILL_MS_PER_TOKEN: '12' } });
  });
  after(async () => {
    await s.stop();
  });

  test('first token: no text within the limit → TIMEOUT, nothing delivered, runtime free', async () => {
    const err = await timedOut(s, { firstTokenMs: 300 });
    assert.match(err.message, /first token/);
    assert.equal(err.partial?.text, '');
    assert.equal(err.partial?.stats.doneReason, 'timeout');
    await nextJobRuns(s);
  });

  test('idle: a gap between deltas longer than the limit → TIMEOUT with the partial text', async () => {
    const err = await timedOut(s, { idleMs: 150 });
    assert.match(err.message, /new token/);
    assert.ok((err.partial?.text ?? '').length > 0, 'the text so far comes with the error');
    await nextJobRuns(s);
  });

  test('total: the whole reply takes longer than the limit → TIMEOUT', async () => {
    const err = await timedOut(s, { totalMs: 2500 });
    assert.match(err.message, /end of the reply/);
    assert.ok((err.partial?.stats.durationMs ?? 0) >= 2500);
    await nextJobRuns(s);
  });
});
