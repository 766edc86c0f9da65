/**
 * Issue 14 item 2 and its faults: "CMM enough for the model (read the model size)" before `axllm serve`
 * is spawned, and the runtime's own mem guard refusing the load. The pre-flight reads the size of every
 * file config.json names and the card's free CMM from axcl-smi (`info --cmm`, the fake of
 * test/fixtures/axcl), keeping axllm's own floor (128 MB, or config.json `mem_guard_floor_mb`) free.
 */
import assert from 'node:assert/strict';
import { readFile, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, test } from 'node:test';
import { isAx650Error, type Ax650Error } from '../../lib/errors';
import { checkAxllmFolder } from '../../lib/runtime/axllm-preflight';
import { createAxllmSimBinary, createAxllmSimModelDir } from '../../simulator/axllm/model-dir';
import { SMI_CMD, smiEnv, tempDir } from '../device/helpers';
import { startSimRuntime, stopAll } from '../runtime/helpers';

after(stopAll);

const CMM_TOTAL_MIB = 7040;
const LAYER_BYTES = 1536 * 1024 * 1024;

/** A folder whose first layer is 1.5 GB (sparse), a card device node and axllm installed. */
async function setup(t: { after: (fn: () => void) => void }) {
  const root = tempDir(t);
  const modelDir = path.join(root, 'Qwen3-4B');
  await createAxllmSimModelDir(modelDir, { axmodelNum: 2 });
  await truncate(path.join(modelDir, 'qwen3_p128_l0_together.axmodel'), LAYER_BYTES);
  const binary = await createAxllmSimBinary(path.join(root, 'bin'));
  const cardDevice = path.join(root, 'axcl_host');
  await writeFile(cardDevice, '');
  const check = (freeMib: number) =>
    checkAxllmFolder({ modelDir, binary, runtimePort: null, simulator: false, device: 0, cardDevice, probe: { smi: SMI_CMD, env: smiEnv({ FAKE_SMI_CMM_USED: String(CMM_TOTAL_MIB - freeMib) }) } });
  return { modelDir, check };
}

const memoryLow = (problems: Ax650Error[]): Ax650Error[] => problems.filter((p) => p.code === 'NPU_MEMORY_LOW');

test('a card with too little free CMM for the model is NPU_MEMORY_LOW before the spawn, with both sizes in words', async (t) => {
  const { check } = await setup(t);
  const r = await check(1040);
  assert.ok(r.modelBytes >= LAYER_BYTES, `the model size is read from its files (${r.modelBytes} bytes)`);
  const [low] = memoryLow(r.problems);
  assert.ok(low, `refused: ${r.problems.map((p) => p.code).join(', ')}`);
  assert.match(low.message, /needs about 15\d\d MB of card memory \(CMM\) but card 0 has 1040 MB free/);
  assert.match(low.message, /stop other models on the card/);
  assert.equal(low.params['freeMb'], 1040);
});

test('enough free CMM: no memory problem; axllm\'s floor is kept free, and config.json mem_guard_floor_mb moves it', async (t) => {
  const { modelDir, check } = await setup(t);
  assert.deepEqual(memoryLow((await check(6000)).problems), [], 'a card with plenty free');
  const needMib = Math.ceil((await check(6000)).modelBytes / 1048576);
  assert.equal(memoryLow((await check(needMib + 64)).problems).length, 1, '64 MB left after the load is under the default 128 MB floor');
  const cfgFile = path.join(modelDir, 'config.json');
  const cfg = JSON.parse(await readFile(cfgFile, 'utf8')) as Record<string, unknown>;
  await writeFile(cfgFile, JSON.stringify({ ...cfg, mem_guard_floor_mb: 32 }));
  assert.deepEqual(memoryLow((await check(needMib + 64)).problems), [], 'with a 32 MB floor the same card takes it');
});

test('the runtime\'s own mem guard refusing mid-load (the pre-flight passed): NPU_MEMORY_LOW, no restart, nothing left running', async () => {
  const sim = await startSimRuntime({ kind: 'axllm', start: false, simEnv: { AX650_SIM_MEM_GUARD: 'midload' } });
  try {
    const err = await sim.rt.start().then(() => null, (e: unknown) => e);
    assert.ok(isAx650Error(err) && err.code === 'NPU_MEMORY_LOW', String(err));
    assert.equal(sim.rt.state, 'failed', 'a restart cannot give the card more memory');
    assert.equal(sim.rt.info().restarts, 0);
    assert.equal(sim.spawns.length, 1);
  } finally {
    await sim.stop();
  }
});
