/** The bridge's pure parts: payload parsing, dedupe memory, backoff, topic rules and the reply stream. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IClientPublishOptions } from 'mqtt';
import { Ax650Error } from '../../lib/errors';
import { createBackoff } from '../../lib/mqtt/backoff';
import { DedupeMemory } from '../../lib/mqtt/dedupe';
import { ReplyStream } from '../../lib/mqtt/reply';
import { parsePrompt, type IncomingPrompt, type ParsedPrompt } from '../../lib/mqtt/request';
import { isTopicFilter, presenceTopics, subscriptionFilter } from '../../lib/mqtt/topics';

function msg(payload: string | Buffer, extra: Partial<IncomingPrompt> = {}): IncomingPrompt {
  return { topic: 'robot/llm', payload: Buffer.isBuffer(payload) ? payload : Buffer.from(payload), ...extra };
}

function ok(p: ParsedPrompt | null): Extract<ParsedPrompt, { ok: true }> {
  assert.ok(p, 'expected a parse result');
  if (!p.ok) assert.fail(`expected ok, got ${p.error.code}: ${p.error.message}`);
  return p;
}

function failed(p: ParsedPrompt | null): Extract<ParsedPrompt, { ok: false }> {
  assert.ok(p, 'expected a parse result');
  if (p.ok) assert.fail(`expected an error, got ${JSON.stringify(p.request)}`);
  return p;
}

test('a plain text payload is the prompt and replies go to <topic>/response', () => {
  const p = ok(parsePrompt(msg('Wave to the visitor')));
  assert.equal(p.request.prompt, 'Wave to the visitor');
  assert.equal(p.target.topic, 'robot/llm/response');
  assert.equal(p.dedupeKey, null);
  assert.match(p.target.id, /^[0-9a-f-]{36}$/);
});

test('JSON maps prompt, system, conversation, options and id; the v5 Response Topic wins over replyTo', () => {
  const body = {
    prompt: 'Hi',
    system: 'Be brief.',
    conversation: 'kitchen',
    options: { temperature: 0.2, top_k: 5, top_p: 0.9, repetition_penalty: 1.1, max_tokens: 64, think: true },
    id: 42,
    replyTo: 'robot/replies',
  };
  const corr = Buffer.from([0, 1, 2, 255]);
  const p = ok(parsePrompt(msg(JSON.stringify(body), { responseTopic: 'req/7', correlationData: corr })));
  assert.deepEqual(p.request, {
    prompt: 'Hi',
    system: 'Be brief.',
    conversation: 'kitchen',
    sampling: { temperature: 0.2, topK: 5, topP: 0.9, repetitionPenalty: 1.1 },
    maxTokens: 64,
    think: true,
  });
  assert.equal(p.target.topic, 'req/7');
  assert.equal(p.target.id, '42');
  assert.equal(p.target.correlationData, corr);
  assert.equal(p.dedupeKey, 'c req/7 000102ff');
  const v3 = ok(parsePrompt(msg(JSON.stringify(body))));
  assert.equal(v3.target.topic, 'robot/replies');
  assert.equal(v3.dedupeKey, 'i robot/replies 42');
});

test('messages without a prompt use the last user message as the prompt', () => {
  const messages = [
    { role: 'system', content: 'S' },
    { role: 'user', content: 'first' },
    { role: 'assistant', content: 'A' },
    { role: 'user', content: 'second' },
  ];
  const p = ok(parsePrompt(msg(JSON.stringify({ messages }))));
  assert.equal(p.request.prompt, 'second');
  assert.equal(p.request.messages?.length, 4);
});

test('Message Expiry Interval becomes the notAfter deadline', () => {
  const p = ok(parsePrompt(msg('go', { messageExpiryInterval: 5 }), 1_000_000));
  assert.equal(p.request.notAfter, 1_005_000);
  assert.equal(ok(parsePrompt(msg('go'))).request.notAfter, undefined);
});

test('malformed payloads give BAD_INPUT with a reply target, never a throw', () => {
  const cases: Array<[string | Buffer, RegExp]> = [
    ['', /empty/],
    ['   ', /empty/],
    ['{oops', /not valid JSON/],
    [Buffer.from([0xff, 0xfe, 0x00]), /UTF-8/],
    ['{"prompt": 5}', /prompt must be a string/],
    ['{"prompt": ""}', /empty/],
    ['{"prompt":"x","options":{"topk":3}}', /Unknown option "topk"/],
    ['{"prompt":"x","options":{"temperature":"hot"}}', /temperature must be a number/],
    ['{"messages":[{"role":"robot","content":"x"}]}', /role/],
    ['{"messages":[{"role":"assistant","content":"x"}]}', /user message/],
    ['{"system":"no prompt"}', /"prompt" string or a "messages"/],
    ['{"prompt":"x","replyTo":"a/+"}', /replyTo/],
  ];
  for (const [payload, why] of cases) {
    const p = failed(parsePrompt(msg(payload)));
    assert.equal(p.error.code, 'BAD_INPUT', String(payload));
    assert.match(p.error.message, why, String(payload));
    assert.equal(p.target.topic, 'robot/llm/response');
  }
  const json = failed(parsePrompt(msg('[1,2]', { contentType: 'application/json' })));
  assert.match(json.error.message, /must be an object/);
});

test('a message shaped like one of the bridge\'s own replies is ignored (no reply loop)', () => {
  assert.equal(parsePrompt(msg('{"id":"1","index":0,"delta":"Hi"}')), null);
  assert.equal(parsePrompt(msg('{"id":"1","text":"Hi","done":true}')), null);
  assert.equal(parsePrompt(msg('{"id":"1","error":{"code":"BAD_INPUT","message":"x"},"done":true}')), null);
  assert.ok(parsePrompt(msg('{"prompt":"what does done mean?","done":true}')));
});

test('dedupe memory answers duplicates, forgets by age and stays bounded', () => {
  let now = 0;
  const d = new DedupeMemory({ maxEntries: 3, ttlMs: 1000, now: () => now });
  assert.equal(d.checkAndRemember('a'), false);
  assert.equal(d.checkAndRemember('a'), true);
  d.checkAndRemember('b');
  d.checkAndRemember('c');
  d.checkAndRemember('d');
  assert.equal(d.size, 3);
  assert.equal(d.checkAndRemember('a'), false, 'the oldest key was evicted by size');
  now = 5000;
  assert.equal(d.checkAndRemember('d'), false, 'keys expire');
  assert.equal(d.size, 1);
});

test('backoff grows exponentially to its cap, with jitter in [½d, d], and resets', () => {
  const rs = [0, 0.999, 0.5, 0, 0];
  const b = createBackoff({ baseMs: 100, maxMs: 1000, random: () => rs.shift() ?? 0 });
  assert.deepEqual([b.next(), b.next(), b.next(), b.next(), b.next()], [50, 200, 300, 400, 500]);
  assert.equal(b.attempts, 5);
  b.reset();
  assert.equal(b.next(), 50);
});

test('topic rules: filters, shared subscriptions and presence topics', () => {
  assert.ok(isTopicFilter('a/+/b/#'));
  assert.ok(!isTopicFilter('a/b#'));
  assert.ok(!isTopicFilter('a/#/b'));
  assert.ok(!isTopicFilter('a+/b'));
  assert.equal(subscriptionFilter('llm/+/prompt', 'npus'), '$share/npus/llm/+/prompt');
  assert.equal(subscriptionFilter('llm/prompt', undefined), 'llm/prompt');
  assert.throws(() => subscriptionFilter('llm/#/x', undefined), (e: unknown) => e instanceof Ax650Error && e.code === 'CONFIG_INVALID');
  assert.throws(() => subscriptionFilter('llm', 'a/b'), /share group/);
  assert.deepEqual(presenceTopics('robots/r1/'), { status: 'robots/r1/status', health: 'robots/r1/health' });
  assert.throws(() => presenceTopics('robots/+'), /base topic/);
});

test('a reply stream sends deltas, then exactly one terminal message, with v5 correlation and seq', () => {
  const sent: Array<{ topic: string; body: Record<string, unknown>; opts: IClientPublishOptions }> = [];
  const corr = Buffer.from('corr-1');
  const r = new ReplyStream({ topic: 't/resp', id: 'r1', correlationData: corr }, (topic, payload, opts) => {
    sent.push({ topic, body: JSON.parse(payload) as Record<string, unknown>, opts });
  }, { protocolVersion: 5, qos: 1, stream: true });
  r.delta('Hel', 0);
  r.delta('lo', 1);
  const stats = { promptTokens: 1, completionTokens: 2, ttftMs: 1, tokensPerSecond: null, durationMs: 3, queueMs: 0, doneReason: 'stop' as const };
  r.done({ text: 'Hello', stats });
  r.error(new Ax650Error('TIMEOUT', 'late'));
  r.delta('x', 2);
  assert.deepEqual(sent.map((s) => s.body), [
    { id: 'r1', index: 0, delta: 'Hel' },
    { id: 'r1', index: 1, delta: 'lo' },
    { id: 'r1', text: 'Hello', stats, done: true },
  ]);
  assert.ok(sent.every((s) => s.opts.properties?.correlationData === corr && s.topic === 't/resp' && s.opts.qos === 1));
  assert.deepEqual(sent.map((s) => s.opts.properties?.userProperties), [
    { seq: '0', done: 'false' },
    { seq: '1', done: 'false' },
    { seq: '2', done: 'true' },
  ]);
  const v3: Array<{ body: string; opts: IClientPublishOptions }> = [];
  const e = new ReplyStream({ topic: 't', id: 'r2' }, (_t, body, opts) => v3.push({ body, opts }), { protocolVersion: 4, qos: 0, stream: false });
  e.delta('ignored', 0);
  e.error(new Ax650Error('QUEUE_FULL', 'busy'));
  assert.deepEqual(v3, [{ body: '{"id":"r2","error":{"code":"QUEUE_FULL","message":"busy"},"done":true}', opts: { qos: 0, retain: false } }]);
});
