import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { isAx650Error } from '../../lib/errors';
import { G1Client, type GenerateRequest } from '../../lib/client/g1-client';
import { FakeG1, type FakeG1Script } from './fake-g1';

const REQ: GenerateRequest = { prompt: 'hi', temperature: 0.7, topK: 40, topP: 0.8, repetitionPenalty: 1.1 };
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function stack(script: FakeG1Script, opts: Partial<ConstructorParameters<typeof G1Client>[0]> = {}): Promise<{ fake: FakeG1; client: G1Client }> {
  const fake = new FakeG1(script);
  const baseUrl = await fake.listen();
  const client = new G1Client({ baseUrl, pollIntervalMs: 40, ...opts });
  cleanups.push(() => fake.close(), () => client.close());
  return { fake, client };
}

function timers(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
}

test('generate: deltas concatenate to the reply; every sampling key, hyphenated, numbers only', async () => {
  const reply = ['<think>\n\n</think>\n\n', 'Hello', ' wor', 'ld 你好 🤖'];
  const { fake, client } = await stack({ reply });
  const deltas: string[] = [];
  let accepted = 0;
  const before = timers();
  const out = await client.generate({ ...REQ, topK: 39.6 }, { onDelta: (t) => deltas.push(t), onAccepted: () => (accepted += 1) });
  assert.deepEqual(out, { text: reply.join(''), reason: 'done' });
  assert.equal(deltas.join(''), reply.join(''));
  assert.equal(accepted, 1);
  const posts = fake.requests.filter((r) => r.path === '/api/generate');
  assert.deepEqual(posts[0]?.body, { prompt: 'hi', temperature: 0.7, 'top-k': 40, 'top-p': 0.8, repetition_penalty: 1.1 });
  assert.equal(timers(), before, 'no timer left behind once the job ended');
  const polls = fake.count('/api/generate_provider');
  await client.generate(REQ, { onDelta: () => undefined });
  assert.deepEqual(fake.requests.filter((r) => r.path === '/api/generate')[1]?.body, posts[0]?.body, 'all keys again on the next request');
  assert.ok(fake.count('/api/generate_provider') > polls);
});

test('start race: done:true before the worker starts is not taken for the end', async () => {
  const { fake, client } = await stack({ startDelayMs: 120, reply: ['a', 'b', 'c'] });
  const out = await client.generate(REQ, { onDelta: () => undefined });
  assert.ok(fake.racePolls >= 1, 'the client polled inside the gap');
  assert.deepEqual(out, { text: 'abc', reason: 'done' });
});

test('400 llm is running at generate: bounded retry with backoff, then accepted', async () => {
  const { fake, client } = await stack({ busyFirst: 3 });
  const out = await client.generate(REQ, { onDelta: () => undefined });
  assert.equal(out.reason, 'done');
  assert.equal(fake.count('/api/generate'), 4);
});

test('400 llm is running that never clears → RUNTIME_WEDGED after busyRetries', async () => {
  const { fake, client } = await stack({ busyFirst: 1000 }, { busyRetries: 2 });
  await assert.rejects(client.generate(REQ, { onDelta: () => undefined }), (e) => isAx650Error(e) && e.code === 'RUNTIME_WEDGED');
  assert.equal(fake.count('/api/generate'), 3);
});

test('SetKVCache failed: reason context-full, the error string never reaches onDelta', async () => {
  const { client } = await stack({ contextFull: 'fixed' });
  const deltas: string[] = [];
  assert.deepEqual(await client.generate(REQ, { onDelta: (t) => deltas.push(t) }), { text: '', reason: 'context-full' });
  assert.deepEqual(deltas, []);
});

test('SetKVCache failed pushed after running was cleared (the vendor pushes without the lock)', async () => {
  const { fake, client } = await stack({ contextFull: 'fixed', markerDelayMs: 80 });
  const out = await client.generate(REQ, { onDelta: () => assert.fail('no delta expected') });
  assert.equal(out.reason, 'context-full');
  assert.equal(out.text, '');
  assert.ok(fake.count('/api/generate_provider') >= 2, 'the first poll saw done:true with nothing and was not trusted');
});

test('wedged revision (running forever, no text) → RUNTIME_WEDGED after wedgeMs', async () => {
  const { client } = await stack({ contextFull: 'wedge' });
  await assert.rejects(client.generate(REQ, { onDelta: () => undefined, wedgeMs: 300 }), (e) => isAx650Error(e) && e.code === 'RUNTIME_WEDGED');
});

