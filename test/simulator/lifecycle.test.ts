import assert from 'node:assert/strict';
import * as net from 'node:net';
import { rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { startTokenizerServer, type TokenizerServer } from '../../lib/tokenizer/server';
import { simulatorTestEnv } from '../../simulator/env';
import { freePort, isAlive, makeSimModelDir, pollUntilDone, request, spawnSim, startSimStack, stopSim, vendorArgs, waitForHttp } from '../helpers/sim';
import { refused } from './probes';

const strip = (s: string): string => s.replace(/\x1b\[[0-9;]*m/g, '');

let modelDir: string;
let tokenizer: TokenizerServer;

before(async () => {
  modelDir = await makeSimModelDir(6);
  tokenizer = await startTokenizerServer({ modelDir, port: 0 });
});

after(async () => {
  await tokenizer.close();
  await rm(modelDir, { recursive: true, force: true });
});

function start(env: Record<string, string>, port: number) {
  return spawnSim({ modelDir, args: vendorArgs(tokenizer.url, 6), env: { ...simulatorTestEnv, AX650_SIM_PORT: String(port), ...env } });
}

describe('simulator lifecycle and console (§1.4, §2.1–§2.4)', () => {
  it('§1.4/§2.2 init log: layout, colours, progress bar of axmodel_num+3 with \\r, limits, LLM init ok, then Server running before listen', async () => {
    const port = await freePort();
    const sim = start({ AX650_SIM_LISTEN_DELAY_MS: '400' }, port);
    try {
      await sim.waitFor(/Server running on port \d+\.\.\.\n/);
      assert.equal(await refused(port), true, 'the port refuses right after the line');
      await waitForHttp(`http://127.0.0.1:${port}/api/generate_provider`, sim.exited);
      const raw = sim.stdout();
      assert.match(raw, /^\x1b\[1;30;32m\[I\]\[ {28}Init\]\[ 136\]: LLM init start\x1b\[0m\n/);
      const out = strip(raw);
      const order = ['LLM init start', `connect ${tokenizer.url} ok`, 'uid: ', 'bos_id: -1, eos_id: 151645', 'tokenizer init ok', 'LLaMaEmbedSelector use mmap', 'embed_selector init ok', 'AXCLWorker start with devid 0', 'init 0 axmodel ok,devid(0) remain_cmm(', 'init post axmodel ok,remain_cmm(', 'max_token_len : 2559', 'kv_cache_size : 1024, kv_cache_num: 2559', 'prefill_token_num : 128', 'grp: 6, prefill_max_token_num : 2048', 'prefill_max_token_num : 2048', '|    ID| remain cmm(MB)|', 'load config: \n{\n    "enable_repetition_penalty": false,', 'LLM init ok', 'Server running on port'];
      let at = 0;
      for (const text of order) {
        const i = out.indexOf(text, at);
        assert.ok(i >= at, `${text} after position ${at}`);
        at = i;
      }
      const bars = out.split(/[\r\n]/).filter((l) => /^\s*\d+% \|/.test(l));
      assert.equal(bars.length, 6 + 3);
      assert.match(bars[bars.length - 1] ?? '', /^100% \| █{32} \| {3}9 \/ {3}9 \[[\d.]+s<[\d.]+s, [\d.]+ count\/s\] init post axmodel ok/);
    } finally {
      await stopSim(sim);
    }
  });

  it('§1.4 SIGINT stops cleanly: exit 0 and "AXCLWorker exit with devid 0"; SIGTERM is the default death with nothing more printed', async () => {
    const portA = await freePort();
    const a = start({}, portA);
    // SIGINT before listen() is ignored (see the next test), so wait until the port answers.
    await waitForHttp(`http://127.0.0.1:${portA}/api/generate_provider`, a.exited);
    a.signal('SIGINT');
    assert.deepEqual(await a.exited, { code: 0, signal: null });
    assert.match(strip(a.stdout()), /\[I\]\[ +run\]\[ {2}80\]: AXCLWorker exit with devid 0\n$/);
    const b = start({}, await freePort());
    await b.waitFor(/Server running/);
    b.signal('SIGTERM');
    assert.deepEqual(await b.exited, { code: null, signal: 'SIGTERM' });
    assert.doesNotMatch(b.stdout(), /AXCLWorker exit/);
    assert.equal(isAlive(a.pid) || isAlive(b.pid), false);
  });

  it('§1.4 SIGINT while loading does nothing (svr.stop() before listen is a no-op): the load finishes and the server runs', async () => {
    const port = await freePort();
    const sim = start({ AX650_SIM_LOAD_MS: '600' }, port);
    try {
      await sim.waitFor(/tokenizer init ok/);
      sim.signal('SIGINT');
      await sim.waitFor(/Server running/);
      await waitForHttp(`http://127.0.0.1:${port}/api/generate_provider`, sim.exited);
    } finally {
      assert.equal((await stopSim(sim)).code, 0);
    }
  });

  it('§1.4 port already taken: listen fails silently, teardown, exit 0 right after "Server running"', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '0.0.0.0', () => r()));
    const address = blocker.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const sim = start({}, port);
    const exit = await sim.exited;
    blocker.close();
    assert.deepEqual(exit, { code: 0, signal: null });
    assert.match(strip(sim.stdout()), /Server running on port \d+\.\.\.\n\[I\]\[ +run\]\[ {2}80\]: AXCLWorker exit with devid 0\n$/);
  });

  it('§1.4 init failure: "[E] … lLaMa.Init failed" and exit 255; axclInit failure: its error byte, nothing printed', async () => {
    const a = start({ AX650_SIM_INIT_FAIL: 'post' }, await freePort());
    assert.equal((await a.exited).code, 255);
    assert.match(strip(a.stdout()), /init post axmodel\(qwen3-4b-ax650\/qwen3_post\.axmodel\) failed\n.*lLaMa\.Init failed\n$/s);
    const b = start({ AX650_SIM_INIT_FAIL: 'axcl' }, await freePort());
    assert.equal((await b.exited).code, 0x0b);
    assert.equal(b.stdout(), '');
  });

  it('§2.1 stdout to a pipe is fully buffered: hit eos and GetKVCache lines wait for the next flush; _STDBUF_O=L shows them at once', async () => {
    const full = await startSimStack({ axmodelNum: 2, env: { AX650_SIM_TOKENS_PER_SEC: '300' } });
    const line = await startSimStack({ axmodelNum: 2, env: { AX650_SIM_TOKENS_PER_SEC: '300', _STDBUF_O: 'L' } });
    try {
      for (const s of [full, line]) {
        await request(s.baseUrl, 'POST', '/api/generate', '{"prompt":"buffer test"}');
        const { text } = await pollUntilDone(s.baseUrl);
        assert.ok(strip(s.stdout()).includes(text.slice(-5)), 'token callback output is flushed');
      }
      // Both are done:true, which the runtime sets after GetKVCache's line was printf'ed.
      assert.doesNotMatch(full.stdout(), /hit eos/);
      assert.match(strip(line.stdout()), /\[N\]\[ +Run\]\[1182\]: hit eos,avg [\d.]+ token\/s\n\n/);
      assert.match(strip(line.stdout()), /GetKVCache\]\[ 597\]: precompute_len:\d+, remaining:\d+\n/);
      await full.stop();
      assert.match(strip(full.stdout()), /hit eos,avg/, 'exit flushes the buffer');
    } finally {
      await full.stop();
      await line.stop();
    }
  });

  it('§2.3 per-request lines: SetKVCache, input token num : N, prefill_split_num : 1, ttft, the echoed reply, hit eos, precompute_len/remaining', async () => {
    const s = await startSimStack({ axmodelNum: 2, env: { _STDBUF_O: 'L' } });
    try {
      await request(s.baseUrl, 'POST', '/api/reset', '{}');
      await pollUntilDone(s.baseUrl, { requireText: false });
      await request(s.baseUrl, 'POST', '/api/generate', '{"prompt":"who are you"}');
      const { text } = await pollUntilDone(s.baseUrl);
      const out = strip(s.stdout());
      const set = /SetKVCache\]\[ *\d+\]: prefill_grpid:2 kv_cache_num:256 precompute_len:(\d+) input_num_token:(\d+)\n/.exec(out);
      assert.ok(set);
      assert.match(out, new RegExp(`Run\\]\\[ *\\d+\\]: input token num : ${set[2]}, prefill_split_num : 1\\n`));
      assert.match(out, /ttft: [\d.]+ ms\n/);
      assert.ok(out.includes(`${text}\n\n`));
      const kv = /precompute_len:(\d+), remaining:(-?\d+)\n/.exec(out);
      assert.ok(kv);
      const replyTokens = s.tokenizer.tokenizer.encode(text).length;
      assert.equal(Number(kv[1]), Number(set[1]) + Number(set[2]) + replyTokens);
      assert.equal(Number(kv[2]), 2048 - Number(kv[1]));
    } finally {
      await s.stop();
    }
  });

  it('§1.6 context full (fixed revision): the literal SetKVCache error is pushed to the poll queue with done:true; /api/chat returns it', async () => {
    const s = await startSimStack({ axmodelNum: 2, env: { _STDBUF_O: 'L', AX650_SIM_PREFILL_MAX: '300', AX650_SIM_REPLY_TOKENS: '120', AX650_SIM_TOKENS_PER_SEC: '2000' } });
    try {
      let error = '';
      for (let turn = 0; turn < 6 && !error; turn++) {
        await request(s.baseUrl, 'POST', '/api/generate', JSON.stringify({ prompt: `turn ${turn}` }));
        const { text } = await pollUntilDone(s.baseUrl);
        if (text.includes('SetKVCache failed')) error = text;
      }
      assert.equal(error, 'error: SetKVCache failed: %d,the context may be full,please reset');
      const chat = await request(s.baseUrl, 'POST', '/api/chat', '{"messages":[{"role":"user","content":"more"}]}');
      assert.equal(chat.text, '{"done":true,"message":"error: SetKVCache failed: %d,the context may be full,please reset"}');
      assert.match(strip(s.stdout()), /\[E\]\[ +SetKVCache\]/);
    } finally {
      await s.stop();
    }
  });

  it('§1.6 context full (AX650_SIM_CONTEXT_FULL=wedge): polls stay done:false and everything is refused with llm is running', async () => {
    const s = await startSimStack({ axmodelNum: 2, env: { AX650_SIM_CONTEXT_FULL: 'wedge', AX650_SIM_PREFILL_MAX: '300', AX650_SIM_REPLY_TOKENS: '120', AX650_SIM_TOKENS_PER_SEC: '2000' } });
    try {
      let wedged = false;
      for (let turn = 0; turn < 6 && !wedged; turn++) {
        await request(s.baseUrl, 'POST', '/api/generate', JSON.stringify({ prompt: `turn ${turn}` }));
        const first = await pollUntilDone(s.baseUrl, { timeoutMs: 3000 }).catch(() => undefined);
        wedged = first === undefined;
      }
      assert.equal(wedged, true);
      assert.equal((await request(s.baseUrl, 'GET', '/api/generate_provider')).text, '{"done":false,"response":""}');
      assert.equal((await request(s.baseUrl, 'POST', '/api/reset', '{}')).text, '{"error": "llm is running"}');
    } finally {
      await s.stop();
    }
  });

  it('§1.6 start race: the worker sets running only when it starts, so an early poll sees the idle {"done":true,"response":""}', async () => {
    const s = await startSimStack({ axmodelNum: 2, env: { AX650_SIM_START_DELAY_MS: '300' } });
    try {
      await request(s.baseUrl, 'POST', '/api/generate', '{"prompt":"race"}');
      assert.equal((await request(s.baseUrl, 'GET', '/api/generate_provider')).text, '{"done":true,"response":""}');
      const { text } = await pollUntilDone(s.baseUrl);
      assert.notEqual(text, '');
    } finally {
      await s.stop();
    }
  });

  it('§2.4 tokenizer not reachable: 10 "connect failed …, try again in N/10" lines 1 s apart, then the error chain and exit 255', async () => {
    const dead = await freePort();
    const sim = spawnSim({ modelDir, args: vendorArgs(`http://127.0.0.1:${dead}`, 6), env: { ...simulatorTestEnv } });
    const exit = await sim.exited;
    assert.equal(exit.code, 255);
    const out = strip(sim.stdout());
    const tries = out.match(/connect failed http:\/\/127\.0\.0\.1:\d+, try again in +\d+\/10 \n/g) ?? [];
    assert.equal(tries.length, 10);
    assert.ok(tries[0]?.includes('try again in  9/10'));
    assert.ok(tries[9]?.includes('try again in  0/10'));
    assert.match(out, /connect http:\/\/127\.0\.0\.1:\d+ failed\n.*tokenizer\.Init\(http:\/\/127\.0\.0\.1:\d+\) failed\n.*lLaMa\.Init failed\n$/s);
  });
});
