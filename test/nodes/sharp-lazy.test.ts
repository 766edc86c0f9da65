/**
 * sharp (libvips, about 16 MB of native code) is loaded on the first image only: loading the package in
 * Node-RED, every file under dist/nodes, and running a text prompt end to end never puts it in this
 * process's require.cache (docs/vision.md: "a flow that never sends one never loads it").
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../helpers/node-red-process';
import type { NodeModule } from '../helpers/nr';
import { startHarness } from './flow-harness';

const sharpModules = (): string[] => Object.keys(require.cache).filter((p) => p.split(path.sep).join('/').includes('/sharp/'));

function jsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? jsFiles(path.join(dir, e.name)) : e.name.endsWith('.js') ? [path.join(dir, e.name)] : []));
}

test('the package load path and a text prompt never load sharp', async () => {
  assert.deepEqual(sharpModules(), [], 'not loaded before the test');
  const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { 'node-red': { nodes: Record<string, string> } };
  const entries = Object.values(pkg['node-red'].nodes).map((f) => path.join(repoRoot, f));
  // Every built node file, the shared adapters included, as Node-RED's registry would require them.
  const files = jsFiles(path.join(repoRoot, 'dist/nodes'));
  for (const f of entries) assert.ok(files.includes(f), `${f} is built`);
  for (const f of files) require(f);
  assert.deepEqual(sharpModules(), [], 'requiring dist/nodes loads no sharp');
  // Registered in real Node-RED (every type's module function runs) and a text prompt answered.
  // (The harness loads the runtime and generate nodes itself.)
  const modules = entries.filter((f) => !/ax650-(runtime|generate)\.js$/.test(f)).map((f) => {
    const mod = require(f) as { default?: NodeModule } & NodeModule;
    return mod.default ?? mod;
  });
  const h = await startHarness({ extraModules: modules });
  try {
    h.node('gen').receive({ payload: 'Is the path clear?' });
    const [final] = await h.waitFor('gen-final', 1);
    assert.ok(String(final!.payload).length > 0);
  } finally {
    await h.close();
  }
  assert.deepEqual(sharpModules(), [], 'a text flow loads no sharp');
});
