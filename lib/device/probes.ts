/**
 * Device probes: one `DeviceReading` from axcl-smi, lspci, /dev/axcl_host, /proc/meminfo and
 * the kernel log. Every tool path is injectable so tests (and unusual installs) can use fakes.
 * Probes never throw: a missing tool, a hang or an error string is part of the reading.
 */
import { access, readFile } from 'node:fs/promises';
import { Ax650Error } from '../errors';
import { parseLspci, parseMeminfo, type HostMemory } from './host-parsers';
import { KernelLogCursor, type KernelLogScan } from './kernel-log';
import { runTool, type ToolCommand, type ToolResult } from './run-tool';
import { parseCmmInfo, parseSmiError, parseSmiTable, type CmmInfo, type SmiCard, type SmiProcess } from './smi-parser';

export interface ProbeOptions {
  /** axcl-smi command. Default: `axcl-smi` on PATH, then `/usr/bin/axcl/axcl-smi` (where the driver package installs it). */
  smi?: ToolCommand;
  /** Timeout for each tool run, ms. Default 5000: axcl-smi hangs when the card is dead (reference §4.2). */
  timeoutMs?: number;
  /**
   * The runtime is loading: axcl-smi is not run, because the runtime uses the same device and
   * axcl-smi refuses concurrent runs (`%s is already running, please try later.`).
   */
  runtimeLoading?: boolean;
  /** Default `/proc/meminfo`. */
  meminfoPath?: string;
  /** Read the kernel log from this file instead of running dmesg (tests, or a syslog copy). */
  kernelLogFile?: string;
  /** Default `dmesg`, falling back to `journalctl -k` when dmesg is restricted to root. null: skip. */
  dmesg?: ToolCommand | null;
  /** Default `lspci`. null: skip. */
  lspci?: ToolCommand | null;
  /** Default `/dev/axcl_host`. */
  devNodePath?: string;
  /** Keeps the kernel-log position between probes; without it every probe sees the whole log as new. */
  kernelLog?: KernelLogCursor;
  /** Environment for the tools (tests pass FAKE_SMI_* knobs). */
  env?: NodeJS.ProcessEnv;
}

export type SmiFailure = 'timeout' | 'not-found' | 'busy' | 'init-failed' | 'exit' | 'unparsable' | 'spawn-error';

/** What axcl-smi said. `ok:true` with zero cards means the tool ran but listed no card (dead or absent). */
export interface SmiReading {
  ok: boolean;
  /** false only when the tool is not installed (ENOENT). */
  present: boolean;
  skipped?: 'runtime loading';
  error?: SmiFailure;
  message?: string;
  smiVersion: string | null;
  driverVersion: string | null;
  cards: SmiCard[];
  processes: SmiProcess[];
}

export interface KernelReading extends KernelLogScan {
  source: 'dmesg' | 'journalctl' | 'file' | null;
  error?: string;
}

/** One probe of everything the package can learn about the card without the runtime. */
export interface DeviceReading {
  /** Epoch ms when the probe started. */
  at: number;
  /** A card is there: lspci lists 1f4b:0650, or /dev/axcl_host exists, or axcl-smi listed a card. */
  present: boolean;
  /** PCI addresses from `lspci -n`; null when lspci could not be run. */
  pciAddresses: string[] | null;
  /** `/dev/axcl_host` exists (the AXCL host driver is loaded). */
  devNode: boolean;
  smi: SmiReading;
  /** null when /proc/meminfo could not be read. */
  memory: HostMemory | null;
  kernel: KernelReading;
}

const DEFAULT_SMI: readonly ToolCommand[] = ['axcl-smi', '/usr/bin/axcl/axcl-smi'];

function emptySmi(extra: Partial<SmiReading>): SmiReading {
  return { ok: false, present: true, smiVersion: null, driverVersion: null, cards: [], processes: [], ...extra };
}

/** Runs axcl-smi with `args`, trying the default install locations when no command is given. */
export async function runSmi(args: readonly string[], opts: ProbeOptions): Promise<ToolResult> {
  const candidates = opts.smi === undefined ? DEFAULT_SMI : [opts.smi];
  let last: ToolResult = { kind: 'not-found', command: 'axcl-smi' };
  for (const cmd of candidates) {
    last = await runTool(cmd, args, { timeoutMs: opts.timeoutMs ?? 5000, env: opts.env });
    if (last.kind !== 'not-found') return last;
  }
  return last;
}

export function smiReadingFrom(r: ToolResult): SmiReading {
  switch (r.kind) {
    case 'not-found':
      return emptySmi({ present: false, error: 'not-found', message: 'axcl-smi is not installed: install the AXCL host driver package (axclhost).' });
    case 'spawn-error':
      return emptySmi({ error: 'spawn-error', message: r.message });
    case 'timeout':
      return emptySmi({ error: 'timeout', message: 'axcl-smi did not answer in time; the card may be dead (a host reboot is the known cure).' });
    case 'exited': {
      const text = `${r.stdout}\n${r.stderr}`;
      const known = parseSmiError(text);
      if (known) return emptySmi({ error: known.kind === 'busy' ? 'busy' : 'init-failed', message: known.message });
      const table = parseSmiTable(r.stdout);
      if (table.recognized) return { ok: true, present: true, ...table };
      if (r.code !== 0) return emptySmi({ error: 'exit', message: `axcl-smi exited with ${r.code ?? r.signal}: ${text.trim().slice(0, 200)}` });
      return emptySmi({ error: 'unparsable', message: `axcl-smi printed no table: ${text.trim().slice(0, 200)}` });
    }
  }
}

