/**
 * ax650-health: the runtime's state and the card's readings as one documented payload, with
 * alerts. Checks on input, on an interval and at once on every runtime state change; the output
 * mode decides which checks become messages. A thin adapter over lib/health.
 */
import { kernelLogProbeOptions, parseKernelLogSetting } from '../lib/device/dead-card-watch';
import type { ProbeOptions } from '../lib/device/probes';
import { isHealthMode, type HealthMode } from '../lib/health/changes';
import { runtimeReachableFromNetwork } from '../lib/health/exposure';
import { HealthMonitor, type HealthReport } from '../lib/health/monitor';
import type { HealthThresholds } from '../lib/health/rules';
import type { HealthPayload } from '../lib/health/snapshot';
import { StatusThrottle } from '../lib/generate/status';
import { cardPresent } from '../lib/runtime/settings';
import type { Runtime } from '../lib/runtime/runtime';
import { getRuntimeNode, runtimeStatus } from './shared/runtime-node';
import type { DoneFn, Node, NodeAPI, NodeDef, NodeMessage, NodeStatus, SendFn } from './red-types';

type DeviceProbing = 'auto' | 'on' | 'off';

interface HealthDef extends NodeDef {
  runtime: string;
  topic?: string;
  mode?: string;
  /** Seconds between checks; 0 or empty: only on input and state changes. */
  interval?: string | number;
  device?: DeviceProbing;
  /** axcl-smi path; empty: on PATH, then /usr/bin/axcl/axcl-smi. */
  smi?: string;
  /** "dmesg", "off" or a file path. */
  kernelLog?: string;
  warnExposed?: boolean;
  temperatureWarnC?: string | number;
  temperatureCriticalC?: string | number;
  queueDepth?: string | number;
  tokensPerSecondFloor?: string | number;
  cmmFullPercent?: string | number;
}

function num(v: unknown): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

export function thresholdsFrom(def: HealthDef): Partial<HealthThresholds> {
  const t: Partial<HealthThresholds> = {};
  for (const key of ['temperatureWarnC', 'temperatureCriticalC', 'queueDepth', 'tokensPerSecondFloor', 'cmmFullPercent'] as const) {
    const n = num(def[key]);
    if (n !== undefined) t[key] = n;
  }
  return t;
}

export function probeOptionsFrom(def: HealthDef): ProbeOptions {
  const opts: ProbeOptions = kernelLogProbeOptions(parseKernelLogSetting(def.kernelLog));
  const smi = typeof def.smi === 'string' ? def.smi.trim() : '';
  if (smi !== '') opts.smi = smi;
  return opts;
}

/**
 * "auto" probes the card unless the runtime is the simulator. Before its first start the runtime
 * has not resolved auto mode yet, so the same rule it will use decides: the AXCL device node exists.
 */
function deviceProbing(setting: DeviceProbing, runtime: Runtime): () => boolean {
  if (setting !== 'auto') return () => setting === 'on';
  return () => (runtime.info().startedAt !== null ? !runtime.cfg.simulator : cardPresent());
}

const FILL: Record<HealthPayload['level'], NodeStatus['fill']> = { ok: 'green', warning: 'yellow', critical: 'red' };

function healthStatus(RED: NodeAPI, runtime: Runtime, p: HealthPayload): NodeStatus {
  const first = p.alerts[0];
  if (!first) {
    const temps = (p.device?.cards ?? []).map((c) => c.temperatureC).filter((t): t is number => t !== null);
    const ready = runtimeStatus(RED, runtime.info(), runtime.cfg.simulator).text ?? p.state;
    const state = p.capabilities.vision === true ? RED._('ax650-health.status.vision', { state: ready }) : ready;
    const text = temps.length > 0 ? RED._('ax650-health.status.ok-temp', { state, temp: Math.max(...temps) }) : state;
    return { fill: FILL.ok, shape: 'dot', text };
  }
  let text = RED._(`ax650-health.alert.${first.id}`, { value: first.value ?? '' });
  if (p.alerts.length > 1) text = `${text} ${RED._('ax650-health.status.more', { n: p.alerts.length - 1 })}`;
  return { fill: FILL[p.level], shape: 'dot', text };
}

export default function register(RED: NodeAPI): void {
  function Ax650HealthNode(this: Node, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const cfg = def as HealthDef;
    const runtimeNode = getRuntimeNode(RED, cfg.runtime);
    if (!runtimeNode) {
      node.status({ fill: 'red', shape: 'ring', text: RED._('ax650-health.status.no-runtime') });
      node.on('input', (_msg: NodeMessage, _send: SendFn, done: DoneFn) => done(new Error(RED._('ax650-health.errors.no-runtime'))));
      return;
    }
    const runtime = runtimeNode.runtime;
    runtimeNode.register(node);
    const topic = typeof cfg.topic === 'string' ? cfg.topic : '';
    const mode: HealthMode = isHealthMode(cfg.mode) ? cfg.mode : 'change';
    const intervalSec = num(cfg.interval) ?? 0;
    const monitor = new HealthMonitor({
      runner: runtime,
      probe: probeOptionsFrom(cfg),
      probeDevice: deviceProbing(cfg.device ?? 'auto', runtime),
      thresholds: thresholdsFrom(cfg),
      // The G1 runtime binds 0.0.0.0:8000 (vendor-fixed, main_api.cpp); the simulator only when told to.
      listenAllInterfaces: () => cfg.warnExposed !== false && runtimeReachableFromNetwork(runtime.cfg),
      mode,
      intervalMs: Math.round(intervalSec * 1000),
    });
    const status = new StatusThrottle<NodeStatus>((s) => node.status(s), 500);
    let shownLevel: HealthPayload['level'] | null = null;

    const toMsg = (r: HealthReport, base: NodeMessage): NodeMessage => {
      base.payload = r.payload;
      base.changes = r.changes;
      if (topic !== '') base.topic = topic;
      return base;
    };
    monitor.on('report', (r: HealthReport) => {
      status.set(healthStatus(RED, runtime, r.payload), r.payload.level !== shownLevel);
      shownLevel = r.payload.level;
      // Input checks are answered by the input handler, as a copy of the input message.
      if (r.send && r.trigger !== 'input') node.send(toMsg(r, {}));
    });
    monitor.on('error', (e: Error) => node.error(e));

    node.on('input', (msg: NodeMessage, send: SendFn, done: DoneFn) => {
      monitor.check('input').then(
        (r) => {
          if (r.send) send(toMsg(r, RED.util.cloneMessage(msg)));
          done();
        },
        (e: unknown) => done(e instanceof Error ? e : new Error(String(e))),
      );
    });

    node.on('close', (_removed: boolean, done: () => void) => {
      status.clear();
      // Waits for a probe in flight (each tool run is time-boxed at 5 s) so no axcl-smi outlives the node.
      void monitor.stop().finally(() => runtimeNode.deregister(node, done));
    });
    monitor.start();
  }
  RED.nodes.registerType('ax650-health', Ax650HealthNode);
}
