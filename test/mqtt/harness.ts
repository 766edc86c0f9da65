/** Starts a bridge for a test and records its status reports, so a test can wait for a reconnection. */
import { Signal } from './signal';
import { startMqttBridge, type BridgeStatus, type MqttBridge, type MqttBridgeOptions } from '../../lib/mqtt/bridge';

export interface TestBridge {
  bridge: MqttBridge;
  statuses: Array<{ status: BridgeStatus; detail?: string }>;
  /** Resolves when `status` has been reported `count` times in total. */
  waitForStatus(status: BridgeStatus, count: number, timeoutMs?: number): Promise<void>;
}

/** Fast reconnects so that broker restarts do not slow the suite; jitter stays on. */
export const TEST_BACKOFF = { baseMs: 100, maxMs: 400 };

export async function startTestBridge(opts: MqttBridgeOptions): Promise<TestBridge> {
  const statuses: TestBridge['statuses'] = [];
  const signal = new Signal();
  const bridge = await startMqttBridge({
    backoff: TEST_BACKOFF,
    ...opts,
    onStatus: (status, detail) => {
      statuses.push(detail === undefined ? { status } : { status, detail });
      opts.onStatus?.(status, detail);
      signal.notify();
    },
  });
  return {
    bridge,
    statuses,
    waitForStatus(status, count, timeoutMs = 15_000) {
      return signal.until(
        () => statuses.filter((s) => s.status === status).length >= count,
        timeoutMs,
        () => `"${status}" ${count}× in ${JSON.stringify(statuses)}`,
      );
    },
  };
}
