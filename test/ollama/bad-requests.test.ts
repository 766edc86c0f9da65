import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type Harness } from './harness';

let h: Harness;
const TOKEN = 'robot-secret';
const AUTH = { Authorization: `Bearer ${TOKEN}` };

before(async () => {
  h = await startHarness({}, { token: TOKEN, bodyLimit: 64 * 1024 });
});

after(async () => {
  await h.server.close();
});

interface Case {
  name: string;
  method?: string;
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
  status: number;
  error: unknown;
  allow?: string;
}

const user = (content: unknown): unknown => [{ role: 'user', content }];

const CASES: Case[] = [
  { name: 'invalid JSON', path: '/api/generate', body: '{"model":"qwen3-ax650",', status: 400, error: /^invalid JSON in the request body: / },
  { name: 'empty body', path: '/api/chat', body: '', status: 400, error: 'missing request body' },
  { name: 'body is an array', path: '/api/generate', body: '[1,2]', status: 400, error: 'the request body must be a JSON object' },
  { name: 'missing model', path: '/api/generate', body: { prompt: 'hi' }, status: 400, error: 'model is required' },
  { name: 'unknown model', path: '/api/generate', body: { model: 'llama3', prompt: 'hi' }, status: 404, error: "model 'llama3' not found" },
  { name: 'unknown model in show', path: '/api/show', body: { model: 'x' }, status: 404, error: "model 'x' not found" },
  { name: 'prompt is a number', path: '/api/generate', body: { model: 'qwen3-ax650', prompt: 42 }, status: 400, error: '"prompt" must be a string, not a number' },
  { name: 'stream is a string', path: '/api/generate', body: { model: 'qwen3-ax650', prompt: 'hi', stream: 'yes' }, status: 400, error: '"stream" must be true or false, not a string' },
  { name: 'messages is a string', path: '/api/chat', body: { model: 'qwen3-ax650', messages: 'hi' }, status: 400, error: '"messages" must be an array of {role, content} objects, not a string' },
  { name: 'message content is a number', path: '/api/chat', body: { model: 'qwen3-ax650', messages: user(7) }, status: 400, error: '"messages[0].content" must be a string, not a number' },
  { name: 'message is null', path: '/api/chat', body: { model: 'qwen3-ax650', messages: [null] }, status: 400, error: '"messages[0]" must be an object with "role" and "content", not null' },
  { name: 'unknown role', path: '/api/chat', body: { model: 'qwen3-ax650', messages: [{ role: 'robot', content: 'x' }] }, status: 400, error: '"messages[0].role" must be "system", "user", "assistant" or "tool", not "robot"' },
  { name: 'empty prompt in chat', path: '/api/chat', body: { model: 'qwen3-ax650', messages: user('  ') }, status: 400, error: 'the last user message is empty: there is nothing to answer' },
  { name: 'chat ends with the assistant', path: '/api/chat', body: { model: 'qwen3-ax650', messages: [{ role: 'assistant', content: 'x' }] }, status: 400, error: 'the last message must have the role "user" (or "tool" after the assistant\'s tool calls): it is the prompt the model answers' },
  { name: 'temperature is a string', path: '/api/generate', body: { model: 'qwen3-ax650', prompt: 'hi', options: { temperature: 'hot' } }, status: 400, error: '"options.temperature" must be a number, not a string' },
  { name: 'top_p out of range', path: '/api/chat', body: { model: 'qwen3-ax650', messages: user('x'), options: { top_p: 3 } }, status: 400, error: '"options.top_p" must be at most 1, not 3' },
  { name: 'num_predict not an integer', path: '/api/generate', body: { model: 'qwen3-ax650', prompt: 'hi', options: { num_predict: 1.5 } }, status: 400, error: '"options.num_predict" must be an integer, not 1.5' },
  { name: 'bad keep_alive', path: '/api/generate', body: { model: 'qwen3-ax650', prompt: 'hi', keep_alive: 'soon' }, status: 400, error: '"keep_alive" must be a number of seconds or a duration such as "5m" or "1h30m", not "soon"' },
  { name: 'bad think', path: '/api/generate', body: { model: 'qwen3-ax650', prompt: 'hi', think: 'maybe' }, status: 400, error: '"think" must be true, false, "high", "medium" or "low", not a string' },
  { name: 'images that are no image', path: '/api/generate', body: { model: 'qwen3-ax650', prompt: 'hi', images: ['aGk='] }, status: 400, error: "images[0] is not a JPEG or PNG image (its first bytes are no image header); send the file's bytes, not its name or text." },
  { name: 'huge body', path: '/api/generate', body: { model: 'qwen3-ax650', prompt: 'x'.repeat(100_000) }, status: 413, error: /^request body too large: the limit is 64 KiB \(65536 bytes\)\. Images count towards it/ },
  { name: 'unknown endpoint', path: '/api/pull', body: { model: 'qwen3-ax650' }, status: 404, error: /^unknown endpoint POST \/api\/pull; this server offers \/, \/api\/version, / },
  { name: 'wrong method', method: 'GET', path: '/api/generate', status: 405, error: 'method GET is not allowed on /api/generate; use POST', allow: 'POST' },
  { name: 'wrong token', path: '/api/tags', method: 'GET', headers: { Authorization: 'Bearer guess' }, status: 401, error: 'invalid API token' },
  { name: 'no token', path: '/api/version', method: 'GET', headers: { Authorization: '' }, status: 401, error: 'missing API token: send the header "Authorization: Bearer <token>"' },
  {
    name: 'openai: empty messages',
    path: '/v1/chat/completions',
    body: { model: 'qwen3-ax650', messages: [] },
    status: 400,
    error: { message: "[] is too short - 'messages'", type: 'invalid_request_error', param: null, code: null },
  },
  {
    name: 'openai: unknown model',
    path: '/v1/chat/completions',
    body: { model: 'gpt-4o', messages: user('x') },
    status: 404,
    error: { message: "model 'gpt-4o' not found", type: 'not_found_error', param: null, code: 'model_not_found' },
  },
  {
    name: 'openai: n > 1',
    path: '/v1/chat/completions',
    body: { model: 'qwen3-ax650', messages: user('x'), n: 3 },
    status: 400,
    error: { message: '"n" greater than 1 is not supported: the NPU runs one reply at a time', type: 'invalid_request_error', param: null, code: null },
  },
  {
    name: 'openai: image part with a file path',
    path: '/v1/chat/completions',
    body: { model: 'qwen3-ax650', messages: user([{ type: 'image_url', image_url: { url: 'x' } }]) },
    status: 400,
    error: { message: '"messages[0].content[0].image_url.url" must be a data: URI (data:image/jpeg;base64,…); file paths and other schemes are not read.', type: 'invalid_request_error', param: null, code: 'BAD_INPUT' },
  },
  {
    name: 'openai: wrong token',
    method: 'GET',
    path: '/v1/models',
    headers: { Authorization: 'Bearer guess' },
    status: 401,
    error: { message: 'invalid API token', type: 'authentication_error', param: null, code: 'invalid_api_key' },
  },
];

