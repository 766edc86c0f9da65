import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { startTokenizerServer, type TokenizerServer } from '../../lib/tokenizer/server';
import { makeTokenizerModelDir } from '../helpers/tokenizer-dir';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function getUid(agent: Agent, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/get_uid', agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve(String((JSON.parse(body) as { uid: unknown }).uid)));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('uid sessions are bounded (the vendor leaks one per /get_uid)', () => {
  let server: TokenizerServer;
  let cleanup: () => Promise<void>;
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });

  before(async () => {
    const model = await makeTokenizerModelDir();
    cleanup = model.cleanup;
    server = await startTokenizerServer({ modelDir: model.dir, port: 0, maxSessions: 16 });
  });
  after(async () => {
    agent.destroy();
    await server.close();
    await cleanup();
  });

  it('10,000 /get_uid calls keep 16 sessions, evict the least recently used, and bound the heap', async () => {
    const evicted = await getUid(agent, server.port);
    const kept = await getUid(agent, server.port);
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    let last = '';
    for (let batch = 0; batch < 1000; batch++) {
      const uids = await Promise.all(Array.from({ length: 10 }, () => getUid(agent, server.port)));
      last = uids.at(-1) ?? '';
      assert.ok(server.sessionCount <= 16);
      // Using a uid makes it the most recently used: a runtime that talks between probes keeps its session.
      await fetch(`${server.url}/eos_id?uid=${kept}`).then((r) => r.text());
    }
    gc();
    const growth = process.memoryUsage().heapUsed - heapBefore;
    assert.equal(server.sessionCount, 16);
    assert.ok(growth < 8 * 1024 * 1024, `heap grew by ${(growth / 1048576).toFixed(1)} MiB`);
    assert.equal(await fetch(`${server.url}/eos_id?uid=${last}`).then((r) => r.text()), '{"eos_id": 151645}');
    assert.equal(await fetch(`${server.url}/eos_id?uid=${kept}`).then((r) => r.text()), '{"eos_id": 151645}');
    assert.equal(await fetch(`${server.url}/eos_id?uid=${evicted}`).then((r) => r.text()), '{"error": "Invalid uid"}');
  });
});
