/** normalizeTranscript: what clients send, in the one shape the Runtime and the built-in tokenizer can replay. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeTranscript } from '../../lib/ollama/transcript';
import { transcriptSpec } from '../../lib/ollama/job-bridge';
import type { ChatMessage, ToolCall } from '../../lib/runtime/types';

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

const call = (id: string, name: string, x: number): ToolCall => ({ id, name, arguments: { x }, raw: `{"x": ${x}}` });
const tool = (content: string, link: Partial<ChatMessage> = {}): ChatMessage => ({ role: 'tool', content, ...link });

test('tool turns stay turns of their own, linked to their call by id, by name, or in order', () => {
  const calls = [call('c1', 'move', 1), call('c2', 'grip', 2), call('c3', 'move', 3)];
  const t: ChatMessage[] = [u('go'), { role: 'assistant', content: '', toolCalls: calls }, tool('r3', { toolCallId: 'c3' }), tool('r2', { toolName: 'grip' }), tool('r1')];
  const out = normalizeTranscript(t);
  assert.deepEqual(out.map((m) => [m.role, m.content, m.toolCallId, m.toolName]), [
    ['user', 'go', undefined, undefined],
    ['assistant', '', undefined, undefined],
    ['tool', 'r3', 'c3', 'move'],
    ['tool', 'r2', 'c2', 'grip'],
    ['tool', 'r1', 'c1', 'move'],
  ]);
  assert.deepEqual(out[1]?.toolCalls, calls);
  assert.equal(t[4]?.toolCallId, undefined, 'the input is not modified');
});

test('an assistant turn with tool calls is not joined with the plain assistant turn before it', () => {
  const out = normalizeTranscript([u('go'), a('Let me see.'), { role: 'assistant', content: '', toolCalls: [call('c1', 'move', 1)] }, tool('ok')]);
  assert.deepEqual(out.map((m) => m.role), ['user', 'assistant', 'assistant', 'tool']);
});

test('transcriptSpec: a transcript may end with the results of the last tool calls; the prompt is the last user turn', () => {
  const spec = transcriptSpec([u('Move to 1.'), { role: 'assistant', content: '', toolCalls: [call('c1', 'move', 1)] }, tool('ok')], {}, undefined);
  assert.equal(spec.prompt, 'Move to 1.');
  assert.equal(spec.messages?.at(-1)?.toolCallId, 'c1');
  assert.throws(() => transcriptSpec([u('x'), tool('ok')], {}, undefined), /a "tool" message must follow the assistant message whose "tool_calls" it answers/);
});
