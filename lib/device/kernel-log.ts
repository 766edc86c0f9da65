/**
 * Reads the AXCL driver's distress lines out of the kernel log and remembers what it has seen,
 * so each probe reports only new lines while a dead card stays reported.
 *
 * Lines (reference §4.3, §4.4; `axcl_pcie_host.c`, `ax_mmb.c`):
 *   [heartbeat_recv_thread, 591]: device 1: dead!      ← PCIe bus number in hex
 *   [ax_sglist_alloc_mem, NNN]: alloc size: 0x…, alloc pages:… failed
 *   alloc pages failed / there are no free entries
 */

export interface KernelLogScan {
  /** Lines that were not in the previous scan. */
  newLines: number;
  /** PCIe bus numbers named by `device %x: dead!` lines in the new lines. */
  newDeadDevices: number[];
  /** New host allocation-failure lines, as printed (bounded to the last 20). */
  newAllocFailures: string[];
  /** Every bus number reported dead since this cursor was created and not seen alive since. */
  deadDevices: number[];
}

const DEAD = /device ([0-9a-f]+): dead!/i;
const ALLOC = /ax_sglist_alloc_mem.*failed|alloc pages failed|there are no free entries/i;
const STAMP = /^(?:<\d+>)?\[\s*(\d+\.\d+)\]/;
const MAX_ALLOC_LINES = 20;

function stampOf(line: string): number | null {
  const m = STAMP.exec(line);
  return m ? Number(m[1]) : null;
}

export class KernelLogCursor {
  private lastLine: string | null = null;
  private lastStamp: number | null = null;
  private readonly dead = new Set<number>();

  /** Returns the part of a full log dump that follows what the previous call saw. */
  private unseen(lines: string[]): string[] {
    if (this.lastLine !== null) {
      const at = lines.lastIndexOf(this.lastLine);
      if (at >= 0) return lines.slice(at + 1);
    }
    // The last seen line rotated out of the ring buffer (or the log was cleared): fall back to timestamps.
    const since = this.lastStamp;
    if (since === null) return lines;
    return lines.filter((l) => {
      const s = stampOf(l);
      return s === null || s > since;
    });
  }

  scan(text: string): KernelLogScan {
    const lines = text.split(/\r?\n/).filter((l) => l.trim().length > 0);
    const fresh = this.unseen(lines);
    const newDeadDevices: number[] = [];
    const newAllocFailures: string[] = [];
    for (const line of fresh) {
      const d = DEAD.exec(line);
      if (d) {
        const bus = parseInt(d[1] as string, 16);
        newDeadDevices.push(bus);
        this.dead.add(bus);
      } else if (ALLOC.test(line)) {
        newAllocFailures.push(line.trim());
      }
    }
    const last = lines[lines.length - 1];
    if (last !== undefined) {
      this.lastLine = last;
      this.lastStamp = stampOf(last) ?? this.lastStamp;
    }
    return {
      newLines: fresh.length,
      newDeadDevices,
      newAllocFailures: newAllocFailures.slice(-MAX_ALLOC_LINES),
      deadDevices: this.currentDead(),
    };
  }

  /** Bus numbers reported dead and not seen alive since. */
  currentDead(): number[] {
    return [...this.dead].sort((a, b) => a - b);
  }

  /** A card listed again by axcl-smi on this bus is alive (driver reloaded, card re-enumerated). */
  markAlive(busNumber: number): void {
    this.dead.delete(busNumber);
  }
}
