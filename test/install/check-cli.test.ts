/**
 * Issue #17.3: `ax650-check`, the bin installed with the package, run as a user runs it. Against the
 * simulator it prints a complete report and exits 0 with nothing left running; against a broken model
 * folder it exits non-zero and says what is wrong in words.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink, unlink } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { simulatorTestEnv } from '../../simulator/env';
import { createSimModelDir } from '../../simulator/model-dir';
import { repoRoot } from '../helpers/node-red-process';
import { processesUnder } from './packed';

const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { bin?: Record<string, string> };

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function check(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const bin = path.join(repoRoot, pkg.bin?.['ax650-check'] ?? 'missing-bin');
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { env: { ...process.env, ...simulatorTestEnv, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

const LABELS = ['runtime kind', 'mode', 'binary', 'model folder', 'model', 'card', 'CMM', 'load', 'first token', 'tokens/s', 'stop', 'restart', 'tokenizer', 'orphans'];

test('ax650-check --simulator prints a complete report and exits 0, leaving no process behind', async () => {
  const run = await check(['--simulator'], { AX650_SIM_TOKENS_PER_SEC: '40' });
  assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
  for (const label of LABELS) assert.match(run.stdout, new RegExp(`^\\s+(ok  |WARN|    ) ${label.replace('/', '\\/')}\\s`, 'm'), `report line "${label}":\n${run.stdout}`);
  assert.match(run.stdout, /^ax650-check report: @axnpu\/node-red-ax650 \d+\.\d+\.\d+, Node v/m);
  assert.match(run.stdout, /mode\s+simulator \(asked for\)/);
  assert.match(run.stdout, /load\s+ready after \d+ ms/);
  assert.match(run.stdout, /stop\s+stopped mid-reply after \d+ tokens, ended \d+ ms after the stop \(abort\)/);
  assert.match(run.stdout, /restart\s+pid \d+ → \d+ in \d+ ms, crashes counted 0/);
  assert.match(run.stdout, /tokenizer\s+.*round trip 11\/11/);
  assert.match(run.stdout, /orphans\s+none \(2 runtime process\(es\) started, all gone\)/);
  assert.match(run.stdout, /^Result: PASS$/m);
  const folder = /model folder\s+(\S+)/.exec(run.stdout)?.[1] ?? '';
  assert.ok(folder.length > 0);
  assert.deepEqual(processesUnder(folder), [], 'nothing runs from the simulator folder');
});

test('ax650-check on a broken folder exits 1 and names the missing file', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ax650-check-broken-'));
  try {
    await createSimModelDir(dir, { axmodelNum: 3 });
    await unlink(path.join(dir, 'qwen3-4b-ax650', 'qwen3_p128_l1_together.axmodel'));
    const run = await check(['--simulator', dir]);
    assert.equal(run.code, 1, `${run.stdout}\n${run.stderr}`);
    assert.match(run.stdout, /FAIL load\s+MODEL_FILES_MISSING: .*qwen3_p128_l1_together\.axmodel/);
    assert.match(run.stdout, /^Result: FAIL \(1\): load: MODEL_FILES_MISSING/m);
    assert.deepEqual(processesUnder(dir), [], 'nothing left running');

    const empty = path.join(dir, 'qwen3-4b-ax650');
    const notAFolder = await check(['--simulator', empty]);
    assert.equal(notAFolder.code, 1);
    assert.match(notAFolder.stdout, /FAIL model folder\s+.*has no qwen3_tokenizer\/tokenizer\.json: not a model folder/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('ax650-check with a wrong option exits 2 with the usage', async () => {
  const run = await check(['--frobnicate']);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /unknown option --frobnicate\nusage: ax650-check/);
});

test('ax650-check --hardware reports the card and its CMM from axcl-smi (a vendor-layout folder whose binary execs the simulator, the fake axcl-smi on PATH)', async (t) => {
  if (!(await portFree(8000))) {
    t.skip('port 8000 is taken on this machine (the vendor runtime always listens there)');
    return;
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ax650-check-hw-'));
  try {
    await createSimModelDir(path.join(dir, 'model'), { axmodelNum: 3 });
    await mkdir(path.join(dir, 'bin'));
    await symlink(path.join(repoRoot, 'dist', 'test', 'fixtures', 'axcl', 'axcl-smi'), path.join(dir, 'bin', 'axcl-smi'));
    const run = await check(['--hardware', '--binary', 'main_api_axcl_aarch64', path.join(dir, 'model')], {
      PATH: `${path.join(dir, 'bin')}${path.delimiter}${process.env['PATH'] ?? ''}`,
      AX650_SIM_TOKENS_PER_SEC: '40',
    });
    assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
    assert.match(run.stdout, /mode\s+hardware$/m);
    assert.match(run.stdout, /axcl-smi\s+axcl-smi V3\.4\.0\S*, driver V3\.4\.0\S*, 1 card\(s\)/);
    assert.match(run.stdout, /card 0\s+AX650N, firmware V3\.4\.0, PCIe 0000:01:00\.0/);
    assert.match(run.stdout, /CMM card 0\s+used 6348 MiB of \d+ MiB/);
    assert.match(run.stdout, /^Result: PASS$/m);
    assert.deepEqual(processesUnder(path.join(dir, 'model')), [], 'nothing left running');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '0.0.0.0', () => srv.close(() => resolve(true)));
  });
}
