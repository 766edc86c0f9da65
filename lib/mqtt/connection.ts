/**
 * The bridge's one MQTT connection: a persistent session (stable client id, `clean:false`, and on
 * v5 a Session Expiry Interval > 0, without which `clean:false` keeps nothing: reliability §4.2),
 * and our own reconnect loop with backoff and jitter instead of MQTT.js's fixed interval (§4.1).
 */
import type { IClientOptions, IPublishPacket, MqttClient } from 'mqtt';
import { createBackoff, type BackoffOptions } from './backoff';
import type { QoS } from './reply';

export type BridgeStatus = 'connecting' | 'connected' | 'disconnected' | 'error';

export interface ConnectionOptions {
  url: string;
  username?: string;
  password?: string;
  clientId: string;
  protocolVersion: 4 | 5;
  sessionExpirySec: number;
  will?: NonNullable<IClientOptions['will']>;
  filter: string;
  qos: QoS;
  backoff?: BackoffOptions;
  /** Called for every incoming PUBLISH. Return false to withhold the acknowledgement (the broker redelivers later). */
  onMessage: (packet: IPublishPacket) => boolean;
  /** Connected and subscribed: prompts can flow. */
  onReady: () => void;
  onStatus: (status: BridgeStatus, detail?: string) => void;
}

export interface Connection {
  readonly client: MqttClient;
  readonly ready: boolean;
  /** Settles after the first attempt: connected and subscribed, or failed (the loop keeps retrying). */
  readonly firstAttempt: Promise<void>;
  /** Stops reconnecting and ends the connection, waiting at most `graceMs` for queued publishes. */
  end(graceMs: number): Promise<void>;
}

export function openConnection(opts: ConnectionOptions): Connection {
  const backoff = createBackoff(opts.backoff);
  const clientOpts: IClientOptions = {
    clientId: opts.clientId,
    protocolVersion: opts.protocolVersion,
    clean: false,
    // Our loop below replaces MQTT.js's fixed-interval reconnect.
    reconnectPeriod: 0,
    manualConnect: true,
    resubscribe: false,
    // A stale QoS 0 publish replayed after a reconnect is worse than a lost one (reliability §4.1).
    queueQoSZero: false,
    connectTimeout: 10_000,
    keepalive: 30,
  };
  if (opts.will) clientOpts.will = opts.will;
  if (opts.username !== undefined) clientOpts.username = opts.username;
  if (opts.password !== undefined) clientOpts.password = opts.password;
  if (opts.protocolVersion === 5) clientOpts.properties = { sessionExpiryInterval: opts.sessionExpirySec };
  // mqtt is loaded when a bridge connects, not when Node-RED requires the node files.
  const { connect } = require('mqtt') as typeof import('mqtt');
  const client = connect(opts.url, clientOpts);

  let ready = false;
  let ending = false;
  let retryTimer: NodeJS.Timeout | null = null;
  let settleFirst: () => void = () => undefined;
  const firstAttempt = new Promise<void>((resolve) => {
    settleFirst = resolve;
  });

  // MQTT.js acknowledges a QoS 1/2 PUBLISH only when this callback runs; withholding it leaves
  // the prompt with the broker for the next session instead of losing it during a close.
  client.handleMessage = (packet, callback) => {
    if (opts.onMessage(packet)) callback();
  };

  // Subscribing on every connection, even when the broker kept the session, costs one round trip
  // and repairs a session whose subscription was refused or lost (a failed SUBACK, a broker that
  // restored its sessions without their subscriptions).
  client.on('connect', () => {
    backoff.reset();
    const subOpts = opts.protocolVersion === 5 && !opts.filter.startsWith('$share/')
      ? { qos: opts.qos, nl: true, rh: 2 }
      : { qos: opts.qos };
    client.subscribe(opts.filter, subOpts, (err, granted) => {
      const code = granted?.[0]?.qos;
      if (err || code === undefined || code >= 128) {
        const why = err ? err.message : `the broker refused the subscription (reason ${String(code)})`;
        opts.onStatus('error', `subscribe to ${opts.filter} failed: ${why}`);
        // Connected but deaf is the worst state: drop the connection so the backoff loop retries.
        client.stream.destroy();
        return;
      }
      becomeReady();
    });
  });

  function becomeReady(): void {
    ready = true;
    opts.onStatus('connected');
    opts.onReady();
    settleFirst();
  }

  client.on('error', (err) => {
    opts.onStatus('error', err.message);
  });

  client.on('close', () => {
    const wasReady = ready;
    ready = false;
    if (ending) return;
    if (wasReady) opts.onStatus('disconnected');
    settleFirst();
    scheduleReconnect();
  });

  function scheduleReconnect(): void {
    if (retryTimer || ending) return;
    const delay = backoff.next();
    retryTimer = setTimeout(() => {
      retryTimer = null;
      if (ending) return;
      opts.onStatus('connecting', `attempt ${backoff.attempts + 1}`);
      client.connect();
    }, delay);
  }

  opts.onStatus('connecting');
  client.connect();

  return {
    client,
    get ready() {
      return ready;
    },
    firstAttempt,
    end(graceMs: number): Promise<void> {
      ending = true;
      if (retryTimer) clearTimeout(retryTimer);
      retryTimer = null;
      return new Promise<void>((resolve) => {
        // MQTT.js's end() ignores a second (forced) call while the first waits for unacknowledged
        // publishes, so past the grace the socket is destroyed directly (the will then says offline).
        const force = setTimeout(() => {
          client.stream.destroy();
          resolve();
        }, graceMs);
        // A clean DISCONNECT (not forced) suppresses the will: this close is deliberate.
        client.end(!client.connected, {}, () => {
          clearTimeout(force);
          resolve();
        });
      });
    },
  };
}
