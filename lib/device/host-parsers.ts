/** Parsers for host-side facts about the card: `/proc/meminfo` and `lspci -n`. */

export interface HostMemory {
  memTotalKiB: number | null;
  memAvailableKiB: number | null;
  /** Contiguous memory area. A Pi 5 ships with 64 MiB; whether the AXCL driver needs more is unresolved (reference §4.4). */
  cmaTotalKiB: number | null;
  cmaFreeKiB: number | null;
}

/** AXERA vendor id and the AX650 device id, as `lspci -n` prints them (reference §4.3). */
export const AXERA_PCI_ID = '1f4b:0650';

export function parseMeminfo(text: string): HostMemory {
  const read = (key: string): number | null => {
    const m = new RegExp(`^${key}:\\s+(\\d+)\\s*kB`, 'm').exec(text);
    return m ? Number(m[1]) : null;
  };
  return {
    memTotalKiB: read('MemTotal'),
    memAvailableKiB: read('MemAvailable'),
    cmaTotalKiB: read('CmaTotal'),
    cmaFreeKiB: read('CmaFree'),
  };
}

/**
 * PCI addresses of AX650 cards in `lspci -n` output, e.g. `0001:01:00.0 0400: 1f4b:0650 (rev 01)`
 * (the domain is printed only when it is not 0000 unless `-D` is given).
 */
export function parseLspci(text: string): string[] {
  const found: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const m = /^(\S+)\s+[0-9a-f]{4}:\s+([0-9a-f]{4}:[0-9a-f]{4})\b/i.exec(line.trim());
    if (m && (m[2] as string).toLowerCase() === AXERA_PCI_ID) found.push(m[1] as string);
  }
  return found;
}
