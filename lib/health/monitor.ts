/**
 * The health node's engine without Node-RED: checks the runtime and the card on demand, on an
 * interval and at once on every runtime state change, and says which checks the output mode sends.
 */
import { EventEmitter } from 'node:events';
import { KernelLogCursor } from '../device/kernel-log';
import { probeDevices, type DeviceReading, type ProbeOptions } from '../device/probes';
import type { RuntimeInfo, RuntimeState } from '../runtime/types';
import { healthChanges, shouldSend, type HealthChanges, type HealthMode } from './changes';
import type { HealthThresholds } from './rules';
import { buildHealthSnapshot, type HealthPayload } from './snapshot';

export type HealthTrigger = 'start' | 'input' | 'interval' | 'state';

export interface HealthReport {
  payload: HealthPayload;
  changes: HealthChanges;
  trigger: HealthTrigger;
  /** The output mode lets this report through; an input ("check now") is always answered, whatever the mode. */
  send: boolean;
}

/** What the monitor reads of the Runtime (a JobRunner). */
export interface RuntimeSource {
  info(): RuntimeInfo;
  on(event: 'state', listener: (state: RuntimeState) => void): unknown;
  off(event: 'state', listener: (state: RuntimeState) => void): unknown;
}

export interface HealthMonitorOptions {
  runner: RuntimeSource;
  /** Device probe settings (tool paths, kernel log source). null: never probe the device. */
  probe: ProbeOptions | null;
  /** Asked before each probe; false leaves `payload.device` null (e.g. the runtime is the simulator). Default: always. */
  probeDevice?: () => boolean;
  thresholds?: Partial<HealthThresholds>;
  /** The runtime binds every interface (the G1 binary binds 0.0.0.0:8000); a function is asked at each check. */
  listenAllInterfaces: boolean | (() => boolean);
  mode: HealthMode;
  /** 0: no periodic check. */
  intervalMs: number;
}

interface MonitorEvents {
  /** Every check, sent or not (`report.send`), so a status can follow the readings. */
  report: [report: HealthReport];
  error: [error: Error];
}

/** axcl-smi is not run in these states: the runtime opens the device while it loads (reference §4.2). */
const LOADING: readonly RuntimeState[] = ['preflight', 'starting-tokenizer', 'loading'];

/** States after which the kernel log may say why (a dead card kills the runtime): probe at once. */
const PROBE_ON: readonly RuntimeState[] = ['backoff', 'failed'];

export class HealthMonitor extends EventEmitter<MonitorEvents> {
  private device: DeviceReading | null = null;
  private last: HealthPayload | null = null;
  private readonly cursor = new KernelLogCursor();
  private inflight: Promise<void> | null = null;
  private queued: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly onState = (state: RuntimeState): void => this.stateChanged(state);

  constructor(private readonly opts: HealthMonitorOptions) {
    super();
  }

  start(): void {
    this.opts.runner.on('state', this.onState);
    if (this.opts.intervalMs > 0) this.timer = setInterval(() => this.refresh('interval'), this.opts.intervalMs);
    this.refresh('start');
  }

  /** Probes the device (unless the runtime loads) and evaluates. Resolves with the report, whether the mode sends it or not. */
  async check(trigger: HealthTrigger): Promise<HealthReport> {
    await this.probe();
    return this.evaluate(trigger);
  }

  /** Stops the interval and waits for a probe in flight, so no tool outlives the node (each is time-boxed). */
  async stop(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.opts.runner.off('state', this.onState);
    await Promise.allSettled([this.inflight, this.queued]);
  }

  private refresh(trigger: HealthTrigger): void {
    this.check(trigger).catch(
      (e: unknown) => {
        if (!this.closed) this.emit('error', e instanceof Error ? e : new Error(String(e)));
      },
    );
  }

  private stateChanged(state: RuntimeState): void {
    // Load progress re-emits the same state many times; only transitions matter here.
    if (this.closed || (this.last !== null && this.last.state === state)) return;
    // At once with the last device reading: a crash must reach the flow within 2 s, a probe may take 5.
    this.evaluate('state');
    if (PROBE_ON.includes(state)) this.refresh('state');
  }

  /** One probe at a time; a request during a probe gets one more probe that starts after it (fresher than the one running). */
  private probe(): Promise<void> {
    if (!this.inflight) {
      this.inflight = this.takeReading().finally(() => {
        this.inflight = null;
      });
      return this.inflight;
    }
    this.queued ??= this.inflight.then(() => {
      this.queued = null;
      return this.probe();
    });
    return this.queued;
  }

  private async takeReading(): Promise<void> {
    const enabled = this.opts.probe !== null && (this.opts.probeDevice?.() ?? true);
    if (!enabled || this.closed) {
      if (!enabled) this.device = null;
      return;
    }
    const loading = LOADING.includes(this.opts.runner.info().state);
    const reading = await probeDevices({ ...this.opts.probe, runtimeLoading: loading, kernelLog: this.cursor });
    if (reading.smi.skipped) {
      // A skipped axcl-smi is no evidence that the card is gone: keep what the last reading knew.
      const seen = (reading.pciAddresses?.length ?? 0) > 0 || reading.devNode;
      reading.present = seen || (this.device?.present ?? true);
    }
    this.device = reading;
  }

  private evaluate(trigger: HealthTrigger): HealthReport {
    const payload = buildHealthSnapshot({
      runtime: this.opts.runner.info(),
      device: this.device,
      listenAllInterfaces: typeof this.opts.listenAllInterfaces === 'function' ? this.opts.listenAllInterfaces() : this.opts.listenAllInterfaces,
      thresholds: this.opts.thresholds ?? {},
    });
    const changes = healthChanges(this.last, payload);
    this.last = payload;
    const report: HealthReport = { payload, changes, trigger, send: trigger === 'input' || shouldSend(this.opts.mode, changes) };
    if (!this.closed) this.emit('report', report);
    return report;
  }
}
