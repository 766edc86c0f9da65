/**
 * Bad requests against the real stack (facade + Runtime + simulator): each gets its status and an
 * error body naming the problem, none reaches the NPU (a prompt too long for the context is
 * counted with the tokenizer before queueing), and the runtime stays ready for the next client.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Ollama } from 'ollama';
import { generatedPrompts, startRealStack, type RealStack } from './stack';

const TOKEN = 'arm-7f3c';
const AUTH = { Authorization: `Bearer ${TOKEN}` };
const user = (content: unknown): unknown => [{ role: 'user', content }];

interface Case {
  name: string;
  method?: string;
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
  status: number;
  error: string | RegExp | Record<string, unknown>;
}

const CASES: Case[] = [
  { name: 'invalid JSON', path: '/api/generate', body: '{"model":"qwen3-ax650","prompt":', status: 400, error: /^invalid JSON in the request body: / },
  { name: 'unknown model', path: '/api/generate', body: { model: 'llama3.2', prompt: 'hi' }, status: 404, error: "model 'llama3.2' not found" },
  { name: 'unknown model in chat', path: '/api/chat', body: { model: 'qwen3-ax651', messages: user('hi') }, status: 404, error: "model 'qwen3-ax651' not found" },
  { name: 'prompt is an array', path: '/api/generate', body: { model: 'qwen3-ax650', prompt: ['hi'] }, status: 400, error: '"prompt" must be a string, not an array' },
  { name: 'messages is an object', path: '/api/chat', body: { model: 'qwen3-ax650', messages: { role: 'user', content: 'hi' } }, status: 400, error: '"messages" must be an array of {role, content} objects, not an object' },
  { name: 'message content is a number', path: '/api/chat', body: { model: 'qwen3-ax650', messages: user(42) }, status: 400, error: '"messages[0].content" must be a string, not a number' },
  { name: 'message role missing', path: '/api/chat', body: { model: 'qwen3-ax650', messages: [{ content: 'hi' }] }, status: 400, error: '"messages[0].role" must be a string, not undefined' },
  { name: 'empty prompt in chat', path: '/api/chat', body: { model: 'qwen3-ax650', messages: user('   ') }, status: 400, error: 'the last user message is empty: there is nothing to answer' },
  { name: 'chat ends with the assistant', path: '/api/chat', body: { model: 'qwen3-ax650', messages: [{ role: 'user', content: 'a' }, { role: 'assistant', content: 'b' }] }, status: 400, error: 'the last message must have the role "user" (or "tool" after the assistant\'s tool calls): it is the prompt the model answers' },
  { name: 'temperature out of range', path: '/api/generate', body: { model: 'qwen3-ax650', prompt: 'hi', options: { temperature: 7 } }, status: 400, error: '"options.temperature" must be at most 2, not 7' },
  { name: 'repeat_penalty the runtime refuses', path: '/api/generate', body: { model: 'qwen3-ax650', prompt: 'hi', options: { repeat_penalty: 9 } }, status: 400, error: /repetition_penalty must be between 0\.5 and 2, got 9/ },
  { name: 'prompt over the character limit', path: '/api/generate', body: { model: 'qwen3-ax650', prompt: 'x'.repeat(70_000), stream: false }, status: 400, error: /65536 characters/ },
  { name: 'prompt longer than the context', path: '/api/generate', body: { model: 'qwen3-ax650', prompt: 'word '.repeat(12_000), stream: false }, status: 400, error: /^The prompt needs \d+ tokens in one turn, but the model takes at most \d+ new tokens/ },
  { name: 'huge body', path: '/api/chat', body: { model: 'qwen3-ax650', messages: user('y'.repeat(17_000_000)) }, status: 413, error: /^request body too large: the limit is 16 MiB \(16777216 bytes\)\. Images count towards it as base64/ },
  { name: 'unknown endpoint', path: '/api/pull', body: { model: 'qwen3-ax650' }, status: 404, error: /^unknown endpoint POST \/api\/pull; this server offers / },
  { name: 'wrong method', method: 'GET', path: '/api/chat', status: 405, error: 'method GET is not allowed on /api/chat; use POST' },
  { name: 'wrong token', method: 'GET', path: '/api/tags', headers: { Authorization: 'Bearer guess' }, status: 401, error: 'invalid API token' },
  { name: 'no token', path: '/api/generate', body: { model: 'qwen3-ax650', prompt: 'hi' }, headers: { Authorization: '' }, status: 401, error: 'missing API token: send the header "Authorization: Bearer <token>"' },
  {
    name: 'openai: messages missing',
    path: '/v1/chat/completions',
    body: { model: 'qwen3-ax650' },
    status: 400,
    error: { message: "'messages' is a required property", type: 'invalid_request_error', param: null, code: null },
  },
  {
    name: 'openai: a tool without a name',
    path: '/v1/chat/completions',
    body: { model: 'qwen3-ax650', messages: user('x'), tools: [{ type: 'function', function: { description: 'f' } }] },
    status: 400,
    error: { message: '"tools[0].function.name" must be 1–64 letters, digits, "_" or "-", not undefined', type: 'invalid_request_error', param: null, code: null },
  },
];

describe('bad requests against the real runtime', () => {
  let s: RealStack;
  before(async () => {
    s = await startRealStack({ server: { token: TOKEN } });
  });
  after(async () => {
    await s.close();
  });

  for (const c of CASES) {
    test(`${c.name} → ${c.status}`, async () => {
      const generatesBefore = generatedPrompts(await s.readLog()).length;
      const init: RequestInit = { method: c.method ?? 'POST', headers: { 'Content-Type': 'application/json', ...AUTH, ...c.headers } };
      if (c.body !== undefined) init.body = typeof c.body === 'string' ? c.body : JSON.stringify(c.body);
      const res = await fetch(`${s.url}${c.path}`, init);
      assert.equal(res.status, c.status);
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
      const body = (await res.json()) as { error: unknown };
      assert.deepEqual(Object.keys(body), ['error']);
      if (c.error instanceof RegExp) assert.match(String(body.error), c.error);
      else assert.deepEqual(body.error, c.error);
      assert.equal(generatedPrompts(await s.readLog()).length, generatesBefore, 'a rejected request must not reach the runtime');
      assert.equal(s.runtime.info().running, false);
    });
  }

  test('after all of them the runtime is ready and answers a good request', async () => {
    assert.ok(CASES.length >= 12);
    const client = new Ollama({ host: s.url, headers: AUTH });
    const r = await client.generate({ model: 'qwen3-ax650', prompt: 'Still there?', stream: false });
    assert.equal(r.done_reason, 'stop');
    assert.ok((r.response ?? '').length > 0);
    assert.equal(s.runtime.info().state, 'ready');
  });
});
