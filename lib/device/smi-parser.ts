/**
 * Parsers for the text `axcl-smi` prints. The default table is read by cell position (the
 * `|`-separated columns of the vendor format strings, reference §4.1), never by header words:
 * the card name is `AX650N` in V3.4.0 and `AX8850` in V3.10.2, and column widths have drifted
 * between documentation copies.
 *
 *   | %4d  %-16s %16s | %12s |           %8d MiB / %8d MiB |   card, name, firmware, bus id, memory
 *   | %4s  %4s %28s | %-6s%6s |           %8d MiB / %8d MiB |     fan, temp, power, CPU, NPU, CMM
 *   | %4d %8d  %-66s %8d KiB |                                     processes: card, pid, path, KiB
 */

export interface SmiCard {
  /** 0-based card index: the value `--devices` and `axcl-smi -d` take (not the PCIe bus number). */
  index: number;
  /** `AX650N`, `AX8850`, … */
  name: string;
  firmware: string;
  /** PCIe address as printed, e.g. `0001:01:00.0`. */
  busId: string;
  /** PCIe bus number from `busId` (the number kernel `device %x: dead!` lines print), or null. */
  busNumber: number | null;
  /** Device system RAM. */
  memoryUsedMiB: number | null;
  memoryTotalMiB: number | null;
  /** Fan and power are printed as `--` by every known version (unsupported). */
  fan: string;
  /** Junction temperature, °C; null when the tool printed no number. */
  temperatureC: number | null;
  power: string;
  cpuPercent: number | null;
  npuPercent: number | null;
  /** CMM: the media/NPU memory that models are loaded into. */
  cmmUsedMiB: number | null;
  cmmTotalMiB: number | null;
}

export interface SmiProcess {
  card: number;
  pid: number;
  path: string;
  npuMemoryKiB: number;
}

export interface SmiTable {
  /** The `AXCL-SMI` banner was found: the text is a table at all. */
  recognized: boolean;
  smiVersion: string | null;
  driverVersion: string | null;
  /** Empty when the card is dead or missing: the tool prints the frame without rows. */
  cards: SmiCard[];
  processes: SmiProcess[];
}

export type SmiError =
  | { kind: 'out-of-range'; index: number; count: number; message: string }
  | { kind: 'init-failed'; code: number; message: string }
  | { kind: 'activate-failed'; index: number; code: number; message: string }
  | { kind: 'busy'; message: string };

export interface CmmInfo {
  /** PCIe bus number (`Device ID : 129 (0x81)`), not the card index. */
  busNumber: number;
  totalKiB: number;
  usedKiB: number;
  remainKiB: number;
}

function cells(line: string): string[] | null {
  const t = line.trim();
  if (!t.startsWith('|') || !t.endsWith('|')) return null;
  return t.slice(1, -1).split('|').map((c) => c.trim());
}

function words(cell: string): string[] {
  return cell.split(/\s+/).filter((w) => w.length > 0);
}

function intOrNull(text: string | undefined): number | null {
  if (text === undefined) return null;
  const m = /^(-?\d+)/.exec(text);
  return m ? Number(m[1]) : null;
}

/** `193 MiB /      945 MiB` → [193, 945]. */
function usedTotal(cell: string): [number | null, number | null] {
  const m = /(\d+)\s*MiB\s*\/\s*(\d+)\s*MiB/i.exec(cell);
  return m ? [Number(m[1]), Number(m[2])] : [null, null];
}

function busNumberOf(busId: string): number | null {
  const m = /^(?:[0-9a-f]+:)?([0-9a-f]{1,2}):[0-9a-f]{1,2}\.[0-9a-f]$/i.exec(busId);
  return m ? parseInt(m[1] as string, 16) : null;
}

function firstRow(c: string[]): Omit<SmiCard, 'fan' | 'temperatureC' | 'power' | 'cpuPercent' | 'npuPercent' | 'cmmUsedMiB' | 'cmmTotalMiB'> | null {
  const w = words(c[0] ?? '');
  const index = intOrNull(w[0]);
  if (index === null || !/^\d+$/.test(w[0] as string) || w.length < 2) return null;
  const firmware = w.length >= 3 ? (w[w.length - 1] as string) : '';
  const name = w.slice(1, w.length >= 3 ? -1 : undefined).join(' ');
  const busId = c[1] ?? '';
  const [memoryUsedMiB, memoryTotalMiB] = usedTotal(c[2] ?? '');
  return { index, name, firmware, busId, busNumber: busNumberOf(busId), memoryUsedMiB, memoryTotalMiB };
}

