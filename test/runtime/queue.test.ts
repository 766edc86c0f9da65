/**
 * Issue 3 acceptance, checked on what the simulator received: a cancelled queued job never reaches
 * the runtime; a full queue rejects at once and loses nothing else; one job's sampling never leaks
 * into the next; an idle runtime gets zero requests; the reset ahead takes the prefill out of the
 * next stateless prompt's time to first token.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { isAx650Error } from '../../lib/errors';
import type { JobHandle } from '../../lib/runtime/types';
import { generateBodies, startSimRuntime, stopAll, type SimLogEntry, type SimRuntime } from './helpers';

after(stopAll);

const QUEUE_LIMIT = 3;

function idle(sim: SimRuntime): Promise<void> {
  return new Promise((resolve) => sim.rt.once('idle', () => resolve()));
}

/**
 * The job's result, then the first `idle` after it: an `idle` of work that was still going before the job
 * (a reset ahead of an earlier test) does not count.
 */
async function resultThenIdle(sim: SimRuntime, job: JobHandle): Promise<void> {
  let answered = false;
  const quiet = new Promise<void>((resolve) => {
    const onIdle = (): void => {
      if (!answered) return;
      sim.rt.off('idle', onIdle);
      resolve();
    };
    sim.rt.on('idle', onIdle);
  });
  await job.result;
  answered = true;
  await quiet;
}

describe('queue, sampling and idle on one runtime', () => {
  let sim: SimRuntime;
  before(async () => {
    sim = await startSimRuntime({
      simEnv: { AX650_SIM_TOKENS_PER_SEC: '150', AX650_SIM_REPLY_TOKENS: '8' },
      config: { queueLimit: QUEUE_LIMIT },
    });
  });
  after(() => sim.stop());

  test('a job cancelled while queued never reaches the runtime', async () => {
    const jobs = ['queue one', 'queue two', 'queue three'].map((prompt) => sim.rt.submit({ prompt }));
    jobs[1]!.cancel();
    await assert.rejects(jobs[1]!.result, (e: unknown) => isAx650Error(e) && e.code === 'ABORTED');
    await Promise.all([jobs[0]!.result, jobs[2]!.result]);
    const prompts = generateBodies(await sim.readSimLog()).map((b) => b['prompt']).filter((p) => String(p).startsWith('queue '));
    assert.deepEqual(prompts, ['queue one', 'queue three']);
  });

  test('limit + 5 submissions while one runs: exactly 5 synchronous QUEUE_FULL, every other job completes', async () => {
    const first = sim.rt.submit({ prompt: 'full: running' });
    await new Promise<void>((resolve) => first.once('started', () => resolve()));
    const accepted: JobHandle[] = [];
    const refused: string[] = [];
    for (let i = 0; i < QUEUE_LIMIT + 5; i++) {
      try {
        accepted.push(sim.rt.submit({ prompt: `full: queued ${i}` }));
      } catch (e) {
        refused.push(isAx650Error(e) ? e.code : String(e));
      }
    }
    assert.deepEqual(refused, Array(5).fill('QUEUE_FULL'));
    assert.equal(accepted.length, QUEUE_LIMIT);
    const results = await Promise.all([first, ...accepted].map((j) => j.result));
    assert.ok(results.every((r) => r.text.length > 0 && r.stats.doneReason === 'stop'));
    const prompts = generateBodies(await sim.readSimLog()).map((b) => b['prompt']).filter((p) => String(p).startsWith('full: '));
    assert.deepEqual(prompts, ['full: running', 'full: queued 0', 'full: queued 1', 'full: queued 2']);
  });

  test("one job's sampling never reaches the next: every key is sent, hyphenated, with the defaults", async () => {
    await sim.rt.submit({ prompt: 'sampling one', sampling: { temperature: 0.1, topK: 5 } }).result;
    await sim.rt.submit({ prompt: 'sampling two' }).result;
    const bodies = generateBodies(await sim.readSimLog()).filter((b) => String(b['prompt']).startsWith('sampling '));
    const d = sim.cfg.sampling;
    assert.deepEqual(bodies, [
      { prompt: 'sampling one', temperature: 0.1, 'top-k': 5, 'top-p': d.topP, repetition_penalty: d.repetitionPenalty },
      { prompt: 'sampling two', temperature: d.temperature, 'top-k': d.topK, 'top-p': d.topP, repetition_penalty: d.repetitionPenalty },
    ]);
  });

  test('idle means zero HTTP requests once the job and the reset ahead are done', async () => {
    const before = (await sim.readSimLog()).length;
    await resultThenIdle(sim, sim.rt.submit({ prompt: 'idle check' }));
    const settled = await sim.readSimLog();
    const afterJob = settled.slice(before);
    assert.ok(afterJob.some((e) => e.event === 'request' && e.path === '/api/reset'), 'the reset ahead ran after the stateless job');
    // A measurement window, not a readiness wait: nothing may arrive during it.
    await new Promise((r) => setTimeout(r, 750));
    const later = (await sim.readSimLog()).slice(settled.length);
    assert.deepEqual(later, [] as SimLogEntry[]);
  });
});

describe('reset ahead', () => {
  const CHUNK_MS = 128 * 4;
  let sim: SimRuntime;
  before(async () => {
    sim = await startSimRuntime({ simEnv: { AX650_SIM_PREFILL_MS_PER_TOKEN: '4', AX650_SIM_TOKENS_PER_SEC: '200', AX650_SIM_REPLY_TOKENS: '6' } });
  });
  after(() => sim.stop());

  test('a stateless prompt after the runtime went idle needs no reset and its ttft excludes the prefill', async () => {
    const quiet = idle(sim);
    await sim.rt.submit({ prompt: 'the first stateless prompt' }).result;
    await quiet;
    const ahead = await sim.rt.submit({ prompt: 'the second stateless prompt' }).result;
    const quietAgain = idle(sim);
    const control = await sim.rt.submit({ prompt: 'a prompt with its own system prompt', system: 'You are a robot arm.' }).result;
    await quietAgain;
    assert.equal(ahead.stats.resetMs, 0);
    assert.ok((control.stats.resetMs ?? 0) >= CHUNK_MS * 0.9, `control resetMs ${control.stats.resetMs}`);
    assert.ok(ahead.stats.ttftMs !== null && control.stats.ttftMs !== null);
    assert.ok(ahead.stats.ttftMs < control.stats.ttftMs - CHUNK_MS / 2, `ttft with the reset done ahead ${ahead.stats.ttftMs} ms, with a reset ${control.stats.ttftMs} ms`);
    const resets = (await sim.readSimLog()).filter((e) => e.event === 'prefill' && e.kind === 'reset');
    // Load, after the first prompt (ahead), before the control prompt, after it (ahead again).
    assert.equal(resets.length, 4);
  });
});
