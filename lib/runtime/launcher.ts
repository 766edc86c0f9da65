/**
 * How the runtime process is started: the vendor binary in the model folder, or a simulator that
 * takes the same command line. lib/ never imports the simulator: the caller (the node layer, a test,
 * the check command) hands in a SimulatorProvider when simulator mode may be used.
 */
import path from 'node:path';
import { Ax650Error } from '../errors';
import { runtimeArgs, type RuntimeConfig } from './config';
import type { LaunchSpec, RuntimeLauncher } from './processes';
import type { RuntimeKind } from '../client/runtime-client';
import { axllmArgs, axllmBinaryPath, axllmEnv } from './axllm-launch';

export const BINARY_NAMES: Readonly<Record<string, string>> = {
  arm64: 'main_api_axcl_aarch64',
  x64: 'main_api_axcl_x86',
};

/** What a simulator implementation offers the library: a model folder to run from, and its launch command. */
export interface SimulatorProvider {
  /** Lays out (or refreshes) a vendor-like model folder of that kind the simulator runs from. */
  createModelDir(dir: string, kind: RuntimeKind): Promise<void>;
  /** The command that runs the simulator in place of the runtime binary (of the kind `cfg.kind` says). */
  launch: RuntimeLauncher;
}

export function binaryPath(cfg: RuntimeConfig): string {
  const name = cfg.binary || BINARY_NAMES[process.arch] || 'main_api_axcl_aarch64';
  return path.isAbsolute(name) ? name : path.join(cfg.modelDir, name);
}

export function binaryLauncher(cfg: RuntimeConfig, tokenizerUrl: string): LaunchSpec {
  if (cfg.kind === 'axllm') return { command: axllmBinaryPath(cfg), args: axllmArgs(cfg), env: axllmEnv(cfg) };
  return { command: binaryPath(cfg), args: runtimeArgs(cfg, tokenizerUrl), env: {} };
}

export function noSimulatorError(): Ax650Error {
  return new Ax650Error('CONFIG_INVALID', 'Simulator mode is not available here (no simulator was provided); set the mode to hardware and point it at a model folder.');
}

export function launcherFor(cfg: RuntimeConfig, simulator?: SimulatorProvider): RuntimeLauncher {
  if (!cfg.simulator) return binaryLauncher;
  if (!simulator) throw noSimulatorError();
  return simulator.launch;
}
