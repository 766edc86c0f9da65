import assert from 'node:assert/strict';
import type { EventEmitter } from 'node:events';
import { test } from 'node:test';
import {
  RuntimeLogParser,
  type LoadProgress,
  type RequestStat,
  type RuntimeLogEventMap,
} from '../../lib/runtime/log-parser';
import { fixtureLines, splitStdout } from '../client/log-lines';

type Recorded = { [K in keyof RuntimeLogEventMap]: RuntimeLogEventMap[K][0][] };

function run(lines: string[]): { parser: RuntimeLogParser; seen: Recorded } {
  const parser = new RuntimeLogParser();
  const seen: Recorded = {
    progress: [],
    init: [],
    serverRunning: [],
    initFailed: [],
    deadCard: [],
    tokenizerConnectFailed: [],
    stat: [],
    fatal: [],
  };
  const untyped: EventEmitter = parser;
  for (const key of Object.keys(seen) as (keyof Recorded)[]) {
    untyped.on(key, (value: unknown) => (seen[key] as unknown[]).push(value));
  }
  for (const line of lines) parser.push(line);
  return { parser, seen };
}

test('§2.2 Qwen3-1.7B init: progress from every N / M bar, init facts, readiness', () => {
  const { parser, seen } = run(fixtureLines('init-qwen3-1.7b.stdout'));
  assert.equal(seen.progress.length, 31);
  assert.deepEqual(seen.progress[0], { percent: 3, step: 1, total: 31, message: 'tokenizer init ok' } satisfies LoadProgress);
  assert.deepEqual(
    seen.progress.map((p) => p.step),
    Array.from({ length: 31 }, (_, i) => i + 1),
  );
  assert.equal(seen.progress.at(-1)?.percent, 100);
  assert.deepEqual(parser.initInfo(), {
    uid: '3f3c54ef-ddfa-4fbc-bd2f-74523109857e',
    maxTokenLen: 2047,
    prefillMaxTokenNum: 1024,
    remainCmmMb: 3665,
  });
  assert.deepEqual(seen.serverRunning, [8000]);
  assert.equal(seen.initFailed.length, 0);
  assert.equal(seen.stat.length, 0, 'init lines are not request stats');
});

test('§2.2 grp lines and the per-request "current prefill_max_token_num" do not overwrite the context limit', () => {
  const { parser } = run([
    '[I][                            Init][ 240]: prefill_max_token_num : 2048',
    '[I][                            Init][ 236]: grp: 1, prefill_max_token_num : 1',
    '[I][                      SetKVCache][ 631]: current prefill_max_token_num:1920',
  ]);
  assert.equal(parser.initInfo().prefillMaxTokenNum, 2048);
});

test('§2.2 Qwen3-4B: a 39-step load, the remain_cmm overwrite artefact, line numbers that differ', () => {
  const { parser, seen } = run(fixtureLines('init-qwen3-4b.stdout'));
  assert.deepEqual(
    seen.progress.map((p) => [p.step, p.total]),
    [
      [1, 39],
      [2, 39],
      [39, 39],
    ],
  );
  assert.equal(seen.progress[2]?.message, 'init post axmodel ok,remain_cmm(691 MB)(1096 MB)000000000');
  assert.equal(parser.initInfo().remainCmmMb, 691);
  assert.equal(parser.initInfo().maxTokenLen, 2559);
  assert.deepEqual(seen.serverRunning, [8000]);
});

test('§2.1 a decode progress bar (token/s, from /api/chat) is not load progress', () => {
  const { seen } = run(splitStdout('\x1b[1;30;33m\r 10% | ███ |  25 / 2559 [3.00s<300.00s, 8.33 token/s] \x1b[1;30;32m\x1b[0m'));
  assert.deepEqual(seen.progress, []);
});

