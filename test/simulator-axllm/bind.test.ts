import assert from 'node:assert/strict';
import * as os from 'node:os';
import { describe, it } from 'node:test';
import { startAxllm } from './helpers';

/** This host's own non-loopback IPv4 address, if it has one (never leaves the machine). */
function ownAddress(): string | undefined {
  return Object.values(os.networkInterfaces()).flatMap((l) => l ?? []).find((a) => a.family === 'IPv4' && !a.internal)?.address;
}

async function answers(url: string): Promise<boolean> {
  return fetch(url, { signal: AbortSignal.timeout(2000) }).then((r) => r.status === 200, () => false);
}

describe('axllm listen address (§2: ServerOptions.host)', () => {
  it('§2 the simulator binds 127.0.0.1 by default; AX650_SIM_BIND=0.0.0.0 binds every address like the real server and says so', async (t) => {
    const own = ownAddress();
    for (const bind of ['127.0.0.1', '0.0.0.0']) {
      const run = await startAxllm({ dirOpts: { axmodelNum: 1 }, env: bind === '0.0.0.0' ? { AX650_SIM_BIND: bind } : {} });
      try {
        assert.match(run.sim.stdout(), new RegExp(`OpenAI API Server starting on http://${bind.replace(/\./g, '\\.')}:${run.port}\\n`));
        if (own !== undefined) {
          assert.match(run.sim.stdout(), new RegExp(`GET  http://${own.replace(/\./g, '\\.')}:${run.port}/health\\n`), 'API URLs list every IPv4');
          assert.equal(await answers(`http://${own}:${run.port}/health`), bind === '0.0.0.0');
        }
      } finally {
        await run.stop();
      }
    }
    if (own === undefined) t.diagnostic('no non-loopback IPv4 on this host: exposure not checked');
  });
});
