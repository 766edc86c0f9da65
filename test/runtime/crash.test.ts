/**
 * Issue 3 acceptance: kill -9 the runtime while it loads, while it idles and while it generates.
 * The running job is told within 2 s (RUNTIME_CRASHED with the log tail), queued jobs survive the
 * automatic restart, the delays between restarts grow, and a binary that always crashes ends in
 * `failed` after the crash budget with no further spawns.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { isAx650Error } from '../../lib/errors';
import { isAlive, kill9, outcome, startSimRuntime, stopAll, type SimRuntime } from './helpers';

after(stopAll);


describe('kill -9 of the runtime', () => {
  let sim: SimRuntime;
  const BASE_MS = 400;

  test('while loading: the queued jobs run after the automatic restart', async () => {
    sim = await startSimRuntime({
      start: false,
      axmodelNum: 8,
      simEnv: { AX650_SIM_LOAD_MS: '800', AX650_SIM_TOKENS_PER_SEC: '60', AX650_SIM_REPLY_TOKENS: '12' },
      config: { restart: { baseMs: BASE_MS, maxMs: 5000, maxCrashes: 10, windowMs: 60_000 } },
    });
    const loading = sim.waitFor((s, i) => s === 'loading' && i.pid !== null && i.loadProgress > 0, 15_000, 'load progress');
    const jobs = [sim.rt.submit({ prompt: 'first while loading' }), sim.rt.submit({ prompt: 'second while loading' })];
    const victim = kill9((await loading).pid);
    await sim.waitFor((s) => s === 'backoff', 5000, 'backoff');
    assert.deepEqual(await Promise.all(jobs.map(outcome)), ['done', 'done']);
    assert.equal(isAlive(victim), false);
    assert.notEqual(sim.rt.info().pid, victim);
    assert.equal(sim.rt.info().restarts, 1);
    const prompts = (await sim.readSimLog()).flatMap((e) => (e.event === 'request' && e.path === '/api/generate' ? [(e.body as { prompt: string }).prompt] : []));
    assert.deepEqual(prompts, ['first while loading', 'second while loading']);
  });

  test('while idle: a job submitted during the backoff runs after the restart', async () => {
    await sim.waitFor((s) => s === 'ready', 10_000, 'ready');
    const victim = kill9(sim.rt.info().pid);
    await sim.waitFor((s) => s === 'backoff', 5000, 'backoff');
    const job = sim.rt.submit({ prompt: 'after the idle crash' });
    assert.equal(await outcome(job), 'done');
    assert.equal(isAlive(victim), false);
    assert.equal(sim.rt.info().restarts, 2);
  });

  test('while generating: the running job errors within 2 s with the tail, the queued one completes', async () => {
    const running = sim.rt.submit({ prompt: 'a long answer please' });
    const queued = sim.rt.submit({ prompt: 'queued behind the crash' });
    await new Promise<void>((resolve) => running.once('delta', () => resolve()));
    const victim = kill9(sim.rt.info().pid);
    const killedAt = Date.now();
    const err = await running.result.then(
      () => assert.fail('the running job must not succeed'),
      (e: unknown) => e,
    );
    const latency = Date.now() - killedAt;
    assert.ok(isAx650Error(err), String(err));
    assert.equal(err.code, 'RUNTIME_CRASHED');
    assert.ok(latency < 2000, `the running job was told after ${latency} ms`);
    assert.match(err.tail ?? '', /Server running on port|ttft|LLM init ok/, 'the error carries the runtime log tail');
    assert.equal(await outcome(queued), 'done');
    assert.equal(isAlive(victim), false);
    assert.equal(sim.rt.info().restarts, 3);
  });

  test('the delays between restarts grow', () => {
    const delays: number[] = [];
    sim.states.forEach((s, i) => {
      if (s.state !== 'backoff') return;
      const next = sim.states.slice(i + 1).find((n) => n.state === 'preflight');
      if (next) delays.push(next.at - s.at);
    });
    assert.equal(delays.length, 3, JSON.stringify(sim.states.map((s) => s.state)));
    // Base 400 ms doubling with ±20 % jitter: 320–480, 640–960, 1280–1920 ms (plus the stop time).
    assert.ok(delays[0]! >= BASE_MS * 0.8 && delays[1]! > delays[0]! && delays[2]! > delays[1]!, `delays ${JSON.stringify(delays)}`);
  });

  test('every process is gone after stop', async () => {
    assert.ok(sim.pids.size >= 4, `runtime pids seen: ${[...sim.pids].join(',')}`);
    await sim.stop();
    for (const pid of sim.pids) assert.equal(isAlive(pid), false, `pid ${pid}`);
  });
});

test('a runtime that always crashes ends in failed after the budget, with no further spawns', async () => {
  const maxCrashes = 3;
  const sim = await startSimRuntime({
    start: false,
    // axclInit fails at once (exit status 11, reference §1.4): a crash loop without a model load.
    simEnv: { AX650_SIM_INIT_FAIL: 'axcl' },
    config: { restart: { baseMs: 50, maxMs: 400, maxCrashes, windowMs: 60_000 } },
  });
  const failed = sim.waitFor((s) => s === 'failed', 90_000, 'failed');
  const queued = sim.rt.submit({ prompt: 'never runs' });
  const info = await failed;
  assert.equal(info.lastError?.code, 'RUNTIME_FAILED');
  assert.match(info.lastError?.message ?? '', /budget 3/);
  assert.equal(await outcome(queued), 'RUNTIME_FAILED');
  assert.equal(sim.spawns.length, maxCrashes + 1, 'one first start and one spawn per restart');
  // A measurement window longer than the largest backoff: no spawn may follow `failed`.
  await new Promise((r) => setTimeout(r, 1000));
  assert.equal(sim.spawns.length, maxCrashes + 1);
  assert.equal(sim.rt.state, 'failed');
  assert.throws(() => sim.rt.submit({ prompt: 'refused' }), (e: unknown) => isAx650Error(e) && e.code === 'RUNTIME_FAILED');
  await sim.stop();
});
