import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RuntimeLogParser } from '../../lib/runtime/log-parser';
import { StatsJoiner } from '../../lib/runtime/stats-joiner';
import { fixtureLines } from './log-lines';

function setup(): { parser: RuntimeLogParser; joiner: StatsJoiner } {
  const parser = new RuntimeLogParser();
  return { parser, joiner: new StatsJoiner({ source: parser }) };
}

const FIRST = { inputTokens: 27, runtimeTtftMs: 1339.01, runtimeTokensPerSecond: 3.65, precomputeLen: 90, remaining: 1958 };
const SECOND = { firstRun: true, inputTokens: 12, runtimeTtftMs: 796.4, runtimeTokensPerSecond: 7.38, precomputeLen: 31, remaining: 2017 };

test('the k-th generate block belongs to the k-th accepted generate; reset prefill lines open none', async () => {
  const { parser, joiner } = setup();
  joiner.beginGenerate('a');
  joiner.beginGenerate('b');
  for (const line of fixtureLines('requests.stdout')) parser.push(line);
  assert.deepEqual(await joiner.statsFor('a', 0), FIRST);
  assert.deepEqual(await joiner.statsFor('b', 0), SECOND);
  assert.deepEqual(await joiner.statsFor('unknown', 0), {});
  joiner.dispose();
});

test('late lines (full stdout buffering): statsFor waits for the GetKVCache line, not for time', async () => {
  const { parser, joiner } = setup();
  const lines = fixtureLines('requests.stdout');
  const cut = lines.findIndex((l) => l.includes('hit eos'));
  joiner.beginGenerate('a');
  for (const line of lines.slice(0, cut)) parser.push(line);
  assert.deepEqual(await joiner.statsFor('a', 0), { inputTokens: 27, runtimeTtftMs: 1339.01 }, 'partial while buffered');
  const pending = joiner.statsFor('a', 60_000);
  // The buffered tail arrives only with the next request's flush, after the next job began.
  joiner.beginGenerate('b');
  for (const line of lines.slice(cut)) parser.push(line);
  assert.deepEqual(await pending, FIRST);
  assert.deepEqual(await joiner.statsFor('b', 0), SECOND);
  joiner.dispose();
});

test('a context-full refusal completes its block and the next generate is not shifted', async () => {
  const { parser, joiner } = setup();
  joiner.beginGenerate('full');
  for (const line of fixtureLines('context-full.stdout')) parser.push(line);
  joiner.beginGenerate('fresh');
  const requests = fixtureLines('requests.stdout');
  const secondStart = requests.findIndex((l) => l.includes('precompute_len:0 input_num_token:12'));
  for (const line of requests.slice(secondStart)) parser.push(line);
  assert.deepEqual(await joiner.statsFor('full', 0), { contextFull: true });
  assert.deepEqual(await joiner.statsFor('fresh', 0), SECOND);
});

test('statsFor gives what it has when waitMs passes without the block completing', async () => {
  const { parser, joiner } = setup();
  joiner.beginGenerate('a');
  parser.push('[I][                      SetKVCache][ 628]: prefill_grpid:1 kv_cache_num:128 precompute_len:0 input_num_token:12');
  parser.push('[I][                             Run][ 869]: input token num : 12, prefill_split_num : 1');
  assert.deepEqual(await joiner.statsFor('a', 20), { inputTokens: 12 });
});

test('reset() for a new runtime process restarts the count and releases waiters', async () => {
  const { parser, joiner } = setup();
  joiner.beginGenerate('old');
  parser.push('[I][                      SetKVCache][ 628]: prefill_grpid:1 kv_cache_num:128 precompute_len:0 input_num_token:5');
  const pending = joiner.statsFor('old', 60_000);
  joiner.reset();
  assert.deepEqual(await pending, {});
  joiner.beginGenerate('new');
  for (const line of fixtureLines('requests.stdout')) parser.push(line);
  assert.deepEqual(await joiner.statsFor('new', 0), FIRST);
});

test('without SetKVCache lines, a second Run header still opens a new block', async () => {
  const joiner = new StatsJoiner();
  joiner.beginGenerate('a');
  joiner.beginGenerate('b');
  joiner.observe({ kind: 'inputTokens', tokens: 5, reset: false });
  joiner.observe({ kind: 'ttft', ms: 10 });
  joiner.observe({ kind: 'inputTokens', tokens: 6, reset: false });
  joiner.observe({ kind: 'ttft', ms: 11 });
  assert.deepEqual(await joiner.statsFor('a', 0), { inputTokens: 5, runtimeTtftMs: 10 });
  assert.deepEqual(await joiner.statsFor('b', 0), { inputTokens: 6, runtimeTtftMs: 11 });
});
