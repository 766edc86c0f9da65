import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { FakeRunner } from '../helpers/fake-runner';
import { isAx650Error } from '../../lib/errors';

test('fake runner: runs jobs one at a time in priority then FIFO order with deltas and stats', async () => {
  const runner = new FakeRunner({ tokensPerSecond: 1000, reply: (r) => `reply to ${r.prompt}` });
  const a = runner.submit({ prompt: 'a' });
  const b = runner.submit({ prompt: 'b' });
  const c = runner.submit({ prompt: 'c', priority: 5 });
  const deltas: string[] = [];
  a.on('delta', (t) => deltas.push(t));
  const [ra, rb, rc] = await Promise.all([a.result, b.result, c.result]);
  assert.equal(deltas.join(''), 'reply to a');
  assert.equal(ra.text, 'reply to a');
  assert.equal(rb.text, 'reply to b');
  assert.equal(rc.stats.doneReason, 'stop');
  assert.ok(ra.stats.completionTokens > 1);
  assert.deepEqual(runner.ran.map((r) => r.prompt), ['c', 'a', 'b']);
  assert.equal(runner.running, false);
});

test('fake runner: queue limit, cancel queued and running, expiry, max tokens, signal', async () => {
  const runner = new FakeRunner({ queueLimit: 2, tokensPerSecond: 500 });
  const running = runner.submit({ prompt: 'one' });
  await once(running, 'started');
  const queued = runner.submit({ prompt: 'two' });
  const expired = runner.submit({ prompt: 'three', notAfter: Date.now() - 1 });
  assert.throws(() => runner.submit({ prompt: 'four' }), (e: unknown) => isAx650Error(e) && e.code === 'QUEUE_FULL');
  assert.throws(() => runner.submit({ prompt: ' ' }), (e: unknown) => isAx650Error(e) && e.code === 'BAD_INPUT');
  await once(running, 'delta');
  assert.equal(runner.queueDepth, 2);
  queued.cancel();
  running.cancel();
  const r = await running.result;
  assert.equal(r.stats.doneReason, 'abort');
  assert.ok(r.text.length > 0);
  await assert.rejects(queued.result, (e: unknown) => isAx650Error(e) && e.code === 'ABORTED');
  await assert.rejects(expired.result, (e: unknown) => isAx650Error(e) && e.code === 'EXPIRED');
  assert.deepEqual(runner.ran.map((q) => q.prompt), ['one']);

  const limited = await runner.submit({ prompt: 'five', maxTokens: 3 }).result;
  assert.equal(limited.stats.doneReason, 'length');
  assert.equal(limited.stats.completionTokens, 3);

  const ac = new AbortController();
  const signalled = runner.submit({ prompt: 'six', signal: ac.signal });
  await once(signalled, 'started');
  ac.abort();
  assert.equal((await signalled.result).stats.doneReason, 'abort');
  assert.equal(runner.running, false);
  assert.equal(runner.cancelOwner('nobody'), 0);
});