export async function probeSmi(opts: ProbeOptions = {}): Promise<SmiReading> {
  if (opts.runtimeLoading) return emptySmi({ skipped: 'runtime loading' });
  return smiReadingFrom(await runSmi([], opts));
}

async function probeLspci(opts: ProbeOptions): Promise<string[] | null> {
  if (opts.lspci === null) return null;
  const r = await runTool(opts.lspci ?? 'lspci', ['-n'], { timeoutMs: opts.timeoutMs ?? 5000, env: opts.env });
  return r.kind === 'exited' && r.code === 0 ? parseLspci(r.stdout) : null;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

async function probeMeminfo(path: string): Promise<HostMemory | null> {
  try {
    return parseMeminfo(await readFile(path, 'utf8'));
  } catch {
    return null;
  }
}

async function readKernelLog(opts: ProbeOptions): Promise<{ text: string; source: KernelReading['source'] } | { error: string }> {
  if (opts.kernelLogFile !== undefined) {
    try {
      return { text: await readFile(opts.kernelLogFile, 'utf8'), source: 'file' };
    } catch (e) {
      return { error: `cannot read ${opts.kernelLogFile}: ${(e as Error).message}` };
    }
  }
  const timeoutMs = opts.timeoutMs ?? 5000;
  const d = await runTool(opts.dmesg ?? 'dmesg', [], { timeoutMs, env: opts.env });
  if (d.kind === 'exited' && d.code === 0) return { text: d.stdout, source: 'dmesg' };
  if (opts.dmesg !== undefined) return { error: `dmesg failed (${d.kind})` };
  // dmesg_restrict=1 (Debian default) denies non-root users; journalctl -k works for the adm group.
  const j = await runTool('journalctl', ['-k', '-b', '-o', 'short-monotonic', '--no-pager', '-q', '-n', '5000'], { timeoutMs, env: opts.env });
  if (j.kind === 'exited' && j.code === 0) return { text: j.stdout, source: 'journalctl' };
  return { error: 'the kernel log is not readable (dmesg is restricted; add the Node-RED user to the adm group for journalctl -k)' };
}

/** Reads the kernel log once and advances `cursor` past it. Never throws: an unreadable log is `error`. */
export async function probeKernelLog(opts: ProbeOptions, cursor: KernelLogCursor): Promise<KernelReading> {
  if (opts.dmesg === null && opts.kernelLogFile === undefined) {
    return { source: null, newLines: 0, newDeadDevices: [], newAllocFailures: [], deadDevices: cursor.currentDead() };
  }
  const log = await readKernelLog(opts);
  if ('error' in log) return { source: null, error: log.error, newLines: 0, newDeadDevices: [], newAllocFailures: [], deadDevices: cursor.currentDead() };
  return { source: log.source, ...cursor.scan(log.text) };
}

/** Probes everything in parallel. Never throws. */
export async function probeDevices(opts: ProbeOptions = {}): Promise<DeviceReading> {
  const at = Date.now();
  const cursor = opts.kernelLog ?? new KernelLogCursor();
  const [smi, pciAddresses, devNode, memory, kernel] = await Promise.all([
    probeSmi(opts),
    probeLspci(opts),
    exists(opts.devNodePath ?? '/dev/axcl_host'),
    probeMeminfo(opts.meminfoPath ?? '/proc/meminfo'),
    probeKernelLog(opts, cursor),
  ]);
  for (const card of smi.cards) {
    if (card.busNumber !== null && card.temperatureC !== null) cursor.markAlive(card.busNumber);
  }
  const deadDevices = kernel.deadDevices.filter((b) => !smi.cards.some((c) => c.busNumber === b && c.temperatureC !== null));
  const present = (pciAddresses !== null && pciAddresses.length > 0) || devNode || smi.cards.length > 0;
  return { at, present, pciAddresses, devNode, smi, memory, kernel: { ...kernel, deadDevices } };
}

/**
 * The 0-based card indices for the runtime's `--devices` when configured as `auto`.
 * Throws Ax650Error NO_CARD with the reason when axcl-smi lists no card.
 */
export async function listCards(opts: ProbeOptions = {}): Promise<number[]> {
  const smi = await probeSmi({ ...opts, runtimeLoading: false });
  if (smi.ok && smi.cards.length > 0) return smi.cards.map((c) => c.index).sort((a, b) => a - b);
  const why = smi.ok
    ? 'axcl-smi lists no card: check that the card is seated (lspci shows "Axera … Device 0650") and that the host has not reported it dead (dmesg); a reboot usually recovers a dead card.'
    : (smi.message ?? 'axcl-smi failed.');
  throw new Ax650Error('NO_CARD', `No AX650 card found for devices = auto. ${why}`, { params: { reason: smi.error ?? 'no-rows' } });
}

export type CmmReading = { ok: true; info: CmmInfo } | { ok: false; error: SmiFailure | 'out-of-range'; message: string };

/** `axcl-smi info --cmm -d <index>`: exact CMM figures in KiB for one card (0-based index). */
export async function readCmmInfo(index: number, opts: ProbeOptions = {}): Promise<CmmReading> {
  if (opts.runtimeLoading) return { ok: false, error: 'busy', message: 'skipped while the runtime is loading' };
  const r = await runSmi(['info', '--cmm', '-d', String(index)], opts);
  if (r.kind === 'exited') {
    const known = parseSmiError(`${r.stdout}\n${r.stderr}`);
    if (known?.kind === 'out-of-range') return { ok: false, error: 'out-of-range', message: known.message };
    const info = known ? null : parseCmmInfo(r.stdout);
    if (info) return { ok: true, info };
  }
  const failed = smiReadingFrom(r);
  return { ok: false, error: failed.error ?? 'unparsable', message: failed.message ?? 'axcl-smi info --cmm printed no CMM figures' };
}
