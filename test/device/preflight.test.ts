import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import type { Ax650Error } from '../../lib/errors';
import { checkBinary, checkModelFiles, checkPortFree, collectPreflightProblems, modelFilesFromFlags, preflight } from '../../lib/device/preflight';
import { tempDir } from './helpers';

const LFS_POINTER = 'version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 9437184\n';
const FLAGS = {
  template_filename_axmodel: 'qwen3-4b-ax650/qwen3_p128_l%d_together.axmodel',
  axmodel_num: '36',
  url_tokenizer_model: 'http://127.0.0.1:12345',
  filename_post_axmodel: 'qwen3-4b-ax650/qwen3_post.axmodel',
  filename_tokens_embed: 'qwen3-4b-ax650/model.embed_tokens.weight.bfloat16.bin',
};

/** A minimal 64-bit little-endian ELF header: magic, class, data, version, e_type EXEC, e_machine. */
function elfHeader(machine: number): Buffer {
  const h = Buffer.alloc(64);
  Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]).copy(h, 0);
  h.writeUInt16LE(2, 16);
  h.writeUInt16LE(machine, 18);
  return h;
}

function file(p: string, content: string | Buffer, mode = 0o644): string {
  mkdirSync(path.dirname(p), { recursive: true });
  writeFileSync(p, content);
  chmodSync(p, mode);
  return p;
}

function modelDir(dir: string, skip: (f: string) => boolean = () => false): void {
  for (const f of modelFilesFromFlags(FLAGS)) if (!skip(f)) file(path.join(dir, f), 'weights');
}

function listen(host: string): Promise<Server & { port: number }> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, host, () => resolve(Object.assign(s, { port: (s.address() as { port: number }).port })));
  });
}

const close = (s: Server): Promise<void> => new Promise((r) => s.close(() => r()));
const code = (e: Ax650Error | null): string | null => e?.code ?? null;

test('binary missing', async (t) => {
  const e = await checkBinary(path.join(tempDir(t), 'main_api_axcl_aarch64'), 'arm64');
  assert.equal(code(e), 'BINARY_MISSING');
  assert.match(e?.message ?? '', /main_api_axcl_aarch64 does not exist/);
});

test('a Git LFS pointer instead of the binary says "git lfs pull"', async (t) => {
  const p = file(path.join(tempDir(t), 'main_api_axcl_aarch64'), LFS_POINTER, 0o755);
  const e = await checkBinary(p, 'arm64');
  assert.equal(code(e), 'BINARY_LFS_POINTER');
  assert.match(e?.message ?? '', /git lfs pull/);
});

test('not executable', async (t) => {
  const p = file(path.join(tempDir(t), 'main_api_axcl_aarch64'), '#!/bin/sh\nexit 0\n', 0o644);
  const e = await checkBinary(p, 'arm64');
  assert.equal(code(e), 'BINARY_NOT_EXECUTABLE');
  assert.match(e?.message ?? '', /chmod \+x/);
});

test('ELF header of the other architecture → BINARY_WRONG_ARCH; the matching one and a script pass', async (t) => {
  const dir = tempDir(t);
  const x86 = file(path.join(dir, 'main_api_axcl_x86'), elfHeader(62), 0o755);
  const arm = file(path.join(dir, 'main_api_axcl_aarch64'), elfHeader(183), 0o755);
  const onPi = await checkBinary(x86, 'arm64');
  assert.equal(code(onPi), 'BINARY_WRONG_ARCH');
  assert.match(onPi?.message ?? '', /built for x86-64, but this machine is arm64\. Use main_api_axcl_aarch64/);
  assert.equal(code(await checkBinary(arm, 'x64')), 'BINARY_WRONG_ARCH');
  assert.equal(await checkBinary(arm, 'arm64'), null);
  assert.equal(await checkBinary(x86, 'x64'), null);
  assert.equal(await checkBinary(file(path.join(dir, 'sim'), '#!/bin/sh\n', 0o755), 'arm64'), null);
  assert.equal(code(await checkBinary(file(path.join(dir, 'page.html'), '<html>not found</html>'.repeat(100), 0o755), 'arm64')), 'BINARY_WRONG_ARCH');
});

