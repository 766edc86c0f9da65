/**
 * Faults on axllm (issue 14 acceptance), each with its error code and restart policy, and nothing left
 * running (every SimRuntime.stop() proves the pids and processes in its folder gone): kill -9 while
 * loading, idle and generating; a hung generation; `LLM.Init failed`; a busy port; the mem guard
 * refusing the load; a bad config.json (refused by the pre-flight, or from the runtime's log when the
 * runtime replaced it by its defaults); a missing axmodel file.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { writeFile, rm } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { isAx650Error } from '../../lib/errors';
import type { RuntimeLauncher } from '../../lib/runtime/processes';
import { simulatorLauncher } from '../../simulator/provider';
import { isAlive, kill9, outcome, processesIn, startSimRuntime, stopAll, type SimRuntime } from '../runtime/helpers';

after(stopAll);

const fast = { restart: { baseMs: 100, maxMs: 1000, maxCrashes: 10, windowMs: 60_000 } };

describe('axllm: kill -9', () => {
  let sim: SimRuntime;
  after(() => sim?.stop());

  test('while loading: restart, the queued prompt runs on the new runtime', async () => {
    sim = await startSimRuntime({ kind: 'axllm', start: false, axmodelNum: 8, simEnv: { AX650_SIM_LOAD_MS: '800', AX650_SIM_REPLY_TOKENS: '8' }, config: fast });
    const loading = sim.waitFor((s, i) => s === 'loading' && i.pid !== null && i.loadProgress > 0, 15_000, 'load progress from the # bars');
    const job = sim.rt.submit({ prompt: 'while loading' });
    const victim = kill9((await loading).pid);
    const crashed = await sim.waitFor((s) => s === 'backoff', 5000, 'backoff');
    assert.equal(crashed.lastError?.code, 'RUNTIME_CRASHED');
    assert.match(crashed.lastError?.message ?? '', /exited while loading the model \(signal SIGKILL\)/);
    assert.equal(await outcome(job), 'done');
    assert.equal(isAlive(victim), false);
    assert.equal(sim.rt.info().restarts, 1);
  });

  test('while idle: restart with backoff', async () => {
    await sim.waitFor((s) => s === 'ready', 10_000, 'ready');
    const victim = kill9(sim.rt.info().pid);
    const crashed = await sim.waitFor((s) => s === 'backoff', 5000, 'backoff');
    assert.equal(crashed.lastError?.code, 'RUNTIME_CRASHED');
    assert.match(crashed.lastError?.message ?? '', /runtime process ended unexpectedly \(signal SIGKILL\)/);
    assert.equal(await outcome(sim.rt.submit({ prompt: 'after the idle crash' })), 'done');
    assert.equal(isAlive(victim), false);
    assert.equal(sim.rt.info().restarts, 2);
  });

  test('while generating: RUNTIME_CRASHED within 2 s, the queued prompt completes after the restart', async () => {
    const running = sim.rt.submit({ prompt: 'a long answer', maxTokens: 400 });
    const queued = sim.rt.submit({ prompt: 'queued behind the crash' });
    await new Promise((r) => running.once('delta', r));
    const at = Date.now();
    kill9(sim.rt.info().pid);
    const err = await running.result.then(() => null, (e: unknown) => e);
    assert.ok(isAx650Error(err) && err.code === 'RUNTIME_CRASHED', String(err));
    assert.ok(Date.now() - at < 2000);
    assert.equal(await outcome(queued), 'done');
    assert.equal(sim.rt.info().restarts, 3);
  });
});

test('axllm: a hung generation ends in TIMEOUT at the idle timeout; the engine never frees, so the runtime is restarted', async () => {
  const sim = await startSimRuntime({ kind: 'axllm', simEnv: { AX650_SIM_HANG: 'generate', AX650_SIM_REPLY_TOKENS: '40' }, config: { ...fast, stopDrainMs: 1000 } });
  try {
    const at = Date.now();
    const err = await sim.rt.submit({ prompt: 'hang please', timeouts: { idleMs: 800, firstTokenMs: 5000 } }).result.then(() => null, (e: unknown) => e);
    assert.ok(isAx650Error(err) && err.code === 'TIMEOUT', String(err));
    assert.ok(Date.now() - at < 5000);
    await sim.waitFor((s, i) => i.restarts === 1 && s === 'backoff', 10_000, 'the restart after the wedged engine');
    assert.equal(sim.rt.info().lastError?.code, 'RUNTIME_WEDGED');
    await sim.waitFor((s) => s === 'ready', 20_000, 'ready after the restart');
  } finally {
    await sim.stop();
  }
});

test('axllm: LLM.Init failed restarts under the crash budget, then failed with the reason', async () => {
  const sim = await startSimRuntime({ kind: 'axllm', start: false, simEnv: { AX650_SIM_INIT_FAIL: 'axmodel' }, config: { restart: { baseMs: 50, maxMs: 200, maxCrashes: 2, windowMs: 60_000 } } });
  try {
    const job = sim.rt.submit({ prompt: 'never runs' });
    const info = await sim.waitFor((s) => s === 'failed', 20_000, 'failed');
    assert.equal(await outcome(job), 'RUNTIME_FAILED');
    assert.match(info.lastError?.message ?? '', /LLM\.Init failed/);
    assert.ok(sim.spawns.length >= 2, `spawned ${sim.spawns.length} times`);
  } finally {
    await sim.stop();
  }
});

async function failsWith(opts: Parameters<typeof startSimRuntime>[0], code: string, before?: (sim: SimRuntime) => Promise<void>): Promise<SimRuntime> {
  const sim = await startSimRuntime({ kind: 'axllm', start: false, ...opts });
  await before?.(sim);
  const err = await sim.rt.start().then(() => null, (e: unknown) => e);
  assert.ok(isAx650Error(err) && err.code === code, `expected ${code}, got ${String(err)}`);
  assert.equal(sim.rt.state, 'failed', 'no restart for a cause a restart cannot fix');
  return sim;
}

test('axllm: a busy port is PORT_IN_USE before anything spawns (pre-flight), and also from the runtime log when the pre-flight is skipped', async () => {
  const holder = net.createServer();
  try {
    let sim = await failsWith({}, 'PORT_IN_USE', async (s) => {
      await new Promise<void>((r) => holder.listen(s.cfg.runtimePort, '127.0.0.1', () => r()));
    });
    assert.equal(sim.spawns.length, 0);
    await sim.stop();
    holder.close();
    sim = await failsWith({ preflight: async () => undefined }, 'PORT_IN_USE', async (s) => {
      await new Promise<void>((r) => holder.listen(s.cfg.runtimePort, '0.0.0.0', () => r()));
    });
    assert.equal(sim.spawns.length, 1);
    await sim.stop();
  } finally {
    holder.close();
  }
});

test('axllm: the mem guard refusing the load is NPU_MEMORY_LOW, no restart', async () => {
  const sim = await failsWith({ simEnv: { AX650_SIM_MEM_GUARD: 'preflight' } }, 'NPU_MEMORY_LOW');
  await sim.stop();
});

test('axllm: a bad config.json is CONFIG_INVALID before anything spawns', async () => {
  const sim = await failsWith({}, 'CONFIG_INVALID', async (s) => {
    await writeFile(path.join(s.modelDir, 'config.json'), '{"model_name": "x", "axmodel_num": 4,');
  });
  assert.equal(sim.spawns.length, 0);
  await sim.stop();
});

test('axllm: a config.json the runtime replaces by its defaults is CONFIG_INVALID from its log; nothing left running', async () => {
  // The package's own checks (the pre-flight, the tokenizer's read of config.json) run before the spawn and
  // refuse such a file, so it is spoiled at the spawn itself, as an edit or a failing SD card would: without
  // model_name (read last) axllm logs `Key not found`, `Failed to load config from`, `Using default
  // configuration`, and loads on under the default name (reference §1).
  const spoil: RuntimeLauncher = (c, url) => {
    const file = path.join(c.modelDir, 'config.json');
    const config = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    delete config['model_name'];
    writeFileSync(file, JSON.stringify(config, null, 2));
    return simulatorLauncher(c, url);
  };
  const sim = await failsWith({ launcher: spoil }, 'CONFIG_INVALID');
  assert.equal(sim.spawns.length, 1, 'the runtime was started: the error came from its log');
  assert.match(sim.rt.info().lastError?.message ?? '', /fell back to its defaults: Failed to load config from: .*config\.json/);
  const deadline = Date.now() + 5000;
  let left = await processesIn(sim.modelDir);
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    left = await processesIn(sim.modelDir);
  }
  assert.deepEqual(left, [], 'the runtime was ended without a stop: no process left in the folder');
  await sim.stop();
});

test('axllm: a missing axmodel file is MODEL_FILES_MISSING naming it, before anything spawns', async () => {
  let message = '';
  const sim = await failsWith({}, 'MODEL_FILES_MISSING', async (s) => {
    await rm(path.join(s.modelDir, 'qwen3_p128_l2_together.axmodel'));
  });
  message = sim.rt.info().lastError?.message ?? '';
  assert.match(message, /qwen3_p128_l2_together\.axmodel/);
  assert.equal(sim.spawns.length, 0);
  await sim.stop();
});

test('axllm: a card the driver declares dead mid-reply is DEAD_CARD at once, no restart', async () => {
  const sim = await startSimRuntime({ kind: 'axllm', simEnv: { AX650_SIM_DEAD_CARD: 'generate' }, config: fast });
  try {
    const at = Date.now();
    const err = await sim.rt.submit({ prompt: 'the card dies now' }).result.then(() => null, (e: unknown) => e);
    assert.ok(isAx650Error(err) && err.code === 'DEAD_CARD', String(err));
    assert.ok(Date.now() - at < 5000);
    assert.equal(sim.rt.state, 'failed');
    assert.equal(sim.rt.info().restarts, 0);
  } finally {
    await sim.stop();
  }
});
