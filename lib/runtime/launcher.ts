/**
 * How the runtime process is started: the vendor binary in the model folder, or the bundled
 * simulator that takes the same command line (and its knobs from the environment only, because the
 * real binary rejects unknown flags).
 */
import path from 'node:path';
import { existsSync } from 'node:fs';
import { runtimeArgs, type RuntimeConfig } from './config';
import type { LaunchSpec } from './processes';
import { axllmArgs, axllmBinaryPath, axllmEnv } from './axllm-launch';

export const BINARY_NAMES: Readonly<Record<string, string>> = {
  arm64: 'main_api_axcl_aarch64',
  x64: 'main_api_axcl_x86',
};

export function binaryPath(cfg: RuntimeConfig): string {
  const name = cfg.binary || BINARY_NAMES[process.arch] || 'main_api_axcl_aarch64';
  return path.isAbsolute(name) ? name : path.join(cfg.modelDir, name);
}

export function binaryLauncher(cfg: RuntimeConfig, tokenizerUrl: string): LaunchSpec {
  if (cfg.kind === 'axllm') return { command: axllmBinaryPath(cfg), args: axllmArgs(cfg), env: axllmEnv(cfg) };
  return { command: binaryPath(cfg), args: runtimeArgs(cfg, tokenizerUrl), env: {} };
}

export function simulatorCliPath(): string {
  const cli = path.resolve(__dirname, '../../simulator/cli.js');
  if (!existsSync(cli)) throw new Error(`The simulator is not built (${cli} is missing); run npm run build.`);
  return cli;
}

export function simulatorLauncher(cfg: RuntimeConfig, tokenizerUrl: string): LaunchSpec {
  if (cfg.kind === 'axllm') return { command: process.execPath, args: [simulatorCliPath(), ...axllmArgs(cfg)], env: { ...cfg.simulatorEnv, ...axllmEnv(cfg) } };
  return {
    command: process.execPath,
    args: [simulatorCliPath(), ...runtimeArgs(cfg, tokenizerUrl)],
    env: { ...cfg.simulatorEnv, AX650_SIM_PORT: String(cfg.runtimePort) },
  };
}

export function launcherFor(cfg: RuntimeConfig): (cfg: RuntimeConfig, tokenizerUrl: string) => LaunchSpec {
  return cfg.simulator ? simulatorLauncher : binaryLauncher;
}
