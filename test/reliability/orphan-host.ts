/**
 * A stand-in for a Node-RED process for the orphan tests: starts a Runtime on the simulator with the
 * given launch variant in a folder the test prepared, reports its runtime pid once ready as one JSON
 * line, and waits to be SIGKILLed. Usage: node orphan-host.js '{"root","runtimePort","tokenizerPort","variant"}'
 */
import path from 'node:path';
import { startSimRuntime } from '../runtime/helpers';
import { launcherFor, type LaunchVariant } from './launchers';

interface HostArgs {
  root: string;
  runtimePort: number;
  tokenizerPort: number;
  variant: LaunchVariant;
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? '{}') as HostArgs;
  const sim = await startSimRuntime({ reuse: args, launcher: launcherFor(args.variant, path.join(args.root, 'model')) });
  process.stdout.write(`${JSON.stringify({ event: 'ready', runtimePid: sim.rt.info().pid })}\n`);
}

main().catch((e: unknown) => {
  process.stdout.write(`${JSON.stringify({ event: 'error', message: String(e) })}\n`);
  process.exit(1);
});
