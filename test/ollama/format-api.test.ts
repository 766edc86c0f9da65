/**
 * JSON replies and validated tool calls through the facade: Ollama `format` ("json" or a schema) on
 * /api/chat and /api/generate, OpenAI `response_format`; an invalid reply gets one repair round, and
 * a reply still invalid is an error the client sees (422 with the code), never half-streamed JSON.
 * Invalid tool arguments are repaired the same way; an unknown tool is TOOL_UNKNOWN.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Ollama } from 'ollama';
import OpenAI from 'openai';
import type { JobRequest, ToolCall } from '../../lib/runtime/types';
import { postJson, startHarness, type Harness } from './harness';

const ARM = { type: 'object', properties: { action: { type: 'string', enum: ['move', 'grip'] }, speed: { type: 'number' } }, required: ['action', 'speed'] };

/** How many repair turns the request already holds (lib/actions appends the validator's message as a user turn). */
const repairs = (req: JobRequest): number => (req.messages ?? []).filter((m) => m.role === 'assistant').length;
const lastText = (req: JobRequest): string => (req.messages ?? []).at(-1)?.content ?? req.prompt;

/** The scripted model, chosen by a word in the prompt. */
function reply(req: JobRequest): string {
  const text = lastText(req) + (req.messages?.[0]?.content ?? '') + req.prompt;
  if (text.includes('never')) return '{"action": "dance", "speed": "fast"}';
  if (text.includes('repair')) return repairs(req) === 0 ? 'Sure! {"action": "move"}' : '```json\n{"action": "move", "speed": 0.5}\n```';
  if (req.tools) return '';
  return '{"action": "grip", "speed": 1}';
}

function toolCalls(req: JobRequest): ToolCall[] | undefined {
  const first = (req.messages ?? []).find((m) => m.role === 'user')?.content ?? req.prompt;
  if (first.includes('unknown')) return [{ id: 'c1', name: 'fly', arguments: {}, raw: '{}' }];
  if (repairs(req) === 0) return [{ id: 'c1', name: 'move', arguments: { x: 'far' }, raw: '{"x": "far"}' }];
  if (first.includes('twice')) return [{ id: 'c2', name: 'move', arguments: {}, raw: '{}' }];
  return [{ id: 'c2', name: 'move', arguments: { x: 3 }, raw: '{"x": 3}' }];
}

const MOVE = { type: 'function' as const, function: { name: 'move', parameters: { type: 'object', properties: { x: { type: 'number' } }, required: ['x'] } } };

let h: Harness;
before(async () => {
  h = await startHarness({ tokensPerSecond: 1000, reply, toolCalls });
});
after(async () => {
  await h.server.close();
});

test('ollama chat, format schema: the reply is valid JSON text and the model was asked for it', async () => {
  const client = new Ollama({ host: h.url });
  const r = await client.chat({ model: 'qwen3-ax650', messages: [{ role: 'user', content: 'Grip it.' }], format: ARM, stream: false });
  assert.deepEqual(JSON.parse(r.message.content), { action: 'grip', speed: 1 });
  assert.match(h.runner.ran.at(-1)?.messages?.at(-1)?.content ?? '', /JSON/);
});

test('ollama generate, format schema, streamed: invalid then repaired, one content chunk of clean JSON', async () => {
  const client = new Ollama({ host: h.url });
  const ran = h.runner.ran.length;
  const chunks = [];
  for await (const part of await client.generate({ model: 'qwen3-ax650', prompt: 'Move, repair needed.', format: ARM, stream: true })) chunks.push(part);
  const text = chunks.map((c) => c.response).join('');
  assert.deepEqual(JSON.parse(text), { action: 'move', speed: 0.5 });
  assert.equal(chunks.filter((c) => c.response !== '').length, 1, 'the JSON leaves in one piece, after validation');
  assert.equal(h.runner.ran.length - ran, 2, 'one repair round');
  assert.match(lastText(h.runner.ran.at(-1) as JobRequest), /must have the property "speed"/);
});

