import assert from 'node:assert/strict';
import * as net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { freePort, isAlive, stopSim, waitForHttp } from '../helpers/sim';
import { makeAxllmFolder, spawnAxllm, strip, type AxllmFolder } from './helpers';

let folder: AxllmFolder;
before(async () => {
  folder = await makeAxllmFolder();
});
after(async () => {
  await folder.remove();
});

const LOG_LINE = /^\d\d:\d\d:\d\d\.\d{3} (INF|NTC|WRN|ERR) [\w():]+:\d+ \| /;

describe('axllm command line and exit codes (§1)', () => {
  it('§1 version and --help print to stdout and exit 0; fewer than two args print the usage and exit 255', async () => {
    const version = spawnAxllm(folder, { args: ['version'] });
    assert.deepEqual(await version.exited, { code: 0, signal: null });
    assert.match(version.stdout(), /^axllm version\n {2}git commit {7}: /);
    const help = spawnAxllm(folder, { args: ['--help'] });
    assert.deepEqual(await help.exited, { code: 0, signal: null });
    assert.match(help.stdout(), /^Usage:\n {2}\S*axllm version .*\n {2}\S*axllm run <model_path> \[options\].*\n {2}\S*axllm serve <model_path> \[options\]/);
    const bare = spawnAxllm(folder, { args: ['serve'] });
    assert.deepEqual(await bare.exited, { code: 255, signal: null });
    assert.equal(bare.stdout(), help.stdout());
    assert.equal(bare.stderr(), '');
  });

  it('§1 a missing model dir logs ERR on stderr and exits 255; an unknown mode exits 255 with the usage', async () => {
    const missing = spawnAxllm(folder, { args: ['serve', `${folder.dir}-nope`] });
    assert.equal((await missing.exited).code, 255);
    assert.match(missing.stderr(), LOG_LINE);
    assert.match(missing.stderr(), /ERR main:\d+ \| Model path does not exist: .*-nope\n$/);
    assert.equal(missing.stdout(), '');
    const unknown = spawnAxllm(folder, { args: ['chat', folder.dir] });
    assert.equal((await unknown.exited).code, 255);
    assert.match(unknown.stderr(), /ERR main:\d+ \| Unknown mode: chat\n/);
    assert.match(unknown.stdout(), /^Usage:\n/);
  });

  it('§1 `--port abc` dies in std::stoi: uncaught std::invalid_argument, SIGABRT (134 in a shell)', async () => {
    const sim = spawnAxllm(folder, { args: ['serve', folder.dir, '--port', 'abc'] });
    assert.deepEqual(await sim.exited, { code: null, signal: 'SIGABRT' });
    assert.match(sim.stderr(), /terminate called after throwing an instance of 'std::invalid_argument'\n {2}what\(\): {2}stoi\n/);
  });

  it('§1 a busy port: ERR "Port N is unavailable: port is already in use" and 255 before anything loads', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const address = blocker.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      const sim = spawnAxllm(folder, { port });
      assert.equal((await sim.exited).code, 255);
      assert.match(sim.stderr(), new RegExp(`ERR run_server_mode:\\d+ \\| Port ${port} is unavailable: port is already in use\\n$`));
      assert.doesNotMatch(sim.stdout(), /LLM init start/);
    } finally {
      blocker.close();
    }
    const invalid = spawnAxllm(folder, { args: ['serve', folder.dir, '--port', '70000'] });
    assert.equal((await invalid.exited).code, 255);
    assert.match(invalid.stderr(), /Port 70000 is unavailable: invalid port \(must be 1-65535\)/);
  });

  it('§1 LLM.Init failing exits 255 after "LLM.Init failed"; a failing axclInit exits with the SDK code, silently', async () => {
    const init = spawnAxllm(folder, { port: await freePort(), env: { AX650_SIM_INIT_FAIL: 'post' } });
    assert.equal((await init.exited).code, 255);
    assert.match(strip(init.stderr()), /ERR Init:\d+ \| init post axmodel\(.*qwen3_post\.axmodel\) failed\n.*ERR run_server_mode:\d+ \| LLM\.Init failed\n$/s);
    const axcl = spawnAxllm(folder, { port: await freePort(), env: { AX650_SIM_INIT_FAIL: 'axcl' } });
    assert.equal((await axcl.exited).code, 0x0b);
    assert.equal(axcl.stdout() + axcl.stderr(), '');
  });

  it('§1 listen failing after the load (port taken in the race window): Deinit, exit 0', async () => {
    const port = await freePort();
    const sim = spawnAxllm(folder, { port, env: { AX650_SIM_LOAD_MS: '800' } });
    await sim.waitFor(/LLM init start/);
    const thief = net.createServer();
    await new Promise<void>((r) => thief.listen(port, '127.0.0.1', () => r()));
    try {
      assert.deepEqual(await sim.exited, { code: 0, signal: null });
      assert.match(sim.stdout(), /Models: AXERA-TECH\/Qwen3-1\.7B\n.*AXCLWorker exit with devid 0\n$/s);
    } finally {
      thief.close();
    }
  });

  it('§1 SIGINT while serving: Deinit lines, exit 0, pid gone; SIGINT during the load is lost', async () => {
    const port = await freePort();
    const sim = spawnAxllm(folder, { port, env: { AX650_SIM_LOAD_MS: '600' } });
    await sim.waitFor(/tokenizer init ok/);
    sim.signal('SIGINT');
    await sim.waitFor(/^Models: /m);
    await waitForHttp(`http://127.0.0.1:${port}/health`, sim.exited);
    const info = await stopSim(sim);
    assert.deepEqual(info, { code: 0, signal: null });
    assert.match(sim.stdout(), /INF Deinit:\d+ \| \[cmm-sentry\] Deinit: CMM balanced \(baseline \d+ MB, now \d+ MB\)\n.*INF run:\d+ \| AXCLWorker exit with devid 0\n$/s);
    assert.equal(isAlive(sim.pid), false);
  });

  it('§3 signals: only SIGINT is handled (SIGTERM kills without Deinit); AX650_SIM_PR66=1 gives SIGTERM the graceful path', async () => {
    for (const [env, expected] of [[{}, { code: null, signal: 'SIGTERM' }], [{ AX650_SIM_PR66: '1' }, { code: 0, signal: null }]] as const) {
      const port = await freePort();
      const sim = spawnAxllm(folder, { port, env });
      await sim.waitFor(/^Models: /m);
      await waitForHttp(`http://127.0.0.1:${port}/health`, sim.exited);
      sim.signal('SIGTERM');
      assert.deepEqual(await sim.exited, expected);
      if (expected.code === 0) assert.match(sim.stdout(), /AXCLWorker exit with devid 0\n$/);
      else assert.doesNotMatch(sim.stdout(), /Deinit/);
    }
  });
});
