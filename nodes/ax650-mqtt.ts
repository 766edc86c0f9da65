/**
 * ax650-mqtt: answers prompts published on MQTT with the runtime's replies (MQTT 5
 * request/response, 3.1.1 fallback), optionally as one of several bridges in a shared
 * subscription. A thin adapter: the protocol lives in lib/mqtt, the work in lib/runtime.
 */
import { toAx650Error } from '../lib/errors';
import { StatusThrottle } from '../lib/generate/status';
import { createMqttBridge, type BridgeStatus, type MqttBridge, type MqttBridgeOptions } from '../lib/mqtt/bridge';
import { errorText } from './shared/i18n';
import { getRuntimeNode } from './shared/runtime-node';
import type { Node, NodeAPI, NodeDef, NodeStatus } from './red-types';

interface MqttDef extends NodeDef {
  runtime: string;
  broker?: string;
  clientId?: string;
  topic?: string;
  shareGroup?: string;
  qos?: string | number;
  stream?: boolean;
  baseTopic?: string;
  protocolVersion?: string | number;
  sessionExpiry?: string | number;
  healthInterval?: string | number;
  /** Requesters' reply topics must be under this topic (empty: any topic but the bridge's own). */
  replyPrefix?: string;
}

/** Past this, close() gives up waiting for the bridge: Node-RED's own close budget is 15 s. */
const CLOSE_CAP_MS = 10_000;
/** The length every 3.1.1 broker must accept ([MQTT-3.1.3-5]). */
const MAX_PORTABLE_CLIENT_ID = 23;

function optionalNumber(v: unknown): number | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : NaN;
}

function trimmed(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
}

/**
 * A client id stable across restarts and unique per node: two bridges sharing an id would take
 * each other's session and disconnect each other in a loop.
 */
export function defaultClientId(nodeId: string): string {
  return `ax650-${nodeId.replace(/[^A-Za-z0-9]/g, '')}`.slice(0, MAX_PORTABLE_CLIENT_ID);
}

/** The bridge options a node's settings ask for; checking them is the bridge's job (CONFIG_INVALID). */
export function bridgeOptionsFrom(def: MqttDef, credentials: Node['credentials']): Omit<MqttBridgeOptions, 'runner' | 'onStatus'> {
  const qos = optionalNumber(def.qos);
  const version = optionalNumber(def.protocolVersion);
  const sessionExpiry = optionalNumber(def.sessionExpiry);
  const healthSec = optionalNumber(def.healthInterval);
  const opts: Omit<MqttBridgeOptions, 'runner' | 'onStatus'> = {
    url: trimmed(def.broker) ?? '',
    promptTopic: trimmed(def.topic) ?? '',
    clientId: trimmed(def.clientId) ?? defaultClientId(def.id),
    stream: def.stream !== false,
  };
  if (qos !== undefined) opts.qos = qos as MqttBridgeOptions['qos'];
  if (version !== undefined) opts.protocolVersion = version as MqttBridgeOptions['protocolVersion'];
  if (sessionExpiry !== undefined) opts.sessionExpirySec = sessionExpiry;
  // 0 or empty: never; anything else (negative, NaN) is the bridge's to refuse.
  if (healthSec !== undefined && healthSec !== 0) opts.healthIntervalMs = Math.round(healthSec * 1000);
  const group = trimmed(def.shareGroup);
  const base = trimmed(def.baseTopic);
  if (group !== undefined) opts.shareGroup = group;
  if (base !== undefined) opts.baseTopic = base;
  const replyPrefix = trimmed(def.replyPrefix);
  if (replyPrefix !== undefined) opts.replyPrefix = replyPrefix;
  const user = credentials?.user;
  const password = credentials?.password;
  if (user) opts.username = user;
  if (password) opts.password = password;
  return opts;
}

export default function register(RED: NodeAPI): void {
  function Ax650MqttNode(this: Node, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const node = this;
    const cfg = def as MqttDef;
    const status = new StatusThrottle<NodeStatus>((s) => node.status(s), 500);
    const runtimeNode = getRuntimeNode(RED, cfg.runtime);
    if (!runtimeNode) {
      node.status({ fill: 'red', shape: 'ring', text: RED._('ax650-mqtt.status.no-runtime') });
      node.error(RED._('ax650-mqtt.errors.no-runtime'));
      return;
    }
    runtimeNode.register(node);

    let lastWarning = '';
    const onStatus = (s: BridgeStatus, detail?: string): void => {
      if (s === 'error') {
        // A broker that stays down repeats the same error on every attempt; the log gets it once.
        // The detail is lib's English sentence, as errorText() falls back to for untranslated codes.
        const text = `MQTT: ${detail ?? 'error'}`;
        if (text !== lastWarning) node.warn(text);
        lastWarning = text;
        return;
      }
      if (s === 'connected') lastWarning = '';
      const fill = s === 'connected' ? 'green' : s === 'connecting' ? 'yellow' : 'red';
      status.set({ fill, shape: s === 'connected' ? 'dot' : 'ring', text: RED._(`ax650-mqtt.status.${s}`) }, s !== 'connecting');
    };

    let bridge: MqttBridge | null = null;
    try {
      bridge = createMqttBridge({ ...bridgeOptionsFrom(cfg, node.credentials), runner: runtimeNode.runtime, onStatus });
    } catch (e) {
      const err = toAx650Error(e, 'CONFIG_INVALID');
      status.set({ fill: 'red', shape: 'ring', text: RED._('ax650-mqtt.status.error', { code: err.code }) }, true);
      node.error(errorText(RED, err));
    }

    node.on('close', (_removed: boolean, done: () => void) => {
      status.clear();
      const closing = bridge ? bridge.close() : Promise.resolve();
      const cap = new Promise<void>((resolve) => setTimeout(resolve, CLOSE_CAP_MS).unref());
      void Promise.race([closing, cap])
        .catch((e: unknown) => node.error(e instanceof Error ? e : String(e)))
        .finally(() => runtimeNode.deregister(node, done));
    });
  }
  RED.nodes.registerType('ax650-mqtt', Ax650MqttNode, {
    credentials: { user: { type: 'text' }, password: { type: 'password' } },
  });
}
