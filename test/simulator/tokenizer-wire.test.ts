import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { THINK_BLOCK } from '../../simulator/replies';
import { pollUntilDone, request } from '../helpers/sim';
import { startRecordedSim, type Exchange, type RecordedSim } from './recorder';

const CLI_SYSTEM = 'You are a robot named Zed.';
const TOKENIZER_DEFAULT_SYSTEM = 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.';

const isPost = (path: string) => (e: Exchange) => e.method === 'POST' && e.url === path;

function idsOf(json: string, key: string): number[] {
  const value = (JSON.parse(json) as Record<string, unknown>)[key];
  assert.ok(Array.isArray(value) && value.every((v) => typeof v === 'number'), `${key} is a number array`);
  return value as number[];
}

async function resetPrefills(stack: RecordedSim): Promise<number[]> {
  const lines = (await readFile(stack.logFile, 'utf8')).split('\n').filter((l) => l !== '');
  return lines
    .map((l) => JSON.parse(l) as { event: string; kind?: string; tokens?: number })
    .filter((e) => e.event === 'prefill' && e.kind === 'reset')
    .map((e) => e.tokens ?? -1);
}

/**
 * Tokenizer.cpp (AXERA-TECH/ax-llm, uid revision) builds every request with nlohmann::json, whose objects are
 * std::map (keys sorted) and whose dump() keeps UTF-8 as is; Encode sets uid and text, last_reply only when
 * non-empty, then img_prompt = b_img_prompt (default false); Reset sets system_prompt only when non-empty.
 */
