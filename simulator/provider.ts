/**
 * The simulator as the library sees it (lib/runtime/launcher.ts SimulatorProvider): lib/ never imports
 * simulator/, so the node layer, the tests and the check command hand this in. The simulator takes the
 * runtime's exact command line, and its knobs from the environment only (the real binary rejects
 * unknown flags).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { runtimeArgs, type RuntimeConfig } from '../lib/runtime/config';
import type { SimulatorProvider } from '../lib/runtime/launcher';
import type { LaunchSpec } from '../lib/runtime/processes';
import { createSimModelDir } from './model-dir';
import { createAxllmSimModelDir } from './axllm/model-dir';
import { axllmArgs, axllmEnv } from '../lib/runtime/axllm-launch';

export function simulatorCliPath(): string {
  const cli = path.resolve(__dirname, 'cli.js');
  if (!existsSync(cli)) throw new Error(`The simulator is not built (${cli} is missing); run npm run build.`);
  return cli;
}

export function simulatorLauncher(cfg: RuntimeConfig, tokenizerUrl: string): LaunchSpec {
  // `ax650-sim serve <dir> --port P`: the axllm half (simulator/axllm/).
  if (cfg.kind === 'axllm') return { command: process.execPath, args: [simulatorCliPath(), ...axllmArgs(cfg)], env: { ...cfg.simulatorEnv, ...axllmEnv(cfg) } };
  return {
    command: process.execPath,
    args: [simulatorCliPath(), ...runtimeArgs(cfg, tokenizerUrl)],
    env: { ...cfg.simulatorEnv, AX650_SIM_PORT: String(cfg.runtimePort) },
  };
}

export const simulatorProvider: SimulatorProvider = {
  createModelDir: async (dir, kind) => {
    if (kind === 'axllm') await createAxllmSimModelDir(dir);
    else await createSimModelDir(dir);
  },
  launch: simulatorLauncher,
};
