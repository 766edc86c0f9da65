/**
 * The package's Runtime on the simulator without Node-RED (what the ax650-runtime node wraps), for
 * rows that need only a JobRunner. stop() proves the simulator process gone.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { defaultConfig } from '../../lib/runtime/config';
import { Runtime } from '../../lib/runtime/runtime';
import { runPreflight } from '../../lib/runtime/settings';
import { simulatorTestEnv } from '../../simulator/env';
import { simulatorLauncher } from '../../simulator/provider';
import { createSimModelDir } from '../../simulator/model-dir';
import { createAxllmSimModelDir } from '../../simulator/axllm/model-dir';
import type { RuntimeKind } from '../../lib/client/runtime-client';
import { freePort, isAlive } from '../../test/helpers/sim';

export interface SimRuntime {
  runtime: Runtime;
  stop(): Promise<void>;
}

export async function startSimRuntime(simEnv: Record<string, string>, kind: RuntimeKind = 'main-api'): Promise<SimRuntime> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ax650-bench-rt-'));
  const modelDir = path.join(dir, 'model');
  if (kind === 'axllm') await createAxllmSimModelDir(modelDir);
  else await createSimModelDir(modelDir);
  const cfg = defaultConfig({
    kind,
    modelDir,
    simulator: true,
    runtimePort: await freePort(),
    tokenizerPort: await freePort(),
    stateDir: dir,
    simulatorEnv: { ...simulatorTestEnv, ...simEnv },
  });
  const runtime = new Runtime(cfg, { launcher: simulatorLauncher, preflight: runPreflight });
  const stop = async (): Promise<void> => {
    const pid = runtime.info().pid;
    await runtime.stop();
    await rm(dir, { recursive: true, force: true });
    if (pid !== null && isAlive(pid)) throw new Error(`simulator pid ${pid} alive after Runtime.stop()`);
  };
  try {
    await runtime.start();
  } catch (e) {
    await stop();
    throw e;
  }
  return { runtime, stop };
}
