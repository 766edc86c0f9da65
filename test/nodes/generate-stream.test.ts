/**
 * ax650-generate in real Node-RED flows on the simulator (issue 4): the stream rebuilt by a core
 * join node equals the final reply, streams of several nodes never interleave, order follows the queue.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, streamText, type Harness } from './flow-harness';
import type { NodeMessage } from '../../nodes/red-types';

describe('ax650-generate streaming', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ generators: [{ id: 'a' }, { id: 'b' }, { id: 'c' }], runtime: { queueLimit: 64 } });
  });
  after(async () => {
    await h.close();
  });

  test('the join node rebuilds exactly output 2 for 50 prompts, emoji and CJK included', async () => {
    const prompts = Array.from({ length: 50 }, (_, i) => `Prompt ${i}: tell me something about robots number ${i * 7}.`);
    const a = h.node('a');
    for (const p of prompts) a.receive({ payload: p, topic: p });
    const finals = await h.waitFor('a-final', 50, 120_000);
    const joined = await h.waitFor('joined', 50, 120_000);
    assert.equal(finals.length, 50);
    assert.deepEqual(h.received.get('caught'), [], 'no errors');
    const byTopic = new Map(joined.map((m) => [m.topic, m.payload]));
    for (const f of finals) {
      assert.equal(typeof f.payload, 'string');
      assert.ok((f.payload as string).length > 0, 'reply not empty');
      assert.equal(byTopic.get(f.topic), f.payload, `join of "${f.topic}" equals the final payload`);
      assert.doesNotMatch(f.payload as string, /<think>/, 'think block stripped');
      const stats = f.stats as Record<string, unknown>;
      assert.equal(stats.doneReason, 'stop');
      assert.ok((stats.completionTokens as number) > 0);
    }
    const all = finals.map((f) => f.payload as string).join('');
    assert.match(all, /\p{Script=Han}/u, 'some replies contain CJK');
    assert.match(all, /\p{Extended_Pictographic}/u, 'some replies contain emoji');
    const stream = h.received.get('a-stream')!;
    for (const m of stream) assert.equal((m.parts as { type: string }).type, 'string');
    assert.equal(streamText(stream), finals.map((f) => f.payload).join(''), 'stream messages spell the replies in order');
  });

  test('three nodes, 10 prompts each at once: one final each, no interleaving, queue order', async () => {
    for (const id of ['a', 'b', 'c']) {
      h.received.set(`${id}-final`, []);
      h.received.set(`${id}-stream`, []);
    }
    const order: string[] = [];
    for (let i = 0; i < 10; i++) {
      for (const id of ['a', 'b', 'c']) {
        const topic = `${id}-${i}`;
        order.push(topic);
        h.node(id).receive({ payload: `Question ${topic}?`, topic });
      }
    }
    const finals = await Promise.all(['a', 'b', 'c'].map((id) => h.waitFor(`${id}-final`, 10, 120_000)));
    for (const list of finals) assert.equal(list.length, 10);
    const done = finals.flat().sort((x, y) => (x.stats as { durationMs: number; queueMs: number }).queueMs - (y.stats as { queueMs: number }).queueMs);
    assert.deepEqual(done.map((m) => m.topic), order, 'completion follows submission order');
    // One job at a time: each stream's messages arrive without another stream in between.
    const streams = ['a', 'b', 'c'].flatMap((id) => h.received.get(`${id}-stream`)!);
    const byId = new Map<string, NodeMessage[]>();
    for (const m of streams) {
      const id = (m.parts as { id: string }).id;
      byId.set(id, [...(byId.get(id) ?? []), m]);
    }
    assert.equal(byId.size, 30);
    for (const [, msgs] of byId) {
      const idx = msgs.map((m) => (m.parts as { index: number }).index);
      assert.deepEqual(idx, idx.map((_, i) => i), 'indexes 0..n in order');
      const last = msgs[msgs.length - 1]!;
      assert.equal((last.parts as { count: number }).count, msgs.length);
      assert.equal(last.complete, true);
      assert.equal(new Set(msgs.map((m) => m.topic)).size, 1, 'one stream = one input msg');
    }
  });

  test('existing msg.parts are nested the way the split node does', async () => {
    h.received.set('a-stream', []);
    h.received.set('a-final', []);
    h.node('a').receive({ payload: 'Nested?', parts: { id: 'outer', index: 3, count: 5, type: 'array', len: 1 } });
    await h.waitFor('a-final', 1);
    const stream = h.received.get('a-stream')!;
    for (const m of stream) {
      const p = m.parts as { parts: { id: string; index: number } };
      assert.equal(p.parts.id, 'outer');
      assert.equal(p.parts.index, 3);
    }
  });
});
