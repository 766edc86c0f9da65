/**
 * The SSE reader of the axllm client (lib/client/sse.ts) against the WHATWG event-stream rules a
 * server may use: LF, CRLF and CR line ends, a CRLF and a UTF-8 character split across network
 * chunks, comments, multi-line data, fields other than data, and an unfinished event at the end.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SseParser } from '../../lib/client/sse';
import { parseStreamData } from '../../lib/client/axllm-protocol';

function read(chunks: Array<string | Buffer>): string[] {
  const out: string[] = [];
  const p = new SseParser((d) => out.push(d));
  for (const c of chunks) p.push(c);
  p.end();
  return out;
}

test('events split anywhere arrive whole, whatever the line ends', () => {
  const text = 'data: {"a":1}\n\n: keep-alive\r\nevent: x\r\ndata: two\r\ndata: lines\r\n\r\ndata:[DONE]\r\r';
  const whole = read([text]);
  assert.deepEqual(whole, ['{"a":1}', 'two\nlines', '[DONE]']);
  for (let cut = 1; cut < text.length; cut++) assert.deepEqual(read([text.slice(0, cut), text.slice(cut)]), whole, `cut at ${cut}`);
});

test('a UTF-8 character split across chunks is kept whole; an unfinished event is dropped', () => {
  const bytes = Buffer.from('data: 机器人🤖\n\ndata: half', 'utf8');
  const parts = Array.from(bytes).map((b) => Buffer.from([b]));
  assert.deepEqual(read(parts), ['机器人🤖']);
});

test('axllm chunks: text, finish, error and [DONE]', () => {
  const chunk = (content: string | undefined, finish: string | null) => JSON.stringify({ choices: [{ delta: content === undefined ? {} : { content, role: 'assistant' }, finish_reason: finish, index: 0 }], id: 'chatcmpl-1', object: 'chat.completion.chunk' });
  assert.deepEqual(parseStreamData(chunk('Hi', null)), [{ kind: 'delta', text: 'Hi' }]);
  assert.deepEqual(parseStreamData(chunk(undefined, 'stop')), [{ kind: 'finish', reason: 'stop' }]);
  assert.deepEqual(parseStreamData('{"error":{"message":"boom","type":"model_error"}}'), [{ kind: 'error', message: 'boom', type: 'model_error' }]);
  assert.deepEqual(parseStreamData(' [DONE]'), [{ kind: 'done' }]);
  assert.equal(parseStreamData('not json')[0]?.kind, 'unknown');
});
