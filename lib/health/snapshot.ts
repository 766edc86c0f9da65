/** Builds the one health payload the `ax650 health` node sends. */
import type { DeviceReading, SmiFailure } from '../device/probes';
import type { RuntimeInfo, RuntimeState } from '../runtime/types';
import { evaluateAlerts, worstLevel, type Alert, type AlertLevel, type HealthInput, type HealthThresholds } from './rules';

export interface CardHealth {
  index: number;
  name: string;
  busId: string;
  temperatureC: number | null;
  npuPercent: number | null;
  cpuPercent: number | null;
  memoryUsedMiB: number | null;
  memoryTotalMiB: number | null;
  cmmUsedMiB: number | null;
  cmmTotalMiB: number | null;
  cmmPercent: number | null;
}

/**
 * The health payload (`msg.payload` of the health node).
 *
 * - `at`: epoch ms of the snapshot.
 * - `level`: `"ok"`, `"warning"` or `"critical"`: the worst alert.
 * - `state`: runtime state: `stopped`, `preflight`, `starting-tokenizer`, `loading`, `resetting`,
 *   `ready`, `busy`, `backoff` (restart pending), `failed` (no more restarts until redeploy), `stopping`.
 * - `loadProgress`: model load progress 0–100 while `loading` (100 once ready).
 * - `ready`: true when the runtime accepts work (`ready` or `busy`).
 * - `uptimeMs`: ms since the runtime became ready, null when it is not up.
 * - `restarts`: restarts since deploy.
 * - `queueDepth`: jobs waiting (not counting the running one); `running`: a job is generating.
 * - `tokensPerSecond.last` / `.avg`: decode speed of the last job and the running average, null before the first job.
 * - `ttftMs`: time to the first token of the last job, ms, or null.
 * - `model`: the model name; `pid`: the runtime's process id or null.
 * - `capabilities`: `{vision, imageInput}`: whether the loaded model takes images (axllm `/v1/models`;
 *   false on the 2025 runtime, null before the model loaded) and the image size it takes (`{width, height}` or null).
 * - `lastError`: `{code, message}` of the last runtime error, or null.
 * - `device`: null when device probing is off; otherwise
 *   - `present`: a card is on the PCIe bus or the AXCL driver node exists;
 *   - `smi`: `{ok, error, skipped, message, driverVersion}`: whether axcl-smi answered
 *     (`error`: `timeout`, `not-found`, `busy`, `init-failed`, `exit`, `unparsable`;
 *     `skipped: "runtime loading"` while the runtime loads, because axcl-smi refuses concurrent use);
 *   - `cards[]`: per card `{index, name, busId, temperatureC, npuPercent, cpuPercent,
 *     memoryUsedMiB, memoryTotalMiB, cmmUsedMiB, cmmTotalMiB, cmmPercent}` (index is 0-based, the
 *     `--devices` number; CMM is the NPU memory models load into);
 *   - `processes[]`: `{card, pid, path, npuMemoryKiB}` programs using the NPU;
 *   - `deadDevices`: PCIe bus numbers the kernel reported dead (`device N: dead!`);
 *   - `allocFailures`: new host memory allocation failures of the driver since the last probe.
 * - `host`: `{memAvailableMiB, cmaTotalMiB, cmaFreeMiB}` from /proc/meminfo (null fields when unknown).
 * - `alerts[]`: `{id, level, message, value?, threshold?}`; ids: `temperature`, `deadCard`,
 *   `runtimeFailed`, `runtimeRestarting`, `queueDepth`, `slowTokens`, `cmmFull`, `exposedPort`,
 *   `allocFailure`, `noCard`.
 */
export interface HealthPayload {
  at: number;
  level: 'ok' | AlertLevel;
  state: RuntimeState;
  loadProgress: number;
  ready: boolean;
  uptimeMs: number | null;
  restarts: number;
  queueDepth: number;
  running: boolean;
  tokensPerSecond: { last: number | null; avg: number | null };
  ttftMs: number | null;
  model: string;
  pid: number | null;
  capabilities: { vision: boolean | null; imageInput: { width: number; height: number } | null };
  lastError: { code: string; message: string } | null;
  device: {
    present: boolean;
    smi: { ok: boolean; error: SmiFailure | null; skipped: 'runtime loading' | null; message: string | null; driverVersion: string | null };
    cards: CardHealth[];
    processes: { card: number; pid: number; path: string; npuMemoryKiB: number }[];
    deadDevices: number[];
    allocFailures: string[];
  } | null;
  host: { memAvailableMiB: number | null; cmaTotalMiB: number | null; cmaFreeMiB: number | null };
  alerts: Alert[];
}

export interface SnapshotInput extends HealthInput {
  thresholds?: Partial<HealthThresholds>;
  /** Epoch ms; injectable for tests. */
  now?: number;
}

const mib = (kib: number | null | undefined): number | null => (kib === null || kib === undefined ? null : Math.round(kib / 1024));

function deviceSection(d: DeviceReading): NonNullable<HealthPayload['device']> {
  return {
    present: d.present,
    smi: { ok: d.smi.ok, error: d.smi.error ?? null, skipped: d.smi.skipped ?? null, message: d.smi.message ?? null, driverVersion: d.smi.driverVersion },
    cards: d.smi.cards.map((c) => ({
      index: c.index,
      name: c.name,
      busId: c.busId,
      temperatureC: c.temperatureC,
      npuPercent: c.npuPercent,
      cpuPercent: c.cpuPercent,
      memoryUsedMiB: c.memoryUsedMiB,
      memoryTotalMiB: c.memoryTotalMiB,
      cmmUsedMiB: c.cmmUsedMiB,
      cmmTotalMiB: c.cmmTotalMiB,
      cmmPercent: c.cmmUsedMiB !== null && c.cmmTotalMiB ? Math.round((c.cmmUsedMiB / c.cmmTotalMiB) * 1000) / 10 : null,
    })),
    processes: d.smi.processes.map((p) => ({ ...p })),
    deadDevices: [...d.kernel.deadDevices],
    allocFailures: [...d.kernel.newAllocFailures],
  };
}

export function buildHealthSnapshot(input: SnapshotInput): HealthPayload {
  const r: RuntimeInfo = input.runtime;
  const now = input.now ?? Date.now();
  const alerts = evaluateAlerts(input, input.thresholds);
  const up = r.state === 'ready' || r.state === 'busy' || r.state === 'resetting';
  const mem = input.device?.memory ?? null;
  return {
    at: now,
    level: worstLevel(alerts),
    state: r.state,
    loadProgress: r.loadProgress,
    ready: r.state === 'ready' || r.state === 'busy',
    uptimeMs: up && r.readyAt !== null ? Math.max(0, now - r.readyAt) : null,
    restarts: r.restarts,
    queueDepth: r.queueDepth,
    running: r.running,
    tokensPerSecond: { last: r.lastTokensPerSecond, avg: r.avgTokensPerSecond },
    ttftMs: r.lastTtftMs,
    model: r.modelName,
    pid: r.pid,
    capabilities: { vision: r.vision ?? null, imageInput: r.visionInput ?? null },
    lastError: r.lastError,
    device: input.device ? deviceSection(input.device) : null,
    host: { memAvailableMiB: mib(mem?.memAvailableKiB), cmaTotalMiB: mib(mem?.cmaTotalKiB), cmaFreeMiB: mib(mem?.cmaFreeKiB) },
    alerts,
  };
}
