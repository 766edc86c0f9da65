/**
 * Issue 18 item 7: the MQTT bridge's de-duplication memory is bounded in bytes. A prompt with an
 * `id` longer than MAX_REQUEST_ID_LENGTH gets a BAD_INPUT reply (with a fresh id) and is not run;
 * 40 such prompts of 4 MiB leave nothing on the heap; ids and correlation data of any length are
 * remembered as fixed-size digests, so a long-running bridge's memory stays flat.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { DedupeMemory } from '../../lib/mqtt/dedupe';
import { MAX_REQUEST_ID_LENGTH } from '../../lib/mqtt/request';
import { FakeRunner } from '../helpers/fake-runner';
import { startAedes, type AedesBroker } from '../mqtt/brokers';
import { startTestBridge } from '../mqtt/harness';
import { isTerminal, Requester } from '../mqtt/requester';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

let broker: AedesBroker;
before(async () => {
  broker = await startAedes();
});
after(async () => {
  await broker.close();
});

test('40 prompts with a 4 MiB id: each answered BAD_INPUT, none run, the heap does not keep them', async () => {
  const runner = new FakeRunner({ reply: () => 'ok' });
  const tb = await startTestBridge({ runner, url: broker.url, promptTopic: 'big/prompt', protocolVersion: 4, clientId: 'bridge-big' });
  const req = await Requester.connect(broker.url, { protocolVersion: 4 });
  try {
    await req.subscribe('big/prompt/response');
    gc();
    const before = process.memoryUsage().heapUsed;
    const hugeId = 'x'.repeat(4 * 1024 * 1024);
    for (let i = 0; i < 40; i++) await req.publish('big/prompt', JSON.stringify({ prompt: `p${i}`, id: `${i}${hugeId}` }));
    await req.waitFor((rs) => rs.filter(isTerminal).length >= 40, 60_000, '40 error replies');
    for (const r of req.replies.filter(isTerminal)) {
      assert.equal((r.body.error as { code: string }).code, 'BAD_INPUT');
      assert.match((r.body.error as { message: string }).message, new RegExp(`at most ${MAX_REQUEST_ID_LENGTH} characters`));
      assert.ok(String(r.body.id).length < 64, 'the reply carries a fresh id, not the 4 MiB one');
    }
    assert.equal(runner.ran.length, 0);
    req.replies.length = 0;
    gc();
    const growth = process.memoryUsage().heapUsed - before;
    assert.ok(growth < 16 * 1024 * 1024, `heap grew by ${(growth / 1048576).toFixed(1)} MiB (40 × 4 MiB ids were sent)`);
    // An id at the limit is served and de-duplicated.
    const longest = 'y'.repeat(MAX_REQUEST_ID_LENGTH);
    await req.publish('big/prompt', JSON.stringify({ prompt: 'once', id: longest }));
    await req.publish('big/prompt', JSON.stringify({ prompt: 'once', id: longest }));
    await req.terminalOf(longest);
    await req.publish('big/prompt', JSON.stringify({ prompt: 'marker', id: 'after' }));
    await req.terminalOf('after');
    assert.deepEqual(runner.ran.map((r) => r.prompt), ['once', 'marker'], 'the redelivered duplicate ran once');
  } finally {
    await req.close();
    await tb.bridge.close();
  }
});

test('the memory holds fixed-size digests: 5,000 keys of 64 KiB stay within maxBytes', () => {
  const memory = new DedupeMemory();
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < 5000; i++) assert.equal(memory.checkAndRemember(`i topic ${i} ${'k'.repeat(64 * 1024)}`), false);
  assert.equal(memory.checkAndRemember(`i topic 4999 ${'k'.repeat(64 * 1024)}`), true);
  gc();
  const growth = process.memoryUsage().heapUsed - before;
  assert.equal(memory.size, 2048);
  assert.ok(growth < memory.maxBytes * 2, `heap grew by ${growth} bytes; bound ${memory.maxBytes}`);
});
