/**
 * The "Check folder" logic on real folders and the fake axcl-smi: flags from the run script,
 * the binary, the cards, and every problem in words.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { checkFolder, parseCheckFolderBody } from '../../lib/runtime/check-folder';
import { createSimModelDir, SIM_BINARY_NAME } from '../../simulator/model-dir';
import { lfsPointerFolder } from './model-folder';

const fakeSmi = path.resolve(__dirname, '../fixtures/axcl/axcl-smi');
const smi = [process.execPath, fakeSmi];

test('a folder whose binary is a Git LFS pointer: flags and binary from the run script, the pointer named with the fix', async () => {
  const folder = await lfsPointerFolder();
  try {
    const r = await checkFolder({ modelDir: folder.dir }, { smi, env: { ...process.env, FAKE_SMI_CARDS: '2' } });
    assert.equal(r.script, path.join(folder.dir, 'run_qwen3_4b_int8_ctx_axcl_aarch64_api.sh'));
    assert.equal(r.binary, SIM_BINARY_NAME);
    assert.equal(r.flags['axmodel_num'], '4');
    assert.equal(r.flags['template_filename_axmodel'], 'qwen3-4b-ax650/qwen3_p128_l%d_together.axmodel');
    for (const own of ['system_prompt', 'url_tokenizer_model', 'devices']) assert.equal(r.flags[own], undefined, `${own} is set by the package`);
    assert.deepEqual(r.cards, [0, 1]);
    assert.deepEqual(r.problems.map((p) => p.code), ['BINARY_LFS_POINTER']);
    assert.match(r.problems[0]?.message ?? '', /Git LFS pointer.*git lfs pull/);
  } finally {
    await folder.remove();
  }
});

test('a complete folder has no problems; a missing axcl-smi means no cards, not an error', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ax650-ok-'));
  try {
    await createSimModelDir(dir, { axmodelNum: 3 });
    const r = await checkFolder({ modelDir: dir }, { smi: path.join(dir, 'no-such-axcl-smi') });
    assert.deepEqual(r.problems, []);
    assert.deepEqual(r.cards, []);
    assert.equal(Object.keys(r.flags).length, 7);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('missing layers, a typed binary that is not executable and a dead card are all reported at once', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'ax650-bad-'));
  try {
    await createSimModelDir(dir, { axmodelNum: 5 });
    await rm(path.join(dir, 'qwen3-4b-ax650', 'qwen3_p128_l3_together.axmodel'));
    await writeFile(path.join(dir, 'my-runtime'), '#!/bin/sh\n');
    await chmod(path.join(dir, 'my-runtime'), 0o644);
    const r = await checkFolder({ modelDir: dir, binary: 'my-runtime' }, { smi, env: { ...process.env, FAKE_SMI_DEAD: '1' } });
    assert.equal(r.binary, 'my-runtime');
    assert.deepEqual(r.problems.map((p) => p.code), ['BINARY_NOT_EXECUTABLE', 'MODEL_FILES_MISSING', 'NO_CARD']);
    assert.match(r.problems[1]?.message ?? '', /1 of 7 model files are missing.*qwen3_p128_l3_together\.axmodel/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a folder that does not exist, and a folder without a run script (the binary for this CPU is looked for)', async () => {
  const gone = await checkFolder({ modelDir: path.join(os.tmpdir(), 'ax650-no-such-folder-' + process.pid) }, { smi: '/nonexistent/axcl-smi' });
  assert.deepEqual(gone.problems.map((p) => p.code), ['MODEL_FILES_MISSING']);
  assert.equal(gone.script, null);

  const dir = await mkdtemp(path.join(os.tmpdir(), 'ax650-noscript-'));
  try {
    await createSimModelDir(dir, { axmodelNum: 2 });
    await rm(path.join(dir, 'run_qwen3_4b_int8_ctx_axcl_aarch64_api.sh'));
    const r = await checkFolder({ modelDir: dir }, { smi: '/nonexistent/axcl-smi', arch: 'arm64' });
    assert.equal(r.script, null);
    assert.deepEqual(r.flags, {});
    assert.equal(r.binary, SIM_BINARY_NAME);
    // Without a script the Qwen3-4B defaults apply: 36 layers, of which this folder has 2.
    assert.deepEqual(r.problems.map((p) => p.code), ['MODEL_FILES_MISSING']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('request bodies are validated', () => {
  assert.deepEqual(parseCheckFolderBody({ modelDir: ' /x ', binary: '' }), { modelDir: '/x' });
  assert.deepEqual(parseCheckFolderBody({ modelDir: '/x', binary: 'b' }), { modelDir: '/x', binary: 'b' });
  for (const bad of [null, 'x', [], {}, { modelDir: '' }, { modelDir: 3 }, { modelDir: '/x', binary: 5 }]) {
    assert.throws(() => parseCheckFolderBody(bad), (e: Error & { code?: string }) => e.code === 'BAD_INPUT', JSON.stringify(bad));
  }
});
