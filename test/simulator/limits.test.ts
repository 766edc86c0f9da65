import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { replyTokenIds } from '../../simulator/replies';
import { pollUntilDone, request } from '../helpers/sim';
import { startRecordedSim, type Exchange } from './recorder';

const strip = (s: string): string => s.replace(/\x1b\[[0-9;]*m/g, '');
const isPost = (path: string) => (e: Exchange) => e.method === 'POST' && e.url === path;
const LLM_RUNNING = '{"error": "llm is running"}';

function tokenIds(json: string, key: string): number[] {
  const value = (JSON.parse(json) as Record<string, unknown>)[key];
  assert.ok(Array.isArray(value));
  return value.map((v) => Number(v));
}

describe('simulator limits and the busy rule (§1.6, §2.3)', () => {
  it('§1.6/§2.3 decoding stops silently at max_token_len: no error, tokens short of a 3-group never streamed, hit eos printed, the KV cache holds max_token_len', async () => {
    const maxTokenLen = 50;
    const s = await startRecordedSim({ env: { AX650_SIM_MAX_TOKEN_LEN: String(maxTokenLen), AX650_SIM_REPLY_TOKENS: '200', AX650_SIM_TOKENS_PER_SEC: '1000' } });
    try {
      const prompt = 'count slowly to one hundred';
      await request(s.baseUrl, 'POST', '/api/generate', JSON.stringify({ prompt }));
      const { text } = await pollUntilDone(s.baseUrl);
      const encode = s.proxy.exchanges.find(isPost('/encode'));
      assert.ok(encode);
      const inputNum = tokenIds(encode.response, 'diff').length;
      // LLM.hpp Run: one token from the prefill, then one per decode step for indices in [precompute_len + input, max_token_len).
      const total = 1 + maxTokenLen - inputNum;
      assert.notEqual(total % 3, 0, 'the cut must leave a tail shorter than a group, or the flush rule is not tested');
      const decodes = s.proxy.exchanges.filter(isPost('/decode')).map((e) => tokenIds(e.body, 'token_ids'));
      const full = decodes.pop() ?? [];
      const expected = replyTokenIds(prompt, { seed: '', fixed: undefined, tokens: 200 }, (t) => s.tokenizer.tokenizer.encode(t));
      assert.deepEqual(full, expected.slice(0, total), 'the reply is cut at max_token_len');
      assert.ok(decodes.every((ids) => ids.length === 3), 'only full 3-token groups are streamed');
      assert.equal(decodes.flat().length, total - (total % 3), 'the cached tail is flushed only at EOS, not at max_token_len');
      const fullText = (JSON.parse(s.proxy.exchanges.filter(isPost('/decode')).pop()?.response ?? '{}') as { text: string }).text;
      assert.ok(fullText.startsWith(text), 'the streamed text is a prefix of the reply');
      assert.doesNotMatch(text, /error/);
      const out = strip(s.sim.stdout());
      assert.match(out, new RegExp(`input token num : ${inputNum}, prefill_split_num : 1\\n`));
      assert.match(out, /\n\n\[N\]\[ +Run\]\[ *\d+\]: hit eos,avg [\d.]+ token\/s\n/);
      assert.match(out, new RegExp(`GetKVCache\\]\\[ *\\d+\\]: precompute_len:${maxTokenLen}, remaining:${2048 - maxTokenLen}\\n`));
    } finally {
      await s.stop();
    }
  });

  it('§1.6 busy during a reset prefill: /api/generate, /api/reset and /api/chat each get 400 {"error": "llm is running"} while it runs; afterwards they are accepted', async () => {
    // 128 padded tokens × 12 ms: one prefill chunk keeps the runtime busy for about 1.5 s.
    const s = await startRecordedSim({ env: { AX650_SIM_PREFILL_MS_PER_TOKEN: '12' } });
    try {
      assert.equal((await request(s.baseUrl, 'POST', '/api/reset', '{"system_prompt":"Busy window."}')).status, 200);
      await s.sim.waitFor(/GenerateKVCachePrefill\]\[ *\d+\]: input_num_token:\d+/);
      for (const [path, body] of [['/api/generate', '{"prompt":"x"}'], ['/api/reset', '{}'], ['/api/chat', '{"messages":[{"role":"user","content":"x"}]}']] as const) {
        const r = await request(s.baseUrl, 'POST', path, body);
        assert.deepEqual([r.status, r.text], [400, LLM_RUNNING], path);
      }
      assert.equal((await request(s.baseUrl, 'GET', '/api/generate_provider')).text, '{"done":false,"response":""}', 'the prefill was still running');
      assert.match(strip(s.sim.stdout()), /\[E\]\[ +handle_chat\]\[ *\d+\]: model not available\n/);
      await pollUntilDone(s.baseUrl, { requireText: false });
      assert.equal(s.proxy.exchanges.filter(isPost('/encode')).length, 0, 'no refused request started a turn');
      assert.equal(s.proxy.exchanges.filter(isPost('/reset')).length, 2, 'init and the one accepted reset');
      assert.equal((await request(s.baseUrl, 'POST', '/api/generate', '{"prompt":"now"}')).status, 200);
      assert.notEqual((await pollUntilDone(s.baseUrl)).text, '');
    } finally {
      await s.stop();
    }
  });
});
