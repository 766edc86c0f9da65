/**
 * Tools and format in MQTT prompts (aedes, MQTT 3.1.1): the validated tool calls go out as their own
 * `{"type":"tool_calls"}` message before the terminal one, the requester runs the tool and continues
 * with a `tool` turn in `messages`; a format prompt ends with the parsed `value`; bad tools, tool
 * choices and formats get BAD_INPUT replies and never reach the queue.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { JobRequest, ToolCall } from '../../lib/runtime/types';
import { FakeRunner } from '../helpers/fake-runner';
import { startAedes, type AedesBroker } from './brokers';
import { startTestBridge } from './harness';
import { isTerminal, Requester } from './requester';

const MOVE = { type: 'function', function: { name: 'move', description: 'Move the arm.', parameters: { type: 'object', properties: { x: { type: 'number' } }, required: ['x'] } } };
const ARM = { type: 'object', properties: { action: { type: 'string' }, speed: { type: 'number' } }, required: ['action', 'speed'] };
const answered = (req: JobRequest): boolean => (req.messages ?? []).some((m) => m.role === 'tool');

const runner = new FakeRunner({
  tokensPerSecond: 1000,
  toolCalls: (req): ToolCall[] | undefined => (answered(req) ? undefined : [{ id: 'call_1', name: 'move', arguments: { x: 7 }, raw: '{"x": 7}' }]),
  reply: (req) => (req.tools && !answered(req) ? '' : req.prompt.includes('JSON') || (req.messages ?? []).some((m) => m.content.includes('JSON')) ? '{"action": "grip", "speed": 2}' : 'Done: the arm is at 7.'),
});
let broker: AedesBroker;
let req: Requester;
const closers: Array<() => Promise<void>> = [];

before(async () => {
  broker = await startAedes();
  const tb = await startTestBridge({ runner, url: broker.url, promptTopic: 't/prompt', protocolVersion: 4, clientId: 'bridge-tools' });
  closers.push(() => tb.bridge.close());
  req = await Requester.connect(broker.url, { protocolVersion: 4 });
  closers.push(() => req.close());
  await req.subscribe('t/replies');
});

after(async () => {
  for (const c of closers.reverse()) await c();
  await broker.close();
});

test('tools: a tool_calls message, then the terminal one; the tool turn continues the conversation', async () => {
  await req.publish('t/prompt', JSON.stringify({ id: 'k1', replyTo: 't/replies', prompt: 'Move to 7.', tools: [MOVE] }));
  const end = await req.terminalOf('k1');
  const msgs = req.forId('k1');
  assert.deepEqual(msgs.map((r) => r.body.type ?? (isTerminal(r) ? 'done' : 'delta')), ['tool_calls', 'done'], 'no deltas for a tools turn');
  assert.deepEqual(msgs[0]?.body.toolCalls, [{ id: 'call_1', name: 'move', arguments: { x: 7 } }]);
  assert.equal((end.body.toolCalls as ToolCall[])[0]?.name, 'move');
  assert.deepEqual(runner.ran.at(-1)?.tools, [MOVE]);

  await req.publish('t/prompt', JSON.stringify({
    id: 'k2',
    replyTo: 't/replies',
    tools: [MOVE],
    messages: [
      { role: 'user', content: 'Move to 7.' },
      { role: 'assistant', content: '', tool_calls: [{ id: 'call_1', function: { name: 'move', arguments: { x: 7 } } }] },
      { role: 'tool', tool_call_id: 'call_1', content: '{"ok":true}' },
    ],
  }));
  const final = await req.terminalOf('k2');
  assert.equal(final.body.text, 'Done: the arm is at 7.');
  assert.equal(req.forId('k2').some((r) => r.body.type === 'tool_calls'), false);
  const sent = runner.ran.at(-1)?.messages ?? [];
  assert.deepEqual(sent.map((m) => m.role), ['user', 'assistant', 'tool']);
  assert.equal(sent[1]?.toolCalls?.[0]?.id, 'call_1');
  assert.equal(sent[2]?.toolCallId, 'call_1');
});

test('format: the terminal message carries the parsed, validated value', async () => {
  await req.publish('t/prompt', JSON.stringify({ id: 'f1', replyTo: 't/replies', prompt: 'Grip.', format: ARM }));
  const end = await req.terminalOf('f1');
  assert.deepEqual(end.body.value, { action: 'grip', speed: 2 });
  assert.deepEqual(JSON.parse(String(end.body.text)), { action: 'grip', speed: 2 });
});

test('bad tools, tool_choice and format are BAD_INPUT replies that never reach the queue', async () => {
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['b1', { tools: { name: 'move' } }, /^tools must be an array/],
    ['b2', { tools: [MOVE], tool_choice: { type: 'function', function: { name: 'fly' } } }, /^tool_choice names the tool "fly", which is not in tools\./],
    ['b3', { format: 'yaml' }, /^format must be "json" or a JSON Schema object/],
    ['b4', { format: { type: 'object', properties: { a: { type: 'banana' } } } }, /^The JSON Schema of the reply format is not valid/],
    ['b5', { tools: [MOVE], format: 'json' }, /^tools and format cannot be used together/],
    ['b6', { messages: [{ role: 'user', content: 'x' }, { role: 'assistant', content: '', tool_calls: 'move' }] }, /^"messages\[1\]\.tool_calls" must be an array/],
  ];
  const ran = runner.submitted.length;
  for (const [id, extra, _] of cases) await req.publish('t/prompt', JSON.stringify({ id, replyTo: 't/replies', prompt: 'Move.', ...extra }));
  for (const [id, , message] of cases) {
    const end = await req.terminalOf(id);
    const error = end.body.error as { code: string; message: string };
    assert.equal(error.code, 'BAD_INPUT', id);
    assert.match(error.message, message, id);
  }
  assert.equal(runner.submitted.length, ran);
});
