/**
 * Issue 3 acceptance: every pre-flight error through Runtime.start(), one test each, and no child
 * spawned for any of them (no launcher call, no simulator request log, no process in the folder).
 * The binary checks run in hardware mode (simulator: false) against a temp model folder.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chmod, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { after, test } from 'node:test';
import { isAx650Error, type ErrorCode } from '../../lib/errors';
import type { RuntimeConfig } from '../../lib/runtime/config';
import { claimRuntimePort, releaseRuntimePort } from '../../lib/runtime/host-registry';
import { runPreflight } from '../../lib/runtime/settings';
import { SIM_BINARY_NAME } from '../../simulator/model-dir';
import { processesIn, startSimRuntime, stopAll, type SimRuntime, type SimRuntimeOptions } from './helpers';

after(stopAll);

async function expectRefused(sim: SimRuntime, code: ErrorCode): Promise<void> {
  await assert.rejects(sim.rt.start(), (e: unknown) => isAx650Error(e) && e.code === code);
  assert.equal(sim.rt.state, 'failed');
  assert.equal(sim.rt.info().lastError?.code, code);
  assert.equal(sim.spawns.length, 0, 'the runtime was never launched');
  assert.equal(existsSync(sim.logFile), false, 'the simulator never ran');
  assert.equal(sim.rt.info().pid, null);
  assert.deepEqual(await processesIn(sim.root), []);
  assert.throws(() => sim.rt.submit({ prompt: 'refused' }), (e: unknown) => isAx650Error(e) && e.code === 'RUNTIME_FAILED');
  await sim.stop();
}

function hardware(opts: SimRuntimeOptions = {}): Promise<SimRuntime> {
  return startSimRuntime({ ...opts, start: false, config: { simulator: false, ...opts.config } });
}

const binaryOf = (sim: SimRuntime): string => path.join(sim.modelDir, SIM_BINARY_NAME);

test('binary missing', async () => {
  const sim = await hardware();
  await rm(binaryOf(sim));
  await expectRefused(sim, 'BINARY_MISSING');
});

test('binary is a Git LFS pointer', async () => {
  const sim = await hardware();
  const pointer = 'version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 2374232\n';
  await writeFile(binaryOf(sim), pointer);
  await expectRefused(sim, 'BINARY_LFS_POINTER');
});

test('binary not executable', async () => {
  const sim = await hardware();
  await chmod(binaryOf(sim), 0o644);
  await expectRefused(sim, 'BINARY_NOT_EXECUTABLE');
});

test('binary for another CPU architecture (ELF header)', async () => {
  const sim = await hardware();
  const elf = Buffer.alloc(4096);
  elf.write('\x7fELF', 0, 'latin1');
  elf[4] = 2; // 64-bit
  elf[5] = 1; // little endian
  elf[6] = 1;
  elf.writeUInt16LE(2, 16); // ET_EXEC
  elf.writeUInt16LE(process.arch === 'arm64' ? 62 : 183, 18); // x86-64 on an arm64 host, aarch64 elsewhere
  await writeFile(binaryOf(sim), elf, { mode: 0o755 });
  await chmod(binaryOf(sim), 0o755);
  await expectRefused(sim, 'BINARY_WRONG_ARCH');
});

test('model files missing', async () => {
  const sim = await hardware();
  await rm(path.join(sim.modelDir, 'qwen3-4b-ax650', 'qwen3_p128_l2_together.axmodel'));
  await expectRefused(sim, 'MODEL_FILES_MISSING');
});

async function hold(port: number): Promise<net.Server> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '0.0.0.0', () => resolve());
  });
  return server;
}

test('the runtime port is in use', async () => {
  const sim = await startSimRuntime({ start: false });
  const server = await hold(sim.cfg.runtimePort);
  try {
    await expectRefused(sim, 'PORT_IN_USE');
  } finally {
    server.close();
  }
});

test('the tokenizer port is in use', async () => {
  const sim = await startSimRuntime({ start: false });
  const server = await hold(sim.cfg.tokenizerPort);
  try {
    await expectRefused(sim, 'TOKENIZER_PORT_IN_USE');
  } finally {
    server.close();
  }
});

test('a second runtime on the same port in this process', async () => {
  // What the ax650-runtime config node does before its pre-flight: claim the port for this node.
  const claiming = (owner: string) => async (c: RuntimeConfig) => {
    claimRuntimePort(c.runtimePort, owner);
    await runPreflight(c);
  };
  const first = await startSimRuntime({ preflight: claiming('first') });
  const second = await startSimRuntime({ start: false, preflight: claiming('second'), config: { runtimePort: first.cfg.runtimePort } });
  try {
    await expectRefused(second, 'DUPLICATE_RUNTIME');
    assert.equal(first.rt.state, 'ready', 'the first runtime is untouched');
    assert.equal((await first.rt.submit({ prompt: 'still serving' }).result).stats.doneReason, 'stop');
  } finally {
    releaseRuntimePort(first.cfg.runtimePort, 'first');
    await first.stop();
  }
});
