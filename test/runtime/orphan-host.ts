/**
 * A stand-in for a Node-RED process, for the orphan test: it starts a Runtime on the simulator in a
 * folder the test prepared (vendor tokenizer, so both children have pid files), starts a slow job
 * and reports on stdout, one JSON line per event, until the test SIGKILLs it mid-generation.
 * Usage: node orphan-host.js '{"root":…,"runtimePort":…,"tokenizerPort":…}'
 */
import { startSimRuntime } from './helpers';

interface HostArgs {
  root: string;
  runtimePort: number;
  tokenizerPort: number;
}

function say(event: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? '{}') as HostArgs;
  const sim = await startSimRuntime({
    reuse: args,
    vendorTokenizer: true,
    simEnv: { AX650_SIM_TOKENS_PER_SEC: '5', AX650_SIM_REPLY_TOKENS: '400' },
  });
  say({ event: 'ready', runtimePid: sim.rt.info().pid, tokenizerPid: sim.tokenizerPid() });
  const job = sim.rt.submit({ prompt: 'a long story, please' });
  job.once('delta', () => say({ event: 'delta', runtimePid: sim.rt.info().pid, tokenizerPid: sim.tokenizerPid() }));
  job.result.catch((e: unknown) => say({ event: 'error', message: String(e) }));
}

main().catch((e: unknown) => {
  say({ event: 'error', message: String(e) });
  process.exit(1);
});
