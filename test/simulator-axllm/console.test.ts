import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { freePort, stopSim, waitForHttp } from '../helpers/sim';
import { refused } from '../simulator/probes';
import { chatBody, makeAxllmFolder, post, spawnAxllm, type AxllmFolder } from './helpers';

let folder: AxllmFolder;
before(async () => {
  folder = await makeAxllmFolder({ axmodelNum: 4 });
});
after(async () => {
  await folder.remove();
});

const LOG_LINE = /^\d\d:\d\d:\d\d\.\d{3} (INF|NTC|WRN|ERR) [\w():\[\] -]+:\d+ \| /;

describe('axllm console output (§3)', () => {
  it('§3 load log: order of the lines, # bars (axmodel_num+3) glued by \\r with the next log line glued to the last bar, `Models:` last before listen', async () => {
    const port = await freePort();
    const sim = spawnAxllm(folder, { port, env: { AX650_SIM_LISTEN_DELAY_MS: '400' } });
    try {
      await sim.waitFor(/^Models: AXERA-TECH\/Qwen3-1\.7B\n/m);
      assert.match(sim.stdout(), /\nModels: AXERA-TECH\/Qwen3-1\.7B\n$/, 'the ready line is the last thing printed');
      assert.equal(await refused(port), true, '/health does not exist before listen');
      await waitForHttp(`http://127.0.0.1:${port}/health`, sim.exited);
      const out = sim.stdout();
      const order = ['INF Init:', 'LLM init start', 'AXCLWorker start with devid 0', 'tokenizer init ok', 'init 0 axmodel ok,devid(0) remain_cmm(', 'init 3 axmodel ok', 'init post axmodel ok,remain_cmm(', 'max_token_len : 2559', 'kv_cache_size : 1024, kv_cache_num: 2559', 'prefill_token_num : 128', 'decode grp: 0, gid: 0, max_token_len : 2559', 'prefill grp: 1, gid: 1, history_cap: ', 'prefill_max_token_num : 2048', 'LLaMaEmbedSelector use mmap', 'embed_selector init ok', 'load config: ', '"top_k": 20', 'LLM init ok', `Starting server on port ${port} with model 'AXERA-TECH/Qwen3-1.7B'...\nAPI URLs:\n  GET  http://127.0.0.1:${port}/health\n  GET  http://127.0.0.1:${port}/v1/models\n  POST http://127.0.0.1:${port}/v1/chat/completions\n`, 'Aliases:\n', `OpenAI API Server starting on http://127.0.0.1:${port}\nMax concurrency: 1\nModels: AXERA-TECH/Qwen3-1.7B\n`];
      let at = 0;
      for (const text of order) {
        const i = out.indexOf(text, at);
        assert.ok(i >= at, `${JSON.stringify(text)} after position ${at}`);
        at = i;
      }
      const bars = out.split(/[\r\n]/).filter((l) => /^\s*\d+% \| [# ]{32} \| +\d+ \/ +7 \[[\d.]+s<[\d.]+s, [\d.]+ count\/s\] /.test(l));
      assert.equal(bars.length, 4 + 3);
      assert.match(out, /\r 14% \| #{4,5} +\| {3}1 \/ {3}7 \[.*\] tokenizer init ok\r 28% \|/);
      assert.match(out, /init post axmodel ok,remain_cmm\(\d+ MB\)\d\d:\d\d:\d\d\.\d{3} INF Init:\d+ \| max_token_len : 2559\n/, 'log line glued to the bar');
      assert.match(out, /\r100% \| #{32} \| {3}7 \/ {3}7 \[.*\] embed_selector init ok\d\d:\d\d/);
      for (const line of out.split('\n').filter((l) => /^\d\d:\d\d:\d\d\.\d{3} /.test(l))) assert.match(line, LOG_LINE);
      assert.doesNotMatch(out, / (WRN|ERR) /, 'WRN/ERR never on stdout');
      assert.doesNotMatch(out, /\x1b\[/, 'no colour on a pipe');
    } finally {
      await stopSim(sim);
    }
  });

  it('§3 per-request lines: the request summary, prefill, ttft, a token bar for non-stream, hit eos, GetKVCache, then the whole reply without a newline; WRN/ERR on stderr', async () => {
    const port = await freePort();
    const sim = spawnAxllm(folder, { port, env: { AX650_SIM_REPLY_TOKENS: '6', AX650_SIM_REPLY: 'One two three four five six seven eight' } });
    try {
      await sim.waitFor(/^Models: /m);
      const base = `http://127.0.0.1:${port}`;
      await waitForHttp(`${base}/health`, sim.exited);
      const res = await post(base, '/v1/chat/completions', chatBody(folder.modelName, 'count', { temperature: 0.5, messages: [{ role: 'system', content: 's' }, { role: 'user', content: 'count' }], stop: ['x'] }));
      const content = (JSON.parse(res.text) as { choices: Array<{ message: { content: string } }> }).choices[0]?.message.content ?? '';
      await sim.waitFor(/GetKVCache:\d+ \| precompute_len:\d+, remaining:\d+\n/);
      await sim.waitFor(new RegExp(`${content.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
      const out = sim.stdout().slice(sim.stdout().indexOf('OpenAI chat request'));
      assert.match(out, /^OpenAI chat request: model=AXERA-TECH\/Qwen3-1\.7B stream=0 max_tokens=2048 has_temperature=1 temperature=0\.5000 has_top_p=0 top_p=1\.0000 has_enable_thinking=0 thinking_mode=default messages=2 stop=1\n\S+ INF Run:\d+ \| first run\n\S+ INF Run:\d+ \| input token num : \d+, prefill_split_num : 1\n\S+ INF Run:\d+ \| ttft: [\d.]+ ms\n/);
      const tokenBars = out.split('\r').filter((l) => /^\s*\d+% \| [# ]{32} \| +\d+ \/ 2559 \[.* token\/s\] /.test(l));
      assert.equal(tokenBars.length, 6);
      assert.match(out, /\n\n\S+ NTC Run:\d+ \| hit eos,avg [\d.]+ token\/s\n\S+ INF GetKVCache:\d+ \| precompute_len:\d+, remaining:\d+\nOne two three/);
      const stream = await post(base, '/v1/chat/completions', chatBody(folder.modelName, 'x', { stream: true, enable_thinking: true }));
      assert.equal(stream.status, 200);
      assert.match(sim.stdout(), /has_enable_thinking=1 thinking_mode=think messages=1 stop=0\n/);
      assert.doesNotMatch(sim.stderr(), /INF|NTC/);
    } finally {
      await stopSim(sim);
    }
  });
});
