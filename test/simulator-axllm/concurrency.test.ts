import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { chatBody, makeAxllmFolder, post, sseData, startAxllm } from './helpers';

const CHAT = '/v1/chat/completions';

async function health(baseUrl: string): Promise<number> {
  const body = (await (await fetch(`${baseUrl}/health`)).json()) as { concurrency: number };
  return body.concurrency;
}

describe('axllm concurrency, timeouts and disconnects (§5)', () => {
  it('§5 streams free the slot before the first byte: two streams overlap on the engine, /health says 0, the log records the overlap', async () => {
    const run = await startAxllm({ env: { AX650_SIM_TOKENS_PER_SEC: '40', AX650_SIM_REPLY_TOKENS: '30' } });
    try {
      const model = run.folder.modelName;
      const a = post(run.baseUrl, CHAT, chatBody(model, 'first', { stream: true }));
      await run.sim.waitFor(/ttft: /);
      const b = post(run.baseUrl, CHAT, chatBody(model, 'second', { stream: true }));
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(await health(run.baseUrl), 0);
      const [ra, rb] = await Promise.all([a, b]);
      assert.equal(ra.status, 200);
      assert.equal(rb.status, 200);
      assert.equal(sseData(ra.text).at(-1), '[DONE]');
      assert.equal(sseData(rb.text).at(-1), '[DONE]');
      const log = await run.readLog();
      const overlaps = log.filter((e) => e['event'] === 'overlap');
      assert.equal(overlaps.length, 1);
      assert.equal(overlaps[0]?.['active'], 2);
    } finally {
      await run.stop();
    }
  });

  it('§5 a second NON-stream request waits 5 s for the slot and gets 503 rate_limit_exceeded; /health shows the held slot', async () => {
    const run = await startAxllm({ env: { AX650_SIM_TOKENS_PER_SEC: '5', AX650_SIM_REPLY_TOKENS: '33' } });
    try {
      const model = run.folder.modelName;
      const first = post(run.baseUrl, CHAT, chatBody(model, 'long one'));
      await run.sim.waitFor(/ttft: /);
      assert.equal(await health(run.baseUrl), 1);
      const t0 = Date.now();
      const second = await post(run.baseUrl, CHAT, chatBody(model, 'second'));
      const waited = Date.now() - t0;
      assert.equal(second.status, 503);
      assert.deepEqual(JSON.parse(second.text), { error: { code: 'rate_limit_exceeded', message: 'Rate limit exceeded', type: 'rate_limit_exceeded' } });
      assert.ok(waited >= 4900 && waited < 6500, `waited ${waited} ms`);
      assert.equal((await first).status, 200);
      assert.equal((await run.readLog()).filter((e) => e['event'] === 'overlap').length, 0);
    } finally {
      await run.stop();
    }
  });

  it('§5 a client that disconnects mid-stream does not stop the generation: it runs to the end, logging "provider not writable"', async () => {
    const run = await startAxllm({ env: { AX650_SIM_TOKENS_PER_SEC: '50', AX650_SIM_REPLY_TOKENS: '25' } });
    try {
      const controller = new AbortController();
      const res = await fetch(`${run.baseUrl}${CHAT}`, { method: 'POST', body: JSON.stringify(chatBody(run.folder.modelName, 'bye', { stream: true })), signal: controller.signal });
      const reader = res.body?.getReader();
      await reader?.read();
      controller.abort();
      await run.sim.waitFor(/provider not writable/, { stream: 'stderr' });
      await run.sim.waitFor(/hit eos/);
      // The console line and the request log's entry are written apart: wait for the entry, not a fixed time.
      let end: Record<string, unknown> | undefined;
      for (const deadline = Date.now() + 5000; !end && Date.now() < deadline; await new Promise((r) => setTimeout(r, 20))) {
        end = (await run.readLog()).find((e) => e['event'] === 'run' && e['phase'] === 'end');
      }
      assert.equal(end?.['generated'], 25);
      assert.equal(end?.['reason'], 'eos');
    } finally {
      await run.stop();
    }
  });

  it('§5 temperature 0 is turned into 1.0 (sampling) by default; AX650_SIM_TEMP0_BUG=0 makes it greedy; no temperature and no top_p is greedy', async () => {
    const folder = await makeAxllmFolder();
    try {
      for (const [bug, expected] of [['1', { mode: 'sample', temperature: 1, top_p: null }], ['0', { mode: 'greedy', temperature: 0, top_p: null }]] as const) {
        const run = await startAxllm({ folder, env: { AX650_SIM_TEMP0_BUG: bug } });
        try {
          const model = folder.modelName;
          assert.equal((await post(run.baseUrl, CHAT, chatBody(model, 'zero', { temperature: 0 }))).status, 200);
          const greedy = [await post(run.baseUrl, CHAT, chatBody(model, 'same')), await post(run.baseUrl, CHAT, chatBody(model, 'same'))];
          assert.equal(greedy[0]?.text.replace(/"(created|id)": [^,]+,/g, ''), greedy[1]?.text.replace(/"(created|id)": [^,]+,/g, ''));
          const chats = (await run.readLog()).filter((e) => e['event'] === 'chat').slice(-3);
          assert.deepEqual(chats.map((c) => c['sampling']), [expected, { mode: 'greedy', temperature: null, top_p: null }, { mode: 'greedy', temperature: null, top_p: null }]);
        } finally {
          await run.stop();
        }
      }
    } finally {
      await folder.remove();
    }
  });

  it('§5 server_timeout_ms: a non-stream request gets 504 and the generation goes on; an older stream gets [DONE] mid-generation', async () => {
    const folder = await makeAxllmFolder();
    const config = JSON.parse(await import('node:fs/promises').then((fs) => fs.readFile(path.join(folder.dir, 'config.json'), 'utf8'))) as Record<string, unknown>;
    await writeFile(path.join(folder.dir, 'config.json'), JSON.stringify({ ...config, server_timeout_ms: 400 }));
    const run = await startAxllm({ folder, env: { AX650_SIM_TOKENS_PER_SEC: '20', AX650_SIM_REPLY_TOKENS: '20' } });
    try {
      const model = folder.modelName;
      const slow = await post(run.baseUrl, CHAT, chatBody(model, 'slow'));
      assert.equal(slow.status, 504);
      assert.deepEqual(JSON.parse(slow.text), { error: { code: 'server_error', message: 'Request timeout', type: 'server_error' } });
      await run.sim.waitFor(/hit eos/);
      const stream = await post(run.baseUrl, CHAT, chatBody(model, 'slow stream', { stream: true }));
      const data = sseData(stream.text);
      assert.equal(data.at(-1), '[DONE]');
      assert.ok(!data.some((d) => d.includes('"finish_reason":"stop"')), 'closed before the finish chunk');
      await run.sim.waitFor(/hit eos(.|\n)*hit eos/);
    } finally {
      await run.stop();
      await folder.remove();
    }
  });

  it('§3/§5 SIGINT during a stream does not interrupt it: the stream ends normally, then Deinit and exit 0', async () => {
    const run = await startAxllm({ env: { AX650_SIM_TOKENS_PER_SEC: '30', AX650_SIM_REPLY_TOKENS: '20' } });
    const res = post(run.baseUrl, CHAT, chatBody(run.folder.modelName, 'keep going', { stream: true }));
    await run.sim.waitFor(/ttft: /);
    run.sim.signal('SIGINT');
    const reply = await res;
    const data = sseData(reply.text);
    assert.equal(data.at(-1), '[DONE]');
    assert.ok(data.some((d) => d.includes('"finish_reason":"stop"')));
    const end = (await run.readLog()).find((e) => e['event'] === 'run' && e['phase'] === 'end');
    assert.equal(end?.['generated'], 20, 'the whole reply was generated');
    assert.deepEqual(await run.stop(), { code: 0, signal: null });
    assert.match(run.sim.stdout(), /hit eos(.|\n)*AXCLWorker exit with devid 0\n$/);
  });
});
