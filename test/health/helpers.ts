/** Plain snapshot builders for the health tests. */
import type { DeviceReading } from '../../lib/device/probes';
import type { SmiCard } from '../../lib/device/smi-parser';
import type { RuntimeInfo } from '../../lib/runtime/types';

export function runtimeInfo(over: Partial<RuntimeInfo> = {}): RuntimeInfo {
  return {
    state: 'ready', loadProgress: 100, queueDepth: 0, running: false, restarts: 0, startedAt: 1_000, readyAt: 2_000,
    lastError: null, lastTokensPerSecond: 3.6, avgTokensPerSecond: 3.7, lastTtftMs: 1339, maxTokenLen: 2559,
    prefillMaxTokenNum: 2048, modelName: 'Qwen3-4B', pid: 4242, ...over,
  };
}

export function card(over: Partial<SmiCard> = {}): SmiCard {
  return {
    index: 0, name: 'AX650N', firmware: 'V3.4.0', busId: '0001:01:00.0', busNumber: 1, memoryUsedMiB: 193, memoryTotalMiB: 945,
    fan: '--', temperatureC: 55, power: '-- / --', cpuPercent: 2, npuPercent: 40, cmmUsedMiB: 4412, cmmTotalMiB: 7040, ...over,
  };
}

export function device(over: { cards?: SmiCard[]; smi?: Partial<DeviceReading['smi']>; kernel?: Partial<DeviceReading['kernel']>; present?: boolean } = {}): DeviceReading {
  return {
    at: 5_000,
    present: over.present ?? true,
    pciAddresses: ['0001:01:00.0'],
    devNode: true,
    smi: { ok: true, present: true, smiVersion: 'V3.4.0', driverVersion: 'V3.4.0', cards: over.cards ?? [card()], processes: [], ...over.smi },
    memory: { memTotalKiB: 8245360, memAvailableKiB: 5123456, cmaTotalKiB: 65536, cmaFreeKiB: 42016 },
    kernel: { source: 'dmesg', newLines: 0, newDeadDevices: [], newAllocFailures: [], deadDevices: [], ...over.kernel },
  };
}
