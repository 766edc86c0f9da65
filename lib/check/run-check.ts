/**
 * ax650-check: runs the runtime through the package's own Runtime (the one the ax650-runtime node wraps)
 * and reports what a card owner pastes into an issue: what was found, load time, first token, tokens/s,
 * a stop, a crash-free restart, tokenizer parity, and no orphans at the end. Written against the
 * Runtime's public API only (start, submit, restart, stop, info, state events), so every runtime kind
 * runs the same check. lib/ does not import the simulator: the caller hands in a SimulatorProvider.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { toAx650Error } from '../errors';
import { freeLoopbackPort as freePort } from '../device/free-port';
import { launcherFor, type SimulatorProvider } from '../runtime/launcher';
import { Runtime } from '../runtime/runtime';
import { cardPresent, resolveRuntimeConfig, runPreflight, type RuntimeMode, type RuntimeSettings } from '../runtime/settings';
import type { RuntimeConfig } from '../runtime/config';
import { reportCard, reportConfig, reportFolderProblems } from './found';
import { CheckReport, ms } from './report';
import { checkTokenizerParity } from './tokenizer-parity';

export interface CheckOptions {
  /** The model folder; empty in simulator mode: the simulator's own folder is laid out in a temp folder. */
  modelDir: string;
  mode: RuntimeMode;
  binary?: string;
  simulator?: SimulatorProvider;
  /** AX650_SIM_* knobs for a simulator run. */
  simulatorEnv?: Record<string, string>;
  python?: string;
  /** Progress lines (stderr in the CLI), so a 2-minute load is not silent. */
  progress?: (line: string) => void;
}

const RUN = 'Run';
const PROMPT = 'Tell me a short fact about robots.';
const LONG_PROMPT = 'Write a long story about a robot arm that learns to sort screws.';

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(path.resolve(__dirname, '../../../package.json'), 'utf8')) as { name?: string; version?: string };
    return `${pkg.name ?? '?'} ${pkg.version ?? '?'}`;
  } catch {
    return 'version unknown';
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Processes (other than this one) whose working folder is `dir`: the runtime runs in its model folder. */
function processesIn(dir: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      if (readlinkSync(`/proc/${name}/cwd`) === dir) pids.push(Number(name));
    } catch {
      // ended, or not ours to read
    }
  }
  return pids;
}

function firstLines(text: string | undefined, n: number): string {
  return (text ?? '').split('\n').filter((l) => l.trim() !== '').slice(-n).join('\n');
}

async function exercise(report: CheckReport, runtime: Runtime, progress: (line: string) => void): Promise<void> {
  progress('loading the model…');
  const t0 = Date.now();
  try {
    await runtime.start();
  } catch (e) {
    const err = toAx650Error(e);
    report.add(RUN, 'load', `${err.code}: ${err.message}${err.tail ? `\nlast output:\n${firstLines(err.tail, 8)}` : ''}`, 'fail');
    return;
  }
  const info = runtime.info();
  report.add(RUN, 'load', `ready after ${ms(info.readyAt && info.startedAt ? info.readyAt - info.startedAt : Date.now() - t0)}; context ${info.maxTokenLen ?? '?'} tokens, prefill max ${info.prefillMaxTokenNum ?? '?'}`, 'ok');

  progress('first prompt…');
  const first = await runtime.submit({ prompt: PROMPT, maxTokens: 64, owner: 'ax650-check' }).result;
  const s = first.stats;
  report.add(RUN, 'first token', `${ms(s.ttftMs)} (runtime's own: ${ms(s.runtimeTtftMs)}); prompt ${s.promptTokens} tokens`, s.ttftMs === null ? 'fail' : 'ok');
  report.add(RUN, 'tokens/s', `${s.tokensPerSecond?.toFixed(2) ?? 'n/a'} (runtime's own: ${s.runtimeTokensPerSecond?.toFixed(2) ?? 'n/a'}); ${s.completionTokens} tokens, ${s.doneReason}`, s.completionTokens > 0 ? 'ok' : 'fail');
  report.add(RUN, 'reply', JSON.stringify(first.text.slice(0, 120)));

  progress('a stop…');
  const long = runtime.submit({ prompt: LONG_PROMPT, maxTokens: 1000, owner: 'ax650-check' });
  let stoppedAt = 0;
  long.once('delta', () => {
    stoppedAt = Date.now();
    long.cancel();
  });
  const stopped = await long.result;
  const stopMs = Date.now() - stoppedAt;
  const next = await runtime.submit({ prompt: PROMPT, maxTokens: 16, owner: 'ax650-check' }).result;
  const stopOk = stopped.stats.doneReason === 'abort' && next.stats.completionTokens > 0;
  report.add(RUN, 'stop', `stopped mid-reply after ${stopped.stats.completionTokens} tokens, ended ${stopMs} ms after the stop (${stopped.stats.doneReason}); next prompt's first token after ${ms(next.stats.ttftMs)}`, stopOk ? 'ok' : 'fail');

  progress('a restart…');
  const before = runtime.info();
  const t1 = Date.now();
  await runtime.restart();
  const after = runtime.info();
  const again = await runtime.submit({ prompt: PROMPT, maxTokens: 16, owner: 'ax650-check' }).result;
  const crashFree = after.restarts === before.restarts && after.lastError === null && after.pid !== before.pid;
  report.add(RUN, 'restart', `pid ${before.pid} → ${after.pid} in ${Date.now() - t1} ms, crashes counted ${after.restarts}, then a prompt answered (${again.stats.completionTokens} tokens)`, crashFree && again.stats.completionTokens > 0 ? 'ok' : 'fail');
}

