import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { post, startAxllm, type AxllmRun } from './helpers';

const S1 = 'You are the arm controller. Answer in one short sentence.';
const S2 = 'You are the mobile base. Report the wheel odometry and nothing else, in metres, with two decimals.';

async function ask(run: AxllmRun, messages: Array<{ role: string; content: string }>): Promise<{ reply: string; cached: number; prompt: number }> {
  const res = await post(run.baseUrl, '/v1/chat/completions', { model: run.folder.modelName, enable_thinking: false, messages });
  assert.equal(res.status, 200, res.text);
  const reply = (JSON.parse(res.text) as { choices: Array<{ message: { content: string } }> }).choices[0]?.message.content ?? '';
  const start = (await run.readLog()).filter((e) => e['event'] === 'run' && e['phase'] === 'start').at(-1);
  return { reply, cached: Number(start?.['cached_tokens']), prompt: Number(start?.['prompt_tokens']) };
}

/** Conversation A, then B (another system prompt), then A continued: how much of A's prefix is still cached. */
async function continuedAfterOther(slots: number): Promise<{ first: number; continued: number; prompt: number }> {
  const run = await startAxllm({ dirOpts: { axmodelNum: 2, config: { kv_cache_slots: slots } } });
  try {
    const a1 = [{ role: 'system', content: S1 }, { role: 'user', content: 'Where is the gripper?' }];
    const first = await ask(run, a1);
    await ask(run, [{ role: 'system', content: S2 }, { role: 'user', content: 'Odometry?' }]);
    const continued = await ask(run, [...a1, { role: 'assistant', content: first.reply }, { role: 'user', content: 'Close it.' }]);
    return { first: first.cached, continued: continued.cached, prompt: continued.prompt };
  } finally {
    await run.stop();
  }
}

describe('axllm prefix KV cache (§2 kv_cache_slots)', () => {
  it('§2 one context (default): a continued conversation reuses its prefix; after another system prompt it is prefilled again from the divergence', async () => {
    const one = await continuedAfterOther(1);
    assert.equal(one.first, 0, 'the first request prefills everything');
    assert.ok(one.continued < 10, `only the shared template head survives another system prompt (${one.continued})`);
    const two = await continuedAfterOther(2);
    assert.ok(two.continued > 20 && two.continued < two.prompt, `with two slots A's prefix is still cached (${two.continued} of ${two.prompt})`);
  });
});
