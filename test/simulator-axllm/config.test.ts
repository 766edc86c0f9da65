import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { freePort, stopSim } from '../helpers/sim';
import { chatBody, makeAxllmFolder, post, readSimLog, spawnAxllm, startAxllm, strip, type AxllmFolder } from './helpers';

async function withFolder(opts: Parameters<typeof makeAxllmFolder>[0], fn: (folder: AxllmFolder) => Promise<void>): Promise<void> {
  const folder = await makeAxllmFolder(opts);
  try {
    await fn(folder);
  } finally {
    await folder.remove();
  }
}

async function failsToInit(folder: AxllmFolder, env: Record<string, string> = {}): Promise<string> {
  const sim = spawnAxllm(folder, { port: await freePort(), env });
  // A simulator that does not fail would serve forever: end it, and the assertion below says why.
  const guard = setTimeout(() => sim.signal('SIGKILL'), 20_000);
  const exit = await sim.exited;
  clearTimeout(guard);
  assert.deepEqual(exit, { code: 255, signal: null }, sim.stderr());
  assert.match(sim.stderr(), /ERR run_server_mode:\d+ \| LLM\.Init failed\n$/);
  return strip(sim.stderr());
}

describe('axllm config.json and environment (§2)', () => {
  it('§2 a missing, unparsable or incomplete config.json is not fatal: "Using default configuration", then LLM.Init fails (255)', async () => {
    await withFolder({}, async (folder) => {
      const file = path.join(folder.dir, 'config.json');
      const original = await readFile(file, 'utf8');
      await rm(file);
      let err = await failsToInit(folder);
      assert.match(err, new RegExp(`ERR load_from_json:\\d+ \\| Config file not found: ${folder.dir}/config\\.json\\n.*ERR main:\\d+ \\| Failed to load config from: ${folder.dir}/config\\.json\\n.*ERR main:\\d+ \\| Using default configuration\\n`, 's'));
      await writeFile(file, '{"model_name": ');
      err = await failsToInit(folder);
      assert.match(err, /ERR load_from_json:\d+ \| Failed to parse config file: \[json\.exception\.parse_error\.101\].*\n.*Using default configuration\n/s);
      const config = JSON.parse(original) as Record<string, unknown>;
      delete config['tokenizer_type'];
      await writeFile(file, JSON.stringify(config));
      err = await failsToInit(folder);
      assert.match(err, /ERR load_from_json:\d+ \| Key not found: tokenizer_type\n.*Using default configuration\n.*ERR Init:\d+ \| create_tokenizer\(\) failed\n/s);
      await writeFile(file, JSON.stringify({ ...config, template_filename_axmodel: 5 }));
      err = await failsToInit(folder);
      assert.match(err, /Failed to parse config file: \[json\.exception\.type_error\.302\] type must be string, but is number\n/);
    });
  });

  it('§2 with only model_name missing (checked last) the model is served under the default name', async () => {
    await withFolder({ model: 'Qwen3-0.6B', config: { model_name: null } }, async (folder) => {
      const run = await startAxllm({ folder });
      try {
        assert.match(run.sim.stderr(), /Key not found: model_name\n.*Using default configuration\n/s);
        const models = (await (await fetch(`${run.baseUrl}/v1/models`)).json()) as { data: Array<{ id: string; max_token_len: number }> };
        assert.equal(models.data[0]?.id, 'AXERA-TECH/Qwen3-1.7B');
        assert.match(run.sim.stdout(), /^Models: AXERA-TECH\/Qwen3-1\.7B$/m);
      } finally {
        await run.stop();
      }
    });
  });

  it('§2 serve keys: config port (without --port), server_max_output_tokens clamps and shows in /v1/models, server_default_max_tokens, server_timeout_ms <= 0 warns', async () => {
    const port = await freePort();
    await withFolder({ config: { port, server_max_output_tokens: 5, server_default_max_tokens: 4, server_timeout_ms: 0 } }, async (folder) => {
      const sim = spawnAxllm(folder, { env: { AX650_SIM_LOG: folder.logFile } });
      try {
        await sim.waitFor(/^Models: /m);
        assert.match(sim.stdout(), new RegExp(`Starting server on port ${port} with model 'AXERA-TECH/Qwen3-1\\.7B'\\.\\.\\.\\n`));
        await sim.waitFor(/invalid server_timeout_ms=0, fallback to default 300000ms/, { stream: 'stderr' });
        const base = `http://127.0.0.1:${port}`;
        const deadline = Date.now() + 10_000;
        while ((await fetch(`${base}/health`).then((r) => r.status, () => 0)) !== 200) {
          assert.ok(Date.now() < deadline, 'listens on the config port');
          await new Promise((r) => setTimeout(r, 20));
        }
        const models = (await (await fetch(`${base}/v1/models`)).json()) as { data: Array<Record<string, unknown>> };
        assert.equal(models.data[0]?.['server_max_output_tokens'], 5);
        assert.equal((await post(base, '/v1/chat/completions', chatBody(folder.modelName, 'long', { max_tokens: 100 }))).status, 200);
        assert.match(sim.stdout(), /INF resolve_chat_output_max_tokens:\d+ \| Clamp max_tokens from 100 to 5 by config\n/);
        assert.equal((await post(base, '/v1/chat/completions', chatBody(folder.modelName, 'default'))).status, 200);
        const ends = (await readSimLog(folder.logFile)).filter((e) => e['event'] === 'run' && e['phase'] === 'end');
        assert.deepEqual(ends.map((e) => e['generated']), [5, 4]);
      } finally {
        await stopSim(sim);
      }
    });
  });

  it('§2 AXLLM_DEVICES overrides config devices (a card that is not there fails LLM.Init); AXLLM_LOG_FILE gets a copy of the log', async () => {
    await withFolder({}, async (folder) => {
      const err = await failsToInit(folder, { AXLLM_DEVICES: '1' });
      assert.match(err, /ERR Init:\d+ \| axcl_Init\(1\) failed\n/);
      const logFile = path.join(folder.root, 'axllm.log');
      const run = await startAxllm({ folder, env: { AXLLM_LOG_FILE: logFile } });
      await run.stop();
      const copy = await readFile(logFile, 'utf8');
      assert.match(copy, /^\d\d:\d\d:\d\d\.\d{3} INF Init:\d+ \| LLM init start\n/);
      assert.match(copy, /INF Init:\d+ \| LLM init ok\n/);
      assert.match(copy, /AXCLWorker exit with devid 0\n$/);
    });
  });
});
