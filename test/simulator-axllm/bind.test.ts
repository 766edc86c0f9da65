import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as os from 'node:os';
import { describe, it } from 'node:test';
import { startAxllm } from './helpers';

/** This host's own non-loopback IPv4 address, if it has one (only compared as text: never connected to). */
function ownAddress(): string | undefined {
  return Object.values(os.networkInterfaces()).flatMap((l) => l ?? []).find((a) => a.family === 'IPv4' && !a.internal)?.address;
}

/**
 * The IPv4 addresses a listening TCP socket on `port` is bound to, read from the kernel's table
 * (/proc/net/tcp: local address as little-endian hex, state 0A = LISTEN), so the test sees the bind
 * without sending traffic to any address but loopback.
 */
function listenAddresses(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  return readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length > 3 && f[3] === '0A' && f[1]!.endsWith(':' + hexPort))
    .map((f) => {
      const hex = f[1]!.split(':')[0]!;
      return [3, 2, 1, 0].map((i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16)).join('.');
    });
}

describe('axllm listen address (§2: ServerOptions.host)', () => {
  it('§2 the simulator binds 127.0.0.1 by default; AX650_SIM_BIND=0.0.0.0 binds every address like the real server and says so', async () => {
    const own = ownAddress();
    for (const bind of ['127.0.0.1', '0.0.0.0']) {
      const run = await startAxllm({ dirOpts: { axmodelNum: 1 }, env: bind === '0.0.0.0' ? { AX650_SIM_BIND: bind } : {} });
      try {
        assert.match(run.sim.stdout(), new RegExp(`OpenAI API Server starting on http://${bind.replace(/\./g, '\\.')}:${run.port}\\n`));
        if (own !== undefined) {
          assert.match(run.sim.stdout(), new RegExp(`GET  http://${own.replace(/\./g, '\\.')}:${run.port}/health\\n`), 'API URLs list every IPv4');
        }
        assert.deepEqual(listenAddresses(run.port), [bind]);
      } finally {
        await run.stop();
      }
    }
  });
});