describe('simulator ↔ tokenizer wire (§1.2, §1.6, §2.2)', () => {
  let stack: RecordedSim;
  let uid = '';

  before(async () => {
    stack = await startRecordedSim({ systemPrompt: CLI_SYSTEM, env: { AX650_SIM_TOKENS_PER_SEC: '300' } });
  });

  after(async () => {
    await stack.stop();
  });

  /** One /api/generate turn; returns its /encode exchange and the reply (the last /decode's text). */
  async function turn(prompt: string): Promise<{ encode: Exchange; reply: string; polled: string }> {
    const from = stack.proxy.exchanges.length;
    assert.equal((await request(stack.baseUrl, 'POST', '/api/generate', JSON.stringify({ prompt }))).status, 200);
    const encode = await stack.proxy.next(isPost('/encode'), from);
    const { text } = await pollUntilDone(stack.baseUrl);
    const decodes = stack.proxy.exchanges.slice(from).filter(isPost('/decode'));
    const last = decodes[decodes.length - 1];
    assert.ok(last, 'the turn decoded through the tokenizer');
    return { encode, reply: (JSON.parse(last.response) as { text: string }).text, polled: text };
  }

  /** POST /api/reset, then waits for the tokenizer /reset and the end of the prefill that follows it. */
  async function apiReset(body: string): Promise<Exchange> {
    const from = stack.proxy.exchanges.length;
    const r = await request(stack.baseUrl, 'POST', '/api/reset', body);
    assert.deepEqual([r.status, r.text], [200, '{"status": "ok"}']);
    const reset = await stack.proxy.next(isPost('/reset'), from);
    // running was set before the tokenizer was asked, so done:true now means the prefill is over.
    await pollUntilDone(stack.baseUrl, { requireText: false });
    return reset;
  }

  it('§1.2/§2.2 init: get_uid, bos_id?uid=, eos_id?uid=, then /reset with the CLI --system_prompt, as nlohmann dumps it', () => {
    const calls = stack.proxy.exchanges.map((e) => `${e.method} ${e.url.replace(/uid=[^&]*/, 'uid=U')}`);
    assert.deepEqual(calls, ['GET /get_uid', 'GET /bos_id?uid=U', 'GET /eos_id?uid=U', 'POST /reset']);
    uid = (JSON.parse(stack.proxy.exchanges[0]?.response ?? '{}') as { uid: string }).uid;
    assert.match(uid, /^[0-9a-f-]{36}$/);
    assert.equal(stack.proxy.exchanges[1]?.url, `/bos_id?uid=${uid}`);
    const reset = stack.proxy.exchanges[3];
    assert.equal(reset?.body, `{"system_prompt":${JSON.stringify(CLI_SYSTEM)},"uid":"${uid}"}`);
    assert.equal(reset?.contentType, 'application/json');
    assert.match(stack.sim.stdout(), new RegExp(`uid: ${uid}\\x1b\\[0m\\n`));
  });

  it('§1.6 /encode body of the first turn: {"img_prompt":false,"text":…,"uid":…}, no last_reply key, UTF-8 and quotes as nlohmann writes them', async () => {
    const prompt = 'Say "hi" / 你好 🤖\nsecond line \\ end\t.';
    const { encode, reply, polled } = await turn(prompt);
    assert.equal(encode.body, `{"img_prompt":false,"text":${JSON.stringify(prompt)},"uid":"${uid}"}`);
    assert.ok(encode.body.includes('你好 🤖'), 'non-ASCII is not \\u-escaped');
    assert.equal(encode.contentType, 'application/json');
    assert.equal(polled, reply);
  });

  it('§1.6 the next /encode carries the previous reply verbatim as last_reply (the final full decode, think block included); /decode bodies are {"token_ids":[…],"uid":…}', async () => {
    const first = stack.proxy.exchanges.filter(isPost('/decode'));
    const previous = (JSON.parse(first[first.length - 1]?.response ?? '{}') as { text: string }).text;
    assert.ok(previous.startsWith(THINK_BLOCK));
    const from = stack.proxy.exchanges.length;
    const { encode } = await turn('and then?');
    assert.equal(encode.body, `{"img_prompt":false,"last_reply":${JSON.stringify(previous)},"text":"and then?","uid":"${uid}"}`);
    for (const d of stack.proxy.exchanges.slice(from).filter(isPost('/decode'))) {
      assert.match(d.body, new RegExp(`^\\{"token_ids":\\[\\d+(,\\d+)*\\],"uid":"${uid}"\\}$`));
    }
  });

  it('§1.6 /api/reset {} sends /reset {"uid"} only (Tokenizer.cpp Reset drops an empty prompt), so the context is the TOKENIZER default system prompt, not --system_prompt', async () => {
    const reset = await apiReset('{}');
    assert.equal(reset.body, `{"uid":"${uid}"}`);
    const ids = idsOf(reset.response, 'token_ids');
    const tk = stack.tokenizer.tokenizer;
    assert.equal(tk.decode(ids), `<|im_start|>system\n${TOKENIZER_DEFAULT_SYSTEM}<|im_end|>\n`);
    assert.ok(!tk.decode(ids).includes(CLI_SYSTEM));
    const prefills = await resetPrefills(stack);
    assert.equal(prefills[prefills.length - 1], ids.length, 'the KV cache is prefilled with exactly those ids');
  });

  it('§1.6 /api/reset {"system_prompt":""} also omits the key; a non-empty one is sent as given', async () => {
    assert.equal((await apiReset('{"system_prompt":""}')).body, `{"uid":"${uid}"}`);
    assert.equal((await apiReset('{"system_prompt":"Be brief."}')).body, `{"system_prompt":"Be brief.","uid":"${uid}"}`);
  });

  it('§1.6 /api/reset does not clear last_reply: the first /encode after a reset sends the previous conversation\'s reply (main_api.cpp @086f4e6: ResetSync never touches Worker::last_reply)', async () => {
    const before = await turn('remember this');
    await apiReset('{"system_prompt":"A new conversation."}');
    const afterReset = await turn('fresh start');
    assert.equal(afterReset.encode.body, `{"img_prompt":false,"last_reply":${JSON.stringify(before.reply)},"text":"fresh start","uid":"${uid}"}`);
    // What the tokenizer makes of it is its own business (the vendor script appends it to the fresh history;
    // the built-in one deliberately drops it, lib/tokenizer/session.ts): the runtime's side is the body above.
  });
});
