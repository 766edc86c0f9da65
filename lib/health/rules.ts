/**
 * Pure alert evaluation for the health node: a snapshot of the runtime and the card in,
 * a list of alerts out. No I/O and no clock, so every rule is testable with plain objects.
 */
import type { DeviceReading } from '../device/probes';
import type { RuntimeInfo, RuntimeState } from '../runtime/types';

export type AlertId =
  | 'temperature'
  | 'deadCard'
  | 'runtimeFailed'
  | 'runtimeRestarting'
  | 'queueDepth'
  | 'slowTokens'
  | 'cmmFull'
  | 'exposedPort'
  | 'allocFailure'
  | 'noCard';

export type AlertLevel = 'warning' | 'critical';

export interface Alert {
  id: AlertId;
  level: AlertLevel;
  /** An English sentence saying what is wrong and what to do. */
  message: string;
  /** The measured value that tripped the rule, when there is one. */
  value?: number;
  threshold?: number;
}

export interface HealthThresholds {
  /** Junction temperature that raises a warning, °C. Default 85. */
  temperatureWarnC: number;
  /** Junction temperature that raises a critical alert, °C. Default 105 (the card resets itself at 120 °C). */
  temperatureCriticalC: number;
  /** Queued jobs (not counting the running one) at or above which a warning is raised. Default 5. */
  queueDepth: number;
  /** Decode speed of the last job below which a warning is raised, tokens/s. 0 disables. Default 1. */
  tokensPerSecondFloor: number;
  /** CMM (NPU memory) use at or above which a warning is raised, percent. Default 95. */
  cmmFullPercent: number;
}

export const DEFAULT_THRESHOLDS: Readonly<HealthThresholds> = Object.freeze({
  temperatureWarnC: 85,
  temperatureCriticalC: 105,
  queueDepth: 5,
  tokensPerSecondFloor: 1,
  cmmFullPercent: 95,
});

export interface HealthInput {
  runtime: RuntimeInfo;
  /** null when device probing is off (simulator, or a host without the card by design). */
  device: DeviceReading | null;
  /** The runtime's HTTP server listens on every interface (the G1 binary binds 0.0.0.0:8000, vendor-fixed). */
  listenAllInterfaces: boolean;
}

/** States in which the G1 runtime's HTTP server is listening (it opens the port only after loading). */
const LISTENING: readonly RuntimeState[] = ['resetting', 'ready', 'busy'];

/** States between a restart's spawn and ready. */
const RELOADING: readonly RuntimeState[] = ['preflight', 'starting-tokenizer', 'loading', 'resetting'];

function hex(n: number): string {
  return `0x${n.toString(16)}`;
}

function deviceAlerts(device: DeviceReading, t: HealthThresholds): Alert[] {
  const alerts: Alert[] = [];
  const smi = device.smi;
  if (!device.present) {
    alerts.push({ id: 'noCard', level: 'critical', message: 'No AX650 card found: lspci does not list it, /dev/axcl_host is missing and axcl-smi lists no card. Check that the card is seated and the AXCL driver is installed.' });
  }
  const dead = device.kernel.deadDevices;
  if (dead.length > 0) {
    alerts.push({ id: 'deadCard', level: 'critical', message: `The kernel reported the card on PCIe bus ${dead.map(hex).join(', ')} dead. Reboot the host (unbinding the driver does not recover it); check cooling and that suspend is disabled.`, value: dead[0] });
  } else if (device.present && smi.ok && smi.cards.length === 0) {
    alerts.push({ id: 'deadCard', level: 'critical', message: 'The card is on the PCIe bus but axcl-smi lists no card: it is probably dead. Reboot the host.' });
  } else if (device.present && smi.error === 'timeout') {
    alerts.push({ id: 'deadCard', level: 'warning', message: 'axcl-smi did not answer in time: the card may be hung. If it persists, reboot the host.' });
  }
  let hottest: { temp: number; index: number } | null = null;
  for (const c of smi.cards) {
    if (c.temperatureC !== null && (hottest === null || c.temperatureC > hottest.temp)) hottest = { temp: c.temperatureC, index: c.index };
  }
  if (hottest && hottest.temp >= t.temperatureWarnC) {
    const critical = hottest.temp >= t.temperatureCriticalC;
    alerts.push({
      id: 'temperature',
      level: critical ? 'critical' : 'warning',
      message: `Card ${hottest.index} is at ${hottest.temp} °C${critical ? '; it resets itself at 120 °C' : ''}. Improve cooling (heatsink, fan) or reduce load.`,
      value: hottest.temp,
      threshold: critical ? t.temperatureCriticalC : t.temperatureWarnC,
    });
  }
  let fullest: { pct: number; index: number } | null = null;
  for (const c of smi.cards) {
    if (c.cmmUsedMiB === null || !c.cmmTotalMiB) continue;
    const pct = (c.cmmUsedMiB / c.cmmTotalMiB) * 100;
    if (fullest === null || pct > fullest.pct) fullest = { pct, index: c.index };
  }
  if (fullest && fullest.pct >= t.cmmFullPercent) {
    alerts.push({ id: 'cmmFull', level: 'warning', message: `Card ${fullest.index} NPU memory (CMM) is ${Math.round(fullest.pct)} % full: another model or process may not fit. Check the processes in axcl-smi.`, value: Math.round(fullest.pct * 10) / 10, threshold: t.cmmFullPercent });
  }
  const alloc = device.kernel.newAllocFailures;
  if (alloc.length > 0) {
    alerts.push({ id: 'allocFailure', level: 'warning', message: `The AXCL driver could not allocate host memory (${alloc[alloc.length - 1]}). Host memory is fragmented or short: free memory or reboot before the card dies.`, value: alloc.length });
  }
  return alerts;
}

