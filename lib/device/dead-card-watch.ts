/**
 * Answers the Runtime's question before it restarts a crashed runtime: has the kernel declared the
 * card dead since this runtime started? The AXCL driver logs `[heartbeat_recv_thread, …]: device %x: dead!`
 * (`axcl_pcie_host.c`, reference §4.3) and only a host reboot brings such a card back, so restarting
 * would load for two minutes, crash and loop until the crash budget is spent.
 */
import { Ax650Error } from '../errors';
import { KernelLogCursor } from './kernel-log';
import { probeKernelLog, type ProbeOptions } from './probes';

/** Where the kernel log is read from: the `kernelLog` setting of the runtime and health nodes. */
export type KernelLogSource = { kind: 'dmesg' } | { kind: 'file'; path: string } | { kind: 'off' };

/** `""` or `"dmesg"` → dmesg (journalctl -k when dmesg is restricted), `"off"` → never, anything else is a file path. */
export function parseKernelLogSetting(value: unknown): KernelLogSource {
  const v = typeof value === 'string' ? value.trim() : '';
  if (v === '' || v === 'dmesg') return { kind: 'dmesg' };
  if (v === 'off') return { kind: 'off' };
  return { kind: 'file', path: v };
}

/** The probe options for a source: `dmesg: null` turns the kernel log off. */
export function kernelLogProbeOptions(source: KernelLogSource): Pick<ProbeOptions, 'kernelLogFile' | 'dmesg'> {
  if (source.kind === 'file') return { kernelLogFile: source.path };
  return source.kind === 'off' ? { dmesg: null } : {};
}

export class DeadCardWatch {
  private cursor = new KernelLogCursor();
  private readonly probe: ProbeOptions;

  constructor(readonly source: KernelLogSource, opts: Pick<ProbeOptions, 'timeoutMs' | 'env'> = {}) {
    this.probe = { ...opts, ...kernelLogProbeOptions(source) };
  }

  /**
   * The simulator has no card and the host's own kernel log says nothing about it, so a simulated
   * runtime is watched only when the log is an explicit file (tests, demos of the dead-card path).
   */
  appliesTo(cfg: { simulator: boolean }): boolean {
    if (this.source.kind === 'off') return false;
    return !cfg.simulator || this.source.kind === 'file';
  }

  /** Marks everything logged so far as seen; called each time the runtime starts. */
  async mark(): Promise<void> {
    this.cursor = new KernelLogCursor();
    await probeKernelLog(this.probe, this.cursor);
  }

  /** DEAD_CARD when a dead-card line appeared since `mark()`; null otherwise or when the log is unreadable. */
  async check(): Promise<Ax650Error | null> {
    const scan = await probeKernelLog(this.probe, this.cursor);
    const bus = scan.newDeadDevices[0];
    if (bus === undefined) return null;
    const device = `0x${bus.toString(16)}`;
    return new Ax650Error(
      'DEAD_CARD',
      `The kernel reports the NPU card on PCIe bus ${device} dead (\`device ${bus.toString(16)}: dead!\`), so the runtime is not restarted: only a reboot of the host brings the card back. Check cooling, power and that host suspend is disabled.`,
      { params: { device } },
    );
  }
}

// The AXCL host runtime's report: `[2025-11-09 08:46:00.029][10994][W][device manager][listen][292]: device 1 is dead`.
const DEAD_CARD_MARKER = /\[device manager\]\[[^\]\n]{0,64}\]\[\s*\d+\]: ?device (\d+) is dead\b/;
/** Longer than the marker, so one split across any two reads is still seen whole. */
const WINDOW_CHARS = 512;

/**
 * Finds the dead-card report anywhere in the runtime's output: the runtime prints generated text
 * without a newline, so the report can arrive glued to the end of a token line, and it can arrive
 * split across reads. Fed with raw decoded chunks (not lines); each report is found once.
 */
export class DeadCardScanner {
  private window = '';

  /** The device number when this chunk completes a report, else null. */
  push(text: string): number | null {
    // The whole chunk is searched (it may be far longer than the window); only the carry-over is bounded.
    const hay = this.window + text;
    const m = DEAD_CARD_MARKER.exec(hay);
    this.window = (m ? hay.slice(m.index + m[0].length) : hay).slice(-WINDOW_CHARS);
    return m ? Number(m[1]) : null;
  }
}