test('ollama chat, format "json", still invalid after the repair: 422 with SCHEMA_MISMATCH and the raw reply', async () => {
  const res = await postJson(`${h.url}/api/chat`, { model: 'qwen3-ax650', messages: [{ role: 'user', content: 'never valid' }], format: ARM, stream: true });
  assert.equal(res.status, 422);
  const body = (await res.json()) as { error: string };
  assert.match(body.error, /does not match the requested format after 1 repair round/);
  assert.match(body.error, /"dance"/);
});

test('openai response_format json_schema and json_object', async () => {
  const client = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: 'x', maxRetries: 0 });
  const r = await client.chat.completions.create({
    model: 'qwen3-ax650',
    messages: [{ role: 'user', content: 'Move, repair needed.' }],
    response_format: { type: 'json_schema', json_schema: { name: 'arm', schema: ARM } },
  });
  assert.deepEqual(JSON.parse(r.choices[0]?.message.content ?? ''), { action: 'move', speed: 0.5 });
  const o = await client.chat.completions.create({ model: 'qwen3-ax650', messages: [{ role: 'user', content: 'Grip.' }], response_format: { type: 'json_object' }, stream: true });
  let text = '';
  for await (const c of o) text += c.choices[0]?.delta.content ?? '';
  assert.deepEqual(JSON.parse(text), { action: 'grip', speed: 1 });
});

test('openai: still invalid → 422 UnprocessableEntityError with code SCHEMA_MISMATCH', async () => {
  const client = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: 'x', maxRetries: 0 });
  await assert.rejects(
    client.chat.completions.create({ model: 'qwen3-ax650', messages: [{ role: 'user', content: 'never' }], response_format: { type: 'json_schema', json_schema: { name: 'arm', schema: ARM } } }),
    (e: unknown) => e instanceof OpenAI.UnprocessableEntityError && e.code === 'SCHEMA_MISMATCH',
  );
});

test('tool arguments that fail their schema are repaired before the client sees them', async () => {
  const client = new OpenAI({ baseURL: `${h.url}/v1`, apiKey: 'x', maxRetries: 0 });
  const r = await client.chat.completions.create({ model: 'qwen3-ax650', messages: [{ role: 'user', content: 'Move to 3.' }], tools: [MOVE] });
  assert.deepEqual(JSON.parse(r.choices[0]?.message.tool_calls?.[0]?.type === 'function' ? r.choices[0].message.tool_calls[0].function.arguments : ''), { x: 3 });
  assert.match(lastText(h.runner.ran.at(-1) as JobRequest), /x must be number/);
});

test('tool arguments still invalid → TOOL_ARGS_INVALID; an unknown tool → TOOL_UNKNOWN (Ollama dialect, 422)', async () => {
  const bad = await postJson(`${h.url}/api/chat`, { model: 'qwen3-ax650', messages: [{ role: 'user', content: 'Move twice wrong.' }], tools: [MOVE], stream: false });
  assert.equal(bad.status, 422);
  assert.match(((await bad.json()) as { error: string }).error, /still invalid after 1 repair round: "move": the arguments must have the property "x"/);
  const unknown = await postJson(`${h.url}/api/chat`, { model: 'qwen3-ax650', messages: [{ role: 'user', content: 'unknown tool' }], tools: [MOVE], stream: false });
  assert.equal(unknown.status, 422);
  assert.match(((await unknown.json()) as { error: string }).error, /called the tool "fly", which is not one of the tools offered \(move\)/);
});

test('a format schema that is not a valid JSON Schema is a 400 before anything runs', async () => {
  const submitted = h.runner.submitted.length;
  const res = await postJson(`${h.url}/api/generate`, { model: 'qwen3-ax650', prompt: 'x', format: { type: 'object', properties: { a: { type: 'banana' } } } });
  assert.equal(res.status, 400);
  assert.match(((await res.json()) as { error: string }).error, /^The JSON Schema of "format" is not valid: /);
  assert.equal(h.runner.submitted.length, submitted);
});