function runtimeAlerts(input: HealthInput, t: HealthThresholds): Alert[] {
  const r = input.runtime;
  const alerts: Alert[] = [];
  if (r.state === 'failed') {
    const why = r.lastError ? ` (${r.lastError.code}: ${r.lastError.message})` : '';
    alerts.push({ id: 'runtimeFailed', level: 'critical', message: `The LLM runtime has failed and will not restart by itself${why}. Fix the cause and redeploy or restart it.` });
  } else if (r.state === 'backoff') {
    alerts.push({ id: 'runtimeRestarting', level: 'warning', message: `The LLM runtime stopped unexpectedly and is waiting to restart (restart ${r.restarts}).`, value: r.restarts });
  } else if (r.restarts > 0 && RELOADING.includes(r.state)) {
    // The alert lasts until the restarted runtime is ready: a reload takes 65–135 s on a Pi 5, and
    // clearing it when the backoff ends would announce a recovery two minutes early.
    alerts.push({ id: 'runtimeRestarting', level: 'warning', message: `The LLM runtime is loading again after stopping unexpectedly (restart ${r.restarts}, ${Math.round(r.loadProgress)} %).`, value: r.restarts });
  }
  if (r.queueDepth >= t.queueDepth) {
    alerts.push({ id: 'queueDepth', level: 'warning', message: `${r.queueDepth} jobs are waiting for the NPU: requests arrive faster than it answers.`, value: r.queueDepth, threshold: t.queueDepth });
  }
  if (t.tokensPerSecondFloor > 0 && r.lastTokensPerSecond !== null && r.lastTokensPerSecond < t.tokensPerSecondFloor) {
    alerts.push({ id: 'slowTokens', level: 'warning', message: `The last reply decoded at ${r.lastTokensPerSecond.toFixed(2)} tokens/s, below ${t.tokensPerSecondFloor}: check the card's temperature and host memory.`, value: r.lastTokensPerSecond, threshold: t.tokensPerSecondFloor });
  }
  if (input.listenAllInterfaces && LISTENING.includes(r.state)) {
    alerts.push({ id: 'exposedPort', level: 'warning', message: 'The vendor runtime listens on 0.0.0.0:8000 without authentication: anyone on the network can use it. Block port 8000 with a firewall (e.g. ufw deny 8000).' });
  }
  return alerts;
}

/** Evaluates every rule. The result is ordered critical first, then by rule. */
export function evaluateAlerts(input: HealthInput, thresholds: Partial<HealthThresholds> = {}): Alert[] {
  const t: HealthThresholds = { ...DEFAULT_THRESHOLDS, ...thresholds };
  const alerts = [...(input.device ? deviceAlerts(input.device, t) : []), ...runtimeAlerts(input, t)];
  return alerts.sort((a, b) => (a.level === b.level ? 0 : a.level === 'critical' ? -1 : 1));
}

export interface AlertDiff {
  /** Alerts present now and not before. */
  raised: Alert[];
  /** Alerts present before and gone now (the previous alert object). */
  cleared: Alert[];
  /** Alerts present in both whose level changed (the new alert object). */
  changed: Alert[];
}

/** What changed between two evaluations, for "only on change" output modes. */
export function diffAlerts(prev: readonly Alert[], next: readonly Alert[]): AlertDiff {
  const before = new Map(prev.map((a) => [a.id, a]));
  const after = new Map(next.map((a) => [a.id, a]));
  return {
    raised: next.filter((a) => !before.has(a.id)),
    cleared: prev.filter((a) => !after.has(a.id)),
    changed: next.filter((a) => {
      const old = before.get(a.id);
      return old !== undefined && old.level !== a.level;
    }),
  };
}

/** The worst level in a list, or 'ok'. */
export function worstLevel(alerts: readonly Alert[]): 'ok' | AlertLevel {
  if (alerts.some((a) => a.level === 'critical')) return 'critical';
  return alerts.length > 0 ? 'warning' : 'ok';
}
