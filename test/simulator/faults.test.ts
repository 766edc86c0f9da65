import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { startTokenizerServer } from '../../lib/tokenizer/server';
import { simulatorTestEnv } from '../../simulator/env';
import { freePort, isAlive, makeSimModelDir, pollUntilDone, request, spawnSim, startSimStack, stopSim, vendorArgs, waitForHttp } from '../helpers/sim';
import { refused } from './probes';
import { spawnRecordedSim, startRecordedSim } from './recorder';

const strip = (s: string): string => s.replace(/\x1b\[[0-9;]*m/g, '');

describe('simulator fault injection (§2.4, §3 pitfalls)', () => {
  it('§2.4 AX650_SIM_CRASH_AFTER_TOKENS: the process dies by signal mid-generation', async () => {
    const s = await startSimStack({ axmodelNum: 2, env: { AX650_SIM_CRASH_AFTER_TOKENS: '7', AX650_SIM_TOKENS_PER_SEC: '200' } });
    try {
      await request(s.baseUrl, 'POST', '/api/generate', '{"prompt":"crash"}');
      const exit = await s.exited;
      assert.equal(exit.signal, 'SIGKILL');
      assert.equal(isAlive(s.pid), false);
    } finally {
      await s.stop();
    }
  });

  it('§2.4 AX650_SIM_DEAD_CARD: the AXCL "device 1 is dead" report, then no progress (polls stay done:false)', async () => {
    const s = await startSimStack({ axmodelNum: 2, env: { AX650_SIM_DEAD_CARD: 'generate' } });
    try {
      await request(s.baseUrl, 'POST', '/api/generate', '{"prompt":"dead"}');
      await waitUntil(() => /\]\[W\]\[device manager\]\[listen\]\[292\]: device 1 is dead\n/.test(s.stdout()));
      assert.match(s.stdout(), /allocated device memories: 226\n/);
      assert.equal((await request(s.baseUrl, 'GET', '/api/generate_provider')).text, '{"done":false,"response":""}');
    } finally {
      killGroup(s.pid);
      await s.stop();
    }
  });

  it('§2.4 AX650_SIM_HANG=generate: after the first delta the turn never ends', async () => {
    const s = await startSimStack({ axmodelNum: 2, env: { AX650_SIM_HANG: 'generate' } });
    try {
      await request(s.baseUrl, 'POST', '/api/generate', '{"prompt":"hang"}');
      await assert.rejects(pollUntilDone(s.baseUrl, { timeoutMs: 800 }), /not done/);
      assert.equal((await request(s.baseUrl, 'POST', '/api/generate', '{"prompt":"x"}')).text, '{"error": "llm is running"}');
    } finally {
      killGroup(s.pid);
      await s.stop();
    }
  });

  it('§3 a tokenizer restarted under the runtime answers Invalid uid; the runtime dies on a json type_error (SIGABRT)', async () => {
    const s = await startSimStack({ axmodelNum: 2 });
    try {
      const port = s.tokenizer.port;
      await s.tokenizer.close();
      const fresh = await startTokenizerServer({ modelDir: s.modelDir, port, tokenizer: s.tokenizer.tokenizer });
      try {
        await request(s.baseUrl, 'POST', '/api/generate', '{"prompt":"after restart"}');
        const exit = await s.exited;
        assert.equal(exit.signal, 'SIGABRT');
        assert.match(s.stderr(), /terminate called after throwing an instance of 'nlohmann::json_abi_v3_11_2::detail::type_error'\n {2}what\(\): {2}\[json\.exception\.type_error\.302\] type must be array, but is null/);
      } finally {
        await fresh.close();
      }
    } finally {
      await s.stop().catch(() => undefined);
    }
  });

  it('§2.2/§2.4 AX650_SIM_LOAD_STALL: after the middle layer no output at all and the port stays closed for the stall, then the load goes on and the server runs', async () => {
    const modelDir = await makeSimModelDir(4);
    const tokenizer = await startTokenizerServer({ modelDir, port: 0 });
    const port = await freePort();
    const sim = spawnSim({ modelDir, args: vendorArgs(tokenizer.url, 4), env: { ...simulatorTestEnv, AX650_SIM_PORT: String(port), AX650_SIM_LOAD_STALL: '3000' } });
    try {
      // axmodel_num 4: the stall sits before layer 2, right after "init 1 axmodel ok".
      await sim.waitFor(/init 1 axmodel ok/);
      const atStall = sim.stdout();
      // A negative check needs a window: 1 s inside a 3 s stall, probing the port all along.
      const windowEnd = Date.now() + 1000;
      let probes = 0;
      while (Date.now() < windowEnd) {
        assert.equal(await refused(port), true, 'the port stays closed during the stall');
        probes++;
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.ok(probes > 0);
      assert.equal(sim.stdout(), atStall, 'no progress line during the stall');
      await sim.waitFor(/init 2 axmodel ok[\s\S]*LLM init ok[\s\S]*Server running on port/);
      await waitForHttp(`http://127.0.0.1:${port}/api/generate_provider`, sim.exited);
    } finally {
      await stopSim(sim);
      await tokenizer.close();
      await rm(modelDir, { recursive: true, force: true });
    }
    assert.equal(isAlive(sim.pid), false);
  });

  it('§2.2 (simulator) its own tokenizer.json is parsed before the first init line, so nothing but the stall knob silences the load: a corrupt file fails with empty stdout', async () => {
    const modelDir = await makeSimModelDir(2);
    const tokenizer = await startTokenizerServer({ modelDir, port: 0 });
    try {
      await writeFile(path.join(modelDir, 'qwen3_tokenizer', 'tokenizer.json'), '{"truncated":');
      const sim = spawnSim({ modelDir, args: vendorArgs(tokenizer.url, 2), env: { ...simulatorTestEnv, _STDBUF_O: 'L', AX650_SIM_PORT: String(await freePort()) } });
      const exit = await sim.exited;
      assert.deepEqual(exit, { code: 2, signal: null });
      assert.equal(sim.stdout(), '', 'no init line was printed before the parse');
      assert.match(sim.stderr(), /^ax650-sim: cannot load qwen3_tokenizer\/ from /);
      assert.equal(isAlive(sim.pid), false);
    } finally {
      await tokenizer.close();
      await rm(modelDir, { recursive: true, force: true });
    }
  });

  it('§2.4 tokenizer up but failing at init: a dropped /get_uid is caught (stderr "bad optional access"), retried after 1 s with "get uid failed, try again 9/10", and the load goes on', async () => {
    let dropped = false;
    const s = await startRecordedSim({ intercept: ({ url }) => (url === '/get_uid' && !dropped ? ((dropped = true), 'drop') : undefined) });
    try {
      assert.equal(s.sim.stderr(), 'bad optional access\n');
      const out = strip(s.sim.stdout());
      assert.match(out, /connect http:\/\/127\.0\.0\.1:\d+ ok\n\[E\]\[ +Init\]\[ *\d+\]: get uid failed, try again 9\/10\n\[I\]\[ +Init\]\[ *\d+\]: uid: [0-9a-f-]{36}\n/);
      assert.equal(s.proxy.exchanges.filter((e) => e.url === '/get_uid').length, 1, 'one answered /get_uid after the dropped one');
    } finally {
      await s.stop();
    }
  });

  it('§2.4 tokenizer up but failing at init: a non-200 /bos_id fails Init at once: "get bos_id failed, status: 500", tokenizer.Init failed, lLaMa.Init failed, exit 255', async () => {
    const s = await spawnRecordedSim({ intercept: ({ url }) => (url.startsWith('/bos_id') ? { status: 500, body: '' } : undefined) });
    try {
      assert.deepEqual(await s.sim.exited, { code: 255, signal: null });
      const out = strip(s.sim.stdout());
      assert.match(out, /\[E\]\[ +Init\]\[ *\d+\]: get bos_id failed, status: 500\n\[E\]\[ +Init\]\[ *\d+\]: tokenizer\.Init\(http:\/\/127\.0\.0\.1:\d+\) failed\n\[E\]\[ +main\]\[ *\d+\]: lLaMa\.Init failed\n$/);
      assert.doesNotMatch(out, /eos_id/);
    } finally {
      await s.stop();
    }
  });
});

/** A hung worker never lets SIGINT finish (Worker::Stop joins it), so hung tests skip stop()'s 5 s grace. */
function killGroup(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

async function waitUntil(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 10));
  }
}