test('§2.3 per-request lines: reset prefill, then generates; the echoed prompt is ignored', () => {
  const { seen } = run(fixtureLines('requests.stdout'));
  assert.deepEqual(seen.stat, [
    { kind: 'inputTokens', tokens: 21, reset: true },
    { kind: 'setKvCache', precomputeLen: 21, inputNumToken: 27 },
    { kind: 'inputTokens', tokens: 27, reset: false },
    { kind: 'ttft', ms: 1339.01 },
    { kind: 'hitEos', tokensPerSecond: 3.65 },
    { kind: 'kvCache', precomputeLen: 90, remaining: 1958 },
    { kind: 'setKvCache', precomputeLen: 0, inputNumToken: 12 },
    { kind: 'firstRun' },
    { kind: 'inputTokens', tokens: 12, reset: false },
    { kind: 'ttft', ms: 796.4 },
    { kind: 'hitEos', tokensPerSecond: 7.38 },
    { kind: 'kvCache', precomputeLen: 31, remaining: 2017 },
  ] satisfies RequestStat[]);
});

test('§2.3 reply text echoed to stdout cannot fake a stats line', () => {
  const { seen } = run(['ttft: 5.00 ms', 'hit eos,avg 99.00 token/s', 'precompute_len:1, remaining:2', 'Server running on port 9...x']);
  assert.deepEqual(seen.stat, []);
  assert.deepEqual(seen.serverRunning, [9]);
});

test('§2.4 context full: SetKVCache refuses the turn', () => {
  const { seen } = run(fixtureLines('context-full.stdout'));
  assert.deepEqual(seen.stat, [
    { kind: 'setKvCache', precomputeLen: 2030, inputNumToken: 40 },
    { kind: 'contextFull', detail: 'precompute_len(2030) + input_num_token(40) > _attr.prefill_max_kv_cache_num_grp[8]' },
  ]);
  const other = run(['[E][                      SetKVCache][ 650]: input_num_token(300) > _attr.prefill_max_token_num(256)']);
  assert.equal(other.seen.stat[0]?.kind, 'contextFull');
  const literal = run(['[E][                         RunSync][ 222]: error: SetKVCache failed: %d,the context may be full,please reset']);
  assert.equal(literal.seen.stat[0]?.kind, 'contextFull');
});

test('§2.4 tokenizer unreachable: ten counted-down retries, then a final failure and initFailed', () => {
  const { seen } = run(fixtureLines('tokenizer-unreachable.stdout'));
  const retries = seen.tokenizerConnectFailed.filter((f) => !f.final);
  assert.deepEqual(
    retries.map((f) => f.retriesLeft),
    [9, 8, 7, 6, 5, 4, 3, 2, 1, 0],
  );
  assert.ok(retries.every((f) => f.url === 'http://127.0.0.1:12345' && f.retriesTotal === 10));
  assert.deepEqual(
    seen.tokenizerConnectFailed.filter((f) => f.final),
    [{ url: 'http://127.0.0.1:12345', final: true }],
  );
  assert.equal(seen.initFailed.length, 1);
  assert.equal(seen.initFailed[0]?.reason, 'connect http://127.0.0.1:12345 failed');
  assert.deepEqual(seen.initFailed[0]?.errors, [
    'connect http://127.0.0.1:12345 failed',
    'tokenizer.Init(http://127.0.0.1:12345) failed',
    'lLaMa.Init failed',
  ]);
});

test('§2.4 missing model file: initFailed names the first error', () => {
  const { seen } = run(fixtureLines('init-failed.stdout'));
  assert.equal(seen.initFailed.length, 1);
  assert.equal(seen.initFailed[0]?.reason, 'init axmodel(qwen3-4b-ax650/qwen3_p128_l0_together.axmodel) failed');
  assert.deepEqual(seen.serverRunning, []);
});

test('§2.4 dead card: the AXCL device manager line gives the device number', () => {
  const { seen } = run(fixtureLines('dead-card.stdout'));
  assert.deepEqual(seen.deadCard, [1]);
  const prose = run(['The robot said: device 2 is dead']);
  assert.deepEqual(prose.seen.deadCard, []);
});