function secondRow(c: string[]): Pick<SmiCard, 'fan' | 'temperatureC' | 'power' | 'cpuPercent' | 'npuPercent' | 'cmmUsedMiB' | 'cmmTotalMiB'> {
  const w = words(c[0] ?? '');
  const tempWord = w[1] ?? '';
  const usage = words(c[1] ?? '');
  const [cmmUsedMiB, cmmTotalMiB] = usedTotal(c[2] ?? '');
  return {
    fan: w[0] ?? '',
    temperatureC: /^-?\d+C$/i.test(tempWord) ? intOrNull(tempWord) : null,
    power: w.slice(2).join(' '),
    cpuPercent: intOrNull(usage[0]),
    npuPercent: intOrNull(usage[1]),
    cmmUsedMiB,
    cmmTotalMiB,
  };
}

function processRow(c: string[]): SmiProcess | null {
  if (c.length !== 1) return null;
  const w = words(c[0] as string);
  if (w.length < 5 || !/^\d+$/.test(w[0] as string) || !/^\d+$/.test(w[1] as string)) return null;
  if (!/^KiB$/i.test(w[w.length - 1] as string)) return null;
  const kib = intOrNull(w[w.length - 2]);
  if (kib === null) return null;
  return { card: Number(w[0]), pid: Number(w[1]), path: w.slice(2, -2).join(' '), npuMemoryKiB: kib };
}

/** Parses the default `axcl-smi` view. Never throws: unknown text gives `recognized: false`. */
export function parseSmiTable(text: string): SmiTable {
  const table: SmiTable = { recognized: false, smiVersion: null, driverVersion: null, cards: [], processes: [] };
  let section: 'none' | 'cards' | 'processes-head' | 'processes' = 'none';
  let pending: ReturnType<typeof firstRow> = null;
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trimEnd();
    const banner = /AXCL-SMI\s+(\S+)(?:.*?Driver\s+(\S+))?/.exec(line);
    if (banner) {
      table.recognized = true;
      table.smiVersion = banner[1] ?? null;
      table.driverVersion = banner[2] ?? null;
      continue;
    }
    if (/\|\s*Processes:/.test(line)) {
      section = 'processes-head';
      pending = null;
      continue;
    }
    if (/^\|=+/.test(line.trim())) {
      section = section === 'processes-head' ? 'processes' : 'cards';
      continue;
    }
    const c = cells(line);
    if (!c) continue;
    if (section === 'cards' && c.length === 3) {
      if (pending) {
        table.cards.push({ ...pending, ...secondRow(c) });
        pending = null;
      } else {
        pending = firstRow(c);
      }
    } else if (section === 'processes') {
      const p = processRow(c);
      if (p) table.processes.push(p);
    }
  }
  return table;
}

/** Recognises the vendor's error strings (reference §4.2, recovered from the binary). */
export function parseSmiError(text: string): SmiError | null {
  let m = /device index (-?\d+) is out of connected devices number (\d+)/.exec(text);
  if (m) return { kind: 'out-of-range', index: Number(m[1]), count: Number(m[2]), message: m[0] };
  m = /active device (-?\d+) fail, ret = 0x([0-9a-f]+)/i.exec(text);
  if (m) return { kind: 'activate-failed', index: Number(m[1]), code: parseInt(m[2] as string, 16), message: m[0] };
  m = /axcl init fail, ret = 0x([0-9a-f]+)/i.exec(text);
  if (m) return { kind: 'init-failed', code: parseInt(m[1] as string, 16), message: m[0] };
  m = /(\S+) is already running, please try later\./.exec(text);
  if (m) return { kind: 'busy', message: m[0] };
  return null;
}

/** Parses `axcl-smi info --cmm -d N`. Remain is printed with a lowercase `kiB` by the vendor. */
export function parseCmmInfo(text: string): CmmInfo | null {
  const id = /Device ID\s*:\s*(\d+)\s*\(0x([0-9a-f]+)\)/i.exec(text);
  const field = (label: string): number | null => {
    const m = new RegExp(`${label}\\s*:\\s*(\\d+)\\s*kib`, 'i').exec(text);
    return m ? Number(m[1]) : null;
  };
  const totalKiB = field('CMM Total');
  const usedKiB = field('CMM Used');
  const remainKiB = field('CMM Remain');
  if (!id || totalKiB === null || usedKiB === null || remainKiB === null) return null;
  return { busNumber: Number(id[1]), totalKiB, usedKiB, remainKiB };
}
