#!/usr/bin/env node
/**
 * `ax650-check [--simulator | --hardware] [--binary <path>] [--python <path>] <model_dir>`: the check for
 * card owners (lib/check). Prints the report on stdout (paste it into an issue), progress on stderr;
 * exits 0 when nothing failed, 1 when something did, 2 on a usage error. The node layer's choice of
 * simulator is made here: lib/ gets the simulator as a SimulatorProvider.
 */
import { runCheck, type CheckOptions } from '../lib/check/run-check';
import { simulatorProvider } from '../simulator/provider';

const USAGE = `usage: ax650-check [--simulator | --hardware] [--binary <path>] [--python <path>] <model_dir>

Runs the NPU runtime in <model_dir> through this package (load, a prompt, a stop, a restart,
tokenizer parity, no processes left) and prints a report to paste into an issue.
  --simulator   run the package's simulator instead of the card (default when /dev/axcl_host is missing;
                without <model_dir> the simulator's own model folder is used)
  --hardware    use the card even if /dev/axcl_host is missing
  --binary      the runtime binary (default: the one the folder's run script names)
  --python      the Python that has transformers or tokenizers, for the tokenizer comparison (default python3)
AX650_SIM_* environment variables set the simulator's knobs (speed, load time, faults).
`;

function parse(argv: string[]): CheckOptions | string {
  const opts: CheckOptions = { modelDir: '', mode: 'auto', simulator: simulatorProvider };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--simulator') opts.mode = 'simulator';
    else if (a === '--hardware') opts.mode = 'hardware';
    else if (a === '--binary' || a === '--python') {
      const v = argv[++i];
      if (!v) return `${a} needs a value`;
      if (a === '--binary') opts.binary = v;
      else opts.python = v;
    } else if (a === '-h' || a === '--help') return '';
    else if (a.startsWith('-')) return `unknown option ${a}`;
    else if (opts.modelDir) return `one model folder only (got ${opts.modelDir} and ${a})`;
    else opts.modelDir = a;
  }
  opts.simulatorEnv = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[0].startsWith('AX650_SIM_') && e[1] !== undefined));
  return opts;
}

async function main(): Promise<number> {
  const opts = parse(process.argv.slice(2));
  if (typeof opts === 'string') {
    process.stderr.write(opts ? `ax650-check: ${opts}\n${USAGE}` : USAGE);
    return opts ? 2 : 0;
  }
  opts.progress = (line) => process.stderr.write(`ax650-check: ${line}\n`);
  const report = await runCheck(opts);
  process.stdout.write(report.format());
  return report.failures.length === 0 ? 0 : 1;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`ax650-check: ${e instanceof Error ? e.stack ?? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