test('abort mid-stream: GET /api/stop, partial text, runtime idle, well under 1 s', async () => {
  const reply = Array.from({ length: 200 }, (_, i) => `w${i} `);
  const { fake, client } = await stack({ reply, chunkIntervalMs: 30 });
  const ac = new AbortController();
  const deltas: string[] = [];
  let abortedAt = 0;
  const out = await client.generate(REQ, {
    signal: ac.signal,
    onDelta: (t) => {
      deltas.push(t);
      if (deltas.length === 3) {
        abortedAt = Date.now();
        ac.abort();
      }
    },
  });
  const took = Date.now() - abortedAt;
  assert.equal(out.reason, 'stopped');
  assert.equal(out.text, deltas.join(''));
  assert.ok(out.text.startsWith('w0 w1 '));
  assert.ok(out.text.length < reply.join('').length);
  assert.equal(fake.running, false);
  assert.ok(fake.count('/api/stop') >= 1);
  assert.ok(took < 1000, `stopped in ${took} ms`);
});

test('abort before the worker starts: the stop is lost (Run clears b_stop), so the client stops again', async () => {
  const reply = Array.from({ length: 100 }, (_, i) => `t${i}`);
  const { fake, client } = await stack({ reply, startDelayMs: 60, chunkIntervalMs: 20 });
  const ac = new AbortController();
  const out = await client.generate(REQ, { signal: ac.signal, onAccepted: () => ac.abort(), onDelta: () => undefined });
  assert.equal(out.reason, 'stopped');
  assert.equal(fake.running, false);
  assert.ok(fake.count('/api/stop') >= 2, 'stop was repeated after the job really started');
});

test('an already aborted signal sends nothing', async () => {
  const { fake, client } = await stack({});
  const ac = new AbortController();
  ac.abort();
  assert.deepEqual(await client.generate(REQ, { signal: ac.signal, onDelta: () => undefined }), { text: '', reason: 'stopped' });
  assert.equal(fake.requests.length, 0);
});

test('connection refused mid-job → RUNTIME_CRASHED', async () => {
  const { fake, client } = await stack({ reply: ['a', 'b', 'c', 'd', 'e', 'f'], chunkIntervalMs: 50 });
  let crashed: Promise<void> | undefined;
  await assert.rejects(
    client.generate(REQ, { onDelta: () => (crashed ??= fake.crash()) }),
    (e) => isAx650Error(e) && e.code === 'RUNTIME_CRASHED',
  );
  await crashed;
});

test('a poll that never answers → RUNTIME_WEDGED after requestTimeoutMs', async () => {
  const { client } = await stack({ hangPolls: true }, { requestTimeoutMs: 200 });
  await assert.rejects(client.generate(REQ, { onDelta: () => undefined }), (e) => isAx650Error(e) && e.code === 'RUNTIME_WEDGED');
});

test('a throwing onDelta stops the runtime and rejects INTERNAL', async () => {
  const { fake, client } = await stack({ reply: ['a', 'b', 'c', 'd', 'e', 'f', 'g'], chunkIntervalMs: 30 });
  await assert.rejects(
    client.generate(REQ, {
      onDelta: () => {
        throw new Error('boom');
      },
    }),
    (e) => isAx650Error(e) && e.code === 'INTERNAL' && /boom/.test(e.message),
  );
  assert.equal(fake.running, false);
  assert.ok(fake.count('/api/stop') >= 1);
});

test('reset: {system_prompt}, busy retry, then waits for the prefill to finish', async () => {
  const { fake, client } = await stack({ busyFirst: 1, resetPrefillMs: 150 });
  const { prefillMs } = await client.reset('You are a robot.');
  assert.equal(fake.running, false);
  assert.ok(prefillMs >= 100, `prefill observed for ${prefillMs} ms`);
  const posts = fake.requests.filter((r) => r.path === '/api/reset');
  assert.equal(posts.length, 2);
  assert.deepEqual(posts[1]?.body, { system_prompt: 'You are a robot.' });
  await client.reset(undefined);
  assert.deepEqual(fake.requests.filter((r) => r.path === '/api/reset')[2]?.body, {}, 'never an empty body (400)');
});

test('one job at a time per client', async () => {
  const { client } = await stack({ resetPrefillMs: 100 });
  const first = client.reset('a');
  await assert.rejects(client.generate(REQ, { onDelta: () => undefined }), (e) => isAx650Error(e) && e.code === 'INTERNAL');
  await first;
});

test('probe: true while the server answers, false once the port refuses', async () => {
  const { fake, client } = await stack({});
  assert.equal(await client.probe(), true);
  await fake.crash();
  assert.equal(await client.probe(), false);
});

test('stop(): GET /api/stop', async () => {
  const { fake, client } = await stack({});
  await client.stop();
  assert.deepEqual(
    fake.requests.map((r) => `${r.method} ${r.path}`),
    ['GET /api/stop'],
  );
});
