/**
 * Topic rules the bridge relies on (MQTT 5 spec §4.7, §4.8.2): a topic a PUBLISH goes to must not
 * hold wildcards ([MQTT-3.3.2-2], and the same for a Response Topic, [MQTT-3.3.2-14]); a shared
 * subscription is `$share/<group>/<filter>` with a group name free of `/`, `+` and `#`.
 */
import { Ax650Error } from '../errors';

/** MQTT strings are length-prefixed with 16 bits. */
const MAX_TOPIC_BYTES = 65535;

export function isPublishTopic(topic: string): boolean {
  return (
    topic.length > 0 &&
    Buffer.byteLength(topic) <= MAX_TOPIC_BYTES &&
    !topic.includes('+') &&
    !topic.includes('#') &&
    !topic.includes('\u0000')
  );
}

/** `#` only as the last level, `+` only as a whole level. */
export function isTopicFilter(filter: string): boolean {
  if (filter.length === 0 || Buffer.byteLength(filter) > MAX_TOPIC_BYTES || filter.includes('\u0000')) return false;
  const levels = filter.split('/');
  return levels.every((level, i) => {
    if (level.includes('#')) return level === '#' && i === levels.length - 1;
    return !level.includes('+') || level === '+';
  });
}

function configError(message: string, field: string): Ax650Error {
  return new Ax650Error('CONFIG_INVALID', message, { params: { field } });
}

/** The filter the bridge subscribes to, shared when a group is given. Throws CONFIG_INVALID. */
export function subscriptionFilter(promptTopic: string, shareGroup: string | undefined): string {
  if (!isTopicFilter(promptTopic) || promptTopic.startsWith('$share/')) {
    throw configError(`The prompt topic "${promptTopic}" is not a valid MQTT topic filter.`, 'promptTopic');
  }
  if (shareGroup === undefined || shareGroup === '') return promptTopic;
  if (/[/+#]/.test(shareGroup)) {
    throw configError(`The share group "${shareGroup}" must not contain "/", "+" or "#".`, 'shareGroup');
  }
  return `$share/${shareGroup}/${promptTopic}`;
}

/** Presence topics under the base topic; the base must be a plain topic (no wildcards). */
export function presenceTopics(baseTopic: string): { status: string; health: string } {
  const base = baseTopic.replace(/\/+$/, '');
  if (!isPublishTopic(base)) {
    throw configError(`The base topic "${baseTopic}" must be a topic without wildcards.`, 'baseTopic');
  }
  return { status: `${base}/status`, health: `${base}/health` };
}
