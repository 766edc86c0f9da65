/**
 * Issue 3 acceptance: the load timeout is stall-based. A load that keeps printing progress outlives
 * the stall timeout many times over; a load that goes silent fails at it with LOAD_STALLED and the
 * runtime's output tail, and the silent process is ended.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { isAx650Error } from '../../lib/errors';
import { isAlive, startSimRuntime, stopAll } from './helpers';

after(stopAll);

/**
 * Well above the simulator's own start-up pause: it parses tokenizer.json synchronously while it
 * "loads" (1–3 s on a busy 2-core machine), a silence the real binary does not have.
 */
const STALL_MS = 5000;

test('a load that keeps printing progress survives past the stall timeout', async () => {
  const sim = await startSimRuntime({
    start: false,
    axmodelNum: 36,
    simEnv: { AX650_SIM_LOAD_MS: String(STALL_MS * 2.5) },
    config: { loadStallMs: STALL_MS },
  });
  const progress: number[] = [];
  sim.rt.on('state', (s, i) => {
    if (s === 'loading') progress.push(i.loadProgress);
  });
  await sim.rt.start();
  const loading = sim.states.find((s) => s.state === 'loading')!;
  const loaded = sim.states.find((s) => s.state === 'resetting')!;
  assert.ok(loaded.at - loading.at > STALL_MS * 2, `the load took ${loaded.at - loading.at} ms`);
  assert.equal(Math.max(...progress), 100);
  assert.ok(progress.length >= 36, 'progress was reported per layer');
  assert.equal(sim.spawns.length, 1);
  await sim.stop();
});

test('a silent load (AX650_SIM_HANG=load) fails at the stall timeout with the tail', async () => {
  const sim = await startSimRuntime({
    start: false,
    axmodelNum: 8,
    simEnv: { AX650_SIM_HANG: 'load' },
    config: { loadStallMs: STALL_MS, restart: { baseMs: 100, maxMs: 100, maxCrashes: 0, windowMs: 60_000 } },
  });
  let pid: number | null = null;
  let lastProgressAt = 0;
  sim.rt.on('state', (s, i) => {
    pid ??= i.pid;
    if (s === 'loading' && i.loadProgress > 0) lastProgressAt = Date.now();
  });
  const err = await sim.rt.start().then(
    () => assert.fail('the load must not succeed'),
    (e: unknown) => e,
  );
  assert.ok(isAx650Error(err), String(err));
  assert.equal(err.code, 'LOAD_STALLED');
  // Layers 0-3 load, then the simulator hangs before layer 4 (the middle of 8).
  assert.match(err.tail ?? '', /init 3 axmodel ok/, 'the tail shows how far the load got');
  const stalledFor = sim.states.find((s) => s.state === 'failed')!.at - lastProgressAt;
  assert.ok(lastProgressAt > 0 && stalledFor >= STALL_MS * 0.9, `failed ${stalledFor} ms after the last progress`);
  assert.notEqual(pid, null);
  assert.equal(isAlive(pid!), false, 'the stalled runtime was ended');
  assert.equal(sim.rt.state, 'failed', 'no restart budget');
  assert.equal(sim.spawns.length, 1);
  await sim.stop();
});