test('missing axmodel files: %d expanded for 0..axmodel_num-1, the first few named', async (t) => {
  const dir = tempDir(t);
  modelDir(dir, (f) => /_l(3|7|20|35)_/.test(f) || f.endsWith('post.axmodel'));
  const e = await checkModelFiles(dir, FLAGS);
  assert.equal(code(e), 'MODEL_FILES_MISSING');
  assert.match(e?.message ?? '', /5 of 38 model files are missing/);
  assert.match(e?.message ?? '', /qwen3_p128_l3_together\.axmodel, qwen3-4b-ax650\/qwen3_p128_l7_together\.axmodel, qwen3-4b-ax650\/qwen3_p128_l20_together\.axmodel and 2 more/);
  assert.equal(e?.params['missing'], 5);
});

test('model layers that are LFS pointers count as missing data', async (t) => {
  const dir = tempDir(t);
  modelDir(dir);
  file(path.join(dir, 'qwen3-4b-ax650/qwen3_p128_l0_together.axmodel'), LFS_POINTER);
  const e = await checkModelFiles(dir, FLAGS);
  assert.equal(code(e), 'MODEL_FILES_MISSING');
  assert.match(e?.message ?? '', /1 model files are Git LFS pointers, not data: qwen3-4b-ax650\/qwen3_p128_l0_together\.axmodel/);
  assert.equal(await checkModelFiles(dir, { ...FLAGS, template_filename_axmodel: 'qwen3-4b-ax650/qwen3_p128_l%d_together.axmodel', axmodel_num: '0' }).then(code), 'CONFIG_INVALID');
});

test('port in use on 127.0.0.1 or 0.0.0.0: PORT_IN_USE / TOKENIZER_PORT_IN_USE', async () => {
  const loop = await listen('127.0.0.1');
  try {
    const e = await checkPortFree(loop.port, 'PORT_IN_USE');
    assert.equal(code(e), 'PORT_IN_USE');
    assert.match(e?.message ?? '', new RegExp(`Port ${loop.port} is already in use`));
    assert.equal(code(await checkPortFree(loop.port, 'TOKENIZER_PORT_IN_USE')), 'TOKENIZER_PORT_IN_USE');
  } finally {
    await close(loop);
  }
  assert.equal(await checkPortFree(loop.port, 'PORT_IN_USE'), null);
  const any = await listen('0.0.0.0');
  try {
    assert.equal(code(await checkPortFree(any.port, 'TOKENIZER_PORT_IN_USE')), 'TOKENIZER_PORT_IN_USE');
  } finally {
    await close(any);
  }
});

test('a complete folder passes; problems are collected in fix-first order', async (t) => {
  const dir = tempDir(t);
  modelDir(dir);
  file(path.join(dir, 'main_api_axcl_aarch64'), elfHeader(183), 0o755);
  const free = await listen('127.0.0.1');
  await close(free);
  const opts = { modelDir: dir, binary: 'main_api_axcl_aarch64', flags: FLAGS, arch: 'arm64', runtimePort: free.port, tokenizerPort: null };
  assert.deepEqual(await collectPreflightProblems(opts), []);
  await preflight(opts);

  const busy = await listen('127.0.0.1');
  try {
    const problems = await collectPreflightProblems({ ...opts, binary: 'main_api_axcl_x86', runtimePort: null, tokenizerPort: busy.port });
    assert.deepEqual(problems.map((p) => p.code), ['BINARY_MISSING', 'TOKENIZER_PORT_IN_USE']);
    await assert.rejects(preflight({ ...opts, arch: 'x64', runtimePort: busy.port }), { code: 'BINARY_WRONG_ARCH' });
  } finally {
    await close(busy);
  }
});
