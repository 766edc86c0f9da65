/** normalizeTranscript: what clients send, in the one shape the Runtime and the built-in tokenizer can replay. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeTranscript } from '../../lib/ollama/transcript';
import { transcriptSpec } from '../../lib/ollama/job-bridge';
import type { ChatMessage } from '../../lib/runtime/types';

const sys = (content: string): ChatMessage => ({ role: 'system', content });
const u = (content: string): ChatMessage => ({ role: 'user', content });
const a = (content: string): ChatMessage => ({ role: 'assistant', content });

test('a well-formed transcript is unchanged', () => {
  const t = [sys('S'), u('1'), a('2'), u('3')];
  assert.deepEqual(normalizeTranscript(t), t);
  assert.deepEqual(normalizeTranscript([u('only')]), [u('only')]);
});

test('system turns anywhere become one leading system message', () => {
  assert.deepEqual(normalizeTranscript([u('1'), sys('A'), a('2'), sys('B'), u('3')]), [sys('A\n\nB'), u('1'), a('2'), u('3')]);
});

test('adjacent turns of one role are joined; a leading greeting gets an empty user turn before it', () => {
  assert.deepEqual(normalizeTranscript([a('hello'), a('again'), u('x'), u('y')]), [u(''), a('hello\n\nagain'), u('x\n\ny')]);
});

test('the input array and its messages are not modified', () => {
  const t = [u('x'), u('y')];
  normalizeTranscript(t);
  assert.deepEqual(t, [u('x'), u('y')]);
});

test('transcriptSpec: prompt is the last user run, system the joined system turns, errors stay the client\'s', () => {
  const spec = transcriptSpec([sys('A'), a('hi'), u('x'), sys('B'), u('y')], {}, 7);
  assert.equal(spec.prompt, 'x\n\ny');
  assert.equal(spec.system, 'A\n\nB');
  assert.equal(spec.maxTokens, 7);
  assert.deepEqual(spec.messages, [sys('A\n\nB'), u(''), a('hi'), u('x\n\ny')]);
  assert.equal(transcriptSpec([u('x')], {}, undefined).system, undefined);
  assert.throws(() => transcriptSpec([u('x'), a('y')], {}, undefined), /the last message must have the role "user"/);
  assert.throws(() => transcriptSpec([u('x'), u(' ')], {}, undefined), /the last user message is empty/);
});
