import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LineSplitter, stripAnsi } from '../../lib/supervisor';
import { OutputTail } from '../../lib/supervisor/tail';

test('LineSplitter splits on \\n, \\r and \\r\\n, also across chunk boundaries', () => {
  const s = new LineSplitter();
  assert.deepEqual(s.push('a\nb\rc\r'), ['a', 'b', 'c']);
  assert.deepEqual(s.push('\nd'), [], 'the \\n completing a \\r\\n is not an extra line');
  assert.deepEqual(s.push('e\n\nf'), ['de', '']);
  assert.equal(s.partial(), 'f');
  assert.deepEqual(s.push('\r\r'), ['f', '']);
  assert.deepEqual(s.flush(), []);
  assert.deepEqual(s.push('tok tok'), []);
  assert.deepEqual(s.flush(), ['tok tok']);
  assert.deepEqual(s.flush(), []);
});

test('LineSplitter hands back an overlong line in bounded pieces', () => {
  const s = new LineSplitter({ maxLineLength: 4 });
  assert.deepEqual(s.push('abcdefghij'), ['abcd', 'efgh']);
  assert.deepEqual(s.push('k\n'), ['ijk']);
});

test('stripAnsi removes colour, cursor and OSC sequences and leaves plain text alone', () => {
  assert.equal(stripAnsi('\u001b[1;30;32m[I][ Init][ 130]: LLM init start\u001b[0m'), '[I][ Init][ 130]: LLM init start');
  assert.equal(stripAnsi('\u001b[2K\u001b[1Gx\u001b]0;title\u0007y\u001b]8;;http://h\u001b\\z\u001b7'), 'xyz');
  assert.equal(stripAnsi('\u009b31mred'), 'red');
  const plain = 'remain_cmm(691 MB) [0.95s<29.33s, 1.06 count/s] █';
  assert.equal(stripAnsi(plain), plain);
});

test('OutputTail keeps the last N characters, strips escapes split across appends, and turns \\r into line breaks', () => {
  const tail = new OutputTail(16);
  tail.append('x'.repeat(100));
  tail.append('\u001b[1;3');
  tail.append('0;32mok\r 50%\r\nend');
  assert.equal(tail.text(), 'xxxxxok\n 50%\nend');
  const big = new OutputTail(8);
  for (let i = 0; i < 1000; i++) big.append('0123456789');
  assert.equal(big.text(), '23456789');
});
