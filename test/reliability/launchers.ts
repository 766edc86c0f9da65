/**
 * The three ways a user's runtime command reaches the program, for the orphan tests: the program
 * itself (an ELF: node running the simulator), a `#!` wrapper that execs it (the model folder's
 * `main_api_axcl_aarch64` stand-in), and a run script that starts it as its child and waits.
 */
import { chmodSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { simulatorLauncher } from '../../simulator/provider';
import type { RuntimeLauncher } from '../../lib/runtime/processes';
import { SIM_BINARY_NAME } from '../../simulator/model-dir';

export type LaunchVariant = 'elf' | 'wrapper' | 'script';
export const LAUNCH_VARIANTS: readonly LaunchVariant[] = ['elf', 'wrapper', 'script'];
export const RUN_SCRIPT = 'run-runtime.sh';

/** A run script in the model folder that starts the program with its arguments; returns its path. */
export function writeRunScript(modelDir: string): string {
  const file = path.join(modelDir, RUN_SCRIPT);
  // No exec: the shell stays the group leader and the program runs as its child, as many run scripts do.
  writeFileSync(file, `#!/bin/sh\ncd "$(dirname "$0")"\n./${SIM_BINARY_NAME} "$@"\necho "runtime exited with $?"\n`);
  chmodSync(file, 0o755);
  return file;
}

/** Writes what the variant needs into the model folder (the run script) and returns its launcher. */
export function launcherFor(variant: LaunchVariant, modelDir: string): RuntimeLauncher {
  if (variant === 'elf') return simulatorLauncher;
  if (variant === 'script') writeRunScript(modelDir);
  const command = path.join(modelDir, variant === 'script' ? RUN_SCRIPT : SIM_BINARY_NAME);
  return (cfg, url) => {
    const sim = simulatorLauncher(cfg, url);
    // simulatorLauncher runs `node cli.js <runtime args>`; the wrapper and the script take the runtime args alone.
    return { ...sim, command, args: sim.args.slice(1) };
  };
}
