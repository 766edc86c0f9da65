/**
 * The reply-topic settings of the MQTT bridge as the node hands them over: the prefix is passed on
 * trimmed, and a prefix that cannot work is refused at deploy with CONFIG_INVALID naming the field.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bridgeOptionsFrom } from '../../nodes/ax650-mqtt';
import { resolveOptions } from '../../lib/mqtt/options';
import { topicMatches } from '../../lib/mqtt/reply-policy';
import { FakeRunner } from '../helpers/fake-runner';

const base = { id: 'n1', type: 'ax650-mqtt', runtime: 'rt', broker: 'mqtt://127.0.0.1:1883', topic: 'robots/+/ask' };

test('the editor\'s "Replies under" reaches the bridge trimmed; empty means no prefix', () => {
  assert.equal(bridgeOptionsFrom({ ...base, replyPrefix: ' robots/replies/ ' }, undefined).replyPrefix, 'robots/replies/');
  assert.equal(resolveOptions({ ...bridgeOptionsFrom({ ...base, replyPrefix: ' robots/replies/ ' }, undefined), runner: new FakeRunner() }).replies.prefix, 'robots/replies');
  assert.equal('replyPrefix' in bridgeOptionsFrom({ ...base, replyPrefix: '  ' }, undefined), false);
});

test('a prefix with wildcards, a $ prefix or one inside the prompt filter is CONFIG_INVALID at deploy', () => {
  for (const [topic, replyPrefix, mentions] of [
    ['robots/+/ask', 'replies/+', /without wildcards/],
    ['robots/+/ask', '$SYS/replies', /"\$"/],
    ['robots/#', 'robots/replies', /inside the prompt topic/],
  ] as const) {
    assert.throws(() => resolveOptions({ ...bridgeOptionsFrom({ ...base, topic, replyPrefix }, undefined), runner: new FakeRunner() }), (e: { code?: string; message: string; params?: { field?: string } }) => {
      assert.equal(e.code, 'CONFIG_INVALID');
      assert.equal(e.params?.field, 'replyPrefix');
      assert.match(e.message, mentions);
      return true;
    });
  }
});

test('MQTT topic matching: + is one level, # the rest including the parent', () => {
  assert.equal(topicMatches('robots/+/ask', 'robots/r1/ask'), true);
  assert.equal(topicMatches('robots/+/ask', 'robots/r1/ask/response'), false);
  assert.equal(topicMatches('robots/#', 'robots'), true);
  assert.equal(topicMatches('robots/#', 'robots/a/b'), true);
  assert.equal(topicMatches('robots/+', 'robots'), false);
});
