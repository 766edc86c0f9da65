import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RestartPolicy, type RestartDecision } from '../../lib/supervisor';

function clock(start = 1_000_000): { now: () => number; advance: (ms: number) => void } {
  let t = start;
  return { now: () => t, advance: (ms) => { t += ms; } };
}

function delay(d: RestartDecision): number {
  assert.equal(d.action, 'restart', JSON.stringify(d));
  return d.action === 'restart' ? d.delayMs : -1;
}

test('delays grow by the factor and stop at the cap; random 0.5 means no jitter', () => {
  const c = clock();
  const p = new RestartPolicy({ baseMs: 500, factor: 2, maxMs: 5000, jitter: 0.2, maxCrashes: 100, now: c.now, random: () => 0.5 });
  const got: number[] = [];
  for (let i = 0; i < 6; i++) {
    const d = p.onCrash(1000);
    got.push(delay(d));
    c.advance(got[i] ?? 0);
  }
  assert.deepEqual(got, [500, 1000, 2000, 4000, 5000, 5000]);
  const last = p.onCrash(0);
  assert.equal(last.action === 'restart' && last.attempt, 7);
});

test('jitter spreads the delay within ±jitter and never above the cap', () => {
  const lo = new RestartPolicy({ baseMs: 1000, jitter: 0.25, random: () => 0 });
  assert.equal(delay(lo.onCrash(0)), 750);
  const hi = new RestartPolicy({ baseMs: 1000, jitter: 0.25, random: () => 0.999999 });
  assert.equal(delay(hi.onCrash(0)), 1250);
  const capped = new RestartPolicy({ baseMs: 1000, maxMs: 1000, jitter: 0.5, random: () => 0.999999 });
  assert.equal(delay(capped.onCrash(0)), 1000);
});

test('more than maxCrashes within the window gives up, and stays given up until reset()', () => {
  const c = clock();
  const p = new RestartPolicy({ maxCrashes: 3, windowMs: 60_000, now: c.now, random: () => 0.5 });
  for (let i = 0; i < 3; i++) {
    delay(p.onCrash(100));
    c.advance(10_000);
  }
  const d = p.onCrash(100);
  assert.deepEqual(d, { action: 'give-up', reason: 'crashed 4 times within 60 s (budget 3)' });
  c.advance(3_600_000);
  assert.equal(p.onCrash(100_000).action, 'give-up', 'a give-up is permanent');
  assert.equal(p.failedReason, 'crashed 4 times within 60 s (budget 3)');
  p.reset();
  assert.equal(p.failedReason, undefined);
  assert.deepEqual(p.onCrash(0), { action: 'restart', delayMs: 1000, attempt: 1 });
});

test('after a give-up, onHealthy() (an operator restart) restores the whole budget', () => {
  const c = clock();
  const p = new RestartPolicy({ maxCrashes: 1, windowMs: 60_000, now: c.now, random: () => 0.5 });
  assert.equal(p.onCrash(0).action, 'restart');
  assert.equal(p.onCrash(0).action, 'give-up');
  p.onHealthy();
  assert.equal(p.failedReason, undefined);
  assert.deepEqual(p.onCrash(0), { action: 'restart', delayMs: 1000, attempt: 1 }, 'the earlier crashes no longer count');
  assert.equal(p.onCrash(0).action, 'give-up');
});

test('crashes spread wider than the window never spend the budget', () => {
  const c = clock();
  const p = new RestartPolicy({ maxCrashes: 2, windowMs: 60_000, maxMs: 1e9, now: c.now, random: () => 0.5 });
  for (let i = 0; i < 10; i++) {
    assert.equal(p.onCrash(1000).action, 'restart');
    c.advance(30_001);
  }
});

test('a run longer than stableMs, or onHealthy(), starts the backoff over', () => {
  const c = clock();
  const p = new RestartPolicy({ baseMs: 100, stableMs: 30_000, now: c.now, random: () => 0.5 });
  assert.deepEqual(p.onCrash(10), { action: 'restart', delayMs: 100, attempt: 1 });
  assert.deepEqual(p.onCrash(10), { action: 'restart', delayMs: 200, attempt: 2 });
  assert.deepEqual(p.onCrash(30_000), { action: 'restart', delayMs: 100, attempt: 1 });
  assert.deepEqual(p.onCrash(10), { action: 'restart', delayMs: 200, attempt: 2 });
  p.onHealthy();
  assert.deepEqual(p.onCrash(10), { action: 'restart', delayMs: 100, attempt: 1 });
});

test('onHealthy() does not clear the crash budget: load-then-crash loops still give up', () => {
  const c = clock();
  const p = new RestartPolicy({ maxCrashes: 2, windowMs: 600_000, now: c.now, random: () => 0.5 });
  for (let i = 0; i < 2; i++) {
    p.onHealthy();
    assert.equal(p.onCrash(120_000).action, 'restart');
    c.advance(130_000);
  }
  p.onHealthy();
  assert.equal(p.onCrash(120_000).action, 'give-up');
});

test('invalid options are rejected', () => {
  assert.throws(() => new RestartPolicy({ baseMs: -1 }), RangeError);
  assert.throws(() => new RestartPolicy({ factor: Number.NaN }), RangeError);
  assert.throws(() => new RestartPolicy({ windowMs: Infinity }), RangeError);
});
