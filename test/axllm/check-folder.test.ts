/**
 * Runtime kind from the model folder and "Check folder" for axllm folders (issue 14 item 1): which
 * kind, the model name and type from config.json, the port, and everything wrong in words; the
 * simulator plays the kind chosen or detected.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { checkFolder } from '../../lib/runtime/check-folder';
import { resolveRuntimeConfig } from '../../lib/runtime/settings';
import { createAxllmSimBinary, createAxllmSimModelDir } from '../../simulator/axllm/model-dir';
import { createSimModelDir } from '../../simulator/model-dir';
import { simulatorProvider } from '../../simulator/provider';

const roots: string[] = [];
after(() => Promise.all(roots.map((r) => rm(r, { recursive: true, force: true }))));

async function tmp(): Promise<string> {
  const r = await mkdtemp(path.join(os.tmpdir(), 'ax650-kind-'));
  roots.push(r);
  return r;
}

const noSmi = { smi: '/nonexistent/axcl-smi' };

test('an axllm folder with axllm installed: kind, model name and type, size and port, no problem', async () => {
  const root = await tmp();
  const dir = path.join(root, 'Qwen3-1.7B');
  await createAxllmSimModelDir(dir, { axmodelNum: 4 });
  const bin = await createAxllmSimBinary(path.join(root, 'bin'));
  const r = await checkFolder({ modelDir: dir, binary: bin, port: 8123 }, noSmi);
  assert.equal(r.kind, 'axllm');
  assert.deepEqual(r.model, { name: 'AXERA-TECH/Qwen3-1.7B', type: 'Qwen3', vision: false, sizeMb: 0 });
  assert.equal(r.port, 8123);
  assert.equal(r.binary, bin);
  assert.deepEqual(r.problems, []);
});

test('an axllm folder with a bad config.json, an LFS-pointer layer and no axllm: every problem in words', async () => {
  const root = await tmp();
  const dir = path.join(root, 'model');
  await createAxllmSimModelDir(dir, { axmodelNum: 4, config: { tokens_embed_size: '2048', model_name: null } });
  let r = await checkFolder({ modelDir: dir, binary: path.join(root, 'no-axllm') }, noSmi);
  assert.equal(r.kind, 'axllm');
  assert.deepEqual(r.problems.map((p) => p.code), ['CONFIG_INVALID', 'BINARY_MISSING']);
  assert.match(r.problems[0]!.message, /"tokens_embed_size" must be a positive whole number; "model_name" is missing.*silently replace/);

  const cfg = JSON.parse(await readFile(path.join(dir, 'config.json'), 'utf8')) as Record<string, unknown>;
  await writeFile(path.join(dir, 'config.json'), JSON.stringify({ ...cfg, tokens_embed_size: 2048, model_name: 'm' }));
  await writeFile(path.join(dir, 'qwen3_p128_l1_together.axmodel'), 'version https://git-lfs.github.com/spec/v1\noid sha256:00\nsize 123\n');
  r = await checkFolder({ modelDir: dir, binary: path.join(root, 'no-axllm') }, noSmi);
  assert.deepEqual(r.problems.map((p) => p.code), ['MODEL_FILES_MISSING', 'BINARY_MISSING']);
  assert.match(r.problems[0]!.message, /Git LFS pointers.*qwen3_p128_l1_together\.axmodel/);
});

test('a 2025 folder is main-api on port 8000; a folder of neither layout says what a folder must hold', async () => {
  const root = await tmp();
  await createSimModelDir(path.join(root, 'old'), { axmodelNum: 3 });
  const old = await checkFolder({ modelDir: path.join(root, 'old'), port: 9000 }, noSmi);
  assert.equal(old.kind, 'main-api');
  assert.equal(old.port, 8000);
  const empty = await checkFolder({ modelDir: root }, noSmi);
  assert.equal(empty.kind, null);
  assert.match(empty.problems[0]!.message, /neither an axllm model folder .* nor a 2025 one/);
});

test('settings: auto decides from the folder; the simulator plays the kind chosen or detected', async () => {
  const root = await tmp();
  const axDir = path.join(root, 'ax');
  await createAxllmSimModelDir(axDir, { axmodelNum: 2 });
  const base = { mode: 'simulator' as const, stateDir: path.join(root, 'state'), runtimePort: 8765 };
  const ax = await resolveRuntimeConfig({ ...base, modelDir: axDir }, simulatorProvider);
  assert.equal(ax.kind, 'axllm');
  assert.equal(ax.modelDir, axDir);
  assert.equal(ax.runtimePort, 8765);
  const none = await resolveRuntimeConfig({ ...base, modelDir: '' }, simulatorProvider);
  assert.equal(none.kind, 'axllm', 'a new user without a folder gets the 2026 layout');
  const forced = await resolveRuntimeConfig({ ...base, modelDir: axDir, runtime: 'main-api' }, simulatorProvider);
  assert.equal(forced.kind, 'main-api');
  assert.notEqual(forced.modelDir, axDir, 'the simulator lays out a 2025 folder to play main-api');
  await assert.rejects(resolveRuntimeConfig({ modelDir: root, mode: 'hardware', stateDir: base.stateDir }), /neither an axllm model folder/);
});