export async function runCheck(opts: CheckOptions): Promise<CheckReport> {
  const progress = opts.progress ?? ((): void => undefined);
  const report = new CheckReport(`ax650-check report: ${packageVersion()}, Node ${process.version}, ${os.platform()} ${os.arch()}, ${new Date().toISOString()}`);
  const stateDir = mkdtempSync(path.join(os.tmpdir(), 'ax650-check-'));
  try {
    const simulator = opts.mode === 'simulator' || (opts.mode !== 'hardware' && !cardPresent());
    const why = opts.mode === 'simulator' ? 'asked for' : 'no card: /dev/axcl_host is missing';
    const modelDir = opts.modelDir ? path.resolve(opts.modelDir) : '';
    if (modelDir && !existsSync(path.join(modelDir, 'qwen3_tokenizer', 'tokenizer.json'))) {
      report.add('Found', 'model folder', `${modelDir} has no qwen3_tokenizer/tokenizer.json: not a model folder in the 2025 layout (main_api_* + qwen3_tokenizer/ + run script)`, 'fail');
    }
    if (!simulator && (!modelDir || !(await reportFolderProblems(report, modelDir, opts.binary)))) {
      if (!modelDir) report.add('Found', 'model folder', 'give the model folder: ax650-check <model_dir>', 'fail');
      return report;
    }
    if (report.failures.length > 0) return report;

    const settings: RuntimeSettings = { modelDir, mode: simulator ? 'simulator' : 'hardware', stateDir, tokenizerPort: await freePort(), simulatorEnv: opts.simulatorEnv ?? {}, maxCrashes: 1 };
    if (opts.binary) settings.binary = opts.binary;
    if (simulator) settings.runtimePort = await freePort();
    let cfg: RuntimeConfig;
    try {
      cfg = await resolveRuntimeConfig(settings, opts.simulator);
    } catch (e) {
      const err = toAx650Error(e, 'CONFIG_INVALID');
      report.add('Found', 'settings', `${err.code}: ${err.message}`, 'fail');
      return report;
    }
    reportConfig(report, cfg, why);
    await reportCard(report, cfg);

    const runtime = new Runtime(cfg, { launcher: launcherFor(cfg, opts.simulator), preflight: runPreflight });
    const pids = new Set<number>();
    runtime.on('state', (_s, info) => {
      if (info.pid !== null) pids.add(info.pid);
    });
    try {
      await exercise(report, runtime, progress);
    } catch (e) {
      const err = toAx650Error(e);
      report.add(RUN, 'error', `${err.code}: ${err.message}${err.tail ? `\nlast output:\n${firstLines(err.tail, 8)}` : ''}`, 'fail');
    } finally {
      progress('stopping…');
      await runtime.stop();
    }

    progress('tokenizer parity…');
    try {
      const parity = await checkTokenizerParity(cfg.modelDir, opts.python);
      const rt = `round trip ${parity.roundTrip}/${parity.total}`;
      if (parity.reference) {
        const { lib, identical, mismatches } = parity.reference;
        report.add(RUN, 'tokenizer', `${identical}/${parity.total} strings give the same ids as the folder's files read by Python ${lib}; ${rt}${mismatches.length ? `\ndiffer: ${mismatches.map((m) => JSON.stringify(m)).join(', ')}` : ''}`, mismatches.length === 0 && parity.roundTrip === parity.total ? 'ok' : 'fail');
      } else {
        report.add(RUN, 'tokenizer', `${rt} with the folder's files; no Python reference (${parity.why}): install python3 with transformers or tokenizers for the id comparison`, parity.roundTrip === parity.total ? 'warn' : 'fail');
      }
    } catch (e) {
      const err = toAx650Error(e);
      report.add(RUN, 'tokenizer', `${err.code}: ${err.message}`, 'fail');
    }

    const left = [...pids].filter(alive).concat(processesIn(cfg.modelDir).filter((p) => !pids.has(p)));
    report.add(RUN, 'orphans', left.length === 0 ? `none (${pids.size} runtime process(es) started, all gone)` : `still running: ${left.join(', ')}`, left.length === 0 ? 'ok' : 'fail');
    return report;
  } finally {
    rmSync(stateDir, { recursive: true, force: true });
  }
}
