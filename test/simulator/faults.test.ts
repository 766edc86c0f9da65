import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startTokenizerServer } from '../../lib/tokenizer/server';
import { isAlive, pollUntilDone, request, startSimStack } from '../helpers/sim';

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

  it('§2.4 AX650_SIM_LOAD_STALL: the load goes silent mid-way, then completes', async () => {
    const s = await startSimStack({ axmodelNum: 4, env: { AX650_SIM_LOAD_STALL: '300' } });
    try {
      assert.match(strip(s.stdout()), /init 3 axmodel ok[\s\S]*LLM init ok/);
    } finally {
      await s.stop();
    }
  });
});

async function waitUntil(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 10));
  }
}
