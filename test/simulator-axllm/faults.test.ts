import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort, isAlive, stopSim } from '../helpers/sim';
import { chatBody, makeAxllmFolder, post, spawnAxllm, startAxllm, strip, type AxllmFolder } from './helpers';

let folder: AxllmFolder;
before(async () => {
  folder = await makeAxllmFolder({ axmodelNum: 4 });
});
after(async () => {
  await folder.remove();
});

async function exitOf(env: Record<string, string>, f: AxllmFolder = folder): Promise<{ code: number | null; out: string; err: string }> {
  const sim = spawnAxllm(f, { port: await freePort(), env });
  const guard = setTimeout(() => sim.signal('SIGKILL'), 20_000);
  const exit = await sim.exited;
  clearTimeout(guard);
  return { code: exit.code, out: strip(sim.stdout()), err: strip(sim.stderr()) };
}

describe('axllm faults (§2 mem guard, §3 load failures, timing faults)', () => {
  it('§2/§3 mem guard: a preflight refusal on stderr then LLM.Init failed (255); mid-load too; mem_guard_enable=false loads anyway', async () => {
    const pre = await exitOf({ AX650_SIM_MEM_GUARD: 'preflight' });
    assert.equal(pre.code, 255);
    assert.match(pre.err, /^\[mem-guard\] UNSAFE: loading '.+' \(~\d+ MB\) would leave ~-?\d+ MB free \(< floor 128 MB\); remaining=\d+ MB\n\S+ ERR Init:\d+ \| mem-guard aborted device load: .+ \(est \d+ MB, remain \d+ MB\)\n\S+ ERR run_server_mode:\d+ \| LLM\.Init failed\n$/m);
    assert.doesNotMatch(pre.out, /init 0 axmodel ok/);
    const mid = await exitOf({ AX650_SIM_MEM_GUARD: 'midload' });
    assert.equal(mid.code, 255);
    assert.match(mid.out, /init 1 axmodel ok/);
    assert.match(mid.err, /ERR Init:\d+ \| mem-guard aborted mid-load: .+ \(remain \d+ MB\)\n/);
    const off = await makeAxllmFolder({ axmodelNum: 2, config: { mem_guard_enable: false } });
    try {
      const run = await startAxllm({ folder: off, env: { AX650_SIM_MEM_GUARD: 'preflight' } });
      await run.stop();
      assert.doesNotMatch(run.sim.stderr(), /mem-guard/);
    } finally {
      await off.remove();
    }
  });

  it('§3 a missing axmodel file: the AXCL bar still says ok, then "init axmodel(<file>) failed" and 255', async () => {
    const broken = await makeAxllmFolder({ axmodelNum: 4 });
    try {
      await rm(path.join(broken.dir, 'qwen3_p128_l2_together.axmodel'));
      const r = await exitOf({}, broken);
      assert.equal(r.code, 255);
      assert.match(r.out, /init 2 axmodel ok,devid\(0\)/);
      assert.match(r.err, new RegExp(`ERR Init:\\d+ \\| init axmodel\\(${broken.dir}/qwen3_p128_l2_together\\.axmodel\\) failed\\n`));
    } finally {
      await broken.remove();
    }
  });

  it('AX650_SIM_CRASH_AFTER_TOKENS kills the server mid-reply (SIGKILL, no message); the client sees the stream cut', async () => {
    const run = await startAxllm({ folder, env: { AX650_SIM_CRASH_AFTER_TOKENS: '5', AX650_SIM_REPLY_TOKENS: '20' } });
    const res: { text: string } | Error = await post(run.baseUrl, '/v1/chat/completions', chatBody(folder.modelName, 'crash', { stream: true })).catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))));
    assert.deepEqual(await run.sim.exited, { code: null, signal: 'SIGKILL' });
    if (!(res instanceof Error)) assert.doesNotMatch(res.text, /\[DONE\]/);
    await run.stop();
  });

  it('AX650_SIM_HANG=generate: the reply stops after the first piece and SIGINT cannot end the process (shutdown waits for the stream)', async () => {
    const run = await startAxllm({ folder, env: { AX650_SIM_HANG: 'generate' } });
    const controller = new AbortController();
    const res = await fetch(`${run.baseUrl}/v1/chat/completions`, { method: 'POST', body: JSON.stringify(chatBody(folder.modelName, 'hang', { stream: true })), signal: controller.signal });
    const reader = res.body?.getReader();
    const first = await reader?.read();
    assert.match(Buffer.from(first?.value ?? new Uint8Array()).toString(), /^data: \{"choices"/);
    run.sim.signal('SIGINT');
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(isAlive(run.sim.pid), true, 'still alive 1 s after SIGINT');
    // Killed before the client lets go: once the stream's handler ends (client gone) the pending shutdown
    // completes and the process exits 0, which is the real server's behaviour too, so the order matters here.
    run.sim.signal('SIGKILL');
    assert.deepEqual(await run.sim.exited, { code: null, signal: 'SIGKILL' });
    controller.abort();
    await stopSim(run.sim);
  });

  it('AX650_SIM_DEAD_CARD=generate prints the AXCL dead-card report and the reply never comes', async () => {
    const run = await startAxllm({ folder, env: { AX650_SIM_DEAD_CARD: 'generate' } });
    void post(run.baseUrl, '/v1/chat/completions', chatBody(folder.modelName, 'dead')).catch(() => undefined);
    await run.sim.waitFor(/device 1 is dead/);
    run.sim.signal('SIGKILL');
    await run.sim.exited;
    await stopSim(run.sim);
  });

  it('§4 an empty model reply: non-stream 400 (content "", model "gpt-4") after WRN "empty model response"; a stream gets only [DONE]', async () => {
    const run = await startAxllm({ folder, env: { AX650_SIM_REPLY_TOKENS: '0' } });
    try {
      const res = await post(run.baseUrl, '/v1/chat/completions', chatBody(folder.modelName, 'nothing'));
      assert.equal(res.status, 400);
      assert.equal((JSON.parse(res.text) as { model: string }).model, 'gpt-4');
      assert.match(run.sim.stderr(), /WRN operator\(\):\d+ \| Returning user-facing chat error: empty model response\n/);
      const stream = await post(run.baseUrl, '/v1/chat/completions', chatBody(folder.modelName, 'nothing', { stream: true }));
      assert.equal(stream.text, 'data: [DONE]\n\n');
    } finally {
      await run.stop();
    }
  });
});

