/**
 * #17.4: the simulator listens on 127.0.0.1 by default (a laptop running the demo is not exposed),
 * and on 0.0.0.0 like the real binary only when AX650_SIM_BIND says so. The bound address is read
 * from the kernel's socket table, not from what the simulator claims.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { runtimeReachableFromNetwork } from '../../lib/health/exposure';
import { startSimStack } from '../helpers/sim';

/** The local addresses of the IPv4 sockets listening on `port` (from /proc/net/tcp: hex address, state 0A = LISTEN). */
function listeningAddresses(port: number): string[] {
  const rows = readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1);
  const out: string[] = [];
  for (const row of rows) {
    const cols = row.trim().split(/\s+/);
    const local = cols[1];
    if (!local || cols[3] !== '0A') continue;
    const [hexAddr, hexPort] = local.split(':') as [string, string];
    if (parseInt(hexPort, 16) !== port) continue;
    // Little-endian bytes: 0100007F is 127.0.0.1.
    out.push([3, 2, 1, 0].map((i) => parseInt(hexAddr.slice(i * 2, i * 2 + 2), 16)).join('.'));
  }
  return out;
}

test('the simulator binds 127.0.0.1 by default', async () => {
  const sim = await startSimStack();
  try {
    assert.deepEqual(listeningAddresses(sim.port), ['127.0.0.1']);
    assert.equal((await fetch(`${sim.baseUrl}/api/generate_provider`)).status, 200, 'reachable on loopback');
  } finally {
    await sim.stop();
  }
});

test('AX650_SIM_BIND=0.0.0.0 gives the real binary\'s every-interface bind', async () => {
  const sim = await startSimStack({ env: { AX650_SIM_BIND: '0.0.0.0' } });
  try {
    assert.deepEqual(listeningAddresses(sim.port), ['0.0.0.0']);
  } finally {
    await sim.stop();
  }
});

test('the health rule knows which runtimes are reachable from the network', () => {
  assert.equal(runtimeReachableFromNetwork({ simulator: false, simulatorEnv: {} }, {}), true, 'the vendor binary always binds 0.0.0.0');
  assert.equal(runtimeReachableFromNetwork({ simulator: true, simulatorEnv: {} }, {}), false);
  assert.equal(runtimeReachableFromNetwork({ simulator: true, simulatorEnv: { AX650_SIM_BIND: '0.0.0.0' } }, {}), true);
  assert.equal(runtimeReachableFromNetwork({ simulator: true, simulatorEnv: {} }, { AX650_SIM_BIND: '0.0.0.0' }), true, 'from the environment Node-RED runs in');
  assert.equal(runtimeReachableFromNetwork({ simulator: true, simulatorEnv: { AX650_SIM_BIND: '127.0.0.2' } }, {}), false);
});
