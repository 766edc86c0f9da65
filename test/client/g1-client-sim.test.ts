import assert from 'node:assert/strict';
import { watch } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { G1Client, type GenerateRequest } from '../../lib/client/g1-client';
import { isAx650Error } from '../../lib/errors';
import { RuntimeLogParser } from '../../lib/runtime/log-parser';
import { StatsJoiner } from '../../lib/runtime/stats-joiner';
import { startSimStack } from '../helpers/sim';
import { splitStdout } from './log-lines';

type SimStack = Awaited<ReturnType<typeof startSimStack>>;

const REQ: GenerateRequest = { prompt: 'Say hello', temperature: 0.7, topK: 40, topP: 0.8, repetitionPenalty: 1.1 };
const REPLY = '<think>\n\n</think>\n\nHello 你好 🤖, the gripper is ready.';
const FAST = { AX650_SIM_LOAD_MS: '60', AX650_SIM_LISTEN_DELAY_MS: '20', AX650_SIM_PREFILL_MS_PER_TOKEN: '0.2' };

interface LogEntry {
  event: string;
  path?: string;
  body?: unknown;
}

async function requests(stack: SimStack): Promise<LogEntry[]> {
  return ((await stack.readLog()) as LogEntry[]).filter((e) => e.event === 'request');
}

async function stopAndProveGone(stack: SimStack): Promise<void> {
  await stack.stop();
  assert.throws(() => process.kill(stack.pid, 0), /ESRCH/);
}

/** Resolves 'request' as soon as the runtime's request log grows, 'quiet' if it does not within `ms`. */
function nextRequestOrQuiet(file: string, ms: number): Promise<'request' | 'quiet'> {
  return new Promise((resolve) => {
    const watcher = watch(file, () => finish('request'));
    const timer = setTimeout(() => finish('quiet'), ms);
    function finish(v: 'request' | 'quiet'): void {
      clearTimeout(timer);
      watcher.close();
      resolve(v);
    }
  });
}

describe('G1Client against the simulator', () => {
  let stack: SimStack;
  let client: G1Client;

  before(async () => {
    stack = await startSimStack({ env: { ...FAST, AX650_SIM_TOKENS_PER_SEC: '120', AX650_SIM_REPLY: REPLY } });
    client = new G1Client({ baseUrl: stack.baseUrl });
  });

  after(async () => {
    await client.close();
    await stopAndProveGone(stack);
  });

  test('reset, then a full generate: the deltas concatenate to the reply', async () => {
    await client.reset('You are a helpful robot.');
    const deltas: string[] = [];
    const out = await client.generate(REQ, { onDelta: (t) => deltas.push(t) });
    assert.equal(out.reason, 'done');
    assert.equal(deltas.join(''), REPLY);
    assert.equal(out.text, REPLY);
    assert.ok(deltas.length >= 3, 'streamed in pieces');
  });

  test('every /api/generate the runtime received carried all four sampling keys as numbers', async () => {
    await client.generate({ ...REQ, temperature: 0.2, topK: 1, topP: 0.5, repetitionPenalty: 1 }, { onDelta: () => undefined });
    const gens = (await requests(stack)).filter((r) => r.path === '/api/generate');
    assert.ok(gens.length >= 2);
    for (const g of gens) {
      const body = g.body as Record<string, unknown>;
      for (const key of ['temperature', 'top-k', 'top-p', 'repetition_penalty']) assert.equal(typeof body[key], 'number', key);
      assert.ok(!('top_k' in body) && !('top_p' in body));
    }
    assert.deepEqual(gens.at(-1)?.body, { prompt: 'Say hello', temperature: 0.2, 'top-k': 1, 'top-p': 0.5, repetition_penalty: 1 });
  });

  test('zero HTTP requests while idle after a job', async () => {
    await client.generate(REQ, { onDelta: () => undefined });
    const count = (await requests(stack)).length;
    assert.equal(await nextRequestOrQuiet(stack.logFile, 400), 'quiet');
    assert.equal((await requests(stack)).length, count);
  });

  test('stop mid-stream: partial reply, and the runtime accepts the next generate within 1 s', async () => {
    const long = new G1Client({ baseUrl: stack.baseUrl });
    try {
      const ac = new AbortController();
      let abortedAt = 0;
      const deltas: string[] = [];
      const prompt = { ...REQ, prompt: 'Tell me a long story' };
      const stopped = await long.generate(prompt, {
        signal: ac.signal,
        onDelta: (t) => {
          deltas.push(t);
          if (deltas.length === 2) {
            abortedAt = Date.now();
            ac.abort();
          }
        },
      });
      assert.equal(stopped.reason, 'stopped');
      assert.equal(stopped.text, deltas.join(''));
      let acceptedAt = 0;
      const next = new AbortController();
      const again = await long.generate(prompt, {
        signal: next.signal,
        onAccepted: () => {
          acceptedAt = Date.now();
          next.abort();
        },
        onDelta: () => undefined,
      });
      assert.equal(again.reason, 'stopped');
      assert.ok(acceptedAt - abortedAt < 1000, `next generate accepted ${acceptedAt - abortedAt} ms after the stop`);
      const stops = (await requests(stack)).filter((r) => r.path === '/api/stop');
      assert.ok(stops.length >= 2);
    } finally {
      await long.close();
    }
  });
});

