/**
 * Presence of a bridge on the broker: `<base>/status` is retained `online` while connected and
 * becomes `offline` by the last will when the connection dies without a DISCONNECT (and by an
 * explicit publish on a clean close). `<base>/health` optionally carries a periodic snapshot.
 */
import type { IClientOptions, IClientPublishOptions } from 'mqtt';
import { presenceTopics } from './topics';

export const ONLINE = 'online';
export const OFFLINE = 'offline';

export interface Presence {
  readonly statusTopic: string;
  readonly healthTopic: string;
  /** For the CONNECT packet. */
  will(): NonNullable<IClientOptions['will']>;
  online(): void;
  offline(cb: (err?: Error) => void): void;
  /** Starts the periodic health publish (if configured); returns its stopper. */
  startHealth(): () => void;
  /** True for the presence topics themselves, which a wide prompt filter may also match. */
  owns(topic: string): boolean;
}

export interface PresenceOptions {
  baseTopic: string;
  publish: (topic: string, payload: string, opts: IClientPublishOptions, cb?: (err?: Error) => void) => void;
  healthIntervalMs?: number;
  health: () => unknown;
  onError: (detail: string) => void;
}

const RETAINED: IClientPublishOptions = { qos: 1, retain: true };

export function createPresence(opts: PresenceOptions): Presence {
  const { status, health } = presenceTopics(opts.baseTopic);
  return {
    statusTopic: status,
    healthTopic: health,
    will: () => ({ topic: status, payload: Buffer.from(OFFLINE), qos: 1, retain: true }),
    online: () => opts.publish(status, ONLINE, RETAINED),
    offline: (cb) => opts.publish(status, OFFLINE, RETAINED, cb),
    owns: (topic) => topic === status || topic === health,
    startHealth(): () => void {
      const every = opts.healthIntervalMs;
      if (every === undefined || every <= 0) return () => undefined;
      const tick = (): void => {
        let snapshot: string;
        try {
          snapshot = JSON.stringify({ at: new Date().toISOString(), ...toObject(opts.health()) });
        } catch (e) {
          opts.onError(`health snapshot failed: ${e instanceof Error ? e.message : String(e)}`);
          return;
        }
        // QoS 0 and not retained: a stale health reading replayed later would mislead a dashboard.
        opts.publish(health, snapshot, { qos: 0, retain: false });
      };
      const timer = setInterval(tick, every);
      timer.unref();
      return () => clearInterval(timer);
    },
  };
}

function toObject(v: unknown): Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : { value: v };
}