for (const c of CASES) {
  test(`bad request: ${c.name} → ${c.status}`, async () => {
    const submitted = h.runner.submitted.length;
    const method = c.method ?? 'POST';
    const init: RequestInit = { method, headers: { 'Content-Type': 'application/json', ...AUTH, ...c.headers } };
    if (c.body !== undefined) init.body = typeof c.body === 'string' ? c.body : JSON.stringify(c.body);
    const res = await fetch(`${h.url}${c.path}`, init);
    assert.equal(res.status, c.status);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    const body = (await res.json()) as { error: unknown };
    assert.deepEqual(Object.keys(body), ['error']);
    if (c.error instanceof RegExp) assert.match(String(body.error), c.error);
    else assert.deepEqual(body.error, c.error);
    if (c.allow) assert.equal(res.headers.get('allow'), c.allow);
    assert.equal(h.runner.submitted.length, submitted, 'a rejected request must not reach the queue');
  });
}

test('HEAD / and GET / answer "Ollama is running" without a token', async () => {
  const get = await fetch(`${h.url}/`);
  assert.equal(get.status, 200);
  assert.equal(await get.text(), 'Ollama is running');
  const head = await fetch(`${h.url}/`, { method: 'HEAD' });
  assert.equal(head.status, 200);
  const tags = await fetch(`${h.url}/api/tags`, { method: 'HEAD', headers: AUTH });
  assert.equal(tags.status, 200);
  assert.equal(await tags.text(), '');
});
