/**
 * Tool round trips through the facade with the real client libraries (ollama, openai, LangChain's
 * ChatOllama): the model's tool calls come back in each API's shape, the client runs the tool and
 * continues with a `tool` message, and that turn reaches the Runtime linked to its call.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Ollama, type Message } from 'ollama';
import OpenAI from 'openai';
import type { JobRequest, ToolCall } from '../../lib/runtime/types';
import { runOllamaAgent } from '../helpers/langchain-agent';
import { startHarness, type Harness } from './harness';

const MOVE = {
  type: 'function' as const,
  function: {
    name: 'move',
    description: 'Move the arm to x (cm).',
    parameters: { type: 'object', properties: { x: { type: 'number' } }, required: ['x'] },
  },
};
const FINAL = 'The arm is at x=12.';

/** The scripted model: calls move(x=12) until a tool result is in the transcript, then answers. */
const answered = (req: JobRequest): boolean => (req.messages ?? []).some((m) => m.role === 'tool');
const toolCalls = (req: JobRequest): ToolCall[] | undefined =>
  answered(req) ? undefined : [{ id: 'call_move_1', name: 'move', arguments: { x: 12 }, raw: '{"x": 12}' }];

let h: Harness;
before(async () => {
  h = await startHarness({ tokensPerSecond: 400, toolCalls, reply: (req) => (req.tools && !answered(req) ? '' : FINAL) });
});
after(async () => {
  await h.server.close();
});

function lastRan(): JobRequest {
  const req = h.runner.ran.at(-1);
  assert.ok(req);
  return req;
}

test('ollama client: tool_calls with an arguments object, then the tool turn continues the conversation', async () => {
  const client = new Ollama({ host: h.url });
  const messages: Array<Message & { tool_name?: string }> = [{ role: 'user', content: 'Move the arm to 12.' }];
  const first = await client.chat({ model: 'qwen3-ax650', messages, tools: [MOVE], stream: false });
  assert.equal(first.done_reason, 'stop');
  assert.equal(first.message.content, '');
  assert.deepEqual(first.message.tool_calls?.map((c) => [c.function.name, c.function.arguments]), [['move', { x: 12 }]]);
  assert.deepEqual(lastRan().tools, [MOVE]);

  messages.push(first.message, { role: 'tool', content: '{"ok":true}', tool_name: 'move' });
  const second = await client.chat({ model: 'qwen3-ax650', messages, tools: [MOVE], stream: false });
  assert.equal(second.message.content, FINAL);
  assert.equal(second.message.tool_calls, undefined);
  const sent = lastRan().messages ?? [];
  assert.deepEqual(sent.map((m) => m.role), ['user', 'assistant', 'tool']);
  assert.equal(sent[1]?.toolCalls?.[0]?.name, 'move');
  assert.deepEqual(sent[1]?.toolCalls?.[0]?.arguments, { x: 12 });
  assert.equal(sent[2]?.toolName, 'move');
  assert.equal(sent[2]?.toolCallId, sent[1]?.toolCalls?.[0]?.id);
  assert.equal(lastRan().prompt, 'Move the arm to 12.');
});

test('ollama client, streamed: the tool calls arrive in one chunk before the final one', async () => {
  const client = new Ollama({ host: h.url });
  const chunks = [];
  for await (const part of await client.chat({ model: 'qwen3-ax650', messages: [{ role: 'user', content: 'Move to 12' }], tools: [MOVE], stream: true })) chunks.push(part);
  const withCalls = chunks.filter((c) => c.message.tool_calls && c.message.tool_calls.length > 0);
  assert.equal(withCalls.length, 1);
  assert.equal(withCalls[0]?.done, false);
  assert.deepEqual(withCalls[0]?.message.tool_calls?.[0]?.function, { index: 0, name: 'move', arguments: { x: 12 } });
  assert.equal(chunks.at(-1)?.done, true);
  assert.equal(chunks.at(-1)?.done_reason, 'stop');
});

test('openai client: message.tool_calls with JSON-text arguments, finish_reason tool_calls, then the tool turn', async () => {
  const client = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: 'x', maxRetries: 0 });
  const first = await client.chat.completions.create({ model: 'qwen3-ax650', messages: [{ role: 'user', content: 'Move the arm to 12.' }], tools: [MOVE], tool_choice: 'auto' });
  const choice = first.choices[0];
  assert.equal(choice?.finish_reason, 'tool_calls');
  assert.equal(choice?.message.content, null);
  const call = choice?.message.tool_calls?.[0];
  assert.ok(call && call.type === 'function');
  assert.equal(call.function.name, 'move');
  assert.deepEqual(JSON.parse(call.function.arguments), { x: 12 });
  assert.equal(lastRan().toolChoice, 'auto');

  const second = await client.chat.completions.create({
    model: 'qwen3-ax650',
    tools: [MOVE],
    messages: [
      { role: 'user', content: 'Move the arm to 12.' },
      { role: 'assistant', content: null, tool_calls: [call] },
      { role: 'tool', tool_call_id: call.id, content: '{"ok":true}' },
    ],
  });
  assert.equal(second.choices[0]?.finish_reason, 'stop');
  assert.equal(second.choices[0]?.message.content, FINAL);
  const sent = lastRan().messages ?? [];
  assert.equal(sent[2]?.toolCallId, call.id);
  assert.equal(sent[2]?.toolName, 'move');
});

test('openai client, streamed: delta.tool_calls with index, id and whole arguments; finish_reason tool_calls', async () => {
  const client = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: 'x', maxRetries: 0 });
  const stream = await client.chat.completions.create({ model: 'qwen3-ax650', messages: [{ role: 'user', content: 'Move to 12' }], tools: [MOVE], tool_choice: { type: 'function', function: { name: 'move' } }, stream: true });
  const deltas = [];
  let finish: string | null = null;
  for await (const chunk of stream) {
    const c = chunk.choices[0];
    if (c?.delta.tool_calls) deltas.push(...c.delta.tool_calls);
    if (c?.finish_reason) finish = c.finish_reason;
  }
  assert.equal(finish, 'tool_calls');
  assert.equal(deltas.length, 1);
  assert.equal(deltas[0]?.index, 0);
  assert.equal(deltas[0]?.function?.name, 'move');
  assert.deepEqual(JSON.parse(deltas[0]?.function?.arguments ?? ''), { x: 12 });
  assert.deepEqual(lastRan().toolChoice, { name: 'move' });
});

test('openai client: tool_choice "none" sends no tools and streams plain text', async () => {
  const client = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: 'x', maxRetries: 0 });
  const r = await client.chat.completions.create({ model: 'qwen3-ax650', messages: [{ role: 'user', content: 'hi' }], tools: [MOVE], tool_choice: 'none' });
  assert.equal(r.choices[0]?.finish_reason, 'stop');
  assert.equal(lastRan().tools, undefined);
});

test('LangChain ChatOllama with bindTools: the agent calls the tool, runs it, and gets the final answer', async () => {
  const { ran, answer } = await runOllamaAgent(h.url, [MOVE], 'Move the arm to 12.', '{"ok":true}');
  assert.deepEqual(ran, [['move', { x: 12 }]]);
  assert.equal(answer, FINAL);
  assert.deepEqual((lastRan().messages ?? []).map((m) => m.role), ['user', 'assistant', 'tool']);
});
