/**
 * Where a requester may have its replies published. The reply topic comes from the requester (the
 * v5 Response Topic or a JSON `replyTo`), but it is published with the bridge's broker account, so
 * unchecked it lets any requester write wherever that account may: the bridge's own retained status,
 * another bridge's prompt topic, a robot's command topic. The policy:
 * - never the bridge's own topics: its presence topics (`<base>/status`, `<base>/health`) and any
 *   topic its prompt filter matches (a reply there would land among the prompts of every bridge and client on it);
 * - never a `$` topic (reserved for the broker, MQTT 5 §4.7.2);
 * - with a reply prefix configured, only that prefix or topics under it (`reply` allows `reply/7/a`).
 * A refused topic is a BAD_INPUT answered on the default topic `<prompt topic>/response`.
 * Broker ACLs (docs/mqtt.md) confine the account itself; this keeps a shared account honest too.
 */
import { Ax650Error } from '../errors';
import { isPublishTopic } from './topics';

export interface ReplyPolicyOptions {
  /** Reply topics must be this topic or under it; empty or undefined: any topic but the bridge's own. */
  prefix?: string | undefined;
  /** The prompt filter as configured (without `$share/<group>/`). */
  promptTopic: string;
  /** Topics the bridge publishes itself (presence). */
  ownTopics: readonly string[];
}

export interface ReplyPolicy {
  /** The normalised prefix (no trailing `/`), or null when replies are not confined to one. */
  readonly prefix: string | null;
  /** Null when `topic` may carry replies; otherwise why not, as the BAD_INPUT for the requester. */
  refusal(topic: string, field: string): Ax650Error | null;
}

/** MQTT topic matching ([MQTT-4.7]): `+` one level, `#` the rest (including the parent level). */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/** Throws CONFIG_INVALID for a prefix that is not a plain topic. */
export function createReplyPolicy(o: ReplyPolicyOptions): ReplyPolicy {
  const raw = (o.prefix ?? '').trim().replace(/\/+$/, '');
  if (raw !== '' && (!isPublishTopic(raw) || raw.startsWith('$'))) {
    throw new Ax650Error('CONFIG_INVALID', `The reply prefix "${o.prefix ?? ''}" must be a topic without wildcards that does not start with "$", like "robots/replies".`, {
      params: { field: 'replyPrefix' },
    });
  }
  const prefix = raw === '' ? null : raw;
  if (prefix !== null && topicMatches(o.promptTopic, `${prefix}/reply`)) {
    throw new Ax650Error('CONFIG_INVALID', `The reply prefix "${prefix}" lies inside the prompt topic "${o.promptTopic}": replies there would arrive as prompts. Choose a prefix outside it.`, {
      params: { field: 'replyPrefix' },
    });
  }
  const refused = (topic: string, field: string, why: string): Ax650Error =>
    new Ax650Error('BAD_INPUT', `The reply topic "${topic}" is not allowed: ${why}. The error is answered on the default reply topic instead.`, { params: { field, topic } });
  return {
    prefix,
    refusal(topic, field) {
      if (topic.startsWith('$')) return refused(topic, field, 'topics starting with "$" belong to the broker');
      if (o.ownTopics.includes(topic) || topicMatches(o.promptTopic, topic)) {
        return refused(topic, field, "it is one of the bridge's own topics (its status, health or prompt topics)");
      }
      if (prefix !== null && topic !== prefix && !topic.startsWith(`${prefix}/`)) {
        return refused(topic, field, `this bridge publishes replies only under "${prefix}/"`);
      }
      return null;
    },
  };
}
