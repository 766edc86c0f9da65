/**
 * Stop mid-reply on axllm at the real pace (4.5 tokens/s), issue 14 acceptance: the stopping caller
 * gets its partial reply at once; the runtime generates on after the stream is closed (reference §5),
 * so the next prompt waits until the runtime's log shows that run's end and never overlaps it (the
 * simulator logs every overlap); the time until the next prompt's first token is measured. A stopped
 * run that would keep the engine busy longer than stopDrainMs is ended by a restart instead.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import type { JobHandle } from '../../lib/runtime/types';
import { startSimRuntime, stopAll, type SimRuntime } from '../runtime/helpers';

after(stopAll);

type Entry = Record<string, unknown>;

function deltas(job: JobHandle, n: number): Promise<void> {
  let seen = 0;
  return new Promise((resolve) => job.on('delta', () => ++seen === n && resolve()));
}

function firstDelta(job: JobHandle): Promise<number> {
  return new Promise((resolve) => job.once('delta', () => resolve(Date.now())));
}

async function runs(sim: SimRuntime): Promise<Entry[]> {
  return ((await sim.readSimLog()) as unknown as Entry[]).filter((e) => e['event'] === 'run' || e['event'] === 'overlap');
}

describe('axllm: stop mid-reply at 4.5 tokens/s', () => {
  test('partial at once, next prompt after the stopped run ends, no overlap; time to the next first token measured', async () => {
    const sim = await startSimRuntime({ kind: 'axllm', simEnv: { AX650_SIM_TOKENS_PER_SEC: '4.5', AX650_SIM_REPLY_TOKENS: '16' } });
    try {
      const a = sim.rt.submit({ prompt: 'Describe the warehouse in detail.' });
      await deltas(a, 3);
      const stopAt = Date.now();
      a.cancel();
      const b = sim.rt.submit({ prompt: 'Now say yes.' });
      const bFirst = firstDelta(b);
      const partial = await a.result;
      const partialMs = Date.now() - stopAt;
      assert.equal(partial.stats.doneReason, 'abort');
      assert.ok(partial.text.length > 0, 'the partial reply is kept');
      assert.ok(partialMs < 300, `partial reply after ${partialMs} ms`);
      await b.result;
      const nextFirstTokenMs = (await bFirst) - stopAt;
      const log = await runs(sim);
      assert.deepEqual(log.filter((e) => e['event'] === 'overlap'), [], 'no overlapping generation');
      const [aStart, aEnd, bStart] = log.filter((e) => e['event'] === 'run').slice(-4);
      assert.equal(aStart!['phase'], 'start');
      assert.equal(aEnd!['phase'], 'end');
      assert.equal(bStart!['phase'], 'start');
      assert.ok(Date.parse(String(bStart!['time'])) >= Date.parse(String(aEnd!['time'])), 'the next run starts after the stopped one ended');
      // About 13 leftover tokens at 4.5/s: the engine finishes the stopped reply first (documented in docs/axllm.md).
      console.log(`# axllm stop: partial after ${partialMs} ms; next first token ${nextFirstTokenMs} ms after the stop (${aEnd!['generated']} tokens generated in the stopped run)`);
      assert.ok(nextFirstTokenMs < 16 / 4.5 * 1000 + 3000, `next first token after ${nextFirstTokenMs} ms`);
    } finally {
      await sim.stop();
    }
  });

  test('a stopped run longer than stopDrainMs: the runtime is restarted, the next prompt runs on the new one, no overlap', async () => {
    const sim = await startSimRuntime({
      kind: 'axllm',
      simEnv: { AX650_SIM_TOKENS_PER_SEC: '4.5', AX650_SIM_REPLY_TOKENS: '200' },
      config: { stopDrainMs: 1500 },
    });
    try {
      const firstPid = sim.rt.info().pid;
      const a = sim.rt.submit({ prompt: 'Tell me everything.' });
      await deltas(a, 2);
      const stopAt = Date.now();
      a.cancel();
      const b = sim.rt.submit({ prompt: 'Short answer.', maxTokens: 3 });
      const bFirst = firstDelta(b);
      assert.equal((await a.result).stats.doneReason, 'abort');
      const rb = await b.result;
      assert.equal(rb.stats.doneReason, 'length');
      const info = sim.rt.info();
      assert.equal(info.restarts, 1);
      assert.notEqual(info.pid, firstPid);
      assert.equal(info.lastError?.code ?? 'RUNTIME_WEDGED', 'RUNTIME_WEDGED');
      console.log(`# axllm stop with restart: next first token ${(await bFirst) - stopAt} ms after the stop`);
      assert.deepEqual((await runs(sim)).filter((e) => e['event'] === 'overlap'), []);
    } finally {
      await sim.stop();
    }
  });
});
