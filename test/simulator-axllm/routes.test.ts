import assert from 'node:assert/strict';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { chatBody, post, sseData, startAxllm, strip, type AxllmRun } from './helpers';

let run: AxllmRun;
let model: string;
before(async () => {
  run = await startAxllm({ env: { AX650_SIM_SLOT_WAIT_MS: '300', AX650_SIM_TOKENS_PER_SEC: '200' } });
  model = run.folder.modelName;
});
after(async () => {
  await run.stop();
});

const CHAT = '/v1/chat/completions';

function errorOf(text: string): { code: string; message: string; type: string } {
  assert.match(text, /^\{\n {2}"error": \{\n {4}"code": /, 'pretty-printed with sorted keys');
  return (JSON.parse(text) as { error: { code: string; message: string; type: string } }).error;
}

describe('axllm routes and bodies (§4)', () => {
  it('§4 unknown paths: 404 with an empty body; OPTIONS: 200 with CORS headers, and no other response carries CORS', async () => {
    const missing = await fetch(`${run.baseUrl}/api/generate`);
    assert.equal(missing.status, 404);
    assert.equal(await missing.text(), '');
    const getChat = await fetch(`${run.baseUrl}${CHAT}`);
    assert.equal(getChat.status, 404);
    await getChat.text();
    const options = await fetch(`${run.baseUrl}/anything/at/all`, { method: 'OPTIONS' });
    assert.equal(options.status, 200);
    assert.equal(await options.text(), '');
    assert.equal(options.headers.get('access-control-allow-origin'), '*');
    assert.equal(options.headers.get('access-control-allow-methods'), 'GET, POST, OPTIONS');
    assert.equal(options.headers.get('access-control-allow-headers'), 'Content-Type, Authorization');
    const health = await fetch(`${run.baseUrl}/health`);
    assert.equal(health.headers.get('access-control-allow-origin'), null);
    await health.text();
    const head = await fetch(`${run.baseUrl}/health`, { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), '');
  });

  it('§4 /health and /v1/models (and /models): exact shapes, limits, capabilities', async () => {
    const health = await fetch(`${run.baseUrl}/health`);
    assert.equal(await health.text(), '{\n  "concurrency": 0,\n  "max_concurrency": 1,\n  "status": "healthy"\n}');
    for (const p of ['/v1/models', '/models']) {
      const res = await fetch(`${run.baseUrl}${p}`);
      const text = await res.text();
      const body = JSON.parse(text) as { object: string; data: Array<Record<string, unknown>> };
      assert.equal(body.object, 'list');
      const card = body.data[0] ?? {};
      assert.ok(Math.abs(Number(card['created']) - Date.now() / 1000) < 30);
      assert.deepEqual({ ...card, created: 0 }, {
        capabilities: { vision: false },
        created: 0,
        id: model,
        input_modalities: ['text'],
        max_token_len: 2559,
        object: 'model',
        owned_by: 'openai-api',
        prefill_max_token_num: 2048,
        thinking_mode: 'default',
      });
      assert.deepEqual(Object.keys(card), [...Object.keys(card)].sort(), 'keys sorted');
    }
  });

  it('§4 chat checks in order: invalid JSON 400, type errors 500, missing model, wrong model, image to a text model', async () => {
    const bad = await post(run.baseUrl, CHAT, '{"model": ');
    assert.equal(bad.status, 400);
    const e1 = errorOf(bad.text);
    assert.equal(e1.code, 'invalid_request_error');
    assert.equal(e1.type, 'invalid_request_error');
    assert.match(e1.message, /^Invalid JSON: \[json\.exception\.parse_error\.101\]/);
    for (const body of [{ model: 1, messages: [] }, { model, stream: 'yes', messages: [] }, { model, messages: 'hi' }, { model, max_tokens: '5', messages: [] }]) {
      const typeError = await post(run.baseUrl, CHAT, body);
      assert.equal(typeError.status, 500, JSON.stringify(body));
      assert.equal(typeError.text, '');
    }
    const noModel = await post(run.baseUrl, CHAT, { messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(noModel.status, 400);
    assert.equal(errorOf(noModel.text).message, "Missing 'model' field");
    const wrong = await post(run.baseUrl, CHAT, chatBody('qwen3', 'hi'));
    assert.equal(wrong.status, 400);
    assert.equal(errorOf(wrong.text).message, `Model 'qwen3' is not available. Available models: ${model}`);
    const image = await post(run.baseUrl, CHAT, { model, messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }, { type: 'text', text: 'what is it' }] }] });
    assert.equal(image.status, 400);
    assert.equal(errorOf(image.text).message, `Model '${model}' does not support image inputs`);
  });

  it('§4 non-stream 200: exact shape, usage zeros, finish_reason "stop" even when max_tokens cut the reply', async () => {
    for (const extra of [{}, { max_tokens: 3 }]) {
      const res = await post(run.baseUrl, '/chat/completions', chatBody(model, 'Hello there', { enable_thinking: false, ...extra }));
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
      const body = JSON.parse(res.text) as Record<string, unknown> & { choices: Array<{ message: { content: string } }> };
      assert.match(String(body['id']), /^chatcmpl-[0-9a-f]{24}$/);
      const content = body.choices[0]?.message.content ?? '';
      assert.ok(content.length > 0);
      assert.deepEqual({ ...body, created: 0, id: '' }, {
        choices: [{ finish_reason: 'stop', index: 0, message: { content, role: 'assistant' } }],
        created: 0,
        id: '',
        model,
        object: 'chat.completion',
        usage: { completion_tokens: 0, prompt_tokens: 0, total_tokens: 0 },
      });
      assert.match(res.text, /^\{\n {2}"choices": \[/);
    }
  });

  it('§4 SSE: role in every delta, a fresh id per chunk, a finish chunk with zero usage, then [DONE]', async () => {
    const res = await post(run.baseUrl, CHAT, chatBody(model, 'Stream please', { stream: true, enable_thinking: false }));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/event-stream');
    assert.equal(res.headers.get('cache-control'), 'no-cache');
    const data = sseData(res.text);
    assert.equal(data.at(-1), '[DONE]');
    const chunks = data.slice(0, -1).map((d) => JSON.parse(d) as Record<string, unknown> & { choices: Array<Record<string, unknown>> });
    const finish = chunks.at(-1);
    const deltas = chunks.slice(0, -1);
    assert.ok(deltas.length >= 3);
    for (const [i, c] of deltas.entries()) {
      assert.equal(data[i], JSON.stringify(c), 'compact dump');
      assert.deepEqual(Object.keys(c), ['choices', 'created', 'id', 'model', 'object']);
      assert.equal(c['object'], 'chat.completion.chunk');
      assert.deepEqual(Object.keys(c.choices[0] ?? {}), ['delta', 'finish_reason', 'index']);
      assert.equal((c.choices[0]?.['delta'] as { role: string }).role, 'assistant');
      assert.equal(c.choices[0]?.['finish_reason'], null);
    }
    assert.equal(new Set(chunks.map((c) => c['id'])).size, chunks.length, 'every chunk has its own id');
    assert.deepEqual(finish?.choices, [{ delta: {}, finish_reason: 'stop', index: 0 }]);
    assert.deepEqual(finish?.['usage'], { completion_tokens: 0, prompt_tokens: 0, total_tokens: 0 });
    const text = deltas.map((c) => (c.choices[0]?.['delta'] as { content: string }).content).join('');
    assert.doesNotMatch(text, /<think>/, 'no_think: no think block');
    assert.ok(strip(run.sim.stdout()).includes(text), 'deltas are printed raw on stdout');
  });

  it('§4 model-side errors: a 400 with a normal-looking completion (content "", model "gpt-4"); in a stream an error chunk then [DONE]', async () => {
    const bad = { model, messages: [{ role: 'user', content: [{ type: 'image', image: 'data:image/png;base64,@@@@' }] }] };
    const res = await post(run.baseUrl, CHAT, bad);
    assert.equal(res.status, 400);
    const body = JSON.parse(res.text) as Record<string, unknown>;
    assert.deepEqual({ ...body, created: 0, id: '' }, {
      choices: [{ finish_reason: 'stop', index: 0, message: { content: '', role: 'assistant' } }],
      created: 0,
      id: '',
      model: 'gpt-4',
      object: 'chat.completion',
      usage: { completion_tokens: 0, prompt_tokens: 0, total_tokens: 0 },
    });
    assert.match(run.sim.stderr(), /ERR handle_api_messages:\d+ \| invalid base64 character 0x40\n.*ERR operator\(\):\d+ \| handle_body failed\n/s);
    const toolRole = await post(run.baseUrl, CHAT, { model, stream: true, messages: [{ role: 'tool', content: 'x' }] });
    assert.equal(toolRole.status, 200);
    assert.deepEqual(sseData(toolRole.text), ['{"error":{"message":"Failed to parse chat messages.","type":"invalid_request_error"}}', '[DONE]']);
  });

  it('§4 the library routes a chat model does not serve answer 400', async () => {
    const res = await post(run.baseUrl, '/v1/embeddings', { model, input: 'x' });
    assert.equal(res.status, 400);
    assert.equal(errorOf(res.text).code, 'invalid_request_error');
  });

  it('§4 a client that vanishes halfway through sending its body leaves the server running', async () => {
    await new Promise<void>((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port: run.port }, () => {
        socket.write(`POST ${CHAT} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"model":`);
        setTimeout(() => (socket.destroy(), resolve()), 100);
      });
      socket.once('error', reject);
    });
    await new Promise((r) => setTimeout(r, 200));
    const health = await fetch(`${run.baseUrl}/health`);
    assert.equal(health.status, 200);
    assert.equal(((await health.json()) as { concurrency: number }).concurrency, 0);
  });
});
