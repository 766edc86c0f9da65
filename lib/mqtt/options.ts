/**
 * The bridge's settings, checked once at start so that a misconfigured bridge fails with
 * CONFIG_INVALID and a sentence naming the field instead of misbehaving on the first prompt.
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { Ax650Error } from '../errors';
import type { JobRunner } from '../runtime/types';
import type { BackoffOptions } from './backoff';
import type { BridgeStatus } from './connection';
import type { QoS } from './reply';
import { createReplyPolicy, type ReplyPolicy } from './reply-policy';
import { presenceTopics, subscriptionFilter } from './topics';

export interface MqttBridgeOptions {
  runner: JobRunner;
  /** Broker URL, e.g. `mqtt://127.0.0.1:1883` or `mqtts://…`. */
  url: string;
  username?: string;
  password?: string;
  /** Stable id for the persistent session. Default: derived from host name, URL and topics. */
  clientId?: string;
  /** Filter the prompts arrive on; wildcards allowed. */
  promptTopic: string;
  /** Subscribe as `$share/<group>/<promptTopic>` so several bridges split the prompts. */
  shareGroup?: string;
  /** For the subscription and every reply. Default 1. */
  qos?: QoS;
  /** Publish deltas as they come. Default true. */
  stream?: boolean;
  /** Presence: `<base>/status` retained online/offline (last will), `<base>/health` snapshots. */
  baseTopic?: string;
  /** Default 5. */
  protocolVersion?: 4 | 5;
  /** v5 Session Expiry Interval, s: how long the broker keeps prompts for an absent bridge. Default 3600. */
  sessionExpirySec?: number;
  /** Publish a health snapshot this often (needs baseTopic). Default: never. */
  healthIntervalMs?: number;
  /** The health snapshot. Default: the runner's `info()`. */
  health?: () => unknown;
  onStatus?: (status: BridgeStatus, detail?: string) => void;
  /** Reconnect delays. Default 0.5 s doubling to 30 s, with jitter. */
  backoff?: BackoffOptions;
  /** Requesters' reply topics must be this topic or under it. Default: any topic but the bridge's own. */
  replyPrefix?: string;
}

export interface ResolvedOptions {
  runner: JobRunner;
  url: string;
  username?: string;
  password?: string;
  clientId: string;
  owner: string;
  filter: string;
  qos: QoS;
  stream: boolean;
  baseTopic: string | undefined;
  protocolVersion: 4 | 5;
  sessionExpirySec: number;
  healthIntervalMs: number | undefined;
  health: () => unknown;
  onStatus: (status: BridgeStatus, detail?: string) => void;
  backoff: BackoffOptions | undefined;
  replies: ReplyPolicy;
}

function invalid(message: string, field: string): Ax650Error {
  return new Ax650Error('CONFIG_INVALID', message, { params: { field } });
}

function defaultClientId(o: MqttBridgeOptions): string {
  const digest = createHash('sha256')
    .update([hostname(), o.url, o.promptTopic, o.shareGroup ?? '', o.baseTopic ?? ''].join('\n'))
    .digest('hex');
  // At most 23 characters: the length every v3.1.1 broker must accept ([MQTT-3.1.3-5]).
  return `ax650-${digest.slice(0, 16)}`;
}

function integerIn(v: number | undefined, field: string, min: number, max: number): void {
  if (v !== undefined && (!Number.isInteger(v) || v < min || v > max)) {
    throw invalid(`${field} must be a whole number from ${min} to ${max}, got ${String(v)}.`, field);
  }
}

/** Throws CONFIG_INVALID. */
export function resolveOptions(o: MqttBridgeOptions): ResolvedOptions {
  if (typeof o.url !== 'string' || !/^(mqtts?|wss?|tcp|ssl):\/\/./.test(o.url)) {
    throw invalid(`The broker URL must look like mqtt://host:1883, got "${String(o.url)}".`, 'url');
  }
  const qos = o.qos ?? 1;
  if (qos !== 0 && qos !== 1 && qos !== 2) throw invalid(`qos must be 0, 1 or 2, got ${String(qos)}.`, 'qos');
  const protocolVersion = o.protocolVersion ?? 5;
  if (protocolVersion !== 4 && protocolVersion !== 5) {
    throw invalid(`protocolVersion must be 4 (MQTT 3.1.1) or 5, got ${String(protocolVersion)}.`, 'protocolVersion');
  }
  integerIn(o.sessionExpirySec, 'sessionExpirySec', 1, 0xffffffff);
  integerIn(o.healthIntervalMs, 'healthIntervalMs', 100, 24 * 3600 * 1000);
  const clientId = o.clientId ?? defaultClientId(o);
  if (clientId === '' || Buffer.byteLength(clientId) > 65535) throw invalid('clientId must be a non-empty string.', 'clientId');
  const onStatus = o.onStatus ?? (() => undefined);
  const resolved: ResolvedOptions = {
    runner: o.runner,
    url: o.url,
    clientId,
    owner: `mqtt:${clientId}`,
    filter: subscriptionFilter(o.promptTopic, o.shareGroup),
    qos,
    stream: o.stream ?? true,
    baseTopic: o.baseTopic,
    protocolVersion,
    sessionExpirySec: o.sessionExpirySec ?? 3600,
    healthIntervalMs: o.healthIntervalMs,
    health: o.health ?? (() => o.runner.info()),
    onStatus: (status, detail) => {
      // A throwing status callback must not break the MQTT client's event handling.
      try {
        onStatus(status, detail);
      } catch {
        return;
      }
    },
    backoff: o.backoff,
    replies: createReplyPolicy({
      prefix: o.replyPrefix,
      promptTopic: o.promptTopic,
      ownTopics: o.baseTopic === undefined ? [] : Object.values(presenceTopics(o.baseTopic)),
    }),
  };
  if (o.username !== undefined) resolved.username = o.username;
  if (o.password !== undefined) resolved.password = o.password;
  return resolved;
}
