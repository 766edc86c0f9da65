import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import * as os from 'node:os';
import { after, before, describe, it } from 'node:test';
import { startTokenizerServer, type TokenizerServer } from '../../lib/tokenizer/server';
import { parseCommandLine, usage } from '../../simulator/cmdline';
import { simulatorTestEnv } from '../../simulator/env';
import { isAlive, makeSimModelDir, spawnSim, vendorArgs, type ExitInfo } from '../helpers/sim';

let modelDir: string;
let tokenizer: TokenizerServer;

async function run(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Promise<ExitInfo & { stdout: string; stderr: string }> {
  const sim = spawnSim({ modelDir, args, env: { ...simulatorTestEnv, ...opts.env } });
  const timer = setTimeout(() => sim.signal('SIGKILL'), 20_000);
  const info = await sim.exited;
  clearTimeout(timer);
  assert.equal(isAlive(sim.pid), false);
  return { ...info, stdout: sim.stdout(), stderr: sim.stderr() };
}

const strip = (s: string): string => s.replace(/\x1b\[[0-9;]*m/g, '');

before(async () => {
  modelDir = await makeSimModelDir(4);
  tokenizer = await startTokenizerServer({ modelDir, port: 0 });
});

after(async () => {
  await tokenizer.close();
  await rm(modelDir, { recursive: true, force: true });
});

describe('simulator command line', () => {
  it('§1.2 --help prints the cmdline usage to stderr and exits 0', async () => {
    const r = await run(['--help']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^usage: \S*main_api_axcl_aarch64 --devices=string \[options\] \.\.\. \noptions:\n/);
    assert.match(r.stderr, /\n {6}--axmodel_num {18}num of axmodel\(for template\) \(int \[=22\]\)\n/);
    assert.match(r.stderr, /\n {2}-\?, --help {25}print this message\n$/);
  });

  it('§1.2 -? is the short form of --help', async () => {
    const r = await run(['-?']);
    assert.equal(r.code, 0);
    assert.match(r.stderr, /^usage: /);
  });

  it('§1.2 an unknown flag prints "undefined option" and the usage to stderr, exit 1 (interactive-only flags included)', async () => {
    for (const flag of ['--live_print', '--kvcache_path', '--prompt', '--continue', '--tokenizer_type']) {
      const r = await run([...vendorArgs(tokenizer.url, 4), flag, '1']);
      assert.equal(r.code, 1, flag);
      assert.equal(r.stderr.split('\n')[0], `undefined option: ${flag}`);
      assert.match(r.stderr, /\nusage: /);
      assert.equal(r.stdout, '');
    }
  });

  it('§1.2 --devices is required: "need option: --devices", exit 1', async () => {
    const args = vendorArgs(tokenizer.url, 4).slice(0, -2);
    const r = await run(args);
    assert.equal(r.code, 1);
    assert.equal(r.stderr.split('\n')[0], 'need option: --devices');
  });

  it('§1.2 no arguments at all: cmdline prints the usage and exits 0', async () => {
    const r = await run([]);
    assert.equal(r.code, 0);
    assert.match(r.stderr, /^usage: /);
  });

  it('§1.2 --use_mmap_load_embed takes 1|0 only (istream bool): true is an invalid value', async () => {
    const args = vendorArgs(tokenizer.url, 4).map((a, i, all) => (all[i - 1] === '--use_mmap_load_embed' ? 'true' : a));
    const r = await run(args);
    assert.equal(r.code, 1);
    assert.equal(r.stderr.split('\n')[0], 'option value is invalid: --use_mmap_load_embed=true');
    for (const ok of ['0', '1']) assert.equal(parseCommandLine('x', ['--devices', '0', '--use_mmap_load_embed', ok]).kind, 'run');
    assert.equal(parseCommandLine('x', ['--devices', '0', '--use_mmap_load_embed', '2']).kind, 'exit');
  });

  it('§1.2 int flags are read by stringstream and must be consumed entirely', () => {
    const bad = parseCommandLine('x', ['--devices', '0', '--axmodel_num', '36x']);
    assert.deepEqual(bad, { kind: 'exit', code: 1, stderr: `option value is invalid: --axmodel_num=36x\n${usage('x')}` });
    const good = parseCommandLine('x', ['--devices=0', '--axmodel_num', ' 36']);
    assert.equal(good.kind === 'run' && good.args.axmodelNum, 36);
    assert.equal(parseCommandLine('x', ['--devices', '0', '--axmodel_num']).kind === 'exit', true);
  });

  it('§1.2 defaults are the AXCL LLMAttrType ones (system prompt, tokenizer URL, 22 layers)', () => {
    const r = parseCommandLine('x', ['--devices', '0']);
    assert.equal(r.kind, 'run');
    if (r.kind !== 'run') return;
    assert.equal(r.args.systemPrompt, 'You are Qwen, created by Alibaba Cloud. You are a helpful assistant.');
    assert.equal(r.args.urlTokenizerModel, 'http://127.0.0.1:12345');
    assert.equal(r.args.axmodelNum, 22);
    assert.equal(r.args.useMmapLoadEmbed, false);
  });

  it('§1.2 a --devices item that is not a number dies in std::stoi (uncaught: terminate, SIGABRT)', async () => {
    const args = vendorArgs(tokenizer.url, 4).map((a, i, all) => (all[i - 1] === '--devices' ? 'card0' : a));
    const r = await run(args);
    assert.equal(r.signal, 'SIGABRT');
    assert.match(r.stderr, /terminate called after throwing an instance of 'std::invalid_argument'\n {2}what\(\): {2}stoi/);
  });

  it('§1.2 a tokenizer URL without a port fails the connect test at once: exit 255', async () => {
    const args = vendorArgs('http://127.0.0.1', 4);
    const r = await run(args);
    assert.equal(r.code, 255);
    const out = strip(r.stdout);
    assert.doesNotMatch(out, /try again in/);
    assert.match(out, /\[E\]\[ +Init\]\[ *\d+\]: connect http:\/\/127\.0\.0\.1 failed\n/);
    assert.match(out, /tokenizer\.Init\(http:\/\/127\.0\.0\.1\) failed\n/);
    assert.match(out, /\[E\]\[ +main\]\[ *\d+\]: lLaMa\.Init failed\n/);
  });

  it('§1.3 model paths are relative to the working directory: another CWD fails on the embed file, exit 255', async () => {
    const { spawn } = await import('node:child_process');
    const child = spawn(`${modelDir}/main_api_axcl_aarch64`, vendorArgs(tokenizer.url, 4), { cwd: os.tmpdir(), env: { PATH: process.env['PATH'] ?? '', ...simulatorTestEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    const code = await new Promise<number | null>((r) => child.once('close', (c) => r(c)));
    assert.equal(child.pid !== undefined && isAlive(child.pid), false);
    assert.equal(code, 255);
    assert.match(strip(out), /embed_selector\.Init\(qwen3-4b-ax650\/model\.embed_tokens\.weight\.bfloat16\.bin, 151936, 2560\) failed\n/);
    assert.match(strip(out), /lLaMa\.Init failed/);
  });

  it('§1.3 a missing layer file: "init axmodel(<path>) failed", lLaMa.Init failed, exit 255', async () => {
    const { unlink } = await import('node:fs/promises');
    await unlink(`${modelDir}/qwen3-4b-ax650/qwen3_p128_l2_together.axmodel`);
    const r = await run(vendorArgs(tokenizer.url, 4));
    assert.equal(r.code, 255);
    const out = strip(r.stdout);
    assert.match(out, /init 1 axmodel ok,devid\(0\)/);
    assert.match(out, /\[E\]\[ +Init\]\[ *\d+\]: init axmodel\(qwen3-4b-ax650\/qwen3_p128_l2_together\.axmodel\) failed\n/);
    assert.doesNotMatch(out, /Server running/);
  });
});
