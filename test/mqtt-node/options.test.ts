/**
 * How the node's editor settings (strings from the flow file) and credentials become bridge options,
 * and the default client id: stable per node, distinct between nodes, short enough for any broker.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { bridgeOptionsFrom, defaultClientId } from '../../nodes/ax650-mqtt';
import { resolveOptions } from '../../lib/mqtt/options';
import { FakeRunner } from '../helpers/fake-runner';

const base = { id: 'a1b2c3d4e5f60718', type: 'ax650-mqtt', runtime: 'rt', broker: ' mqtt://127.0.0.1:1883 ', topic: 'robots/+/ask' };

describe('ax650-mqtt settings', () => {
  test('the default client id is derived from the node id, at most 23 characters, and differs between nodes', () => {
    assert.equal(defaultClientId('a1b2c3d4e5f60718'), 'ax650-a1b2c3d4e5f60718');
    assert.equal(defaultClientId('4f1c2a9b.8e7d6c'), 'ax650-4f1c2a9b8e7d6c', 'old-style ids lose the dot');
    assert.ok(defaultClientId('x'.repeat(40)).length <= 23);
    assert.notEqual(defaultClientId('a1b2c3d4e5f60718'), defaultClientId('a1b2c3d4e5f60719'));
  });

  test('editor strings become typed options; empty fields are left to the bridge defaults', () => {
    const o = bridgeOptionsFrom({ ...base, qos: '2', protocolVersion: '4', sessionExpiry: '120', healthInterval: '1.5', shareGroup: ' npus ', baseTopic: '', clientId: '', stream: false }, {
      user: 'robot',
      password: 'pw',
    });
    assert.deepEqual(o, {
      url: 'mqtt://127.0.0.1:1883',
      promptTopic: 'robots/+/ask',
      clientId: 'ax650-a1b2c3d4e5f60718',
      stream: false,
      qos: 2,
      protocolVersion: 4,
      sessionExpirySec: 120,
      healthIntervalMs: 1500,
      shareGroup: 'npus',
      username: 'robot',
      password: 'pw',
    });
    const plain = bridgeOptionsFrom({ ...base, healthInterval: '0', qos: '' }, undefined);
    assert.deepEqual(plain, { url: 'mqtt://127.0.0.1:1883', promptTopic: 'robots/+/ask', clientId: 'ax650-a1b2c3d4e5f60718', stream: true });
  });

  test('nonsense in a numeric field reaches the bridge, which refuses it with CONFIG_INVALID naming the field', () => {
    for (const [key, value, field] of [['qos', 'x', 'qos'], ['protocolVersion', '3', 'protocolVersion'], ['sessionExpiry', '-1', 'sessionExpirySec'], ['healthInterval', 'soon', 'healthIntervalMs']] as const) {
      const o = bridgeOptionsFrom({ ...base, [key]: value }, undefined);
      assert.throws(() => resolveOptions({ ...o, runner: new FakeRunner() }), (e: { code?: string; params?: { field?: string } }) => {
        assert.equal(e.code, 'CONFIG_INVALID');
        assert.equal(e.params?.field, field);
        return true;
      });
    }
  });
});
