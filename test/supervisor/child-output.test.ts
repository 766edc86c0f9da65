import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { TAIL_LIMIT } from '../../lib/supervisor';
import { assertGone, exitOf, recordLines, startFixture, waitForLine } from './helpers';

test('progress redrawn with \\r and ANSI-coloured lines arrive as clean lines; token text stays in the tail', async (t) => {
  const child = await startFixture(t, 'progress.js');
  const seen = recordLines(child);
  await Promise.all([
    waitForLine(child, (l) => l === 'Server running on port 8000...'),
    waitForLine(child, (l, s) => l === 'stderr line' && s === 'stderr'),
  ]);
  const stdout = seen.filter((s) => s.stream === 'stdout').map((s) => s.line);
  assert.deepEqual(stdout, [
    '[I][                            Init][ 130]: LLM init start',
    ' 33% | █ | 1 /   3 [0.10s<0.30s, 9.00 count/s] step 1 ok',
    ' 67% | ██ | 2 /   3 [0.10s<0.30s, 9.00 count/s] step 2 ok',
    '100% | ███ | 3 /   3 [0.10s<0.30s, 9.00 count/s] step 3 ok',
    '[E][                            Init][  57]: colour error',
    'Server running on port 8000...',
  ]);
  assert.deepEqual(seen.filter((s) => s.stream === 'stderr').map((s) => s.line), ['stderr line']);
  const tail = child.tail();
  assert.ok(tail.includes('Server running on port 8000...\ntok1 tok2'), `the partial token text is in the tail: ${JSON.stringify(tail.slice(-60))}`);
  assert.ok(tail.includes('stderr line\n'), 'the tail has both streams');
  assert.ok(!tail.includes('\u001b'), 'tail has no escape codes');
  assert.ok(!tail.includes('\r'), 'tail has no carriage returns');

  const info = await child.stop();
  assert.deepEqual(info, { code: 0, signal: null, stopped: true });
  const after = seen.map((s) => s.line);
  assert.deepEqual(after.slice(-2), ['tok1 tok2', 'bye'], 'the partial line completes when the child ends it');
  assertGone(child.pid);
});

test('1 MiB on stdout and on stderr without a newline is drained; the child exits by itself', async (t) => {
  const child = await startFixture(t, 'flood.js', [String(1024 * 1024)]);
  const chars = { stdout: 0, stderr: 0 };
  child.on('line', (line, stream) => {
    chars[stream] += line.length;
  });
  const info = await exitOf(child);
  assert.deepEqual(info, { code: 0, signal: null, stopped: false });
  assert.deepEqual(chars, { stdout: 1024 * 1024, stderr: 1024 * 1024 }, 'every byte surfaced, in bounded pieces');
  const tail = child.tail();
  assert.equal(tail.length, TAIL_LIMIT);
  assert.match(tail, /^[oe]+$/, 'the tail holds only the latest output of either stream');
  assertGone(child.pid);
});

test('lineBuffered runs the program under stdbuf -oL', async (t) => {
  const buffered = await startFixture(t, 'stdbuf-check.js', [], { lineBuffered: true });
  const plain = await startFixture(t, 'stdbuf-check.js');
  const lines = [recordLines(buffered), recordLines(plain)];
  const infos = await Promise.all([exitOf(buffered), exitOf(plain)]);
  assert.deepEqual(infos.map((i) => i.code), [0, 0]);
  assert.deepEqual(lines.map((seen) => seen.map((s) => s.line)), [['_STDBUF_O=L'], ['_STDBUF_O=(unset)']]);
  assertGone(buffered.pid, plain.pid);
});

test('env is merged over process.env and cwd is the given folder', async (t) => {
  const child = await startFixture(t, 'stubborn.js', [], { env: { AX650_TEST_VAR: 'x' } });
  await waitForLine(child, (l) => l === 'ready');
  const environ = readFileSync(`/proc/${child.pid}/environ`, 'utf8').split('\0');
  assert.ok(environ.includes('AX650_TEST_VAR=x'));
  assert.ok(environ.some((e) => e.startsWith('PATH=')), 'inherits the parent environment');
  await child.stop();
  assertGone(child.pid);
});
