import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pollUntilDone, request, startSimStack, type SimStack } from '../helpers/sim';

const strip = (s: string): string => s.replace(/\x1b\[[0-9;]*m/g, '');

interface PrefillEntry {
  event: 'prefill';
  kind: 'reset' | 'generate';
  tokens: number;
  precompute_len: number;
  sampling?: Record<string, number | boolean>;
}

async function prefills(stack: SimStack): Promise<PrefillEntry[]> {
  return ((await stack.readLog()) as Array<{ event: string }>).filter((e): e is PrefillEntry => e.event === 'prefill');
}

describe('simulator HTTP API (§1.5, §1.6)', () => {
  let stack: SimStack;
  const decodes: number[][] = [];

  before(async () => {
    stack = await startSimStack({ env: { AX650_SIM_TOKENS_PER_SEC: '300' }, axmodelNum: 4 });
    stack.tokenizer.on('decode', (e) => decodes.push(e.ids));
  });

  after(async () => {
    await stack.stop();
  });

  it('§1.6 the first turn after start runs on an empty KV cache: SetKVCache logs "first run", precompute_len 0', async () => {
    assert.equal((await request(stack.baseUrl, 'POST', '/api/generate', '{"prompt":"hello"}')).status, 200);
    const { text } = await pollUntilDone(stack.baseUrl);
    assert.match(text, /^<think>\n\n<\/think>\n\n/);
    const first = (await prefills(stack)).find((p) => p.kind === 'generate');
    assert.equal(first?.precompute_len, 0);
    assert.match(strip(stack.stdout()), /\[I\]\[ +SetKVCache\]\[ *\d+\]: first run\n/);
  });

  it('§1.5 every response carries Access-Control-Allow-Origin: * and OPTIONS answers 200', async () => {
    for (const [method, path, body] of [['GET', '/api/generate_provider'], ['GET', '/api/stop'], ['POST', '/api/generate', 'x'], ['GET', '/nope']] as const) {
      const r = await request(stack.baseUrl, method, path, body);
      assert.equal(r.headers.get('access-control-allow-origin'), '*', `${method} ${path}`);
    }
    const o = await request(stack.baseUrl, 'OPTIONS', '/api/generate');
    assert.equal(o.status, 200);
    assert.equal(o.headers.get('access-control-allow-methods'), 'GET, POST, OPTIONS');
    assert.equal(o.text, '');
  });

  it('§1.5 idle GET /api/generate_provider is exactly {"done":true,"response":""}', async () => {
    const r = await request(stack.baseUrl, 'GET', '/api/generate_provider');
    assert.equal(r.status, 200);
    assert.equal(r.headers.get('content-type'), 'application/json');
    assert.equal(r.text, '{"done":true,"response":""}');
  });

  it('§1.5 GET /api/stop answers {"status": "ok"} even when idle; POST /api/stop is not routed (404)', async () => {
    const g = await request(stack.baseUrl, 'GET', '/api/stop');
    assert.deepEqual([g.status, g.text], [200, '{"status": "ok"}']);
    const p = await request(stack.baseUrl, 'POST', '/api/stop', '{}');
    assert.deepEqual([p.status, p.text], [404, '']);
  });

  it('§1.5 POST /api/reset with an empty body → 400 Invalid request format', async () => {
    const r = await request(stack.baseUrl, 'POST', '/api/reset', '');
    assert.deepEqual([r.status, r.text], [400, '{"error": "Invalid request format"}']);
  });

  it('§1.5 POST /api/generate without prompt or with bad JSON → 400 Invalid request format', async () => {
    for (const body of ['{"text":"hi"}', '{"prompt":', '', '[1]']) {
      const r = await request(stack.baseUrl, 'POST', '/api/generate', body);
      assert.deepEqual([r.status, r.text], [400, '{"error": "Invalid request format"}'], body);
    }
  });

  it('§1.5 POST /api/chat: no messages → 400 Invalid request format; no role+content → 400 Invalid message format', async () => {
    const a = await request(stack.baseUrl, 'POST', '/api/chat', '{"prompt":"x"}');
    assert.deepEqual([a.status, a.text], [400, '{"error": "Invalid request format"}']);
    const b = await request(stack.baseUrl, 'POST', '/api/chat', '{"messages":[{"content":"x"},{"role":"user"}]}');
    assert.deepEqual([b.status, b.text], [400, '{"error": "Invalid message format"}']);
  });

  it('§1.6 a string where a number belongs makes the handler throw like nlohmann: empty 500, keys before it already applied', async () => {
    const r = await request(stack.baseUrl, 'POST', '/api/generate', '{"prompt":"x","temperature":0.5,"top-p":"0.9"}');
    assert.equal(r.status, 500);
    assert.equal(r.text, '');
    assert.match(r.headers.get('exception_what') ?? '', /type must be number, but is string/);
    const polled = await request(stack.baseUrl, 'GET', '/api/generate_provider');
    assert.equal(polled.text, '{"done":true,"response":""}');
    await request(stack.baseUrl, 'POST', '/api/generate', '{"prompt":"y"}');
    await pollUntilDone(stack.baseUrl);
    const last = (await prefills(stack)).filter((p) => p.kind === 'generate').pop();
    assert.equal(last?.sampling?.['temperature'], Math.fround(0.5));
  });

  it('§1.6 generate returns at once; deltas concatenate to the reply, decoded in 3-token groups through the tokenizer service', async () => {
    decodes.length = 0;
    const r = await request(stack.baseUrl, 'POST', '/api/generate', JSON.stringify({ prompt: 'tell me about the robot arm' }));
    assert.deepEqual([r.status, r.text], [200, '{"status": "ok"}']);
    const { text, polls } = await pollUntilDone(stack.baseUrl);
    assert.ok(polls.some((p) => !p.done && p.response !== ''), 'saw deltas while running');
    const streamed = decodes.slice(0, -1);
    assert.ok(streamed.length >= 2);
    assert.ok(streamed.slice(0, -1).every((ids) => ids.length === 3), 'all groups but the EOS flush have 3 tokens');
    assert.ok((streamed[streamed.length - 1]?.length ?? 0) <= 3);
    const full = decodes[decodes.length - 1] ?? [];
    assert.deepEqual(full, streamed.flat(), 'the final decode is the whole reply');
    assert.equal(text, stack.tokenizer.tokenizer.decode(full));
  });

  it('§1.6 busy: generate, reset and chat get 400 llm is running while a turn runs', async () => {
    await request(stack.baseUrl, 'POST', '/api/generate', '{"prompt":"long one"}');
    await pollUntilDoneFalse(stack);
    for (const [path, body] of [['/api/generate', '{"prompt":"x"}'], ['/api/reset', '{}'], ['/api/chat', '{"messages":[{"role":"user","content":"x"}]}']] as const) {
      const r = await request(stack.baseUrl, 'POST', path, body);
      assert.deepEqual([r.status, r.text], [400, '{"error": "llm is running"}'], path);
    }
    await pollUntilDone(stack.baseUrl);
  });

  it('§1.6 reset: returns at once, prefills the tokenizer\'s reset ids asynchronously (done:false,"" meanwhile, busy too)', async () => {
    const r = await request(stack.baseUrl, 'POST', '/api/reset', JSON.stringify({ system_prompt: 'You are a robot.' }));
    assert.deepEqual([r.status, r.text], [200, '{"status": "ok"}']);
    const { polls } = await pollUntilDone(stack.baseUrl, { requireText: false });
    const last = (await prefills(stack)).filter((p) => p.kind === 'reset').pop();
    const expected = stack.tokenizer.tokenizer.encode('<|im_start|>system\nYou are a robot.<|im_end|>\n');
    assert.equal(last?.tokens, expected.length);
    assert.ok(polls.every((p) => p.response === ''));
    await request(stack.baseUrl, 'POST', '/api/generate', '{"prompt":"who are you"}');
    await pollUntilDone(stack.baseUrl);
    const gen = (await prefills(stack)).filter((p) => p.kind === 'generate').pop();
    assert.equal(gen?.precompute_len, expected.length, 'the turn continues the reset context');
  });

  it('§1.6 sampling keys are hyphenated, persist across requests, top_k is ignored, values logged with %f', async () => {
    await request(stack.baseUrl, 'POST', '/api/generate', JSON.stringify({ prompt: 'a', temperature: 0.7, 'top-k': 40, 'top-p': 0.9, top_k: 3 }));
    await pollUntilDone(stack.baseUrl);
    await request(stack.baseUrl, 'POST', '/api/generate', JSON.stringify({ prompt: 'b' }));
    await pollUntilDone(stack.baseUrl);
    const [first, second] = (await prefills(stack)).filter((p) => p.kind === 'generate').slice(-2);
    assert.equal(first?.sampling?.['top_k'], 40);
    assert.deepEqual(second?.sampling, first?.sampling);
    assert.equal(second?.sampling?.['enable_temperature'], true);
    const out = strip(stack.stdout());
    assert.match(out, /\[I\]\[ +set_llm_config\]\[ *\d+\]: temperature: 0\.700000\n/);
    assert.match(out, /top-k: 40\n/);
    assert.match(out, /top-p: 0\.900000\n/);
    assert.doesNotMatch(out, /top-k: 3\n/);
  });

  it('§1.6 there is no max_tokens: it is ignored and the reply runs to EOS', async () => {
    await request(stack.baseUrl, 'POST', '/api/generate', JSON.stringify({ prompt: 'same prompt', max_tokens: 2 }));
    const a = await pollUntilDone(stack.baseUrl);
    assert.ok(stack.tokenizer.tokenizer.encode(a.text).length > 2);
  });

  it('§1.6 /api/chat blocks until the end, runs only the first message with role and content, streams nothing', async () => {
    const r = await request(stack.baseUrl, 'POST', '/api/chat', JSON.stringify({ messages: [{ role: 'system', content: 'first one' }, { role: 'user', content: 'second one' }] }));
    assert.equal(r.status, 200);
    const body = JSON.parse(r.text) as { message: string; done: boolean };
    assert.equal(body.done, true);
    assert.match(body.message, /^<think>\n\n<\/think>\n\n/);
    assert.match(r.text, /^\{"done":true,"message":/);
    assert.equal((await request(stack.baseUrl, 'GET', '/api/generate_provider')).text, '{"done":true,"response":""}');
  });

  it('§1.6 GET /api/stop ends a running turn early; hit eos is still printed', async () => {
    await request(stack.baseUrl, 'POST', '/api/generate', JSON.stringify({ prompt: 'stop me' }));
    const full = await pollUntilDone(stack.baseUrl);
    await request(stack.baseUrl, 'POST', '/api/generate', JSON.stringify({ prompt: 'stop me' }));
    // b_stop is cleared when Run starts (after encode and SetKVCache), so stop once text flows.
    const head = await pollUntilText(stack);
    await request(stack.baseUrl, 'GET', '/api/stop');
    const rest = await pollUntilDone(stack.baseUrl, { requireText: false });
    const stopped = { text: head + rest.text };
    assert.match(strip(stack.stdout()), /hit eos,avg/);
    assert.ok(stopped.text.length < full.text.length, `${stopped.text.length} < ${full.text.length}`);
    assert.ok(full.text.startsWith(stopped.text));
  });

  it('§1.6 sampling switches: temperature ≤ 0, top-p outside (0,1) and top-k ≤ 0 disable with an [E] "is invalid" line; repetition_penalty − 1 < 0.0001 is "skip", so it can never be switched off', async () => {
    await request(stack.baseUrl, 'POST', '/api/generate', JSON.stringify({ prompt: 'on', temperature: 0.8, 'top-p': 0.5, 'top-k': 20, repetition_penalty: 1.3 }));
    await pollUntilDone(stack.baseUrl);
    await request(stack.baseUrl, 'POST', '/api/generate', JSON.stringify({ prompt: 'off', temperature: 0, 'top-p': 1, 'top-k': 0, repetition_penalty: 1 }));
    await pollUntilDone(stack.baseUrl);
    const [on, off] = (await prefills(stack)).filter((p) => p.kind === 'generate').slice(-2);
    assert.deepEqual([on?.sampling?.['enable_temperature'], on?.sampling?.['enable_top_p_sampling'], on?.sampling?.['enable_top_k_sampling'], on?.sampling?.['enable_repetition_penalty']], [true, true, true, true]);
    assert.deepEqual([off?.sampling?.['enable_temperature'], off?.sampling?.['enable_top_p_sampling'], off?.sampling?.['enable_top_k_sampling']], [false, false, false]);
    assert.equal(off?.sampling?.['enable_repetition_penalty'], true);
    assert.equal(off?.sampling?.['repetition_penalty'], Math.fround(1.3));
    const out = strip(stack.stdout());
    assert.match(out, /\[E\]\[ +set_llm_config\]\[ *\d+\]: temperature: 0\.000000 is invalid\n/);
    assert.match(out, /\[E\]\[ +set_llm_config\]\[ *\d+\]: top-p: 1\.000000 is invalid\n/);
    assert.match(out, /\[E\]\[ +set_llm_config\]\[ *\d+\]: top-k: 0 is invalid\n/);
    assert.match(out, /\[I\]\[ +set_llm_config\]\[ *\d+\]: repetition_penalty: 1\.000000 is skip\n/);
  });
});

async function pollUntilText(stack: SimStack): Promise<string> {
  for (let i = 0; i < 4000; i++) {
    const r = JSON.parse((await request(stack.baseUrl, 'GET', '/api/generate_provider')).text) as { done: boolean; response: string };
    if (r.response !== '') return r.response;
    await new Promise((res) => setTimeout(res, 1));
  }
  throw new Error('no text');
}

/** Waits until a poll reports done:false (the worker has started), without losing its text. */
async function pollUntilDoneFalse(stack: SimStack): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    const r = await request(stack.baseUrl, 'GET', '/api/generate_provider');
    if ((JSON.parse(r.text) as { done: boolean }).done === false) return;
    await new Promise((res) => setTimeout(res, 2));
  }
  throw new Error('never started');
}