describe('G1Client against the simulator: faults', () => {
  test('context full (fixed revision): reason context-full; the runtime is free for a reset', async () => {
    const stack = await startSimStack({
      env: { ...FAST, AX650_SIM_TOKENS_PER_SEC: '400', AX650_SIM_PREFILL_MAX: '300', AX650_SIM_REPLY_TOKENS: '200' },
    });
    const client = new G1Client({ baseUrl: stack.baseUrl });
    try {
      await client.reset('You are a robot.');
      const outcomes: string[] = [];
      for (let i = 0; i < 4 && !outcomes.includes('context-full'); i++) {
        const deltas: string[] = [];
        const out = await client.generate({ ...REQ, prompt: `turn ${i}` }, { onDelta: (t) => deltas.push(t) });
        assert.ok(!deltas.join('').includes('SetKVCache'));
        outcomes.push(out.reason);
      }
      assert.equal(outcomes.at(-1), 'context-full');
      await client.reset('You are a robot.');
      assert.equal((await client.generate(REQ, { onDelta: () => undefined })).reason, 'done');
      await client.close();
      await stopAndProveGone(stack);
      const parser = new RuntimeLogParser();
      const joiner = new StatsJoiner({ source: parser });
      outcomes.forEach((_, i) => joiner.beginGenerate(`job${i}`));
      for (const line of splitStdout(stack.stdout())) parser.push(line);
      const first = await joiner.statsFor('job0', 0);
      assert.equal(typeof first.inputTokens, 'number');
      assert.equal(typeof first.runtimeTtftMs, 'number');
      assert.equal(typeof first.precomputeLen, 'number');
      assert.deepEqual(await joiner.statsFor(`job${outcomes.length - 1}`, 0), { contextFull: true });
    } finally {
      await client.close();
      await stack.stop();
    }
  });

  test('the runtime dies mid-generation → RUNTIME_CRASHED', async () => {
    const stack = await startSimStack({ env: { ...FAST, AX650_SIM_TOKENS_PER_SEC: '100', AX650_SIM_CRASH_AFTER_TOKENS: '12' } });
    const client = new G1Client({ baseUrl: stack.baseUrl });
    try {
      await assert.rejects(client.generate(REQ, { onDelta: () => undefined }), (e) => isAx650Error(e) && e.code === 'RUNTIME_CRASHED');
    } finally {
      await client.close();
      await stopAndProveGone(stack);
    }
  });
});
