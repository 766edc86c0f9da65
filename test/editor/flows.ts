/**
 * Flow pieces for the editor tests: one runtime node on the simulator with free loopback ports, so
 * the examples run as shipped except for where the NPU is and how fast the fake model talks.
 */
import { simulatorTestEnv } from '../../simulator/env';
import { freeLoopbackPort } from '../helpers/node-red-process';

export const DASHBOARD = '@flowfuse/node-red-dashboard';

export async function simulatorRuntime(id: string, simEnv: Record<string, string> = {}): Promise<Record<string, unknown> & { id: string; type: string }> {
  return {
    id,
    type: 'ax650-runtime',
    name: 'NPU (test simulator)',
    mode: 'simulator',
    modelDir: '',
    binary: '',
    devices: 'auto',
    systemPrompt: 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.',
    tokenizerMode: 'builtin',
    tokenizerPort: await freeLoopbackPort(),
    tokenizerUrl: '',
    startOn: 'deploy',
    queueLimit: 32,
    loadStallSec: 60,
    maxCrashes: 5,
    modelName: 'qwen3-ax650',
    flags: '',
    simEnv: JSON.stringify({ ...simulatorTestEnv, ...simEnv }),
    runtimePort: await freeLoopbackPort(),
    kernelLog: 'off',
  };
}

/** Resolves when `text()` contains `needle`; rejects with the text after `ms`. */
export async function waitForText(text: () => string, needle: string | RegExp, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  const found = (): boolean => (typeof needle === 'string' ? text().includes(needle) : needle.test(text()));
  while (!found()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${String(needle)} in:\n${text().slice(-4000)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export { isAlive as alive } from '../helpers/sim';
